"""The one worker pattern's thread life cycle: a quitting application ends every worker thread by itself."""

from __future__ import annotations

from signeditor.gui.worker_thread import LatestRequestWorker, WorkerThread, running_worker_threads


def test_a_worker_thread_ends_when_the_application_quits(qtbot, qapp) -> None:
    owner = WorkerThread(LatestRequestWorker(), "quit-probe")
    assert "quit-probe" in running_worker_threads()
    qapp.aboutToQuit.emit()  # what QApplication.quit() sends before the event loop returns
    assert not owner.thread.isRunning() and "quit-probe" not in running_worker_threads()
