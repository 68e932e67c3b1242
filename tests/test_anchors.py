import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.motion import FEATURE_DIM, STREAM_SLICES, STREAMS, Motion


def pose(value: float) -> np.ndarray:
    return np.full(FEATURE_DIM, value, dtype=np.float32)


def test_anchor_sets_are_immutable_and_sorted() -> None:
    a, b = Anchor(10, pose(1)), Anchor(3, pose(2))
    first = AnchorSet([a])
    second = first.added(b)
    assert first.frames == [10] and second.frames == [3, 10]
    moved = second.replaced(a.moved_to(1))
    assert moved.frames == [1, 3] and second.frames == [3, 10]
    assert moved.by_id(a.id).frame == 1
    assert second.removed(b.id).frames == [10]


def test_keyframes_respect_streams_and_last_edit_wins() -> None:
    full = Anchor(2, pose(1))
    right_only = Anchor(2, pose(5), streams=frozenset({"right_hand"}))
    values, mask = AnchorSet([right_only, full]).keyframes(4)
    rh = STREAM_SLICES["right_hand"]
    assert mask[2].sum() == FEATURE_DIM and mask[[0, 1, 3]].sum() == 0
    assert np.all(values[2, rh] == 5) and np.all(values[2, STREAM_SLICES["body"]] == 1)


def test_anchor_validation() -> None:
    with pytest.raises(ValueError, match="246"):
        Anchor(0, np.zeros(5))
    with pytest.raises(ValueError, match="streams"):
        Anchor(0, pose(0), streams=frozenset({"tail"}))


def test_neighbours_and_clamping() -> None:
    anchors = AnchorSet([Anchor(f, Motion.rest(1).features[0]) for f in (0, 10, 20)])
    assert anchors.neighbours(10) == (0, 20)
    assert anchors.neighbours(0) == (None, 10)
    assert anchors.added(Anchor(50, pose(0))).clamped(30).frames[-1] == 29


def test_labels_and_segments_round_trip() -> None:
    from signeditor.core.segments import Segment, labels_from_segments, segments_from_labels

    segments = [Segment(0, 3), Segment(3, 7), Segment(10, 12)]
    labels = labels_from_segments(segments, 14)
    assert labels == [2, 1, 1, 2, 1, 1, 1, 0, 0, 0, 2, 1, 0, 0]
    assert segments_from_labels(labels) == segments
    assert segments_from_labels([1, 1, 0, -1, 1]) == [Segment(0, 2), Segment(4, 5)]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(-2, 11), st.sets(st.sampled_from(STREAMS), min_size=1)), max_size=8),
       st.integers(0, 10))
def test_keyframes_and_neighbours_match_a_frame_by_frame_list_model(placed, probe: int) -> None:
    """Against a model written per frame and stream: a keyed cell holds the pose of the latest-created anchor that
    pins that stream on that frame (anchors off the clip key nothing), unkeyed cells are zero and unmasked; the
    neighbours of a frame are the nearest anchor frames strictly before and after it, for a stream or any."""
    n = 10
    anchors = [Anchor(frame, np.full(FEATURE_DIM, k + 1.0, np.float32), frozenset(streams))
               for k, (frame, streams) in enumerate(placed)]  # created in order: later ids, larger values
    values, mask = AnchorSet(anchors).keyframes(n)
    for frame in range(n):
        for stream in STREAMS:
            pinning = [a for a in anchors if a.frame == frame and stream in a.streams]
            cols = STREAM_SLICES[stream]
            expected = max(pinning, key=lambda a: a.id).pose[cols] if pinning else np.zeros(cols.stop - cols.start)
            np.testing.assert_array_equal(values[frame, cols], expected)
            assert (mask[frame, cols] == float(bool(pinning))).all()
    for stream in (None, *STREAMS):
        frames = [a.frame for a in anchors if stream is None or stream in a.streams]
        before = max((f for f in frames if f < probe), default=None)
        after = min((f for f in frames if f > probe), default=None)
        assert AnchorSet(anchors).neighbours(probe, stream) == (before, after)
