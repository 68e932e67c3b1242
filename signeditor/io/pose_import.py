"""Import a ``.pose`` keypoint file as an editable Motion (read, lift depth, fit rotations, resample)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from signeditor.core.face import face_from_keypoints
from signeditor.core.ik import fit_motion
from signeditor.core.kinematics import forward_kinematics
from signeditor.core.motion import Motion
from signeditor.core.plausibility import Plausibility, plausibility
from signeditor.io.pose_reader import PoseKeypoints, read_pose_keypoints
from signeditor.io.validation import repair_degenerate_rotations


@dataclass(frozen=True)
class PoseImportReport:
    """What the user is told after an import: enough to trust (or doubt) the recovered 3D."""

    frames: int
    filled_frames: int
    lifting: str
    plausibility: Plausibility
    #: Hands ("left", "right") the file never shows: not captured, they stay in the rest pose (open and flat).
    missing_hands: tuple[str, ...] = ()

    def warning(self) -> str:
        """What the user must know before trusting the motion ("" when nothing is amiss)."""
        if not self.missing_hands:
            return ""
        if len(self.missing_hands) == 2:
            return ("No hands in this file: both hands are not captured and shown open and flat (the rest pose); "
                    "pose them with handshapes or anchors")
        side = self.missing_hands[0]
        return (f"No {side} hand in this file: it is not captured and shown open and flat (the rest pose); "
                "pose it with handshapes or anchors")

    def summary(self) -> str:
        p = self.plausibility
        warning = f"Warning: {self.warning()}. " if self.missing_hands else ""
        return (f"{warning}Imported {self.frames} frames ({self.filled_frames} gap frames filled); {self.lifting}; "
                f"hands behind the body {p.behind_body_rate:.1%}, inside it {p.inside_body_rate:.1%}, "
                f"joint-limit violations {p.joint_limit_violation_rate:.1%}")


def missing_hands(keypoints: PoseKeypoints) -> tuple[str, ...]:
    """The hands ("left", "right") with no keypoint detected in any frame (or none in the file's layout)."""
    missing = []
    for side, component in (("left", "LEFT_HAND_LANDMARKS"), ("right", "RIGHT_HAND_LANDMARKS")):
        columns = [i for i, name in enumerate(keypoints.names) if name.startswith(component + ".")]
        if not columns or not keypoints.observed[:, columns].any():
            missing.append(side)
    return tuple(missing)


def import_pose_file(path: str | Path, fps: float = 25.0) -> tuple[Motion, PoseImportReport]:
    """Motion at ``fps`` fitted to the keypoints of ``path`` and the import report; FileFormatError if unreadable."""
    keypoints = read_pose_keypoints(path)
    motion = repair_degenerate_rotations(fit_motion(keypoints))
    motion = replace(motion, face=face_from_keypoints(keypoints))  # the face channel, when the file has a face
    lifting = keypoints.lifting.summary() if keypoints.lifting else "depth as stored"
    report = PoseImportReport(motion.n_frames, int(np.sum(motion.filled)), lifting,
                              plausibility(np.asarray(forward_kinematics(motion.features))), missing_hands(keypoints))
    return motion.resampled(fps), report


def motion_from_pose_file(path: str | Path, fps: float = 25.0) -> Motion:
    """Motion at ``fps`` fitted to the keypoints of ``path``; FileFormatError for unreadable files."""
    return import_pose_file(path, fps)[0]
