"""MP4 and GIF export: poses rendered by any :class:`PoseRenderer`, encoded with PyAV (FFmpeg).

The command line renders offscreen with vispy's EGL backend (``EGL_PLATFORM=surfaceless``),
so it works on headless machines and CI. The editor cannot use EGL next to its own Qt GL
viewport (the two fight over the current context), so it passes a renderer living in Qt
(:mod:`signeditor.gui.video_export`) and drives the same :class:`VideoWriter` frame by frame.
A second take or a reference video can be shown side by side.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from signeditor.core.motion import Motion
from signeditor.core.project import Project
from signeditor.io.errors import FileFormatError
from signeditor.io.formats import ExportFormat, register_export_format

ProgressCallback = Callable[[int, int], None]
VIDEO_SUFFIXES = (".mp4", ".gif")
#: Camera presets offered for video, in the order a translator picks them (names of viewport.CAMERA_PRESETS).
VIDEO_CAMERAS: dict[str, str] = {"front": "Front", "signer": "Signer's view", "side": "Side"}


class PoseRenderer(Protocol):
    """Anything that shows one pose and returns the picture: the viewport (on screen, offscreen or EGL)."""

    def set_pose(self, pose_features: np.ndarray, face: np.ndarray | None = None) -> None: ...

    def render_image(self) -> np.ndarray: ...


def show_frame(renderer: PoseRenderer, motion: Motion, frame: int) -> None:
    """Pose the renderer at ``frame``, with the face channel when the motion has one (avatars with face morphs)."""
    if motion.face is None:
        renderer.set_pose(motion.features[frame])
    else:
        renderer.set_pose(motion.features[frame], face=motion.face[frame])


class _Closable(Protocol):
    def close(self) -> None: ...


class VideoViewport(PoseRenderer, Protocol):
    """A viewport that renders video frames: the camera and theme presets, and a canvas to close afterwards."""

    canvas: _Closable

    def set_camera_preset(self, name: str) -> None: ...

    def set_theme(self, name: str) -> None: ...


class ReferenceFrames(Protocol):
    """A reference video to show beside the avatar: the picture at a time, or None past its end."""

    def frame_at(self, seconds: float) -> np.ndarray | None: ...


@dataclass(frozen=True)
class VideoOptions:
    """What the user picks in the export dialog (the CLI uses the defaults)."""

    size: tuple[int, int] = (640, 480)
    #: Frames per second of the video; None keeps the motion's own rate.
    fps: float | None = None
    camera: str = "front"
    #: Show the reference video (when there is one) to the left of the avatar.
    side_by_side: bool = False


def offscreen_viewport(size: tuple[int, int], camera: str, avatar: object | None) -> VideoViewport:
    """A viewport rendering through EGL with no display (for processes without a Qt GL viewport)."""
    os.environ.setdefault("EGL_PLATFORM", "surfaceless")
    from signeditor.render.viewport import Viewport

    viewport = Viewport(avatar=avatar, size=size, app="egl")
    prepare_for_video(viewport, camera)
    return viewport


#: Video camera -> the viewport preset that films it (the front camera frames the signer from the hips up).
VIDEO_FRAMING: dict[str, str] = {"front": "front_hips_up"}


def prepare_for_video(viewport: VideoViewport, camera: str) -> None:
    """The look of an exported video: the chosen camera on a light background."""
    viewport.set_camera_preset(VIDEO_FRAMING.get(camera, camera))
    viewport.set_theme("light")


def timed_motion(motion: Motion, fps: float | None) -> Motion:
    """The motion at the video's frame rate (unchanged when it already has it)."""
    fps = float(fps or motion.fps)
    return motion if abs(fps - motion.fps) < 1e-6 else motion.resampled(fps)


def fit_height(image: np.ndarray, height: int) -> np.ndarray:
    """``image`` scaled (nearest neighbour) to ``height`` rows, keeping its aspect; RGB uint8."""
    image = np.asarray(image)[..., :3]
    rows = np.minimum((np.arange(height) * image.shape[0] / height).astype(int), image.shape[0] - 1)
    width = max(2, round(image.shape[1] * height / image.shape[0]))
    cols = np.minimum((np.arange(width) * image.shape[1] / width).astype(int), image.shape[1] - 1)
    return image[rows][:, cols]


class VideoWriter:
    """Encodes RGB frames into ``path`` through a hidden temporary file that replaces it only on :meth:`finish`.

    :meth:`abort` (cancel, error) deletes the temporary file, so an interrupted export never leaves a
    partial video nor touches an existing one. The frame size is fixed by the first frame.
    """

    def __init__(self, path: str | Path, fps: float) -> None:
        import av

        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in VIDEO_SUFFIXES:
            raise FileFormatError(self.path, "video export writes .mp4 or .gif")
        self.fps = float(fps)
        self.frames_written = 0
        self._tmp = self.path.with_name(f".{self.path.name}.partial{suffix}")
        self._container = av.open(str(self._tmp), mode="w")
        self._stream = None

    def _open_stream(self, width: int, height: int) -> None:
        if self.path.suffix.lower() == ".mp4":
            stream = self._container.add_stream("libx264", rate=round(self.fps))
            stream.pix_fmt = "yuv420p"
            stream.options = {"crf": "20"}
        else:
            stream = self._container.add_stream("gif", rate=round(self.fps))
            stream.pix_fmt = "rgb8"
        stream.width, stream.height = width - width % 2, height - height % 2
        self._stream = stream

    def write(self, image: np.ndarray) -> None:
        import av

        if self._stream is None:
            self._open_stream(image.shape[1], image.shape[0])
        stream = self._stream
        image = np.ascontiguousarray(np.asarray(image)[: stream.height, : stream.width, :3])
        for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
            self._container.mux(packet)
        self.frames_written += 1

    def finish(self) -> Path:
        """Flush the encoder and put the finished file in place (atomically)."""
        try:
            if self._stream is None:
                raise FileFormatError(self.path, "no frames to write")
            for packet in self._stream.encode():
                self._container.mux(packet)
            self._container.close()
            os.replace(self._tmp, self.path)
        finally:
            self.abort()
        return self.path

    def abort(self) -> None:
        """Stop and remove the temporary file (harmless after :meth:`finish`)."""
        with contextlib.suppress(Exception):  # closing a half-written container may fail; it is deleted anyway
            self._container.close()
        self._tmp.unlink(missing_ok=True)


def render_frames(motion: Motion, renderer: PoseRenderer,
                  reference: ReferenceFrames | None = None) -> Iterator[np.ndarray]:
    """Yield the (H, W, 3) pictures of ``motion`` one frame at a time, the reference beside them if given."""
    blank: np.ndarray | None = None
    for frame in range(motion.n_frames):
        show_frame(renderer, motion, frame)
        image = np.asarray(renderer.render_image())[..., :3]
        if reference is not None:
            picture = reference.frame_at(frame / motion.fps)
            if picture is None:  # past the reference's end: black, so the frame size never changes
                picture = blank if blank is not None else np.zeros_like(image)
            picture = fit_height(picture, image.shape[0])
            blank = np.zeros_like(picture)
            image = np.concatenate([picture, image], axis=1)
        yield image


class _HeldTake:
    """A second take as a "reference": its rendered frames, holding its last pose when shorter."""

    def __init__(self, motion: Motion, renderer: PoseRenderer) -> None:
        self.motion, self.renderer = motion, renderer

    def frame_at(self, seconds: float) -> np.ndarray:
        frame = min(round(seconds * self.motion.fps), self.motion.n_frames - 1)
        show_frame(self.renderer, self.motion, frame)
        return np.asarray(self.renderer.render_image())[..., :3]


def write_video(motion: Motion, path: str | Path, *, size: tuple[int, int] = (640, 480), fps: float | None = None,
                compare: Motion | None = None, camera: str = "front", avatar: object | None = None,
                progress: ProgressCallback | None = None, reference: ReferenceFrames | None = None) -> Path:
    """Encode ``.mp4`` (H.264) or ``.gif`` offscreen (EGL); ``compare`` or ``reference`` plays side by side."""
    source = timed_motion(motion, fps)
    viewport = offscreen_viewport(size, camera, avatar)
    second: VideoViewport | None = None
    try:
        if compare is not None:
            second = offscreen_viewport(size, camera, avatar)
            reference = _HeldTake(timed_motion(compare, source.fps), second)
        writer = VideoWriter(path, source.fps)
        try:
            for done, image in enumerate(render_frames(source, viewport, reference), start=1):
                writer.write(image)
                if progress is not None:
                    progress(done, source.n_frames)
            return writer.finish()
        except BaseException:
            writer.abort()
            raise
    finally:
        for v in (viewport, second):
            if v is not None:
                v.canvas.close()


VIDEO_FORMATS = frozenset({"mp4", "gif"})


def _export_video(project: Project, path: Path, **options: Any) -> None:
    write_video(project.shown_motion(), path, **options)


for _name, _description in (("mp4", "video of the avatar"), ("gif", "animated GIF of the avatar")):
    register_export_format(ExportFormat(_name, f".{_name}", _description, _export_video))
