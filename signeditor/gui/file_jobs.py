"""Long file jobs (opening with IK and FAST, exports) on a worker: the GUI thread never runs them.

:meth:`FileJobs.run` sends a job to a :class:`FileJobWorker` (the editor's one worker pattern) and waits in a
local event loop, so the window keeps painting; a progress dialog with *Cancel* appears when the job takes longer
than half a second. Cancel stops the job at its next stage (``should_stop``/``raise_if_stopped``) and drops its
result; files are written atomically, so a stopped export leaves no partial file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from PySide6 import QtCore, QtWidgets

from signeditor.app_services import OpenCancelled, ProgressFn, StopFn, export_document, open_document
from signeditor.cancellation import Stopped
from signeditor.core.project import Project
from signeditor.errors import FileFormatError
from signeditor.gui.worker_thread import LatestRequestWorker, WorkerThread

SHOW_PROGRESS_AFTER_MS = 500
#: A job: called in the worker thread with a progress report and a stop check; returns its result.
Job = Callable[[ProgressFn, StopFn], object]


class JobFailed(Exception):
    """The job raised; the message is the error's (naming the file for file errors)."""


@dataclass(frozen=True)
class JobRequest:
    generation: int
    job: Job


class FileJobWorker(LatestRequestWorker):
    progress = QtCore.Signal(int, str, float)  # generation, stage, fraction done
    result = QtCore.Signal(int, object)  # generation, the job's result
    failed = QtCore.Signal(int, str)  # generation, message
    cancelled = QtCore.Signal(int)

    @QtCore.Slot(object)
    def run(self, request: JobRequest) -> None:
        generation = request.generation
        if self.should_stop(generation):
            self.cancelled.emit(generation)
            return
        try:
            with self.working_on(generation):
                value = request.job(lambda stage, done: self.progress.emit(generation, stage, done),
                                    lambda: self.should_stop(generation))
        except (OpenCancelled, Stopped):
            self.cancelled.emit(generation)
            return
        except (FileFormatError, OSError) as exc:
            self.failed.emit(generation, str(exc))
            return
        except Exception as exc:  # an unexpected bug must become a message, never a dead editor
            self.failed.emit(generation, f"{type(exc).__name__}: {exc}")
            return
        self.result.emit(generation, value)


class FileJobs(QtCore.QObject):
    """Owner of the file-job worker; one job at a time, the newest wins. Its slots run in the GUI thread."""

    _request = QtCore.Signal(object)

    def __init__(self, window: QtWidgets.QWidget) -> None:
        super().__init__(window)
        self.window = window
        self.generation = 0
        self.worker = FileJobWorker()
        self._thread = WorkerThread(self.worker, "file-jobs", self)
        queued = QtCore.Qt.ConnectionType.QueuedConnection
        self._request.connect(self.worker.run, queued)
        self.worker.progress.connect(self._on_progress, queued)
        self.worker.result.connect(self._on_result, queued)
        self.worker.failed.connect(self._on_failed, queued)
        self.worker.cancelled.connect(self._on_cancelled, queued)
        #: The stages the last job went through (what the progress dialog showed).
        self.stages: list[str] = []
        self.dialog: QtWidgets.QProgressDialog | None = None
        self._outcome: dict[str, object] = {}
        self._loop: QtCore.QEventLoop | None = None
        self._job_generation = 0
        self._title = ""

    def cancel(self) -> None:
        self.generation += 1
        self.worker.note_latest(self.generation)

    def run(self, title: str, job: Job) -> tuple[bool, object]:
        """(finished, result): (False, None) when cancelled; JobFailed with the message when the job raised."""
        if self._loop is not None:
            raise JobFailed("another file job is still running")
        self.cancel()  # a new job supersedes any other
        self.stages, self._outcome, self._title = [], {}, title
        dialog = QtWidgets.QProgressDialog(f"{title}…", "Cancel", 0, 100, self.window)
        dialog.setWindowModality(QtCore.Qt.WindowModality.WindowModal)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        dialog.setMinimumDuration(SHOW_PROGRESS_AFTER_MS)
        dialog.canceled.connect(self.cancel)
        dialog.reset()  # no automatic show; the timer below shows it when the job is slow
        self.dialog = dialog
        show_later = QtCore.QTimer(self)
        show_later.setSingleShot(True)
        show_later.timeout.connect(dialog.show)
        show_later.start(SHOW_PROGRESS_AFTER_MS)
        self._loop = QtCore.QEventLoop(self)
        self._job_generation = self.generation
        self._request.emit(JobRequest(self.generation, job))
        self._loop.exec()
        show_later.stop()
        show_later.deleteLater()
        self._loop = None
        self.dialog = None
        dialog.close()
        dialog.deleteLater()
        if "error" in self._outcome:
            raise JobFailed(str(self._outcome["error"]))
        return ("result" in self._outcome, self._outcome.get("result"))

    def open(self, path: str | Path) -> Project | None:
        """The opened project (reading, IK, FAST on the worker); None when cancelled; FileFormatError on failure."""
        path = Path(path)
        try:
            finished, project = self.run(f"Opening {path.name}", lambda progress, stop: open_document(
                path, progress=progress, should_stop=stop))
        except JobFailed as exc:
            raise FileFormatError(path, str(exc).removeprefix(f"{path}: ")) from exc
        return project if finished and isinstance(project, Project) else None

    def export(self, project: Project, path: str | Path, format_name: str, **options: object) -> bool:
        """Write ``project`` on the worker; False when cancelled before it wrote; FileFormatError on failure.

        ``options`` go to the format's writer (``avatar`` for glTF: only read there, never drawn)."""
        path = Path(path)

        def job(progress: ProgressFn, stop: StopFn) -> Path:
            progress("writing", 0.1)
            if stop():
                raise Stopped
            return export_document(project, path, format_name, **options)

        try:
            finished, _ = self.run(f"Exporting {path.name}", job)
        except JobFailed as exc:
            raise FileFormatError(path, str(exc).removeprefix(f"{path}: ")) from exc
        return finished

    def _finish(self, generation: int, key: str, value: object) -> None:
        """The job being waited for ended; if Cancel was pressed meanwhile, its result is dropped."""
        if self._loop is None or generation != self._job_generation:
            return
        self._outcome["cancelled" if generation != self.generation else key] = value
        self._loop.quit()

    @QtCore.Slot(int, str, float)
    def _on_progress(self, generation: int, stage: str, done: float) -> None:
        if generation == self.generation and self.dialog is not None:
            self.stages.append(stage)
            self.dialog.setLabelText(f"{self._title}: {stage}…")
            self.dialog.setValue(int(done * 100))

    @QtCore.Slot(int, object)
    def _on_result(self, generation: int, value: object) -> None:
        self._finish(generation, "result", value)

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
