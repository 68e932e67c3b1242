"""Per-frame segmentation tags or probabilities -> sign segments.

Kept free of torch so the GUI, the evaluation and the baseline share one
decoder and a model's raw output can be re-decoded with other settings
without running the network again.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from signeditor.core.segments import IN_SIGN, NON_SIGN, SIGN_START, Segment


@dataclass(frozen=True)
class DecodingSettings:
    """How to turn frame scores into segments.

    ``min_length`` drops flickers shorter than a plausible sign (4 frames is
    160 ms at 25 fps); ``merge_gap`` joins two pieces of one sign split by a
    short dip of the sign probability; ``start_threshold`` is the sign-start
    probability above which a new sign begins even without a non-sign gap,
    which is how signs that follow each other without rest are separated.
    """

    sign_threshold: float = 0.5
    start_threshold: float = 0.5
    min_length: int = 4
    merge_gap: int = 2
    min_start_distance: int = 4


def tags_to_probabilities(tags: np.ndarray) -> np.ndarray:
    """One-hot (T, 3) probabilities from hard tags, so hand-made or model tags decode the same way."""
    tags = np.asarray(tags, dtype=int)
    probs = np.zeros((len(tags), 3), dtype=np.float32)
    probs[np.arange(len(tags)), np.clip(tags, 0, 2)] = 1.0
    return probs


def _start_peaks(start_prob: np.ndarray, threshold: float, min_distance: int) -> list[int]:
    """Frames where the sign-start probability peaks above ``threshold``, at least ``min_distance`` apart."""
    above = np.flatnonzero(start_prob >= threshold)
    peaks: list[int] = []
    i = 0
    while i < len(above):
        j = i
        while j + 1 < len(above) and above[j + 1] == above[j] + 1:
            j += 1
        run = above[i : j + 1]
        peak = int(run[np.argmax(start_prob[run])])
        if not peaks or peak - peaks[-1] >= min_distance:
            peaks.append(peak)
        elif start_prob[peak] > start_prob[peaks[-1]]:
            peaks[-1] = peak
        i = j + 1
    return peaks


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(start, end exclusive) of each run of True."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]


def decode_segments(probabilities: np.ndarray, settings: DecodingSettings | None = None) -> list[Segment]:
    """Segments (start, end, confidence) from (T, 3) non-sign / in-sign / sign-start probabilities.

    Sign frames are those where in-sign + sign-start beats the threshold.
    Runs separated by gaps up to ``merge_gap`` frames are merged (a dip inside
    one sign), then each run is split at confident sign-start peaks, and
    pieces shorter than ``min_length`` are merged into their neighbour inside
    the run or dropped when alone. Confidence is the mean sign probability.
    """
    settings = settings or DecodingSettings()
    probs = np.asarray(probabilities, dtype=np.float64)
    if probs.ndim != 2 or probs.shape[1] != 3:
        raise ValueError(f"probabilities must be (frames, 3), got {probs.shape}")
    if len(probs) == 0:
        return []
    sign_prob = probs[:, IN_SIGN] + probs[:, SIGN_START]
    runs = _runs(sign_prob >= settings.sign_threshold)
    merged: list[tuple[int, int]] = []
    for start, end in runs:
        if merged and start - merged[-1][1] <= settings.merge_gap:
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    starts = _start_peaks(probs[:, SIGN_START], settings.start_threshold, settings.min_start_distance)
    segments: list[Segment] = []
    for start, end in merged:
        cuts = [start] + [s for s in starts if start + settings.min_length <= s <= end - settings.min_length] + [end]
        pieces = [(a, b) for a, b in itertools.pairwise(cuts) if b > a]
        # Fold short pieces into the previous one (or the next when first) so no flicker survives.
        folded: list[tuple[int, int]] = []
        for a, b in pieces:
            if folded and b - a < settings.min_length:
                folded[-1] = (folded[-1][0], b)
            else:
                folded.append((a, b))
        if len(folded) > 1 and folded[0][1] - folded[0][0] < settings.min_length:
            folded[1] = (folded[0][0], folded[1][1])
            folded.pop(0)
        for a, b in folded:
            if b - a < settings.min_length:
                continue
            segments.append(Segment(a, b, confidence=float(np.mean(sign_prob[a:b]))))
    return segments


def segments_to_tags(segments: list[Segment], n_frames: int) -> np.ndarray:
    """(T,) int8 tags: the inverse of decoding for clean segments."""
    tags = np.full(n_frames, NON_SIGN, dtype=np.int8)
    for seg in segments:
        tags[max(seg.start, 0) : min(seg.end, n_frames)] = IN_SIGN
        if 0 <= seg.start < n_frames:
            tags[seg.start] = SIGN_START
    return tags
