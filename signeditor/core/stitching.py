"""Detect the straight-line transitions that stitched sentence files insert between signs.

Some corpus sentences (the DGS sentences in ``dgs_sentences/``) are gloss spans cut from a
recording and re-joined with *inserted* linear interpolation: between two glosses, 3-8 frames
where every keypoint moves at exactly constant velocity. Those frames are not signing. A metric
computed on them rewards linear or cubic interpolation (the ground truth *is* an interpolation),
and a model trained on them learns straight, constant-speed transitions. They also mark the
gloss boundaries exactly.

Natural recordings never show exactly zero acceleration on every point for three frames in a
row (tracker noise alone breaks it), so the test is exact up to floating-point rounding: the
tolerance is relative to each point's coordinate magnitude (float32 files round at ~1e-7 of
the value; 1e-5 leaves a wide margin on both sides, measured on the shared data: stitched runs
sit below 1e-6, natural signing far above 1e-4).

A *hold* (every point frozen: zero velocity, hence zero acceleration too) is not counted:
stitched transitions join two different poses, so they move, while frozen frames in a natural
recording come from duplicated video frames or a tracker holding its last detection.
"""

from __future__ import annotations

import numpy as np

RELATIVE_TOLERANCE = 1e-5
"""Second differences below this fraction of a point's coordinate magnitude count as zero."""


def _valid_points(points: np.ndarray, valid: np.ndarray | None) -> np.ndarray:
    """(T, P) bool: points that carry a measurement (finite, not the all-zero missing marker)."""
    finite = np.isfinite(points).all(axis=2)
    nonzero = (points != 0.0).any(axis=2)
    mask = finite & nonzero
    if valid is not None:
        mask &= np.asarray(valid, dtype=bool)
    return mask


def _linear_frames(points: np.ndarray, valid: np.ndarray | None) -> np.ndarray:
    """(T,) bool: frame t is the middle of three frames where every valid point moves linearly."""
    x = np.nan_to_num(np.asarray(points, dtype=np.float64))
    n_frames = x.shape[0]
    linear = np.zeros(n_frames, dtype=bool)
    if n_frames < 3:
        return linear
    ok = _valid_points(np.asarray(points, dtype=np.float64), valid)
    scale = np.where(ok[:, :, None], np.abs(x), 0.0).max(axis=(0, 2))  # (P,)
    tolerance = RELATIVE_TOLERANCE * scale  # (P,)
    seen = ok[2:] & ok[1:-1] & ok[:-2]  # (T-2, P): point valid in all three frames
    acceleration = np.abs(x[2:] - 2.0 * x[1:-1] + x[:-2]).max(axis=2)
    displacement = np.abs(x[2:] - x[:-2]).max(axis=2)
    flat = ((acceleration <= tolerance) | ~seen).all(axis=1)
    moving = ((displacement > tolerance) & seen).any(axis=1)
    linear[1:-1] = flat & moving & seen.any(axis=1)
    return linear


def find_linear_runs(
    points: np.ndarray, valid: np.ndarray | None = None, *, min_len: int = 3
) -> list[tuple[int, int]]:
    """(T, P, 3) keypoints (valid: (T, P) bool or None) -> [start, stop) frame runs where every
    valid point moves at constant velocity (second difference 0 within float tolerance), at
    least min_len frames: the inserted straight-line transitions of stitched files.

    A frame belongs to a run when it is the middle of three frames on one straight constant-speed
    line, so a run is the inserted frames only; the real frames it joins stay outside it.
    Points missing in any of the three frames (valid False, NaN, or all-zero) are ignored there;
    a frame with no point seen in all three, or where nothing moves (a hold), is not linear.
    """
    points = np.asarray(points)
    if points.ndim != 3 or points.shape[2] != 3:
        raise ValueError(f"points must be (T, P, 3), got {points.shape}")
    if valid is not None and np.shape(valid) != points.shape[:2]:
        raise ValueError(f"valid must be {points.shape[:2]}, got {np.shape(valid)}")
    linear = _linear_frames(points, valid)
    edges = np.diff(np.concatenate([[0], linear.astype(np.int8), [0]]))
    starts = np.flatnonzero(edges == 1)
    stops = np.flatnonzero(edges == -1)
    return [(int(a), int(b)) for a, b in zip(starts, stops, strict=True) if b - a >= min_len]


def stitched_frame_mask(n_frames: int, runs: list[tuple[int, int]]) -> np.ndarray:
    """bool (T,), True on the inserted frames of ``runs`` (the frames to leave out of losses and metrics)."""
    mask = np.zeros(n_frames, dtype=bool)
    for start, stop in runs:
        if stop > 0:  # a run ending before the clip marks nothing (a negative stop would count from the end)
            mask[max(start, 0) : min(stop, n_frames)] = True
    return mask


def gloss_spans_from_runs(
    n_frames: int, runs: list[tuple[int, int]], n_glosses: int
) -> list[tuple[int, int]] | None:
    """The spans between runs, in order, when their count equals n_glosses; None when it does
    not (caller falls back).

    The runs are the inserted transitions, so the non-empty pieces between them (and before the
    first and after the last) are the glosses, in sentence order.
    """
    spans: list[tuple[int, int]] = []
    cursor = 0
    for start, stop in sorted(runs):
        if start > cursor:
            spans.append((cursor, start))
        cursor = max(cursor, stop)
    if cursor < n_frames:
        spans.append((cursor, n_frames))
    return spans if len(spans) == n_glosses else None
