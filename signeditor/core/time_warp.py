"""Time warping of recorded motion: when anchors move in time, the recording between them stretches.

A warp maps every frame of the edited clip to a (fractional) time in the
original take. It is piecewise linear through the anchors' (frame now, frame
in the take) pairs, with the clip's ends pinned, so frames between two anchors
that kept their places map to themselves and are copied bit for bit; only
frames between a moved anchor and its neighbours are resampled (rotations by
slerp, never by blending 6D vectors).

The take may be longer or shorter than the clip (a sign was laid into or cut
from both, see ``recording_layout``): the clip's first frame is pinned to the
take's first and its last to the take's last, so the tail stays aligned too.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable

import numpy as np

from signeditor.core import rotations

#: A source time this close to a whole frame is that frame (copied exactly, not resampled).
_WHOLE_FRAME_TOLERANCE = 1e-9


def warp_knots(pairs: Iterable[tuple[int, int]], n_frames: int,
               n_take: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Monotone knots (frames now, frames in the take) from anchor correspondences, the clip's ends pinned
    to the take's (``n_take`` frames, the clip's ``n_frames`` when not given).

    Anchors dragged past each other would fold time back on itself; the
    largest set of pairs whose take frames never decrease is kept (the
    others only displace, see ``displacement``), so the warp stays monotone
    and nothing plays backwards.
    """
    n_take = n_frames if n_take is None else n_take
    by_now: dict[int, int] = {}
    for now, take in sorted(pairs):
        if 0 <= now < n_frames and 0 <= take < n_take:
            by_now.setdefault(int(now), int(take))
    ordered = sorted(by_now.items())
    kept = _longest_non_decreasing(ordered)
    if not kept or kept[0][0] > 0:
        kept.insert(0, (0, 0))
    if kept[-1][0] < n_frames - 1:
        kept.append((n_frames - 1, n_take - 1))
    now_frames = np.array([k[0] for k in kept], dtype=np.float64)
    take_frames = np.array([k[1] for k in kept], dtype=np.float64)
    return now_frames, take_frames


def _longest_non_decreasing(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Longest subsequence of (now, take) pairs (sorted by ``now``) whose ``take`` never decreases; O(k²)."""
    if all(a[1] <= b[1] for a, b in itertools.pairwise(pairs)):
        return list(pairs)  # the usual case: no anchor was dragged past another
    length = [1] * len(pairs)
    previous = [-1] * len(pairs)
    for i in range(len(pairs)):
        for j in range(i):
            if pairs[j][1] <= pairs[i][1] and length[j] + 1 > length[i]:
                length[i], previous[i] = length[j] + 1, j
    i = int(np.argmax(length))
    chain = []
    while i >= 0:
        chain.append(pairs[i])
        i = previous[i]
    return chain[::-1]


def source_times(knots: tuple[np.ndarray, np.ndarray], n_frames: int) -> np.ndarray:
    """For every frame now, the time in the take it shows (float64, whole numbers where nothing moved)."""
    now_frames, take_frames = knots
    times = np.interp(np.arange(n_frames, dtype=np.float64), now_frames, take_frames)
    whole = np.round(times)
    return np.where(np.abs(times - whole) < _WHOLE_FRAME_TOLERANCE, whole, times)


def resample_rotations(features: np.ndarray, times: np.ndarray) -> np.ndarray:
    """6D features (T0, 6J) sampled at fractional ``times``: whole frames copied, the rest slerped per joint."""
    features = np.asarray(features)
    n_source = features.shape[0]
    times = np.clip(np.asarray(times, dtype=np.float64), 0, n_source - 1)
    lo = np.floor(times).astype(np.int64)
    out = features[lo].copy()
    between = np.flatnonzero(times > lo)
    if len(between):
        hi = np.minimum(lo[between] + 1, n_source - 1)
        n_joints = features.shape[1] // 6
        a = rotations.rot6d_to_matrix(features[lo[between]].reshape(-1, n_joints, 6).astype(np.float64))
        b = rotations.rot6d_to_matrix(features[hi].reshape(-1, n_joints, 6).astype(np.float64))
        weight = np.broadcast_to((times[between] - lo[between])[:, None], (len(between), n_joints))
        blended = rotations.slerp_matrices(a, b, weight)
        out[between] = rotations.matrix_to_rot6d(blended).reshape(len(between), -1)
    return out.astype(features.dtype, copy=False)


def resample_values(values: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Plain per-frame values (T0, C), e.g. face expression, sampled linearly at ``times`` (whole frames exact)."""
    values = np.asarray(values)
    times = np.clip(np.asarray(times, dtype=np.float64), 0, values.shape[0] - 1)
    lo = np.floor(times).astype(np.int64)
    hi = np.minimum(lo + 1, values.shape[0] - 1)
    w = (times - lo).reshape(-1, *([1] * (values.ndim - 1)))
    out = values[lo].copy()
    between = (times > lo)
    out[between] = (values[lo] * (1 - w) + values[hi] * w)[between].astype(values.dtype)
    return out


def nearest_frames(times: np.ndarray, n_source: int) -> np.ndarray:
    """The take frame nearest each source time (for per-frame flags, which do not interpolate)."""
    return np.clip(np.round(np.asarray(times)).astype(np.int64), 0, n_source - 1)
