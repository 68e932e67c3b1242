"""Import a ``.pose`` keypoint file as an editable Motion (read, fit rotations, resample)."""

from __future__ import annotations

from pathlib import Path

from signeditor.core.ik import fit_motion
from signeditor.core.motion import Motion
from signeditor.io.pose_reader import read_pose_keypoints
from signeditor.io.validation import repair_degenerate_rotations


def motion_from_pose_file(path: str | Path, fps: float = 25.0) -> Motion:
    """Motion at ``fps`` fitted to the keypoints of ``path``; FileFormatError for unreadable files."""
    motion = repair_degenerate_rotations(fit_motion(read_pose_keypoints(path)))
    return motion.resampled(fps)
