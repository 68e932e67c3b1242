"""Signs as frame spans (``core/segments``) against per-frame list models, over random layouts (Hypothesis).

- ``labels_from_segments``: a frame is "in a sign" when some sign covers it, "sign start" on a sign's first frame,
  "no sign" elsewhere; frames outside the clip are ignored.
- ``segments_from_labels``: a sign starts at a "sign start" or at an "in sign" frame after a non-sign frame (or
  the first frame), and runs while the frames stay "in sign"; -1 (unknown) is no sign. For non-overlapping signs
  it is the exact inverse of the above.
- ``segments_following``: a sign whose first or last frame carried an anchor that moved follows it (first frame to
  the onset anchor, last frame to the offset anchor), clipped so it stays at least one frame long and in the clip.
- ``iou``: frames both signs cover over frames either covers (sets of frames).
"""

from __future__ import annotations

from itertools import product

from hypothesis import given, settings
from hypothesis import strategies as st

from signeditor.core.segments import (
    APPROVED,
    DRAFT,
    IN_SIGN,
    NEEDS_WORK,
    NON_SIGN,
    SIGN_START,
    Segment,
    labels_from_segments,
    parse_review_status,
    segments_following,
    segments_from_labels,
)


@st.composite
def layouts(draw: st.DrawFn) -> tuple[list[Segment], int]:
    """Non-overlapping signs, often back to back, some past the clip's ends."""
    frame, segments = draw(st.integers(-2, 2)), []
    for k in range(draw(st.integers(0, 5))):
        length = draw(st.integers(1, 4))
        segments.append(Segment(frame, frame + length, f"S{k}", status=draw(st.sampled_from([DRAFT, APPROVED]))))
        frame += length + draw(st.sampled_from([0, 0, 1, 2]))
    return segments, draw(st.integers(1, max(frame + 1, 2)))


@settings(max_examples=150, deadline=None, derandomize=True)
@given(layouts())
def test_labels_mark_every_covered_frame_and_each_first_frame_and_read_back_to_the_same_signs(
        case: tuple[list[Segment], int]) -> None:
    segments, n = case
    labels = labels_from_segments(segments, n)
    for f in range(n):
        covering = [s for s in segments if s.start <= f < s.end]
        expected = SIGN_START if any(s.start == f for s in covering) else IN_SIGN if covering else NON_SIGN
        assert labels[f] == expected, f
    inside = [(max(s.start, 0), min(s.end, n)) for s in segments if max(s.start, 0) < min(s.end, n)]
    # A sign cut by the clip's start has no start frame: it reads back from frame 0 only when nothing precedes it.
    assert [(s.start, s.end) for s in segments_from_labels(labels)] == inside


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from([-1, NON_SIGN, IN_SIGN, SIGN_START]), max_size=14))
def test_signs_read_from_labels_start_at_a_start_tag_or_after_a_non_sign_and_run_while_in_sign(
        labels: list[int]) -> None:
    expected, start = [], None
    for f in range(len(labels) + 1):
        tag = labels[f] if f < len(labels) else NON_SIGN
        ends_here = start is not None and tag != IN_SIGN
        if ends_here:
            expected.append((start, f))
            start = None
        if tag == SIGN_START or (tag == IN_SIGN and start is None):
            start = f
    assert [(s.start, s.end) for s in segments_from_labels(labels)] == expected


@settings(max_examples=150, deadline=None, derandomize=True)
@given(layouts(), st.data())
def test_signs_follow_their_onset_and_offset_anchors_and_stay_in_the_clip(case: tuple[list[Segment], int],
                                                                          data: st.DataObject) -> None:
    segments, n = case
    segments = [s for s in segments if s.start >= 0 and s.end <= n]
    frames = sorted({f for s in segments for f in (s.start, s.end - 1)} | {0, n - 1})
    moves = {f: data.draw(st.integers(-3, n + 3)) for f in data.draw(st.lists(st.sampled_from(frames), unique=True))}
    followed = segments_following(segments, moves, n)
    assert len(followed) == len(segments)
    for old, new in zip(segments, followed, strict=True):
        first = moves.get(old.start, old.start)
        last = moves.get(old.end - 1, old.end - 1)
        first = min(max(first, 0), n - 1)
        frames_covered = range(first, min(max(last, first) + 1, n))
        assert (new.start, new.end) == (frames_covered.start, frames_covered.stop), (old, moves)
        assert (new.gloss, new.status, new.comments) == (old.gloss, old.status, old.comments)
        if (new.start, new.end) == (old.start, old.end):
            assert new is old


def test_iou_is_the_shared_frames_over_the_frames_either_covers() -> None:
    """Every pair of spans of 1-4 frames starting on frames 0-6: disjoint, touching, nested, equal."""
    for a, la, b, lb in product(range(7), range(1, 5), range(7), range(1, 5)):
        first, second = set(range(a, a + la)), set(range(b, b + lb))
        expected = len(first & second) / len(first | second)
        assert Segment(a, a + la).iou(Segment(b, b + lb)) == expected, (a, la, b, lb)


def test_review_statuses_are_read_from_any_spelling_and_unknown_ones_refused() -> None:
    table = {"draft": DRAFT, " Needs work ": NEEDS_WORK, "needs_work": NEEDS_WORK, "NEEDS-WORK": NEEDS_WORK,
             "needs   work": NEEDS_WORK, "Approved": APPROVED, "approve": None, "needswork": None, "": None,
             "done": None}
    for text, expected in table.items():
        assert parse_review_status(text) == expected, text
