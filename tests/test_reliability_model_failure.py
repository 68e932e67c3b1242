"""KF2P weights missing, corrupt or of the wrong version: the editor opens, says so, and interpolates instead."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.interpolation import interpolate_between_anchors
from signeditor.core.motion import Motion
from signeditor.core.project import Project
from signeditor.gui import commands, main_window
from signeditor.gui.edit_stress import random_pose
from signeditor.gui.regeneration import WEIGHTS_ENV


def _missing(path: Path) -> str:
    del path
    return "not found"


def _corrupt(path: Path) -> str:
    path.write_bytes(b"PK\x03\x04 this is not a torch checkpoint" * 10)
    return "not a loadable"


def _wrong_version(path: Path) -> str:
    from signeditor.ml.kf2p.checkpoint import CHECKPOINT_FORMAT

    torch.save({"format": CHECKPOINT_FORMAT, "format_version": 1}, path)
    return "version 1"


@pytest.mark.parametrize("make_weights", [_missing, _corrupt, _wrong_version], ids=["missing", "corrupt", "version"])
def test_editor_opens_explains_and_falls_back_to_cubic(qtbot, tmp_path: Path, monkeypatch, make_weights,
                                                        make_window):
    weights = tmp_path / "kf2p.pt"
    expected = make_weights(weights)
    monkeypatch.setenv(WEIGHTS_ENV, str(weights))
    monkeypatch.setattr(main_window, "recovery_path", lambda: tmp_path / "recovery.signproj")
    rng = np.random.default_rng(0)
    motion = Motion.rest(60)
    project = Project(motion, AnchorSet([Anchor(5, random_pose(rng)), Anchor(30, random_pose(rng)),
                                         Anchor(55, random_pose(rng))]))
    window = make_window(project, regenerate=None)  # the window's own KF2P regenerator
    try:
        qtbot.waitUntil(lambda: window.regenerator.model_error != "", timeout=20_000)
        label = window.status_regen.text()
        assert "interpolation" in label and "kf2p.pt" in label and expected in label
        box = window.model_problem_box
        assert box.isVisible() and not box.isModal(), "the warning does not block editing"
        # Editing still works: moving the middle anchor regenerates by cubic interpolation.
        doc = window.document
        middle = doc.anchors[1]
        window.push(commands.move_anchors(doc, (middle.id,), 5))
        qtbot.waitUntil(lambda: not window.regenerator.busy, timeout=10_000)
        cubic = interpolate_between_anchors(doc.n_frames, doc.anchors, method="cubic", fps=doc.motion.fps)
        np.testing.assert_allclose(doc.motion.features[10:50], cubic[10:50], atol=1e-5)
        assert np.abs(doc.motion.features[20] - motion.features[20]).max() > 1e-3, "frames really changed"
    finally:
        window.regenerator.shutdown()
