"""The editor window as its helpers see it: a small public, typed API.

Helpers that add menus, docks and gestures to the window (export, file
actions, sign editing, video review) reach it only through :class:`EditorWindow`,
so the window can change its insides without breaking them, and a helper can
be read (and type-checked) without reading the window. Menus are found by id,
never by their label text (which is translated and carries ``&`` mnemonics).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from PySide6 import QtCore, QtGui, QtWidgets

if TYPE_CHECKING:
    from signeditor.core.project import Project
    from signeditor.gui.document import Document
    from signeditor.gui.draft_panel import DraftPanel
    from signeditor.gui.file_jobs import FileJobs
    from signeditor.gui.timeline import TimelineWidget
    from signeditor.render.video import ReferenceFrames
    from signeditor.render.viewport import Viewport

#: Ids of the window's menus for :meth:`EditorWindow.add_action`. ``file_import`` is the File menu's import
#: section (above Export); the others are whole top-level menus.
MENU_IDS: tuple[str, ...] = ("file", "file_import", "edit", "view", "playback", "sign")

#: A slot for a menu action: triggered (no argument) or toggled (the new state) for checkable ones.
ActionSlot = Callable[..., object]


class EditorWindow(Protocol):
    """What a helper may use of the main window (:class:`~signeditor.gui.main_window.MainWindow` implements it)."""

    settings: QtCore.QSettings
    timeline: TimelineWidget
    viewport: Viewport | None
    docks: dict[str, QtWidgets.QDockWidget]
    play_timer: QtCore.QTimer
    file_jobs: FileJobs
    draft_panel: DraftPanel
    #: Hook for a reference video: when set, video export can show it beside the avatar.
    reference_frames: ReferenceFrames | None

    @property
    def document(self) -> Document: ...

    def push(self, command: QtGui.QUndoCommand) -> None:
        """Do ``command`` as one step of the document's undo history."""

    def add_dock(self, key: str, title: str, widget: QtWidgets.QWidget,
                 area: QtCore.Qt.DockWidgetArea = QtCore.Qt.DockWidgetArea.RightDockWidgetArea, *,
                 tab_with: str | None = None, scroll: bool = True) -> QtWidgets.QDockWidget:
        """A dock for ``widget`` as ``docks[key]``; side panels scroll instead of growing the window."""

    def add_action(self, menu_id: str | None, text: str, slot: ActionSlot,
                   shortcut: QtGui.QKeySequence | str | None = None, *,
                   checkable: bool = False) -> QtGui.QAction:
        """An action with its shortcut live window-wide, listed in the menu ``menu_id`` (see MENU_IDS) if given."""

    def add_menu(self, menu_id: str, title: str, parent: QtWidgets.QMenu | None = None) -> QtWidgets.QMenu:
        """A new top-level menu (or a submenu of ``parent``) registered as ``menu_id``."""

    def menu(self, menu_id: str) -> QtWidgets.QMenu:
        """The menu with this id (see MENU_IDS)."""

    def say(self, message: str, timeout_ms: int = 5000) -> None:
        """A plain-language status message (the full text stays in the tooltip when the bar is too narrow)."""

    def show_current_frame(self) -> None:
        """Draw the document's current frame again (after a preview ended)."""

    def maybe_save(self) -> bool:
        """Ask to save unsaved changes; False when the user cancelled."""

    def add_recent(self, path: str | Path) -> None: ...

    def set_project(self, project: Project, path: str | Path | None = None) -> None:
        """Show ``project`` as a new document (a new undo history)."""

    def register_shutdown(self, shutdown: Callable[[], None]) -> None:
        """Call ``shutdown`` when the window closes (stops a helper's worker; must be quick and idempotent)."""

    def statusBar(self) -> QtWidgets.QStatusBar: ...

    def tabifyDockWidget(self, first: QtWidgets.QDockWidget, second: QtWidgets.QDockWidget) -> None: ...
