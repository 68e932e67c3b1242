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
