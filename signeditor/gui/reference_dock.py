"""The "Reference" dock: the project's reference video, frame-accurately in step with the playhead.

Project time ``t`` shows the video frame on screen at ``t + offset``; the
offset is set in the dock (one undoable step per change, saved with the
project). Decoding runs on a worker thread where the newest request wins, so
scrubbing never blocks the window; stepping and playback decode one frame
each. With the detected keypoints (the ``.pose`` written by a video import)
the dock can draw them over the picture. A missing video never stops a
project from opening: the dock says where it looked.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from signeditor.core.project import ReferenceVideo
from signeditor.gui.document import Document
from signeditor.gui.worker_thread import LatestRequestWorker, WorkerThread, collection_paused
from signeditor.io.errors import FileFormatError
from signeditor.video.decode import FrameReader, frame_index_at

_OFFSET_EDIT_ID = 1401
#: Components drawn by the overlay, with their colours.
OVERLAY_COMPONENTS: dict[str, tuple[int, int, int]] = {
    "POSE_LANDMARKS": (255, 60, 60), "LEFT_HAND_LANDMARKS": (60, 220, 90), "RIGHT_HAND_LANDMARKS": (60, 160, 255),
    "FACE_LANDMARKS": (255, 210, 60),
}


class SetReferenceCommand(QtGui.QUndoCommand):
    """Attach, detach or re-time the reference video; consecutive offset steps merge into one undo entry."""

    def __init__(self, document: Document, reference: ReferenceVideo | None, text: str,
                 mergeable: bool = False) -> None:
        super().__init__(text)
        self.document = document
        self.before = document.project.reference_video
        self.after = reference
        self.mergeable = mergeable

    def redo(self) -> None:
        self.document.set_reference_video(self.after)

    def undo(self) -> None:
        self.document.set_reference_video(self.before)

    def id(self) -> int:
        return _OFFSET_EDIT_ID if self.mergeable else -1

    def mergeWith(self, other: QtGui.QUndoCommand) -> bool:
        if not isinstance(other, SetReferenceCommand) or other.id() != self.id():
            return False
        self.after = other.after
        return True


def offset_command(document: Document, offset_s: float) -> SetReferenceCommand:
    reference = document.project.reference_video
    return SetReferenceCommand(document, ReferenceVideo(reference.path, float(offset_s), reference.keypoints),
                               "Reference offset", mergeable=True)


def load_overlay_points(path: Path) -> tuple[np.ndarray, np.ndarray, list[tuple[int, int, int]]]:
    """(T, P, 2) image points, (T, P) seen, and a colour per point, for the overlay components of a ``.pose``."""
    from pose_format import Pose

    pose = Pose.read(path.read_bytes())
    data = np.ma.getdata(pose.body.data)[:, 0]
    seen = (np.asarray(pose.body.confidence)[:, 0] > 0) & ~np.ma.getmaskarray(pose.body.data)[:, 0].any(axis=-1)
    columns, colours, offset = [], [], 0
    for component in pose.header.components:
        if component.name in OVERLAY_COMPONENTS:
            columns += range(offset, offset + len(component.points))
            colours += [OVERLAY_COMPONENTS[component.name]] * len(component.points)
        offset += len(component.points)
    return data[:, columns, :2].astype(np.float32), seen[:, columns], colours


@dataclass(frozen=True)
class _Open:
    generation: int
    path: str
    keypoints: str


@dataclass(frozen=True)
class _Show:
    generation: int
    index: int
    overlay: bool


class FrameWorker(LatestRequestWorker):
    """Decodes on the worker thread; requests older than the newest one are skipped."""

    opened = QtCore.Signal(int, object, str)  # generation, (n_frames, fps) or None, error message
    frame_ready = QtCore.Signal(int, int, object)  # generation, video frame index, QImage

    def __init__(self) -> None:
        super().__init__()
        self._reader: FrameReader | None = None
        self._overlay: tuple[np.ndarray, np.ndarray, list] | None = None

    @QtCore.Slot(object)
    def open(self, request: _Open) -> None:
        with collection_paused():
            if self._reader is not None:
                self._reader.close()
                self._reader, self._overlay = None, None
            try:
                self._reader = FrameReader(request.path)
            except FileFormatError as exc:
                self.opened.emit(request.generation, None, str(exc))
                return
            message = ""
            if request.keypoints:
                try:
                    self._overlay = load_overlay_points(Path(request.keypoints))
                except Exception as exc:  # an unreadable keypoint file only costs the overlay
                    message = f"keypoint overlay unavailable ({request.keypoints}: {exc})"
            self.opened.emit(request.generation, (self._reader.n_frames, self._reader.fps), message)

    @QtCore.Slot(object, int)
    def show(self, request: _Show, serial: int) -> None:
        if self.should_stop(serial) or self._reader is None:
            return  # a newer frame was asked for meanwhile
        with collection_paused():
            try:
                rgb = self._reader.frame(request.index)
            except FileFormatError:
                return
            image = QtGui.QImage(rgb.data, rgb.shape[1], rgb.shape[0], rgb.strides[0],
                                 QtGui.QImage.Format.Format_RGB888).copy()
            if request.overlay and self._overlay is not None and request.index < len(self._overlay[0]):
                self._draw_points(image, request.index)
            self.frame_ready.emit(request.generation, request.index, image)

    def _draw_points(self, image: QtGui.QImage, index: int) -> None:
        points, seen, colours = self._overlay
        painter = QtGui.QPainter(image)
        painter.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        painter.setPen(QtCore.Qt.PenStyle.NoPen)
        radius = max(2.0, image.width() / 200)
        for (x, y), ok, colour in zip(points[index], seen[index], colours, strict=True):
            if ok:
                painter.setBrush(QtGui.QColor(*colour))
                painter.drawEllipse(QtCore.QPointF(float(x), float(y)), radius, radius)
        painter.end()

    @QtCore.Slot()
    def close_reader(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None


class ReferenceDock(QtWidgets.QWidget):
    """The reference video's picture, its offset and overlay controls, and what went wrong if anything."""

    attach_requested = QtCore.Signal()
    _open = QtCore.Signal(object)
    _show = QtCore.Signal(object, int)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.document: Document | None = None
        self.generation = 0
        self._serial = 0
        self.video_frames = 0
        self.video_fps = 25.0
        self.shown_index: int | None = None  # the video frame on screen (None: nothing shown)
        self.image: QtGui.QImage | None = None  # that frame at full size, as decoded (and overlaid)
        self._opened_key: tuple[str, str] | None = None

        self.picture = QtWidgets.QLabel()
        self.picture.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.picture.setMinimumSize(160, 120)
        self.picture.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Ignored)
        self.message = QtWidgets.QLabel("")
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(QtCore.Qt.TextInteractionFlag.TextSelectableByMouse)
        self.offset = QtWidgets.QDoubleSpinBox()
        self.offset.setRange(-3600.0, 3600.0)
        self.offset.setDecimals(3)
        self.offset.setSuffix(" s")
        self.offset.setToolTip("Video time at the project's start (positive: the video starts earlier)")
        self.offset.valueChanged.connect(self._offset_edited)
        self.overlay = QtWidgets.QCheckBox("Keypoints")
        self.overlay.setToolTip("Draw the keypoints detected in the video")
        self.overlay.toggled.connect(lambda _on: self.sync())
        self.attach_button = QtWidgets.QPushButton("Attach…")
        self.attach_button.clicked.connect(self.attach_requested)

        controls = QtWidgets.QHBoxLayout()
        controls.addWidget(QtWidgets.QLabel("Offset"))
        controls.addWidget(self.offset)
        controls.addWidget(self.overlay)
        controls.addStretch(1)
        controls.addWidget(self.attach_button)
        layout = QtWidgets.QVBoxLayout(self)
        layout.addWidget(self.picture, 1)
        layout.addWidget(self.message)
        layout.addLayout(controls)

        self.worker = FrameWorker()
        self._thread = WorkerThread(self.worker, "reference-video", self)
        queued = QtCore.Qt.ConnectionType.QueuedConnection
        self._open.connect(self.worker.open, queued)
        self._show.connect(self.worker.show, queued)
        self.worker.opened.connect(self._on_opened, queued)
        self.worker.frame_ready.connect(self._on_frame, queued)
        self._set_controls(False)

    # --- document ----------------------------------------------------------------------------------------------
    def set_document(self, document: Document) -> None:
        self.document = document
        document.frame_changed.connect(lambda _frame: self.sync())
        document.reference_changed.connect(self.reload)
        self.reload()

    @property
    def reference(self) -> ReferenceVideo | None:
        return self.document.project.reference_video if self.document is not None else None

    def reload(self) -> None:
        """(Re)open the reference video, or say why there is none; the offset box follows the project."""
        reference = self.reference
        blocker = QtCore.QSignalBlocker(self.offset)
        self.offset.setValue(reference.offset_s if reference else 0.0)
        del blocker
        key = (reference.path, reference.keypoints) if reference else None
        if key == self._opened_key and key is not None:
            self.sync()
            return
        self._opened_key = key
        self.generation += 1
        self.shown_index = None
        self.picture.clear()
        self.video_frames = 0
        self._set_controls(False)
        if reference is None:
            self.message.setText("No reference video. Attach one to compare the avatar with a human rendition.")
            return
        self.overlay.setEnabled(bool(reference.keypoints))
        if not Path(reference.path).is_file():
            self.message.setText(f"Reference video not found: looked for {reference.path}. "
                                 "Attach it again if it was moved.")
            return
        self.message.setText(f"opening {Path(reference.path).name}…")
        self._open.emit(_Open(self.generation, reference.path, reference.keypoints))

    def _set_controls(self, enabled: bool) -> None:
        self.offset.setEnabled(enabled)
        self.overlay.setEnabled(enabled and bool(self.reference and self.reference.keypoints))

    @QtCore.Slot(int, object, str)
    def _on_opened(self, generation: int, info: tuple[int, float] | None, message: str) -> None:
        if generation != self.generation:
            return
        if info is None:
            self.message.setText(message)
            return
        self.video_frames, self.video_fps = info
        self.offset.setSingleStep(1.0 / self.video_fps)
        self._set_controls(True)
        name = Path(self.reference.path).name
        self.message.setText(f"{name}: {self.video_frames} frames at {self.video_fps:g} fps" +
                             (f"\n{message}" if message else ""))
        self.sync()

    # --- sync with the playhead --------------------------------------------------------------------------------
    def video_index_for(self, frame: int) -> int | None:
        """The video frame on screen at the project's ``frame`` (None outside the video)."""
        reference = self.reference
        if reference is None or not self.video_frames:
            return None
        return frame_index_at(frame / self.document.motion.fps + reference.offset_s, self.video_fps, self.video_frames)

    def sync(self) -> None:
        if self.document is None or not self.video_frames:
            return
        index = self.video_index_for(self.document.frame)
        if index is None:
            self.shown_index = None
            self.picture.setText("(outside the reference video)")
            return
        self._serial += 1
        self.worker.note_latest(self._serial)
        self._show.emit(_Show(self.generation, index, self.overlay.isChecked()), self._serial)

    @QtCore.Slot(int, int, object)
    def _on_frame(self, generation: int, index: int, image: QtGui.QImage) -> None:
        if generation != self.generation:
            return
        self.shown_index = index
        self.image = image
        self._show_scaled()

    def _show_scaled(self) -> None:
        if self.image is None or self.shown_index is None:
            return
        pixmap = QtGui.QPixmap.fromImage(self.image)
        size = self.picture.size()
        if size.width() > 10 and size.height() > 10:
            pixmap = pixmap.scaled(size, QtCore.Qt.AspectRatioMode.KeepAspectRatio,
                                   QtCore.Qt.TransformationMode.SmoothTransformation)
        self.picture.setPixmap(pixmap)

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:
        super().resizeEvent(event)
        self._show_scaled()

    def _offset_edited(self, value: float) -> None:
        if self.document is not None and self.reference is not None:
            self.document.undo_stack.push(offset_command(self.document, value))

    @QtCore.Slot()
    def shutdown(self) -> None:
        self.generation += 1
        if self._thread.thread.isRunning():  # the reader is closed in its own thread, before the thread ends
            QtCore.QMetaObject.invokeMethod(self.worker, "close_reader", QtCore.Qt.ConnectionType.QueuedConnection)
        self._thread.shutdown(5000)
