"""The "Draft from text" dock: type a sentence, pick the languages, get an editable signing draft.

Everything slow (reading lexicons, loading FAST and KF2P, fitting clips,
generating transitions) runs in one worker object on its own QThread; the GUI
thread only sends numbered requests and applies the newest answer, so typing
and playback never wait and a superseded draft is dropped, not shown.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6 import QtCore, QtWidgets

from signeditor.drafts.pipeline import DraftBuilder
from signeditor.gui.worker_thread import collection_paused

#: QSettings key holding the user's lexicon folders (a list of paths).
LEXICON_FOLDERS_KEY = "drafts/lexicon_folders"
LAST_LANGUAGES_KEY = "drafts/last_languages"
#: Builds a DraftBuilder for lexicon folders (injectable so tests can use a fixture lexicon and fast models).
BuilderFactory = Callable[[Sequence[Path]], DraftBuilder]


def default_builder(folders: Sequence[Path]) -> DraftBuilder:
    """The real thing: the folders' lexicons, FAST for sign spans, KF2P for transitions (with fallbacks)."""
    from signeditor.drafts.clips import default_cache_dir
    from signeditor.drafts.pipeline import load_draft_models
    from signeditor.io.lexicon import read_lexicons

    lexicon = read_lexicons(folders)
    clips, generator, warnings = load_draft_models(cache_dir=default_cache_dir())
    return DraftBuilder(lexicon, clips, generator, generator_warning="; ".join(warnings))


def lexicon_folders(settings: QtCore.QSettings) -> list[Path]:
    """The folders from the settings, else ``./lexicon`` when it exists (the development lexicon)."""
    value = settings.value(LEXICON_FOLDERS_KEY, [])
    if isinstance(value, str):  # QSettings returns a lone string for a one-element list in some backends
        value = [value] if value else []
    folders = [Path(str(v)) for v in value or [] if str(v).strip()]
    if not folders and (Path("lexicon") / "index.csv").is_file():
        folders = [Path("lexicon")]
    return folders


@dataclass(frozen=True)
class DraftRequest:
    generation: int
    text: str
    spoken_language: str
    signed_language: str
    folders: tuple[Path, ...]


class DraftWorker(QtCore.QObject):
    """Lives in the worker thread; keeps the builder (lexicon, models, clip cache) between drafts."""

    languages_ready = QtCore.Signal(object)  # list of (spoken, signed) pairs
    progress = QtCore.Signal(int, int, int, str)  # generation, done, total, message
    result = QtCore.Signal(int, object)  # generation, DraftResult
    failed = QtCore.Signal(int, str)  # generation (0: lexicon loading), message

    def __init__(self, factory: BuilderFactory) -> None:
        super().__init__()
        self.factory = factory
        self._builder: DraftBuilder | None = None
        self._folders: tuple[Path, ...] | None = None
        self._latest = 0
        self._lock = threading.Lock()

    def note_latest(self, generation: int) -> None:
        """From the GUI thread: lets a queued request that is already superseded be skipped."""
        with self._lock:
            self._latest = max(self._latest, generation)

    def _builder_for(self, folders: tuple[Path, ...]) -> DraftBuilder:
        if self._builder is None or folders != self._folders:
            self._builder = self.factory(folders)
            self._folders = folders
        return self._builder

    @QtCore.Slot(object)
    def load_lexicon(self, folders: tuple[Path, ...]) -> None:
        with collection_paused():
            try:
                if not folders:
                    raise ValueError("no lexicon folder set: add one with “Lexicon folders…”")
                from signeditor.io.lexicon import read_lexicons

                self.languages_ready.emit(read_lexicons(folders).language_pairs())
            except Exception as exc:  # a bad index must show as a message, never take the editor down
                self.failed.emit(0, str(exc))

    @QtCore.Slot(object)
    def run(self, request: DraftRequest) -> None:
        with self._lock:
            if request.generation < self._latest:
                return
        with collection_paused():
            try:
                builder = self._builder_for(request.folders)
                result = builder.build(
                    request.text, request.spoken_language, request.signed_language,
                    progress=lambda done, total, message: self.progress.emit(request.generation, done, total, message),
                )
            except Exception as exc:  # DraftError, FileFormatError, a broken model: all become a message
                self.failed.emit(request.generation, str(exc))
                return
            self.result.emit(request.generation, result)


class DraftPanel(QtWidgets.QWidget):
    """Text box, language pickers, Generate, progress; emits ``draft_ready`` with the new Project."""

    draft_ready = QtCore.Signal(object, object)  # Project, list of warnings
    _request = QtCore.Signal(object)
    _load = QtCore.Signal(object)

    def __init__(self, settings: QtCore.QSettings, factory: BuilderFactory | None = None,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        self.generation = 0
        self.applied_generation = 0
        self._pairs: list[tuple[str, str]] = []

        self.text = QtWidgets.QPlainTextEdit()
        self.text.setPlaceholderText("Type a sentence, e.g. Kinder essen Pizza")
        self.text.setMaximumHeight(80)
        self.spoken = QtWidgets.QComboBox()
        self.signed = QtWidgets.QComboBox()
        self.generate_button = QtWidgets.QPushButton("Generate")
        self.folders_button = QtWidgets.QPushButton("Lexicon folders…")
        self.progress_bar = QtWidgets.QProgressBar()
        self.progress_bar.setTextVisible(True)
        self.progress_bar.setValue(0)
        self.status = QtWidgets.QLabel("")
        self.status.setWordWrap(True)

        form = QtWidgets.QFormLayout()
        form.addRow("Spoken", self.spoken)
        form.addRow("Signed", self.signed)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.folders_button)
        buttons.addWidget(self.generate_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress_bar)
        layout.addWidget(self.status)
        layout.addStretch(1)

        self._thread = QtCore.QThread(self)
        self._thread.setObjectName("drafts")
        self.worker = DraftWorker(factory or default_builder)
        self.worker.moveToThread(self._thread)
        queued = QtCore.Qt.ConnectionType.QueuedConnection
        self._request.connect(self.worker.run, queued)
        self._load.connect(self.worker.load_lexicon, queued)
        # Slots of this widget (not plain callables), so Qt drops answers that arrive after the panel is gone.
        self.worker.languages_ready.connect(self._set_languages, queued)
        self.worker.progress.connect(self._on_progress, queued)
        self.worker.result.connect(self._on_result, queued)
        self.worker.failed.connect(self._on_failed, queued)
        self._thread.finished.connect(self.worker.deleteLater)  # the worker dies in its own thread
        self._thread.start()
        app = QtCore.QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.shutdown)

        self.spoken.currentTextChanged.connect(self._fill_signed)
        self.generate_button.clicked.connect(self.generate)
        self.folders_button.clicked.connect(self.choose_folder)
        self.reload_lexicon()

    # --- lexicon and languages -----------------------------------------------------------------------------------
    def folders(self) -> tuple[Path, ...]:
        return tuple(lexicon_folders(self.settings))

    def set_folders(self, folders: Sequence[str | Path]) -> None:
        self.settings.setValue(LEXICON_FOLDERS_KEY, [str(f) for f in folders])
        self.reload_lexicon()

    def choose_folder(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, "Add a lexicon folder (with index.csv)")
        if folder:
            self.set_folders([*self.folders(), folder])

    def reload_lexicon(self) -> None:
        self.status.setText("reading the lexicon…")
        self._load.emit(self.folders())

    @QtCore.Slot(object)
    def _set_languages(self, pairs: list[tuple[str, str]]) -> None:
        self._pairs = list(pairs)
        last = str(self.settings.value(LAST_LANGUAGES_KEY, "") or "")
        self.spoken.blockSignals(True)
        self.spoken.clear()
        self.spoken.addItems(sorted({spoken for spoken, _ in self._pairs}))
        self.spoken.blockSignals(False)
        if "/" in last and self.spoken.findText(last.split("/")[0]) >= 0:
            self.spoken.setCurrentText(last.split("/")[0])
        self._fill_signed(self.spoken.currentText())
        if "/" in last and self.signed.findText(last.split("/")[1]) >= 0:
            self.signed.setCurrentText(last.split("/")[1])
        self.status.setText(f"{len(self._pairs)} language pairs in the lexicon")

    def _fill_signed(self, spoken: str) -> None:
        self.signed.clear()
        self.signed.addItems(sorted({signed for s, signed in self._pairs if s == spoken}))

    # --- generation -------------------------------------------------------------------------------------------------
    def generate(self) -> int:
        """Send the current text; returns the request's generation number (newer requests win)."""
        self.generation += 1
        self.worker.note_latest(self.generation)
        spoken, signed = self.spoken.currentText(), self.signed.currentText()
        self.settings.setValue(LAST_LANGUAGES_KEY, f"{spoken}/{signed}")
        self.progress_bar.setRange(0, 0)  # busy until the first progress report
        self.status.setText("drafting…")
        self._request.emit(DraftRequest(self.generation, self.text.toPlainText(), spoken, signed, self.folders()))
        return self.generation

    @QtCore.Slot(int, int, int, str)
    def _on_progress(self, generation: int, done: int, total: int, message: str) -> None:
        if generation != self.generation:
            return
        self.progress_bar.setRange(0, max(total, 1))
        self.progress_bar.setValue(done)
        self.status.setText(message)

    @QtCore.Slot(int, object)
    def _on_result(self, generation: int, result: object) -> None:
        if generation != self.generation:
            return  # superseded by a newer request: never show an old draft
        self.applied_generation = generation
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(1)
        warnings = list(result.warnings)  # type: ignore[attr-defined]
        project = result.project  # type: ignore[attr-defined]
        summary = f"{len(project.segments)} signs, {project.motion.duration_s:.1f} s"
        self.status.setText(summary + ("\n" + "\n".join(warnings) if warnings else ""))
        self.draft_ready.emit(project, warnings)

    @QtCore.Slot(int, str)
    def _on_failed(self, generation: int, message: str) -> None:
        if generation not in (0, self.generation):
            return
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        self.status.setText(message)

    @QtCore.Slot()
    def shutdown(self) -> None:
        """Stop the worker thread (a draft being built finishes first); later answers are ignored."""
        self.generation += 1  # anything still queued is now stale
        if self._thread.isRunning():
            self._thread.quit()
            self._thread.wait(10000)
