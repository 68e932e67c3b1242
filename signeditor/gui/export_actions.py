"""File > Export: where the file goes (next to the project, named after it) and how it is written.

Most formats are written at once; video runs as a :class:`VideoExportJob` with
a progress dialog whose Cancel leaves no file behind.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6 import QtCore, QtWidgets

from signeditor.io.errors import FileFormatError
from signeditor.io.formats import EXPORT_FORMATS
from signeditor.render.video import VIDEO_FORMATS, VideoOptions

if TYPE_CHECKING:
    from signeditor.gui.video_export import VideoExportJob
    from signeditor.gui.window_api import EditorWindow

LAST_EXPORT_FOLDER_KEY = "export/last_folder"


def export_stem(path: Path | None, text: str) -> str:
    """The project's file name without its suffix; else the draft's text; else "untitled"."""
    if path is not None:
        return path.name.removesuffix(".signproj").removesuffix(path.suffix) or "untitled"
    words = re.sub(r"[^\w\- ]+", "", text, flags=re.UNICODE).strip()
    return words[:40].strip() or "untitled"


class Exporter(QtCore.QObject):
    """Export actions of one main window (its document, settings and status bar)."""

    def __init__(self, window: EditorWindow) -> None:
        super().__init__(window)
        self.window = window
        self.job: VideoExportJob | None = None
        self.progress_dialog: QtWidgets.QProgressDialog | None = None

    def default_path(self, format_name: str) -> Path:
        """Next to the open project and named after it; untitled work goes to the last export folder."""
        fmt = EXPORT_FORMATS[format_name]
        doc = self.window.document
        path = Path(doc.path) if doc.path else None
        folder = path.parent if path is not None else Path(
            str(self.window.settings.value(LAST_EXPORT_FOLDER_KEY, "") or Path.home()))
        return folder / (export_stem(path, doc.project.text) + fmt.suffix)

    def export_dialog(self, format_name: str) -> None:
        fmt = EXPORT_FORMATS[format_name]
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self.window, f"Export {fmt.description}",
                                                        str(self.default_path(format_name)),
                                                        f"{fmt.description} (*{fmt.suffix})")
        if not path:
            return
        if format_name not in VIDEO_FORMATS:
            self.export_to(path, format_name)
            return
        from signeditor.gui.video_export import VideoOptionsDialog

        dialog = VideoOptionsDialog(self.window.document.motion.fps, self.window.reference_frames is not None,
                                    self.window)
        if dialog.exec() == QtWidgets.QDialog.DialogCode.Accepted:
            self.export_video(path, dialog.options())

    def export_to(self, path: str | Path, format_name: str) -> bool:
        """Write a non-video format now (video: :meth:`export_video`); errors are shown, never raised."""
        if format_name in VIDEO_FORMATS:
            return self.export_video(path, VideoOptions()) is not None
        # glTF carries the avatar on screen, its face morphs as shape keys.
        options = {"avatar": getattr(self.window.viewport, "avatar", None)} if format_name in ("glb", "gltf") else {}
        try:  # on the file-job worker: a long glTF or LMDB export never blocks the window
            written = self.window.file_jobs.export(self.window.document.project, path, format_name, **options)
        except (FileFormatError, OSError, RuntimeError) as exc:
            QtWidgets.QMessageBox.critical(self.window, "Export failed", str(exc))
            return False
        if not written:
            self.window.say("export cancelled", 5000)
            return False
        self._done(str(path))
        return True

    def export_video(self, path: str | Path, options: VideoOptions) -> VideoExportJob | None:
        """Start rendering ``path`` with a progress dialog; returns the running job (None if one is running)."""
        from signeditor.gui.video_export import VideoExportJob

        if self.job is not None and self.job.running:
            self.window.say("a video export is already running", 5000)
            return None
        window = self.window
        viewport = window.viewport
        job = VideoExportJob(window.document.project.shown_motion(), path, options,
                             avatar=getattr(viewport, "avatar", None), in_qt=viewport is not None,
                             reference=window.reference_frames, parent=self)
        progress = QtWidgets.QProgressDialog(f"Rendering {Path(path).name}…", "Cancel", 0, job.motion.n_frames,
                                             window)
        progress.setWindowModality(QtCore.Qt.WindowModality.WindowModal)
        progress.setMinimumDuration(0)
        progress.setAutoClose(False)
        progress.setAutoReset(False)
        progress.canceled.connect(job.cancel)
        job.progress.connect(lambda done, _total: progress.setValue(done))
        job.finished.connect(self._done)
        job.failed.connect(lambda message: QtWidgets.QMessageBox.critical(window, "Export failed", message))
        job.cancelled.connect(lambda: window.say("video export cancelled", 5000))
        for signal in (job.finished, job.failed, job.cancelled):
            signal.connect(progress.close)
        self.job, self.progress_dialog = job, progress
        progress.show()
        job.start()
        return job

    def _done(self, path: str) -> None:
        self.window.settings.setValue(LAST_EXPORT_FOLDER_KEY, str(Path(path).parent))
        self.window.say(f"Exported {path}", 5000)

    def shutdown(self) -> None:
        """Closing the window cancels a running export (no partial file)."""
        if self.job is not None:
            self.job.cancel()
