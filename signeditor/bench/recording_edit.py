"""Editing a recording keeps it: one anchor moved a few frames on an imported clip, measured.

The clip is imported as the editor imports it (IK, FAST anchors, the take
kept as the recording). The anchor with the most room to its neighbours is
moved by ``--delta`` frames; the report counts frames changed outside its
neighbouring anchors (target 0: bit-identical) and compares the right
wrist's path length with the take's (target within 5%), next to what
regenerating the span between the neighbours (the editor's behaviour before
recordings were kept) does to the same clip. It also counts, per stream, the
frames inside the neighbours the move may regenerate (streams the importer
could not see there), next to the frames where any stream was missing (all
of which were regenerated, arms included, before "not captured" was per stream).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.motion import Motion
from signeditor.core.protocols import MotionGenerator

DEFAULT_CLIP = Path(__file__).resolve().parents[2] / ".." / "shared" / "signdata" / "fixtures" / "mediapipe_long.pose"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--clip", type=Path, default=DEFAULT_CLIP, help="a .pose (or other importable) recording")
    parser.add_argument("--delta", type=int, default=5, help="frames the anchor moves")
    parser.add_argument("--generator", choices=("kf2p", "interpolation"), default="kf2p",
                        help="what regenerates the span for the comparison (kf2p falls back to interpolation)")


def _regenerate_span(motion: Motion, anchors: AnchorSet, span: tuple[int, int], generator: str) -> np.ndarray:
    from signeditor.ml.kf2p.api import InterpolationGenerator

    model: MotionGenerator = InterpolationGenerator()
    if generator == "kf2p":
        try:
            from signeditor.ml.kf2p.api import load_generator

            model = load_generator()
        except Exception:  # the comparison still runs, with the editor's own fallback
            pass
    return model.regenerate_between_anchors(motion, anchors, frame_range=span).features


def measure_anchor_move(clip: str | Path, delta: int = 5, generator: str = "interpolation") -> dict:
    """Import ``clip``, move its roomiest anchor by ``delta`` frames, and report what changed."""
    from signeditor.app_services import open_document
    from signeditor.core.motion import STREAMS
    from signeditor.core.recording import edit_recording, recorded_streams, wrist_path_length

    project = open_document(clip)
    take = project.motion.features
    anchors = project.anchors

    def room(anchor: Anchor) -> int:
        before, after = anchors.neighbours(anchor.frame)
        return min(anchor.frame - (0 if before is None else before),
                   (project.motion.n_frames - 1 if after is None else after) - anchor.frame)

    anchor = max(anchors, key=room)
    before, after = anchors.neighbours(anchor.frame)
    lo, hi = (0 if before is None else before), (project.motion.n_frames if after is None else after + 1)
    moved = anchors.replaced(anchor.moved_to(anchor.frame + delta))
    started = time.perf_counter()
    edited = edit_recording(project.recording, moved).features
    edit_ms = (time.perf_counter() - started) * 1000
    changed = np.any(edited != take, axis=1)
    outside = np.ones(len(take), dtype=bool)
    outside[lo + 1 : hi - 1] = False
    regenerated = _regenerate_span(project.motion, moved, (lo, hi), generator)
    path = wrist_path_length(take)
    missing = ~recorded_streams(project.recording, moved)[lo:hi]
    return {
        "clip": Path(clip).name, "frames": len(take), "anchors": len(anchors),
        "moved_anchor": {"frame": anchor.frame, "label": anchor.label, "delta": delta,
                         "neighbours": [before, after]},
        "frames_changed": int(changed.sum()),
        "frames_changed_outside_neighbours": int((changed & outside).sum()),
        "right_wrist_path_m": round(path, 4),
        "right_wrist_path_ratio": round(wrist_path_length(edited) / path, 4),
        "regenerated_frames_changed": int(np.any(regenerated != take, axis=1).sum()),
        "regenerated_right_wrist_path_ratio": round(wrist_path_length(regenerated) / path, 4),
        "edit_ms": round(edit_ms, 2),
        "window_frames": hi - lo,
        "generated_frames_per_stream": {s: int(missing[:, i].sum()) for i, s in enumerate(STREAMS)},
        "frames_with_any_stream_missing": int(missing.any(axis=1).sum()),
    }


def run(args: argparse.Namespace) -> dict:
    clip = Path(args.clip)
    if not clip.exists():
        return {"skipped": f"recording not found: {clip}"}
    report = measure_anchor_move(clip, args.delta, args.generator)
    report["targets"] = {"frames_changed_outside_neighbours": "0",
                         "right_wrist_path_ratio": "within 5% of 1"}
    report["met"] = (report["frames_changed_outside_neighbours"] == 0
                     and abs(report["right_wrist_path_ratio"] - 1) <= 0.05)
    return report
