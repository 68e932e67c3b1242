"""Loading a figure off the GUI thread: the window opens with the mannequin as a placeholder and the remembered
avatar replaces it when its file is read (a shipped GLB takes ~0.5 s: textures, meshopt, skinning tables).

One worker (the editor's pattern, gui/worker_thread.py): the newest request wins, so choosing another figure
while one loads drops the older result.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6 import QtCore

from signeditor.gui.worker_thread import LatestRequestWorker, WorkerThread
from signeditor.io.errors import FileFormatError
from signeditor.render.avatars.catalog import Figure, load_avatar


class AvatarLoadWorker(LatestRequestWorker):
    loaded = QtCore.Signal(int, str, object)  # generation, choice, the figure
    failed = QtCore.Signal(int, str, str)  # generation, choice, message

    @QtCore.Slot(int, str)
    def load(self, generation: int, choice: str) -> None:
        if self.should_stop(generation):
            return
        try:
            with self.working_on(generation):
                figure = load_avatar(choice)
        except FileFormatError as exc:
            self.failed.emit(generation, choice, str(exc))
            return
        except Exception as exc:  # an unexpected bug must become a message, never a dead editor
            self.failed.emit(generation, choice, f"{type(exc).__name__}: {exc}")
            return
        self.loaded.emit(generation, choice, figure)


class AvatarLoader(QtCore.QObject):
    """Owner of the avatar worker; its callbacks run in the GUI thread with the newest request's outcome."""

    _request = QtCore.Signal(int, str)

    def __init__(self, on_loaded: Callable[[str, Figure], None], on_failed: Callable[[str, str], None],
                 parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self._on_loaded, self._on_failed = on_loaded, on_failed
        self.generation = 0
        #: The choice being loaded, or None when nothing is pending.
        self.pending: str | None = None
        self.worker = AvatarLoadWorker()
        self._thread = WorkerThread(self.worker, "avatar-loading", self)
        queued = QtCore.Qt.ConnectionType.QueuedConnection
        self._request.connect(self.worker.load, queued)
        self.worker.loaded.connect(self._loaded, queued)
        self.worker.failed.connect(self._failed, queued)

    def request(self, choice: str) -> None:
        self.generation += 1
        self.worker.note_latest(self.generation)
        self.pending = choice
        self._request.emit(self.generation, choice)

    def cancel(self) -> None:
        """A figure chosen otherwise (the menu) supersedes the one loading."""
        self.generation += 1
        self.worker.note_latest(self.generation)
        self.pending = None

    def shutdown(self) -> None:
        self.cancel()
        self._thread.shutdown()

    @QtCore.Slot(int, str, object)
    def _loaded(self, generation: int, choice: str, figure: Figure) -> None:
        if generation == self.generation:
            self.pending = None
            self._on_loaded(choice, figure)

    @QtCore.Slot(int, str, str)
    def _failed(self, generation: int, choice: str, message: str) -> None:
        if generation == self.generation:
            self.pending = None
            self._on_failed(choice, message)
