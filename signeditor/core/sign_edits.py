"""Sign-level edits: move, stretch, delete, duplicate, insert and replace a whole sign on the timeline.

Translators think in signs, not keyframes. A sign is a segment and the
anchors inside it; each edit here returns the whole new state (motion,
anchors, segments) plus the one frame window whose motion must be
regenerated: the transitions around the change, between the nearest anchors
outside it. Inside the edited sign the motion is carried along (moved,
time-warped or copied), so the result is a good first guess at once and the
generator only has to redo the joins. Edits that change the clip's length
ripple: everything after the edit point moves with it.

On an imported recording the edit is made to the take as well
(``recording_layout``), so the recording, its "not captured" flags and the
signer's face survive every edit, and captured frames are never regenerated:
moving a sign then time-warps the capture between its neighbours instead of
cutting it out and regenerating the transitions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np

from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.interpolation import interpolate_between_anchors
from signeditor.core.motion import Motion, interpolate_features
from signeditor.core.recording import Recording, follow_recording, recorded_streams
from signeditor.core.recording_layout import spliced_recording, spliced_values, stretched_recording
from signeditor.core.segments import Segment
from signeditor.core.time_warp import resample_values


@dataclass(frozen=True)
class TimelineState:
    """What a sign edit reads and writes: the dense motion, the anchors and the signs."""

    motion: Motion
    anchors: AnchorSet
    segments: tuple[Segment, ...]
    #: The imported take (None for drafts and generated motion): every edit keeps it, laid out like the clip.
    recording: Recording | None = None

    @property
    def n_frames(self) -> int:
        return self.motion.n_frames


@dataclass(frozen=True)
class SignEdit:
    """The state after an edit and the frames [lo, hi) to regenerate; ``sign`` is the edited sign's index after."""

    state: TimelineState
    regenerate: tuple[int, int]
    sign: int | None
    #: (start, stop, length): frames [start, stop) became ``length`` frames, what followed moved (None: no cut).
    cut: tuple[int, int, int] | None = None

    def retimed(self, frame: int) -> int:
        """Where something at ``frame`` before the edit (a non-manual key) belongs after it."""
        if self.cut is None:
            return frame
        start, stop, length = self.cut
        if frame >= stop:
            return frame + length - (stop - start)
        if frame < start:
            return frame
        scale = (length - 1) / max(stop - start - 1, 1)
        return start + min(max(round((frame - start) * scale), 0), max(length - 1, 0))


@dataclass(frozen=True)
class SignTemplate:
    """A sign to lay onto the timeline: its motion (its own timing) and its anchors, frames relative to its start."""

    gloss: str
    features: np.ndarray  # (L, FEATURE_DIM)
    anchors: tuple[Anchor, ...]
    #: Per frame and stream, whether the frames are captured material (a sign copied from a recording).
    captured: np.ndarray | None = None
    #: The sign's face channel (L, FACE_DIM), when it has one: a copied sign keeps its mouthing.
    face: np.ndarray | None = None

    @property
    def length(self) -> int:
        return int(self.features.shape[0])


def sign_anchor_ids(state: TimelineState, index: int) -> tuple[int, ...]:
    """Ids of the anchors inside sign ``index`` (its onset, middle, offset and any the user added)."""
    segment = state.segments[index]
    return tuple(a.id for a in state.anchors if segment.start <= a.frame < segment.end)


def template_from_sign(state: TimelineState, index: int) -> SignTemplate:
    """The sign as a reusable template: its frames and its anchors (fresh ids when laid again)."""
    segment = state.segments[index]
    anchors = tuple(replace(a, frame=a.frame - segment.start) for a in state.anchors
                    if segment.start <= a.frame < segment.end)
    captured = None
    if state.recording is not None:
        captured = recorded_streams(state.recording, state.anchors)[segment.start:segment.end]
    face = None if state.motion.face is None else state.motion.face[segment.start:segment.end].copy()
    return SignTemplate(segment.gloss, state.motion.features[segment.start:segment.end].copy(), anchors, captured,
                        face)


def sign_at(segments: Iterable[Segment], frame: int) -> int | None:
    """Index of the sign covering ``frame``, if any."""
    return next((i for i, s in enumerate(segments) if s.start <= frame < s.end), None)


def regeneration_window(anchors: AnchorSet, lo: int, hi: int, n_frames: int,
                        exclude: Iterable[int] = ()) -> tuple[int, int]:
    """Frames from the last anchor before ``lo`` to the first anchor at or after ``hi`` (inclusive).

    ``exclude`` are ids of anchors inside the edited span (the edited sign's own), which do not bound it.
    """
    skip = set(exclude)
    before = [a.frame for a in anchors if a.frame < lo and a.id not in skip]
    after = [a.frame for a in anchors if a.frame >= hi and a.id not in skip]
    return (max(before) if before else 0, min(after) + 1 if after else n_frames)


# --- motion splicing -------------------------------------------------------------------------------------------
def _splice(motion: Motion, start: int, stop: int, features: np.ndarray, retimed_rows: bool = False) -> Motion:
    """``motion`` with frames [start, stop) replaced by ``features`` (any length); new frames are not 'filled'
    (on any stream). The face and expression rows there blend from the row before to the row after, or, with
    ``retimed_rows`` (the same sign played at another speed), are the old rows resampled like the motion."""
    n = len(features)
    parts = [motion.features[:start], features.astype(np.float32), motion.features[stop:]]
    filled = np.concatenate([motion.filled[:start], np.zeros(n, bool), motion.filled[stop:]])
    stream_filled = None if motion.stream_filled is None else np.concatenate(
        [motion.stream_filled[:start], np.zeros((n, motion.stream_filled.shape[1]), bool),
         motion.stream_filled[stop:]])

    def rows(values: np.ndarray | None) -> np.ndarray | None:
        if values is None or not retimed_rows:
            return spliced_values(values, start, stop, n)
        retimed = resample_values(values[start:stop], np.linspace(0.0, stop - start - 1, n))  # as time_warped
        return np.concatenate([values[:start], retimed, values[stop:]])

    return Motion(motion.fps, np.concatenate(parts), rows(motion.expression), filled, rows(motion.face), stream_filled)


def _edited(motion: Motion, anchors: AnchorSet, segments: Iterable[Segment], recording: Recording | None,
            ) -> TimelineState:
    """The state after an edit; on a recording its captured streams and face are the capture's, at once."""
    if recording is not None:
        motion = follow_recording(recording, motion, anchors)
    return TimelineState(motion, anchors, _sorted(segments), recording)


def time_warped(features: np.ndarray, n_frames: int) -> np.ndarray:
    """``features`` resampled to ``n_frames`` (first and last frame kept), rotations re-orthonormalised."""
    if len(features) == n_frames:
        return features.copy()
    if len(features) == 1:
        return np.repeat(features, n_frames, axis=0)
    return interpolate_features(features, np.linspace(0.0, len(features) - 1, n_frames))


def bridge(before: np.ndarray, after: np.ndarray, n_frames: int) -> np.ndarray:
    """A cubic first guess for ``n_frames`` between pose ``before`` and pose ``after`` (the generator redoes it)."""
    if n_frames <= 0:
        return np.zeros((0, before.shape[-1]), np.float32)
    anchors = AnchorSet([Anchor(0, before), Anchor(n_frames + 1, after)])
    return interpolate_between_anchors(n_frames + 2, anchors, method="cubic")[1:-1].astype(np.float32)


def _shifted(anchors: Iterable[Anchor], from_frame: int, delta: int) -> list[Anchor]:
    return [a.moved_to(a.frame + delta) if a.frame >= from_frame else a for a in anchors]


def _shifted_segments(segments: Iterable[Segment], from_frame: int, delta: int) -> list[Segment]:
    return [s.with_bounds(s.start + delta, s.end + delta) if s.start >= from_frame else s for s in segments]


def _sorted(segments: Iterable[Segment]) -> tuple[Segment, ...]:
    return tuple(sorted(segments, key=lambda s: s.start))


# --- the edits -----------------------------------------------------------------------------------------------------
def move_sign(state: TimelineState, index: int, delta: int) -> SignEdit:
    """Move sign ``index`` and all its anchors by ``delta`` frames, never over its neighbours or off the clip."""
    segments = list(state.segments)
    segment = segments[index]
    lo_limit = max([s.end for i, s in enumerate(segments) if i != index and s.end <= segment.start], default=0)
    hi_limit = min([s.start for i, s in enumerate(segments) if i != index and s.start >= segment.end],
                   default=state.n_frames)
    delta = int(np.clip(delta, lo_limit - segment.start, hi_limit - segment.end))
    own = set(sign_anchor_ids(state, index))
    moved = segment.with_bounds(segment.start + delta, segment.end + delta)
    motion = state.motion
    if state.recording is None:  # a recording is time-warped instead: every captured frame stays
        motion = state.motion.copy()
        motion.features[moved.start:moved.end] = state.motion.features[segment.start:segment.end]
    anchors = AnchorSet(a.moved_to(a.frame + delta) if a.id in own else a for a in state.anchors)
    segments[index] = moved
    window = regeneration_window(anchors, min(segment.start, moved.start), max(segment.end, moved.end),
                                 state.n_frames, exclude=own)
    new_state = _edited(motion, anchors, segments, state.recording)
    return SignEdit(new_state, window, new_state.segments.index(moved))


def stretch_sign(state: TimelineState, index: int, length: int) -> SignEdit:
    """Give sign ``index`` a new length (frames), its motion time-warped and its anchors retimed proportionally;
    what follows the sign moves by the difference (ripple)."""
    segment = state.segments[index]
    length = max(2, int(length))
    delta = length - segment.length
    scale = (length - 1) / max(segment.length - 1, 1)
    own = set(sign_anchor_ids(state, index))
    warped = time_warped(state.motion.features[segment.start:segment.end], length)
    motion = _splice(state.motion, segment.start, segment.end, warped, retimed_rows=True)
    anchors = []
    for anchor in state.anchors:
        if anchor.id in own:
            anchors.append(anchor.moved_to(segment.start + round((anchor.frame - segment.start) * scale)))
        elif anchor.frame >= segment.end:
            anchors.append(anchor.moved_to(anchor.frame + delta))
        else:
            anchors.append(anchor)
    stretched = segment.with_bounds(segment.start, segment.start + length)
    segments = [stretched if i == index else s for i, s in
                enumerate(_shifted_segments(state.segments, segment.end, delta))]
    anchor_set = AnchorSet(anchors)
    window = regeneration_window(anchor_set, segment.start, stretched.end, motion.n_frames, exclude=own)
    recording = None if state.recording is None else stretched_recording(
        state.recording, state.anchors, segment.start, segment.end, length)
    return SignEdit(_edited(motion, anchor_set, segments, recording), window, index,
                    (segment.start, segment.end, length))


def delete_sign(state: TimelineState, index: int, close_gap: bool, bridge_frames: int = 0) -> SignEdit:
    """Remove sign ``index`` and its anchors: closing the gap (what follows moves up) or leaving a hold there.

    The hold keeps the pose the signer had just before the sign for the sign's
    duration (two anchors pin it), so the neighbours do not drift into the gap.
    Closing the gap may leave ``bridge_frames`` new transition frames between
    the two sides (on a recording, the join is generated there rather than in the captured frames around it).
    """
    segment = state.segments[index]
    own = set(sign_anchor_ids(state, index))
    remaining = [a for a in state.anchors if a.id not in own]
    others = [s for i, s in enumerate(state.segments) if i != index]
    if close_gap and segment.length < state.n_frames:
        inside = segment.start > 0 and segment.end < state.n_frames
        features = state.motion.features
        block = bridge(features[max(segment.start - 1, 0)], features[min(segment.end, state.n_frames - 1)],
                       bridge_frames if inside else 0)
        delta = len(block) - segment.length
        motion = _splice(state.motion, segment.start, segment.end, block)
        anchors = AnchorSet(_shifted(remaining, segment.end, delta))
        segments = _shifted_segments(others, segment.end, delta)
        window = regeneration_window(anchors, segment.start, segment.start + len(block), motion.n_frames)
        recording = None if state.recording is None else spliced_recording(
            state.recording, state.anchors, segment.start, segment.end, block, drop=own)
        return SignEdit(_edited(motion, anchors, segments, recording), window, None,
                        (segment.start, segment.end, len(block)))
    held = state.motion.features[max(segment.start - 1, 0)]
    block = np.repeat(held[None], segment.length, axis=0)
    motion = state.motion.copy()
    motion.features[segment.start:segment.end] = block
    hold = [Anchor(segment.start, held, label="hold"), Anchor(segment.end - 1, held, label="hold")]
    hold = hold[: 1 if segment.length == 1 else 2]
    anchors = AnchorSet([*remaining, *hold])
    window = regeneration_window(anchors, segment.start, segment.end, state.n_frames,
                                 exclude=[a.id for a in hold])
    recording = None if state.recording is None else spliced_recording(
        state.recording, state.anchors, segment.start, segment.end, block, laid=hold, drop=own)
    return SignEdit(_edited(motion, anchors, others, recording), window, None)


def insertion_frame(segments: Iterable[Segment], frame: int, n_frames: int) -> int:
    """Where a sign dropped at ``frame`` goes: there, or after the sign that covers it."""
    segments = tuple(segments)
    inside = sign_at(segments, frame)
    return segments[inside].end if inside is not None else min(max(int(frame), 0), n_frames)


def insert_sign(state: TimelineState, at: int, template: SignTemplate, gap_before: int = 0,
                gap_after: int = 0) -> SignEdit:
    """Lay ``template`` at frame ``at`` with its own timing, transition frames around it; what follows moves (ripple).

    The transitions get a cubic first guess from the poses on either side;
    the laid anchors are the template's with fresh ids.
    """
    block, gap_before, gap_after = _with_transitions(state, at, at, template, gap_before, gap_after)
    return _lay(state, at, at, block, gap_before, template, gap_after=gap_after)


def _with_transitions(state: TimelineState, start: int, stop: int, template: SignTemplate, gap_before: int,
                      gap_after: int) -> tuple[np.ndarray, int, int]:
    """The template with cubic first-guess transitions from frame ``start - 1`` and to frame ``stop`` (none at
    the clip's ends), and the transition lengths used."""
    gap_before = gap_before if start > 0 else 0
    gap_after = gap_after if stop < state.n_frames else 0
    before = state.motion.features[start - 1] if start > 0 else template.features[0]
    after = state.motion.features[stop] if stop < state.n_frames else template.features[-1]
    block = np.concatenate([bridge(before, template.features[0], gap_before), template.features,
                            bridge(template.features[-1], after, gap_after)])
    return block, gap_before, gap_after


def _lay(state: TimelineState, start: int, stop: int, block: np.ndarray, offset: int,
         template: SignTemplate, drop: Iterable[int] = (), gap_after: int = 0) -> SignEdit:
    """Frames [start, stop) become ``block`` (the template at ``offset`` in it, ``gap_after`` frames after it);
    anchors ``drop`` go."""
    delta = len(block) - (stop - start)
    motion = _splice(state.motion, start, stop, block)
    if template.face is not None and motion.face is not None:
        motion.face[start + offset:start + offset + template.length] = template.face
    first = start + offset
    laid = [Anchor(first + a.frame, a.pose, a.streams, a.label) for a in template.anchors]
    skip = set(drop)
    kept = [a for a in state.anchors if a.id not in skip]
    anchors = AnchorSet([*_shifted(kept, stop, delta), *laid])
    sign = Segment(first, first + template.length, template.gloss)
    others = [s for s in state.segments if not (s.start >= start and s.end <= stop and stop > start)]
    segments = [*_shifted_segments(others, stop, delta), sign]
    window = regeneration_window(anchors, start, start + len(block), motion.n_frames, exclude=[a.id for a in laid])
    recording = None
    if state.recording is not None:
        captured = None
        if template.captured is not None:  # the copied sign is captured material, its transitions are not
            captured = np.zeros((len(block), template.captured.shape[1]), bool)
            captured[offset:len(block) - gap_after] = template.captured
        face = None if template.face is None else (offset, template.face)
        recording = spliced_recording(state.recording, state.anchors, start, stop, block, laid, skip, captured, face)
    new_state = _edited(motion, anchors, segments, recording)
    return SignEdit(new_state, window, new_state.segments.index(sign), (start, stop, len(block)))


def replace_sign(state: TimelineState, index: int, template: SignTemplate, gap_before: int = 0,
                 gap_after: int = 0) -> SignEdit:
    """Swap sign ``index`` for ``template`` (its own length), keeping the neighbours and the transitions to them;
    ``gap_before``/``gap_after`` new transition frames go between (on a recording the captured frames around
    stay, so the joins are generated in new frames)."""
    segment = state.segments[index]
    block, gap_before, gap_after = _with_transitions(state, segment.start, segment.end, template, gap_before,
                                                     gap_after)
    return _lay(state, segment.start, segment.end, block, gap_before, template,
                drop=sign_anchor_ids(state, index), gap_after=gap_after)


def duplicate_sign(state: TimelineState, index: int, gap: int) -> SignEdit:
    """A copy of sign ``index`` right after it, ``gap`` transition frames between the two."""
    segment = state.segments[index]
    return insert_sign(state, segment.end, template_from_sign(state, index), gap_before=gap)
