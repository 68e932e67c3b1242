"""Every file format SignEditor opens and writes, by suffix: one table the CLI and the File menu share."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from signeditor.core.project import Project
from signeditor.core.segments import labels_from_segments
from signeditor.io.errors import FileFormatError


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
    """The mannequin, or a glTF avatar (``avatar``, from render.avatars) with its face morphs animated."""
    if getattr(avatar, "face_rig", None) is not None:
        from signeditor.render.avatars.avatar_export import write_avatar_gltf

        motion = project.shown_motion()
        write_avatar_gltf(avatar, motion, motion.face, path)
        return
    from signeditor.io.gltf_export import write_gltf

    write_gltf(project.shown_motion(), path)


def _pose(project: Project, path: Path) -> None:
    from signeditor.io.pose_export import write_pose

    write_pose(project.shown_motion(), path)


def _npz(project: Project, path: Path) -> None:
    from signeditor.io.smplx_params import write_smplx_npz

    write_smplx_npz(project.shown_motion(), path)


def _signspark(project: Project, path: Path) -> None:
    from signeditor.io.signspark import SignSparkRecord, write_signspark_record

    labels = np.array(labels_from_segments(project.segments, project.motion.n_frames))
    gloss = " ".join(s.gloss for s in project.segments if s.gloss)
    record = SignSparkRecord(path.stem, project.shown_motion(), labels, project.signed_language, project.text, gloss)
    write_signspark_record(record, path)


def _eaf(project: Project, path: Path) -> None:
    from signeditor.core.nonmanual import nonmanual_spans
    from signeditor.io.elan import write_elan

    reference = project.reference_video
    write_elan(project.segments, project.motion.fps, path, project.motion.n_frames,
               media=reference.path if reference else None, media_offset_s=reference.offset_s if reference else 0.0,
               nonmanual=nonmanual_spans(project.face_keys))


def _video(project: Project, path: Path, **options: object) -> None:
    from signeditor.render.video import write_video

    write_video(project.shown_motion(), path, **options)


EXPORT_FORMATS: dict[str, ExportFormat] = {f.name: f for f in (
    ExportFormat("bvh", ".bvh", "BVH motion (SMPL-X joint names)", _bvh),
    ExportFormat("glb", ".glb", "glTF 2.0 binary: skinned avatar with animation (face as shape keys)", _gltf),
    ExportFormat("gltf", ".gltf", "glTF 2.0 JSON: skinned avatar with animation (face as shape keys)", _gltf),
    ExportFormat("pose", ".pose", "MediaPipe holistic keypoints (pose-format)", _pose),
    ExportFormat("npz", ".npz", "SMPL-X parameters (axis-angle)", _npz),
    ExportFormat("signspark", ".signspark.npz", "SignSparK record (rot6D + segment labels)", _signspark),
    ExportFormat("eaf", ".eaf", "ELAN annotation: signs, review status and comments", _eaf),
    ExportFormat("mp4", ".mp4", "video of the avatar", _video),
    ExportFormat("gif", ".gif", "animated GIF of the avatar", _video),
)}


VIDEO_FORMATS = frozenset({"mp4", "gif"})


def export_project(project: Project, path: str | Path, format_name: str | None = None, **options: object) -> Path:
    """Write ``project`` as ``format_name`` (or the format its suffix names); ``options`` go to video and glTF
    export (``avatar``: the figure to export or film)."""
    path = Path(path)
    if format_name is None:
        matches = [f for f in EXPORT_FORMATS.values() if path.name.lower().endswith(f.suffix)]
        if not matches:
            raise FileFormatError(path, f"unknown export suffix; choose one of {sorted(EXPORT_FORMATS)}")
        fmt = max(matches, key=lambda f: len(f.suffix))
    else:
        if format_name not in EXPORT_FORMATS:
            choices = sorted(EXPORT_FORMATS)
            raise FileFormatError(path, f"unknown export format {format_name!r}; choose one of {choices}")
        fmt = EXPORT_FORMATS[format_name]
    fmt.write(project, path, **options)
    return path


def open_project(path: str | Path) -> Project:
    """Open any supported file as a project: .signproj as saved, motion files as a project around their motion."""
    from signeditor.io.project_file import load_project

    path = Path(path)
    if not path.exists():
        raise FileFormatError(path, "file not found")
    name = path.name.lower()
    if name.endswith(".signproj"):
        return load_project(path)
    if name.endswith(".pose"):
        from signeditor.io.pose_import import import_pose_file

        motion, report = import_pose_file(path)
        return Project(motion, source=str(path), import_report=report.summary())
    if name.endswith(".bvh"):
        from signeditor.io.bvh import parse_bvh, read_bvh
        from signeditor.io.retarget import read_bvh_rig

        smplx_named = any(j.name == "R_Elbow" for j in parse_bvh(path).joints)
        return Project(read_bvh(path) if smplx_named else read_bvh_rig(path), source=str(path))
    if name.endswith((".glb", ".gltf")):
        from signeditor.io.retarget import read_gltf_rig

        return Project(read_gltf_rig(path), source=str(path))
    if name.endswith(".signspark.npz"):
        from signeditor.io.signspark import read_signspark_record

        record = read_signspark_record(path)
        return _project_from_record(record, path)
    if name.endswith(".npz"):
        from signeditor.io.smplx_params import read_smplx_npz

        return Project(read_smplx_npz(path), source=str(path))
    raise FileFormatError(path, "unsupported file type (open .signproj, .pose, .bvh, .glb, .gltf or .npz)")


def _project_from_record(record: object, path: Path) -> Project:
    from signeditor.core.segments import segments_from_labels

    segments = segments_from_labels(np.asarray(record.segment))
    glosses = record.gloss.split()
    if len(glosses) == len(segments):
        segments = [s.__class__(s.start, s.end, g, s.confidence) for s, g in zip(segments, glosses, strict=True)]
    return Project(record.motion, segments=segments, text=record.translation, signed_language=record.language,
                   source=str(path))
