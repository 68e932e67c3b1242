"""The "Draft from text" dock: type a sentence, pick the languages, get an editable signing draft.

Everything slow (reading lexicons, loading FAST and KF2P, fitting clips,
generating transitions) runs in one worker object on its own QThread; the GUI
thread only sends numbered requests and applies the newest answer, so typing
and playback never wait and a superseded draft is dropped, not shown.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from PySide6 import QtCore, QtWidgets

from signeditor.cancellation import Stopped, raise_if_stopped
from signeditor.core.handshapes import language_name
from signeditor.drafts.pipeline import DEFAULT_LETTERS_PER_SECOND, DraftBuilder, DraftResult
from signeditor.gui.worker_thread import LatestRequestWorker, WorkerThread, collection_paused

#: QSettings key holding the user's lexicon folders (a list of paths).
LEXICON_FOLDERS_KEY = "drafts/lexicon_folders"
LAST_LANGUAGES_KEY = "drafts/last_languages"
LETTERS_PER_SECOND_KEY = "drafts/letters_per_second"
NONMANUALS_KEY = "drafts/nonmanuals"
NO_LEXICON = "No lexicon: add a lexicon folder with “Lexicon folders…” to make drafts"
#: Builds a DraftBuilder for lexicon folders (injectable so tests can use a fixture lexicon and fast models).
BuilderFactory = Callable[[Sequence[Path]], DraftBuilder]


def default_builder(folders: Sequence[Path]) -> DraftBuilder:
    """The real thing: the folders' lexicons, FAST for sign spans, KF2P for transitions (with fallbacks)."""
    from signeditor.drafts.clips import default_cache_dir
    from signeditor.drafts.pipeline import load_draft_models
    from signeditor.io.lexicon import read_lexicons

    lexicon = read_lexicons(folders)  # the worker passes only folders that passed the check
    clips, generator, warnings = load_draft_models(cache_dir=default_cache_dir())
    return DraftBuilder(lexicon, clips, generator, generator_warning="; ".join(warnings))


def lexicon_folders(settings: QtCore.QSettings) -> list[Path]:
    """The folders from the settings, else the development lexicon when it exists."""
    value = settings.value(LEXICON_FOLDERS_KEY, [])
    if isinstance(value, str):  # QSettings returns a lone string for a one-element list in some backends
        value = [value] if value else []
    folders = [Path(str(v)) for v in value or [] if str(v).strip()]
    development = development_lexicon_folder()
    if not folders and development is not None:
        folders = [development]
    return folders


def add_lexicon_folder(settings: QtCore.QSettings, folder: Path) -> None:
    """Put ``folder`` first in the lexicon folders (once), so the library and drafts read it and its entries win."""
    configured = lexicon_folders(settings)
    if folder not in configured:
        settings.setValue(LEXICON_FOLDERS_KEY, [str(f) for f in (folder, *configured)])


def development_lexicon_folder() -> Path | None:
    """The lexicon ``signeditor data lexicon ../shared/signdata`` writes by default (``./lexicon``), if built."""
    folder = Path("lexicon")
    return folder if (folder / "index.csv").is_file() else None


@dataclass(frozen=True)
class DraftRequest:
    generation: int
    text: str
    spoken_language: str
    signed_language: str
    folders: tuple[Path, ...]
    letters_per_second: float = DEFAULT_LETTERS_PER_SECOND


def spoken_language_label(code: str) -> str:
    """"German (de)" for an ISO 639 code Qt knows, else the code."""
    locale = QtCore.QLocale(code)
    if locale.language() in (QtCore.QLocale.Language.C, QtCore.QLocale.Language.AnyLanguage) or len(code) > 3:
        return code
    return f"{QtCore.QLocale.languageToString(locale.language())} ({code})"


def signed_language_label(code: str) -> str:
    name = language_name(code)
    return code if name == code else f"{name} ({code})"


class DraftWorker(LatestRequestWorker):
    """Lives in the worker thread; keeps the builder (lexicon, models, clip cache) between drafts.

    A superseded draft stops between stages (each progress report) and between KF2P sampler steps.
    """

    languages_ready = QtCore.Signal(object, object)  # list of (spoken, signed) pairs, folders skipped (messages)
    progress = QtCore.Signal(int, int, int, str)  # generation, done, total, message
    result = QtCore.Signal(int, object)  # generation, DraftResult
    failed = QtCore.Signal(int, str)  # generation (0: lexicon loading), message

    def __init__(self, factory: BuilderFactory) -> None:
        super().__init__()
        self.factory = factory
        self._builder: DraftBuilder | None = None
        self._folders: tuple[Path, ...] | None = None
        self._skipped: list[str] = []

    def _builder_for(self, folders: tuple[Path, ...]) -> DraftBuilder:
        """The builder for the usable ones among ``folders``; a bad folder is skipped with a warning."""
        if self._builder is None or folders != self._folders:
            from signeditor.drafts.plan import DraftError
            from signeditor.io.lexicon import check_lexicon_folder

            checks = [(folder, check_lexicon_folder(folder)[1]) for folder in folders]
            self._skipped = [f"lexicon folder skipped: {problem}" for _, problem in checks if problem]
            usable = [folder for folder, problem in checks if problem is None]
            if not usable:
                raise DraftError("; ".join(self._skipped) or NO_LEXICON)
            self._builder = self.factory(usable)
            self._folders = folders
        return self._builder

    @QtCore.Slot(object)
    def load_lexicon(self, folders: tuple[Path, ...]) -> None:
        self._builder = None  # re-read on the next draft too: a folder's index may have changed (a saved sign)
        with collection_paused():
            try:
                from signeditor.io.lexicon import read_usable_lexicons

                lexicon, skipped = read_usable_lexicons(folders)
                self.languages_ready.emit(lexicon.language_pairs(), skipped)
            except Exception as exc:  # a bad index must show as a message, never take the editor down
                self.failed.emit(0, str(exc))

    @QtCore.Slot(object)
    def run(self, request: DraftRequest) -> None:
        if self.should_stop(request.generation):
            return

        def progress(done: int, total: int, message: str) -> None:
            raise_if_stopped()
            self.progress.emit(request.generation, done, total, message)

        with self.working_on(request.generation):
            try:
                builder = self._builder_for(request.folders)
                builder.settings = replace(builder.settings, letters_per_second=request.letters_per_second)
                result = builder.build(request.text, request.spoken_language, request.signed_language,
                                       progress=progress)
            except Stopped:
                return  # superseded by a newer draft
            except Exception as exc:  # DraftError, FileFormatError, a broken model: all become a message
                self.failed.emit(request.generation, str(exc))
                return
            result.warnings[:0] = self._skipped
            self.result.emit(request.generation, result)


class DraftPanel(QtWidgets.QWidget):
    """Text box, language pickers, fingerspelling speed, Generate, progress; emits ``draft_ready`` with the new
    Project. Languages show by name (the code in brackets); Generate stays disabled, saying why, until a lexicon
    with at least one language pair is readable."""

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
        self._wanted_languages: tuple[str, str] | None = None

        self.text = QtWidgets.QPlainTextEdit()
        self.text.setPlaceholderText("Type a sentence (Kinder essen Pizza) or glosses in capitals (HALLO WIE DIR)")
        self.text.setMaximumHeight(80)
        self.spoken = QtWidgets.QComboBox()
        self.signed = QtWidgets.QComboBox()
        for combo in (self.spoken, self.signed):
            combo.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(14)
        self.letters_per_second = QtWidgets.QDoubleSpinBox()
        self.letters_per_second.setRange(1.0, 8.0)
        self.letters_per_second.setSingleStep(0.5)
        self.letters_per_second.setDecimals(1)
        self.letters_per_second.setSuffix(" letters/s")
        self.letters_per_second.setToolTip("How fast unknown words are fingerspelled (fluent signers: about 3)")
        self.letters_per_second.setValue(float(settings.value(LETTERS_PER_SECOND_KEY, DEFAULT_LETTERS_PER_SECOND)))
        self.letters_per_second.valueChanged.connect(lambda v: self.settings.setValue(LETTERS_PER_SECOND_KEY, v))
        self.nonmanuals = QtWidgets.QCheckBox("Non-manuals from text")
        self.nonmanuals.setToolTip("Mark a question (final ?) and negation words with their face and head keys, "
                                   "as signeditor draft --nonmanuals does")
        self.nonmanuals.setChecked(str(settings.value(NONMANUALS_KEY, "true")).lower() == "true")
        self.nonmanuals.toggled.connect(lambda on: self.settings.setValue(NONMANUALS_KEY, "true" if on else "false"))
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
        form.addRow("Fingerspelling", self.letters_per_second)
        form.addRow("", self.nonmanuals)
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

        self.worker = DraftWorker(factory or default_builder)
        self._thread = WorkerThread(self.worker, "drafts", self)
        queued = QtCore.Qt.ConnectionType.QueuedConnection
        self._request.connect(self.worker.run, queued)
        self._load.connect(self.worker.load_lexicon, queued)
        # Slots of this widget (not plain callables), so Qt drops answers that arrive after the panel is gone.
        self.worker.languages_ready.connect(self._set_languages, queued)
        self.worker.progress.connect(self._on_progress, queued)
        self.worker.result.connect(self._on_result, queued)
        self.worker.failed.connect(self._on_failed, queued)

        self.spoken.currentIndexChanged.connect(lambda _i: self._fill_signed(self.spoken.currentData()))
        self.generate_button.clicked.connect(self.generate)
        self.folders_button.clicked.connect(self.manage_folders)
        self._set_generate_enabled("reading the lexicon…")
        self.reload_lexicon()

    # --- lexicon and languages -----------------------------------------------------------------------------------
    def folders(self) -> tuple[Path, ...]:
        """The user's folders, then the lexicons installed with the program (drafts work with no set-up)."""
        from signeditor.io.lexicon import with_bundled_lexicons

        return tuple(with_bundled_lexicons(lexicon_folders(self.settings)))

    def set_folders(self, folders: Sequence[str | Path]) -> None:
        self.settings.setValue(LEXICON_FOLDERS_KEY, [str(f) for f in folders])
        self.reload_lexicon()

    def manage_folders(self) -> None:
        """The lexicon manager: list, add (checked), remove, reorder; applied when the user presses OK."""
        from signeditor.gui.lexicon_dialog import LexiconFoldersDialog

        dialog = LexiconFoldersDialog(lexicon_folders(self.settings), self)  # the user's own, not the bundled
        if dialog.exec() == QtWidgets.QDialog.DialogCode.Accepted:
            self.set_folders(dialog.folders())

    def reload_lexicon(self) -> None:
        self.status.setText("reading the lexicon…")
        self._load.emit(self.folders())

    def show_project(self, project: object) -> None:
        """Put an opened project's text and languages back (a reopened draft continues where it was)."""
        text = str(getattr(project, "text", "") or "")
        if not text:
            return
        self.text.setPlainText(text)
        wanted = (str(getattr(project, "spoken_language", "")), str(getattr(project, "signed_language", "")))
        self._wanted_languages = wanted
        self._select_languages(*wanted)

    def languages(self) -> tuple[str, str]:
        """The chosen (spoken, signed) codes."""
        return str(self.spoken.currentData() or ""), str(self.signed.currentData() or "")

    def _select_languages(self, spoken: str, signed: str) -> None:
        if self.spoken.findData(spoken) >= 0:
            self.spoken.setCurrentIndex(self.spoken.findData(spoken))
        if self.signed.findData(signed) >= 0:
            self.signed.setCurrentIndex(self.signed.findData(signed))

    @QtCore.Slot(object, object)
    def _set_languages(self, pairs: list[tuple[str, str]], skipped: list[str]) -> None:
        self._pairs = list(pairs)
        self.spoken.blockSignals(True)
        self.spoken.clear()
        for code in sorted({spoken for spoken, _ in self._pairs}):
            self.spoken.addItem(spoken_language_label(code), code)
        self.spoken.blockSignals(False)
        self._fill_signed(self.spoken.currentData())
        last = str(self.settings.value(LAST_LANGUAGES_KEY, "") or "")
        if self._wanted_languages is not None:
            self._select_languages(*self._wanted_languages)
        elif "/" in last:
            self._select_languages(*last.split("/", 1))
        message = f"{len(self._pairs)} language pairs in the lexicon" if self._pairs else (
            NO_LEXICON if not self.folders() else "No usable lexicon")
        self.status.setText("\n".join([message, *skipped]))
        self._set_generate_enabled("" if self._pairs else "\n".join([message, *skipped]))

    def _set_generate_enabled(self, reason: str) -> None:
        """Generate works only with a readable lexicon; when disabled, its tooltip says why."""
        self.generate_button.setEnabled(not reason)
        self.generate_button.setToolTip(reason or "Make a signing draft of the text")

    def _fill_signed(self, spoken: object) -> None:
        self.signed.clear()
        for code in sorted({signed for s, signed in self._pairs if s == spoken}):
            self.signed.addItem(signed_language_label(code), code)

    # --- generation -------------------------------------------------------------------------------------------------
    def generate(self) -> int:
        """Send the current text; returns the request's generation number (newer requests win)."""
        self.generation += 1
        self.worker.note_latest(self.generation)
        self._wanted_languages = None  # from now on the user's own choice is remembered
        spoken, signed = self.languages()
        self.settings.setValue(LAST_LANGUAGES_KEY, f"{spoken}/{signed}")
        self.progress_bar.setRange(0, 0)  # busy until the first progress report
        self.status.setText("drafting…")
        self._request.emit(DraftRequest(self.generation, self.text.toPlainText(), spoken, signed, self.folders(),
                                        self.letters_per_second.value()))
        return self.generation

    @QtCore.Slot(int, int, int, str)
    def _on_progress(self, generation: int, done: int, total: int, message: str) -> None:
        if generation != self.generation:
            return
        self.progress_bar.setRange(0, max(total, 1))
        self.progress_bar.setValue(done)
        self.status.setText(message)

    @QtCore.Slot(int, object)
    def _on_result(self, generation: int, result: DraftResult) -> None:
        if generation != self.generation:
            return  # superseded by a newer request: never show an old draft
        self.applied_generation = generation
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(1)
        warnings = list(result.warnings)
        project = result.project
        if self.nonmanuals.isChecked():
            from signeditor.core.nonmanual import grammar_keys

            project.face_keys = grammar_keys(project.text, project.segments, project.motion.n_frames,
                                             project.spoken_language)
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
        """Stop the worker thread (a draft being built stops at its next stage); later answers are ignored."""
        self.generation += 1  # anything still queued is now stale
        self._thread.shutdown(10000)
