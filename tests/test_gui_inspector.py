"""The inspector in a translator's terms (issue #19): joints by hand and finger with plain names, curl / spread /
twist controls within joint limits with number fields, controls that follow the shown frame, a roomy handshape
grid."""

from __future__ import annotations

import numpy as np
import pytest
from gui_helpers import small_project
from PySide6 import QtCore, QtGui

from signeditor.core import rotations
from signeditor.core.kinematics import forward_kinematics
from signeditor.core.skeleton import JOINT_INDEX, ROTATING_JOINTS
from signeditor.gui.joint_controls import angles_of, joint_controls
from signeditor.gui.main_window import MainWindow

LEFT = QtCore.Qt.MouseButton.LeftButton


@pytest.fixture
def window(make_window) -> MainWindow:
    project, special = small_project()
    project.signed_language = "sgg"
    win = make_window(project)
    win.special = special
    return win


def tree_texts(item) -> list[str]:
    return [item.child(i).text(0) for i in range(item.childCount())]


def click_item(qtbot, tree, item) -> None:
    tree.scrollToItem(item)
    qtbot.mouseClick(tree.viewport(), LEFT, pos=tree.visualItemRect(item).center())


def test_joints_are_grouped_by_hand_and_finger_with_plain_names(window: MainWindow) -> None:
    tree = window.inspector.joints
    groups = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
    assert [g.text(0) for g in groups] == ["Head and neck", "Right arm", "Right hand", "Left arm", "Left hand"]
    right_hand = groups[2]
    assert tree_texts(right_hand) == ["Thumb", "Index finger", "Middle finger", "Ring finger", "Little finger"]
    assert all(tree_texts(right_hand.child(i)) == ["Base joint", "Middle joint", "Tip joint"] for i in range(5))
    assert tree_texts(groups[1]) == ["Collarbone", "Shoulder", "Elbow", "Wrist"]
    shown = all_texts(tree.invisibleRootItem())
    assert len(shown) > 41 and not any("_" in text for text in shown), "no technical joint names"


def all_texts(item) -> list[str]:
    return [t for i in range(item.childCount()) for t in (item.child(i).text(0), *all_texts(item.child(i)))]


def test_curl_control_within_limits_closes_the_finger_towards_the_palm(qtbot, window: MainWindow) -> None:
    win, special = window, window.special
    win.timeline.select([special.id])
    inspector = win.inspector
    right_hand = inspector.joints.topLevelItem(2)
    right_hand.setExpanded(True)
    index = right_hand.child(1)
    index.setExpanded(True)
    click_item(qtbot, inspector.joints, index.child(0))
    assert inspector.joint == "R_Index1"
    assert [label.text() for label in inspector.control_labels] == ["Curl", "Spread", "Twist"]
    curl_slider, curl_box = inspector.sliders[0], inspector.spin_boxes[0]
    assert (curl_slider.minimum(), curl_slider.maximum()) == (-20, 90), "the finger's limits, not -180..180"
    assert curl_box.isEnabled() and curl_box.value() == curl_slider.value() == 0

    def palm_side(pose: np.ndarray) -> float:
        """How far the index tip lies on the palm side of the hand (wrist frame; palm faces -y at rest)."""
        positions, world = forward_kinematics(pose[None], with_rotations=True)
        wrist = JOINT_INDEX["R_Wrist"]
        offset = world[0, wrist].T @ (positions[0, JOINT_INDEX["R_IndexTip"]] - positions[0, wrist])
        return float(-offset[1])

    before = palm_side(special.pose)
    curl_box.selectAll()
    qtbot.keyClicks(curl_box, "45")
    qtbot.keyClick(curl_box, QtCore.Qt.Key.Key_Return)
    assert curl_slider.value() == 45, "the slider follows the number field"
    pose = win.document.anchors.by_id(special.id).pose
    j = ROTATING_JOINTS.index("R_Index1")
    angles = angles_of(joint_controls()["R_Index1"], rotations.rot6d_to_matrix(pose[6 * j : 6 * j + 6]))
    np.testing.assert_allclose(angles, [45, 0, 0], atol=0.5)
    assert palm_side(pose) > before + 0.02, "curling moves the fingertip towards the palm"
    assert win.document.undo_stack.undoText()  # one undoable edit
    curl_box.selectAll()
    qtbot.keyClicks(curl_box, "150")
    qtbot.keyClick(curl_box, QtCore.Qt.Key.Key_Return)
    assert curl_slider.value() <= 90, "typed values stay within the joint's limits"


def test_without_a_selection_the_controls_show_the_frame_on_screen(window: MainWindow) -> None:
    """Issue #23: with no anchor selected the inspector follows the shown frame (not a stale anchor, not blank)."""
    win = window
    win.timeline.select([win.special.id])
    win.inspector.select_joint("R_Elbow")
    win.timeline.select([])
    win.seek(5)  # before the special anchor: the hold regenerator shows rest there
    rest_value = win.inspector.sliders[0].value()
    win.seek(40)  # after it: the special pose is held
    j = ROTATING_JOINTS.index("R_Elbow")
    expected = angles_of(joint_controls()["R_Elbow"],
                         rotations.rot6d_to_matrix(win.document.motion.features[40][6 * j:6 * j + 6]))
    for slider, box, value in zip(win.inspector.sliders, win.inspector.spin_boxes, expected, strict=True):
        assert slider.isEnabled() and box.isEnabled()
        assert slider.value() == round(float(value))
    assert win.inspector.sliders[0].value() != rest_value
    assert "no anchor" in win.inspector.title.text()
    palette = win.inspector.sliders[0].palette()
    group, role = QtGui.QPalette.ColorGroup, QtGui.QPalette.ColorRole
    assert palette.color(group.Disabled, role.Highlight) != palette.color(group.Active, role.Highlight)
    assert palette.color(group.Disabled, role.Text) != palette.color(group.Active, role.Text)


def test_handshape_grid_shows_several_rows_and_full_language_names(qtbot, window: MainWindow) -> None:
    inspector = window.inspector
    inspector.tabs.setCurrentIndex(1)
    qtbot.wait(50)
    grid = inspector.handshape_list
    assert grid.viewport().height() // grid.gridSize().height() >= 3
    combo = inspector.handshape_language
    assert combo.currentText() == "Swiss-German Sign Language (DSGS) (sgg)"
    assert combo.width() >= combo.fontMetrics().horizontalAdvance(combo.currentText())
