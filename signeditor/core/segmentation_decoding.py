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


@dataclass(frozen=True)
class SplitSettings:
    """When and how to split a sign the segmenter did not parse (see :func:`split_unanchored_segments`).

    Chosen on held-out natural signing, never on test: ``max_sign_seconds`` and the cut rule on BOSTON-104
    validation sentences (one run over each sentence split by wrist speed alone: segment F1@0.5 0.59, sign count
    error 0.59), ``start_evidence`` from where FAST's own segments separate on the corpus validation clips
    (under 5 % of isolated signs and letters start without a sign-start probability of 0.1, over half of the
    How2Sign sentence segments do). See models/fast/MODEL_CARD.md, "Counting signs in continuous signing".
    """

    start_evidence: float = 0.1
    evidence_window: int = 3
    max_sign_seconds: float = 0.6
    smooth_frames: int = 5


def wrist_speed_cue(wrists: np.ndarray, fps: float, smooth_frames: int = 5) -> np.ndarray:
    """(T,) speed of the faster wrist, box-smoothed: the hands slow down between signs."""
    wrists = np.asarray(wrists, dtype=np.float64)
    if len(wrists) < 2:
        return np.zeros(len(wrists))
    step = np.linalg.norm(np.diff(wrists, axis=0), axis=-1).max(axis=-1) * fps
    speed = np.concatenate([step[:1], step])
    if smooth_frames <= 1 or len(speed) < smooth_frames:
        return speed
    padded = np.pad(speed, (smooth_frames // 2, smooth_frames - 1 - smooth_frames // 2), mode="edge")
    return np.convolve(padded, np.ones(smooth_frames) / smooth_frames, mode="valid")


def _is_anchored(segment: Segment, probs: np.ndarray, settings: DecodingSettings, split: SplitSettings) -> bool:
    """The segmenter saw where this sign begins: a sign-start peak near its first frame, or a rest just before it."""
    w = split.evidence_window
    if probs[max(0, segment.start - w) : segment.start + w + 1, SIGN_START].max() >= split.start_evidence:
        return True
    before = probs[max(0, segment.start - 2) : segment.start]
    return len(before) == 2 and bool(np.all(before[:, IN_SIGN] + before[:, SIGN_START] < settings.sign_threshold))


def _cut_at_speed_minima(start: int, end: int, speed: np.ndarray, max_frames: int, min_length: int) -> list[int]:
    """Cut frames inside [start, end): recursively at the wrist-speed minimum that is deepest relative to the
    fastest movement on either side, until every piece is at most ``max_frames`` long or has no minimum left."""
    if end - start <= max_frames:
        return []
    piece = speed[start:end]
    left_peak = np.maximum.accumulate(piece)
    right_peak = np.maximum.accumulate(piece[::-1])[::-1]
    i = np.arange(min_length, len(piece) - min_length)
    i = i[(i > 0) & (i < len(piece) - 1)]
    lower_peak = np.minimum(left_peak, right_peak)
    i = i[(piece[i] <= piece[i - 1]) & (piece[i] <= piece[i + 1]) & (piece[i] < lower_peak[i])]
    if len(i) == 0:
        return []
    cut = start + int(i[np.argmin(piece[i] / np.maximum(lower_peak[i], 1e-12))])
    return [*_cut_at_speed_minima(start, cut, speed, max_frames, min_length), cut,
            *_cut_at_speed_minima(cut, end, speed, max_frames, min_length)]


def split_unanchored_segments(
    segments: list[Segment],
    probabilities: np.ndarray,
    wrists: np.ndarray,
    fps: float,
    settings: DecodingSettings | None = None,
    split: SplitSettings | None = None,
) -> list[Segment]:
    """Split the segments whose start the segmenter never saw, at wrist-speed minima, to natural sign lengths.

    On real continuous signing FAST's sign probability can stay near 1 for seconds with no sign-start peak, so
    the plain decoder lays one segment over several signs. A segment is trusted as one sign when the network
    marked its start (a sign-start peak) or it rises out of a rest; any other segment longer than
    ``max_sign_seconds`` is cut where the hands slow down most between two movements. Isolated signs and
    letters almost always start from a rest or with a start peak, so they are left alone however long they are.
    """
    settings = settings or DecodingSettings()
    split = split or SplitSettings()
    probs = np.asarray(probabilities, dtype=np.float64)
    if not segments:
        return []
    if len(wrists) != len(probs):
        raise ValueError(f"wrists have {len(wrists)} frames, probabilities {len(probs)}")
    speed = wrist_speed_cue(wrists, fps, split.smooth_frames)
    max_frames = max(round(split.max_sign_seconds * fps), 2 * settings.min_length)
    out: list[Segment] = []
    for seg in segments:
        if _is_anchored(seg, probs, settings, split):
            out.append(seg)
            continue
        bounds = [seg.start, *_cut_at_speed_minima(seg.start, seg.end, speed, max_frames, settings.min_length), seg.end]
        out.extend(Segment(a, b, confidence=seg.confidence) for a, b in itertools.pairwise(bounds))
    return out


def segments_to_tags(segments: list[Segment], n_frames: int) -> np.ndarray:
    """(T,) int8 tags: the inverse of decoding for clean segments."""
    tags = np.full(n_frames, NON_SIGN, dtype=np.int8)
    for seg in segments:
        tags[max(seg.start, 0) : min(seg.end, n_frames)] = IN_SIGN
        if 0 <= seg.start < n_frames:
            tags[seg.start] = SIGN_START
    return tags
