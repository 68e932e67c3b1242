"""Python's garbage collector runs in the GUI thread only, never in a worker (Qt destructors are thread-bound)."""

from __future__ import annotations

import gc
import threading

from PySide6 import QtCore

from signeditor.gui.worker_thread import collection_paused, install_gui_thread_collector


class _Cycle:
    """A reference cycle that records the thread its finaliser runs in."""

    def __init__(self, seen: list[int]) -> None:
        self.me = self
        self.seen = seen

    def __del__(self) -> None:
        self.seen.append(threading.get_ident())


def test_cycles_are_collected_by_the_gui_thread_even_when_a_worker_allocates(qtbot) -> None:
    collector = install_gui_thread_collector()
    assert collector is not None and install_gui_thread_collector() is collector  # once per application
    assert not gc.isenabled()
    seen: list[int] = []
    collecting_threads: list[str] = []

    def record(phase: str, info: dict) -> None:
        if phase == "start":
            collecting_threads.append(threading.current_thread().name)

    threshold = gc.get_threshold()
    gc.set_threshold(50, *threshold[1:])
    gc.callbacks.append(record)
    try:
        _Cycle(seen)
        kept: list[list[list]] = []

        def allocate() -> None:
            # Before its slot's pause (converting a signal's arguments, say), far past the threshold:
            # automatic collection would start right here, in the worker.
            kept.append([[] for _ in range(5000)])
            with collection_paused():
                pass

        worker = threading.Thread(target=allocate, name="allocating-worker")
        worker.start()
        worker.join()
        assert seen == [], "no collection ran in the worker"
        assert "allocating-worker" not in collecting_threads

        def collected() -> bool:
            # CPython counts tracked allocations minus deallocations since the last collection, and so does the
            # collector: the earlier tests' windows, deleted later in this wait, count it back under the threshold
            # (the test once failed so, depending on the order). Keep allocating, as a running editor does.
            kept.append([[] for _ in range(100)])
            return bool(seen)

        qtbot.waitUntil(collected, timeout=5000)
        assert seen == [threading.get_ident()], "the GUI thread collected the cycle"
        assert "allocating-worker" not in collecting_threads
        QtCore.QCoreApplication.processEvents()
        assert not gc.isenabled(), "a lifted worker pause does not switch automatic collection back on"
    finally:
        gc.callbacks.remove(record)
        gc.set_threshold(*threshold)
