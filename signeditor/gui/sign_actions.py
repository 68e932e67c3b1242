"""Sign-level editing in the main window: the Sign menu, the Sign library dock and the timeline's sign gestures.

Kept out of main_window.py so the window only creates this once; every
gesture and action here becomes one command on the document's undo stack.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6 import QtCore, QtGui, QtWidgets

from signeditor.core.motion import STREAM_SLICES
from signeditor.gui import sign_commands
from signeditor.gui.draft_panel import add_lexicon_folder, lexicon_folders
from signeditor.gui.sign_library import ClipLibraryFactory, SignLibrary
from signeditor.io.lexicon import INDEX_NAME, LexiconEntry, with_bundled_lexicons

if TYPE_CHECKING:
    from signeditor.core.sign_edits import SignTemplate
    from signeditor.gui.window_api import EditorWindow

#: QSettings key of the folder "Save sign to my lexicon" writes to.
MY_LEXICON_KEY = "signs/my_lexicon"


def my_lexicon_folder(settings: QtCore.QSettings) -> Path:
    """The user's own lexicon folder (setting, else ``<app data>/my_lexicon``)."""
    value = str(settings.value(MY_LEXICON_KEY, "") or "")
    if value:
        return Path(value)
    base = QtCore.QStandardPaths.writableLocation(QtCore.QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".signeditor") / "my_lexicon"


def library_folders(settings: QtCore.QSettings) -> list[Path]:
    """What the library browses: the user's lexicon, the configured folders, then the bundled alphabets."""
    folders = lexicon_folders(settings)
    mine = my_lexicon_folder(settings)
    if (mine / INDEX_NAME).is_file() and mine not in folders:
        folders = [mine, *folders]
    return with_bundled_lexicons(folders)


class _EntryDialog(QtWidgets.QDialog):
    """Word, gloss, languages and lexicon folder of a sign being saved to the user's lexicon."""

    def __init__(self, parent: QtWidgets.QWidget, gloss: str, spoken: str, signed: str,
                 folders: list[Path]) -> None:
        super().__init__(parent)
        self.setWindowTitle("Save sign to my lexicon")
        self.fields = {name: QtWidgets.QLineEdit(value) for name, value in
                       (("words", gloss), ("glosses", gloss), ("spoken", spoken), ("signed", signed))}
        form = QtWidgets.QFormLayout(self)
        for label, name in (("Word(s)", "words"), ("Gloss", "glosses"), ("Spoken language", "spoken"),
                            ("Signed language", "signed")):
            form.addRow(label, self.fields[name])
        # The folder: the user's lexicon folders to pick from, any other typed or browsed to (created on save).
        self.folder = QtWidgets.QComboBox()
        self.folder.setEditable(True)
        self.folder.addItems([str(f) for f in dict.fromkeys(folders)])
        self.browse = QtWidgets.QPushButton("Browse…")
        self.browse.clicked.connect(self._browse)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(self.browse)
        form.addRow("Lexicon folder", row)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Save
                                             | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _browse(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, "Lexicon folder to save the sign in",
                                                            self.folder.currentText())
        if folder:
            self.folder.setEditText(folder)

    def values(self) -> dict[str, str]:
        return {"folder": self.folder.currentText().strip(),
                **{name: field.text().strip() for name, field in self.fields.items()}}


class SignEditing(QtCore.QObject):
    """Owns the Sign library dock, the Sign menu and the wiring of the timeline's sign and lane gestures."""

    def __init__(self, window: EditorWindow, factory: ClipLibraryFactory | None = None) -> None:
        super().__init__(window)
        self.window = window
        #: A copied hand: (stream, its 6D values).
        self.hand_clipboard: tuple[str, object] | None = None
        self.library = SignLibrary(lambda: library_folders(window.settings), factory, parent=window)
        self.library.playhead = lambda: window.document.frame
        self.library.selected_sign = lambda: window.timeline.signs.selected
        window.add_dock("library", "Sign library", self.library, tab_with="history")
        window.register_shutdown(self.library.shutdown)
        self._create_actions()
        self._connect()
        self._add_folder_import()

    # --- setup -------------------------------------------------------------------------------------------------
    def _create_actions(self) -> None:
        w = self.window
        entries = {  # key: (menu text, slot, shortcut)
            "insert": ("&Insert library sign at playhead", lambda: self.library.request("insert", w.document.frame),
                       None),
            "replace": ("&Replace sign with library selection", self.library.replace_selected, None),
            "duplicate": ("D&uplicate sign", self.duplicate_sign, "Ctrl+D"),
            "delete_close": ("Delete sign (close gap)", lambda: self.delete_sign(True), "Shift+Del"),
            "delete_hold": ("Delete sign (leave hold)", lambda: self.delete_sign(False), "Ctrl+Shift+Del"),
            # The keyboard's way to do what dragging a sign bar does (Alt-drag is often the window manager's).
            "move_left": ("Move sign one frame earlier", lambda: self.move_sign(-1), "Ctrl+Shift+Left"),
            "move_right": ("Move sign one frame later", lambda: self.move_sign(1), "Ctrl+Shift+Right"),
            "shrink": ("Shorten sign by one frame", lambda: self.stretch_sign(-1), "Ctrl+Shift+Down"),
            "stretch": ("Lengthen sign by one frame", lambda: self.stretch_sign(1), "Ctrl+Shift+Up"),
            "save": ("&Save sign to my lexicon…", self.save_selected_sign, None),
            "copy_right": ("Copy right hand", lambda: self.copy_hand("right_hand"), "Ctrl+Alt+R"),
            "copy_left": ("Copy left hand", lambda: self.copy_hand("left_hand"), "Ctrl+Alt+L"),
            "paste_hand": ("Paste hand", self.paste_hand, "Ctrl+Alt+V"),
        }
        self.menu = menu = w.add_menu("sign", "&Sign")
        self.actions: dict[str, QtGui.QAction] = {}
        for key, (text, slot, shortcut) in entries.items():
            if key in ("move_left", "save", "copy_right"):
                menu.addSeparator()
            self.actions[key] = w.add_action("sign", text, slot, shortcut)
        menu.addSeparator()
        menu.addAction(w.docks["library"].toggleViewAction())

    def _connect(self) -> None:
        timeline, library = self.window.timeline, self.library
        timeline.sign_moved.connect(lambda i, d: self._push_sign(sign_commands.move_sign(self.document, i, d)))
        timeline.sign_stretched.connect(
            lambda i, n: self._push_sign(sign_commands.stretch_sign(self.document, i, n)))
        timeline.lane_anchor_insert_requested.connect(self.insert_lane_anchor)
        timeline.lane_anchor_moved.connect(
            lambda a, s, d: self.window.push(sign_commands.move_lane_anchor(self.document, a, s, d)))
        timeline.sign_dropped.connect(lambda key, frame: library.request_key(key, "insert", frame))
        library.template_ready.connect(self._lay_template)
        library.preview_pose.connect(self._show_preview)
        # Going back to the project (seeking, playing) ends a preview, so the two never fight over the avatar.
        timeline.playhead_moved.connect(lambda _frame: library.stop_preview())
        self.window.play_timer.timeout.connect(library.stop_preview)
        library.save_requested.connect(self.save_selected_sign)

    @property
    def document(self) -> object:
        return self.window.document

    def _say(self, message: str) -> None:
        self.window.say(message, 4000)

    def _selected_sign(self) -> int | None:
        index = self.window.timeline.signs.selected
        if index is None or index >= len(self.document.project.segments):
            self._say("select a sign on the timeline first (click its bar)")
            return None
        return index

    def _push_sign(self, command: sign_commands.SignEditCommand) -> None:
        self.window.push(command)
        self.window.timeline.signs.select(command.edit.sign)

    def insert_lane_anchor(self, frame: int, stream: str) -> None:
        """Pin one lane at ``frame``; the new anchor is selected, so the inspector edits it (not an older one)."""
        command = sign_commands.insert_lane_anchor(self.document, frame, stream)
        self.window.push(command)
        self.window.timeline.select([command.anchor_id])
        self.document.set_frame(frame)

    # --- sign edits ----------------------------------------------------------------------------------------------
    def delete_sign(self, close_gap: bool) -> None:
        index = self._selected_sign()
        if index is not None:
            self._push_sign(sign_commands.delete_sign(self.document, index, close_gap))

    def move_sign(self, delta: int) -> None:
        """Move the selected sign ``delta`` frames (what dragging its bar does)."""
        index = self._selected_sign()
        if index is not None:
            self._push_sign(sign_commands.move_sign(self.document, index, delta))

    def stretch_sign(self, delta: int) -> None:
        """Make the selected sign ``delta`` frames longer (what Alt-dragging its end does); two frames at least."""
        index = self._selected_sign()
        if index is not None:
            length = self.document.project.segments[index].length
            self._push_sign(sign_commands.stretch_sign(self.document, index, max(2, length + delta)))

    def duplicate_sign(self) -> None:
        index = self._selected_sign()
        if index is not None:
            self._push_sign(sign_commands.duplicate_sign(self.document, index))

    def _lay_template(self, purpose: str, template: SignTemplate, target: int) -> None:
        if purpose == "insert":
            self._push_sign(sign_commands.insert_sign(self.document, target, template))
        elif purpose == "replace" and target < len(self.document.project.segments):
            self._push_sign(sign_commands.replace_sign(self.document, target, template))

    def _show_preview(self, pose: object) -> None:
        """A library preview plays on the avatar; the document's frame comes back when it ends."""
        viewport = self.window.viewport
        if pose is None:
            self.window.show_current_frame()
        elif viewport is not None:
            viewport.set_pose(pose)

    # --- hands ---------------------------------------------------------------------------------------------------
    def copy_hand(self, stream: str) -> None:
        """Copy one hand's pose from the selected anchor (else the pose at the playhead)."""
        ids = self.window.timeline.selected_ids
        doc = self.document
        pose = doc.anchors.by_id(ids[0]).pose if ids else doc.pose_at(doc.frame)
        self.hand_clipboard = (stream, pose[STREAM_SLICES[stream]].copy())
        self._say(f"{sign_commands.LANE_NAMES[stream]} copied")

    def paste_hand(self) -> None:
        ids = tuple(self.window.timeline.selected_ids)
        if self.hand_clipboard is None or not ids:
            self._say("copy a hand, then select the anchors to paste it on")
            return
        stream, values = self.hand_clipboard
        self.window.push(sign_commands.paste_hand(self.document, ids, stream, values))

    # --- the user's lexicon --------------------------------------------------------------------------------------
    def save_selected_sign(self, words: str | None = None, glosses: str | None = None, spoken: str | None = None,
                           signed: str | None = None, folder: str | Path | None = None,
                           ask: bool = True) -> LexiconEntry | None:
        """Write the selected sign (its motion as .pose, a row in index.csv) to the user's lexicon folder.

        The user's lexicon then comes first for drafts and the library, so the
        corrected sign is what the next draft uses. A clash asks before overwriting.
        """
        from signeditor.io.user_lexicon import LexiconClash, add_sign

        index = self._selected_sign()
        if index is None:
            return None
        project = self.document.project
        segment = project.segments[index]
        values = {"words": words, "glosses": glosses, "spoken": spoken, "signed": signed}
        if ask and (folder is None or any(v is None for v in values.values())):
            mine = my_lexicon_folder(self.window.settings)
            dialog = _EntryDialog(self.window, segment.gloss, project.spoken_language, project.signed_language,
                                  [Path(folder) if folder is not None else mine, mine,
                                   *lexicon_folders(self.window.settings)])
            if dialog.exec() != QtWidgets.QDialog.DialogCode.Accepted:
                return None
            values = {k: v if v is not None else dialog.values()[k] for k, v in values.items()}
            folder = dialog.values()["folder"] or mine
        folder = Path(folder) if folder is not None else my_lexicon_folder(self.window.settings)
        motion = project.motion.slice(segment.start, segment.end)
        args = (folder, motion, values["words"] or "", values["glosses"] or "", values["spoken"] or "",
                values["signed"] or "")
        try:
            try:
                entry = add_sign(*args)
            except LexiconClash as clash:
                answer = QtWidgets.QMessageBox.question(self.window, "Overwrite sign?", f"{clash}. Overwrite it?")
                if answer != QtWidgets.QMessageBox.StandardButton.Yes:
                    return None
                entry = add_sign(*args, overwrite=True)
        except (OSError, ValueError) as exc:  # FileFormatError is a ValueError
            QtWidgets.QMessageBox.critical(self.window, "Cannot save the sign", str(exc))
            return None
        self.window.settings.setValue(MY_LEXICON_KEY, str(folder))
        add_lexicon_folder(self.window.settings, folder)
        self._reload_lexicons()
        self._say(f"saved {entry.gloss} to {folder}")
        return entry

    def _reload_lexicons(self) -> None:
        self.window.draft_panel.reload_lexicon()
        self.library.reload()

    # --- a folder of signs as a lexicon (issue #23) ----------------------------------------------------------------
    def _add_folder_import(self) -> None:
        """Sign > Import folder as lexicon… and the library's Import folder… button."""
        from signeditor.gui.lexicon_import import LexiconFolderImport

        self.folder_import = LexiconFolderImport(self.window, self._project_languages, self._reload_lexicons)
        action = QtGui.QAction("Import &folder as lexicon…", self.window)
        action.triggered.connect(self.folder_import.ask)
        self.actions["import_folder"] = action
        self.menu.insertAction(self.actions["save"], action)
        self.library.import_folder_requested.connect(self.folder_import.ask)
        # The library answers for the open project's signed language first.
        self.window.document_replaced.connect(lambda doc: self.library.prefer_language(doc.project.signed_language))
        if self.window.document is not None:
            self.library.prefer_language(self.document.project.signed_language)

    def _project_languages(self) -> tuple[str, str]:
        project = self.document.project
        return project.spoken_language, project.signed_language
