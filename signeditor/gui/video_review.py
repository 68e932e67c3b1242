"""Video in, review out, in the editor window: Import video…, the Reference and Review docks, ELAN review merge.

Everything is added to an existing MainWindow by :func:`install`, so the
window itself only calls it once and announces each new document.
"""

from __future__ import annotations

from pathlib import Path

from PySide6 import QtCore, QtWidgets

from signeditor.core.project import ReferenceVideo
from signeditor.gui.document import Document
from signeditor.gui.reference_dock import ReferenceDock, SetReferenceCommand
from signeditor.gui.review_panel import ReviewPanel, merge_review_command
from signeditor.gui.video_import import VIDEO_FILTER, VideoImportController
from signeditor.gui.window_api import EditorWindow
from signeditor.io.errors import FileFormatError
from signeditor.video.importer import DetectorFactory, VideoImportResult


class VideoReviewTools(QtCore.QObject):
    """The window's video import controller, Reference and Review docks and their menu entries."""

    def __init__(self, window: EditorWindow, detector_factory: DetectorFactory | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.reference = ReferenceDock()
        self.review = ReviewPanel()
        self.importer = VideoImportController(window, detector_factory)
        self.importer.imported.connect(self._open_imported)
        self.reference.attach_requested.connect(self.attach_dialog)
        # Tabbed with the history: at 1366×768 a third group of docks would push the timeline off the screen.
        window.add_dock("reference", "Reference", self.reference, tab_with="history")
        window.add_dock("review", "Review", self.review, tab_with="history")

        self.actions = {
            "import_video": window.add_action("file_import", "Import &video…", self.import_dialog, "Ctrl+Shift+I"),
            "attach_video": window.add_action("file_import", "Attach &reference video…", self.attach_dialog),
            "merge_review": window.add_action("file_import", "Import review from &ELAN…", self.merge_review_dialog),
        }
        view = window.menu("view")
        view.addActions([window.docks["reference"].toggleViewAction(), window.docks["review"].toggleViewAction()])
        self.actions["next_needs_work"] = window.add_action("view", "Next sign needing &work",
                                                            self.review.jump_to_next_needing_work, "Ctrl+J")
        window.register_shutdown(self.shutdown)
        self.bind(window.document)

    def bind(self, document: Document) -> None:
        """Follow a new document (the window announces each one)."""
        self.reference.set_document(document)
        self.review.set_document(document)
        document.reference_changed.connect(self._offer_reference_to_export)
        self._offer_reference_to_export()

    def _offer_reference_to_export(self) -> None:
        """The window's hook for video export: the project's reference video, side by side, when it exists."""
        from signeditor.video.decode import ReferenceVideoFrames

        reference = self.window.document.project.reference_video
        usable = reference is not None and Path(reference.path).is_file()
        self.window.reference_frames = ReferenceVideoFrames(reference.path, reference.offset_s) if usable else None

    def shutdown(self) -> None:
        self.importer.shutdown()
        self.reference.shutdown()

    # --- actions -------------------------------------------------------------------------------------------------
    def import_dialog(self) -> None:
        video, _ = QtWidgets.QFileDialog.getOpenFileName(self.window, "Import video", "", VIDEO_FILTER)
        if not video or not self.check_before_import(video):
            return
        output, _ = QtWidgets.QFileDialog.getSaveFileName(
            self.window, "Save the imported project as", str(Path(video).with_suffix(".signproj")),
            "SignEditor projects (*.signproj)")
        if output:
            self.import_video(video, output if output.endswith(".signproj") else output + ".signproj")

    def check_before_import(self, video: str | Path) -> bool:
        """Look at the file before asking where to save (issue #23): an unreadable one is named at once, a
        truncated one says how many frames it has left and is imported only if the user agrees."""
        from signeditor.io.errors import FileFormatError
        from signeditor.video.decode import check_video

        try:
            check = check_video(video)
        except FileFormatError as exc:
            QtWidgets.QMessageBox.critical(self.window, "Cannot import the video", str(exc))
            return False
        if not check.truncated:
            return True
        answer = QtWidgets.QMessageBox.question(
            self.window, "Truncated video", f"{Path(video).name}: {check.describe()}. Import those frames?")
        return answer == QtWidgets.QMessageBox.StandardButton.Yes

    def import_video(self, video: str | Path, output: str | Path) -> bool:
        if not self.importer.start(video, output):
            self.window.say("a video import is already running", 5000)
            return False
        return True

    def _open_imported(self, result: VideoImportResult) -> None:
        if not self.window.maybe_save():
            self.window.say(f"imported to {result.project_path} (not opened)", 10000)
            return
        self.window.set_project(result.project, result.project_path)
        self.window.add_recent(result.project_path)
        self.window.say(f"imported {result.info.path.name}: {self.importer.last_message}", 15000)

    def attach_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self.window, "Attach reference video", "", VIDEO_FILTER)
        if path:
            self.attach_video(path)

    def attach_video(self, path: str | Path, keypoints: str = "") -> None:
        document = self.window.document
        reference = ReferenceVideo(str(Path(path).resolve()), 0.0, keypoints)
        self.window.push(SetReferenceCommand(document, reference, f"Attach {Path(path).name}"))
        self.window.docks["reference"].raise_()

    def merge_review_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self.window, "Import review from ELAN", "",
                                                        "ELAN annotations (*.eaf)")
        if path:
            self.merge_review(path)

    def merge_review(self, path: str | Path) -> list[str]:
        try:
            command, notes = merge_review_command(self.window.document, path)
        except FileFormatError as exc:
            QtWidgets.QMessageBox.critical(self.window, "Cannot import the review", str(exc))
            return [str(exc)]
        self.window.push(command)
        self.window.say(
            f"review merged from {Path(path).name}" + (": " + "; ".join(notes) if notes else ""), 15000)
        return notes


def install(window: EditorWindow, detector_factory: DetectorFactory | None = None) -> VideoReviewTools:
    return VideoReviewTools(window, detector_factory)
