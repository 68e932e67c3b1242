"""The window's file half: open, save, export, recent files, autosave and crash recovery.

A mixin of :class:`~signeditor.gui.main_window.MainWindow` (it uses the window's document, settings, file jobs,
exporter and menus), kept apart so the window module stays about wiring and views.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6 import QtWidgets

from signeditor.app_services import open_document
from signeditor.errors import FileFormatError

if TYPE_CHECKING:
    from signeditor.gui.main_window import MainWindow

MAX_RECENT = 8


class FileActions:
    """Open/save/export/recent/autosave/recovery for the main window."""

    def open_file(self: MainWindow, path: str | Path) -> bool:
        """Open on the worker (progress and Cancel after half a second); False when it failed or was cancelled."""
        try:
            project = self.file_jobs.open(path)
        except (FileFormatError, OSError) as exc:
            QtWidgets.QMessageBox.critical(self, "Cannot open file", str(exc))
            return False
        if project is None:
            self.say(f"Opening {Path(path).name} was cancelled.", 5000)
            return False
        is_project = Path(path).suffix.lower() == ".signproj"
        self.set_project(project, path if is_project else None)
        self.add_recent(path)
        if project.import_report:
            self.say(project.import_report, 30_000)
        return True

    def export_to(self: MainWindow, path: str | Path, format_name: str) -> bool:
        """Export the project (video starts a cancellable job; see gui/export_actions.py)."""
        return self.exporter.export_to(path, format_name)

    def export_dialog(self: MainWindow, format_name: str) -> None:
        self.exporter.export_dialog(format_name)

    def open_dialog(self: MainWindow) -> None:
        if not self.maybe_save():
            return
        path, _ = QtWidgets.QFileDialog.getOpenFileName(
            self, "Open", "",
            "All supported (*.signproj *.pose *.bvh *.glb *.gltf *.npz data.mdb);;SignEditor projects (*.signproj);;"
            "Pose keypoints (*.pose);;BVH (*.bvh);;glTF (*.glb *.gltf);;SMPL-X / SignSparK (*.npz);;"
            "SignSparK LMDB (data.mdb);;All files (*)")
        if path:
            self.open_file(path)

    def save_to(self: MainWindow, path: str | Path) -> bool:
        from signeditor.io.project_file import save_project

        try:
            save_project(self.document.project, path)
        except OSError as exc:
            QtWidgets.QMessageBox.critical(self, "Cannot save", str(exc))
            return False
        self.document.set_path(path)
        self.document.undo_stack.setClean()
        self.add_recent(path)
        self.update_title()
        self.say(f"Saved {path}", 4000)
        return True

    def save(self: MainWindow) -> bool:
        if self.document.path is None:
            return self.save_as_dialog()
        return self.save_to(self.document.path)

    def save_as_dialog(self: MainWindow) -> bool:
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Save As", "", "SignEditor projects (*.signproj)")
        if not path:
            return False
        if not path.endswith(".signproj"):
            path += ".signproj"
        return self.save_to(path)

    def recent_files(self: MainWindow) -> list[str]:
        value = self.settings.value("recent_files", [])
        if isinstance(value, str):
            value = [value]
        return [str(v) for v in (value or [])]

    def add_recent(self: MainWindow, path: str | Path) -> None:
        path = str(Path(path).resolve())
        recent = [path] + [p for p in self.recent_files() if p != path]
        self.settings.setValue("recent_files", recent[:MAX_RECENT])
        self._rebuild_recent_menu()

    def _rebuild_recent_menu(self: MainWindow) -> None:
        self.recent_menu.clear()
        for path in self.recent_files():
            action = self.recent_menu.addAction(path)
            action.triggered.connect(lambda _=False, p=path: self.maybe_save() and self.open_file(p))
        self.recent_menu.setEnabled(bool(self.recent_files()))

    # --- autosave and recovery -----------------------------------------------------------------------------------
    def autosave(self: MainWindow) -> Path | None:
        """Write the recovery file if there are unsaved changes (the timer calls this every 30 s)."""
        if not self.document.is_modified():
            return None
        from signeditor.io.project_file import save_project

        path = self.recovery_file()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            save_project(self.document.project, path)
        except OSError as exc:  # a full disk must not crash the editor; the previous recovery file is intact
            self.say(f"autosave failed ({exc}): your work is still open; save it with Ctrl+S", 10_000)
            return None
        self.settings.setValue("recovery/original_path", str(self.document.path or ""))
        return path

    def offer_recovery(self: MainWindow, ask: bool = True) -> bool:
        """After a crash the recovery file is still there: ask whether to restore it (True if restored)."""
        path = self.recovery_file()
        if not path.exists():
            return False
        if ask:
            answer = QtWidgets.QMessageBox.question(
                self, "Recover unsaved work?",
                "SignEditor did not close cleanly. Restore the automatically saved edits?")
            if answer != QtWidgets.QMessageBox.StandardButton.Yes:
                path.unlink(missing_ok=True)
                return False
        try:
            project = open_document(path)
        except (FileFormatError, OSError):
            path.unlink(missing_ok=True)
            return False
        original = str(self.settings.value("recovery/original_path", "") or "")
        self.set_project(project, original or None)
        self.document.undo_stack.resetClean()  # recovered edits are unsaved
        self.update_title()
        return True

    def maybe_save(self: MainWindow) -> bool:
        if not self.confirm_close or not self.document.is_modified():
            return True
        answer = QtWidgets.QMessageBox.question(
            self, "Unsaved changes", "Save changes before closing?",
            QtWidgets.QMessageBox.StandardButton.Save | QtWidgets.QMessageBox.StandardButton.Discard
            | QtWidgets.QMessageBox.StandardButton.Cancel)
        if answer == QtWidgets.QMessageBox.StandardButton.Cancel:
            return False
        if answer == QtWidgets.QMessageBox.StandardButton.Save:
            return self.save()
        return True
