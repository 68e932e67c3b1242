"""A new draft over the current one, as one undoable step.

A translator iterates on the text; asking "save changes?" each time would be
noise, and dropping their edits silently would lose work. Replacing the draft
as one command gives both: no question, and Undo brings the edited draft back.
"""

from __future__ import annotations

from typing import Protocol

from PySide6 import QtGui

from signeditor.core.project import Project


class ProjectHolder(Protocol):
    def replace_project(self, project: Project) -> None: ...


class ReplaceDraftCommand(QtGui.QUndoCommand):
    def __init__(self, window: ProjectHolder, before: Project, after: Project) -> None:
        text = after.text.strip()
        super().__init__(f"New draft “{text[:30]}{'…' if len(text) > 30 else ''}”")
        self.window, self.before, self.after = window, before, after

    def redo(self) -> None:
        self.window.replace_project(self.after)

    def undo(self) -> None:
        self.window.replace_project(self.before)
