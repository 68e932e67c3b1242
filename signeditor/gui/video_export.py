"""Video export inside the editor: options dialog, and a chunked job with progress and Cancel.

Rendering needs OpenGL, and OpenGL calls must stay in the thread that owns the
context, so the job renders a few frames per event-loop turn in the GUI thread
(the window keeps repainting and Cancel is answered at once) instead of in a
worker thread. When the window has a GL viewport, frames are drawn by a second,
never-shown Qt GL canvas of the export size, so the export neither fights the
viewport's context (vispy's EGL backend does, "Could not make the context
current") nor moves the user's camera; without one it falls back to EGL.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtWidgets

from signeditor.core.motion import Motion
from signeditor.render.video import (
    VIDEO_CAMERAS,
    ReferenceFrames,
    VideoOptions,
    VideoViewport,
    VideoWriter,
    offscreen_viewport,
    prepare_for_video,
    render_frames,
    timed_motion,
)

#: Frame sizes offered (width, height): small for messages, HD for presentations.
VIDEO_SIZES: tuple[tuple[int, int], ...] = ((640, 480), (960, 720), (1280, 720), (1920, 1080), (720, 720))
#: Time spent rendering per event-loop turn before the GUI gets control back.
CHUNK_SECONDS = 0.05


def qt_offscreen_viewport(size: tuple[int, int], camera: str, avatar: object | None) -> VideoViewport:
    """A viewport in a Qt GL widget that Qt treats as shown (so it has a context) but never puts on screen."""
    from signeditor.render.viewport import Viewport

    viewport = Viewport(avatar=avatar, size=size)
    native = viewport.native
    native.setAttribute(QtCore.Qt.WidgetAttribute.WA_DontShowOnScreen, True)
    native.resize(*size)
    native.show()
    QtWidgets.QApplication.processEvents()  # lets the widget create its GL context
    prepare_for_video(viewport, camera)
    return viewport


class VideoExportJob(QtCore.QObject):
    """Renders and encodes one video; ``progress(done, total)``, then ``finished(path)``, ``failed`` or
    ``cancelled``. The file appears only when complete (:class:`VideoWriter`)."""

    progress = QtCore.Signal(int, int)
    finished = QtCore.Signal(str)
    failed = QtCore.Signal(str)
    cancelled = QtCore.Signal()

    def __init__(self, motion: Motion, path: str | Path, options: VideoOptions, *, avatar: object | None = None,
                 in_qt: bool = True, reference: ReferenceFrames | None = None,
                 parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.path = Path(path)
        self.motion = timed_motion(motion, options.fps)
        self.options = options
        self._avatar, self._in_qt = avatar, in_qt
        self._reference = reference if options.side_by_side else None
        self._viewport: VideoViewport | None = None
        self._writer: VideoWriter | None = None
        self._frames: Iterator[np.ndarray] | None = None
        self.done = 0
        self.running = False
        self._timer = QtCore.QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._step)

    def start(self) -> None:
        make = qt_offscreen_viewport if self._in_qt else offscreen_viewport
        try:
            self._writer = VideoWriter(self.path, self.motion.fps)
            self._viewport = make(self.options.size, self.options.camera, self._avatar)
        except Exception as exc:  # no GL, unwritable folder: a message, never a crash
            self._stop()
            self.failed.emit(str(exc))
            return
        self._frames = render_frames(self.motion, self._viewport, self._reference)
        self.running = True
        self._timer.start()

    def cancel(self) -> None:
        """Stop between frames; the temporary file is removed and any existing file at ``path`` is untouched."""
        if self.running:
            self._stop()
            self.cancelled.emit()

    def _step(self) -> None:
        deadline = time.perf_counter() + CHUNK_SECONDS
        frames, writer = self._frames, self._writer
        if frames is None or writer is None:
            return
        try:
            while self.running and time.perf_counter() < deadline:
                image = next(frames, None)
                if image is None:
                    writer.finish()
                    self._stop()
                    self.finished.emit(str(self.path))
                    return
                writer.write(image)
                self.done += 1
        except Exception as exc:  # a GL or encoder error ends the job with a message and no partial file
            self._stop()
            self.failed.emit(str(exc))
            return
        self.progress.emit(self.done, self.motion.n_frames)

    def _stop(self) -> None:
        self.running = False
        self._timer.stop()
        if self._writer is not None:
            self._writer.abort()  # no-op after a finished file was moved into place
        if self._viewport is not None:
            self._viewport.canvas.close()
            self._viewport = None


class VideoOptionsDialog(QtWidgets.QDialog):
    """Camera, frame size, frame rate, and side by side with the reference video when there is one."""

    def __init__(self, fps: float, has_reference: bool, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Video options")
        self.camera = QtWidgets.QComboBox()
        for name, label in VIDEO_CAMERAS.items():
            self.camera.addItem(label, name)
        self.size_choice = QtWidgets.QComboBox()
        for width, height in VIDEO_SIZES:
            self.size_choice.addItem(f"{width} × {height}", (width, height))
        self.fps = QtWidgets.QDoubleSpinBox()
        self.fps.setRange(5.0, 60.0)
        self.fps.setDecimals(0 if float(fps).is_integer() else 2)
        self.fps.setValue(fps)
        self.fps.setSuffix(" fps")
        self.side_by_side = QtWidgets.QCheckBox("Reference video beside the avatar")
        self.side_by_side.setEnabled(has_reference)
        self.side_by_side.setChecked(has_reference)
        if not has_reference:
            self.side_by_side.setToolTip("This project has no reference video")
        buttons = QtWidgets.QDialogButtonBox(QtWidgets.QDialogButtonBox.StandardButton.Ok
                                             | QtWidgets.QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QtWidgets.QFormLayout(self)
        form.addRow("Camera", self.camera)
        form.addRow("Size", self.size_choice)
        form.addRow("Frame rate", self.fps)
        form.addRow(self.side_by_side)
        form.addRow(buttons)

    def options(self) -> VideoOptions:
        return VideoOptions(size=tuple(self.size_choice.currentData()), fps=float(self.fps.value()),
                            camera=str(self.camera.currentData()), side_by_side=self.side_by_side.isChecked())
