"""Nothing captured is replaced silently, through the real window: every sign edit and anchor drag on an imported
recording (face channel, a lost left hand) keeps the recording and the face across Save and a reopen of the
saved file, and captured frames come back bit for bit where the edit put them (hand-counted frame offsets)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import LEFT_HAND_GAP, captured_project
from draft_helpers import MiddleSegmenter, write_fixture_lexicon
from gui_helpers import drag, send_mouse, view_point
from PySide6 import QtCore

from signeditor.core.motion import STREAM_SLICES, STREAMS
from signeditor.core.nonmanual import FaceKey, lane_values
from signeditor.core.recording import recorded_streams
from signeditor.drafts.clips import ClipLibrary
from signeditor.gui.draft_panel import LEXICON_FOLDERS_KEY
from signeditor.io.project_file import load_project

LEFT = STREAM_SLICES["left_hand"]


@pytest.fixture
def window(qtbot, make_window, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr("signeditor.io.lexicon.bundled_lexicon_folders", lambda: [])
    settings = QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.Format.IniFormat)
    settings.setValue(LEXICON_FOLDERS_KEY, [str(write_fixture_lexicon(tmp_path / "lexicon"))])
    settings.sync()
    project = captured_project()
    win = make_window(project)
    win.sign_editing.library.worker.factory = lambda: ClipLibrary(MiddleSegmenter())
    win.resize(1200, 760)
    qtbot.waitExposed(win)
    win.timeline.set_clip(win.document.n_frames, win.document.motion.fps)
    qtbot.waitUntil(lambda: len(win.sign_editing.library.entries) > 0, timeout=5000)
    win.original = project.motion.copy()
    win.saved_path = tmp_path / "captured.signproj"
    assert win.save_to(win.saved_path)  # from here on, Ctrl+S saves there
    settle(qtbot, win)
    yield win
    win.close()


def settle(qtbot, win) -> None:
    qtbot.waitUntil(lambda: not win.regenerator.busy, timeout=5000)


def key(qtbot, win, key: QtCore.Qt.Key, modifiers: QtCore.Qt.KeyboardModifier, action: str) -> None:
    """Press a shortcut; offscreen platforms may not route shortcuts to an inactive window, then the same action."""
    count = win.document.undo_stack.count()
    clean = win.document.undo_stack.isClean()
    win.activateWindow()
    qtbot.keyClick(win, key, modifiers)
    done = win.document.undo_stack.count() != count if action != "save" else win.document.undo_stack.isClean()
    if not done or (action == "save" and clean):
        (win.actions.get(action) or win.sign_editing.actions[action]).trigger()


def save_and_reopen(qtbot, win):
    settle(qtbot, win)
    key(qtbot, win, QtCore.Qt.Key.Key_S, QtCore.Qt.KeyboardModifier.ControlModifier, "save")
    assert win.document.undo_stack.isClean()
    return load_project(win.saved_path)


def sign_point(win, index: int, where: str = "middle") -> QtCore.QPointF:
    return view_point(win.timeline, win.timeline.signs.sign_scene_pos(index, where))


def frame_x(win, frame: float) -> float:
    return win.timeline.mapFromScene(QtCore.QPointF(win.timeline.frame_scene_x(frame), 0)).x()


def click(win, point: QtCore.QPointF) -> None:
    for kind in (QtCore.QEvent.Type.MouseButtonPress, QtCore.QEvent.Type.MouseButtonRelease):
        send_mouse(win.timeline.viewport(), kind, point)


def assert_kept(win, saved, pairs: list[tuple[int, int, int]]) -> None:
    """The saved file still has the recording and the face; (start now, start before, length) frames are exact."""
    assert saved.recording is not None, "the recording was not saved"
    assert saved.motion.face is not None and saved.recording.take.face is not None, "the face channel was lost"
    for now, then, length in pairs:
        np.testing.assert_array_equal(saved.motion.features[now:now + length],
                                      win.original.features[then:then + length])
        np.testing.assert_array_equal(saved.motion.face[now:now + length], win.original.face[then:then + length])


def library_request(qtbot, win, word: str, button: str) -> None:
    library = win.sign_editing.library
    library.search.clear()
    qtbot.keyClicks(library.search, word)
    library.table.selectRow(library.visible_rows()[0])
    count = win.document.undo_stack.count()
    qtbot.mouseClick(getattr(library, f"{button}_button"), QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: win.document.undo_stack.count() == count + 1, timeout=10000)


def test_inserting_a_library_sign_keeps_the_face_the_recording_and_compare(qtbot, window) -> None:
    win = window
    brows = (FaceKey(20, "Brows", lane_values("Brows", brow_raise_l=0.8)),
             FaceKey(100, "Brows", lane_values("Brows", brow_raise_l=0.4)))
    win.document.set_face_keys(brows)  # a yes/no question's raised brows, on BAUM
    win.seek(75)  # between HAUS and BAUM
    library_request(qtbot, win, "pizz", "insert")
    added = win.document.n_frames - 150
    assert [s.gloss for s in win.document.project.segments] == ["HAUS", "PIZZA", "BAUM"] and added > 0
    saved = save_and_reopen(qtbot, win)
    assert_kept(win, saved, [(0, 0, 75), (75 + added, 75, 75)])
    assert [k.frame for k in saved.face_keys] == [20, 100 + added], "the non-manual keys stay with their signs"
    assert not recorded_streams(saved.recording, saved.anchors)[75:75 + added].any(), "the new sign is not captured"
    shaded = {(r.stream, r.lo, r.hi) for r in win.timeline.not_captured_regions}
    assert ("left_hand", *LEFT_HAND_GAP) in shaded and {(s, 75, 75 + added) for s in STREAMS} <= shaded, shaded
    win.actions["compare_recording"].trigger()  # shows the capture: there is one to show
    compare = win.document.recording_motion()
    assert compare is not None and compare.n_frames == win.document.n_frames
    np.testing.assert_array_equal(compare.features[75 + added:], win.original.features[75:])
    win.undo_action.trigger()
    assert win.document.recording.n_frames == win.document.n_frames == 150
    assert [k.frame for k in win.document.project.face_keys] == [20, 100]
    np.testing.assert_array_equal(win.document.motion.face, win.original.face)


def test_replacing_a_sign_from_the_library_keeps_the_rest_of_the_recording(qtbot, window) -> None:
    win = window
    click(win, sign_point(win, 0))
    library_request(qtbot, win, "essen", "replace")
    saved = save_and_reopen(qtbot, win)
    assert [s.gloss for s in saved.segments] == ["ESSEN", "BAUM"]
    tail = saved.motion.n_frames - 79
    assert saved.segments[0].start > 10 and tail > saved.segments[0].end, "new transition frames on both sides"
    assert_kept(win, saved, [(0, 0, 10), (tail, 71, 79)])
    assert not recorded_streams(saved.recording, saved.anchors)[10:tail].any()


def test_deleting_a_sign_with_the_keyboard_keeps_the_recording(qtbot, window) -> None:
    win = window
    click(win, sign_point(win, 1))
    assert win.timeline.signs.selected == 1
    key(qtbot, win, QtCore.Qt.Key.Key_Delete, QtCore.Qt.KeyboardModifier.ShiftModifier, "delete_close")
    saved = save_and_reopen(qtbot, win)
    join = saved.motion.n_frames - 89
    assert join > 0 and [s.gloss for s in saved.segments] == ["HAUS"]
    assert_kept(win, saved, [(0, 0, 80), (80 + join, 141, 9)])
    assert not recorded_streams(saved.recording, saved.anchors)[80:80 + join].any(), "the join is new, generated"


def test_duplicating_a_sign_with_the_keyboard_keeps_the_recording(qtbot, window) -> None:
    win = window
    click(win, sign_point(win, 1))
    key(qtbot, win, QtCore.Qt.Key.Key_D, QtCore.Qt.KeyboardModifier.ControlModifier, "duplicate")
    copy = win.document.project.segments[2]
    saved = save_and_reopen(qtbot, win)
    assert_kept(win, saved, [(0, 0, 141), (copy.end, 141, 9)])
    np.testing.assert_array_equal(saved.motion.features[copy.start:copy.end], win.original.features[80:141],
                                  "the copy is the capture, not regenerated between its anchors")
    np.testing.assert_array_equal(saved.motion.face[copy.start:copy.end], win.original.face[80:141], "and its face")


def test_dragging_a_sign_time_warps_the_recording_instead_of_regenerating(qtbot, window) -> None:
    win = window
    row = sign_point(win, 1)
    drag(qtbot, win.timeline, QtCore.QPointF(frame_x(win, 100), row.y()), QtCore.QPointF(frame_x(win, 96), row.y()))
    assert win.document.project.segments[1].start == 76
    assert "time-warp" in win.document.undo_stack.text(0)
    saved = save_and_reopen(qtbot, win)
    assert_kept(win, saved, [(0, 0, 71), (76, 80, 61)])
    assert win.fake.calls == [], "no captured frame, and no frame at all here, was regenerated"


def test_alt_dragging_a_sign_edge_stretches_it_and_keeps_the_recording(qtbot, window) -> None:
    win = window
    row = sign_point(win, 0, "end")
    start = QtCore.QPointF(frame_x(win, 70.7), row.y())
    drag(qtbot, win.timeline, start, QtCore.QPointF(frame_x(win, 80.7), row.y()),
         modifiers=QtCore.Qt.KeyboardModifier.AltModifier)
    assert win.document.n_frames == 160
    saved = save_and_reopen(qtbot, win)
    assert_kept(win, saved, [(0, 0, 10), (81, 71, 79)])
    np.testing.assert_array_equal(saved.motion.features[[10, 80]], win.original.features[[10, 70]])


def test_dragging_an_anchor_over_a_lost_hand_regenerates_only_that_hand(qtbot, window) -> None:
    win = window
    middle = next(a for a in win.document.anchors if a.label == "HAUS middle")
    start = view_point(win.timeline, win.timeline.anchor_scene_pos(middle.id, "right_hand"))
    end = QtCore.QPointF(frame_x(win, middle.frame + 4), start.y())
    drag(qtbot, win.timeline, start, end)
    assert win.document.anchors.by_id(middle.id).frame == 44
    saved = save_and_reopen(qtbot, win)
    # Between the anchors at 10 and 44 (was 40), frame t shows take time 10 + (t - 10) * 15 / 17.
    gap = [t for t in range(10, 45) if LEFT_HAND_GAP[0] <= round(10 + (t - 10) * 15 / 17) < LEFT_HAND_GAP[1]]
    onset = next(a for a in saved.anchors if a.label == "HAUS onset")
    held = np.array([onset.pose if t < 44 else saved.anchors.by_id(middle.id).pose for t in gap])
    features = saved.motion.features
    np.testing.assert_array_equal(features[gap][:, LEFT], held[:, LEFT], "the fake generator's hold, left hand only")
    others = np.ones(features.shape[1], bool)
    others[LEFT] = False
    assert not (features[gap][:, others] == held[:, others]).all(axis=1).any(), "the tracked arm was kept"
    np.testing.assert_array_equal(features[27], win.original.features[25], "a whole take frame, copied")
    assert_kept(win, saved, [(0, 0, 11), (71, 71, 79)])
    flags = recorded_streams(saved.recording, saved.anchors)
    assert not flags[gap, STREAMS.index("left_hand")].any()


def test_compare_with_recording_says_why_when_there_is_none(qtbot, make_window) -> None:
    from gui_helpers import small_project

    win = make_window(small_project()[0])
    qtbot.waitExposed(win)
    win.actions["compare_recording"].trigger()
    assert not win.actions["compare_recording"].isChecked()
    assert "no recording" in win.statusBar().currentMessage()
    win.close()
