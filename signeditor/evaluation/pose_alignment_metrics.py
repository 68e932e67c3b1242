"""The SignSparK / SOKE motion metrics: DTW-JPE and DTW-PA-JPE, body and hands separately.

Both compare a generated and a real point sequence that may differ in timing: a per-frame-pair cost (mean joint
position error after aligning each frame) is accumulated along the dynamic-time-warping path and divided by the
path's length, so the value is a mean per-frame error in the positions' unit.

- **JPE** aligns translation only: the body on its root joint (the neck: signing corpora carry no pelvis motion),
  each hand on its own wrist (the wrist and its 20 finger points, fingertips included: 21 points per hand).
- **PA-JPE** aligns each frame pair by Procrustes (rotation, uniform scale, translation) before measuring, so it
  scores the shape of the pose (hand shape, arm configuration) independently of where and how it is held.

Hands: the two hands are aligned separately and their costs averaged into one cost matrix, so both hands share one
warping path. Pure numpy; the DTW runs along anti-diagonals (one vector step per diagonal).
"""

from __future__ import annotations

import numpy as np

from signeditor.core.skeleton import BODY_POINT_INDICES, FINGERS, HAND_JOINT_SUFFIXES, JOINT_INDEX

BODY_ROOT = JOINT_INDEX["Neck"]
BODY_POINTS = np.array(BODY_POINT_INDICES)
#: Per hand: the wrist first (the alignment root), then its 15 joints and 5 fingertips.
HAND_POINTS = {side: np.array([JOINT_INDEX[f"{side}_Wrist"], *(JOINT_INDEX[f"{side}_{s}"] for s in HAND_JOINT_SUFFIXES),
                               *(JOINT_INDEX[f"{side}_{f}Tip"] for f in FINGERS)]) for side in "LR"}


def dtw_mean_cost(cost: np.ndarray) -> float:
    """Mean cost along the minimum-total-cost monotone path from (0, 0) to (n-1, m-1) (steps right, down, diagonal).

    Ties between predecessors go to the diagonal, then the vertical, then the horizontal step.
    """
    n, m = cost.shape
    if n == 0 or m == 0:
        raise ValueError("DTW needs two non-empty sequences")
    acc = np.full((n + 1, m + 1), np.inf)
    length = np.zeros((n + 1, m + 1))
    acc[0, 0] = 0.0
    for d in range(2, n + m + 1):  # cell (i, j) with i + j = d, 1-based
        i = np.arange(max(1, d - m), min(n, d - 1) + 1)
        j = d - i
        options = np.stack([acc[i - 1, j - 1], acc[i - 1, j], acc[i, j - 1]])
        lengths = np.stack([length[i - 1, j - 1], length[i - 1, j], length[i, j - 1]])
        best = np.argmin(options, axis=0)
        cols = np.arange(len(i))
        acc[i, j] = cost[i - 1, j - 1] + options[best, cols]
        length[i, j] = lengths[best, cols] + 1
    return float(acc[n, m] / length[n, m])


def translation_cost(pred: np.ndarray, real: np.ndarray) -> np.ndarray:
    """(n, m) mean point distance between every pred frame and every real frame; points (T, P, 3) already rooted."""
    return np.linalg.norm(pred[:, None] - real[None], axis=-1).mean(-1)


def procrustes_cost(pred: np.ndarray, real: np.ndarray, block: int = 64) -> np.ndarray:
    """(n, m) mean point distance after the best similarity transform of each pred frame onto each real frame.

    Computed in blocks of ``block`` pred frames so memory stays bounded on long clips.
    """
    p = pred - pred.mean(1, keepdims=True)
    r = real - real.mean(1, keepdims=True)
    return np.concatenate([_procrustes_block(p[i : i + block], r) for i in range(0, len(p), block)])


def _procrustes_block(p: np.ndarray, r: np.ndarray) -> np.ndarray:
    cross = np.einsum("ipa,jpb->ijab", p, r)  # (n, m, 3, 3): sum over points of p r^T
    u, s, vt = np.linalg.svd(cross)
    sign = np.sign(np.linalg.det(u @ vt))  # no reflections
    s[..., -1] *= sign
    u[..., :, -1] *= sign[..., None]
    rot = np.swapaxes(u @ vt, -1, -2)  # maps p onto r: r ~ scale * rot @ p
    scale = s.sum(-1) / np.maximum((p**2).sum((1, 2)), 1e-12)[:, None]
    aligned = scale[..., None, None] * np.einsum("ijab,ipb->ijpa", rot, p)
    return np.linalg.norm(aligned - r[None], axis=-1).mean(-1)


def _rooted(points: np.ndarray, indices: np.ndarray, root: int) -> np.ndarray:
    return points[:, indices] - points[:, root : root + 1]


def body_cost(pred: np.ndarray, real: np.ndarray, procrustes: bool) -> np.ndarray:
    """Frame-pair cost of the upper body, positions (T, J, 3) from forward kinematics."""
    p, r = _rooted(pred, BODY_POINTS, BODY_ROOT), _rooted(real, BODY_POINTS, BODY_ROOT)
    return procrustes_cost(p, r) if procrustes else translation_cost(p, r)


def hands_cost(pred: np.ndarray, real: np.ndarray, procrustes: bool) -> np.ndarray:
    """Frame-pair cost of the two hands, each on its own wrist, averaged."""
    costs = []
    for side, points in HAND_POINTS.items():
        wrist = JOINT_INDEX[f"{side}_Wrist"]
        p, r = _rooted(pred, points, wrist), _rooted(real, points, wrist)
        costs.append(procrustes_cost(p, r) if procrustes else translation_cost(p, r))
    return np.mean(costs, axis=0)


def paper_metrics(pred: np.ndarray, real: np.ndarray) -> dict[str, float]:
    """DTW-JPE and DTW-PA-JPE for body and hands; positions (T, J, 3) in any one unit (the result is in it)."""
    return {
        "dtw_jpe_body": dtw_mean_cost(body_cost(pred, real, False)),
        "dtw_jpe_hands": dtw_mean_cost(hands_cost(pred, real, False)),
        "dtw_pa_jpe_body": dtw_mean_cost(body_cost(pred, real, True)),
        "dtw_pa_jpe_hands": dtw_mean_cost(hands_cost(pred, real, True)),
    }
