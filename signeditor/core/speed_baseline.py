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
    s = settings or SpeedBaselineSettings()
    n = motion.n_frames
    if n < 2:
        return []
    wrists = wrist_positions(motion.features)  # (T, 2, 3)
    speed = track_speed(wrists, motion.fps).max(axis=1)
    speed = _smooth(speed, s.smooth_frames)
    height = wrists[:, :, 1]
    rest = np.percentile(height, 5, axis=0)
    raised = np.any(height > rest + s.raise_margin, axis=1)
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
