"""Reference video, sign review and video import in the real window (offscreen Qt, real events, real pixels)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pympi
import pytest
from conftest import frame_index_of, numbered_frames, write_frames_mp4
from gui_helpers import small_project, view_point
from PySide6 import QtCore, QtGui, QtWidgets

from signeditor.core.project import ReferenceVideo
from signeditor.core.segments import APPROVED, NEEDS_WORK, Segment
from signeditor.gui.timeline import TRACK_Y
from signeditor.io.formats import export_project
from signeditor.io.project_file import load_project


@pytest.fixture
def window(qtbot, make_window):
    project, _ = small_project()
    project.segments = [Segment(5, 20, "HAUS"), Segment(25, 40, "KIND", status=NEEDS_WORK), Segment(45, 58, "ESSEN")]
    win = make_window(project)
    win.resize(1100, 760)
    qtbot.waitExposed(win)
    win.timeline.set_clip(win.document.n_frames, win.document.motion.fps)
    qtbot.wait(30)
    yield win
    win.close()


def shown_frame(win) -> int:
    """The video frame the Reference dock really shows, read from its pixmap's pixels."""
    image = win.video_review.reference.picture.pixmap().toImage().convertToFormat(QtGui.QImage.Format.Format_RGB888)
    pixels = np.frombuffer(image.constBits(), np.uint8).reshape(image.height(), image.bytesPerLine())
    return frame_index_of(pixels[:, : image.width() * 3].reshape(image.height(), image.width(), 3))


def type_offset(qtbot, spin: QtWidgets.QDoubleSpinBox, text: str) -> None:
    """Type a new offset into the spin box, as a user does (select all, type, Enter)."""
    spin.setFocus()
    qtbot.keyClick(spin, QtCore.Qt.Key.Key_A, QtCore.Qt.KeyboardModifier.ControlModifier)
    qtbot.keyClicks(spin, text)
    qtbot.keyClick(spin, QtCore.Qt.Key.Key_Return)


def wait_for_frame(qtbot, win, expected: int) -> None:
    qtbot.waitUntil(lambda: win.video_review.reference.shown_index == expected, timeout=5000)
    assert shown_frame(win) == expected


def test_reference_video_follows_the_playhead_frame_accurately(qtbot, window, tmp_path: Path) -> None:
    win = window
    video = write_frames_mp4(tmp_path / "numbers.mp4", numbered_frames(30))
    win.video_review.attach_video(video)
    dock = win.video_review.reference
    qtbot.waitUntil(lambda: dock.video_frames == 30, timeout=5000)
    for frame in (0, 7, 8, 29, 3, 13):  # forward, stepping, backwards across keyframes (every 12 frames)
        win.seek(frame)
        wait_for_frame(qtbot, win, frame)
    win.step(1)
    wait_for_frame(qtbot, win, 14)
    # the offset control: video time = project time + offset (5 frames at 25 fps); one undo step per change
    type_offset(qtbot, dock.offset, "0.2")
    wait_for_frame(qtbot, win, 19)
    assert win.document.project.reference_video.offset_s == pytest.approx(0.2)
    win.seek(25)
    qtbot.waitUntil(lambda: dock.shown_index is None, timeout=3000)  # past the video's end
    assert "outside" in dock.picture.text()
    win.undo_action.trigger()
    assert win.document.project.reference_video.offset_s == 0.0 and dock.offset.value() == 0.0
    wait_for_frame(qtbot, win, 25)
    # the path and offset are saved with the project (never the video itself)
    type_offset(qtbot, dock.offset, "-0.08")
    assert win.save_to(tmp_path / "p.signproj")
    assert load_project(tmp_path / "p.signproj").reference_video == ReferenceVideo(str(video.resolve()), -0.08)


def test_video_export_gets_the_reference_video_at_its_offset(qtbot, window, tmp_path: Path) -> None:
    assert window.reference_frames is None
    video = write_frames_mp4(tmp_path / "numbers.mp4", numbered_frames(30))
    window.video_review.attach_video(video)
    window.video_review.reference.offset.setValue(0.4)  # the export hook follows the offset
    assert frame_index_of(window.reference_frames.frame_at(0.2)) == 15
    assert window.reference_frames.frame_at(0.9) is None  # past the video's end
    window.undo_action.trigger()
    window.undo_action.trigger()
    assert window.reference_frames is None


def test_missing_reference_video_still_opens_and_says_where_it_looked(qtbot, window, tmp_path: Path) -> None:
    project, _ = small_project()
    project.reference_video = ReferenceVideo(str(tmp_path / "moved away.mp4"), 0.5)
    from signeditor.io.project_file import save_project

    save_project(project, tmp_path / "p.signproj")
    assert window.open_file(tmp_path / "p.signproj")
    message = window.video_review.reference.message.text()
    assert "not found" in message and str(tmp_path / "moved away.mp4") in message
    assert not window.video_review.reference.offset.isEnabled()
    assert window.reference_frames is None  # and export offers no side-by-side


def test_keypoint_overlay_draws_the_detected_points(qtbot, window, tmp_path: Path) -> None:
    from signeditor.video.decode import probe_video

    pytest.importorskip("mediapipe", reason="the holistic layout comes from pose-format's MediaPipe module")
    from signeditor.video.importer import write_holistic_pose

    video = write_frames_mp4(tmp_path / "numbers.mp4", numbered_frames(10, (160, 120)))
    points = np.zeros((10, 576, 3), np.float32)
    confidence = np.zeros((10, 576), np.float32)
    points[:, 0, :2] = [80, 60]  # the nose in the middle of every frame
    confidence[:, 0] = 1.0
    write_holistic_pose(tmp_path / "numbers.pose", probe_video(video), points, confidence)
    window.video_review.attach_video(video, keypoints=str(tmp_path / "numbers.pose"))
    dock = window.video_review.reference
    window.seek(4)
    qtbot.waitUntil(lambda: dock.shown_index == 4, timeout=5000)
    plain = dock.image.pixel(80, 60)
    dock.overlay.setChecked(True)
    qtbot.waitUntil(lambda: dock.image.pixel(80, 60) != plain, timeout=5000)
    assert QtGui.QColor(dock.image.pixel(80, 60)).red() > 200  # the pose points' red
    assert dock.image.pixel(10, 10) == plain  # elsewhere the picture is untouched


def lane_colour(win, frame: int) -> tuple[int, int, int]:
    timeline = win.timeline
    point = view_point(timeline, timeline.track_box.mapViewToScene(QtCore.QPointF(frame, TRACK_Y["sign"] + 0.4)))
    image = timeline.grab().toImage()
    colour = QtGui.QColor(image.pixel(int(point.x() * image.devicePixelRatio()),
                                      int(point.y() * image.devicePixelRatio())))
    return colour.red(), colour.green(), colour.blue()


def test_review_status_colours_the_signs_lane_and_is_undoable(qtbot, window) -> None:
    win = window
    panel = win.video_review.review
    win.seek(10)
    assert "HAUS" in panel.title.text()
    draft = lane_colour(win, 14)
    qtbot.mouseClick(panel.status_buttons[APPROVED], QtCore.Qt.MouseButton.LeftButton)
    assert win.document.project.segments[0].status == APPROVED
    approved = lane_colour(win, 14)
    assert approved[1] > approved[0] and approved[1] > approved[2] and approved != draft  # green
    needs_work = lane_colour(win, 34)
    assert needs_work[0] > needs_work[1] and needs_work[0] > needs_work[2]  # orange-red
    win.undo_action.trigger()
    assert win.document.project.segments[0].status == "draft" and lane_colour(win, 14) == draft


def test_comments_and_next_sign_needing_work(qtbot, window, tmp_path: Path) -> None:
    win = window
    panel = win.video_review.review
    win.seek(30)
    qtbot.keyClicks(panel.comment_edit, "handshape too open")
    qtbot.keyClick(panel.comment_edit, QtCore.Qt.Key.Key_Return)
    assert win.document.project.segments[1].comments == ("handshape too open",)
    assert [panel.comments.item(i).text() for i in range(panel.comments.count())] == ["handshape too open"]
    win.seek(50)
    qtbot.mouseClick(panel.status_buttons[NEEDS_WORK], QtCore.Qt.MouseButton.LeftButton)
    win.seek(0)
    qtbot.mouseClick(panel.next_button, QtCore.Qt.MouseButton.LeftButton)
    assert win.document.frame == 25
    win.video_review.actions["next_needs_work"].trigger()
    assert win.document.frame == 45
    win.video_review.actions["next_needs_work"].trigger()
    assert win.document.frame == 25  # wraps round
    win.undo_action.trigger()
    win.undo_action.trigger()
    assert win.document.project.segments[1].comments == () and win.document.project.segments[2].status == "draft"


def test_review_round_trip_through_elan(qtbot, window, tmp_path: Path) -> None:
    win = window
    path = export_project(win.document.project, tmp_path / "review.eaf")
    eaf = pympi.Elan.Eaf(str(path))
    eaf.remove_annotation("Status", 1300)
    eaf.add_annotation("Status", 1000, 1600, "approved")
    eaf.add_annotation("Comments", 200, 800, "good")
    eaf.to_file(str(path))
    assert win.video_review.merge_review(path) == []
    segments = win.document.project.segments
    assert (segments[0].comments, segments[1].status) == (("good",), APPROVED)
    win.undo_action.trigger()
    assert (win.document.project.segments[0].comments, win.document.project.segments[1].status) == ((), NEEDS_WORK)


def test_file_menu_has_the_new_entries(window) -> None:
    file_menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&File")
    texts = [a.text() for a in file_menu.actions()]
    assert {"Import &video…", "Attach &reference video…", "Import review from &ELAN…"} <= set(texts)
    assert texts.index("Import &video…") < next(i for i, t in enumerate(texts) if "Export" in t)
    assert isinstance(window.docks["reference"].widget(), QtWidgets.QWidget)


@pytest.mark.video
@pytest.mark.slow
def test_import_video_runs_on_a_worker_with_progress_and_opens_the_result(qtbot, window, rendered_sample,
                                                                         tmp_path: Path) -> None:
    pytest.importorskip("mediapipe", reason="needs the [video] extra")
    win = window
    tools = win.video_review
    assert tools.import_video(rendered_sample[0], tmp_path / "take.signproj")
    qtbot.waitUntil(lambda: "frames/s" in (tools.importer.dialog.labelText() if tools.importer.dialog else ""),
                    timeout=20000)
    assert "left" in tools.importer.dialog.labelText()
    win.seek(7)  # the window answers while frames are read
    assert win.timeline.playhead_frame == 7 and tools.importer.busy
    assert not tools.import_video(rendered_sample[0], tmp_path / "other.signproj")  # one import at a time
    qtbot.waitUntil(lambda: not tools.importer.busy, timeout=60000)
    assert win.document.path == tmp_path / "take.signproj" and win.document.n_frames == 100
    assert len(win.document.anchors) > 0
    qtbot.waitUntil(lambda: tools.reference.video_frames == 100, timeout=5000)
    assert load_project(tmp_path / "take.signproj").reference_video.path == str(rendered_sample[0].resolve())


@pytest.mark.video
@pytest.mark.slow
def test_cancelling_an_import_leaves_no_file_and_keeps_the_document(qtbot, window, rendered_sample,
                                                                   tmp_path: Path) -> None:
    pytest.importorskip("mediapipe", reason="needs the [video] extra")
    win = window
    tools = win.video_review
    before = win.document
    tools.import_video(rendered_sample[0], tmp_path / "take.signproj")
    qtbot.waitUntil(lambda: tools.importer.dialog is not None and tools.importer.dialog.value() > 2, timeout=20000)
    cancel = tools.importer.dialog.findChild(QtWidgets.QPushButton)
    qtbot.mouseClick(cancel, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not tools.importer.busy, timeout=20000)
    assert "cancelled" in tools.importer.last_message
    assert win.document is before and not list(tmp_path.glob("take.*"))


def test_failed_import_shows_the_problem(qtbot, window, tmp_path: Path, monkeypatch) -> None:
    shown = []
    monkeypatch.setattr(QtWidgets.QMessageBox, "critical", lambda *args: shown.append(args[2]))
    (tmp_path / "notes.mp4").write_text("not a video")
    window.video_review.import_video(tmp_path / "notes.mp4", tmp_path / "out.signproj")
    qtbot.waitUntil(lambda: bool(shown), timeout=10000)
    assert "notes.mp4" in shown[0] and "not a readable video" in shown[0]
    assert not (tmp_path / "out.signproj").exists()
