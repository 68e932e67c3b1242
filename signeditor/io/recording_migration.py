"""Projects saved before "captured" was kept per stream (format 2): which stream of an importer gap was missing.

Format 2 kept one flag per frame, so a frame where only a hand was lost was
"not captured" for the tracked arm too, and any edit there regenerated the
arm. Those flags alone cannot tell the streams apart, but a project made by
an import names its keypoints (the reference video's ``.pose``, or the
``.pose`` it was opened from): where that file is still there and has the
take's frames, the frames the importer filled get their streams back from
it. Without it the old flag applies to every stream, as it did.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

from signeditor.core.ik import stream_filled
from signeditor.core.motion import Motion, identity_features
from signeditor.core.recording import Recording
from signeditor.io.errors import FileFormatError


def per_stream_from_keypoints(recording: Recording, candidates: Iterable[str], base: Path) -> Recording:
    """``recording`` with the streams its keypoints saw marked captured in frames the importer had filled.

    Frames the importer did not fill keep their flags (a span the user asked
    to regenerate stays generated). ``candidates`` are paths the project
    names (relative ones from ``base``); the first ``.pose`` that reads and
    has the take's frame count (at the take's rate) is used.
    """
    gaps = recording.take.filled & ~recording.captured.all(axis=1)
    if not gaps.any():
        return recording
    from signeditor.io.pose_reader import read_pose_keypoints

    for candidate in candidates:
        path = Path(candidate) if Path(candidate).is_absolute() else base / candidate
        if not candidate or path.suffix.lower() != ".pose" or not path.is_file():
            continue
        try:
            keypoints = read_pose_keypoints(path)
        except (FileFormatError, OSError):
            continue
        flags = Motion(float(keypoints.fps), identity_features(keypoints.n_frames),
                       stream_filled=stream_filled(keypoints)).resampled(recording.take.fps).stream_filled
        if flags is None or flags.shape[0] != recording.take.n_frames:
            continue
        return replace(recording, captured=recording.captured | (gaps[:, None] & ~flags))
    return recording
