"""Video decoding with PyAV: what a file holds, its frames in order, and any one frame exactly.

Every failure becomes a FileFormatError naming the file and the problem (not a
video, no video stream, damaged or truncated part way), so callers never see
FFmpeg's own exception types.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from signeditor.io.errors import FileFormatError

if TYPE_CHECKING:
    from av import VideoFrame
    from av.container import InputContainer
    from av.video.stream import VideoStream


@functools.cache
def decode_errors() -> tuple[type[BaseException], ...]:
    """Errors PyAV raises for damaged input (its FFmpegError covers InvalidDataError and friends); PyAV is
    imported here, when a video is first read, not when the editor starts (about 80 ms)."""
    try:
        from av import FFmpegError as decode_error
    except ImportError:  # PyAV < 14 spelled it AVError
        from av import AVError as decode_error  # type: ignore[no-redef]
    return (decode_error, EOFError, OSError, ValueError)


@dataclass(frozen=True)
class VideoInfo:
    path: Path
    width: int
    height: int
    fps: float
    #: Frames the container announces (an estimate from the duration when it does not say).
    n_frames: int

    @property
    def duration_s(self) -> float:
        return self.n_frames / self.fps


def _open(path: Path) -> InputContainer:
    import av

    if not path.exists():
        raise FileFormatError(path, "file not found")
    try:
        container = av.open(str(path))
    except decode_errors() as exc:
        raise FileFormatError(path, f"not a readable video ({type(exc).__name__}: {exc})") from exc
    if not container.streams.video:
        container.close()
        raise FileFormatError(path, "the file has no video stream")
    return container


def _info(path: Path, stream: VideoStream) -> VideoInfo:
    rate = stream.average_rate or stream.guessed_rate or stream.base_rate
    fps = float(rate) if rate else 0.0
    if not (math.isfinite(fps) and 1.0 <= fps <= 1000.0):
        raise FileFormatError(path, f"implausible frame rate {fps} (expected 1 to 1000 frames per second)")
    width, height = int(stream.codec_context.width), int(stream.codec_context.height)
    if width < 16 or height < 16:
        raise FileFormatError(path, f"video frames of {width}×{height} pixels are too small to find a person in")
    n_frames = int(stream.frames or 0)
    if n_frames <= 0 and stream.duration is not None and stream.time_base is not None:
        n_frames = round(float(stream.duration * stream.time_base) * fps)
    return VideoInfo(path, width, height, fps, max(n_frames, 0))


def probe_video(path: str | Path) -> VideoInfo:
    """Size, frame rate and frame count, without decoding."""
    path = Path(path)
    container = _open(path)
    try:
        return _info(path, container.streams.video[0])
    finally:
        container.close()


@dataclass(frozen=True)
class VideoCheck:
    """What a quick look at a video found: its info and how many frames its packets hold (no decoding)."""

    info: VideoInfo
    readable_frames: int

    @property
    def truncated(self) -> bool:
        """Fewer frames than the container announces (a cut-off download or copy; 2% slack for estimates)."""
        announced = self.info.n_frames
        return announced > 1 and self.readable_frames < announced - max(2, announced // 50)

    def describe(self) -> str:
        return (f"the video is truncated or damaged: only {self.readable_frames} of its {self.info.n_frames} frames "
                "can be read")


def check_video(path: str | Path) -> VideoCheck:
    """Check a video before any long work: it opens, its first frame decodes, and its packets are counted
    (demuxing reads the file without decoding: a second or so even for long videos). FileFormatError when
    nothing can be read, naming the file and the problem."""
    path = Path(path)
    container = _open(path)
    try:
        stream = container.streams.video[0]
        info = _info(path, stream)
        packets = 0
        try:
            for packet in container.demux(stream):
                packets += packet.size > 0
        except decode_errors():
            pass  # damaged part way: the packets before it are what can be read
        if packets == 0:
            raise FileFormatError(path, "the video stream has no frames (an empty or cut-off file)")
        container.seek(0)
        try:
            next(iter(container.decode(stream)))
        except (StopIteration, *decode_errors()) as exc:
            raise FileFormatError(path, f"the first frame cannot be decoded ({type(exc).__name__}: {exc})") from exc
        return VideoCheck(info, packets)
    finally:
        container.close()


def iter_frames(path: str | Path, max_side: int | None = None) -> Iterator[np.ndarray]:
    """Every frame as (H, W, 3) uint8 RGB, in order; downscaled so neither side exceeds ``max_side``.

    A decode error part way (a truncated or damaged file) raises FileFormatError saying after which frame.
    """
    path = Path(path)
    container = _open(path)
    try:
        stream = container.streams.video[0]
        info = _info(path, stream)
        stream.thread_type = "AUTO"
        scale = 1.0 if not max_side else min(1.0, max_side / max(info.width, info.height))
        size = (max(2, round(info.width * scale)), max(2, round(info.height * scale)))
        count = 0
        try:
            for frame in container.decode(stream):
                if scale < 1.0:
                    yield frame.to_ndarray(format="rgb24", width=size[0], height=size[1])
                else:
                    yield frame.to_ndarray(format="rgb24")
                count += 1
        except decode_errors() as exc:
            raise FileFormatError(path, f"damaged or truncated video: decoding failed after frame {count} "
                                        f"({type(exc).__name__}: {exc})") from exc
        if count == 0:
            raise FileFormatError(path, "the video stream has no decodable frames")
    finally:
        container.close()


def frame_index_at(seconds: float, fps: float, n_frames: int) -> int | None:
    """The frame on screen at ``seconds`` into a constant-rate video (None before its start or after its end)."""
    index = math.floor(seconds * fps + 1e-6)
    return index if 0 <= index < n_frames else None


class FrameReader:
    """Random access to a video's frames by index, exactly (not the nearest keyframe).

    Frame times come from the packets' timestamps (read once, without
    decoding), so frame ``i`` is the ``i``-th frame in presentation order.
    Seeking goes to the keyframe at or before it and decodes forward; reading
    the next frame after the last one read just continues decoding, so
    playback costs one decode per frame.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._container = _open(self.path)
        self._stream = self._container.streams.video[0]
        self.info = _info(self.path, self._stream)
        try:
            pts = sorted(p.pts for p in self._container.demux(self._stream) if p.pts is not None)
        except decode_errors() as exc:
            self.close()
            raise FileFormatError(self.path, f"damaged video ({type(exc).__name__}: {exc})") from exc
        if not pts:
            self.close()
            raise FileFormatError(self.path, "the video stream has no frames")
        self._pts = pts
        self._decoder: Iterator[VideoFrame] | None = None
        self._last_index = -2

    @property
    def n_frames(self) -> int:
        return len(self._pts)

    @property
    def fps(self) -> float:
        return self.info.fps

    def frame(self, index: int) -> np.ndarray:
        """Frame ``index`` as (H, W, 3) uint8 RGB."""
        if not 0 <= index < self.n_frames:
            raise IndexError(f"frame {index} outside the video's {self.n_frames} frames")
        target = self._pts[index]
        try:
            if self._decoder is None or index != self._last_index + 1:
                self._container.seek(target, stream=self._stream, backward=True, any_frame=False)
                self._decoder = self._container.decode(self._stream)
            for decoded in self._decoder:
                if decoded.pts is None or decoded.pts < target:
                    continue
                self._last_index = index
                return decoded.to_ndarray(format="rgb24")
        except decode_errors() as exc:
            self._decoder = None
            raise FileFormatError(self.path, f"cannot decode frame {index} ({type(exc).__name__}: {exc})") from exc
        self._decoder = None
        raise FileFormatError(self.path, f"frame {index} is missing from the stream (truncated video?)")

    def close(self) -> None:
        self._container.close()


class ReferenceVideoFrames:
    """A reference video as ``render.video.ReferenceFrames``: its picture at a project time (for side-by-side export).

    Project time ``t`` shows the video at ``t + offset_s``; the file is opened on first use.
    """

    def __init__(self, path: str | Path, offset_s: float = 0.0) -> None:
        self.path, self.offset_s = Path(path), float(offset_s)
        self._reader: FrameReader | None = None

    def frame_at(self, seconds: float) -> np.ndarray | None:
        if self._reader is None:
            self._reader = FrameReader(self.path)
        index = frame_index_at(seconds + self.offset_s, self._reader.fps, self._reader.n_frames)
        return None if index is None else self._reader.frame(index)
