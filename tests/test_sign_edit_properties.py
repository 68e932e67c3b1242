"""Sign edits over random layouts (Hypothesis): back-to-back signs, anchors on every sign's first and last frame.

FAST usually lays signs back to back, so an edit's boundary frame is often the next sign's onset anchor. For
every edit the properties are stated without the code under test: which anchors a sign owns is read off the
frames before the edit (start <= frame < end); the untouched signs are the others, in order. Each untouched
sign must keep its anchors (same ids, poses bit for bit, same frames relative to its start) and its motion bit
for bit; every anchor of an edited or laid sign must stay inside it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from signeditor.core import rotations
from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.motion import Motion
from signeditor.core.segments import Segment
from signeditor.core.sign_edits import (
    SignEdit,
    SignTemplate,
    TimelineState,
    delete_sign,
    duplicate_sign,
    insert_sign,
    move_sign,
    replace_sign,
    stretch_sign,
)


def _features(n_frames: int, seed: int) -> np.ndarray:
    """Valid rotations, a different pose on every frame (so a frame copied to the wrong place shows)."""
    base = Motion.rest(n_frames).features
    noisy = base + np.random.default_rng(seed).normal(0, 0.05, base.shape)
    return rotations.orthonormalize_rot6d(noisy.reshape(n_frames, -1, 6)).reshape(n_frames, -1).astype(np.float32)


@st.composite
def layouts(draw: st.DrawFn) -> TimelineState:
    """2-5 signs of 2-7 frames, mostly back to back; anchors on each sign's first and last frame (sometimes one
    inside), and sometimes on the free frame just before or after a sign."""
    n_signs = draw(st.integers(2, 5))
    gaps = [draw(st.sampled_from([0, 0, 0, 1, 2, 3])) for _ in range(n_signs + 1)]
    lengths = [draw(st.integers(2, 7)) for _ in range(n_signs)]
    segments, frame = [], gaps[0]
    for k, (length, gap) in enumerate(zip(lengths, gaps[1:], strict=True)):
        segments.append(Segment(frame, frame + length, f"S{k}"))
        frame += length + gap
    n_frames = max(frame, segments[-1].end + 1)
    features = _features(n_frames, draw(st.integers(0, 2**16)))
    frames = set()
    for s in segments:
        frames |= {s.start, s.end - 1}
        if s.length > 2 and draw(st.booleans()):
            frames.add(draw(st.integers(s.start + 1, s.end - 2)))
    in_sign = {f for s in segments for f in range(s.start, s.end)}
    free = sorted({f for s in segments for f in (s.start - 1, s.end)} - in_sign - {-1, n_frames})
    frames |= set(draw(st.lists(st.sampled_from(free), unique=True)) if free else [])
    anchors = AnchorSet(Anchor(f, features[f]) for f in sorted(frames))
    return TimelineState(Motion(25.0, features), anchors, tuple(segments))


def _template(seed: int, length: int) -> SignTemplate:
    features = _features(length, seed)
    return SignTemplate("NEW", features, (Anchor(0, features[0]), Anchor(length - 1, features[-1])))


@dataclass
class _Outcome:
    edit: SignEdit
    untouched_before: list[int]  # old sign indices, in order
    untouched_after: list[int]  # their indices after the edit
    edited_before: int | None  # the sign whose own anchors must stay inside edit.sign


def _apply(state: TimelineState, data: st.DataObject) -> _Outcome:
    n = len(state.segments)
    kind = data.draw(st.sampled_from(["delete-close", "delete-hold", "move", "stretch", "duplicate", "insert",
                                      "replace"]))
    index = data.draw(st.integers(0, n - 1))
    others = [i for i in range(n) if i != index]
    if kind.startswith("delete"):
        edit = delete_sign(state, index, close_gap=kind == "delete-close")
        return _Outcome(edit, others, list(range(n - 1)), None)
    if kind == "move":
        edit = move_sign(state, index, data.draw(st.integers(-6, 6)))
        return _Outcome(edit, others, others, index)
    if kind == "stretch":
        edit = stretch_sign(state, index, data.draw(st.integers(2, 12)))
        return _Outcome(edit, others, others, index)
    if kind == "duplicate":
        edit = duplicate_sign(state, index, data.draw(st.integers(0, 2)))
    elif kind == "insert":
        at = data.draw(st.sampled_from(sorted({0, state.n_frames, *(b for s in state.segments
                                                                     for b in (s.start, s.end))})))
        edit = insert_sign(state, at, _template(index, data.draw(st.integers(2, 6))),
                           data.draw(st.integers(0, 2)), data.draw(st.integers(0, 2)))
    else:
        edit = replace_sign(state, index, _template(index, data.draw(st.integers(2, 9))))
        after = [i for i in range(n) if i != edit.sign]
        return _Outcome(edit, others, after, None)
    after = [i for i in range(n + 1) if i != edit.sign]
    return _Outcome(edit, list(range(n)), after, None)


def _owned(state: TimelineState, segment: Segment) -> list[Anchor]:
    return [a for a in state.anchors if segment.start <= a.frame < segment.end]


@settings(max_examples=250, deadline=None)
@given(layouts(), st.data())
def test_sign_edits_keep_every_anchor_in_its_sign_and_leave_other_signs_bit_for_bit(state: TimelineState,
                                                                                   data: st.DataObject):
    outcome = _apply(state, data)
    new = outcome.edit.state
    assert len(outcome.untouched_before) == len(outcome.untouched_after)
    assert all(0 <= a.frame < new.n_frames for a in new.anchors)
    for i, j in zip(outcome.untouched_before, outcome.untouched_after, strict=True):
        old_sign, new_sign = state.segments[i], new.segments[j]
        assert (new_sign.gloss, new_sign.length) == (old_sign.gloss, old_sign.length)
        np.testing.assert_array_equal(new.motion.features[new_sign.start:new_sign.end],
                                      state.motion.features[old_sign.start:old_sign.end], err_msg=old_sign.gloss)
        for anchor in _owned(state, old_sign):
            moved = new.anchors.by_id(anchor.id)
            assert moved.frame - new_sign.start == anchor.frame - old_sign.start, (old_sign.gloss, anchor.frame)
            np.testing.assert_array_equal(moved.pose, anchor.pose)
        # ...and no anchor of another sign has wandered into it.
        assert {a.id for a in _owned(new, new_sign)} == {a.id for a in _owned(state, old_sign)}, old_sign.gloss
    if outcome.edit.sign is not None:
        edited = new.segments[outcome.edit.sign]
        if outcome.edited_before is not None:
            for anchor in _owned(state, state.segments[outcome.edited_before]):
                assert edited.start <= new.anchors.by_id(anchor.id).frame < edited.end
        old_ids = {a.id for a in state.anchors}
        for anchor in new.anchors:
            if anchor.id not in old_ids and anchor.label != "hold":
                assert edited.start <= anchor.frame < edited.end, "a laid anchor lies outside its sign"
