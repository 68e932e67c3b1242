"""Live regeneration under load: 1,000 random edits through the real undo stack, faster than the model keeps up."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from needs import missing

from signeditor.gui.edit_stress import HoldPoses, hold_features, run_edit_stress, stress_project


@pytest.fixture(autouse=True)
def private_recovery_file(monkeypatch, tmp_path: Path) -> None:
    """Closing a window deletes the recovery file: keep the user's real one out of reach."""
    from signeditor.gui import main_window

    monkeypatch.setattr(main_window, "recovery_path", lambda: tmp_path / "recovery.signproj")


@pytest.fixture
def window(make_window):
    win = make_window(stress_project(), regenerate=HoldPoses(delay_s=0.004), show=False)
    yield win
    win.regenerator.shutdown()


def test_thousand_random_edits_end_in_the_fresh_motion(window):
    report = run_edit_stress(window, 1000, seed=3)
    assert report.edits == 1000
    assert {"drag", "insert", "delete", "undo", "redo", "rotate joint"} <= set(report.kinds)
    assert not report.exceptions, report.exceptions[0]
    assert report.stale_applied == 0
    assert report.dropped_results > 0, "edits really outran the model (some results arrived stale)"
    assert report.regenerations < report.edits, "requests were coalesced, not queued one per edit"
    assert report.max_abs_error == 0.0, "the final motion is exactly a fresh regeneration of the final anchors"
    assert report.anchor_error == 0.0
    assert report.rss_growth_mb < 100


def test_undo_of_an_edit_made_mid_regeneration_ends_fresh(qtbot, window):
    """The undo command stores the motion from when it was created, which may predate the last regeneration."""
    from signeditor.gui import commands

    doc = window.document
    window.regenerator._regenerate_fn.delay_s = 0.2
    first, second = list(doc.anchors)[1], list(doc.anchors)[3]
    window.push(commands.move_anchors(doc, (first.id,), 9))  # regeneration 1 starts
    window.push(commands.move_anchors(doc, (second.id,), -7))  # stores the motion before regeneration 1 landed
    doc.undo_stack.undo()  # restores that motion: it does not show the first move
    qtbot.waitUntil(lambda: not window.regenerator.busy, timeout=10_000)
    qtbot.wait(50)
    qtbot.waitUntil(lambda: not window.regenerator.busy, timeout=10_000)
    np.testing.assert_array_equal(doc.motion.features, hold_features(doc.n_frames, doc.anchors))


@pytest.mark.slow
def test_random_edits_with_the_real_kf2p_model(qtbot, make_window):
    """The learned model (fast enough on CPU): no stale result, no exception, every anchor pose on its frame."""
    import torch

    from signeditor.gui.regeneration import ModelRegenerate

    torch.set_num_threads(1)
    regenerate = ModelRegenerate(device="cpu")
    regenerate.warm_up()
    if regenerate.backend == "interpolation":
        missing(f"KF2P weights unavailable: {regenerate.load_error}")
    win = make_window(stress_project(), regenerate=regenerate, show=False)
    try:
        report = run_edit_stress(win, 1000, seed=5, settle_timeout_s=120)
    finally:
        win.regenerator.shutdown()
    assert not report.exceptions, report.exceptions[0]
    # Newer requests won: superseded jobs were stopped between sampler steps or their results dropped.
    assert report.stale_applied == 0 and report.dropped_results + report.stopped_jobs > 0
    assert report.anchor_error < 1e-5, "anchored poses survive windowed regeneration"
    assert np.all(np.isfinite(win.document.motion.features))
