"""Sign-level and per-lane editing through the real window: mouse gestures, the Sign library, undo, the user lexicon."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from draft_helpers import MiddleSegmenter, write_fixture_lexicon
from gui_helpers import drag, send_mouse, view_point
from PySide6 import QtCore, QtGui, QtWidgets
from test_sign_edits import three_signs

from signeditor.core.motion import STREAM_SLICES
from signeditor.core.project import Project
from signeditor.drafts.clips import ClipLibrary
from signeditor.drafts.pipeline import DraftBuilder
from signeditor.gui.draft_panel import LEXICON_FOLDERS_KEY
from signeditor.gui.main_window import MainWindow
from signeditor.gui.sign_timeline import SIGN_MIME
from signeditor.gui.timeline import TRACK_Y
from signeditor.io.lexicon import read_lexicons


def fixture_builder(folders: list[Path]) -> DraftBuilder:
    return DraftBuilder(read_lexicons(folders), ClipLibrary(MiddleSegmenter()), None)


@pytest.fixture
def window(qtbot, make_window, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> MainWindow:
    monkeypatch.setattr("signeditor.io.lexicon.bundled_lexicon_folders", lambda: [])
    lexicon = write_fixture_lexicon(tmp_path / "lexicon")
    settings = QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.Format.IniFormat)
    settings.setValue(LEXICON_FOLDERS_KEY, [str(lexicon)])
    settings.sync()  # the window reads the same file
    state = three_signs()
    project = Project(state.motion, state.anchors, list(state.segments), spoken_language="de", signed_language="sgg")
    win = make_window(project)
    win.sign_editing.library.worker.factory = lambda: ClipLibrary(MiddleSegmenter())
    win.resize(1100, 760)
    qtbot.waitExposed(win)
    win.timeline.set_clip(win.document.n_frames, win.document.motion.fps)
    qtbot.waitUntil(lambda: len(win.sign_editing.library.entries) > 0, timeout=5000)
    yield win
    win.close()


def settle(qtbot, win: MainWindow) -> None:
    qtbot.waitUntil(lambda: not win.regenerator.busy, timeout=5000)


def sign_point(win: MainWindow, index: int, where: str = "middle") -> QtCore.QPointF:
    return view_point(win.timeline, win.timeline.signs.sign_scene_pos(index, where))


def frame_x(win: MainWindow, frame: float) -> float:
    return win.timeline.mapFromScene(QtCore.QPointF(win.timeline.frame_scene_x(frame), 0)).x()


def click(win: MainWindow, point: QtCore.QPointF) -> None:
    viewport = win.timeline.viewport()
    send_mouse(viewport, QtCore.QEvent.Type.MouseButtonPress, point)
    send_mouse(viewport, QtCore.QEvent.Type.MouseButtonRelease, point)


def glosses(win: MainWindow) -> list[str]:
    return [s.gloss for s in win.document.project.segments]


def test_lanes_are_tall_enough_for_their_labels_at_the_default_size(qtbot, make_window) -> None:
    win = make_window()
    qtbot.waitExposed(win)
    qtbot.wait(50)
    box = win.timeline.track_box
    lane = abs(box.mapViewToScene(QtCore.QPointF(0, TRACK_Y["right_hand"])).y()
               - box.mapViewToScene(QtCore.QPointF(0, TRACK_Y["left_hand"])).y())
    font = QtGui.QFontMetrics(win.timeline.tracks.getAxis("left").font())
    assert lane >= font.height() + 4, f"lanes {lane:.1f} px apart, labels {font.height()} px tall"
    win.close()


def test_drag_a_sign_bar_moves_the_whole_sign_and_regenerates_only_around_it(qtbot, window: MainWindow) -> None:
    win = window
    settle(qtbot, win)
    before = {a.id: a.frame for a in win.document.anchors}
    row = sign_point(win, 1)
    win.fake_calls = win.regenerator._regenerate_fn.calls
    calls_before = len(win.fake_calls)
    drag(qtbot, win.timeline, QtCore.QPointF(frame_x(win, 33), row.y()), QtCore.QPointF(frame_x(win, 38), row.y()))
    assert win.document.project.segments[1].start == 35, glosses(win)
    moved = {a.id: a.frame for a in win.document.anchors}
    assert [moved[i] - before[i] for i in before] == [0] * 3 + [5] * 3 + [0] * 3
    assert win.timeline.signs.selected == 1 and win.document.undo_stack.count() == 1
    assert win.document.undo_stack.text(0).startswith("Move sign B")
    settle(qtbot, win)
    ranges = [r for r in win.fake_calls[calls_before:] if r is not None]
    assert ranges and all(lo >= 19 and hi <= 51 for lo, hi in ranges), ranges
    win.undo_action.trigger()
    assert {a.id: a.frame for a in win.document.anchors} == before


def test_alt_drag_the_end_edge_stretches_the_sign_and_the_rest_follows(qtbot, window: MainWindow) -> None:
    win = window
    row = sign_point(win, 1, "end")
    start = QtCore.QPointF(frame_x(win, 39.7), row.y())  # on B's end edge (39.5), 9 frames to the right
    drag(qtbot, win.timeline, start, QtCore.QPointF(frame_x(win, 48.7), start.y()),
         modifiers=QtCore.Qt.KeyboardModifier.AltModifier)
    segments = win.document.project.segments
    assert (segments[1].start, segments[1].end) == (30, 49) and segments[2].start == 59
    assert win.document.n_frames == 79
    assert sorted(a.frame for a in win.document.anchors if a.label == "B") == [30, 38, 48]
    assert win.timeline.playhead.bounds()[1] == 78, "the timeline follows the new length"
    win.undo_action.trigger()
    assert win.document.n_frames == 70 and win.document.project.segments[1].end == 40


def test_delete_and_duplicate_a_selected_sign(qtbot, window: MainWindow) -> None:
    win = window
    click(win, sign_point(win, 0))
    assert win.timeline.signs.selected == 0
    win.sign_editing.actions["duplicate"].trigger()
    assert glosses(win) == ["A", "A", "B", "C"] and win.document.n_frames > 70
    click(win, sign_point(win, 2))
    win.seek(win.document.n_frames - 1)  # the playhead past the new end follows it
    win.sign_editing.actions["delete_close"].trigger()
    assert win.document.frame == win.document.n_frames - 1 == win.timeline.playhead_frame
    assert glosses(win) == ["A", "A", "C"]
    win.undo_action.trigger()
    click(win, sign_point(win, 2))
    win.sign_editing.actions["delete_hold"].trigger()
    assert glosses(win) == ["A", "A", "C"] and [a.label for a in win.document.anchors].count("hold") == 2
    for _ in range(3):
        win.undo_action.trigger()
    assert glosses(win) == ["A", "B", "C"] and win.document.n_frames == 70


def test_library_search_preview_insert_drop_and_replace(qtbot, window: MainWindow) -> None:
    win, library = window, window.sign_editing.library
    before = win.document.motion.features.copy()
    qtbot.keyClicks(library.search, "sgg")
    assert len(library.visible_rows()) == len(library.entries), "a language code finds its signs"
    library.search.clear()
    qtbot.keyClicks(library.search, "pizz")
    rows = library.visible_rows()
    assert [library.entries[r].glosses for r in rows] == ["PIZZA", "PIZZA2"]
    assert library.table.item(rows[0], 4).text() == "lexicon", "the lexicon folder it comes from"
    library.table.selectRow(rows[0])
    shown: list[object] = []
    library.preview_pose.connect(shown.append)
    qtbot.mouseClick(library.preview_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(shown) and shown[-1] is None, timeout=10000)
    assert len(shown) > 10, "the preview plays the clip frame by frame"
    np.testing.assert_array_equal(win.document.motion.features, before)
    assert win.document.undo_stack.count() == 0, "previewing is not an edit"
    qtbot.mouseClick(library.preview_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: library.previewing, timeout=10000)
    click(win, QtCore.QPointF(frame_x(win, 5), sign_point(win, 0).y()))  # back to the project
    assert not library.previewing and shown[-1] is None

    win.seek(25)  # between A and B
    qtbot.mouseClick(library.insert_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "PIZZA" in glosses(win), timeout=10000)
    assert glosses(win) == ["A", "PIZZA", "B", "C"]
    pizza = win.document.project.segments[1]
    assert sum(1 for a in win.document.anchors if pizza.start <= a.frame < pizza.end) == 3
    win.undo_action.trigger()
    assert glosses(win) == ["A", "B", "C"]

    # Drag the row onto the Signs lane inside C: the sign goes after C.
    mime = library.table.mimeData([library.table.item(rows[0], 1)])  # what dragging the row carries
    assert mime.hasFormat(SIGN_MIME)
    point = sign_point(win, 2)
    viewport = win.timeline.viewport()
    buttons, mods = QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.KeyboardModifier.NoModifier
    enter = QtGui.QDragEnterEvent(point.toPoint(), QtCore.Qt.DropAction.CopyAction, mime, buttons, mods)
    QtWidgets.QApplication.sendEvent(viewport, enter)
    assert enter.isAccepted()
    QtWidgets.QApplication.sendEvent(viewport, QtGui.QDropEvent(point, QtCore.Qt.DropAction.CopyAction, mime,
                                                                buttons, mods))
    qtbot.waitUntil(lambda: glosses(win)[-1] == "PIZZA", timeout=10000)
    assert glosses(win) == ["A", "B", "C", "PIZZA"]

    click(win, sign_point(win, 1))
    library.search.clear()
    qtbot.keyClicks(library.search, "essen")
    library.table.selectRow(library.visible_rows()[0])
    qtbot.mouseClick(library.replace_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "ESSEN" in glosses(win), timeout=10000)
    assert glosses(win) == ["A", "ESSEN", "C", "PIZZA"]
    assert win.document.project.segments[0].end == 20 and win.document.undo_stack.text(
        win.document.undo_stack.count() - 1) == "Replace sign B by ESSEN"


def test_lane_only_anchor_insert_drag_and_hand_copy(qtbot, window: MainWindow) -> None:
    win = window
    settle(qtbot, win)
    left_row = view_point(win.timeline, win.timeline.track_box.mapViewToScene(
        QtCore.QPointF(0, TRACK_Y["left_hand"])))
    point = QtCore.QPointF(frame_x(win, 25), left_row.y())
    viewport = win.timeline.viewport()
    for kind in (QtCore.QEvent.Type.MouseButtonPress, QtCore.QEvent.Type.MouseButtonRelease,
                 QtCore.QEvent.Type.MouseButtonDblClick, QtCore.QEvent.Type.MouseButtonRelease):
        send_mouse(viewport, kind, point)
    inserted = next(a for a in win.document.anchors if a.frame == 25)
    assert inserted.streams == {"left_hand"}

    target = next(a for a in win.document.anchors if a.frame == 34)  # B's middle
    start = view_point(win.timeline, win.timeline.anchor_scene_pos(target.id, "right_hand"))
    drag(qtbot, win.timeline, start, QtCore.QPointF(frame_x(win, 37), start.y()),
         modifiers=QtCore.Qt.KeyboardModifier.AltModifier)
    kept = win.document.anchors.by_id(target.id)
    lane = next(a for a in win.document.anchors if a.frame == 37)
    assert kept.frame == 34 and "right_hand" not in kept.streams and "left_hand" in kept.streams
    assert lane.streams == {"right_hand"}
    np.testing.assert_array_equal(lane.pose, target.pose)

    source = win.document.anchors[0]
    win.timeline.select([source.id])
    win.sign_editing.copy_hand("right_hand")
    other = win.document.anchors[-1]
    win.timeline.select([other.id])
    win.sign_editing.actions["paste_hand"].trigger()
    pasted = win.document.anchors.by_id(other.id)
    cols = STREAM_SLICES["right_hand"]
    np.testing.assert_array_equal(pasted.pose[cols], source.pose[cols])
    np.testing.assert_array_equal(pasted.pose[STREAM_SLICES["body"]], other.pose[STREAM_SLICES["body"]])
    assert win.document.undo_stack.count() == 3
    win.undo_action.trigger()
    np.testing.assert_array_equal(win.document.anchors.by_id(other.id).pose, other.pose)


def test_save_a_sign_to_my_lexicon_and_reuse_it_in_a_draft(qtbot, window: MainWindow, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    from pose_format import Pose

    from signeditor.io.lexicon import read_lexicon

    win = window
    mine = tmp_path / "mine"
    click(win, sign_point(win, 1))
    entry = win.sign_editing.save_selected_sign("Tisch", "../TISCH", "de", "sgg", folder=mine, ask=False)
    assert entry is not None and entry.path.parent == mine and entry.path.name == "TISCH.pose"
    pose = Pose.read(entry.path.read_bytes())
    assert pose.body.data.shape[0] == win.document.project.segments[1].length
    assert [(e.words, e.glosses) for e in read_lexicon(mine).entries] == [("Tisch", "../TISCH")]

    asked: list[str] = []
    answer = QtWidgets.QMessageBox.StandardButton.No
    monkeypatch.setattr(QtWidgets.QMessageBox, "question", lambda _p, _t, text, *a: asked.append(text) or answer)
    assert win.sign_editing.save_selected_sign("Tisch", "TISCH", "de", "sgg", folder=mine, ask=False) is None
    assert asked and "Tisch" in asked[0]
    answer = QtWidgets.QMessageBox.StandardButton.Yes
    assert win.sign_editing.save_selected_sign("Tisch", "TISCH", "de", "sgg", folder=mine, ask=False) is not None
    assert [e.glosses for e in read_lexicon(mine).entries] == ["TISCH"], "overwritten, not added twice"

    panel = win.draft_panel
    panel.worker.factory = fixture_builder
    qtbot.waitUntil(lambda: panel.spoken.count() > 0, timeout=5000)
    panel.text.setPlainText("Kinder Tisch")
    with qtbot.waitSignal(panel.draft_ready, timeout=20000):
        panel.generate()
    assert glosses(win) == ["KINDER", "TISCH"], "the saved sign is found by the next draft"


def test_draft_swap_stretch_save_and_reuse_all_undoable(qtbot, window: MainWindow, tmp_path: Path) -> None:
    """The issue's acceptance path: draft a sentence, swap a sign from the library, stretch it, save it, reuse it."""
    win, panel, library = window, window.draft_panel, window.sign_editing.library
    panel.worker.factory = fixture_builder
    qtbot.waitUntil(lambda: panel.spoken.count() > 0, timeout=5000)
    panel.text.setPlainText("Kinder essen Pizza")
    with qtbot.waitSignal(panel.draft_ready, timeout=20000):
        panel.generate()
    win.toggle_playback()  # the draft plays on arrival; stop it to edit
    win.timeline.set_clip(win.document.n_frames, win.document.motion.fps)
    drafted = win.document.motion.features.copy()
    assert glosses(win) == ["KINDER", "ESSEN", "PIZZA"]

    click(win, sign_point(win, 1))
    qtbot.keyClicks(library.search, "kinder")
    library.table.selectRow(library.visible_rows()[0])
    qtbot.mouseClick(library.replace_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: glosses(win) == ["KINDER", "KINDER", "PIZZA"], timeout=10000)

    swapped = win.document.project.segments[1]
    row = sign_point(win, 1, "end")
    start = QtCore.QPointF(frame_x(win, swapped.end - 0.3), row.y())
    drag(qtbot, win.timeline, start, QtCore.QPointF(frame_x(win, swapped.end + 5.7), row.y()),
         modifiers=QtCore.Qt.KeyboardModifier.AltModifier)
    assert win.document.project.segments[1].length == swapped.length + 6
    assert win.document.undo_stack.count() == 2

    entry = win.sign_editing.save_selected_sign("Brot", "BROT", "de", "sgg", folder=tmp_path / "mine", ask=False)
    assert entry is not None
    for _ in range(2):
        win.undo_action.trigger()
    np.testing.assert_array_equal(win.document.motion.features, drafted)
    assert glosses(win) == ["KINDER", "ESSEN", "PIZZA"]

    panel.text.setPlainText("Pizza Brot")
    with qtbot.waitSignal(panel.draft_ready, timeout=20000):
        panel.generate()
    assert glosses(win) == ["PIZZA", "BROT"]


def test_sign_edits_on_a_recording_keep_it_through_length_changes(qtbot, window: MainWindow) -> None:
    from signeditor.core.recording import Recording
    from signeditor.gui import sign_commands

    win = window
    doc = win.document
    recording = Recording.of(doc.motion, doc.anchors)
    doc.project.recording = recording
    win.push(sign_commands.move_sign(doc, 1, 4))
    assert doc.recording is recording, "a move keeps the take (the warp follows the moved anchors)"
    settle(qtbot, win)
    win.push(sign_commands.stretch_sign(doc, 1, 16))
    assert doc.n_frames == 76 and doc.recording is not None and doc.recording.n_frames == 76, \
        "the take is laid out like the stretched clip, not dropped"
    settle(qtbot, win)
    win.undo_action.trigger()
    assert doc.recording is recording and doc.n_frames == 70
