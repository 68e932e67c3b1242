"""File jobs on the worker: opening (reading, IK, FAST) and exports, with progress and a working Cancel."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from PySide6 import QtCore, QtWidgets

from signeditor.core.segments import Segment


class SlowSegmenter:
    """FAST stand-in that records its thread and takes long enough for the progress dialog to show."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.threads: list[threading.Thread] = []
        self.busy = (0.0, 0.0)  # when segment() slept (perf_counter)

    def segment(self, motion: object) -> list[Segment]:
        self.threads.append(threading.current_thread())
        self.busy = (time.perf_counter(), time.perf_counter() + self.seconds)
        time.sleep(self.seconds)
        return [Segment(2, 9, "SIGN")]


@pytest.fixture
def slow_fast(monkeypatch: pytest.MonkeyPatch) -> SlowSegmenter:
    segmenter = SlowSegmenter(0.8)
    monkeypatch.setattr("signeditor.ml.fast.api.load_segmenter", lambda *a, **k: segmenter)
    return segmenter


def test_open_runs_fast_off_the_gui_thread_with_progress(make_window, make_pose_file, slow_fast, qtbot) -> None:
    win = make_window()
    path, _ = make_pose_file("take.pose", n_frames=16)
    ticks: list[float] = []
    timer = QtCore.QTimer()
    timer.timeout.connect(lambda: ticks.append(time.perf_counter()))
    timer.start(50)
    assert win.open_file(path)
    timer.stop()
    assert slow_fast.threads and slow_fast.threads[0] is not threading.main_thread()
    start, end = slow_fast.busy
    during = [t for t in ticks if start <= t <= end]
    # A blocked GUI thread gets at most one (coalesced) tick in; a loaded machine still gets several of 16.
    assert len(during) >= 3, "the GUI thread kept running its event loop while FAST worked"
    assert win.file_jobs.stages[0] == "reading" and any("FAST" in s for s in win.file_jobs.stages)
    assert [a.label for a in win.document.anchors] == ["SIGN onset", "SIGN middle", "SIGN offset"]


def test_cancel_leaves_the_open_project_untouched(make_window, make_pose_file, slow_fast, qtbot) -> None:
    win = make_window()
    before = win.document.project
    path, _ = make_pose_file("take.pose", n_frames=16)

    def press_cancel() -> None:
        dialogs = [w for w in QtWidgets.QApplication.topLevelWidgets()
                   if isinstance(w, QtWidgets.QProgressDialog) and w.isVisible()]
        if not dialogs:
            QtCore.QTimer.singleShot(50, press_cancel)
            return
        button = dialogs[0].findChild(QtWidgets.QPushButton)
        qtbot.mouseClick(button, QtCore.Qt.MouseButton.LeftButton)

    slow_fast.seconds = 1.5
    QtCore.QTimer.singleShot(50, press_cancel)
    assert not win.open_file(path)
    assert win.document.project is before
    assert "cancelled" in win.statusBar().currentMessage()


def test_a_broken_file_is_reported_by_name(make_window, tmp_path: Path, monkeypatch, qtbot) -> None:
    win = make_window()
    broken = tmp_path / "broken.pose"
    broken.write_bytes(b"not a pose file")
    messages: list[str] = []
    monkeypatch.setattr(QtWidgets.QMessageBox, "critical", lambda _parent, _title, text: messages.append(text))
    assert not win.open_file(broken)
    assert messages and "broken.pose" in messages[0]


def test_export_runs_on_the_worker_and_writes_the_file(make_window, tmp_path: Path, monkeypatch, qtbot) -> None:
    from signeditor import app_services

    threads: list[threading.Thread] = []
    original = app_services.export_document

    def recording_export(*args: object, **kwargs: object) -> Path:
        threads.append(threading.current_thread())
        return original(*args, **kwargs)

    monkeypatch.setattr("signeditor.gui.file_jobs.export_document", recording_export)
    win = make_window()
    target = tmp_path / "take.bvh"
    assert win.export_to(target, "bvh")
    assert threads and threads[0] is not threading.main_thread()
    assert target.read_text().startswith("HIERARCHY")
    assert "Exported" in win.statusBar().currentMessage()
