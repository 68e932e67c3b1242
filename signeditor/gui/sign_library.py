"""The "Sign library" dock: browse and search every configured lexicon, preview a sign, hand it to the timeline.

Reading lexicons and fitting clips (IK, FAST) run in one worker object on its
own QThread; requests are numbered and only the newest answer is used, so a
quick succession of clicks never shows or inserts a superseded sign.
Previewing plays the clip on the avatar through ``preview_pose`` without
touching the document.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtWidgets

from signeditor.core.handshapes import language_name
from signeditor.drafts.clips import ClipLibrary, SignClip, sign_template
from signeditor.gui.sign_timeline import SIGN_MIME
from signeditor.gui.worker_thread import LatestRequestWorker, WorkerThread, collection_paused
from signeditor.io.lexicon import LexiconEntry, normalise_term

#: Builds the clip loader in the worker thread (injectable so tests can use a stand-in segmenter).
ClipLibraryFactory = Callable[[], ClipLibrary]
COLUMNS = ("Word", "Gloss", "Spoken", "Signed", "Lexicon")
ALL_LANGUAGES = "all signed languages"


def entry_matches(entry: LexiconEntry, wanted: str) -> bool:
    """``wanted`` (normalised) is part of the entry's word or gloss, or names its language (code or name)."""
    return (not wanted or wanted in normalise_term(entry.words) or wanted in normalise_term(entry.glosses)
            or wanted in (entry.spoken_language.casefold(), entry.signed_language.casefold())
            or (len(wanted) >= 4 and wanted in language_name(entry.signed_language).casefold()))


def why_empty(entries: Sequence[LexiconEntry], search: str, language: str) -> str:
    """Why a search shows nothing, in words that say what to do: the sign is in other languages, or the
    lexicons hold only fingerspelling, or no lexicon has it."""
    wanted = normalise_term(search)
    if not entries:
        return "No lexicon: add a lexicon folder (Lexicon folders…) or import a folder of signs (Import folder…)"
    elsewhere = [e for e in entries if entry_matches(e, wanted) and e.signed_language != language]
    shown = f"'{search.strip()}'" if wanted else "signs"
    where = f" in {language_name(language)}" if language else ""
    if elsewhere:
        counts: dict[str, int] = {}
        for entry in elsewhere:
            counts[entry.signed_language] = counts.get(entry.signed_language, 0) + 1
        which = ", ".join(f"{language_name(code)} {n}" for code, n in sorted(counts.items(), key=lambda c: -c[1])[:3])
        return f"No sign for {shown}{where}; {len(elsewhere)} in other languages ({which})"
    if all(e.is_letter for e in entries):
        return (f"No sign for {shown}: only fingerspelling alphabets are installed ({len(entries)} letters). "
                "Add a lexicon folder or import a folder of your own signs (Import folder…)")
    lexicons = len({e.source.parent for e in entries})
    return f"No sign for {shown}{where} in any of the {lexicons} lexicons ({len(entries)} signs)"


def default_clip_library() -> ClipLibrary:
    """FAST finds the sign in each clip, as drafts do; the clips are cached on disk between sessions."""
    from signeditor.drafts.clips import default_cache_dir
    from signeditor.drafts.pipeline import load_draft_models

    clips, _generator, _warnings = load_draft_models(cache_dir=default_cache_dir(), use_kf2p=False)
    return clips


@dataclass(frozen=True)
class ClipRequest:
    """Load ``entry``'s clip for ``purpose`` ("preview", "insert", "replace"); ``target`` is a frame or sign index."""

    generation: int
    entry: LexiconEntry
    purpose: str
    target: int = 0


class LibraryWorker(LatestRequestWorker):
    """Lives in the worker thread: reads lexicons and loads clips (the clip library and its cache stay loaded)."""

    entries_ready = QtCore.Signal(object)  # list[LexiconEntry]
    clip_ready = QtCore.Signal(object, object)  # ClipRequest, SignClip
    failed = QtCore.Signal(int, str)  # generation (0: lexicon), message

    def __init__(self, factory: ClipLibraryFactory) -> None:
        super().__init__()
        self.factory = factory
        self._clips: ClipLibrary | None = None

    @QtCore.Slot(object)
    def load_lexicon(self, folders: tuple[Path, ...]) -> None:
        from signeditor.io.lexicon import read_lexicon

        entries: list[LexiconEntry] = []
        problems: list[str] = []
        seen: set[tuple[str, str, str, str, str]] = set()
        with collection_paused():
            for folder in folders:
                try:
                    lexicon = read_lexicon(folder)
                except Exception as exc:  # one bad folder must not hide the others
                    problems.append(str(exc))
                    continue
                for entry in lexicon.entries:  # the same clip listed by two lexicons shows once (the first)
                    key = (entry.spoken_language, entry.signed_language, entry.words, entry.glosses, entry.path.name)
                    if key not in seen:
                        seen.add(key)
                        entries.append(entry)
        self.entries_ready.emit(entries)
        if problems:
            self.failed.emit(0, "; ".join(problems))

    @QtCore.Slot(object)
    def load_clip(self, request: ClipRequest) -> None:
        if self.should_stop(request.generation):
            return
        with collection_paused():
            try:
                if self._clips is None:
                    self._clips = self.factory()
                clip = self._clips.load(request.entry)
            except Exception as exc:  # an unreadable clip is a message, never a crash
                self.failed.emit(request.generation, f"{request.entry.path.name}: {exc}")
                return
        self.clip_ready.emit(request, clip)


class _EntryTable(QtWidgets.QTableWidget):
    """The entry list; dragging a row carries the entry's key to the timeline."""

    def mimeData(self, items: Sequence[QtWidgets.QTableWidgetItem]) -> QtCore.QMimeData:
        data = QtCore.QMimeData()
        if items:  # every cell of a row holds the row's entry index
            key = items[0].data(QtCore.Qt.ItemDataRole.UserRole)
            data.setData(SIGN_MIME, QtCore.QByteArray(str(key).encode("utf-8")))
        return data

    def mimeTypes(self) -> list[str]:
        return [SIGN_MIME]


class SignLibrary(QtWidgets.QWidget):
    """Search box, entry table, Preview / Insert at playhead / Replace sign / Save sign to my lexicon."""

    #: A lexicon sign is ready to lay on the timeline: (purpose "insert"|"replace", SignTemplate, frame or index).
    template_ready = QtCore.Signal(str, object, int)
    #: One pose (246,) of a preview, or None when the preview ends (show the document's frame again).
    preview_pose = QtCore.Signal(object)
    save_requested = QtCore.Signal()
    import_folder_requested = QtCore.Signal()
    _load = QtCore.Signal(object)
    _request = QtCore.Signal(object)

    def __init__(self, folders: Callable[[], Sequence[Path]], factory: ClipLibraryFactory | None = None,
                 parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.folders = folders
        self.entries: list[LexiconEntry] = []
        self.generation = 0
        self.playhead: Callable[[], int] = lambda: 0
        self.selected_sign: Callable[[], int | None] = lambda: None
        self._preview: tuple[np.ndarray, int] | None = None
        #: The open project's signed language, shown first once it is in the list (then the user's choice rules).
        self._preferred_language = ""

        self.search = QtWidgets.QLineEdit()
        self.search.setPlaceholderText("Search word, gloss or language…")
        self.search.setClearButtonEnabled(True)
        self.language = QtWidgets.QComboBox()
        self.language.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.language.setMinimumContentsLength(18)  # "German Sign Language (DGS)" readable, the rest elided
        self.table = _EntryTable(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QtWidgets.QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QtWidgets.QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QtWidgets.QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setDragEnabled(True)
        self.table.setDragDropMode(QtWidgets.QAbstractItemView.DragDropMode.DragOnly)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.preview_button = QtWidgets.QPushButton("Preview")
        self.insert_button = QtWidgets.QPushButton("Insert at playhead")
        self.replace_button = QtWidgets.QPushButton("Replace sign")
        self.save_button = QtWidgets.QPushButton("Save sign to my lexicon…")
        self.import_button = QtWidgets.QPushButton("Import folder…")
        self.import_button.setToolTip("Make a lexicon of a folder of sign videos or .pose files (one sign per file, "
                                      "named by the file)")
        self.status = QtWidgets.QLabel("")
        self.status.setWordWrap(True)

        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.language)
        buttons = QtWidgets.QGridLayout()
        buttons.addWidget(self.preview_button, 0, 0)
        buttons.addWidget(self.insert_button, 0, 1)
        buttons.addWidget(self.replace_button, 1, 0)
        buttons.addWidget(self.save_button, 1, 1)
        buttons.addWidget(self.import_button, 2, 0, 1, 2)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.status)

        self._timer = QtCore.QTimer(self)
        self._timer.timeout.connect(self._advance_preview)
        self.worker = LibraryWorker(factory or default_clip_library)
        self._thread = WorkerThread(self.worker, "sign-library", self)
        queued = QtCore.Qt.ConnectionType.QueuedConnection
        self._load.connect(self.worker.load_lexicon, queued)
        self._request.connect(self.worker.load_clip, queued)
        self.worker.entries_ready.connect(self._set_entries, queued)
        self.worker.clip_ready.connect(self._on_clip, queued)
        self.worker.failed.connect(self._on_failed, queued)

        self.search.textChanged.connect(self._filter)
        self.language.currentIndexChanged.connect(self._filter)
        self.preview_button.clicked.connect(lambda: self.request("preview"))
        self.insert_button.clicked.connect(lambda: self.request("insert", self.playhead()))
        self.replace_button.clicked.connect(self.replace_selected)
        self.save_button.clicked.connect(self.save_requested)
        self.import_button.clicked.connect(self.import_folder_requested)
        self.table.doubleClicked.connect(lambda _index: self.request("preview"))
        self.reload()

    # --- entries ---------------------------------------------------------------------------------------------
    def reload(self) -> None:
        self.status.setText("reading lexicons…")
        self._load.emit(tuple(self.folders()))

    @QtCore.Slot(object)
    def _set_entries(self, entries: list[LexiconEntry]) -> None:
        """Fill the table; the selected sign stays selected (found again by its clip and names, not its row)."""
        selected = self.current_entry()
        self.entries = list(entries)
        self.table.setRowCount(len(self.entries))
        for row, entry in enumerate(self.entries):
            values = (entry.words, entry.glosses, entry.spoken_language, language_name(entry.signed_language),
                      entry.source.parent.name)  # the lexicon folder (its index.csv's folder)
            for column, value in enumerate(values):
                item = QtWidgets.QTableWidgetItem(value)
                item.setData(QtCore.Qt.ItemDataRole.UserRole, row)
                item.setToolTip(f"{value} ({entry.signed_language})" if column == 3 else str(entry.path))
                self.table.setItem(row, column, item)
        current = self.language.currentData()
        self.language.blockSignals(True)
        self.language.clear()
        self.language.addItem(ALL_LANGUAGES, "")
        for code in sorted({e.signed_language for e in self.entries}, key=lambda c: (language_name(c), c)):
            self.language.addItem(language_name(code), code)
            self.language.setItemData(self.language.count() - 1, code, QtCore.Qt.ItemDataRole.ToolTipRole)
        wanted = self._preferred_language or current
        if wanted and self.language.findData(wanted) >= 0:
            self.language.setCurrentIndex(self.language.findData(wanted))
            self._preferred_language = ""
        self.language.blockSignals(False)
        self.table.clearSelection()
        if selected is not None and selected in self.entries:
            row = self.entries.index(selected)
            self.table.selectRow(row)
            self.table.scrollToItem(self.table.item(row, 0))
        self._filter()

    def prefer_language(self, code: str) -> None:
        """Filter by the project's signed language (now, or when the lexicons list it), so a search answers for
        the language being signed and says how many signs other languages have."""
        index = self.language.findData(code) if code else -1
        if index >= 0:
            self.language.setCurrentIndex(index)
            self._preferred_language = ""
        else:
            self._preferred_language = code

    def language_code(self) -> str:
        """The chosen signed language's code ("" for all)."""
        return str(self.language.currentData() or "")

    def _filter(self) -> None:
        """Show rows whose word or gloss contains the search text, or whose language it names, in the chosen
        signed language; the status counts what is shown and, when nothing is, says why."""
        wanted = normalise_term(self.search.text())
        language = self.language_code()
        shown = 0
        for row, entry in enumerate(self.entries):
            visible = entry_matches(entry, wanted) and (not language or entry.signed_language == language)
            self.table.setRowHidden(row, not visible)
            shown += visible
        if not shown:
            self.status.setText(why_empty(self.entries, self.search.text(), language))
        elif shown == len(self.entries):
            self.status.setText(f"{shown} signs")
        else:
            self.status.setText(f"{shown} of {len(self.entries)} signs")

    def visible_rows(self) -> list[int]:
        return [row for row in range(self.table.rowCount()) if not self.table.isRowHidden(row)]

    def current_entry(self) -> LexiconEntry | None:
        rows = self.table.selectionModel().selectedRows()
        return self.entries[rows[0].row()] if rows else None

    # --- clips -------------------------------------------------------------------------------------------------
    def request(self, purpose: str, target: int = 0, entry: LexiconEntry | None = None) -> int:
        """Load the selected (or given) entry's clip for ``purpose``; returns the request number (newest wins)."""
        entry = entry or self.current_entry()
        if entry is None:
            self.status.setText("select a sign in the list first")
            return 0
        self.generation += 1
        self.worker.note_latest(self.generation)
        self.status.setText(f"loading {entry.gloss}…")
        self._request.emit(ClipRequest(self.generation, entry, purpose, target))
        return self.generation

    def request_key(self, key: str, purpose: str, target: int) -> int:
        """A dropped entry (its key is its row), e.g. from a drag onto the timeline."""
        try:
            entry = self.entries[int(key)]
        except (ValueError, IndexError):
            return 0
        return self.request(purpose, target, entry)

    def replace_selected(self) -> None:
        index = self.selected_sign()
        if index is None:
            self.status.setText("select the sign to replace on the timeline first")
            return
        self.request("replace", index)

    @QtCore.Slot(object, object)
    def _on_clip(self, request: ClipRequest, clip: SignClip) -> None:
        if request.generation != self.generation:
            return  # superseded
        self.status.setText(f"{request.entry.gloss}: {clip.motion.n_frames} frames")
        if request.purpose == "preview":
            self.start_preview(clip)
        else:
            self.template_ready.emit(request.purpose, sign_template(clip, request.entry.gloss), request.target)

    @QtCore.Slot(int, str)
    def _on_failed(self, generation: int, message: str) -> None:
        if generation in (0, self.generation):
            self.status.setText(message)

    # --- preview -------------------------------------------------------------------------------------------------
    def start_preview(self, clip: SignClip) -> None:
        """Play the clip on the avatar once, at its own speed; the project is not touched."""
        self._preview = (clip.motion.features, 0)
        self._timer.start(max(1, round(1000 / clip.motion.fps)))
        self._advance_preview()

    def stop_preview(self) -> None:
        if self._preview is not None:
            self._preview = None
            self._timer.stop()
            self.preview_pose.emit(None)

    @property
    def previewing(self) -> bool:
        return self._preview is not None

    def _advance_preview(self) -> None:
        if self._preview is None:
            return
        features, frame = self._preview
        if frame >= len(features):
            self.stop_preview()
            return
        self._preview = (features, frame + 1)
        self.preview_pose.emit(features[frame])

    @QtCore.Slot()
    def shutdown(self) -> None:
        self.generation += 1
        self._timer.stop()
        self._thread.shutdown(10000)
