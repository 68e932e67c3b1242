"""Sign > Import folder as lexicon…: a folder of sign videos or ``.pose`` files becomes a lexicon in one step.

The user picks the folder and its two languages; the work (checking each
``.pose``, importing each video through the video import) runs on a worker
in the editor's one worker pattern behind a progress dialog with Cancel. When
it ends, the folder joins the lexicon folders, so the library and drafts find
its signs at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from PySide6 import QtCore, QtWidgets

from signeditor.core.handshapes import LANGUAGE_NAMES
from signeditor.gui.video_import import emit_import_outcome
from signeditor.gui.worker_thread import LatestRequestWorker, WorkerThread
from signeditor.video.importer import DetectorFactory
from signeditor.video.lexicon_folder import FolderImportReport, sign_files

#: Spoken languages offered first (any ISO 639 code can be typed).
SPOKEN_CODES = ("de", "en", "fr", "it", "es", "nl", "pt", "pl", "cs", "sv")


@dataclass(frozen=True)
class FolderRequest:
    generation: int
    folder: Path
    spoken: str
    signed: str


class FolderImportWorker(LatestRequestWorker):
    """Runs :func:`~signeditor.video.lexicon_folder.import_sign_folder`; Cancel (a newer generation) stops it
    between clips and between video frames."""

    progress = QtCore.Signal(int, int, str)  # done, total, file name
    finished = QtCore.Signal(object)  # FolderImportReport
    failed = QtCore.Signal(str)
    cancelled = QtCore.Signal()

    def __init__(self, detector_factory: DetectorFactory | None = None) -> None:
        super().__init__()
        self.detector_factory = detector_factory

    @QtCore.Slot(object)
    def run(self, request: FolderRequest) -> None:
        from signeditor.video.lexicon_folder import import_sign_folder

        with self.working_on(request.generation):
            emit_import_outcome(self, request.folder, lambda: import_sign_folder(
                request.folder, request.spoken, request.signed, progress=self.progress.emit,
                should_stop=lambda: self.should_stop(request.generation), detector_factory=self.detector_factory))


def _language_box(codes: list[str], names: dict[str, str], current: str) -> QtWidgets.QComboBox:
    """An editable choice showing "Name (code)"; the code is the item data (a typed code is used as is)."""
    box = QtWidgets.QComboBox()
    box.setEditable(True)
    for code in codes:
        name = names.get(code, "")
        box.addItem(f"{name} ({code})" if name else code, code)
    index = box.findData(current)
    box.setCurrentIndex(index)  # -1 (empty) when the project has no language yet: the user must choose
    if index < 0 and current:
        box.setEditText(current)
    return box


def chosen_code(box: QtWidgets.QComboBox) -> str:
    """The code of the chosen item, or what the user typed (a bare code, or "Name (code)")."""
    text = box.currentText().strip()
    for index in range(box.count()):
        label, code = box.itemText(index), str(box.itemData(index))
        if text.casefold() in (label.casefold(), code.casefold(), label.rsplit(" (", 1)[0].casefold()):
            return code
    return text[text.rfind("(") + 1:-1].strip() if text.endswith(")") and "(" in text else text


class FolderLanguagesDialog(QtWidgets.QDialog):
    """What the folder holds and which languages its signs are in."""

    def __init__(self, parent: QtWidgets.QWidget, folder: Path, spoken: str, signed: str) -> None:
        from signeditor.gui.draft_panel import spoken_language_label

        super().__init__(parent)
        self.setWindowTitle("Import folder as lexicon")
        files = sign_files(folder)
        videos = sum(f.is_video for f in files)
        spoken_names = {c: spoken_language_label(c).rsplit(" (", 1)[0] for c in {*SPOKEN_CODES, spoken} if c}
        self.spoken = _language_box(sorted(spoken_names), spoken_names, spoken)
        self.signed = _language_box(sorted(LANGUAGE_NAMES), LANGUAGE_NAMES, signed)
        form = QtWidgets.QFormLayout(self)
        summary = QtWidgets.QLabel(f"{folder}\n{len(files)} signs: {len(files) - videos} .pose files, {videos} videos"
                                   " (videos are imported; a sign's name comes from its file name)")
        summary.setWordWrap(True)
        form.addRow(summary)
        form.addRow("Spoken language", self.spoken)
        form.addRow("Signed language", self.signed)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok
                                             | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        self.import_button = buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok)
        self.import_button.setText("Import")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self._has_files = bool(files)
        for box in (self.spoken, self.signed):
            box.lineEdit().setPlaceholderText("choose or type a language")
            box.currentTextChanged.connect(lambda _text: self._update_button())
        self._update_button()

    def _update_button(self) -> None:
        """Import needs sign files and both languages."""
        self.import_button.setEnabled(self._has_files and all(self.languages()))

    def languages(self) -> tuple[str, str]:
        return chosen_code(self.spoken), chosen_code(self.signed)


class FolderImportController(QtCore.QObject):
    """Owns the worker thread and the progress dialog of folder imports; ``imported`` carries the report."""

    imported = QtCore.Signal(object)  # FolderImportReport
    _start = QtCore.Signal(object)

    def __init__(self, parent_window: QtWidgets.QWidget, detector_factory: DetectorFactory | None = None) -> None:
        super().__init__(parent_window)
        self.window = parent_window
        self.dialog: QtWidgets.QProgressDialog | None = None
        self.busy = False
        self.last_message = ""
        self.generation = 0
        self.detector_factory = detector_factory
        self.worker: FolderImportWorker | None = None
        self._thread: WorkerThread | None = None
        parent_window.installEventFilter(self)  # closing the window stops a running import
        app = QtCore.QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

    def _start_worker(self) -> FolderImportWorker:
        """The worker thread lives only while an import runs (folder imports are rare; no idle thread)."""
        self.worker = FolderImportWorker(self.detector_factory)
        self._thread = WorkerThread(self.worker, "lexicon-folder-import", self)
        queued = QtCore.Qt.ConnectionType.QueuedConnection
        self._start.connect(self.worker.run, queued)
        self.worker.progress.connect(self._on_progress, queued)
        self.worker.finished.connect(self._on_finished, queued)
        self.worker.failed.connect(self._on_failed, queued)
        self.worker.cancelled.connect(self._on_cancelled, queued)
        return self.worker

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        if watched is self.window and event.type() == QtCore.QEvent.Type.Close:
            self.shutdown()
        return False

    def start(self, folder: str | Path, spoken: str, signed: str) -> bool:
        if self.busy:
            return False
        self.busy = True
        self.generation += 1
        self._start_worker().note_latest(self.generation)
        self.dialog = QtWidgets.QProgressDialog(f"Reading {Path(folder).name}…", "Cancel", 0, 0, self.window)
        self.dialog.setWindowTitle("Import folder as lexicon")
        self.dialog.setWindowModality(QtCore.Qt.WindowModality.NonModal)
        self.dialog.setAutoClose(False)
        self.dialog.setAutoReset(False)
        self.dialog.setMinimumDuration(0)
        self.dialog.canceled.connect(self.cancel)
        self.dialog.show()
        self._start.emit(FolderRequest(self.generation, Path(folder), spoken, signed))
        return True

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.note_latest(self.generation + 1)  # the running import stops at its next check
        if self.dialog is not None:
            self.dialog.setLabelText("Cancelling…")

    @QtCore.Slot(int, int, str)
    def _on_progress(self, done: int, total: int, name: str) -> None:
        if self.dialog is None or self.worker is None or self.worker.should_stop(self.generation):
            return
        self.dialog.setMaximum(max(total, 1))
        self.dialog.setValue(done)
        self.dialog.setLabelText(f"Sign {done + 1} of {total}: {name}" if name else "Writing the index…")

    def _finish(self, message: str) -> None:
        self.busy = False
        self.last_message = message
        if self.dialog is not None:
            self.dialog.canceled.disconnect(self.cancel)
            self.dialog.close()
            self.dialog.deleteLater()
            self.dialog = None
        self.shutdown()

    @QtCore.Slot(object)
    def _on_finished(self, report: FolderImportReport) -> None:
        self._finish(report.summary())
        self.imported.emit(report)

    @QtCore.Slot(str)
    def _on_failed(self, message: str) -> None:
        self._finish(message)
        QtWidgets.QMessageBox.critical(self.window, "Folder import failed", message)

    @QtCore.Slot()
    def _on_cancelled(self) -> None:
        self._finish("folder import cancelled: the folder is as it was")

    @QtCore.Slot()
    def shutdown(self) -> None:
        if self.worker is not None:
            self._start.disconnect(self.worker.run)
        if self._thread is not None:
            self._thread.shutdown(10000)
        self.worker, self._thread = None, None


class LexiconWindow(Protocol):
    """What the folder import needs of the main window."""

    settings: QtCore.QSettings

    def statusBar(self) -> QtWidgets.QStatusBar: ...


class LexiconFolderImport(QtCore.QObject):
    """The whole gesture: choose a folder, confirm its languages, import on the worker, then list the folder
    with the lexicon folders and reload whoever reads them (``reload``)."""

    def __init__(self, window: LexiconWindow, languages: Callable[[], tuple[str, str]],
                 reload: Callable[[], None], detector_factory: DetectorFactory | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.languages = languages
        self.reload = reload
        self.controller = FolderImportController(window, detector_factory)
        self.controller.imported.connect(self._on_imported)

    def ask(self) -> bool:
        """Folder dialog, then the languages dialog, then the import; False when the user stopped."""
        folder = QtWidgets.QFileDialog.getExistingDirectory(self.window, "Import a folder of sign videos or "
                                                            ".pose files as a lexicon")
        if not folder:
            return False
        try:
            dialog = FolderLanguagesDialog(self.window, Path(folder), *self.languages())
        except (OSError, ValueError) as exc:  # FileFormatError: not a folder any more
            QtWidgets.QMessageBox.critical(self.window, "Cannot import the folder", str(exc))
            return False
        if dialog.exec() != QtWidgets.QDialog.DialogCode.Accepted:
            return False
        return self.controller.start(Path(folder), *dialog.languages())

    @QtCore.Slot(object)
    def _on_imported(self, report: FolderImportReport) -> None:
        from signeditor.gui.draft_panel import add_lexicon_folder

        add_lexicon_folder(self.window.settings, report.index.parent)
        self.reload()
        self.window.statusBar().showMessage(f"Imported {report.summary()}", 10000)
