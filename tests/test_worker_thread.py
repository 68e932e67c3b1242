"""The one worker pattern's thread life cycle: a quitting application ends every worker thread by itself."""

from __future__ import annotations

import threading

from gui_helpers import small_project

from signeditor.core.motion import Motion
from signeditor.gui.worker_thread import LatestRequestWorker, WorkerThread, running_worker_threads


def test_a_worker_thread_ends_when_the_application_quits(qtbot, qapp) -> None:
    owner = WorkerThread(LatestRequestWorker(), "quit-probe")
    assert "quit-probe" in running_worker_threads()
    qapp.aboutToQuit.emit()  # what QApplication.quit() sends before the event loop returns
    assert not owner.thread.isRunning() and "quit-probe" not in running_worker_threads()


class BlockingRegenerate:
    """A regenerator whose job holds its worker until the test releases it."""

    backend = "blocking (test)"

    def __init__(self) -> None:
        self.started, self.release = threading.Event(), threading.Event()

    def __call__(self, motion: Motion, anchors: object, frame_range: object, text: str = "",
                 signed_language: str = "") -> Motion:
        self.started.set()
        self.release.wait(30)
        return motion


def test_a_replaced_document_s_regenerator_is_not_waited_for_but_joined_at_close(qtbot, make_window) -> None:
    blocking = BlockingRegenerate()
    win = make_window(small_project()[0], regenerate=blocking)
    first = win.regenerator
    win.document.regeneration_needed.emit(0, 60, True)
    qtbot.waitUntil(blocking.started.is_set, timeout=5000)  # its worker is busy until released
    win.set_project(small_project()[0])
    assert win.regenerator is not first
    assert running_worker_threads().count("regeneration") == 2, "opening did not wait for the busy one"
    blocking.release.set()
    win.close()
    assert running_worker_threads() == [], "closing the window joined every thread, the replaced one's too"
