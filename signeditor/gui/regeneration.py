"""Background regeneration of the dense motion from anchors.

One worker lives on its own QThread so the GUI never waits on the model.
Requests are debounced (a drag fires dozens per second) and numbered; a result
is applied only if it answers the latest request, so stale results are dropped.
"""

from __future__ import annotations

import os
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PySide6 import QtCore

from signeditor.cancellation import Stopped
from signeditor.core.anchors import AnchorSet
from signeditor.core.motion import STREAM_SLICES, STREAMS, Motion
from signeditor.core.protocols import MotionGenerator
from signeditor.core.recording import Recording, regenerate_keeping_recording
from signeditor.gui.document import Document, dirty_range
from signeditor.gui.worker_thread import LatestRequestWorker, WorkerThread, collection_paused

#: (motion, anchors, frame_range, text, signed_language) -> regenerated motion (same frame count).
RegenerateFn = Callable[[Motion, AnchorSet, tuple[int, int] | None, str, str], Motion]
DEBOUNCE_MS = 60


@dataclass(frozen=True)
class RegenerationRequest:
    generation: int
    motion: Motion
    anchors: AnchorSet
    frame_range: tuple[int, int] | None
    text: str = ""
    signed_language: str = ""
    #: The project's original take: captured frames are warped and displaced from it, never regenerated.
    recording: Recording | None = None


def run_request(regenerate: RegenerateFn, request: RegenerationRequest) -> Motion:
    """The motion a request asks for: the generator's alone, or the edited recording with generated frames only
    where nothing was captured (or the user asked for regeneration)."""
    if request.recording is None:
        return regenerate(request.motion, request.anchors, request.frame_range, request.text,
                          request.signed_language)
    return regenerate_keeping_recording(
        request.recording, request.motion, request.anchors, request.frame_range,
        lambda motion, anchors, span: regenerate(motion, anchors, span, request.text, request.signed_language))


def stamp_anchors(motion: Motion, anchors: AnchorSet, frame_range: tuple[int, int] | None) -> Motion:
    """Last-resort regeneration: hold the previous motion, but put every anchor's pose on its frame."""
    result = motion.copy()
    values, mask = anchors.keyframes(motion.n_frames)
    lo, hi = frame_range or (0, motion.n_frames)
    pinned = mask[lo:hi] > 0
    result.features[lo:hi][pinned] = values[lo:hi][pinned]
    return result


def interpolation_regenerate(motion: Motion, anchors: AnchorSet, frame_range: tuple[int, int] | None,
                             text: str = "", signed_language: str = "") -> Motion:
    """Cubic interpolation through the anchors, written only inside the window and only for anchored streams."""
    del text, signed_language
    try:
        from signeditor.core.interpolation import interpolate_between_anchors
    except ImportError:
        return stamp_anchors(motion, anchors, frame_range)
    dense = interpolate_between_anchors(motion.n_frames, anchors, method="cubic", fps=motion.fps)
    result = motion.copy()
    lo, hi = frame_range or (0, motion.n_frames)
    for stream in STREAMS:
        if any(stream in a.streams for a in anchors):
            cols = STREAM_SLICES[stream]
            result.features[lo:hi, cols] = dense[lo:hi, cols]
    return result


#: Environment variable naming a KF2P weights file to use instead of the shipped one.
WEIGHTS_ENV = "SIGNEDITOR_KF2P_WEIGHTS"
#: Inference CPU threads in the editor, ONNX Runtime or torch (``$SIGNEDITOR_TORCH_THREADS`` overrides). One: a
#: window of ~60 frames takes ~30 ms on one core, while more intra-op threads compete with the GL rasteriser and
#: the GUI thread for the same cores (measured with `signeditor bench gui` under Xvfb/llvmpipe on 2 cores: edit
#: to frame 360 ms median with torch's default threads, 90 ms with one).
EDITOR_TORCH_THREADS_ENV = "SIGNEDITOR_TORCH_THREADS"


def editor_torch_threads() -> int:
    try:
        return max(1, int(os.environ.get(EDITOR_TORCH_THREADS_ENV, "1")))
    except ValueError:
        return 1


class ModelRegenerate:
    """The learned KF2P generator, loaded lazily in the worker thread; interpolation when it is unavailable.

    ``weights`` (else ``$SIGNEDITOR_KF2P_WEIGHTS``, else the shipped file) is
    where the weights are read; when they are missing, damaged or of another
    version, ``load_error`` says why and cubic interpolation takes over, so
    the editor keeps working.
    """

    def __init__(self, device: str | None = None, weights: str | Path | None = None) -> None:
        self._device = device
        self._weights = weights if weights is not None else (os.environ.get(WEIGHTS_ENV) or None)
        self._generator: MotionGenerator | None = None
        self.backend = "not loaded"
        self.load_error = ""
        self._warmed = False

    def warm_up(self) -> None:
        """Load the model and run one small window before the first edit (called in the worker thread).

        The first inference pays for allocations and kernel selection; doing it here, while the user is still
        looking at the opened file, keeps it out of the first edit. The status then shows the backend.
        """
        self._load()
        if self._generator is not None and not self._warmed:
            from signeditor.core.anchors import Anchor

            rest = Motion.rest(48)
            anchors = AnchorSet(Anchor(f, rest.features[f]) for f in (0, 16, 32, 47))
            self._generator.regenerate_between_anchors(rest, anchors, frame_range=(8, 40))
            self._warmed = True

    def _load(self) -> None:
        if self._generator is not None or self.backend == "interpolation":
            return
        try:
            from signeditor.ml.kf2p.api import load_generator

            self._generator = load_generator(self._weights, device=self._device, threads=editor_torch_threads())
            self.backend = f"KF2P ({getattr(self._generator, 'device', self._device or 'cpu')})"
        except Exception as exc:
            self._generator = None
            self.backend = "interpolation"
            self.load_error = f"{type(exc).__name__}: {exc}"

    def __call__(self, motion: Motion, anchors: AnchorSet, frame_range: tuple[int, int] | None,
                 text: str = "", signed_language: str = "") -> Motion:
        self._load()
        if self._generator is None:
            return interpolation_regenerate(motion, anchors, frame_range)
        return self._generator.regenerate_between_anchors(
            motion, anchors, frame_range=frame_range, text=text, signed_language=signed_language
        )


class RegenerationWorker(LatestRequestWorker):
    """Runs in the worker thread; every signal carries the request's generation number.

    A request superseded while the model samples stops between sampler steps (signeditor.cancellation).
    """

    progress = QtCore.Signal(int, str)
    ready = QtCore.Signal(str)  # the backend's description, once the model is loaded (or the fallback chosen)
    result = QtCore.Signal(int, object, float)  # generation, Motion, seconds
    failed = QtCore.Signal(int, str)

    def __init__(self, regenerate: RegenerateFn) -> None:
        super().__init__()
        self._regenerate = regenerate
        #: Instrumentation: superseded jobs stopped between sampler steps.
        self.stopped_jobs = 0

    @QtCore.Slot()
    def warm_up(self) -> None:
        warm = getattr(self._regenerate, "warm_up", None)
        if warm is not None:
            with collection_paused():
                warm()
        self.ready.emit(str(getattr(self._regenerate, "backend", "custom")))

    @QtCore.Slot(object)
    def run(self, request: RegenerationRequest) -> None:
        if self.should_stop(request.generation):
            return
        self.progress.emit(request.generation, "regenerating")
        started = time.perf_counter()
        try:
            with self.working_on(request.generation):
                motion = run_request(self._regenerate, request)
            if motion.n_frames != request.motion.n_frames or not np.all(np.isfinite(motion.features)):
                raise ValueError("regenerated motion has the wrong length or non-finite values")
        except Stopped:
            self.stopped_jobs += 1
            return  # superseded: the newer request covers this one's frames too
        except Exception as exc:
            self.failed.emit(request.generation, f"{type(exc).__name__}: {exc}")
            return
        self.result.emit(request.generation, motion, time.perf_counter() - started)


class Regenerator(QtCore.QObject):
    """GUI-side controller: debounces requests, numbers them, applies only the newest result to the document.

    It also remembers which anchors each motion it has seen was made from
    (its *basis*), so every request covers all frames where the shown motion
    and the current anchors disagree, including after an undo restored a
    motion captured mid-regeneration or a drag whose previews were applied.
    ``stale_applied`` counts results applied although the document's anchors
    had changed since the request: it must stay 0 (the stress test checks).
    """

    _dispatch = QtCore.Signal(object)
    _warm_up = QtCore.Signal()
    status = QtCore.Signal(str)
    applied = QtCore.Signal(int, float)  # generation, seconds the worker took
    #: The model could not be used (missing, damaged, wrong version): the message says why and what is used instead.
    model_problem = QtCore.Signal(str)

    def __init__(self, document: Document, regenerate: RegenerateFn | None = None,
                 debounce_ms: int = DEBOUNCE_MS, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.document = document
        self._regenerate_fn = regenerate or ModelRegenerate()
        self.generation = 0
        self.applied_generation = 0
        #: Instrumentation: results applied for anchors the document no longer has (must stay 0), results dropped.
        self.stale_applied = 0
        self.dropped_results = 0
        self.applied_results = 0
        self.model_error = ""
        self._pending_range: tuple[int, int] | None = None
        #: Frames sent but not yet applied: a dropped (stale) result must not leave its window unregenerated.
        self._inflight_range: tuple[int, int] | None = None
        self._sent_anchors: dict[int, AnchorSet] = {}
        self._basis: dict[int, tuple[weakref.ref, AnchorSet]] = {}
        self._remember(document.motion, document.anchors)  # an opened project's motion belongs to its anchors
        self._timer = QtCore.QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(debounce_ms)
        self._timer.timeout.connect(self._send)
        self.worker = RegenerationWorker(self._regenerate_fn)
        self._thread = WorkerThread(self.worker, "regeneration", self)
        self._dispatch.connect(self.worker.run, QtCore.Qt.ConnectionType.QueuedConnection)
        self._warm_up.connect(self.worker.warm_up, QtCore.Qt.ConnectionType.QueuedConnection)
        self.worker.ready.connect(self._on_ready)
        self.worker.result.connect(self._on_result)
        self.worker.failed.connect(self._on_failed)
        self.worker.progress.connect(lambda g, msg: self.status.emit(f"{msg}… ({self.backend})"))
        document.regeneration_needed.connect(self.request)
        self._detached = False
        document.content_replaced.connect(self._remember)
        # Anchor changes that asked for no regeneration (e.g. a drag released where it started) are checked later.
        document.anchors_changed.connect(self._reconcile, QtCore.Qt.ConnectionType.QueuedConnection)
        self._warm_up.emit()

    @property
    def backend(self) -> str:
        return getattr(self._regenerate_fn, "backend", "custom")

    @property
    def busy(self) -> bool:
        return self._timer.isActive() or self.applied_generation < self.generation

    # --- which anchors made which motion ---------------------------------------------------------------------
    def _remember(self, motion: Motion, anchors: AnchorSet) -> None:
        key = id(motion)
        self._basis[key] = (weakref.ref(motion, lambda _ref, k=key: self._basis.pop(k, None)), anchors)

    def _basis_of(self, motion: Motion) -> AnchorSet | None:
        entry = self._basis.get(id(motion))
        return entry[1] if entry is not None and entry[0]() is motion else None

    def _stale_range(self) -> tuple[int, int]:
        """Frames where the shown motion may not follow the current anchors (all of them if its basis is unknown)."""
        doc = self.document
        basis = self._basis_of(doc.motion)
        if basis is None:
            return (0, doc.n_frames)
        return dirty_range(basis, doc.anchors, doc.n_frames)

    def _reconcile(self) -> None:
        """When idle, regenerate wherever the motion does not follow the anchors (usually nowhere)."""
        if self.busy or self.document is None:
            return
        lo, hi = self._stale_range()
        if hi > lo:
            self.request(lo, hi, True)

    # --- requests and results ------------------------------------------------------------------------------------
    @QtCore.Slot(int, int, bool)
    def request(self, lo: int, hi: int, urgent: bool = False) -> None:
        """Ask for frames [lo, hi) to be regenerated; (0, 0) only cancels what is in flight (an exact undo).

        Drag previews wait for the debounce interval to coalesce; an urgent (committed) edit goes out at once.
        """
        if hi <= lo:
            self._pending_range = None
            self._inflight_range = None
            self._timer.stop()
            self.generation += 1
            self.applied_generation = self.generation
            self.worker.note_latest(self.generation)
            self._reconcile()  # the restored motion may predate a regeneration of its anchors
            return
        if self._pending_range is None:
            self._pending_range = (lo, hi)
        else:
            self._pending_range = (min(lo, self._pending_range[0]), max(hi, self._pending_range[1]))
        self.generation += 1
        self.worker.note_latest(self.generation)
        if urgent:
            self._timer.stop()
            self._send()
        else:
            self._timer.start()

    def _send(self) -> None:
        if self._pending_range is None:
            return
        lo, hi = self._pending_range
        if self._inflight_range is not None:
            lo, hi = min(lo, self._inflight_range[0]), max(hi, self._inflight_range[1])
        stale_lo, stale_hi = self._stale_range()
        if stale_hi > stale_lo:
            lo, hi = min(lo, stale_lo), max(hi, stale_hi)
        self._inflight_range = (lo, hi)
        n = self.document.n_frames
        frame_range = None if (lo, hi) == (0, n) else (lo, hi)
        project = self.document.project
        request = RegenerationRequest(self.generation, project.motion, project.anchors, frame_range,
                                      project.text, project.signed_language, project.recording)
        self._sent_anchors = {g: a for g, a in self._sent_anchors.items() if g > self.applied_generation}
        self._sent_anchors[self.generation] = project.anchors
        self._pending_range = None
        self._dispatch.emit(request)

    def _on_ready(self, backend: str) -> None:
        error = getattr(self._regenerate_fn, "load_error", "")
        if error:
            self.model_error = f"KF2P model unavailable ({error}); using cubic interpolation between anchors"
            self.status.emit(f"regeneration: cubic interpolation — {self.model_error}")
            self.model_problem.emit(self.model_error)
        else:
            self.status.emit(f"regeneration: {backend}")

    def _on_result(self, generation: int, motion: Motion, seconds: float) -> None:
        if generation != self.generation:
            self.dropped_results += 1
            return  # stale: the user changed something since this was asked
        anchors = self._sent_anchors.pop(generation, self.document.anchors)
        if anchors != self.document.anchors:
            self.stale_applied += 1  # the generation guard let a result for old anchors through: a bug
        self.applied_generation = generation
        self.applied_results += 1
        self._inflight_range = None
        self._remember(motion, anchors)
        self.document.set_motion(motion)
        self.status.emit(f"regenerated in {seconds * 1000:.0f} ms ({self.backend})")
        self.applied.emit(generation, seconds)
        self._reconcile()

    def _on_failed(self, generation: int, message: str) -> None:
        if generation == self.generation:
            self.applied_generation = generation
            self.status.emit(f"regeneration failed: {message}")

    def shutdown(self) -> None:
        """Stop the worker thread (the window calls this on close; a running regeneration stops at its next step).

        Later answers are dropped and the document no longer reaches this regenerator, since the same document
        may live on with another one (a replaced draft).
        """
        self._timer.stop()
        self.generation += 1
        if not self._detached:
            self._detached = True
            self.document.regeneration_needed.disconnect(self.request)
            self.document.anchors_changed.disconnect(self._reconcile)
            self.document.content_replaced.disconnect(self._remember)
        self._thread.shutdown(5000)
