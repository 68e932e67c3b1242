"""What every worker thread in the editor must respect.

Worker objects (regeneration, drafts) run Python on their own QThread.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

from PySide6 import QtCore

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


def _resume_collection() -> None:
    with _gc_lock:
        if _gc_state["busy"] == 0 and _gc_state["paused"]:
            _gc_state["paused"] = False
            if _gc_state["enabled"]:
                gc.enable()
