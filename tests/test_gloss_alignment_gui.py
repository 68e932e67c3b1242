"""Edit > Align glosses… driven with real mouse and key events: named signs, anchors on them, one undo, saved."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from PySide6 import QtCore, QtWidgets

from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.project import Project
from signeditor.io.project_file import load_project
from signeditor.ml.fast.synthetic import synthetic_motion
from signeditor.ml.fast_tracks.api import load_track_segmenter
from signeditor.ml.fast_tracks.guided import GlossAligner


def _window(make_window: Callable[..., object]) -> object:
    """A window on a synthetic three-sign clip with one anchor of the user's own (not placed on a sign)."""
    motion, _ = synthetic_motion(np.random.default_rng(3), 3)
    own = Anchor(1, motion.features[1].copy(), label="my start")
    win = make_window(Project(motion=motion, anchors=AnchorSet([own])))
    # fast_tracks only (numpy): the shipped FAST would load torch for nothing in this test.
    win.gloss_alignment.factory = lambda: GlossAligner(None, load_track_segmenter(), "tracks")
    return win


def _open_dialog_from_edit_menu(qtbot: object, win: object) -> QtWidgets.QDialog:
    bar = win.menuBar()
    edit = next(a for a in bar.actions() if a.text() == "&Edit")
    qtbot.mouseClick(bar, QtCore.Qt.MouseButton.LeftButton, pos=bar.actionGeometry(edit).center())
    menu = edit.menu()
    qtbot.waitUntil(menu.isVisible, timeout=3000)
    qtbot.mouseClick(menu, QtCore.Qt.MouseButton.LeftButton,
                     pos=menu.actionGeometry(win.gloss_alignment.action).center())
    qtbot.waitUntil(lambda: win.gloss_alignment.dialog is not None and win.gloss_alignment.dialog.isVisible(),
                    timeout=3000)
    return win.gloss_alignment.dialog


def test_align_glosses_names_the_signs_moves_anchors_and_is_one_undo(
    qtbot: object, make_window: Callable[..., object], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    win = _window(make_window)
    before = list(win.document.project.segments)
    dialog = _open_dialog_from_edit_menu(qtbot, win)
    qtbot.keyClicks(dialog.text, "HOUSE TREE CAR")
    qtbot.keyClick(dialog.text, QtCore.Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: win.document.undo_stack.count() == 1, timeout=10000)

    signs = sorted(win.document.project.segments, key=lambda s: s.start)
    assert [s.gloss for s in signs] == ["HOUSE", "TREE", "CAR"]
    assert all(a.end <= b.start for a, b in itertools.pairwise(signs))
    frames = {a.label: a.frame for a in win.document.anchors}
    for sign in signs:  # the sign anchors sit on the new signs, posed as the motion is there
        assert frames[f"{sign.gloss} onset"] == sign.start
        assert frames[f"{sign.gloss} offset"] == sign.end - 1
    if 1 not in {s.start for s in signs}:
        assert frames["my start"] == 1  # the user's own anchor stays

    path = tmp_path / "aligned.signproj"
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName", lambda *a, **k: (str(path), ""))
    win.activateWindow()
    qtbot.keyClick(win, QtCore.Qt.Key.Key_S, QtCore.Qt.KeyboardModifier.ControlModifier)
    if not path.exists():  # offscreen platforms may not route shortcuts to an inactive window
        win.actions["save"].trigger()
    saved = load_project(path)
    assert [s.gloss for s in sorted(saved.segments, key=lambda s: s.start)] == ["HOUSE", "TREE", "CAR"]
    assert {a.label for a in saved.anchors} >= {"HOUSE onset", "TREE middle", "CAR offset"}

    win.undo_action.trigger()
    assert win.document.project.segments == before
    assert [a.label for a in win.document.anchors] == ["my start"]


def test_bad_gloss_lists_change_nothing(qtbot: object, make_window: Callable[..., object], tmp_path: Path,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    win = _window(make_window)
    n_frames = win.document.n_frames
    anchors_before = [a.label for a in win.document.anchors]

    # A list that cannot be aligned: said in the dialog, which stays open with what was typed.
    dialog = _open_dialog_from_edit_menu(qtbot, win)
    qtbot.keyClick(dialog.text, QtCore.Qt.Key.Key_Return)  # nothing typed
    assert dialog.isVisible() and "empty" in dialog.problem.text()

    too_many = " ".join(f"G{i}" for i in range(n_frames + 1))
    qtbot.keyClicks(dialog.text, too_many)
    qtbot.keyClick(dialog.text, QtCore.Qt.Key.Key_Return)
    assert dialog.isVisible() and f"only {n_frames} frames" in dialog.problem.text()
    assert dialog.text.text() == too_many
    qtbot.keyClick(dialog.text, QtCore.Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=3000)

    # An ELAN file without a gloss tier: said in the dialog, the typed list stays.
    from signeditor.core.segments import Segment
    from signeditor.io.elan import write_elan

    eaf = tmp_path / "no_gloss.eaf"
    write_elan([Segment(0, 5)], 25.0, eaf)
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName", lambda *a, **k: (str(eaf), ""))
    dialog = _open_dialog_from_edit_menu(qtbot, win)
    qtbot.keyClicks(dialog.text, "A B")
    qtbot.mouseClick(dialog.from_elan, QtCore.Qt.MouseButton.LeftButton)
    assert "no gloss tier" in dialog.problem.text() and "no_gloss.eaf" in dialog.problem.text()
    assert dialog.text.text() == "A B"
    qtbot.keyClick(dialog.text, QtCore.Qt.Key.Key_Escape)

    assert win.document.undo_stack.count() == 0
    assert win.document.project.segments == []
    assert [a.label for a in win.document.anchors] == anchors_before
