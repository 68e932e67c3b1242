"""Fit the end tension of KF2P's base spline to real signing.

Catmull-Rom gives the first and last key only a one-sided tangent, the mean
velocity of the first (last) gap. Signers leave the rest pose and return to
it much faster than that: measured on the training split, stretching those
two tangents (negative Kochanek-Bartels tension at the ends only) brings the
in-between far closer to real hands in isolated signs and fingerspelling,
and leaves continuous signing, whose interior keys keep plain Catmull-Rom
tangents, as good as before. (A tension on every key helped isolated signs
as much but made sentences 28% worse.) The network generates the residual
over this base. One number, fitted on the training split only.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from signeditor.core.interpolation import interpolate_keyframes
from signeditor.core.kinematics import forward_kinematics
from signeditor.core.skeleton import HAND_POINT_INDICES, JOINT_INDEX

TENSION_CANDIDATES: tuple[float, ...] = (0.0, -1.0, -2.0, -2.5, -3.0, -3.5, -4.0, -5.0)


def hands_error_between_keyframes(pred: np.ndarray, real: np.ndarray, frames: np.ndarray) -> float:
    """Mean finger-point position error (shoulder widths) on the frames strictly between the keyframes."""
    p, r = forward_kinematics(pred), forward_kinematics(real)
    scale = np.linalg.norm(r[0, JOINT_INDEX["L_Shoulder"]] - r[0, JOINT_INDEX["R_Shoulder"]])
    between = np.setdiff1d(np.arange(frames[0] + 1, frames[-1]), frames)
    hands = list(HAND_POINT_INDICES)
    return float(np.linalg.norm(p[between][:, hands] - r[between][:, hands], axis=-1).mean() / scale)


def fit_end_tension(examples: Iterable[tuple[np.ndarray, np.ndarray]],
                     candidates: tuple[float, ...] = TENSION_CANDIDATES) -> tuple[float, dict[float, float]]:
    """The candidate end tension with the lowest mean hands error over ``(features, keyframe_frames)`` examples."""
    errors: dict[float, list[float]] = {c: [] for c in candidates}
    for features, frames in examples:
        if len(frames) < 2 or frames[-1] - frames[0] - len(frames) < 2:
            continue
        mask = np.zeros_like(features)
        mask[frames] = 1.0
        for tension in candidates:
            pred = interpolate_keyframes(features * mask, mask, "cubic", (tension, tension))
            errors[tension].append(hands_error_between_keyframes(pred, features, frames))
    means = {c: float(np.mean(v)) if v else float("inf") for c, v in errors.items()}
    return min(means, key=means.__getitem__), means
