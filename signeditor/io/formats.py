"""Every file format SignEditor opens and writes, by suffix: one table the CLI and the File menu share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from signeditor.core.project import Project
from signeditor.core.segments import labels_from_segments
from signeditor.io.errors import FileFormatError

if TYPE_CHECKING:
    from signeditor.io.signspark import SignSparkRecord


@dataclass(frozen=True)
class ExportFormat:
    name: str
    suffix: str
    description: str
    write: Callable[..., None]


def _bvh(project: Project, path: Path) -> None:
    from signeditor.io.bvh import write_bvh

    write_bvh(project.shown_motion(), path)


def _gltf(project: Project, path: Path, avatar: object = None, **_options: object) -> None:
    """The mannequin, or a glTF avatar (``avatar``, from render.avatars) with its face morphs animated.

    The avatar writes itself (``write_gltf``): io may not import render (see the layer rules in README).
    """
    write_avatar = getattr(avatar, "write_gltf", None)
    if getattr(avatar, "face_rig", None) is not None and write_avatar is not None:
        motion = project.shown_motion()
        write_avatar(motion, motion.face, path)
        return
    from signeditor.io.gltf_export import write_gltf

    write_gltf(project.shown_motion(), path)


def _pose(project: Project, path: Path) -> None:
    from signeditor.io.pose_export import write_pose

    write_pose(project.shown_motion(), path)


def _npz(project: Project, path: Path) -> None:
    from signeditor.io.smplx_params import write_smplx_npz

    write_smplx_npz(project.shown_motion(), path)


def signspark_record_of(project: Project, clip_id: str) -> SignSparkRecord:
    """The project as a SignSparK record: shown motion, BIO segment labels, language, translation and glosses."""
    from signeditor.io.signspark import SignSparkRecord

    labels = np.array(labels_from_segments(project.segments, project.motion.n_frames))
    gloss = " ".join(s.gloss for s in project.segments if s.gloss)
    return SignSparkRecord(clip_id, project.shown_motion(), labels, project.signed_language, project.text, gloss)


#: Suffixes of the files SignEditor opens (a file's name is what precedes one of these or an export suffix).
OPEN_SUFFIXES: tuple[str, ...] = (".signspark.npz", ".signproj", ".pose", ".bvh", ".glb", ".gltf", ".npz", ".lmdb")


def document_name(path: str | Path) -> str:
    """The name without its format suffix: ``x.v1.pose`` -> ``x.v1``, ``take.signspark.npz`` -> ``take``.

    Only a known suffix is cut, so inputs whose names differ after a dot keep different names (cutting at the
    first dot made ``x.v1.pose`` and ``x.v2.pose`` overwrite each other's exports).
    """
    name = Path(path).name
    suffixes = {*OPEN_SUFFIXES, *(f.suffix for f in EXPORT_FORMATS.values()), ".keyframes.pt"}
    cut = max((s for s in suffixes if name.lower().endswith(s) and len(name) > len(s)), key=len, default="")
    return name[:len(name) - len(cut)] if cut else Path(name).stem


def clip_id_of(path: Path) -> str:
    """``take.signspark.npz`` and ``take.lmdb`` hold the clip ``take``."""
    return document_name(path)


def _signspark(project: Project, path: Path) -> None:
    from signeditor.io.signspark import write_signspark_record

    write_signspark_record(signspark_record_of(project, clip_id_of(path)), path)


def _lmdb(project: Project, path: Path) -> None:
    from signeditor.io.signspark import write_signspark_lmdb_atomically

    write_signspark_lmdb_atomically([signspark_record_of(project, clip_id_of(path))], path)


def _eaf(project: Project, path: Path) -> None:
    from signeditor.core.nonmanual import nonmanual_spans
    from signeditor.io.elan import write_elan

    reference = project.reference_video
    write_elan(project.segments, project.motion.fps, path, project.motion.n_frames,
               media=reference.path if reference else None, media_offset_s=reference.offset_s if reference else 0.0,
               nonmanual=nonmanual_spans(project.face_keys))


EXPORT_FORMATS: dict[str, ExportFormat] = {f.name: f for f in (
    ExportFormat("bvh", ".bvh", "BVH motion (SMPL-X joint names)", _bvh),
    ExportFormat("glb", ".glb", "glTF 2.0 binary: skinned avatar with animation (face as shape keys)", _gltf),
    ExportFormat("gltf", ".gltf", "glTF 2.0 JSON: skinned avatar with animation (face as shape keys)", _gltf),
    ExportFormat("pose", ".pose", "MediaPipe holistic keypoints (pose-format)", _pose),
    ExportFormat("npz", ".npz", "SMPL-X parameters (axis-angle)", _npz),
    ExportFormat("signspark", ".signspark.npz", "SignSparK record (rot6D + segment labels)", _signspark),
    ExportFormat("lmdb", ".lmdb", "SignSparK LMDB database (one clip per input)", _lmdb),
    ExportFormat("eaf", ".eaf", "ELAN annotation: signs, review status and comments", _eaf),
)}


def register_export_format(fmt: ExportFormat) -> None:
    """Add a format written by a higher layer (``render.video`` adds mp4 and gif), keeping io free of it."""
    EXPORT_FORMATS[fmt.name] = fmt


def resolve_export_format(path: str | Path, format_name: str | None = None) -> ExportFormat:
    """The format named, or else the one whose suffix ``path`` ends with (the longest match)."""
    path = Path(path)
    if format_name is None:
        matches = [f for f in EXPORT_FORMATS.values() if path.name.lower().endswith(f.suffix)]
        if not matches:
            raise FileFormatError(path, f"unknown export suffix; choose one of {sorted(EXPORT_FORMATS)}")
        return max(matches, key=lambda f: len(f.suffix))
    if format_name not in EXPORT_FORMATS:
        choices = sorted(EXPORT_FORMATS)
        raise FileFormatError(path, f"unknown export format {format_name!r}; choose one of {choices}")
    return EXPORT_FORMATS[format_name]


def export_project(project: Project, path: str | Path, format_name: str | None = None, **options: object) -> Path:
    """Write ``project`` as ``format_name`` (or the format its suffix names); ``options`` go to video and glTF
    export (``avatar``: the figure to export or film)."""
    path = Path(path)
    resolve_export_format(path, format_name).write(project, path, **options)
    return path


def open_project(path: str | Path, clip: str | None = None) -> Project:
    """Open any supported file as a project: .signproj as saved, motion files as a project around their motion.

    ``clip`` picks a clip of a SignSparK LMDB database (default: its first).
    """
    from signeditor.io.project_file import load_project

    path = Path(path)
    if not path.exists():
        raise FileFormatError(path, "file not found")
    name = path.name.lower()
    if name.endswith(".lmdb"):
        return open_lmdb_clip(path, clip)[0]
    if name.endswith(".signproj"):
        return load_project(path)
    if name.endswith(".pose"):
        from signeditor.io.pose_import import import_pose_file
        from signeditor.io.pose_metadata import read_pose_metadata

        motion, report = import_pose_file(path)
        meta = read_pose_metadata(path)
        return Project(motion, source=str(path), import_report=report.summary(), text=meta.text,
                       spoken_language=meta.spoken_language, signed_language=meta.signed_language)
    if name.endswith(".bvh"):
        from signeditor.io.bvh import parse_bvh, read_bvh
        from signeditor.io.rig_import import read_bvh_rig

        smplx_named = any(j.name == "R_Elbow" for j in parse_bvh(path).joints)
        return Project(read_bvh(path) if smplx_named else read_bvh_rig(path), source=str(path))
    if name.endswith((".glb", ".gltf")):
        from signeditor.io.rig_import import read_gltf_rig

        return Project(read_gltf_rig(path), source=str(path))
    if name.endswith(".signspark.npz"):
        from signeditor.io.signspark import read_signspark_record

        record = read_signspark_record(path)
        return project_from_record(record, path)
    if name.endswith(".npz"):
        from signeditor.io.smplx_params import read_smplx_npz

        return Project(read_smplx_npz(path), source=str(path))
    raise FileFormatError(path, "unsupported file type (open .signproj, .pose, .bvh, .glb, .gltf, .npz or .lmdb)")


def open_lmdb_clip(path: Path, clip: str | None = None) -> tuple[Project, str]:
    """A clip of a SignSparK LMDB database (``clip``, default its first) as a project, and the clip's id."""
    from signeditor.io.signspark import read_signspark_lmdb

    listed: list[str] = []

    def pick(ids: list[str]) -> list[str]:
        listed.extend(ids)
        return [c for c in ids if clip is None or c == clip][:1]

    records = read_signspark_lmdb(path, select=pick)
    if not records:
        raise FileFormatError(path, f"no clip {clip!r} (it holds {listed})" if listed and clip is not None
                              else "the database holds no clips")
    return project_from_record(records[0], path), records[0].clip_id


def project_from_record(record: SignSparkRecord, path: Path) -> Project:
    """A SignSparK record as a project: its motion, signs (glossed when the counts agree), text and language."""
    from signeditor.core.segments import segments_from_labels

    segments = segments_from_labels(np.asarray(record.segment))
    glosses = record.gloss.split()
    if len(glosses) == len(segments):
        segments = [s.__class__(s.start, s.end, g, s.confidence) for s, g in zip(segments, glosses, strict=True)]
    return Project(record.motion, segments=segments, text=record.translation, signed_language=record.language,
                   source=str(path))
