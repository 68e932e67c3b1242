"""Reader of the Progressive-Transformers PHOENIX-2014T skeleton text files (``*.skels``).

Each line is one sequence: 151 floats per frame (50 joints x 3 + a progress
counter). The joint map is the README's: 1 neck (origin), 0 head, 2/3/4 right
shoulder/elbow/wrist, 5/6/7 left, 8-28 the left hand, 29-49 the right hand (in
the OpenPose hand order, which is MediaPipe's).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from signeditor.data.sources import RawPoints
from signeditor.io.errors import FileFormatError
from signeditor.io.pose_reader import HAND_POINTS, PoseKeypoints, keypoints_from_arrays

VALUES_PER_FRAME = 151
PHOENIX_FPS = 25.0
_BODY = ("POSE_LANDMARKS.HEAD", "POSE_LANDMARKS.NECK",
         "POSE_LANDMARKS.RIGHT_SHOULDER", "POSE_LANDMARKS.RIGHT_ELBOW", "POSE_LANDMARKS.RIGHT_WRIST",
         "POSE_LANDMARKS.LEFT_SHOULDER", "POSE_LANDMARKS.LEFT_ELBOW", "POSE_LANDMARKS.LEFT_WRIST")
PHOENIX_NAMES: tuple[str, ...] = (
    _BODY
    + tuple(f"LEFT_HAND_LANDMARKS.{p}" for p in HAND_POINTS)
    + tuple(f"RIGHT_HAND_LANDMARKS.{p}" for p in HAND_POINTS)
)
#: Source axes -> skeleton axes. The files put the *right* shoulder at +x and the head at -y, i.e. a
#: viewer-mirrored image frame; flipping x and y (a proper rotation) puts the right shoulder at the
#: skeleton's -x and keeps the hands (z > 0) in front of the body.
_AXES = np.array([-1.0, -1.0, 1.0])


def _frames(line: str, path: Path, line_number: int) -> np.ndarray:
    """(T, 50, 3) joint positions of one line, as stored."""
    try:
        values = np.array(line.split(), dtype=np.float64)
    except ValueError as exc:
        raise FileFormatError(path, f"line {line_number}: non-numeric value ({exc})") from exc
    if values.size == 0 or values.size % VALUES_PER_FRAME:
        raise FileFormatError(path, f"line {line_number}: {values.size} values, not a multiple of {VALUES_PER_FRAME}")
    frames = values.reshape(-1, VALUES_PER_FRAME)[:, :150].reshape(-1, 50, 3)
    if not np.all(np.isfinite(frames)):
        raise FileFormatError(path, f"line {line_number}: NaN or infinite values")
    return frames


def raw_skels_line(line: str, path: Path, line_number: int) -> RawPoints:
    """One sequence's joints as stored (for the stitched-transition detector); all-zero joints are missing."""
    frames = _frames(line, path, line_number)
    return RawPoints(frames, np.any(frames != 0.0, axis=-1), PHOENIX_FPS)


def read_skels_line(line: str, path: Path, line_number: int) -> PoseKeypoints:
    frames = _frames(line, path, line_number)
    observed = np.any(frames != 0.0, axis=-1)
    observed[:, 1] = True  # the neck is the origin, (0, 0, 0) by construction
    # This corpus's own lifted 3D goes through the same lifting: its depth is kept where it holds bone lengths
    # steady (real depth), rebuilt where it does not, and hands are kept out of the body either way.
    return keypoints_from_arrays(PHOENIX_NAMES, frames * _AXES, observed, PHOENIX_FPS, path)


def read_skels(path: str | Path) -> list[PoseKeypoints]:
    """All sequences of a ``.skels`` file, in line order."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise FileFormatError(path, f"cannot read the skeleton text ({exc})") from exc
    return [read_skels_line(line, path, i + 1) for i, line in enumerate(lines) if line.strip()]
