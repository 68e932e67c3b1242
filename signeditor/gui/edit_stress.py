"""Live regeneration under load: random anchor edits through the real undo stack, faster than the model.

Drags (previews, then a commit or a cancel), inserts, deletes, joint
rotations, undo and redo are fired at a window whose regenerator is slower
than the edits, so results arrive late and out of date. Afterwards the motion
must equal a fresh regeneration of the final anchors, no stale result may
have been applied and no exception may have escaped. The exact comparison
needs a regenerator whose windowed output equals its whole-clip output
(:class:`HoldPoses`); the learned model blends window edges, so with it only
the staleness, exception and memory checks apply.
"""

from __future__ import annotations

import random
import sys
import time
import traceback
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
from PySide6 import QtWidgets

from signeditor.core import rotations
from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.motion import STREAM_SLICES, Motion, identity_features
from signeditor.core.project import Project
from signeditor.core.skeleton import ROTATING_JOINTS
from signeditor.gui import commands
from signeditor.reliability.memory import rss_mb

if TYPE_CHECKING:
    from signeditor.gui.main_window import MainWindow


class HoldPoses:
    """A deterministic stand-in model: each frame holds, per stream, the pose of the latest anchor at or before it.

    Frames before a stream's first anchor are at rest. Its output on a window
    equals its whole-clip output there, so "the final motion equals a fresh
    regeneration" can be checked exactly; ``delay_s`` makes it slower than the edits.
    """

    backend = "hold poses (stress test)"

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.calls = 0

    def __call__(self, motion: Motion, anchors: AnchorSet, frame_range: tuple[int, int] | None,
                 text: str = "", signed_language: str = "") -> Motion:
        del text, signed_language
        self.calls += 1
        if self.delay_s:
            time.sleep(self.delay_s)
        result = motion.copy()
        lo, hi = frame_range or (0, motion.n_frames)
        result.features[lo:hi] = hold_features(motion.n_frames, anchors)[lo:hi]
        return result


def hold_features(n_frames: int, anchors: AnchorSet) -> np.ndarray:
    features = identity_features(n_frames)
    for anchor in sorted(anchors, key=lambda a: (a.frame, a.id)):
        if 0 <= anchor.frame < n_frames:
            for stream in anchor.streams:
                features[anchor.frame:, STREAM_SLICES[stream]] = anchor.pose[STREAM_SLICES[stream]]
    return features


def stress_project(n_frames: int = 120, n_anchors: int = 6, seed: int = 0) -> Project:
    """A clip whose motion is exactly the hold regeneration of its anchors (so it starts consistent)."""
    rng = np.random.default_rng(seed)
    frames = np.linspace(5, n_frames - 6, n_anchors).astype(int)
    anchors = AnchorSet(Anchor(int(f), random_pose(rng)) for f in frames)
    return Project(Motion(25.0, hold_features(n_frames, anchors)), anchors)


def random_pose(rng: np.random.Generator) -> np.ndarray:
    return rotations.axis_angle_to_rot6d(rng.normal(scale=0.4, size=(len(ROTATING_JOINTS), 3))).reshape(-1)


@dataclass
class StressReport:
    edits: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    stale_applied: int = 0
    dropped_results: int = 0
    #: Superseded jobs the worker stopped between sampler steps (their results never existed).
    stopped_jobs: int = 0
    regenerations: int = 0
    exceptions: list[str] = field(default_factory=list)
    max_abs_error: float | None = None  # vs a fresh regeneration (HoldPoses only)
    anchor_error: float = 0.0  # largest difference between the motion and an anchor's pose on its frame
    rss_growth_mb: float = 0.0
    seconds: float = 0.0


def run_edit_stress(window: MainWindow, n_edits: int, seed: int = 0, settle_timeout_s: float = 60.0,
                    events_every: int = 7) -> StressReport:
    """Fire ``n_edits`` random edits at ``window`` (a MainWindow), then wait for regeneration to settle.

    Events are processed only every ``events_every`` edits, so most edits
    land while a regeneration is still running.
    """
    app = QtWidgets.QApplication.instance()
    rng = random.Random(seed)
    np_rng = np.random.default_rng(seed)
    report = StressReport()
    caught: list[str] = []
    previous_hook = sys.excepthook

    def hook(kind: type[BaseException], value: BaseException, tb: object) -> None:
        caught.append("".join(traceback.format_exception(kind, value, tb))[-2000:])

    sys.excepthook = hook  # Qt reports exceptions in slots through sys.excepthook
    rss_before = rss_mb()
    started = time.perf_counter()
    try:
        for i in range(n_edits):
            kind = _one_edit(window, rng, np_rng)
            report.kinds[kind] = report.kinds.get(kind, 0) + 1
            report.edits += 1
            if i % events_every == 0:
                app.processEvents()
        deadline = time.monotonic() + settle_timeout_s
        regenerator = window.regenerator

        def settle() -> None:
            while regenerator.busy and time.monotonic() < deadline:
                app.processEvents()
                time.sleep(0.002)

        settle()
        for _ in range(5):  # queued consistency checks run after the last result
            app.processEvents()
            time.sleep(0.01)
        settle()
    finally:
        sys.excepthook = previous_hook
    report.seconds = time.perf_counter() - started
    report.rss_growth_mb = rss_mb() - rss_before
    report.exceptions = caught
    report.stale_applied = window.regenerator.stale_applied
    report.dropped_results = window.regenerator.dropped_results
    report.stopped_jobs = window.regenerator.worker.stopped_jobs
    if window.regenerator.busy:
        report.exceptions.append(f"regeneration did not settle within {settle_timeout_s} s")
    doc = window.document
    values, mask = doc.anchors.keyframes(doc.n_frames)
    pinned = mask > 0
    report.anchor_error = float(np.abs(doc.motion.features[pinned] - values[pinned]).max()) if pinned.any() else 0.0
    fn = window.regenerator._regenerate_fn
    report.regenerations = window.regenerator.applied_results + window.regenerator.dropped_results
    if isinstance(fn, HoldPoses):
        fresh = hold_features(doc.n_frames, doc.anchors)
        report.max_abs_error = float(np.abs(doc.motion.features - fresh).max())
    return report


def _one_edit(window: MainWindow, rng: random.Random, np_rng: np.random.Generator) -> str:
    doc = window.document
    n = doc.n_frames
    anchors = list(doc.anchors)
    roll = rng.random()
    if roll < 0.30 and anchors:
        anchor = rng.choice(anchors)
        deltas = [rng.randint(-25, 25) for _ in range(rng.randint(1, 6))]
        for delta in deltas:
            doc.preview_anchors(commands.preview_move(doc, (anchor.id,), delta))
        if rng.random() < 0.15:
            doc.cancel_preview()
            return "drag cancelled"
        window.push(commands.move_anchors(doc, (anchor.id,), deltas[-1]))
        return "drag"
    if roll < 0.45:
        window.push(commands.insert_anchor(doc, rng.randrange(n)))
        return "insert"
    if roll < 0.55 and len(anchors) > 1:
        window.push(commands.delete_anchors(doc, (rng.choice(anchors).id,)))
        return "delete"
    if roll < 0.65 and anchors:
        joint = rng.choice(ROTATING_JOINTS)
        matrix = rotations.axis_angle_to_matrix(np_rng.normal(scale=0.5, size=3))
        window.push(commands.EditJointRotationCommand(doc, rng.choice(anchors).id, joint, matrix))
        return "rotate joint"
    if roll < 0.85:
        doc.undo_stack.undo()
        return "undo"
    doc.undo_stack.redo()
    return "redo"
