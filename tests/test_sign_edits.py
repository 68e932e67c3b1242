"""Sign-level edits on plain arrays: what moves, what is retimed, what is kept, and the window to regenerate."""

from __future__ import annotations

import numpy as np
import pytest
from gui_helpers import raised_arm_pose

from signeditor.core import rotations
from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.motion import Motion
from signeditor.core.segments import Segment
from signeditor.core.sign_edits import (
    TimelineState,
    delete_sign,
    duplicate_sign,
    insert_sign,
    insertion_frame,
    move_sign,
    replace_sign,
    sign_anchor_ids,
    stretch_sign,
    template_from_sign,
    time_warped,
)


def three_signs() -> TimelineState:
    """Signs A [10, 20), B [30, 40), C [50, 60) in 70 frames, onset/middle/offset anchors; frame f's pose encodes f."""
    rng = np.random.default_rng(0)
    base = Motion.rest(70).features
    noisy = base + rng.normal(0, 0.05, base.shape)
    features = rotations.orthonormalize_rot6d(noisy.reshape(70, -1, 6)).reshape(70, -1).astype(np.float32)
    motion = Motion(25.0, features)
    segments = (Segment(10, 20, "A"), Segment(30, 40, "B"), Segment(50, 60, "C"))
    anchors = AnchorSet(Anchor(f, features[f], label=s.gloss) for s in segments
                        for f in (s.start, s.middle, s.end - 1))
    return TimelineState(motion, anchors, segments)


def frames_of(state: TimelineState, gloss: str) -> list[int]:
    return [a.frame for a in state.anchors if a.label == gloss]


def test_move_carries_anchors_and_motion_and_stops_at_neighbours() -> None:
    state = three_signs()
    edit = move_sign(state, 1, 5)
    assert edit.state.segments[1] == Segment(35, 45, "B") and frames_of(edit.state, "B") == [35, 39, 44]
    assert frames_of(edit.state, "A") == [10, 14, 19] and frames_of(edit.state, "C") == [50, 54, 59]
    np.testing.assert_array_equal(edit.state.motion.features[35:45], state.motion.features[30:40])
    assert edit.regenerate == (19, 51), "from A's offset to C's onset, not the whole clip"
    assert move_sign(state, 1, 100).state.segments[1] == Segment(40, 50, "B"), "clamped at C"


def test_stretch_retimes_anchors_proportionally_and_ripples() -> None:
    state = three_signs()
    edit = stretch_sign(state, 1, 19)
    assert edit.state.motion.n_frames == 79
    assert edit.state.segments[1] == Segment(30, 49, "B") and edit.state.segments[2] == Segment(59, 69, "C")
    assert frames_of(edit.state, "B") == [30, 38, 48]  # onset, middle (4/9 of the way), offset
    np.testing.assert_allclose(edit.state.motion.features[48], state.motion.features[39], atol=1e-6)
    assert edit.regenerate == (19, 60)
    assert time_warped(state.motion.features[:5], 9).shape == (9, state.motion.features.shape[1])


@pytest.mark.parametrize("close_gap", [True, False])
def test_delete_closes_the_gap_or_leaves_a_hold(close_gap: bool) -> None:
    state = three_signs()
    edit = delete_sign(state, 1, close_gap=close_gap)
    assert [s.gloss for s in edit.state.segments] == ["A", "C"]
    assert "B" not in {a.label for a in edit.state.anchors}
    if close_gap:
        assert edit.state.motion.n_frames == 60 and edit.state.segments[1].start == 40
        assert edit.regenerate == (19, 41)
    else:
        assert edit.state.motion.n_frames == 70 and frames_of(edit.state, "hold") == [30, 39]
        held = state.motion.features[29]
        np.testing.assert_allclose(edit.state.motion.features[30:40], np.repeat(held[None], 10, 0), atol=1e-6)
        assert edit.regenerate == (19, 51)


def test_duplicate_and_insert_lay_a_copy_with_fresh_anchors() -> None:
    state = three_signs()
    edit = duplicate_sign(state, 0, gap=6)
    glosses = [s.gloss for s in edit.state.segments]
    assert glosses == ["A", "A", "B", "C"] and edit.sign == 1
    copy = edit.state.segments[1]
    assert copy == Segment(26, 36, "A") and edit.state.motion.n_frames == 86
    np.testing.assert_array_equal(edit.state.motion.features[26:36], state.motion.features[10:20])
    assert frames_of(edit.state, "A") == [10, 14, 19, 26, 30, 35]
    assert len({a.id for a in edit.state.anchors}) == len(edit.state.anchors) == 12
    assert insertion_frame(state.segments, 33, 70) == 40, "a drop inside a sign goes after it"
    inserted = insert_sign(state, 45, template_from_sign(state, 2), gap_before=3, gap_after=4)
    assert [s.gloss for s in inserted.state.segments] == ["A", "B", "C", "C"]
    assert inserted.state.segments[2] == Segment(48, 58, "C") and inserted.state.segments[3].start == 67


def test_replace_keeps_neighbours_and_takes_the_new_length() -> None:
    state = three_signs()
    template = template_from_sign(state, 0)
    template = type(template)("NEW", np.repeat(raised_arm_pose()[None], 14, 0), tuple(
        a.with_pose(raised_arm_pose()) for a in template.anchors))
    edit = replace_sign(state, 1, template)
    assert [s.gloss for s in edit.state.segments] == ["A", "NEW", "C"]
    assert edit.state.segments[1] == Segment(30, 44, "NEW") and edit.state.segments[2] == Segment(54, 64, "C")
    assert len(sign_anchor_ids(edit.state, 1)) == 3
    np.testing.assert_allclose(edit.state.motion.features[30:44], template.features, atol=1e-6)
    np.testing.assert_array_equal(edit.state.motion.features[:30], state.motion.features[:30])
    assert edit.regenerate == (19, 55)


@pytest.mark.parametrize(("lo", "hi", "expected"), [
    (10, 20, (5, 21)),  # an anchor exactly on hi (the neighbour's onset right after the span) bounds the window
    (10, 19, (5, 21)),
    (10, 21, (5, 36)),  # one frame later it is inside the span: the next anchor bounds it
    (5, 20, (0, 21)),  # an anchor on lo is inside the span: nothing before it bounds the window
    (6, 20, (5, 21)),
])
def test_the_regeneration_window_runs_from_the_anchor_before_to_the_first_anchor_at_or_after_the_span(
        lo: int, hi: int, expected: tuple[int, int]) -> None:
    """Anchors on frames 5, 20 and 35 of 50; the window [lo, hi) is an edited span. Written out by hand."""
    from signeditor.core.sign_edits import regeneration_window

    anchors = AnchorSet(Anchor(f, Motion.rest(1).features[0]) for f in (5, 20, 35))
    assert regeneration_window(anchors, lo, hi, 50) == expected


def test_dropping_a_sign_past_the_clips_end_appends_it() -> None:
    """A drop on a gap lands there; inside a sign, after it; on or past the last frame, at the end (frame 70 of a
    70-frame clip), so the new sign is appended rather than squeezed in before the clip's last frame."""
    state = three_signs()
    assert insertion_frame(state.segments, 25, 70) == 25
    assert insertion_frame(state.segments, 55, 70) == 60
    assert insertion_frame(state.segments, 70, 70) == 70
    assert insertion_frame(state.segments, 95, 70) == 70
    assert insertion_frame(state.segments, -4, 70) == 0
    template = template_from_sign(state, 0)
    edit = insert_sign(state, insertion_frame(state.segments, 95, 70), template)
    assert [(s.start, s.end, s.gloss) for s in edit.state.segments][-1] == (70, 80, "A")
    np.testing.assert_array_equal(edit.state.motion.features[:70], state.motion.features)
    # Appended with transitions asked for on both sides: 4 frames lead in, none trail after the clip's new end.
    edit = insert_sign(state, 70, template, gap_before=4, gap_after=5)
    assert edit.state.segments[-1].start == 74 and edit.state.n_frames == 84


def test_keys_after_an_edited_sign_move_with_the_first_frame_after_it() -> None:
    """B [30, 40) deleted, gap closed: a non-manual key on frame 40 (the first frame after B) moves to 30 with
    C's frames, one on 29 stays, one on 45 goes to 35 (by hand: 10 frames were cut)."""
    edit = delete_sign(three_signs(), 1, close_gap=True)
    assert edit.cut == (30, 40, 0)
    assert [edit.retimed(f) for f in (29, 40, 41, 45)] == [29, 30, 31, 35]
    # B stretched to 20 frames: its last frame 39 goes to 49 (30 + 9 * 19 / 9), the first frame after it (40) to 50.
    stretched = stretch_sign(three_signs(), 1, 20)
    assert [stretched.retimed(f) for f in (29, 30, 39, 40, 45)] == [29, 30, 49, 50, 55]


def test_deleting_a_one_frame_sign_leaves_one_hold_anchor() -> None:
    """A one-frame sign (a quick point) deleted with a hold: one hold anchor on its frame, not two on one frame."""
    state = three_signs()
    one = TimelineState(state.motion, AnchorSet(a for a in state.anchors if a.label != "B")
                        .added(Anchor(30, state.motion.features[30], label="B")),
                        (state.segments[0], Segment(30, 31, "B"), state.segments[2]))
    edit = delete_sign(one, 1, close_gap=False)
    assert [(a.frame, a.label) for a in edit.state.anchors if 20 <= a.frame < 50] == [(30, "hold")]


def test_deleting_the_first_sign_at_the_clips_start_lays_no_bridge_before_it() -> None:
    """Join frames go between two sides; a sign on the clip's first frames has nothing before it: deleting it with
    6 bridge frames asked for shortens the clip by the sign's 10 frames exactly, the next sign now first."""
    state = three_signs()
    first = TimelineState(state.motion, state.anchors, (Segment(0, 20, "A"), *state.segments[1:]))
    edit = delete_sign(first, 0, close_gap=True, bridge_frames=6)
    assert edit.state.n_frames == 70 - 20 and edit.state.segments[0].start == 10


def test_moving_a_sign_regenerates_where_it_was_and_where_it_goes() -> None:
    """B [30, 40) moved 5 frames right: the transitions to redo run from A's offset anchor (19) to C's onset
    anchor (50) inclusive, covering both B's old frames (now empty) and its new ones."""
    edit = move_sign(three_signs(), 1, 5)
    assert (edit.state.segments[1].start, edit.state.segments[1].end) == (35, 45)
    assert edit.regenerate == (19, 51)
    edit = move_sign(three_signs(), 1, -5)
    assert edit.regenerate == (19, 51)


def test_bridge_frames_lie_strictly_between_the_two_poses() -> None:
    """Five join frames from a wrist at 0 degrees to one at 60 degrees (the poses on either side, not part of the
    bridge): they turn 10, 20, 30, 40 and 50 degrees, so the join neither repeats the pose before nor the pose
    after (to 0.5 degree: a two-key cubic is a chord in quaternion space)."""
    from signeditor.core.motion import STREAM_SLICES
    from signeditor.core.sign_edits import bridge

    joint = STREAM_SLICES["right_hand"].start // 6
    poses = []
    for degrees in (0.0, 60.0):
        axis_angle = np.zeros((41, 3))
        axis_angle[joint] = [0.0, 0.0, np.radians(degrees)]
        poses.append(rotations.axis_angle_to_rot6d(axis_angle).reshape(-1).astype(np.float32))
    frames = bridge(poses[0], poses[1], 5)
    turned = rotations.rot6d_to_matrix(frames.reshape(5, -1, 6)[:, joint].astype(np.float64))
    degrees = np.degrees(np.arctan2(turned[:, 1, 0], turned[:, 0, 0]))
    np.testing.assert_allclose(degrees, [10.0, 20.0, 30.0, 40.0, 50.0], atol=0.5)


def test_the_join_after_a_deleted_sign_runs_from_the_frame_before_it_to_the_frame_after_it() -> None:
    """B [30, 40) deleted with 5 join frames: they bridge frame 29 (before B) to frame 40 (after B, now 35), never
    to a pose of the deleted sign (the bridge itself is checked by hand above)."""
    from signeditor.core.sign_edits import bridge

    state = three_signs()
    edit = delete_sign(state, 1, close_gap=True, bridge_frames=5)
    features = state.motion.features
    np.testing.assert_array_equal(edit.state.motion.features[30:35], bridge(features[29], features[40], 5))
    np.testing.assert_array_equal(edit.state.motion.features[35], features[40])


@pytest.mark.parametrize("edit", ["stretch", "delete"])
def test_a_lost_hand_stays_marked_on_its_own_stream_after_an_edit_elsewhere(edit: str) -> None:
    """A hand lost in the second sign is shaded on the hand's row only; an edit of the first sign shifts that mark
    with its frames (a stretch by 6 frames, a closed-gap delete by the sign's length) instead of dropping it."""
    from signeditor.core.motion import STREAMS

    n = 40
    lost = np.zeros((n, len(STREAMS)), bool)
    lost[25:30, STREAMS.index("left_hand")] = True
    motion = Motion(25.0, Motion.rest(n).features, filled=lost.any(axis=1), stream_filled=lost)
    state = TimelineState(motion, AnchorSet(), (Segment(5, 15, "A"), Segment(20, 35, "B")))
    new = (stretch_sign(state, 0, 16) if edit == "stretch" else delete_sign(state, 0, close_gap=True)).state.motion
    shift = 6 if edit == "stretch" else -10
    expected = np.zeros((new.n_frames, len(STREAMS)), bool)
    expected[25 + shift:30 + shift, STREAMS.index("left_hand")] = True
    assert new.stream_filled is not None
    np.testing.assert_array_equal(new.stream_filled, expected)
