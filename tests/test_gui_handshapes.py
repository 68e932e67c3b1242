"""Handshapes and multi-anchor edits through the real inspector: one undo step, regeneration, undo restores."""

from __future__ import annotations

import numpy as np
import pytest
from gui_helpers import small_project
from PySide6 import QtCore

from signeditor.core.motion import STREAM_SLICES, hand_pose_mirrored
from signeditor.core.skeleton import ROTATING_JOINTS

RIGHT, LEFT = STREAM_SLICES["right_hand"], STREAM_SLICES["left_hand"]


@pytest.fixture
def window(make_window):
    project, special = small_project()
    project.signed_language = "ase"
    win = make_window(project)
    win.special = special
    yield win
    win.close()


def settle(qtbot, win) -> None:
    qtbot.waitUntil(lambda: not win.regenerator.busy, timeout=3000)


def test_applying_a_handshape_sets_the_hand_regenerates_and_undo_restores(qtbot, window):
    win, special = window, window.special
    settle(qtbot, win)
    inspector = win.inspector
    assert inspector.handshape_language.currentData() == "ase", "the project's signed language is preselected"
    win.timeline.select([special.id])
    assert inspector.select_handshape("V")
    inspector.set_hand("right")
    before = win.document.anchors.by_id(special.id).pose.copy()
    count = win.document.undo_stack.count()
    qtbot.mouseClick(inspector.handshape_apply, QtCore.Qt.MouseButton.LeftButton)
    assert win.document.undo_stack.count() == count + 1, "one handshape is one undo step"
    library_pose = inspector.library.get("ase", "V").dominant
    edited = win.document.anchors.by_id(special.id).pose
    np.testing.assert_allclose(edited[RIGHT], library_pose, atol=1e-6)
    np.testing.assert_array_equal(edited[LEFT], before[LEFT])
    settle(qtbot, win)
    np.testing.assert_allclose(win.document.motion.features[special.frame][RIGHT], library_pose, atol=1e-6,
                               err_msg="regeneration puts the new handshape into the motion")

    win.undo_action.trigger()
    np.testing.assert_array_equal(win.document.anchors.by_id(special.id).pose, before)
    np.testing.assert_allclose(win.document.motion.features[special.frame], before, atol=1e-6)


def test_left_hand_gets_the_mirrored_shape_on_every_selected_anchor(qtbot, window):
    win = window
    settle(qtbot, win)
    ids = tuple(a.id for a in win.document.anchors)[:2]
    win.timeline.select(list(ids))
    assert win.inspector.select_handshape("Y")
    assert win.inspector.handshape_apply.isEnabled()
    win.inspector.set_hand("left")
    count = win.document.undo_stack.count()
    win.inspector.apply_selected_handshape()
    assert win.document.undo_stack.count() == count + 1
    expected = hand_pose_mirrored(win.inspector.library.get("ase", "Y").dominant)
    for anchor_id in ids:
        np.testing.assert_allclose(win.document.anchors.by_id(anchor_id).pose[LEFT], expected, atol=1e-6)
    win.undo_action.trigger()
    assert not any(np.allclose(win.document.anchors.by_id(i).pose[LEFT], expected, atol=1e-3) for i in ids)


def test_rotation_slider_edits_all_selected_anchors_in_one_step(qtbot, window):
    win = window
    settle(qtbot, win)
    ids = tuple(a.id for a in win.document.anchors)
    before = {i: win.document.anchors.by_id(i).pose.copy() for i in ids}
    win.timeline.select(list(ids))
    assert str(len(ids)) in win.inspector.title.text()
    wrist_index = ROTATING_JOINTS.index("R_Wrist")
    win.inspector.select_joint("R_Wrist")
    count = win.document.undo_stack.count()
    for value in (15, 30):
        win.inspector.sliders[1].setValue(value)
    assert win.document.undo_stack.count() == count + 1
    wrist = slice(6 * wrist_index, 6 * wrist_index + 6)
    edited = [win.document.anchors.by_id(i).pose[wrist] for i in ids]
    for pose in edited[1:]:
        np.testing.assert_allclose(pose, edited[0], atol=1e-6)
    assert not np.allclose(edited[0], before[ids[0]][wrist], atol=1e-3)
    win.undo_action.trigger()
    for i in ids:
        np.testing.assert_array_equal(win.document.anchors.by_id(i).pose, before[i])
