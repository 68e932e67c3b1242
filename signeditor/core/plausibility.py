"""Is a motion physically plausible, and does it still match what the camera saw?

The figures the IK benchmark reports per corpus folder and the lifting tests
assert: raised hands behind the body, hands inside the body, joints beyond
their anatomical limits, and the 2D reprojection error against the source
keypoints. They read forward-kinematics positions only, so they judge any
motion (imported, generated, exported) the same way.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from signeditor.core.body_volume import INSIDE_TOLERANCE, body_penetration, chest_level_y, shoulder_plane_z
from signeditor.core.lifting import TWIST_RANGE, forearm_twist
from signeditor.core.rotations import unit_vectors
from signeditor.core.skeleton import JOINT_INDEX, WRIST_AND_HAND_POINT_INDICES

#: Largest angle (degrees) between forearm and hand direction a wrist can make.
WRIST_MAX_BEND = 95.0
#: Finger joints: largest hyperextension (bending away from the palm) and flexion, degrees.
FINGER_MAX_HYPEREXTENSION, FINGER_MAX_FLEXION = 35.0, 125.0
#: Upper arm pointing backwards beyond this z component exceeds shoulder extension.
SHOULDER_MAX_BACKWARD = 0.8
FINGERS_FLEXING = ("Index", "Middle", "Ring", "Pinky")


@dataclass(frozen=True)
class Plausibility:
    """Counts behind the rates, so folders can be pooled exactly."""

    raised_wrist_frames: int
    behind_body_frames: int
    frames: int
    inside_body_frames: int
    limit_checks: int
    limit_violations: int

    @property
    def behind_body_rate(self) -> float:
        return self.behind_body_frames / self.raised_wrist_frames if self.raised_wrist_frames else 0.0

    @property
    def inside_body_rate(self) -> float:
        return self.inside_body_frames / self.frames if self.frames else 0.0

    @property
    def joint_limit_violation_rate(self) -> float:
        return self.limit_violations / self.limit_checks if self.limit_checks else 0.0

    def __add__(self, other: Plausibility) -> Plausibility:
        return Plausibility(*(a + b for a, b in zip(self.counts(), other.counts(), strict=True)))

    def counts(self) -> tuple[int, ...]:
        return (self.raised_wrist_frames, self.behind_body_frames, self.frames, self.inside_body_frames,
                self.limit_checks, self.limit_violations)


def _angle(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.degrees(np.arccos(np.clip(np.sum(unit_vectors(a) * unit_vectors(b), axis=-1), -1.0, 1.0)))


def joint_limit_violations(positions: np.ndarray) -> tuple[int, int]:
    """(checks, violations) over frames and joints: humeral twist, shoulder extension, wrist bend, fingers.

    Finger bending is signed by the palm's normal (from the wrist towards
    the palm side, derived from the index and pinky bases), so a finger bent
    backwards counts even though its angle alone looks ordinary.
    """
    p = positions
    j = JOINT_INDEX
    checks = violations = 0
    for side in "LR":
        upper = p[:, j[f"{side}_Elbow"]] - p[:, j[f"{side}_Shoulder"]]
        fore = p[:, j[f"{side}_Wrist"]] - p[:, j[f"{side}_Elbow"]]
        hand = p[:, j[f"{side}_Middle1"]] - p[:, j[f"{side}_Wrist"]]
        angle, weight = forearm_twist(side, upper, fore)
        defined = weight > 0.5
        twisted = defined & ((angle < TWIST_RANGE[0]) | (angle > TWIST_RANGE[1]))
        backward = unit_vectors(upper)[:, 2] < -SHOULDER_MAX_BACKWARD
        wrist = _angle(fore, hand) > WRIST_MAX_BEND
        checks += int(defined.sum()) + 2 * p.shape[0]
        violations += int(twisted.sum() + backward.sum() + wrist.sum())
        across = p[:, j[f"{side}_Index1"]] - p[:, j[f"{side}_Pinky1"]]
        palm = unit_vectors(np.cross(hand, across)) * (1.0 if side == "L" else -1.0)
        for finger in FINGERS_FLEXING:
            chain = [f"{side}_Wrist"] + [f"{side}_{finger}{k}" for k in (1, 2, 3)] + [f"{side}_{finger}Tip"]
            bones = [p[:, j[b]] - p[:, j[a]] for a, b in itertools.pairwise(chain)]
            # Fingers flex about parallel axes: across the palm, perpendicular to its normal.
            axis = unit_vectors(np.cross(bones[0], palm))
            for prev, bone in itertools.pairwise(bones):
                signed = np.degrees(np.arctan2(np.sum(np.cross(prev, bone) * axis, axis=-1),
                                               np.sum(prev * bone, axis=-1)))
                bad = (signed < -FINGER_MAX_HYPEREXTENSION) | (signed > FINGER_MAX_FLEXION)
                checks += p.shape[0]
                violations += int(bad.sum())
    return checks, violations


def plausibility(positions: np.ndarray) -> Plausibility:
    """Plausibility counts of FK positions (T, J, 3) in the skeleton frame."""
    raised_frames = behind_frames = 0
    for side in "LR":
        wrist = positions[:, JOINT_INDEX[f"{side}_Wrist"]]
        raised = wrist[:, 1] > chest_level_y()
        raised_frames += int(raised.sum())
        behind_frames += int(np.sum(raised & (wrist[:, 2] < shoulder_plane_z())))
    hands = positions[:, list(WRIST_AND_HAND_POINT_INDICES)]
    inside = (body_penetration(hands) > INSIDE_TOLERANCE).any(axis=1)
    checks, violations = joint_limit_violations(positions)
    return Plausibility(raised_frames, behind_frames, positions.shape[0], int(inside.sum()), checks, violations)

