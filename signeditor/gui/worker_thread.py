"""The editor's one worker pattern: "newest request wins", cooperative stop, and the thread's life cycle.

Worker objects (regeneration, drafts, opening files and exports, video import, the sign library) run Python on
their own QThread. Every request carries a generation number; the owner (GUI thread) tells the worker the newest
one with :meth:`LatestRequestWorker.note_latest`, so a queued request that is already superseded is skipped, and a
running one stops at its next :func:`~signeditor.cancellation.raise_if_stopped` (between sampler steps, draft
stages, import stages). Results still carry their generation and the owner applies only the newest.
:class:`WorkerThread` moves a worker to its thread, deletes it in that thread when it ends, and stops it on
shutdown. Python's garbage collector must only ever run in the GUI thread (``GuiThreadCollector``;
``collection_paused`` is the inner guard).
"""

from __future__ import annotations

import contextlib
import gc
import logging
import threading
import weakref
from collections.abc import Iterator

from PySide6 import QtCore

from signeditor.cancellation import stop_check

logger = logging.getLogger(__name__)


class LatestRequestWorker(QtCore.QObject):
    """Base of the editor's workers: tracks the newest generation and which jobs should stop."""

    def __init__(self) -> None:
        super().__init__()
        self._latest = 0
        self._latest_lock = threading.Lock()
        self._closing = threading.Event()

    def note_latest(self, generation: int) -> None:
        """From the GUI thread: requests older than ``generation`` are stale (skipped, or stopped if running)."""
        with self._latest_lock:
            self._latest = max(self._latest, generation)

    def close(self) -> None:
        """From the GUI thread: every job stops at its next check (the window is closing)."""
        self._closing.set()

    def should_stop(self, generation: int) -> bool:
        with self._latest_lock:
            return self._closing.is_set() or generation < self._latest

    @contextlib.contextmanager
    def working_on(self, generation: int) -> Iterator[None]:
        """The job for ``generation``: the collector paused, and deep stop checks answering for this request."""
        with collection_paused(), stop_check(lambda: self.should_stop(generation)):
            yield


#: Every worker thread started and not yet shut down (tests check none outlives its test).
_live_threads: weakref.WeakSet[WorkerThread] = weakref.WeakSet()


def running_worker_threads() -> list[str]:
    """Names of worker threads still running (a leak when a test or window has ended)."""
    names = []
    for owner in list(_live_threads):
        with contextlib.suppress(RuntimeError):  # the C++ thread object is already gone
            if owner.thread.isRunning():
                names.append(owner.thread.objectName())
    return names


class WorkerThread(QtCore.QObject):
    """Owns one worker's QThread: moves the worker there, starts it, and cleans up on :meth:`shutdown`."""

    def __init__(self, worker: LatestRequestWorker, name: str, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        _live_threads.add(self)
        self.worker = worker
        self.thread = QtCore.QThread(self)
        self.thread.setObjectName(name)
        worker.moveToThread(self.thread)
        self.thread.finished.connect(worker.deleteLater)  # the worker dies in its own thread
        self.thread.start()
        app = QtCore.QCoreApplication.instance()
        if app is not None:  # an application quitting without its windows closing still ends the thread
            app.aboutToQuit.connect(self.shutdown)

    def request_stop(self) -> None:
        """Ask the running job to stop at its next check, without waiting (the thread keeps its event loop, so
        its owner can still queue clean-up on it). A window closing asks all of its workers first, so the jobs
        wind down together instead of one after another."""
        self.worker.close()

    @QtCore.Slot()
    def shutdown(self, wait_ms: int = 10_000) -> None:
        """Ask the running job to stop, end the thread's event loop and wait for it (idempotent)."""
        self.request_stop()
        if self.thread.isRunning():
            self.thread.quit()
            self.thread.wait(wait_ms)


_gc_lock = threading.Lock()
#: busy: worker slots running; paused: the collector is off because of them (until the GUI thread resumes it);
#: enabled: whether it was on before the first of them paused it.
_gc_state = {"busy": 0, "paused": False, "enabled": True}


@contextlib.contextmanager
def collection_paused() -> Iterator[None]:
    """Keep Python's cyclic garbage collector out of the worker thread while it works.

    A collection that happens to start in the worker thread frees whatever
    garbage exists, including Qt wrappers of the GUI thread (a closed window,
    its timers), and runs their C++ destructors in the wrong thread, which
    corrupts Qt's timer lists (a crash later, in the GUI thread). So the
    collector is paused for the worker's whole slot, and switched back on from
    the GUI thread's event loop, where any pending collection then runs.
    """
    with _gc_lock:
        if not _gc_state["paused"]:  # not while a resume is still queued: it would record "off" as the user's state
            _gc_state["enabled"] = gc.isenabled()
            _gc_state["paused"] = True
        _gc_state["busy"] += 1
        gc.disable()
    try:
        yield
    finally:
        with _gc_lock:
            _gc_state["busy"] -= 1
        app = QtCore.QCoreApplication.instance()
        if app is not None:
            QtCore.QTimer.singleShot(0, app, _resume_collection)
        else:
            _resume_collection()


def collection_is_paused() -> bool:
    """True while a worker's pause has not yet been lifted by the GUI thread."""
    with _gc_lock:
        return bool(_gc_state["paused"])


def _resume_collection() -> None:
    with _gc_lock:
        if _gc_state["busy"] == 0 and _gc_state["paused"]:
            _gc_state["paused"] = False
            if _gc_state["enabled"]:
                gc.enable()


class GuiThreadCollector(QtCore.QObject):
    """Python's cyclic garbage collector, run from the GUI thread's event loop only.

    Automatic collection starts in whichever thread happens to allocate when
    a threshold is crossed: pausing it inside worker slots (above) still
    leaves the moments around them (signal arguments being converted,
    thread start-up, third-party threads), and a collection there runs Qt
    destructors of GUI objects in the wrong thread, which corrupts Qt's timer
    lists: a crash, or an event loop that never returns. So the automatic
    collector is switched off for the whole process and this timer applies
    the same generation thresholds from the GUI thread.
    """

    def __init__(self, parent: QtCore.QObject, interval_ms: int = 250) -> None:
        super().__init__(parent)
        with _gc_lock:
            _gc_state["enabled"] = False  # a pause in flight must not switch automatic collection back on
            gc.disable()
        self._timer = QtCore.QTimer(self)
        self._timer.timeout.connect(self.collect_due)
        self._timer.start(interval_ms)

    @staticmethod
    def collect_due() -> None:
        """Collect the oldest generation whose threshold is crossed, as automatic collection would."""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        for generation in (2, 1, 0):
            if thresholds[generation] and counts[generation] > thresholds[generation]:
                try:
                    gc.collect(generation)
                except SystemError as exc:  # a finaliser's error (a freed buffer still exported) must not reach
                    logger.warning("garbage collection reported: %s", exc)  # the event loop as a crash
                return


def install_gui_thread_collector() -> GuiThreadCollector | None:
    """Install the collector once per application (the editor window calls this); None without an application."""
    app = QtCore.QCoreApplication.instance()
    if app is None:
        return None
    existing = app.findChild(GuiThreadCollector)
    return existing if existing is not None else GuiThreadCollector(app)
