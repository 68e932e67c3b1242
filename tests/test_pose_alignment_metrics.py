"""DTW-JPE and DTW-PA-JPE (the paper's protocol) on hand-made motions whose answers are known by construction."""

from __future__ import annotations

import numpy as np
import pytest

from signeditor.core.skeleton import JOINT_INDEX, JOINT_NAMES
from signeditor.evaluation.kf2p import method_ratios
from signeditor.evaluation.pose_alignment_metrics import (
    dtw_mean_cost,
    paper_metrics,
    procrustes_cost,
    translation_cost,
)


def _positions(n_frames: int, seed: int = 0) -> np.ndarray:
    """Smoothly moving random points for every skeleton joint, (T, J, 3)."""
    rng = np.random.default_rng(seed)
    rest = rng.normal(size=(len(JOINT_NAMES), 3))
    t = np.linspace(0, 1, n_frames)[:, None, None]
    return rest[None] + np.sin(2 * np.pi * t * rng.uniform(0.5, 2, size=(1, len(JOINT_NAMES), 3)))


def test_dtw_follows_the_cheapest_path_and_averages_along_it() -> None:
    assert dtw_mean_cost(np.array([[1.0, 5.0], [5.0, 1.0]])) == pytest.approx(1.0)  # the diagonal
    assert dtw_mean_cost(np.array([[1.0, 2.0, 3.0]])) == pytest.approx(2.0)  # one frame against three
    # Cheapest path (0,0) -> (0,1) -> (1,2) -> (2,2): costs 0, 0, 0, 3 over 4 steps.
    cost = np.array([[0.0, 0.0, 9.0], [9.0, 9.0, 0.0], [9.0, 9.0, 3.0]])
    assert dtw_mean_cost(cost) == pytest.approx(3.0 / 4)


def test_dtw_matches_a_plain_double_loop_on_random_costs() -> None:
    cost = np.random.default_rng(1).uniform(size=(13, 9))
    acc = np.full((14, 10), np.inf)
    length = np.zeros((14, 10))
    acc[0, 0] = 0
    for i in range(1, 14):
        for j in range(1, 10):
            prev = min(((i - 1, j - 1), (i - 1, j), (i, j - 1)), key=lambda ij: acc[ij])
            acc[i, j] = cost[i - 1, j - 1] + acc[prev]
            length[i, j] = length[prev] + 1
    assert dtw_mean_cost(cost) == pytest.approx(acc[13, 9] / length[13, 9])


def test_procrustes_removes_rotation_scale_and_translation_but_not_shape() -> None:
    real = np.random.default_rng(2).normal(size=(1, 21, 3))
    angle = 0.7
    rot = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]])
    moved = 1.8 * real @ rot.T + np.array([3.0, -1.0, 2.0])
    assert procrustes_cost(moved, real)[0, 0] == pytest.approx(0.0, abs=1e-9)
    assert translation_cost(moved, real)[0, 0] > 0.5
    # A mirror image is a different shape: Procrustes must not reflect it away.
    assert procrustes_cost(real * np.array([1.0, 1.0, -1.0]), real)[0, 0] > 0.1


def test_procrustes_error_of_a_known_shape_change() -> None:
    # A planar cross whose arms are lifted +h / -h out of the plane: the best similarity is the identity scaled by
    # 1 / (1 + h^2), leaving every point h / sqrt(1 + h^2) away.
    h = 1.0
    real = np.array([[[1.0, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0]]])
    pred = real + np.array([[[0, 0, h], [0, 0, h], [0, 0, -h], [0, 0, -h]]])
    assert procrustes_cost(pred, real)[0, 0] == pytest.approx(h / np.sqrt(1 + h**2))
    assert translation_cost(pred, real)[0, 0] == pytest.approx(h)


def test_paper_metrics_ignore_translation_and_timing() -> None:
    real = _positions(40)
    shifted = real + np.linspace(0, 2, 40)[:, None, None]  # the whole skeleton wanders: rooted metrics see nothing
    for value in paper_metrics(shifted, real).values():
        assert value == pytest.approx(0.0, abs=1e-9)
    slowed = np.concatenate([real[:10], np.repeat(real[10:11], 5, axis=0), real[10:]])  # a 5-frame hold
    for value in paper_metrics(slowed, real).values():
        assert value == pytest.approx(0.0, abs=1e-9)


def test_hand_error_is_measured_on_each_wrist_and_averaged_over_hands() -> None:
    real = _positions(30)
    pred = real.copy()
    pred[:, JOINT_INDEX["R_IndexTip"], 0] += 0.21  # one of the right hand's 21 points off by 0.21
    metrics = paper_metrics(pred, real)
    assert metrics["dtw_jpe_hands"] == pytest.approx(0.21 / 21 / 2)
    assert metrics["dtw_jpe_body"] == pytest.approx(0.0, abs=1e-12)
    assert metrics["dtw_pa_jpe_hands"] > 0.001  # a shape change: alignment cannot remove it
    # A whole arm swung about the neck moves every hand point, but not relative to its wrist.
    arm = real.copy()
    for name in JOINT_NAMES:
        if name.startswith("R_") and name not in ("R_Collar", "R_Shoulder"):
            arm[:, JOINT_INDEX[name]] += np.array([0.0, 0.3, 0.0])
    metrics = paper_metrics(arm, real)
    assert metrics["dtw_jpe_hands"] == pytest.approx(0.0, abs=1e-12)
    assert metrics["dtw_jpe_body"] == pytest.approx(0.3 * 2 / 8)  # R_Elbow and R_Wrist of the 8 body points


def test_ratios_and_reductions_against_the_interpolators() -> None:
    keys = ("mpjpe_hands", "mpjpe_body", "dtw_jpe_hands", "dtw_jpe_body", "dtw_pa_jpe_hands", "dtw_pa_jpe_body")
    result = {f"{m}_{k}": v for k in keys for m, v in (("kf2p", 0.6), ("slerp", 1.0), ("cubic", 0.8))}
    ratios = method_ratios(result)
    assert ratios["dtw_jpe_hands_ratio_kf2p_to_slerp"] == pytest.approx(0.6)
    assert ratios["dtw_jpe_body_reduction_vs_slerp"] == pytest.approx(0.4)
    assert ratios["mpjpe_hands_reduction_vs_cubic"] == pytest.approx(0.25)
