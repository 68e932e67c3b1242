"""Which frames become keyframes during training and evaluation.

Training must see the anchor layouts the editor produces: onset, middle and
offset of each sign (what FAST gives), context frames at a window's edges, and
anchors that pin only some streams. Clips without labels get random sparse
frames at sign-like spacing.
"""

from __future__ import annotations

import numpy as np

from signeditor.core.motion import STREAMS
from signeditor.core.segments import Segment, segments_from_labels


def onset_middle_offset(segments: list[Segment], n_frames: int) -> np.ndarray:
    """Sorted unique keyframes: first, middle and last frame of every segment."""
    frames = {f for s in segments for f in (s.start, s.middle, s.end - 1)}
    return np.array(sorted(f for f in frames if 0 <= f < n_frames), dtype=np.int64)


def random_sparse_frames(rng: np.random.Generator, n_frames: int, min_gap: int = 5, max_gap: int = 16) -> np.ndarray:
    frames = [int(rng.integers(0, min(max_gap, n_frames)))]
    while True:
        nxt = frames[-1] + int(rng.integers(min_gap, max_gap + 1))
        if nxt >= n_frames:
            break
        frames.append(nxt)
    return np.array(frames, dtype=np.int64)


def training_stream_mask(rng: np.random.Generator, labels: np.ndarray, *, keyframe_dropout: float = 0.1,
                         partial_stream_prob: float = 0.2, edge_context_prob: float = 0.4,
                         segmenter_labels: np.ndarray | None = None,
                         segmenter_prob: float = 0.5, augmentation: float = 1.0) -> tuple[np.ndarray, bool]:
    """(T, 4) 0/1 mask of anchored streams per frame for one training crop, and whether it has window context
    (hard keyframes at both edges, as the editor's windowed regeneration adds).

    ``segmenter_labels`` are FAST's own tags for the crop: the editor's anchors
    come from FAST, whose onsets and offsets sit where FAST puts them, not where
    an annotator did, so training sees those layouts too. ``augmentation``
    scales how often the layout is disturbed (anchors deleted, only some
    streams anchored, window context added).
    """
    n = len(labels)
    mask = np.zeros((n, len(STREAMS)), dtype=np.float32)
    if rng.random() < keyframe_dropout:
        return mask, False
    if segmenter_labels is not None and rng.random() < segmenter_prob:
        labels = segmenter_labels
    known = labels >= 0
    segments = segments_from_labels(labels) if known.mean() > 0.9 else []
    frames = onset_middle_offset(segments, n) if len(segments) >= 2 else random_sparse_frames(rng, n)
    if rng.random() < 0.3 * augmentation and len(frames) > 3:
        # Fewer anchors than the labels give: users delete some, FAST misses some.
        frames = frames[rng.random(len(frames)) > 0.3]
    mask[frames] = 1.0
    if rng.random() < partial_stream_prob * augmentation:
        for f in frames:
            keep = rng.random(len(STREAMS)) < 0.5
            mask[f] = keep.astype(np.float32)
    context = rng.random() < edge_context_prob * augmentation
    if context:
        width = int(rng.integers(1, 5))
        mask[:width] = 1.0
        mask[-width:] = 1.0
    return mask, context
