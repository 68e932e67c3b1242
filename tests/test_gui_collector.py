"""Python's garbage collector runs in the GUI thread only, never in a worker (Qt destructors are thread-bound)."""

from __future__ import annotations

import gc
import threading

import pytest
from PySide6 import QtCore

from signeditor.gui.worker_thread import collection_paused, install_gui_thread_collector


class _Cycle:
    """A reference cycle that records the thread its finaliser runs in."""

    def __init__(self, seen: list[int]) -> None:
        self.me = self
        self.seen = seen

    def __del__(self) -> None:
        self.seen.append(threading.get_ident())


@pytest.mark.xfail(strict=False, reason="open (issue #27): after other GUI tests the probe cycle is not seen "
                   "collected within 3 s although the collector's timer is active and generation 0 is past its "
                   "threshold; passes alone and in some orders")
def test_cycles_are_collected_by_the_gui_thread_even_when_a_worker_allocates(qtbot) -> None:
    collector = install_gui_thread_collector()
    assert collector is not None and install_gui_thread_collector() is collector  # once per application
    assert not gc.isenabled()
    seen: list[int] = []
    threshold = gc.get_threshold()
    gc.set_threshold(50, *threshold[1:])
    try:
        _Cycle(seen)
        kept: list[list[list]] = []

        def allocate() -> None:
            # Before its slot's pause (converting a signal's arguments, say), far past the threshold:
            # automatic collection would start right here, in the worker. The lists stay alive, so the
            # generation-0 count stays past the threshold whatever the earlier tests left collected (freed
            # at once, they brought the count back under it and the test passed only after a busy test).
            kept.append([[] for _ in range(5000)])
            with collection_paused():
                pass

        worker = threading.Thread(target=allocate)
        worker.start()
        worker.join()
        assert seen == [], "no collection ran in the worker"
        qtbot.waitUntil(lambda: bool(seen), timeout=3000)
        assert seen == [threading.get_ident()], "the GUI thread collected the cycle"
        QtCore.QCoreApplication.processEvents()
        assert not gc.isenabled(), "a lifted worker pause does not switch automatic collection back on"
    finally:
        gc.set_threshold(*threshold)
