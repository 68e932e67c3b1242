"""Sign-level edits on a recording: the take follows the clip's new layout, its captured frames kept bit for bit.

A recording's take maps frame for frame onto the clip (until anchors move and
warp it). Sign edits that change the clip's length (insert, replace, delete,
duplicate, stretch) used to end that mapping and drop the recording, and with
it the signer's face and every "not captured" flag. Instead the same edit is
made to the take: frames laid into the clip are laid into the take too (not
captured: they are new material, generated from their anchors), frames cut
from the clip are cut from the take, and everything else is the same take
frames, shifted. The laid anchors join the take's anchors where they were laid,
so the warp stays the identity wherever the user moved nothing.

Positions in the clip are mapped to the take through the current warp, so an
edit next to anchors the user had moved still cuts the take where the clip shows it.
When the cut falls inside a stretch the user time-warped (between a moved
anchor and its neighbour), no cut of the take shows the same frames on both
sides, so the warp is first written into the take (``rebased``: the take as it
is shown, frame for frame; pose edits stay displacements): the clip shows the
same frames before and after, bit for bit, at the price of the take's original
timing in the warped stretches.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import numpy as np

from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.motion import STREAM_SLICES, STREAMS, Motion
from signeditor.core.recording import Recording, clip_source_times, stream_source_times
from signeditor.core.time_warp import nearest_frames, resample_rotations, resample_values


def _exact_around(recording: Recording, anchors: AnchorSet, start: int, stop: int) -> bool:
    """True when, between the anchors around clip frames [start, stop), every stream shows whole take frames one
    after the other (moved by a whole shift at most), so the take can be cut there exactly."""
    frames = [a.frame for a in anchors]
    lo = max([f for f in frames if f < start], default=0)
    hi = min([f for f in frames if f >= stop], default=recording.n_frames - 1) + 1
    for times in (clip_source_times(recording, anchors), *stream_source_times(recording, anchors).values()):
        window = times[lo:hi]
        if np.any(window != np.round(window)) or np.any(np.diff(window) != 1):
            return False
    return True


def rebased(recording: Recording, anchors: AnchorSet) -> Recording:
    """The recording with its time warp written into the take: the take is what each stream shows now, and its
    anchors sit where the anchors are, so the warp is the identity and the clip shows exactly the same frames."""
    take = recording.take
    clip_times = clip_source_times(recording, anchors)
    nearest = nearest_frames(clip_times, take.n_frames)
    features = np.empty((recording.n_frames, take.features.shape[1]), take.features.dtype)
    for stream, times in stream_source_times(recording, anchors).items():
        features[:, STREAM_SLICES[stream]] = resample_rotations(take.features[:, STREAM_SLICES[stream]], times)
    values = [None if v is None else resample_values(v, clip_times) for v in (take.expression, take.face)]
    motion = Motion(take.fps, features, values[0], take.filled[nearest], values[1], take.filled_by_stream()[nearest])
    now = {a.id: a.frame for a in anchors}
    placed = AnchorSet(a.moved_to(now[a.id]) for a in recording.anchors if a.id in now)
    return Recording(motion, placed, recording.captured[nearest])


def _exact(recording: Recording, anchors: AnchorSet, start: int, stop: int) -> Recording:
    return recording if _exact_around(recording, anchors, start, stop) else rebased(recording, anchors)


def take_position(recording: Recording, anchors: AnchorSet, frame: int) -> int:
    """The take frame at which clip frame ``frame`` begins (a boundary: ``n`` is the take's end)."""
    if frame >= recording.n_frames:
        return recording.take.n_frames
    if frame <= 0:
        return 0
    return int(np.ceil(clip_source_times(recording, anchors)[frame] - 1e-9))


def spliced_values(values: np.ndarray | None, start: int, stop: int, length: int) -> np.ndarray | None:
    """Per-frame values (face weights, expression) with rows [start, stop) replaced by ``length`` rows that blend
    linearly from the row before to the row after, so a laid sign neither freezes nor blanks the face."""
    if values is None:
        return None
    n = values.shape[0]
    before = values[max(start - 1, 0)] if n else np.zeros(values.shape[1:], values.dtype)
    after = values[min(stop, n - 1)] if n else before
    if start == 0:
        before = after
    if stop >= n:
        after = before
    weight = (np.arange(1, length + 1, dtype=np.float64) / (length + 1)).reshape(-1, *([1] * (values.ndim - 1)))
    block = (before * (1 - weight) + after * weight).astype(values.dtype)
    return np.concatenate([values[:start], block, values[stop:]])


def spliced_recording(recording: Recording, anchors: AnchorSet, start: int, stop: int, block: np.ndarray,
                      laid: Iterable[Anchor] = (), drop: Iterable[int] = (),
                      block_captured: np.ndarray | None = None,
                      block_face: tuple[int, np.ndarray] | None = None) -> Recording:
    """The recording after clip frames [start, stop) became ``block`` (any length, before the edit's anchors).

    ``laid`` are the new anchors (clip frames after the edit, counted from
    ``start``) and join the take where the block lies; ``drop`` are ids of
    anchors the edit removed. The block is not captured unless
    ``block_captured`` (per block frame and stream) says otherwise (a duplicated sign is captured material).
    Its face blends from the frame before to the frame after, except the rows ``block_face`` gives (where in
    the block, the face values: a duplicated sign's mouthing).
    """
    recording = _exact(recording, anchors, start, stop)
    take = recording.take
    lo = take_position(recording, anchors, start)
    hi = max(lo, take_position(recording, anchors, stop))
    length = len(block)
    delta = length - (hi - lo)
    captured = np.zeros((length, len(STREAMS)), bool) if block_captured is None else np.asarray(block_captured, bool)
    unseen = take.filled_by_stream()
    motion = Motion(
        take.fps,
        np.concatenate([take.features[:lo], np.asarray(block, np.float32), take.features[hi:]]),
        spliced_values(take.expression, lo, hi, length),
        np.concatenate([take.filled[:lo], np.zeros(length, bool), take.filled[hi:]]),
        spliced_values(take.face, lo, hi, length),
        np.concatenate([unseen[:lo], ~captured, unseen[hi:]]),  # laid frames were never seen: nothing to restore
    )
    if block_face is not None and motion.face is not None:
        at, face = block_face
        motion.face[lo + at:lo + at + len(face)] = face
    skip = set(drop)
    kept = [a if a.frame < hi else a.moved_to(a.frame + delta) for a in recording.anchors
            if a.id not in skip and not lo <= a.frame < hi]
    placed = [a.moved_to(lo + a.frame - start) for a in laid]
    flags = np.concatenate([recording.captured[:lo], captured, recording.captured[hi:]])
    return Recording(motion, AnchorSet([*kept, *placed]), flags, recording.n_frames + length - (stop - start))


def stretched_recording(recording: Recording, anchors: AnchorSet, start: int, stop: int, length: int) -> Recording:
    """The recording after clip frames [start, stop) were time-warped to ``length`` frames (a stretched sign).

    The take's frames there are resampled (rotations slerped, whole frames
    copied), stay captured where they were, and the take's anchors inside are
    retimed in proportion, as the sign's anchors are; what follows shifts.
    """
    recording = _exact(recording, anchors, start, stop)
    take = recording.take
    lo = take_position(recording, anchors, start)
    hi = max(lo + 1, take_position(recording, anchors, stop))
    times = np.linspace(lo, hi - 1, length)
    scale = (length - 1) / max(hi - lo - 1, 1)

    def warped(values: np.ndarray | None, resample=resample_values) -> np.ndarray | None:
        if values is None:
            return None
        return np.concatenate([values[:lo], resample(values, times), values[hi:]])

    nearest = nearest_frames(times, take.n_frames)
    unseen = take.filled_by_stream()
    motion = Motion(take.fps, warped(take.features, resample_rotations), warped(take.expression),
                    np.concatenate([take.filled[:lo], take.filled[nearest], take.filled[hi:]]), warped(take.face),
                    np.concatenate([unseen[:lo], unseen[nearest], unseen[hi:]]))
    delta = length - (hi - lo)
    retimed = []
    for anchor in recording.anchors:
        if lo <= anchor.frame < hi:
            anchor = anchor.moved_to(lo + round((anchor.frame - lo) * scale))
        elif anchor.frame >= hi:
            anchor = anchor.moved_to(anchor.frame + delta)
        retimed.append(anchor)
    flags = np.concatenate([recording.captured[:lo], recording.captured[nearest], recording.captured[hi:]])
    return replace(recording, take=motion, anchors=AnchorSet(retimed), captured=flags,
                   clip_frames=recording.n_frames + length - (stop - start))
