"""GUI responsiveness: viewport frame rate, anchor drop to regenerated frame, start-up and quit time, peak memory.

Runs the real window (GL viewport under Xvfb when there is no display) on the bundled sample.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "samples" / "sample.signproj"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", default=str(SAMPLE), help="the .signproj to open (default: the bundled sample)")
    parser.add_argument("--edits", type=int, default=10, help="anchor moves timed for edit_to_frame_ms")
    parser.add_argument("--frames", type=int, default=100, help="frames drawn for viewport_fps")
    parser.add_argument("--starts", type=int, default=3,
                        help="separate start-ups timed (the first with fresh settings, the rest after it)")


def _start_and_quit(project: str, home: Path) -> tuple[float, float]:
    """A fresh `signeditor gui FILE` process: seconds until its first frame is drawn, and from there (closing
    at once) until the process has ended. ``home`` holds its settings, so later starts see what earlier ones left."""
    from signeditor.gui.app import READY_MARK

    # Settings and app data (recovery file, the user's lexicon) private to the benchmark; system caches (fonts,
    # shaders) stay as the machine has them.
    env = {**os.environ, "XDG_CONFIG_HOME": str(home / "config"), "XDG_DATA_HOME": str(home / "data")}
    started = time.time()
    done = subprocess.run([sys.executable, "-m", "signeditor", "gui", project, "--no-recovery", "--exit-when-ready"],
                          check=True, capture_output=True, text=True, timeout=300, env=env)
    ended = time.time()
    ready = next(float(line.split()[1]) for line in done.stdout.splitlines() if line.startswith(READY_MARK))
    return ready - started, ended - ready


def startup_and_quit(project: str, starts: int = 3) -> dict:
    """Start-up and quit of separate processes sharing one fresh settings folder: the first start, then later ones
    (which find the first one's saved window layout, recent files and avatar choice)."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="signeditor-bench-home-") as folder:
        runs = [_start_and_quit(project, Path(folder)) for _ in range(starts)]
    later = [start for start, _ in runs[1:]] or [runs[0][0]]
    return {"startup_s": round(runs[0][0], 2), "startup_s_later_max": round(max(later), 2),
            "quit_s": round(max(quit_s for _, quit_s in runs), 2),
            "startup_quit_s_each": [[round(a, 2), round(b, 2)] for a, b in runs]}


def run(args: argparse.Namespace) -> dict:
    from signeditor.render.display import real_display

    with real_display() as display:
        if display is None:
            return {"skipped": "needs an X display or Xvfb (apt-get install -y xvfb libgl1-mesa-dri)"}
        return {**startup_and_quit(args.project, args.starts), **_measure_in_process(args)}


def _measure_in_process(args: argparse.Namespace) -> dict:
    from PySide6 import QtCore

    from signeditor.gui import commands
    from signeditor.gui.app import application
    from signeditor.gui.main_window import MainWindow

    app = application()
    settings = QtCore.QSettings(str(Path(QtCore.QDir.tempPath()) / "signeditor-bench.ini"),
                                QtCore.QSettings.Format.IniFormat)
    window = MainWindow(settings=settings, confirm_close=False)
    window.show()
    window.open_file(args.project)
    app.processEvents()
    doc, viewport = window.document, window.viewport
    n = min(args.frames, doc.n_frames)

    # Anchor drop -> regenerated motion drawn: push the same command a drop pushes, wait until the viewport has
    # drawn the regenerated pose by itself (its own paint, not an extra forced one). The first edit comes right
    # after the open returns, as a user's would (model loading or warm-up would show here).
    regenerator = window.regenerator
    loop = QtCore.QEventLoop()
    worker_ms: list[float] = []
    applied = {"yes": False}

    def on_applied(_generation: int, seconds: float) -> None:
        worker_ms.append(seconds * 1000)
        applied["yes"] = True

    def on_draw(_event: object) -> None:
        if applied["yes"]:
            loop.quit()

    regenerator.applied.connect(on_applied)
    regenerator.status.connect(lambda text: loop.quit() if "failed" in text else None)
    viewport.canvas.events.draw.connect(on_draw)
    window.seek(doc.n_frames // 2)
    movable = [a for a in doc.anchors if 2 <= a.frame < doc.n_frames - 2] or list(doc.anchors)
    times_ms = []
    for i in range(args.edits):
        anchor = movable[i % len(movable)]
        delta = 1 if i % 2 == 0 else -1
        applied["yes"] = False
        started = time.perf_counter()
        window.push(commands.move_anchors(doc, (anchor.id,), delta))
        QtCore.QTimer.singleShot(30_000, loop.quit)
        loop.exec()
        times_ms.append((time.perf_counter() - started) * 1000)
    viewport.canvas.events.draw.disconnect(on_draw)

    def draw_frames() -> float:
        started = time.perf_counter()
        for frame in range(n):
            window.seek(frame)
            viewport.canvas.render()  # forces the draw (and a read-back, so this is a lower bound on fps)
        return n / (time.perf_counter() - started)

    fps_cold = draw_frames()  # skinning every frame
    fps_cached = draw_frames()  # skinned meshes cached per frame
    fps_by_avatar = _fps_by_avatar(window, draw_frames)
    renderer, viewport_px = _gl_renderer(viewport), list(viewport.canvas.size)

    backend = regenerator.backend
    window.close()
    peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "viewport_fps": round(fps_cold, 1),
        "viewport_fps_cached": round(fps_cached, 1),
        "viewport_fps_by_avatar": fps_by_avatar,
        "gl_renderer": renderer,
        "viewport_px": viewport_px,
        "edit_to_frame_ms": round(statistics.median(times_ms), 1),
        "edit_to_frame_ms_first": round(times_ms[0], 1),
        "edit_to_frame_ms_max": round(max(times_ms), 1),
        "regenerate_worker_ms": round(statistics.median(worker_ms), 1) if worker_ms else None,
        "regenerate_worker_ms_first": round(worker_ms[0], 1) if worker_ms else None,
        "regeneration_backend": backend,
        "peak_rss_mb": round(peak_rss_mb, 1),
        "frames": n,
        "edits": args.edits,
    }


def _fps_by_avatar(window: object, draw_frames: Callable[[], float]) -> dict[str, float]:
    """Viewport fps (skinning every frame, the face animating) for the mannequin and every shipped avatar."""
    from signeditor.core.face import FACE_DIM, FACE_INDEX
    from signeditor.render.avatars.catalog import DEFAULT_AVATAR, MANNEQUIN, shipped_avatars

    motion = window.document.motion
    if motion.face is None:  # the sample has no face channel: animate brows, eyes and mouth
        phase = np.arange(motion.n_frames)[:, None] / 7.0
        face = np.zeros((motion.n_frames, FACE_DIM), np.float32)
        columns = [FACE_INDEX[n] for n in ("brow_raise_l", "brow_raise_r", "eye_close_l", "mouth_open", "smile_r")]
        face[:, columns] = 0.5 + 0.5 * np.sin(phase + np.arange(len(columns)))
        motion.face = face
    result = {}
    for choice in (MANNEQUIN, *(f"shipped:{name}" for name in shipped_avatars())):
        if window.use_avatar(choice, quiet=True):
            result[choice] = round(draw_frames(), 1)
    window.use_avatar(DEFAULT_AVATAR, quiet=True)
    return result


def _gl_renderer(viewport: object) -> str:
    """Which OpenGL implementation drew the frames (llvmpipe is Mesa's CPU rasteriser): fps depend on it."""
    from vispy.gloo import gl

    try:
        viewport.canvas.set_current()
        return str(gl.glGetParameter(gl.GL_RENDERER))
    except Exception as exc:  # a missing GL entry point must not lose the measurements
        return f"unknown ({exc})"
