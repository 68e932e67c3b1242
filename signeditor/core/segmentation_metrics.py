"""Scores for sign segmentation, pooled over clips (pure numpy so any segmenter can be scored).

- frame_f1: F1 of the sign class (in-sign or start) against non-sign, over frames with known labels;
- segment_f1_iou50: one-to-one matches with IoU >= 0.5, F1 of matched counts;
- mean_iou: mean over true signs of the best IoU any predicted segment reaches;
- sign_count_abs_err: mean absolute difference of sign counts per clip;
- boundary_f1_2frames: F1 of one-to-one matches between predicted and true boundaries at most 2 frames apart,
  a boundary being the midpoint between one sign's end and the next one's start;
- boundary_err_median_frames: median over true boundaries of the distance to the predicted one: the one of the
  same rank when the clip has as many predicted as true signs (how gloss-guided output is read), else the
  nearest; a clip with true boundaries but no predicted one counts its length for each.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from signeditor.core.segments import UNKNOWN_LABEL, Segment

#: Frames a predicted boundary may be off and still count as found.
BOUNDARY_TOLERANCE = 2.0


def match_segments(predicted: Sequence[Segment], truth: Sequence[Segment], min_iou: float = 0.5) -> int:
    """Number of one-to-one matches with IoU >= ``min_iou`` (greedy by IoU, which is optimal for 1D intervals
    this short in practice and keeps the metric easy to reproduce)."""
    pairs = sorted(
        ((p.iou(t), i, j) for i, p in enumerate(predicted) for j, t in enumerate(truth)), reverse=True
    )
    used_p: set[int] = set()
    used_t: set[int] = set()
    matches = 0
    for iou, i, j in pairs:
        if iou < min_iou:
            break
        if i in used_p or j in used_t:
            continue
        used_p.add(i)
        used_t.add(j)
        matches += 1
    return matches


def sign_boundaries(segments: Sequence[Segment]) -> np.ndarray:
    """Midpoints between consecutive signs (by start): ``(end of one + start of the next) / 2``."""
    ordered = sorted(segments, key=lambda s: s.start)
    return np.array([(a.end + b.start) / 2.0 for a, b in itertools.pairwise(ordered)])


def match_boundaries(predicted: np.ndarray, truth: np.ndarray, tolerance: float) -> int:
    """Most one-to-one matches at most ``tolerance`` frames apart.

    On a line, pairing in order is optimal: the earliest boundary of either side that can still be matched takes
    the earliest partner in reach. (Closest pairs first is not: predicted 2 and 6 against true 0 and 4 paired 2-4
    and left both others alone.)
    """
    p, t = np.sort(np.asarray(predicted, dtype=np.float64)), np.sort(np.asarray(truth, dtype=np.float64))
    i = j = matches = 0
    while i < len(p) and j < len(t):
        if abs(p[i] - t[j]) <= tolerance:
            matches, i, j = matches + 1, i + 1, j + 1
        elif p[i] < t[j]:
            i += 1
        else:
            j += 1
    return matches


def boundary_errors(predicted: np.ndarray, truth: np.ndarray, n_frames: int) -> list[float]:
    """Per true boundary, the distance to its predicted boundary (see the module docstring)."""
    if len(truth) == 0:
        return []
    if len(predicted) == len(truth):
        return [float(e) for e in np.abs(predicted - truth)]
    if len(predicted) == 0:
        return [float(n_frames)] * len(truth)
    return [float(np.min(np.abs(predicted - t))) for t in truth]


def _f1(tp: float, n_pred: float, n_true: float) -> float:
    if n_pred + n_true == 0:
        return 1.0
    return 2.0 * tp / (n_pred + n_true)


def segmentation_scores(
    predicted: Sequence[Sequence[Segment]],
    truth: Sequence[Sequence[Segment]],
    labels: Sequence[np.ndarray] | None = None,
) -> dict[str, float]:
    """Pooled scores over clips; ``labels`` (optional) mark unknown frames (-1) to leave out of frame F1."""
    tp_frames = n_pred_frames = n_true_frames = 0
    matches = n_pred = n_true = 0
    ious: list[float] = []
    count_err: list[int] = []
    boundary_matches = n_pred_boundaries = n_true_boundaries = 0
    errors: list[float] = []
    for k, (pred, true) in enumerate(zip(predicted, truth, strict=True)):
        n_frames = max([s.end for s in (*pred, *true)], default=0)
        if labels is not None:
            n_frames = max(n_frames, len(labels[k]))
        pred_mask = np.zeros(n_frames, bool)
        true_mask = np.zeros(n_frames, bool)
        for s in pred:
            pred_mask[s.start : s.end] = True
        for s in true:
            true_mask[s.start : s.end] = True
        known = np.ones(n_frames, bool)
        if labels is not None:
            known[: len(labels[k])] = np.asarray(labels[k]) != UNKNOWN_LABEL
        tp_frames += int(np.sum(pred_mask & true_mask & known))
        n_pred_frames += int(np.sum(pred_mask & known))
        n_true_frames += int(np.sum(true_mask & known))
        matches += match_segments(pred, true)
        n_pred += len(pred)
        n_true += len(true)
        ious.extend(max((t.iou(p) for p in pred), default=0.0) for t in true)
        count_err.append(abs(len(pred) - len(true)))
        pred_b, true_b = sign_boundaries(pred), sign_boundaries(true)
        boundary_matches += match_boundaries(pred_b, true_b, BOUNDARY_TOLERANCE)
        n_pred_boundaries += len(pred_b)
        n_true_boundaries += len(true_b)
        errors += boundary_errors(pred_b, true_b, n_frames)
    return {
        "frame_f1": _f1(tp_frames, n_pred_frames, n_true_frames),
        "segment_f1_iou50": _f1(matches, n_pred, n_true),
        "segment_precision": matches / n_pred if n_pred else 0.0,
        "segment_recall": matches / n_true if n_true else 0.0,
        "mean_iou": float(np.mean(ious)) if ious else 0.0,
        "sign_count_abs_err": float(np.mean(count_err)) if count_err else 0.0,
        "boundary_f1_2frames": _f1(boundary_matches, n_pred_boundaries, n_true_boundaries),
        "boundary_err_median_frames": float(np.median(errors)) if errors else 0.0,
        "clips": len(count_err),
        "true_signs": n_true,
        "predicted_signs": n_pred,
    }
