"""The window's frame: docks, menus by id, status messages, shutdown of helpers, and a size that fits the screen.

A mixin of :class:`~signeditor.gui.main_window.MainWindow` implementing the
public part of :class:`~signeditor.gui.window_api.EditorWindow` that is about
the frame rather than the document. Side panels sit in scroll areas, so their
content never sets the window's minimum size: the editor fits a 1366×768
laptop screen with the timeline in view (issue #23).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6 import QtCore, QtGui, QtWidgets

from signeditor.gui.window_api import ActionSlot

#: The window's size on first launch when the screen has room for it.
DEFAULT_SIZE = QtCore.QSize(1280, 820)
#: Heights (pixels) given to the timeline and width to the right-hand panels on first launch.
TIMELINE_HEIGHT = 290
SIDE_PANEL_WIDTH = 330
#: Widest a side panel's content may make its dock; wider content scrolls sideways.
MAX_PANEL_MIN_WIDTH = 340
#: Room left for the window manager's title bar and borders when fitting the window to a screen.
FRAME_ALLOWANCE = QtCore.QSize(16, 48)
TITLE_BAR_HEIGHT = 32


def scrolling(widget: QtWidgets.QWidget) -> QtWidgets.QScrollArea:
    """``widget`` in a vertical scroll area: its height no longer adds to the window's minimum height."""
    area = QtWidgets.QScrollArea()
    area.setObjectName(f"scroll_{widget.objectName() or type(widget).__name__}")
    area.setWidgetResizable(True)
    area.setFrameShape(QtWidgets.QFrame.Shape.NoFrame)
    area.setWidget(widget)
    # The panel's width still counts up to a point (it is what the user reads), its height does not.
    width = min(widget.minimumSizeHint().width(), MAX_PANEL_MIN_WIDTH)
    area.setMinimumWidth(width + area.verticalScrollBar().sizeHint().width())
    return area


def first_launch_geometry(available: QtCore.QRect) -> QtCore.QRect:
    """Where the window goes on first launch: the default size, shrunk to the screen's free area, centred."""
    size = DEFAULT_SIZE.boundedTo(available.size() - FRAME_ALLOWANCE)
    left = available.left() + (available.width() - size.width()) // 2
    top = available.top() + (available.height() - size.height() + TITLE_BAR_HEIGHT) // 2  # the title bar above
    return QtCore.QRect(left, top, size.width(), size.height())


class WindowFrame:
    """Docks, actions and menus registered by id, status messages and helpers' shutdowns (see EditorWindow)."""

    docks: dict[str, QtWidgets.QDockWidget]
    menus: dict[str, QtWidgets.QMenu]
    _menu_sections: dict[str, QtGui.QAction]
    _shutdowns: list[Callable[[], None]]
    _dock_sizes_pending: bool = False
    _screen_check_pending: bool = False

    def _init_frame(self: QtWidgets.QMainWindow) -> None:
        self.docks = {}
        self.menus = {}
        self._menu_sections = {}
        self._shutdowns = []
        # Tabs of docks sit on top of them, so a tabbed group reads like a notebook.
        self.setTabPosition(QtCore.Qt.DockWidgetArea.RightDockWidgetArea, QtWidgets.QTabWidget.TabPosition.North)
        self.setDockOptions(self.dockOptions() | QtWidgets.QMainWindow.DockOption.AllowTabbedDocks)

    def add_dock(self: QtWidgets.QMainWindow, key: str, title: str, widget: QtWidgets.QWidget,
                 area: QtCore.Qt.DockWidgetArea = QtCore.Qt.DockWidgetArea.RightDockWidgetArea, *,
                 tab_with: str | None = None, scroll: bool = True) -> QtWidgets.QDockWidget:
        dock = QtWidgets.QDockWidget(title, self)
        dock.setObjectName(f"dock_{title.lower()}")
        dock.setWidget(scrolling(widget) if scroll else widget)
        self.addDockWidget(area, dock)
        if tab_with is not None:
            self.tabifyDockWidget(self.docks[tab_with], dock)
        self.docks[key] = dock
        return dock

    def add_menu(self: QtWidgets.QMainWindow, menu_id: str, title: str,
                 parent: QtWidgets.QMenu | None = None) -> QtWidgets.QMenu:
        """A top-level menu (or a submenu of ``parent``) registered as ``menu_id``."""
        menu = (parent.addMenu(title) if parent is not None else self.menuBar().addMenu(title))
        self.menus[menu_id] = menu
        return menu

    def add_menu_section(self, section_id: str, menu_id: str) -> None:
        """Mark the current end of menu ``menu_id``: actions added to ``section_id`` go there (above what follows)."""
        menu = self.menus[menu_id]
        self._menu_sections[section_id] = menu.addSeparator()
        self.menus[section_id] = menu

    def menu(self, menu_id: str) -> QtWidgets.QMenu:
        return self.menus[menu_id]

    def add_action(self: QtWidgets.QMainWindow, menu_id: str | None, text: str, slot: ActionSlot,
                   shortcut: QtGui.QKeySequence | str | None = None, *,
                   checkable: bool = False) -> QtGui.QAction:
        action = QtGui.QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QtGui.QKeySequence(shortcut))
        action.setCheckable(checkable)
        (action.toggled if checkable else action.triggered).connect(slot)
        self.addAction(action)  # the shortcut works even while the menu is closed
        if menu_id is not None:
            section = self._menu_sections.get(menu_id)
            if section is not None:
                self.menus[menu_id].insertAction(section, action)
            else:
                self.menus[menu_id].addAction(action)
        return action

    def say(self: QtWidgets.QMainWindow, message: str, timeout_ms: int = 5000) -> None:
        bar = self.statusBar()
        bar.setToolTip(message)  # the whole message, when the bar is narrower than it
        bar.showMessage(message, timeout_ms)

    def register_shutdown(self, shutdown: Callable[[], None]) -> None:
        self._shutdowns.append(shutdown)

    def shut_down_helpers(self: QtWidgets.QMainWindow) -> None:
        """Stop every worker: all are asked at once (so their waits overlap), then each helper is shut down."""
        from signeditor.gui.worker_thread import WorkerThread

        for thread in self.findChildren(WorkerThread):
            thread.request_stop()
        for shutdown in self._shutdowns:
            shutdown()
        for thread in self.findChildren(WorkerThread):  # any a helper did not register still ends here
            thread.shutdown()

    def fit_to_screen(self: QtWidgets.QMainWindow) -> None:
        """First-launch size and place: inside the screen's free area, the timeline and panels given room."""
        screen = self.screen() or QtGui.QGuiApplication.primaryScreen()
        self.setGeometry(first_launch_geometry(screen.availableGeometry()))
        self._dock_sizes_pending = True  # docks can be sized once the window is laid out (its first show)

    def _size_docks(self: QtWidgets.QMainWindow) -> None:
        """First-launch share of the height: the timeline its room, the right-hand groups 3:2 of the rest."""
        self._dock_sizes_pending = False
        height = self.height()
        timeline = min(TIMELINE_HEIGHT, max(height * 2 // 5, self.docks["timeline"].minimumSizeHint().height()))
        self.resizeDocks([self.docks["timeline"]], [timeline], QtCore.Qt.Orientation.Vertical)
        self.resizeDocks([self.docks["inspector"]], [SIDE_PANEL_WIDTH], QtCore.Qt.Orientation.Horizontal)
        side = height - timeline
        self.resizeDocks([self.docks["inspector"], self.docks["history"]], [side * 3 // 5, side * 2 // 5],
                         QtCore.Qt.Orientation.Vertical)

    def showEvent(self: QtWidgets.QMainWindow, event: QtGui.QShowEvent) -> None:
        super().showEvent(event)
        if self._dock_sizes_pending:
            self._size_docks()
        if self._screen_check_pending:  # the frame's margins are known once shown
            self._screen_check_pending = False
            self._move_inside_screen()

    def keep_on_screen_when_shown(self) -> None:
        """A restored geometry from a bigger screen is shrunk and moved back inside this one (once shown)."""
        self._screen_check_pending = True

    def _move_inside_screen(self: QtWidgets.QMainWindow) -> None:
        screen = self.screen() or QtGui.QGuiApplication.primaryScreen()
        available = screen.availableGeometry()
        if available.contains(self.frameGeometry()) or self.isMaximized() or self.isFullScreen():
            return
        self.setGeometry(first_launch_geometry(available))
