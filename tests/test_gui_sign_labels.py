"""Signs you can read on the timeline (issue #23): named by gloss, else numbered with hand shape and place; names
never overlap; a selected sign is outlined, so its review colour still shows."""

from __future__ import annotations

import itertools

import numpy as np
from gui_helpers import send_mouse, view_point
from PySide6 import QtCore, QtGui

from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.handshapes import load_handshape_library
from signeditor.core.motion import STREAM_SLICES, Motion
from signeditor.core.project import Project
from signeditor.core.segments import Segment


def visible_labels(win) -> list[tuple[str, QtCore.QRectF]]:
    return [(item.toPlainText() if hasattr(item, "toPlainText") else item.textItem.toPlainText(),
             item.sceneBoundingRect()) for item in win.timeline.sign_label_items if item.isVisible()]


def test_signs_named_by_gloss_else_by_number_hand_shape_and_place(qtbot, make_window) -> None:
    library = load_handshape_library()
    motion = Motion.rest(60)
    for letter, (lo, hi) in (("B", (20, 40)), ("A", (40, 60))):  # the T-pose's hands: out to the side, chest high
        motion.features[lo:hi, STREAM_SLICES["right_hand"]] = library.get("ase", letter).dominant
    segments = [Segment(0, 20, "HOUSE"), Segment(20, 40, ""), Segment(40, 60, "SIGN3")]
    project = Project(motion, AnchorSet([Anchor(0, motion.features[0])]), segments, signed_language="ase")
    win = make_window(project)
    qtbot.waitExposed(win)
    texts = [item.textItem.toPlainText() for item in win.timeline.sign_label_items]
    assert texts == ["HOUSE", "2 · B-hand, side, chest", "3 · A-hand, side, chest"]


def test_sign_names_never_overlap_and_show_in_full_when_zoomed_in(qtbot, make_window) -> None:
    n = 12
    motion = Motion.rest(n * 6)
    glosses = [f"A-RATHER-LONG-GLOSS-{k}" for k in range(n)]
    segments = [Segment(6 * k, 6 * k + 5, gloss) for k, gloss in enumerate(glosses)]
    win = make_window(Project(motion, AnchorSet([Anchor(0, motion.features[0])]), segments))
    qtbot.waitExposed(win)
    qtbot.wait(50)
    shown = visible_labels(win)
    assert shown, "some names fit"
    for (_, a), (_, b) in itertools.combinations(shown, 2):
        assert not a.intersects(b), f"labels overlap: {a} and {b}"
    for text, _ in shown:
        assert text in glosses or (text.endswith("…") and any(g.startswith(text[:-1]) for g in glosses)), text
    win.timeline.track_box.setXRange(0, 14, padding=0)  # zoomed in on the first two signs
    qtbot.wait(50)
    full = [text for text, _ in visible_labels(win)]
    assert glosses[0] in full and glosses[1] in full, full


def test_a_selected_sign_is_outlined_and_keeps_its_review_colour(qtbot, make_window) -> None:
    motion = Motion.rest(60)
    segments = [Segment(5, 25, "X", status="approved"), Segment(30, 50, "Y", status="needs work")]
    win = make_window(Project(motion, AnchorSet([Anchor(0, motion.features[0])]), segments))
    qtbot.waitExposed(win)
    qtbot.wait(50)  # laid out at its final size
    timeline = win.timeline
    box = timeline.track_box
    inside = view_point(timeline, box.mapViewToScene(QtCore.QPointF(20, 4.25)))  # right of the label, in the bar
    edge = view_point(timeline, box.mapViewToScene(QtCore.QPointF(4.5, 4.0)))

    def colour(point: QtCore.QPointF) -> np.ndarray:
        image = timeline.grab().toImage()
        ratio = image.devicePixelRatio()
        c = QtGui.QColor(image.pixel(int(point.x() * ratio), int(point.y() * ratio)))
        return np.array([c.red(), c.green(), c.blue()])

    before_inside, before_edge = colour(inside), colour(edge)
    assert before_inside[1] > before_inside[0] and before_inside[1] > before_inside[2], "approved reads green"
    point = view_point(timeline, timeline.signs.sign_scene_pos(0))
    send_mouse(timeline.viewport(), QtCore.QEvent.Type.MouseButtonPress, point)
    send_mouse(timeline.viewport(), QtCore.QEvent.Type.MouseButtonRelease, point)
    assert timeline.signs.selected == 0
    qtbot.wait(20)
    after_inside, after_edge = colour(inside), colour(edge)
    assert np.abs(after_inside - before_inside).max() <= 3, "the fill still shows the review colour"
    assert after_edge[2] > 200 and np.abs(after_edge - before_edge).max() > 60, "the outline marks the selection"


def test_the_inspector_and_the_selected_anchor_name_the_sign_as_its_bar_does(qtbot, make_window) -> None:
    from signeditor.core.keyframes import anchors_from_segments

    library = load_handshape_library()
    motion = Motion.rest(60)
    motion.features[20:40, STREAM_SLICES["right_hand"]] = library.get("ase", "B").dominant
    segments = [Segment(0, 20, "HOUSE"), Segment(20, 40, "")]
    anchors = anchors_from_segments(motion, segments)  # labelled "HOUSE onset", "SIGN2 onset", …
    win = make_window(Project(motion, anchors, segments, signed_language="ase"))
    qtbot.waitExposed(win)
    qtbot.wait(50)
    assert win.inspector.title.text() == "Anchor at frame 0 · HOUSE · onset", "the shown frame's anchor"
    onset = next(a for a in anchors if a.frame == 20)
    assert onset.label == "SIGN2 onset"
    point = view_point(win.timeline, win.timeline.anchor_scene_pos(onset.id, "right_hand"))
    send_mouse(win.timeline.viewport(), QtCore.QEvent.Type.MouseButtonPress, point)
    send_mouse(win.timeline.viewport(), QtCore.QEvent.Type.MouseButtonRelease, point)
    assert win.timeline.selected_ids == (onset.id,)
    assert win.inspector.title.text() == "Anchor at frame 20 · 2 · B-hand, side, chest · onset"
    assert win.timeline.selection_label.textItem.toPlainText() == "onset", "the bar above names the sign"

    point = view_point(win.timeline, win.timeline.signs.sign_scene_pos(0))  # HOUSE, duplicated: B-hand's is 3rd
    send_mouse(win.timeline.viewport(), QtCore.QEvent.Type.MouseButtonPress, point)
    send_mouse(win.timeline.viewport(), QtCore.QEvent.Type.MouseButtonRelease, point)
    count = win.document.undo_stack.count()
    win.activateWindow()
    qtbot.keyClick(win, QtCore.Qt.Key.Key_D, QtCore.Qt.KeyboardModifier.ControlModifier)
    if win.document.undo_stack.count() == count:  # offscreen platforms may not route the shortcut
        win.sign_editing.actions["duplicate"].trigger()
    frame = win.document.anchors.by_id(onset.id).frame
    assert frame > 20 and win.timeline.selected_ids == (onset.id,)
    assert win.inspector.title.text() == f"Anchor at frame {frame} · 3 · B-hand, side, chest · onset", "renumbered"
