"""The original take of an imported recording, and edits that keep it.

Captured motion is the user's most valuable material, so an imported clip
is kept unchanged as a :class:`Recording` (the take, the anchors as first
placed on it, and which take frames are captured). The motion shown for
captured frames is a pure function of the take and the current anchors:
anchors moved in time warp the take between their neighbours
(``time_warp``); anchors whose pose changed add a displacement that fades out
at their neighbours (``displacement``). Frames an edit does not reach stay bit
for bit the take's. The generator fills only frames that are not captured
(gaps in the capture, spans the user asked to regenerate).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.displacement import DisplacementKey, apply_displacements, displacement_keys
from signeditor.core.hand_features import wrist_positions
from signeditor.core.motion import STREAM_SLICES, STREAMS, Motion
from signeditor.core.skeleton import signing_skeleton
from signeditor.core.time_warp import nearest_frames, resample_rotations, resample_values, source_times, warp_knots

#: (motion, anchors, frame range) -> motion with those frames generated (the editor's KF2P or interpolation).
SpanGenerator = Callable[[Motion, AnchorSet, tuple[int, int]], Motion]


@dataclass(frozen=True, eq=False)
class Recording:
    """The unedited take; ``anchors`` share ids with the project's anchors, so edits are read against them."""

    take: Motion
    anchors: AnchorSet
    #: Per take frame and stream (``STREAMS`` order: body, left hand, right hand, face): True where the capture
    #: is kept, False where that stream is generated (not detected, or a span the user asked to regenerate).
    #: A (T,) array (projects saved before streams were told apart) applies to every stream.
    captured: np.ndarray = field(repr=False)
    #: Frames of the clip the take is shown in (None: the take's own): sign edits lay frames into both, so
    #: they differ only where anchors moved across an edit (the warp absorbs it).
    clip_frames: int | None = None

    def __post_init__(self) -> None:
        captured = np.asarray(self.captured, dtype=bool)
        if captured.ndim == 1:
            captured = np.repeat(captured[:, None], len(STREAMS), axis=1)
        if captured.shape != (self.take.n_frames, len(STREAMS)):
            raise ValueError(f"captured flags have shape {captured.shape}, the take "
                             f"({self.take.n_frames}, {len(STREAMS)})")
        object.__setattr__(self, "captured", captured)
        if self.clip_frames is not None and self.clip_frames < 1:
            raise ValueError(f"a recording shown in {self.clip_frames} frames")

    @property
    def n_frames(self) -> int:
        """Frames of the clip it is shown in."""
        return self.take.n_frames if self.clip_frames is None else int(self.clip_frames)

    @classmethod
    def of(cls, motion: Motion, anchors: AnchorSet) -> Recording:
        """Keep an imported motion as the take; streams the importer filled (missing detections) are not captured."""
        return cls(motion.copy(), anchors, ~motion.filled_by_stream())

    def with_captured(self, lo: int, hi: int, captured: bool, streams: tuple[str, ...] = STREAMS) -> Recording:
        """The same take with take frames [lo, hi) of ``streams`` restored (``captured``) or to be generated.

        Restoring brings back only what was captured there: a stream the
        importer never saw (the take's ``stream_filled``) stays generated.
        """
        flags = self.captured.copy()
        rows, columns = slice(max(lo, 0), max(hi, 0)), [STREAMS.index(s) for s in streams]
        flags[rows, columns] = ~self.take.filled_by_stream()[rows][:, columns] if captured else False
        return replace(self, captured=flags)


def _pairs(recording: Recording, anchors: AnchorSet, stream: str | None) -> list[tuple[int, int]]:
    """(frame now, frame in the take) of every anchor the take also has (for ``stream``, or any stream)."""
    take = {a.id: a for a in recording.anchors}
    return [(a.frame, take[a.id].frame) for a in anchors
            if a.id in take and (stream is None or (stream in a.streams and stream in take[a.id].streams))]


def clip_source_times(recording: Recording, anchors: AnchorSet) -> np.ndarray:
    """Take time shown at each frame, from all anchors (for per-frame flags and expression)."""
    n = recording.n_frames
    return source_times(warp_knots(_pairs(recording, anchors, None), n, recording.take.n_frames), n)


def recorded_streams(recording: Recording, anchors: AnchorSet) -> np.ndarray:
    """Per frame now and stream: True where the shown stream is the (warped, displaced) capture."""
    times = clip_source_times(recording, anchors)
    return recording.captured[nearest_frames(times, recording.take.n_frames)]


def recorded_frames(recording: Recording, anchors: AnchorSet) -> np.ndarray:
    """Per frame now: True where every stream shown is the capture, False where any stream is generated."""
    return recorded_streams(recording, anchors).all(axis=1)


def take_span(recording: Recording, anchors: AnchorSet, lo: int, hi: int) -> tuple[int, int]:
    """The take frames shown in frames [lo, hi) now (what a regenerated or restored span marks)."""
    times = clip_source_times(recording, anchors)[max(lo, 0) : max(hi, lo + 1)]
    return int(np.floor(times.min())), int(np.ceil(times.max())) + 1


def _keys(anchors: AnchorSet, stream: str, warped: np.ndarray) -> list[tuple[DisplacementKey, np.ndarray]]:
    """A displacement key and the pose (this stream's) of each anchor pinning ``stream``.

    The key is the offset from the warped take to the anchor's pose on its
    frame: none for an anchor that still has the pose it had on the take and
    kept its place in the warp, the pose edit for an edited one.
    """
    cols = STREAM_SLICES[stream]
    by_frame: dict[int, Anchor] = {}
    for anchor in sorted(anchors, key=lambda a: a.id):  # the later-created anchor wins on a shared frame
        if stream in anchor.streams and 0 <= anchor.frame < len(warped):
            by_frame[anchor.frame] = anchor
    frames = sorted(by_frame)
    poses = np.stack([by_frame[f].pose[cols] for f in frames]) if frames else np.zeros((0, cols.stop - cols.start))
    return list(zip(displacement_keys(frames, poses, warped[frames]), poses, strict=True))


def stream_source_times(recording: Recording, anchors: AnchorSet) -> dict[str, np.ndarray]:
    """Per stream, the take time shown at each frame (each stream warps with the anchors that pin it)."""
    n = recording.n_frames
    return {stream: source_times(warp_knots(_pairs(recording, anchors, stream), n, recording.take.n_frames), n)
            for stream in STREAMS}


def edit_recording(recording: Recording, anchors: AnchorSet) -> Motion:
    """The take warped in time and displaced in pose to follow ``anchors``, for every frame (captured or not).

    Per stream, the warp uses the anchors pinning that stream, and the
    displacement keys sit on those anchors' frames; where a key is edited,
    its frame carries the anchor's pose exactly.
    """
    take = recording.take
    n, n_take = recording.n_frames, take.n_frames
    features = np.empty((n, take.features.shape[1]), take.features.dtype)
    for stream, times in stream_source_times(recording, anchors).items():
        cols = STREAM_SLICES[stream]
        warped = resample_rotations(take.features[:, cols], times)
        keys = _keys(anchors, stream, warped)
        displaced = apply_displacements(warped, [key for key, _ in keys])
        for key, pose in keys:
            if key.edited.any():
                displaced[key.frame] = pose
        features[:, cols] = displaced
    times = clip_source_times(recording, anchors)
    expression = None if take.expression is None else resample_values(take.expression, times)
    face = None if take.face is None else resample_values(take.face, times)  # the face channel follows the warp
    return Motion(take.fps, features, expression, take.filled[nearest_frames(times, n_take)], face)


def follow_recording(recording: Recording, motion: Motion, anchors: AnchorSet) -> Motion:
    """``motion`` with every captured stream (and the face channel) taken from the capture edited to ``anchors``.

    The face channel always follows the capture: the generator never makes
    faces, so the signer's face (where seen, filled between where not) stays.
    """
    edited = edit_recording(recording, anchors)
    recorded = recorded_streams(recording, anchors)
    result = motion.copy()
    for s, stream in enumerate(STREAMS):
        rows = np.flatnonzero(recorded[:, s])
        result.features[rows, STREAM_SLICES[stream]] = edited.features[rows, STREAM_SLICES[stream]]
    every = recorded.all(axis=1)
    if edited.expression is not None:
        result.expression = edited.expression
    if edited.face is not None:
        result.face = edited.face
    result.filled[every] = edited.filled[every]
    return result


def regenerate_keeping_recording(recording: Recording, motion: Motion, anchors: AnchorSet,
                                 frame_range: tuple[int, int] | None, generate: SpanGenerator) -> Motion:
    """The motion for ``anchors``: the edited capture where captured, generated elsewhere, stream by stream.

    Captured streams are recomputed over the whole clip (cheap, and a pure
    function of the take and the anchors, so frames no edit reaches come out
    bit-identical); streams that are not captured are regenerated only inside
    ``frame_range`` (the edit's neighbouring anchors), with the frames around
    them as context, so an edit never reaches past its neighbours. A frame
    where only a hand was lost regenerates that hand: the generator runs over
    the frames, but only the uncaptured streams' values are kept.
    """
    n = motion.n_frames
    result = follow_recording(recording, motion, anchors)
    missing = ~recorded_streams(recording, anchors)
    lo, hi = frame_range or (0, n)
    for run_lo, run_hi in frame_runs(missing.any(axis=1)):
        start, stop = max(run_lo, lo), min(run_hi, hi)
        if start < stop:
            generated = generate(result, anchors, (start, stop))
            for s, stream in enumerate(STREAMS):
                rows = start + np.flatnonzero(missing[start:stop, s])
                result.features[rows, STREAM_SLICES[stream]] = generated.features[rows, STREAM_SLICES[stream]]
            result.filled[start:stop] = False
    return result


def frame_runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of every run of True in a boolean array."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist(), strict=True))


def wrist_path_length(features: np.ndarray, side: str = "R") -> float:
    """Distance (metres) the wrist travels over a clip: how much of a recording's movement an edit kept."""
    metres = wrist_positions(features)[:, 0 if side == "L" else 1] * signing_skeleton().shoulder_width()
    return float(np.linalg.norm(np.diff(metres, axis=0), axis=-1).sum())
