"""File > Import video…: the import runs on a worker thread behind a progress dialog with Cancel.

The dialog is not modal: the window stays responsive (the current project
can still be played and edited) while frames are read. Cancel stops between
frames and leaves no file; a finished import replaces the document, like
opening a file does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from PySide6 import QtCore, QtWidgets

from signeditor.gui.worker_thread import LatestRequestWorker, WorkerThread
from signeditor.video.importer import DetectorFactory, ImportProgress, VideoImportResult

VIDEO_FILTER = "Videos (*.mp4 *.mov *.m4v *.avi *.mkv *.webm *.mpg *.mpeg);;All files (*)"


@dataclass(frozen=True)
class ImportRequest:
    generation: int
    video: Path
    output: Path


class ImportOutcomeSignals(Protocol):
    """The three signals an import worker ends on, exactly one per request."""

    finished: QtCore.SignalInstance
    failed: QtCore.SignalInstance
    cancelled: QtCore.SignalInstance


def emit_import_outcome(worker: ImportOutcomeSignals, subject: Path, run: Callable[[], object]) -> None:
    """Run an import on the worker thread and end in one signal: finished (the result), cancelled, or failed (a
    message naming ``subject``); any unexpected error still ends as a message, never a dead worker."""
    from signeditor.video.holistic import VideoExtraMissing
    from signeditor.video.importer import ImportCancelled

    try:
        outcome = run()
    except ImportCancelled:
        worker.cancelled.emit()
    except (ValueError, VideoExtraMissing, OSError) as exc:  # FileFormatError is a ValueError
        worker.failed.emit(str(exc))
    except Exception as exc:
        worker.failed.emit(f"{subject}: import failed ({type(exc).__name__}: {exc})")
    else:
        worker.finished.emit(outcome)


class VideoImportWorker(LatestRequestWorker):
    """The editor's worker pattern: Cancel (a newer generation) stops the import between frames."""

    progress = QtCore.Signal(object)  # ImportProgress
    finished = QtCore.Signal(object)  # VideoImportResult
    failed = QtCore.Signal(str)
    cancelled = QtCore.Signal()

    def __init__(self, detector_factory: DetectorFactory | None = None) -> None:
        super().__init__()
        self.detector_factory = detector_factory

    @QtCore.Slot(object)
    def run(self, request: ImportRequest) -> None:
        from signeditor.video.importer import import_video

        with self.working_on(request.generation):
            emit_import_outcome(self, request.video, lambda: import_video(
                request.video, request.output, progress=self.progress.emit,
                should_stop=lambda: self.should_stop(request.generation), detector_factory=self.detector_factory))


def describe(progress: ImportProgress) -> str:
    if progress.stage == "fitting":
        return "Fitting the motion and finding the signs…"
    left = "" if progress.seconds_left is None else f", about {progress.seconds_left:.0f} s left"
    rate = f"{progress.frames_per_s:.1f} frames/s"
    return f"Finding the signer: frame {progress.frame} of {progress.total} ({rate}{left})"


class VideoImportController(QtCore.QObject):
    """Owns the worker thread and the progress dialog of one window's video imports."""

    imported = QtCore.Signal(object)  # VideoImportResult
    _start = QtCore.Signal(object)

    def __init__(self, parent_window: QtWidgets.QWidget, detector_factory: DetectorFactory | None = None) -> None:
        super().__init__(parent_window)
        self.window = parent_window
        self.dialog: QtWidgets.QProgressDialog | None = None
        self.busy = False
        self.last_message = ""
        self.generation = 0
        self._cancelling = False
        self.worker = VideoImportWorker(detector_factory)
        self._thread = WorkerThread(self.worker, "video-import", self)
        queued = QtCore.Qt.ConnectionType.QueuedConnection
        self._start.connect(self.worker.run, queued)
        self.worker.progress.connect(self._on_progress, queued)
        self.worker.finished.connect(self._on_finished, queued)
        self.worker.failed.connect(self._on_failed, queued)
        self.worker.cancelled.connect(self._on_cancelled, queued)

    def start(self, video: str | Path, output: str | Path) -> bool:
        if self.busy:
            return False
        self.busy = True
        self._cancelling = False
        self.generation += 1
        self.worker.note_latest(self.generation)
        self.dialog = QtWidgets.QProgressDialog(f"Importing {Path(video).name}…", "Cancel", 0, 0, self.window)
        self.dialog.setWindowTitle("Import video")
        self.dialog.setWindowModality(QtCore.Qt.WindowModality.NonModal)
        self.dialog.setAutoClose(False)
        self.dialog.setAutoReset(False)
        self.dialog.setMinimumDuration(0)
        self.dialog.canceled.connect(self.cancel)
        self.dialog.show()
        self._start.emit(ImportRequest(self.generation, Path(video), Path(output)))
        return True

    def cancel(self) -> None:
        self._cancelling = True
        self.worker.note_latest(self.generation + 1)  # the running import is now stale: it stops between frames
        if self.dialog is not None:
            self.dialog.setLabelText("Cancelling…")

    @QtCore.Slot(object)
    def _on_progress(self, progress: ImportProgress) -> None:
        if self.dialog is None or self._cancelling:
            return
        self.dialog.setMaximum(max(progress.total, 1))
        self.dialog.setValue(min(progress.frame, progress.total))
        self.dialog.setLabelText(describe(progress))

    def _finish(self, message: str) -> None:
        self.busy = False
        self.last_message = message
        if self.dialog is not None:
            self.dialog.canceled.disconnect(self.cancel)
            self.dialog.close()
            self.dialog.deleteLater()
            self.dialog = None

    @QtCore.Slot(object)
    def _on_finished(self, result: VideoImportResult) -> None:
        self._finish("; ".join(result.warnings()) or "imported")
        self.imported.emit(result)

    @QtCore.Slot(str)
    def _on_failed(self, message: str) -> None:
        self._finish(message)
        QtWidgets.QMessageBox.critical(self.window, "Video import failed", message)

    @QtCore.Slot()
    def _on_cancelled(self) -> None:
        self._finish("import cancelled: nothing was written")

    @QtCore.Slot()
    def shutdown(self) -> None:
        self._thread.shutdown(10000)
