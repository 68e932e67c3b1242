"""Fit the end tension of KF2P's base spline to real signing.

Catmull-Rom gives the first and last key only a one-sided tangent, the mean
velocity of the first (last) gap. Signers leave the rest pose and return to
it much faster than that: measured on the training split, stretching those
two tangents (negative Kochanek-Bartels tension at the ends only) brings the
in-between far closer to real hands in isolated signs and fingerspelling.
The tension applies only where the signer is at rest at that end anchor
(:func:`rest_weight`) and interior keys keep plain Catmull-Rom tangents, so
continuous signing is left as it was. (A tension on every key helped
isolated signs as much but made sentences 28% worse; one at every clip end
made DGS sentences 18% worse.) The network generates the residual over this
base. One number, fitted on the training split only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from signeditor.core.interpolation import interpolate_keyframes
from signeditor.core.kinematics import forward_kinematics, joint_positions, shoulder_width
from signeditor.core.skeleton import HAND_POINT_INDICES

TENSION_CANDIDATES: tuple[float, ...] = (0.0, -1.0, -2.0, -2.5, -3.0, -3.5, -4.0, -5.0)
#: How far (shoulder widths) the lower wrist hangs below the shoulders at an end anchor: from REST_DROP[0] (a hand
#: raised for signing) to REST_DROP[1] (a hand at rest) the end tension fades in. Measured on the training split:
#: isolated signs and fingerspelling start and end at 0.9-1.6, clips cut from continuous signing at 0.3-0.95.
REST_DROP: tuple[float, float] = (0.8, 1.0)


def rest_weight(pose: np.ndarray) -> float:
    """0 for a pose with both hands raised, 1 with a hand at rest (pose: one frame's 246 features)."""
    left_shoulder, right_shoulder, left_wrist, right_wrist = joint_positions(
        pose[None], ("L_Shoulder", "R_Shoulder", "L_Wrist", "R_Wrist"))[0]
    shoulder_y = 0.5 * (left_shoulder[1] + right_shoulder[1])
    width = float(np.linalg.norm(left_shoulder - right_shoulder))  # kinematics.shoulder_width
    drop = (shoulder_y - min(left_wrist[1], right_wrist[1])) / width
    return float(np.clip((drop - REST_DROP[0]) / (REST_DROP[1] - REST_DROP[0]), 0.0, 1.0))


def end_tensions(values: np.ndarray, body_frames: np.ndarray, tension: float) -> tuple[float, float]:
    """The tension at the first and last key: full where the signer is at rest there, none mid-signing.

    Stretching the end tangents models leaving and returning to rest; a clip
    that starts or ends mid-utterance would overshoot with it.
    """
    if tension == 0.0 or len(body_frames) == 0:
        return tension, tension
    return (tension * rest_weight(values[body_frames[0]]), tension * rest_weight(values[body_frames[-1]]))


def hands_error_between_keyframes(pred: np.ndarray, real: np.ndarray, frames: np.ndarray,
                                  stitched: np.ndarray | None = None) -> float:
    """Mean finger-point position error (shoulder widths) on the frames strictly between the keyframes,
    stitched transition frames (``stitched`` True) left out (NaN when nothing else is left)."""
    p, r = forward_kinematics(pred), forward_kinematics(real)
    scale = shoulder_width(r[0])
    between = np.setdiff1d(np.arange(frames[0] + 1, frames[-1]), frames)
    if stitched is not None:
        between = between[~stitched[between]]
        if not len(between):
            return float("nan")
    hands = list(HAND_POINT_INDICES)
    return float(np.linalg.norm(p[between][:, hands] - r[between][:, hands], axis=-1).mean() / scale)


def has_frames_between(frames: np.ndarray) -> bool:
    """At least two keyframes with two or more unanchored frames between them: something to measure."""
    return len(frames) >= 2 and frames[-1] - frames[0] - len(frames) >= 2


def fit_end_tension(examples: Iterable[tuple[np.ndarray, np.ndarray]],
                    candidates: tuple[float, ...] = TENSION_CANDIDATES,
                    combine: Callable[[np.ndarray], np.ndarray] | None = None) -> tuple[float, dict[float, float]]:
    """The candidate end tension with the lowest mean hands error over ``(features, keyframe_frames)`` examples.

    ``combine`` sums arrays over the ranks of a data-parallel run, each of which holds a shard of the examples.
    """
    errors: dict[float, list[float]] = {c: [] for c in candidates}
    for features, frames in examples:
        if not has_frames_between(frames):
            continue
        mask = np.zeros_like(features)
        mask[frames] = 1.0
        for tension in candidates:
            pred = interpolate_keyframes(features * mask, mask, "cubic", end_tensions(features, frames, tension))
            errors[tension].append(hands_error_between_keyframes(pred, features, frames))
    if combine is not None:
        sums = combine(np.array([np.sum(v) for v in errors.values()], dtype=np.float64))
        counts = combine(np.array([len(v) for v in errors.values()], dtype=np.float64))
        means = {c: float(s / n) if n else float("inf") for c, s, n in zip(errors, sums, counts, strict=True)}
    else:
        means = {c: float(np.mean(v)) if v else float("inf") for c, v in errors.items()}
    return min(means, key=means.__getitem__), means
