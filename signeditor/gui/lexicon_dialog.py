"""Lexicon folders…: the list of lexicon folders drafts use, with add (checked), remove and reorder.

Each folder is checked when added and whenever the dialog opens, so a folder
without ``index.csv``, or one that moved, shows its problem in words instead of
breaking every draft later. Order matters for the user's reading only; entry
priorities decide between lexicons.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6 import QtCore, QtGui, QtWidgets

from signeditor.io.lexicon import check_lexicon_folder


def folder_status(folder: Path) -> tuple[bool, str]:
    """(usable, what to tell the user about it)."""
    lexicon, problem = check_lexicon_folder(folder)
    if lexicon is None:
        return False, str(problem)
    pairs = ", ".join(f"{spoken}→{signed}" for spoken, signed in lexicon.language_pairs())
    return True, "; ".join([f"{len(lexicon)} entries ({pairs})", *lexicon.problems])


class LexiconFoldersDialog(QtWidgets.QDialog):
    """Edits a copy of the folder list; :meth:`folders` is the result when accepted."""

    def __init__(self, folders: Sequence[Path], parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Lexicon folders")
        self.resize(560, 320)
        self.list = QtWidgets.QListWidget()
        self.list.setWordWrap(True)
        self.add_button = QtWidgets.QPushButton("Add…")
        self.remove_button = QtWidgets.QPushButton("Remove")
        self.up_button = QtWidgets.QPushButton("Move up")
        self.down_button = QtWidgets.QPushButton("Move down")
        self.message = QtWidgets.QLabel("")
        self.message.setWordWrap(True)
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok
                                             | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        self.ok_button = buttons.button(QtWidgets.QDialogButtonBox.StandardButton.Ok)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        side = QtWidgets.QVBoxLayout()
        for button in (self.add_button, self.remove_button, self.up_button, self.down_button):
            side.addWidget(button)
        side.addStretch(1)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.list, 1)
        row.addLayout(side)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(QtWidgets.QLabel("Drafts look words up in these folders (each with index.csv and clips):"))
        layout.addLayout(row)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        for folder in folders:
            self._append(Path(folder))
        self.add_button.clicked.connect(self.add_dialog)
        self.remove_button.clicked.connect(self.remove_selected)
        self.up_button.clicked.connect(lambda: self.move_selected(-1))
        self.down_button.clicked.connect(lambda: self.move_selected(1))
        self.list.currentRowChanged.connect(lambda _row: self._update_buttons())
        self._update_buttons()

    def folders(self) -> list[Path]:
        return [Path(self.list.item(i).data(QtCore.Qt.ItemDataRole.UserRole)) for i in range(self.list.count())]

    def _append(self, folder: Path) -> None:
        usable, status = folder_status(folder)
        item = QtWidgets.QListWidgetItem(f"{folder}\n    {'' if usable else '⚠ '}{status}")
        item.setData(QtCore.Qt.ItemDataRole.UserRole, str(folder))
        item.setToolTip(status)
        if not usable:  # kept (it may be a disconnected drive) but marked, and skipped by drafts
            item.setForeground(QtGui.QBrush(QtGui.QColor("#d05a3c")))
        self.list.addItem(item)

    def add_dialog(self) -> None:
        folder = QtWidgets.QFileDialog.getExistingDirectory(self, "Add a lexicon folder (with index.csv)")
        if folder:
            self.add_folder(Path(folder))

    def add_folder(self, folder: Path) -> bool:
        """Add ``folder`` if it is a readable lexicon; otherwise say why and leave the list as it is."""
        if str(folder) in {str(f) for f in self.folders()}:
            self.message.setText(f"Already in the list: {folder}")
            return False
        usable, status = folder_status(folder)
        if not usable:
            self.message.setText(f"Not added: {status}")
            return False
        self._append(folder)
        self.list.setCurrentRow(self.list.count() - 1)
        self.message.setText(f"Added {folder}: {status}")
        return True

    def remove_selected(self) -> None:
        row = self.list.currentRow()
        if row >= 0:
            item = self.list.takeItem(row)
            self.message.setText(f"Removed {item.data(QtCore.Qt.ItemDataRole.UserRole)}")
        self._update_buttons()

    def move_selected(self, step: int) -> None:
        row = self.list.currentRow()
        target = row + step
        if row < 0 or not 0 <= target < self.list.count():
            return
        item = self.list.takeItem(row)
        self.list.insertItem(target, item)
        self.list.setCurrentRow(target)

    def _update_buttons(self) -> None:
        row = self.list.currentRow()
        self.remove_button.setEnabled(row >= 0)
        self.up_button.setEnabled(row > 0)
        self.down_button.setEnabled(0 <= row < self.list.count() - 1)
