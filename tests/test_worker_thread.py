"""The one worker pattern's thread life cycle: a quitting application ends every worker thread by itself."""

from __future__ import annotations

from signeditor.gui.worker_thread import LatestRequestWorker, WorkerThread, running_worker_threads


def test_a_worker_thread_ends_when_the_application_quits(qtbot, qapp) -> None:
    owner = WorkerThread(LatestRequestWorker(), "quit-probe")
    assert "quit-probe" in running_worker_threads()
    qapp.aboutToQuit.emit()  # what QApplication.quit() sends before the event loop returns
    assert not owner.thread.isRunning() and "quit-probe" not in running_worker_threads()


def test_a_replaced_document_s_regenerator_is_not_waited_for_but_joined_at_close(qtbot, make_window) -> None:
    from gui_helpers import HoldRegenerate, small_project

    slow = HoldRegenerate(delay_s=0.3)
    win = make_window(small_project()[0], regenerate=slow)
    first = win.regenerator
    calls = len(slow.calls)
    win.document.regeneration_needed.emit(0, 60, True)
    qtbot.waitUntil(lambda: len(slow.calls) > calls, timeout=5000)  # its worker is busy for 0.3 s
    win.set_project(small_project()[0])
    assert win.regenerator is not first
    assert running_worker_threads().count("regeneration") == 2, "opening did not wait for the busy one"
    win.close()
    assert running_worker_threads() == [], "closing the window joined every thread, the replaced one's too"
