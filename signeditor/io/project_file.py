"""The ``.signproj`` project file: a zip of ``project.json`` and ``arrays.npz``.

JSON for everything a person might want to read or diff, a pickle-free npz
for the arrays; saved atomically.
"""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np

from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.face import FACE_PARAMETERS, face_by_name
from signeditor.core.motion import STREAMS, Motion, MotionError
from signeditor.core.nonmanual import LANES, FaceKey, lane_values
from signeditor.core.project import PROJECT_FORMAT_VERSION, Project, ReferenceVideo
from signeditor.core.recording import Recording, recorded_frames
from signeditor.core.segments import DRAFT, Segment
from signeditor.io.atomic import write_bytes_atomically
from signeditor.io.errors import FileFormatError, read_file_bytes
from signeditor.io.validation import ARCHIVE_ERRORS, load_npz, numeric_array, validate_motion

PROJECT_SUFFIX = ".signproj"
_MAX_MEMBER_BYTES = 2 << 30


def project_to_bytes(project: Project) -> bytes:
    arrays: dict[str, np.ndarray] = {"features": project.motion.features, "filled": project.motion.filled}
    if project.motion.expression is not None:
        arrays["expression"] = project.motion.expression
    if project.motion.face is not None:  # the face channel: optional, older projects have none
        arrays["face"] = project.motion.face
    recording = project.recording
    take_index = {} if recording is None else {a.id: i for i, a in enumerate(recording.anchors)}
    anchors = []
    for i, anchor in enumerate(project.anchors):
        arrays[f"anchor_{i}"] = anchor.pose
        anchors.append(_anchor_json(anchor))
        if anchor.id in take_index:
            anchors[-1]["take_anchor"] = take_index[anchor.id]
    meta = {
        "format": "signeditor-project",
        "format_version": PROJECT_FORMAT_VERSION,
        "fps": project.motion.fps,
        "anchors": anchors,
        "segments": [
            {"start": s.start, "end": s.end, "gloss": s.gloss, "confidence": s.confidence, "status": s.status,
             "comments": list(s.comments)} for s in project.segments
        ],
        "text": project.text,
        "spoken_language": project.spoken_language,
        "signed_language": project.signed_language,
        "model_versions": project.model_versions,
        "source": project.source,
        "face_parameters": list(FACE_PARAMETERS),
        "face_keys": [{"frame": k.frame, "lane": k.lane, "label": k.label,
                       "values": dict(zip(LANES[k.lane], map(float, k.values), strict=True)),
                       **({"span": list(k.span)} if k.span is not None else {})}
                      for k in project.face_keys],
    }
    if recording is not None:
        meta["recording"] = _recording_to_arrays(recording, project.anchors, arrays)
    if project.reference_video is not None:
        ref = project.reference_video
        meta["reference_video"] = {"path": ref.path, "offset_s": ref.offset_s, "keypoints": ref.keypoints}
    npz = io.BytesIO()
    np.savez_compressed(npz, **arrays)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("project.json", json.dumps(meta, indent=1, ensure_ascii=False))
        zf.writestr("arrays.npz", npz.getvalue())
    return out.getvalue()


def _recording_to_arrays(recording: Recording, anchors: AnchorSet, arrays: dict[str, np.ndarray]) -> dict:
    """Put the take's arrays into ``arrays``; return its JSON part (the anchors as placed on the take).

    ``frame_recorded`` (per frame of the project's motion: every stream
    captured, none generated) is derived from the take and the anchors; it is
    written for other tools to read and recomputed on load. ``take_captured``
    is per take frame and stream, the streams named in ``captured_streams``.
    """
    arrays["take_features"] = recording.take.features
    arrays["take_filled"] = recording.take.filled
    arrays["take_captured"] = recording.captured
    if recording.take.stream_filled is not None:  # what the importer saw, per stream (what a restore brings back)
        arrays["take_stream_filled"] = recording.take.stream_filled
    arrays["frame_recorded"] = recorded_frames(recording, anchors)
    if recording.take.expression is not None:
        arrays["take_expression"] = recording.take.expression
    if recording.take.face is not None:
        arrays["take_face"] = recording.take.face
    for i, anchor in enumerate(recording.anchors):
        arrays[f"take_anchor_{i}"] = anchor.pose
    return {"anchors": [_anchor_json(a) for a in recording.anchors], "captured_streams": list(STREAMS),
            "clip_frames": recording.n_frames}


def _anchor_json(anchor: Anchor) -> dict[str, object]:
    return {"frame": anchor.frame, "streams": sorted(anchor.streams), "label": anchor.label}


def _anchor_from_json(entry: dict, pose: np.ndarray, **identity: int) -> Anchor:
    return Anchor(int(entry["frame"]), pose, frozenset(entry["streams"]), str(entry.get("label", "")), **identity)


def _recording_from_arrays(meta: dict, arrays: dict[str, np.ndarray], fps: float,
                           face_names: list[str] | None = None) -> Recording:
    names = list(meta.get("captured_streams", STREAMS))
    if sorted(names) != sorted(STREAMS):
        raise ValueError(f"the recording names streams {names}, expected {list(STREAMS)}")
    order = [names.index(s) for s in STREAMS]
    stream_filled = arrays["take_stream_filled"].astype(bool)[:, order] if "take_stream_filled" in arrays else None
    take = Motion(fps, arrays["take_features"], arrays.get("take_expression"), arrays["take_filled"].astype(bool),
                  face_by_name(arrays["take_face"], face_names) if "take_face" in arrays else None, stream_filled)
    anchors = AnchorSet(_anchor_from_json(a, arrays[f"take_anchor_{i}"]) for i, a in enumerate(meta["anchors"]))
    captured = arrays["take_captured"].astype(bool)
    if captured.ndim == 2:  # per stream, in the order the file names (format 3)
        if captured.shape[1] != len(names):
            raise ValueError(f"take_captured has {captured.shape[1]} streams, expected {len(names)}")
        captured = captured[:, order]
    # Format 2 kept one flag per frame for all streams: it applies to every stream (Recording accepts (T,));
    # project_from_bytes may then tell the streams apart from the keypoints the project names.
    clip_frames = meta.get("clip_frames")
    return Recording(take, anchors, captured, None if clip_frames is None else int(clip_frames))


def _take_id(take_ids: list[int], index: object) -> int:
    """The id of the recording's anchor an anchor refers to (by its index in the file)."""
    if not isinstance(index, int) or not 0 <= index < len(take_ids):
        raise ValueError(f"take_anchor {index!r} names no anchor of the recording")
    return take_ids[index]


def save_project(project: Project, path: str | Path) -> None:
    write_bytes_atomically(path, project_to_bytes(project))


def project_from_bytes(data: bytes, path: str | Path = "<memory>") -> Project:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            for info in zf.infolist():
                if info.file_size > _MAX_MEMBER_BYTES:
                    raise FileFormatError(path, f"member {info.filename} is implausibly large")
            meta = json.loads(zf.read("project.json").decode("utf-8"))
            arrays = load_npz(zf.read("arrays.npz"), path, "arrays.npz")
    except FileFormatError:
        raise
    except UnicodeDecodeError as exc:
        raise FileFormatError(path, "project.json is not UTF-8 text") from exc
    except json.JSONDecodeError as exc:
        raise FileFormatError(path, f"project.json is not valid JSON ({exc})") from exc
    except RecursionError as exc:
        raise FileFormatError(path, "project.json nests too deeply") from exc
    except ARCHIVE_ERRORS as exc:
        raise FileFormatError(path, f"not a SignEditor project (damaged or truncated zip: {exc})") from exc
    if not isinstance(meta, dict) or meta.get("format") != "signeditor-project":
        raise FileFormatError(path, "project.json does not describe a SignEditor project")
    version = meta.get("format_version")
    if not isinstance(version, int) or version > PROJECT_FORMAT_VERSION:
        raise FileFormatError(path, f"project format version {version!r} is newer than this SignEditor supports")
    for name, value in arrays.items():
        numeric_array(value, f"arrays.npz/{name}", path)  # refuses strings and complex numbers before any cast
    try:
        motion = Motion(
            float(meta["fps"]),
            arrays["features"],
            arrays.get("expression"),
            arrays["filled"].astype(bool) if "filled" in arrays else None,
            face_by_name(arrays["face"], meta.get("face_parameters")) if "face" in arrays else None,
        )
        recording = None if "recording" not in meta else _recording_from_arrays(meta["recording"], arrays, motion.fps,
                                                                                meta.get("face_parameters"))
        take_ids = [] if recording is None else [a.id for a in recording.anchors]
        anchors = AnchorSet(
            _anchor_from_json(a, arrays[f"anchor_{i}"],
                              **({"id": _take_id(take_ids, a["take_anchor"])} if "take_anchor" in a else {}))
            for i, a in enumerate(meta.get("anchors", []))
        )
        segments = [
            Segment(int(s["start"]), int(s["end"]), str(s.get("gloss", "")), float(s.get("confidence", 1.0)),
                    str(s.get("status", DRAFT)), tuple(str(c) for c in s.get("comments", [])))
            for s in meta.get("segments", [])
        ]
        reference_video = _reference_video(meta.get("reference_video"))
        model_versions = {str(k): str(v) for k, v in dict(meta.get("model_versions", {})).items()}
        face_keys = tuple(FaceKey(int(k["frame"]), str(k["lane"]), lane_values(
            str(k["lane"]), **{n: float(v) for n, v in dict(k["values"]).items() if n in LANES.get(k["lane"], ())}),
            str(k.get("label", "")), span=_key_span(k.get("span"))) for k in meta.get("face_keys", []))
    except (MotionError, KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise FileFormatError(path, f"inconsistent project contents: {exc}") from exc
    _check_contents(motion, anchors, segments, path)
    if recording is not None:
        if recording.n_frames != motion.n_frames:
            raise FileFormatError(path, f"the recording is shown in {recording.n_frames} frames, "
                                        f"the motion has {motion.n_frames}")
        _check_contents(recording.take, recording.anchors, [], path)
        if len({a.id for a in anchors}) != len(anchors):
            raise FileFormatError(path, "two anchors claim the same anchor of the recording")
        if version < 3:  # one flag for all streams: the keypoints the project names may tell them apart
            from signeditor.io.recording_migration import per_stream_from_keypoints

            named = [reference_video.keypoints if reference_video is not None else "", str(meta.get("source", ""))]
            recording = per_stream_from_keypoints(recording, named, Path(str(path)).parent)
    return Project(
        motion=motion,
        anchors=anchors,
        segments=segments,
        text=str(meta.get("text", "")),
        spoken_language=str(meta.get("spoken_language", "")),
        signed_language=str(meta.get("signed_language", "")),
        model_versions=model_versions,
        source=str(meta.get("source", "")),
        recording=recording,
        reference_video=reference_video,
        face_keys=face_keys,
    )


def _key_span(value: object) -> tuple[int, int] | None:
    """A face key's preset span ([start, end]) as stored, or None (hand-placed keys, older files)."""
    if value is None:
        return None
    start, end = (int(v) for v in value)  # a malformed span is an inconsistent file (TypeError/ValueError)
    return (start, end)


def _reference_video(entry: object) -> ReferenceVideo | None:
    """The stored reference video (path and offset only: the video itself is never in the project)."""
    if entry is None:
        return None
    if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
        raise ValueError("reference_video must be an object with a path")
    offset = float(entry.get("offset_s", 0.0))
    if not np.isfinite(offset):
        raise ValueError("reference_video offset is not a finite number")
    return ReferenceVideo(entry["path"], offset, str(entry.get("keypoints", "")))


def _check_contents(motion: Motion, anchors: AnchorSet, segments: list[Segment], path: str | Path) -> None:
    """Anchors and segments must lie inside the clip, anchor poses must be finite, the motion editable."""
    validate_motion(motion, path)
    n = motion.n_frames
    for anchor in anchors:
        if not 0 <= anchor.frame < n:
            raise FileFormatError(path, f"anchor at frame {anchor.frame} lies outside the clip's {n} frames")
        if not np.all(np.isfinite(anchor.pose)):
            raise FileFormatError(path, f"anchor at frame {anchor.frame} has NaN or infinite values")
    for segment in segments:
        if not 0 <= segment.start < segment.end <= n:
            raise FileFormatError(path, f"sign {segment.start}..{segment.end} lies outside the clip's {n} frames")


def load_project(path: str | Path) -> Project:
    return project_from_bytes(read_file_bytes(path), path)
