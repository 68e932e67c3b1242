"""Video import speed, memory and round-trip accuracy on a 10 s, 640×480 clip of our own rendered motion.

The clip is the bundled sample's motion, repeated to 10 s and rendered by our
video exporter (the only ground truth available: no real signer's video can
be used). ``video_frames_per_s`` counts decoding and MediaPipe Holistic;
``import_s_10s_clip`` the whole import (decode, detect, write ``.pose``, IK,
FAST anchors, save); memory is the process's resident set sampled during the
import. Accuracy: median wrist and elbow error in shoulder widths after
alignment, and the spread of the recovered arms per axis over the true ones
(1 is right), filmed on the editor's default avatar (``--avatar``); against the
motion's mirror image when the detector took the figure to be seen from behind
(it does so for the faceless mannequin).
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

SAMPLE = Path(__file__).resolve().parents[2] / "resources" / "samples" / "sample.signproj"
TARGETS = {"video_frames_per_s": 15.0, "import_s_10s_clip": 20.0}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seconds", type=float, default=10.0, help="clip length (default 10 s)")
    parser.add_argument("--size", default="640x480", help="video size WxH (default 640x480)")
    parser.add_argument("--avatar", default="", help="figure to film (default: the editor's default avatar; "
                        "mannequin for the faceless mannequin)")


class _PeakMemory:
    """Samples the resident set on a thread (MediaPipe's C++ allocations are invisible to tracemalloc)."""

    def __init__(self) -> None:
        from signeditor.reliability.memory import rss_mb

        self._rss = rss_mb
        self.start = self.peak = rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self._rss())

    def __enter__(self) -> _PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self._rss())


def run(args: argparse.Namespace) -> dict[str, object]:
    from signeditor.core.motion import Motion
    from signeditor.io.project_file import load_project
    from signeditor.render.video import write_video
    from signeditor.video.holistic import video_import_available
    from signeditor.video.importer import import_video
    from signeditor.video.roundtrip import arm_axis_scale, arm_errors, mirrored_motion

    if not video_import_available():
        return {"skipped": "MediaPipe is not installed (pip install 'signeditor[video]')"}
    width, height = (int(v) for v in args.size.lower().split("x"))
    sample = load_project(SAMPLE).motion
    n = round(args.seconds * sample.fps)
    motion = Motion(sample.fps, np.resize(sample.features, (n, sample.features.shape[1])))
    from signeditor.render.avatars.catalog import DEFAULT_AVATAR, load_avatar

    avatar = load_avatar(args.avatar or DEFAULT_AVATAR)
    with tempfile.TemporaryDirectory() as folder:
        video = write_video(motion, Path(folder) / "clip.mp4", size=(width, height), avatar=avatar)
        began = time.perf_counter()
        with _PeakMemory() as memory:
            result = import_video(video, Path(folder) / "clip.signproj")
        total = time.perf_counter() - began
    # A figure the detector takes to be seen from behind (the faceless mannequin) comes back mirrored.
    reference = mirrored_motion(motion) if result.turned else motion
    errors = arm_errors(reference, result.project.motion)
    axis_scale = arm_axis_scale(reference, result.project.motion)
    figures = {
        "video_frames_per_s": round(result.info.n_frames / result.detect_s, 2),
        "import_s_10s_clip": round(total * 10.0 / args.seconds, 2),
        "import_peak_rss_mb": round(memory.peak, 1),
        "import_rss_growth_mb": round(memory.peak - memory.start, 1),
        "frames": result.info.n_frames,
        "size": f"{width}x{height}",
        "roundtrip_arm_err_sw_median": round(float(np.median(errors)), 3),
        "roundtrip_arm_err_sw_p90": round(float(np.percentile(errors, 90)), 3),
        "signs_found": len(result.project.segments),
        "avatar": args.avatar or DEFAULT_AVATAR,
        "seen_from_behind": bool(result.turned),
        "roundtrip_scale_x_y_z": [round(float(v), 3) for v in axis_scale],
    }
    figures["targets_met"] = (figures["video_frames_per_s"] >= TARGETS["video_frames_per_s"]
                              and figures["import_s_10s_clip"] <= TARGETS["import_s_10s_clip"])
    return figures
