"""``signeditor generate`` regenerates a project's motion from its anchors and records the model version."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from signeditor.cli import main
from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.motion import Motion
from signeditor.core.project import Project
from signeditor.io.project_file import load_project, save_project
from signeditor.ml.kf2p.checkpoint import save_checkpoint
from signeditor.ml.kf2p.model import KF2PConfig, KF2PNet
from signeditor.ml.kf2p.representation import Normaliser
from signeditor.ml.kf2p.synthetic import synthetic_clip


def test_generate_project_keeps_anchors_and_records_version(tmp_path: Path) -> None:
    torch.manual_seed(0)
    net = KF2PNet(KF2PConfig(channels=(16, 24, 32), cond_dim=32, text_dim=16))
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.05 * torch.randn_like(p))
    weights = tmp_path / "kf2p.pt"
    save_checkpoint(weights, net, Normaliser.identity(), [], {"run_id": "cli"})
    features, _ = synthetic_clip(np.random.default_rng(0), 50)
    anchors = AnchorSet(Anchor(f, features[f]) for f in (0, 20, 49))
    source = tmp_path / "in.signproj"
    save_project(Project(motion=Motion.rest(50), anchors=anchors, text="HALLO"), source)
    out = tmp_path / "out.signproj"
    assert main(["generate", str(source), "-o", str(out), "--steps", "2", "--weights", str(weights)]) == 0
    project = load_project(out)
    assert project.model_versions["kf2p"] == "2.cli"
    for anchor in project.anchors:
        np.testing.assert_array_equal(project.motion.features[anchor.frame], anchor.pose)
    assert np.abs(project.motion.features[10] - Motion.rest(1).features[0]).max() > 1e-3


def test_generate_rejects_other_inputs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "notes.txt"
    bad.write_text("x")
    assert main(["generate", str(bad), "-o", str(tmp_path / "o.signproj")]) == 2
    assert "notes.txt" in capsys.readouterr().err


def test_eval_kf2p_reports_the_paper_metrics_base_and_ratios(tmp_path: Path, make_pose_file: object,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    import json

    torch.manual_seed(0)
    weights = tmp_path / "kf2p.pt"
    save_checkpoint(weights, KF2PNet(KF2PConfig(channels=(16, 24, 32), cond_dim=32, text_dim=16)),
                    Normaliser.identity(), [], {"run_id": "eval", "noise_scale": 0.0})
    for seed in (0, 1):
        make_pose_file(f"clip{seed}.pose", n_frames=60, seed=seed, folder=tmp_path / "clips")  # type: ignore[operator]
    args = ["eval", "kf2p", "--data", str(tmp_path / "clips"), "--weights", str(weights), "--keyframes", "labels",
            "--steps", "1", "--json"]
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["clips"] == 2 and result["keyframe_source"] == {"every_n": 2}
    for method in ("kf2p", "base", "slerp", "cubic"):
        for part in ("hands", "body"):
            assert result[f"{method}_dtw_jpe_{part}"] > 0 and result[f"{method}_dtw_pa_jpe_{part}"] > 0
    # An untrained net adds no residual (AdaLN-zero): the full model is its base spline, to the digit.
    assert result["kf2p_mpjpe_hands"] == pytest.approx(result["base_mpjpe_hands"], rel=1e-5)
    assert result["dtw_jpe_hands_ratio_kf2p_to_slerp"] == pytest.approx(
        result["kf2p_dtw_jpe_hands"] / result["slerp_dtw_jpe_hands"])
    assert set(result["dtw_jpe_body_by_group"]["pose files"]) == {"clips", "kf2p", "base", "slerp", "cubic"}
