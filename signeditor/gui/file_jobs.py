"""Opening files on a worker: reading, IK and FAST never run on the GUI thread.

:meth:`DocumentOpener.open` sends the path to an :class:`OpenWorker` (the editor's one worker pattern) and waits
in a local event loop, so the window keeps painting; a progress dialog with *Cancel* appears when the open takes
longer than half a second. Cancel stops the job between stages and leaves the open project untouched.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6 import QtCore, QtWidgets

from signeditor.app_services import OpenCancelled, open_document
from signeditor.cancellation import Stopped
from signeditor.core.project import Project
from signeditor.errors import FileFormatError
from signeditor.gui.worker_thread import LatestRequestWorker, WorkerThread

SHOW_PROGRESS_AFTER_MS = 500


@dataclass(frozen=True)
class OpenRequest:
    generation: int
    path: Path


class OpenWorker(LatestRequestWorker):
    progress = QtCore.Signal(int, str, float)  # generation, stage, fraction done
    result = QtCore.Signal(int, object)  # generation, Project
    failed = QtCore.Signal(int, str)  # generation, message naming the file
    cancelled = QtCore.Signal(int)

    @QtCore.Slot(object)
    def run(self, request: OpenRequest) -> None:
        generation = request.generation
        if self.should_stop(generation):
            self.cancelled.emit(generation)
            return
        try:
            with self.working_on(generation):
                project = open_document(request.path,
                                        progress=lambda stage, done: self.progress.emit(generation, stage, done),
                                        should_stop=lambda: self.should_stop(generation))
        except (OpenCancelled, Stopped):
            self.cancelled.emit(generation)
            return
        except (FileFormatError, OSError) as exc:
            self.failed.emit(generation, str(exc))
            return
        except Exception as exc:  # an unexpected importer bug must become a message, never a dead editor
            self.failed.emit(generation, f"{request.path}: {type(exc).__name__}: {exc}")
            return
        self.result.emit(generation, project)


class DocumentOpener(QtCore.QObject):
    """Owner of the open worker; one open at a time, the newest wins. Its slots run in the GUI thread."""

    _request = QtCore.Signal(object)

    def __init__(self, window: QtWidgets.QWidget) -> None:
        super().__init__(window)
        self.window = window
        self.generation = 0
        self.worker = OpenWorker()
        self._thread = WorkerThread(self.worker, "open-file", self)
        queued = QtCore.Qt.ConnectionType.QueuedConnection
        self._request.connect(self.worker.run, queued)
        self.worker.progress.connect(self._on_progress, queued)
        self.worker.result.connect(self._on_result, queued)
        self.worker.failed.connect(self._on_failed, queued)
        self.worker.cancelled.connect(self._on_cancelled, queued)
        #: The stages the last open went through (what the progress dialog showed).
        self.stages: list[str] = []
        self.dialog: QtWidgets.QProgressDialog | None = None
        self._outcome: dict[str, object] = {}
        self._loop: QtCore.QEventLoop | None = None
        self._job_generation = 0

    def cancel(self) -> None:
        self.generation += 1
        self.worker.note_latest(self.generation)

    def open(self, path: str | Path) -> Project | None:
        """The opened project; None when cancelled; FileFormatError when the file cannot be opened."""
        path = Path(path)
        self.cancel()  # a new open supersedes any other
        self.stages, self._outcome = [], {}
        dialog = QtWidgets.QProgressDialog(f"Opening {path.name}…", "Cancel", 0, 100, self.window)
        dialog.setWindowModality(QtCore.Qt.WindowModality.WindowModal)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.setMinimumDuration(SHOW_PROGRESS_AFTER_MS)
        dialog.canceled.connect(self.cancel)
        dialog.reset()  # no automatic show; the timer below shows it when the open is slow
        self.dialog = dialog
        show_later = QtCore.QTimer(self)
        show_later.setSingleShot(True)
        show_later.timeout.connect(dialog.show)
        show_later.start(SHOW_PROGRESS_AFTER_MS)
        self._loop = QtCore.QEventLoop(self)
        self._job_generation = self.generation
        self._request.emit(OpenRequest(self.generation, path))
        self._loop.exec()
        show_later.stop()
        show_later.deleteLater()
        self._loop = None
        self.dialog = None
        dialog.close()
        dialog.deleteLater()
        if "error" in self._outcome:
            raise FileFormatError(path, str(self._outcome["error"]).removeprefix(f"{path}: "))
        project = self._outcome.get("project")
        return project if isinstance(project, Project) else None

    def _finish(self, generation: int, key: str, value: object) -> None:
        """The job of the open being waited for ended; if Cancel was pressed meanwhile, its result is dropped."""
        if self._loop is None or generation != self._job_generation:
            return
        self._outcome["cancelled" if generation != self.generation else key] = value
        self._loop.quit()

    @QtCore.Slot(int, str, float)
    def _on_progress(self, generation: int, stage: str, done: float) -> None:
        if generation == self.generation and self.dialog is not None:
            self.stages.append(stage)
            self.dialog.setLabelText(f"Opening: {stage}…")
            self.dialog.setValue(int(done * 100))

    @QtCore.Slot(int, object)
    def _on_result(self, generation: int, project: object) -> None:
        self._finish(generation, "project", project)

    @QtCore.Slot(int, str)
    def _on_failed(self, generation: int, message: str) -> None:
        self._finish(generation, "error", message)

    @QtCore.Slot(int)
    def _on_cancelled(self, generation: int) -> None:
        self._finish(generation, "cancelled", True)

    def shutdown(self) -> None:
        self.cancel()
        if self._loop is not None:
            self._loop.quit()
        self._thread.shutdown()
