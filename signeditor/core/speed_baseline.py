"""Baseline segmenter: signs are the raised-hand stretches, cut at minima of wrist speed.

The classic heuristic (hands slow down between signs) needs no training, so
it is the bar a learned segmenter must clear to be worth shipping.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from signeditor.core.hand_features import track_speed, wrist_positions
from signeditor.core.motion import Motion
from signeditor.core.segments import Segment


@dataclass(frozen=True)
class SpeedBaselineSettings:
    """Defaults chosen by a small grid search on the corpus' train and val clips (never test), so the
    baseline FAST is compared with is the best this heuristic does here, not a strawman."""

    raise_margin: float = 0.15  # shoulder widths above the clip's rest height that counts as signing
    smooth_frames: int = 5
    min_drop: float = 0.3  # a cut needs the speed to drop below this fraction of the neighbouring peaks
    min_length: int = 6


def _smooth(x: np.ndarray, width: int) -> np.ndarray:
    if width <= 1 or len(x) < width:
        return x
    kernel = np.ones(width) / width
    padded = np.pad(x, (width // 2, width - 1 - width // 2), mode="edge")
    return np.convolve(padded, kernel, mode="valid")


def speed_minima_segments(motion: Motion, settings: SpeedBaselineSettings | None = None) -> list[Segment]:
    """Segments of ``motion`` by the wrist-speed heuristic."""
    if motion.n_frames < 2:
        return []
    return speed_minima_segments_of_wrists(wrist_positions(motion.features), motion.fps, settings)


def _speed_and_raised(wrists: np.ndarray, fps: float, s: SpeedBaselineSettings) -> tuple[np.ndarray, np.ndarray]:
    speed = _smooth(track_speed(wrists, fps).max(axis=1), s.smooth_frames)
    height = wrists[:, :, 1]
    rest = np.percentile(height, 5, axis=0)
    return speed, np.any(height > rest + s.raise_margin, axis=1)


def speed_minima_segments_of_wrists(
    wrists: np.ndarray, fps: float, settings: SpeedBaselineSettings | None = None
) -> list[Segment]:
    """The heuristic on (T, 2, D) wrist tracks (y up, in about shoulder widths): 3D from a motion, or 2D
    image tracks normalised per clip (``core.hand_tracks.normalise_tracks``)."""
    s = settings or SpeedBaselineSettings()
    if len(wrists) < 2:
        return []
    speed, raised = _speed_and_raised(wrists, fps, s)
    segments: list[Segment] = []
    padded = np.concatenate([[False], raised, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    for a, b in zip(edges[::2], edges[1::2], strict=True):
        cuts = [int(a)]
        for i in range(a + 1, b - 1):
            if speed[i] <= speed[i - 1] and speed[i] < speed[i + 1]:
                left_peak = speed[cuts[-1] : i].max(initial=0.0)
                right_peak = speed[i:b].max(initial=0.0)
                if speed[i] < s.min_drop * min(left_peak, right_peak) and i - cuts[-1] >= s.min_length:
                    cuts.append(i)
        cuts.append(int(b))
        for start, end in itertools.pairwise(cuts):
            if end - start >= s.min_length:
                segments.append(Segment(start, end, confidence=0.5))
    return segments


def speed_minima_given_count(
    wrists: np.ndarray, fps: float, n_signs: int, settings: SpeedBaselineSettings | None = None
) -> list[Segment]:
    """``n_signs`` signs tiling the raised-hand span, cut at the ``n_signs - 1`` deepest wrist-speed minima
    (local minima at least 2 frames apart; the span is cut evenly where there are too few): the
    count-given baseline that gloss-guided alignment is compared with."""
    s = settings or SpeedBaselineSettings()
    n = len(wrists)
    if n_signs <= 0 or n < n_signs:
        return []
    speed, raised = _speed_and_raised(wrists, fps, s) if n > 1 else (np.zeros(n), np.ones(n, bool))
    span = np.flatnonzero(raised)
    first, last = (int(span[0]), int(span[-1]) + 1) if len(span) >= n_signs else (0, n)
    minima = [i for i in range(first + 1, last - 1) if speed[i] <= speed[i - 1] and speed[i] < speed[i + 1]]
    cuts: list[int] = []
    for i in sorted(minima, key=lambda i: speed[i]):
        if len(cuts) == n_signs - 1:
            break
        if all(abs(i - c) >= 2 for c in cuts) and i - first >= 1 and last - i >= 1:
            cuts.append(i)
    if len(cuts) < n_signs - 1:
        cuts = [round(first + (last - first) * k / n_signs) for k in range(1, n_signs)]
    bounds = [first, *sorted(cuts), last]
    return [Segment(a, max(b, a + 1)) for a, b in itertools.pairwise(bounds)]
