"""The "Review" dock: status and comments of the sign under the playhead, and a jump to the next one needing work.

A reviewer watches the avatar (and the reference video beside it), marks each
sign draft / needs work / approved and writes comments. Every change is one
undoable command on the document's stack and is saved with the project; the
Signs lane colours each sign by its status. A review done in ELAN comes back
with :func:`merge_review_command`.
"""

from __future__ import annotations

import html
from pathlib import Path

from PySide6 import QtWidgets

from signeditor.core.segments import NEEDS_WORK, REVIEW_STATUSES, Segment
from signeditor.gui.commands import SetSegmentsCommand
from signeditor.gui.document import Document

STATUS_LABELS: dict[str, str] = {"draft": "Draft", "needs work": "Needs work", "approved": "Approved"}


def sign_at(segments: list[Segment], frame: int) -> int | None:
    """Index of the sign covering ``frame``, else None."""
    return next((i for i, s in enumerate(segments) if s.start <= frame < s.end), None)


def next_needing_work(segments: list[Segment], frame: int) -> int | None:
    """The first sign needing work that starts after ``frame``, wrapping round to the first; None if there is none."""
    ordered = sorted((s.start, i) for i, s in enumerate(segments) if s.status == NEEDS_WORK)
    if not ordered:
        return None
    return next((i for start, i in ordered if start > frame), ordered[0][1])


def _sign_name(segment: Segment, index: int) -> str:
    return segment.gloss or f"sign {index + 1}"


def set_status_command(document: Document, index: int, status: str) -> SetSegmentsCommand:
    segments = list(document.project.segments)
    segments[index] = segments[index].reviewed(status=status)
    return SetSegmentsCommand(document, segments, f"Mark {_sign_name(segments[index], index)} {status}")


def set_comments_command(document: Document, index: int, comments: tuple[str, ...], text: str) -> SetSegmentsCommand:
    segments = list(document.project.segments)
    segments[index] = segments[index].reviewed(comments=comments)
    return SetSegmentsCommand(document, segments, f"{text} on {_sign_name(segments[index], index)}")


def merge_review_command(document: Document, path: str | Path) -> tuple[SetSegmentsCommand, list[str]]:
    """The review from an ELAN file as one undoable step (FileFormatError for unusable files)."""
    from signeditor.io.elan import merge_elan_review

    merged, notes = merge_elan_review(document.project.segments, path, document.motion.fps)
    return SetSegmentsCommand(document, merged, f"Merge review from {Path(path).name}"), notes


class ReviewPanel(QtWidgets.QWidget):
    """Shows and edits the review of the sign under the playhead."""

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.document: Document | None = None
        self.index: int | None = None
        self.title = QtWidgets.QLabel("")
        self.title.setWordWrap(True)
        self.status_buttons: dict[str, QtWidgets.QRadioButton] = {}
        status_row = QtWidgets.QHBoxLayout()
        self._status_group = QtWidgets.QButtonGroup(self)
        for status in REVIEW_STATUSES:
            button = QtWidgets.QRadioButton(STATUS_LABELS[status])
            button.setObjectName(f"status_{status.replace(' ', '_')}")
            button.clicked.connect(lambda _=False, s=status: self.set_status(s))
            self._status_group.addButton(button)
            self.status_buttons[status] = button
            status_row.addWidget(button)
        self.comments = QtWidgets.QListWidget()
        self.comments.setWordWrap(True)
        self.comment_edit = QtWidgets.QLineEdit()
        self.comment_edit.setPlaceholderText("Add a comment and press Enter")
        self.comment_edit.returnPressed.connect(self.add_comment)
        self.remove_button = QtWidgets.QPushButton("Remove comment")
        self.remove_button.clicked.connect(self.remove_selected_comment)
        self.next_button = QtWidgets.QPushButton("Next sign needing work")
        self.next_button.setToolTip("Jump the playhead to the next sign marked “needs work” (Ctrl+J)")
        self.next_button.clicked.connect(self.jump_to_next_needing_work)

        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.title)
        layout.addLayout(status_row)
        layout.addWidget(self.comments, 1)
        layout.addWidget(self.comment_edit)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.remove_button)
        row.addWidget(self.next_button)
        layout.addLayout(row)
        self.refresh()

    def set_document(self, document: Document) -> None:
        self.document = document
        document.segments_changed.connect(self.refresh)
        document.frame_changed.connect(lambda _frame: self.refresh())
        self.refresh()

    def refresh(self) -> None:
        doc = self.document
        segments = doc.project.segments if doc is not None else []
        self.index = sign_at(segments, doc.frame) if doc is not None else None
        editable = self.index is not None
        for widget in (*self.status_buttons.values(), self.comments, self.comment_edit, self.remove_button):
            widget.setEnabled(editable)
        waiting = sum(s.status == NEEDS_WORK for s in segments)
        self.next_button.setEnabled(waiting > 0)
        self.next_button.setText(f"Next sign needing work ({waiting})")
        self.comments.clear()
        if not editable:
            self.title.setText("No sign at the playhead" if segments else "No signs in this project")
            self._status_group.setExclusive(False)
            for button in self.status_buttons.values():
                button.setChecked(False)
            self._status_group.setExclusive(True)
            return
        segment = segments[self.index]
        name = html.escape(_sign_name(segment, self.index))
        self.title.setText(f"<b>{name}</b>  frames {segment.start}–{segment.end - 1}")
        self.status_buttons[segment.status].setChecked(True)
        self.comments.addItems(list(segment.comments))

    # --- edits (each one undoable step) ----------------------------------------------------------------------
    def set_status(self, status: str) -> None:
        if self.index is None or self.document.project.segments[self.index].status == status:
            return
        self.document.undo_stack.push(set_status_command(self.document, self.index, status))

    def add_comment(self) -> None:
        text = self.comment_edit.text().strip()
        if self.index is None or not text:
            return
        comments = (*self.document.project.segments[self.index].comments, text)
        self.comment_edit.clear()
        self.document.undo_stack.push(set_comments_command(self.document, self.index, comments, "Comment"))

    def remove_selected_comment(self) -> None:
        row = self.comments.currentRow()
        if self.index is None or row < 0:
            return
        comments = list(self.document.project.segments[self.index].comments)
        del comments[row]
        self.document.undo_stack.push(
            set_comments_command(self.document, self.index, tuple(comments), "Remove comment"))

    def jump_to_next_needing_work(self) -> bool:
        if self.document is None:
            return False
        index = next_needing_work(self.document.project.segments, self.document.frame)
        if index is None:
            return False
        self.document.set_frame(self.document.project.segments[index].start)
        return True
