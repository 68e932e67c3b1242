"""MP4 and GIF export, rendered offscreen with the viewport's own renderer.

vispy's EGL backend renders without any display (``EGL_PLATFORM=surfaceless``),
so export works on headless machines and CI; frames are encoded with PyAV
(FFmpeg). Two takes can be rendered side by side for comparison.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from signeditor.core.motion import Motion
from signeditor.io.errors import FileFormatError

ProgressCallback = Callable[[int, int], None]


def _offscreen_viewport(size: tuple[int, int], camera: str, avatar: object | None) -> object:
    os.environ.setdefault("EGL_PLATFORM", "surfaceless")
    from signeditor.render.viewport import Viewport

    viewport = Viewport(avatar=avatar, size=size, app="egl")
    viewport.set_camera_preset(camera)
    viewport.set_theme("light")
    return viewport


def render_frames(motion: Motion, size: tuple[int, int] = (640, 480), camera: str = "front",
                  avatar: object | None = None, progress: ProgressCallback | None = None):
    """Yield (H, W, 3) uint8 frames of the motion, one per motion frame."""
    viewport = _offscreen_viewport(size, camera, avatar)
    try:
        for frame in range(motion.n_frames):
            viewport.set_pose(motion.features[frame])
            yield viewport.render_image()[..., :3]
            if progress is not None:
                progress(frame + 1, motion.n_frames)
    finally:
        viewport.canvas.close()


def write_video(motion: Motion, path: str | Path, *, size: tuple[int, int] = (640, 480), fps: float | None = None,
                compare: Motion | None = None, camera: str = "front", avatar: object | None = None,
                progress: ProgressCallback | None = None) -> Path:
    """Encode ``.mp4`` (H.264) or ``.gif``; with ``compare``, the two takes play side by side."""
    import av

    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".mp4", ".gif"):
        raise FileFormatError(path, "video export writes .mp4 or .gif")
    fps = float(fps or motion.fps)
    source = motion if abs(fps - motion.fps) < 1e-6 else motion.resampled(fps)
    frames = render_frames(source, size, camera, avatar, progress)
    if compare is not None:
        other = compare.resampled(fps)
        if other.n_frames < source.n_frames:  # hold the shorter take's last pose
            other = Motion(fps, np.concatenate([other.features, np.repeat(other.features[-1:], source.n_frames
                                                                          - other.n_frames, axis=0)]))
        second = render_frames(other, size, camera, avatar)
        frames = (np.concatenate([a, b], axis=1) for a, b in zip(frames, second, strict=False))
    width = size[0] * (2 if compare is not None else 1)
    tmp = path.with_name(f".{path.name}.partial{suffix}")
    try:
        with av.open(str(tmp), mode="w") as container:
            if suffix == ".mp4":
                stream = container.add_stream("libx264", rate=round(fps))
                stream.pix_fmt = "yuv420p"
                stream.options = {"crf": "20"}
            else:
                stream = container.add_stream("gif", rate=round(fps))
                stream.pix_fmt = "rgb8"
            stream.width, stream.height = width - width % 2, size[1] - size[1] % 2
            for image in frames:
                image = np.ascontiguousarray(image[: stream.height, : stream.width])
                frame = av.VideoFrame.from_ndarray(image, format="rgb24")
                for packet in stream.encode(frame):
                    container.mux(packet)
            for packet in stream.encode():
                container.mux(packet)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path
