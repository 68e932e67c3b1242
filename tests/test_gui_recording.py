"""Editing an imported recording through the real window: real mouse drags keep the capture, a span can be
regenerated and restored, the playhead follows the selection, sign bars follow their anchors."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import recorded_project
from gui_helpers import drag, send_mouse, view_point
from PySide6 import QtCore

from signeditor.core.motion import STREAMS
from signeditor.core.recording import wrist_path_length


@pytest.fixture
def window(qtbot, make_window):
    win = make_window(recorded_project())
    win.resize(1200, 700)
    qtbot.waitExposed(win)
    win.timeline.set_clip(win.document.n_frames, win.document.motion.fps)
    qtbot.wait(30)
    win.take = win.document.motion.features.copy()
    yield win
    win.close()


def settle(qtbot, win) -> None:
    qtbot.waitUntil(lambda: not win.regenerator.busy, timeout=3000)


def anchor(win, label: str):
    return next(a for a in win.document.anchors if a.label == label)


def marker(win, anchor_id: int, track: str = "right_hand") -> QtCore.QPointF:
    return view_point(win.timeline, win.timeline.anchor_scene_pos(anchor_id, track))


def at_frame(win, frame: int, row: QtCore.QPointF) -> QtCore.QPointF:
    x = win.timeline.mapFromScene(QtCore.QPointF(win.timeline.frame_scene_x(frame), 0)).x()
    return QtCore.QPointF(x, row.y())


def click(win, point: QtCore.QPointF,
          modifiers: QtCore.Qt.KeyboardModifier = QtCore.Qt.KeyboardModifier.NoModifier) -> None:
    for kind in (QtCore.QEvent.Type.MouseButtonPress, QtCore.QEvent.Type.MouseButtonRelease):
        send_mouse(win.timeline.viewport(), kind, point, modifiers=modifiers)


def history_texts(win) -> list[str]:
    model = win.history.model()
    return [model.index(row, 0).data() for row in range(1, model.rowCount())]


def test_dragging_an_anchor_five_frames_keeps_the_recording(qtbot, window, tmp_path):
    win = window
    settle(qtbot, win)
    middle = anchor(win, "HAUS middle")
    start = marker(win, middle.id)
    drag(qtbot, win.timeline, start, at_frame(win, middle.frame + 5, start))
    assert win.document.anchors.by_id(middle.id).frame == middle.frame + 5
    settle(qtbot, win)
    motion = win.document.motion.features
    before, after = win.document.anchors.neighbours(middle.frame + 5)
    changed = np.flatnonzero(np.any(motion != win.take, axis=1))
    assert len(changed) and before < changed.min() and changed.max() < after, (before, after, changed)
    np.testing.assert_array_equal(motion[middle.frame + 5], win.take[middle.frame])
    assert abs(wrist_path_length(motion) / wrist_path_length(win.take) - 1) < 0.05
    assert win.fake.calls == [], "the generator never rewrote captured frames"
    assert win.document.recorded_frames().all()

    # Saved and reopened, the recording and its link to the anchors survive: the next edit still warps it.
    path = tmp_path / "kept.signproj"
    assert win.save_to(path)
    assert win.open_file(path)
    settle(qtbot, win)
    np.testing.assert_array_equal(win.document.motion.features, motion)
    np.testing.assert_array_equal(win.document.recording.take.features, win.take)
    offset = anchor(win, "BAUM offset")
    start = marker(win, offset.id)
    drag(qtbot, win.timeline, start, at_frame(win, offset.frame - 4, start))
    settle(qtbot, win)
    reopened = win.document.motion.features
    np.testing.assert_array_equal(reopened[:111], motion[:111])
    np.testing.assert_array_equal(reopened[offset.frame - 4], win.take[offset.frame])
    assert win.fake.calls == []


def test_regenerate_span_compare_and_restore(qtbot, window, monkeypatch):
    from PySide6 import QtWidgets

    win = window
    settle(qtbot, win)
    middle = anchor(win, "HAUS middle")
    click(win, marker(win, middle.id))
    assert win.timeline.selected_ids == (middle.id,)
    asked: list[str] = []
    answers = [QtWidgets.QMessageBox.StandardButton.Cancel, QtWidgets.QMessageBox.StandardButton.Yes]
    monkeypatch.setattr(QtWidgets.QMessageBox, "question", lambda _parent, _title, text, *_: (
        asked.append(text), answers.pop(0))[1])
    win.actions["regenerate_span"].trigger()
    assert "61 captured frames" in asked[0] and win.document.undo_stack.count() == 0, "cancelled: nothing changed"
    win.actions["regenerate_span"].trigger()
    settle(qtbot, win)
    assert win.fake.calls[-1] == (10, 71), "the span between the selected anchor's neighbours is generated"
    motion = win.document.motion.features
    assert not win.document.recorded_frames()[10:71].any() and win.document.recorded_frames()[71:].all()
    assert not np.array_equal(motion[11:70], win.take[11:70])
    np.testing.assert_array_equal(motion[71:], win.take[71:])
    np.testing.assert_array_equal(win.document.recording_motion().features, win.take)  # what "compare" shows
    win.actions["compare_recording"].trigger()
    win.actions["compare_recording"].trigger()
    assert history_texts(win) == ["Regenerate frames 10–70"]
    shaded = sorted((r.stream, r.lo, r.hi) for r in win.timeline.not_captured_regions)
    assert shaded == sorted((stream, 10, 71) for stream in STREAMS), "every stream's row shows what is generated"

    win.actions["restore_span"].trigger()
    settle(qtbot, win)
    np.testing.assert_array_equal(win.document.motion.features, win.take)
    assert win.document.recorded_frames().all() and win.timeline.not_captured_regions == []
    win.undo_action.trigger()
    np.testing.assert_array_equal(win.document.motion.features, motion)
    win.undo_action.trigger()
    np.testing.assert_array_equal(win.document.motion.features, win.take)


def test_selecting_an_anchor_moves_the_playhead_and_clicks_on_the_timeline_keep_the_selection(qtbot, window):
    win = window
    settle(qtbot, win)
    onset = anchor(win, "BAUM onset")
    click(win, marker(win, onset.id))
    assert win.timeline.selected_ids == (onset.id,)
    assert win.document.frame == onset.frame, "the viewport shows the selected anchor's pose"

    # A rotation in the inspector now shows at the playhead.
    win.inspector.select_joint("L_Index1")
    win.inspector.sliders[0].setValue(40)
    settle(qtbot, win)
    edited = win.document.anchors.by_id(onset.id).pose
    assert not np.array_equal(edited, onset.pose)
    np.testing.assert_array_equal(win.document.motion.features[win.document.frame], edited)
    motion = win.document.motion.features  # on a recording the rotation is a displacement between the neighbours
    np.testing.assert_array_equal(motion[:71], win.take[:71])
    np.testing.assert_array_equal(motion[110:], win.take[110:])
    assert win.fake.calls == []

    click(win, at_frame(win, 100, marker(win, onset.id)))
    assert win.document.frame == 100
    assert win.timeline.selected_ids == (onset.id,), "moving the playhead keeps the selection"
    qtbot.keyClick(win.timeline, QtCore.Qt.Key.Key_Escape)
    assert win.timeline.selected_ids == ()


def test_an_inserted_anchor_is_selected_named_and_draggable_under_the_playhead(qtbot, window):
    win = window
    settle(qtbot, win)
    win.seek(100)
    win.actions["insert"].trigger()
    inserted = next(a for a in win.document.anchors if a.frame == 100)
    assert win.timeline.selected_ids == (inserted.id,)
    assert inserted.label == "BAUM frame 20"
    assert win.timeline.selection_label.textItem.toPlainText() == "frame 20", "the BAUM bar above names the sign"
    assert win.inspector.title.text() == "Anchor at frame 100 · BAUM · frame 20"
    assert history_texts(win)[-1] == "Insert anchor 'BAUM frame 20'"

    start = marker(win, inserted.id)  # right under the playhead line
    drag(qtbot, win.timeline, start, at_frame(win, 106, start))
    assert win.document.anchors.by_id(inserted.id).frame == 106, "the anchor moved, not the playhead"
    assert win.document.frame == 106, "the playhead follows the dropped anchor"


def test_a_sign_bar_follows_its_anchor_and_history_names_it(qtbot, window):
    win = window
    settle(qtbot, win)
    onset = anchor(win, "HAUS onset")
    start = marker(win, onset.id)
    viewport = win.timeline.viewport()
    send_mouse(viewport, QtCore.QEvent.Type.MouseButtonPress, start)
    for frame in (12, 14, 16, 18, 20):
        send_mouse(viewport, QtCore.QEvent.Type.MouseMove, at_frame(win, frame, start),
                   buttons=QtCore.Qt.MouseButton.LeftButton)
        qtbot.wait(20)
        if frame == 16:  # mid-drag, the bar is where the dragged onset marker is
            delta = win.timeline._drag.delta
            assert delta > 0 and win.timeline._segment_items[0].getRegion() == (9.5 + delta, 70.5)
    send_mouse(viewport, QtCore.QEvent.Type.MouseButtonRelease, at_frame(win, 20, start))
    assert win.document.anchors.by_id(onset.id).frame == 20
    sign = win.document.project.segments[0]
    assert (sign.start, sign.end, sign.gloss) == (20, 71, "HAUS")
    bars = [item for item in win.timeline._segment_items if hasattr(item, "getRegion")]
    assert bars[0].getRegion() == (19.5, 70.5), "the bar on the Signs lane moved with the anchor"
    assert history_texts(win) == ["Move 'HAUS' onset anchor by +10 frames"]
    win.undo_action.trigger()
    assert win.document.project.segments[0].start == 10
    assert win.timeline._segment_items[0].getRegion() == (9.5, 70.5)


def test_an_imported_pose_file_is_kept_as_the_recording(make_pose_file):
    from signeditor.gui.main_window import load_document_file

    path, _ = make_pose_file(n_frames=40)
    project = load_document_file(path)
    assert project.recording is not None
    np.testing.assert_array_equal(project.recording.take.features, project.motion.features)
    assert project.recording.take is not project.motion, "the take is a copy: editing never writes into it"
    assert project.recording.anchors == project.anchors and project.recording.captured.all()
