"""Decoding of frame tags into segments, keyframe policies and segmentation metrics, on hand-made tags."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signeditor.core.keyframes import anchors_from_segments
from signeditor.core.motion import Motion
from signeditor.core.segmentation_decoding import (
    DecodingSettings,
    SplitSettings,
    decode_segments,
    segments_to_tags,
    split_unanchored_segments,
    tags_to_probabilities,
    wrist_speed_cue,
)
from signeditor.core.segmentation_metrics import BOUNDARY_TOLERANCE, match_boundaries, segmentation_scores
from signeditor.core.segments import IN_SIGN, NON_SIGN, Segment, segments_from_labels


def _decode(tags: list[int], **kwargs: float) -> list[tuple[int, int]]:
    settings = DecodingSettings(**kwargs)  # type: ignore[arg-type]
    return [(s.start, s.end) for s in decode_segments(tags_to_probabilities(np.array(tags)), settings)]


def test_rest_separated_and_back_to_back_signs_are_found() -> None:
    tags = [0] * 3 + [2] + [1] * 5 + [0] * 4 + [2] + [1] * 6 + [2] + [1] * 5 + [0] * 2
    assert _decode(tags) == [(3, 9), (13, 20), (20, 26)]


def test_short_flicker_is_dropped_and_short_dip_is_merged() -> None:
    tags = [0] * 4 + [1, 1] + [0] * 6 + [2] + [1] * 5 + [0] + [1] * 5 + [0] * 3
    # The 2-frame flicker at 4..6 is shorter than min_length; the 1-frame dip at 18 is bridged.
    assert _decode(tags, min_length=4, merge_gap=2) == [(12, 24)]
    assert _decode(tags, min_length=4, merge_gap=0) == [(12, 18), (19, 24)]


def test_start_too_close_to_a_boundary_does_not_split_off_a_fragment() -> None:
    tags = [0, 0, 2, 1, 1, 1, 1, 1, 1, 1, 2, 1, 0, 0]
    assert _decode(tags, min_length=4) == [(2, 12)]


def test_confidence_is_the_mean_sign_probability() -> None:
    probs = np.zeros((10, 3))
    probs[:, 0] = 1.0
    probs[2:8] = [0.2, 0.8, 0.0]
    probs[2] = [0.1, 0.0, 0.9]
    (segment,) = decode_segments(probs, DecodingSettings(min_length=2))
    assert (segment.start, segment.end) == (2, 8)
    assert segment.confidence == pytest.approx((0.9 + 5 * 0.8) / 6)


def test_decoding_inverts_segments_to_tags() -> None:
    rng = np.random.default_rng(3)
    for _ in range(20):
        segments, frame = [], int(rng.integers(0, 5))
        for _ in range(int(rng.integers(1, 6))):
            length = int(rng.integers(5, 15))
            segments.append(Segment(frame, frame + length))
            frame += length + int(rng.integers(0, 4)) * int(rng.random() < 0.6)
        tags = segments_to_tags(segments, frame + 3)
        decoded = decode_segments(tags_to_probabilities(tags), DecodingSettings(merge_gap=0))
        assert [(s.start, s.end) for s in decoded] == [(s.start, s.end) for s in segments]
        assert segments_from_labels(tags) == segments


def _motion(n: int) -> Motion:
    features = np.random.default_rng(0).normal(size=(n, 246)).astype(np.float32)
    return Motion(25.0, features)


def test_onset_middle_offset_policy_poses_and_labels() -> None:
    motion = _motion(40)
    segments = [Segment(5, 16, "HOUSE"), Segment(16, 30)]
    anchors = anchors_from_segments(motion, segments)
    assert anchors.frames == [5, 10, 15, 16, 22, 29]
    assert [a.label for a in anchors][:3] == ["HOUSE onset", "HOUSE middle", "HOUSE offset"]
    assert anchors[3].label == "SIGN2 onset"
    for anchor in anchors:
        np.testing.assert_array_equal(anchor.pose, motion.features[anchor.frame])


def test_onset_offset_and_every_n_policies() -> None:
    motion = _motion(40)
    segments = [Segment(2, 20, "A")]
    assert anchors_from_segments(motion, segments, policy="onset_offset").frames == [2, 19]
    assert anchors_from_segments(motion, segments, policy="every_n", every=8).frames == [2, 10, 18, 19]
    with pytest.raises(ValueError, match="policy"):
        anchors_from_segments(motion, segments, policy="random")


def test_shared_boundary_frame_gives_one_anchor() -> None:
    motion = _motion(20)
    anchors = anchors_from_segments(motion, [Segment(0, 6, "A"), Segment(5, 12, "B")], policy="onset_offset")
    assert anchors.frames == [0, 5, 11]
    assert anchors[1].label == "A offset"


def test_metrics_on_hand_made_segments() -> None:
    truth = [[Segment(0, 10), Segment(10, 20), Segment(30, 40)]]
    perfect = segmentation_scores(truth, truth)
    assert perfect["frame_f1"] == 1.0 and perfect["segment_f1_iou50"] == 1.0 and perfect["mean_iou"] == 1.0
    # One sign found exactly, two true signs merged into one prediction (IoU 0.5 with each, matched once).
    predicted = [[Segment(0, 20), Segment(30, 40)]]
    scores = segmentation_scores(predicted, truth)
    assert scores["frame_f1"] == 1.0
    assert scores["segment_f1_iou50"] == pytest.approx(2 * 2 / (2 + 3))
    assert scores["mean_iou"] == pytest.approx((0.5 + 0.5 + 1.0) / 3)
    assert scores["sign_count_abs_err"] == 1.0
    # Frames labelled unknown are left out of frame F1.
    labels = [np.array([1] * 20 + [-1] * 10 + [1] * 10)]
    shifted = [[Segment(0, 20), Segment(20, 40)]]
    assert segmentation_scores(shifted, truth, labels)["frame_f1"] == 1.0
    assert segmentation_scores(shifted, truth)["frame_f1"] < 1.0


def test_speed_baseline_finds_nothing_at_rest_and_only_cuts_inside_raised_stretches() -> None:
    from signeditor.core.speed_baseline import speed_minima_segments
    from signeditor.ml.fast.synthetic import synthetic_motion

    assert speed_minima_segments(Motion.rest(50)) == []
    rng = np.random.default_rng(0)
    for _ in range(5):
        motion, truth = synthetic_motion(rng, 3, rest_between=True)
        predicted = speed_minima_segments(motion)
        assert predicted
        # Each predicted segment lies within a sign plus its raise and lower movements (at most 8 frames each).
        for seg in predicted:
            assert any(t.start - 8 <= seg.start and seg.end <= t.end + 8 for t in truth)


def _min_jerk(n: int) -> np.ndarray:
    """Fraction of a minimum-jerk movement completed at each of ``n + 1`` samples: speed 0 at both ends."""
    t = np.linspace(0.0, 1.0, n + 1)
    return 10 * t**3 - 15 * t**4 + 6 * t**5


def _back_to_back_signs(lengths: list[int], rest: int, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """Right-wrist path (T, 2, 3) of signs that follow each other without a rest, each one minimum-jerk stroke in
    its own direction (the hand slows to a stop where one sign ends and the next begins), then ``rest`` still
    frames; and (T, 3) probabilities saying "in sign" over all the signs with no sign-start anywhere, the way FAST
    reads real continuous signing."""
    directions = np.array([[1.0, 0.3, 0.0], [-0.4, 1.0, 0.2], [0.2, -1.0, 0.5], [-1.0, 0.1, -0.3]])
    points = [np.zeros(3)]
    for k, n in enumerate(lengths):
        stroke = points[-1] + 0.4 * _min_jerk(n)[1:, None] * directions[k % len(directions)]
        points.extend(stroke)
    points.extend([points[-1]] * rest)
    right = np.array(points[: sum(lengths) + rest]) + 0.002 * np.arange(sum(lengths) + rest)[:, None] / fps
    wrists = np.stack([np.zeros_like(right), right], axis=1)
    probs = np.zeros((len(right), 3))
    probs[: sum(lengths), IN_SIGN] = 0.98
    probs[: sum(lengths), NON_SIGN] = 0.02
    probs[sum(lengths) :, NON_SIGN] = 1.0
    return wrists, probs


def test_three_back_to_back_signs_merged_by_the_plain_decoder_are_split_at_their_boundaries() -> None:
    fps, lengths = 25.0, [14, 18, 12]
    wrists, probs = _back_to_back_signs(lengths, rest=10, fps=fps)
    true_bounds = np.cumsum([0, *lengths])  # 0, 14, 32, 44
    settings = DecodingSettings(sign_threshold=0.4, start_threshold=0.5, min_length=3, merge_gap=2)
    plain = decode_segments(probs, settings)
    assert [(s.start, s.end) for s in plain] == [(0, 44)]  # the old decoding: one bar over three signs
    split = split_unanchored_segments(plain, probs, wrists, fps, settings, SplitSettings())
    assert len(split) == 3
    found = [split[0].start] + [s.end for s in split]
    assert found[0] == 0 and found[-1] == 44
    assert np.all(np.abs(np.array(found) - true_bounds) <= 1)


def test_a_long_sign_whose_start_was_seen_or_that_rises_from_rest_is_kept_whole() -> None:
    fps = 25.0
    wrists, probs = _back_to_back_signs([20, 20, 20], rest=10, fps=fps)  # one 2.4 s sign with two stops inside
    settings = DecodingSettings(sign_threshold=0.4, min_length=3)
    with_start = probs.copy()
    with_start[0] = [0.0, 0.1, 0.9]
    (whole,) = decode_segments(with_start, settings)
    assert split_unanchored_segments([whole], with_start, wrists, fps, settings) == [whole]
    after_rest = np.concatenate([np.tile([[1.0, 0.0, 0.0]], (5, 1)), probs])
    rest_wrists = np.concatenate([np.repeat(wrists[:1], 5, axis=0), wrists])
    (whole,) = decode_segments(after_rest, settings)
    assert whole.start == 5
    assert split_unanchored_segments([whole], after_rest, rest_wrists, fps, settings) == [whole]


@pytest.mark.parametrize(("start_probability", "expected"), [(0.5, [(2, 10), (10, 20)]), (0.49, [(2, 20)])])
def test_a_sign_start_exactly_at_the_threshold_cuts_and_just_below_it_does_not(
        start_probability: float, expected: list[tuple[int, int]]) -> None:
    """Two back-to-back signs (frames 2-9 and 10-19, no rest between): frame 10's sign-start probability is
    exactly start_threshold (0.5), which counts as "at or above", as the sign threshold does; at 0.49 the two
    stay one sign."""
    probs = np.zeros((22, 3))
    probs[:, NON_SIGN] = 1.0
    probs[2:20] = [0.0, 1.0, 0.0]
    probs[10] = [0.0, 1.0 - start_probability, start_probability]
    settings = DecodingSettings(start_threshold=0.5, min_length=4, min_start_distance=4)
    assert [(s.start, s.end) for s in decode_segments(probs, settings)] == expected


def test_a_one_frame_dip_is_no_rest_so_a_long_sign_after_it_is_still_split() -> None:
    """With merge_gap 0 a one-frame dip separates two signs, but one frame is no rest: the 60-frame sign after it
    (three strokes, no sign-start seen) is split into three like one that follows a sign directly; after a real
    rest (two frames) it would be trusted whole."""
    fps = 25.0
    wrists, probs = _back_to_back_signs([20, 20, 20], rest=10, fps=fps)
    before = 20  # a previous sign, hands still, then one dip frame
    probs = np.concatenate([np.tile([[0.02, 0.98, 0.0]], (before, 1)), [[1.0, 0.0, 0.0]], probs])
    wrists = np.concatenate([np.repeat(wrists[:1], before + 1, axis=0), wrists])
    settings = DecodingSettings(sign_threshold=0.4, min_length=3, merge_gap=0)
    first, second = decode_segments(probs, settings)
    assert (first.start, first.end, second.start, second.end) == (0, 20, 21, 81)
    assert len(split_unanchored_segments([second], probs, wrists, fps, settings)) == 3


@pytest.mark.parametrize(("labels", "expected"), [
    # A sign starts at a 2, or at a 1 after a non-sign frame (annotations that mark no starts, -1 unknown).
    ([0, 1, 1, 1, 0, 2, 1, 1, 0, 1, 1], [(1, 4), (5, 8), (9, 11)]),
    ([1, 1, 2, 1, -1, 1, 1], [(0, 2), (2, 4), (5, 7)]),
    ([2, 2, 2], [(0, 1), (1, 2), (2, 3)]),
])
def test_ground_truth_labels_give_signs_with_or_without_start_marks(labels: list[int],
                                                                    expected: list[tuple[int, int]]) -> None:
    assert [(s.start, s.end) for s in segments_from_labels(labels)] == expected


def test_wrist_speed_at_a_frame_is_the_step_that_arrives_there() -> None:
    """Wrists still for 5 frames, then the right one moves 1 cm a frame (25 fps: 0.25 m/s): unsmoothed, frames 0-4
    read 0 and frames 5 on 0.25 (the step from frame 4 to 5 arrives on frame 5)."""
    wrists = np.zeros((10, 2, 3))
    wrists[5:, 1, 0] = 0.01 * np.arange(1, 6)
    speed = wrist_speed_cue(wrists, 25.0, smooth_frames=1)
    np.testing.assert_allclose(speed, [0, 0, 0, 0, 0, 0.25, 0.25, 0.25, 0.25, 0.25], atol=1e-12)


def test_of_two_sign_starts_closer_than_min_start_distance_the_stronger_one_cuts() -> None:
    """One signing run over frames 1-30 with sign-start peaks on frame 1 (0.9), 14 (0.6) and 16 (0.9): 14 and 16
    are 2 frames apart (under min_start_distance 4), so they are one start, the stronger: the cut is at 16."""
    probs = np.zeros((32, 3))
    probs[:, NON_SIGN] = 1.0
    probs[1:31] = [0.0, 1.0, 0.0]
    for frame, start in ((1, 0.9), (14, 0.6), (16, 0.9)):
        probs[frame] = [0.0, 1.0 - start, start]
    settings = DecodingSettings(min_length=4, min_start_distance=4)
    assert [(s.start, s.end) for s in decode_segments(probs, settings)] == [(1, 16), (16, 31)]


def test_an_unparsed_sign_shorter_than_max_sign_seconds_is_not_split() -> None:
    """Two 7-frame strokes with a stop between, no sign-start seen: 14 frames is 0.56 s at 25 fps, under
    max_sign_seconds (0.6 s), so it stays one sign; at 12.5 fps the same frames last 1.12 s and are split."""
    settings = DecodingSettings(sign_threshold=0.4, min_length=3)
    for fps, pieces in ((25.0, 1), (12.5, 2)):
        wrists, probs = _back_to_back_signs([7, 7], rest=10, fps=fps)
        (whole,) = decode_segments(probs, settings)
        assert (whole.start, whole.end) == (0, 14)
        assert len(split_unanchored_segments([whole], probs, wrists, fps, settings)) == pieces, fps


@pytest.mark.parametrize(("frame", "kept_whole"), [(3, True), (4, False)])
def test_start_evidence_counts_up_to_the_window_after_a_signs_first_frame(frame: int, kept_whole: bool) -> None:
    """A 60-frame sign whose start the network marked weakly (0.2) on frame 3, within the evidence window of 3 frames
    after its first frame: its start was seen, it is kept whole; on frame 4, outside the window, it is split."""
    fps = 25.0
    wrists, probs = _back_to_back_signs([20, 20, 20], rest=10, fps=fps)
    probs[frame] = [0.02, 0.78, 0.2]
    settings = DecodingSettings(sign_threshold=0.4, min_length=3)
    (whole,) = decode_segments(probs, settings)
    split = split_unanchored_segments([whole], probs, wrists, fps, settings, SplitSettings(evidence_window=3))
    assert (split == [whole]) is kept_whole


def sign_frame_runs(is_sign: list[bool], merge_gap: int) -> list[tuple[int, int]]:
    """Runs of sign frames [start, end), a run joined to the one before when at most ``merge_gap`` frames apart."""
    runs: list[list[int]] = []
    for frame, sign in enumerate(is_sign):
        if not sign:
            continue
        if runs and frame - runs[-1][1] <= merge_gap:
            runs[-1][1] = frame + 1
        else:
            runs.append([frame, frame + 1])
    return [(a, b) for a, b in runs]


#: (in-sign, sign-start) probabilities per frame; quarters, so sums land exactly on the 0.5 thresholds.
FRAME_PROBABILITIES = st.sampled_from([(i / 4, s / 4) for i in range(5) for s in range(5) if i + s <= 4])


@settings(max_examples=300, deadline=None)
@given(st.lists(FRAME_PROBABILITIES, min_size=1, max_size=60))
def test_decoded_signs_cover_exactly_the_long_enough_runs_and_split_at_the_sign_start_peaks(frames) -> None:
    """Against a frame-by-frame rule written here: a frame is in a sign exactly when in-sign + sign-start reaches
    0.5 there or it lies in a gap of at most merge_gap frames between such frames, and that joined run is at least
    min_length long; signs are at least min_length long, never overlap, report the mean sign probability over
    their own frames, and meet exactly at the sign-start peaks at least min_length inside such a run that the
    next split (or the run's end) does not follow within min_length frames."""
    settings = DecodingSettings()
    probs = np.array([(1.0 - i - s, i, s) for i, s in frames])
    sign = [i + s >= settings.sign_threshold for i, s in frames]
    expected = np.zeros(len(frames), bool)
    for a, b in sign_frame_runs(sign, settings.merge_gap):
        if b - a >= settings.min_length:
            expected[a:b] = True
    segments = decode_segments(probs, settings)
    covered = np.zeros(len(frames), bool)
    for seg in segments:
        assert seg.end - seg.start >= settings.min_length
        assert not covered[seg.start:seg.end].any(), "signs overlap"
        covered[seg.start:seg.end] = True
        assert seg.confidence == pytest.approx(np.mean([i + s for i, s in frames[seg.start:seg.end]]))
    np.testing.assert_array_equal(covered, expected)
    splits = {after.start for before, after in itertools.pairwise(segments) if before.end == after.start}
    expected_splits = set()
    for a, b in sign_frame_runs(sign, settings.merge_gap):
        shortest = settings.min_length
        inside = [c for c in sign_start_peaks([s for _, s in frames], settings) if a + shortest <= c <= b - shortest]
        # A sign start splits the run unless the next split (or the run's end) follows within min_length frames.
        expected_splits |= {c for c, nxt in itertools.pairwise([*inside, b]) if nxt - c >= shortest}
    assert splits == expected_splits


def sign_start_peaks(start: list[float], settings: DecodingSettings) -> list[int]:
    """Frame by frame: in each stretch of frames whose sign-start probability reaches the threshold, its first
    strongest frame; a peak under min_start_distance after the last one kept replaces it only when stronger."""
    peaks: list[int] = []
    best = None
    for frame, value in enumerate([*start, 0.0]):
        if value >= settings.start_threshold and frame < len(start):
            best = frame if best is None or value > start[best] else best
            continue
        if best is not None:
            if not peaks or best - peaks[-1] >= settings.min_start_distance:
                peaks.append(best)
            elif start[best] > start[peaks[-1]]:
                peaks[-1] = best
        best = None
    return peaks


def most_matches_within(predicted: list[int], truth: list[int], tolerance: float) -> int:
    """The most one-to-one pairs at most ``tolerance`` apart, by trying every partner (or none) for each prediction."""
    def best(i: int, taken: frozenset[int]) -> int:
        if i == len(predicted):
            return 0
        partners = [j for j in range(len(truth)) if j not in taken and abs(predicted[i] - truth[j]) <= tolerance]
        return max([best(i + 1, taken)] + [1 + best(i + 1, taken | {j}) for j in partners])
    return best(0, frozenset())


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 20), max_size=5, unique=True), st.lists(st.integers(0, 20), max_size=5, unique=True))
def test_boundary_matches_are_the_most_one_to_one_pairs_within_the_tolerance(predicted, truth) -> None:
    """Against an exhaustive search: boundary F1 counts as many one-to-one pairs within 2 frames as exist. Closest
    pairs first is not enough: fingerspelled letters 4 frames apart, predicted at 2 and 6, truth at 0 and 4, pair
    up fully (2-0, 6-4) though 2-4 is as close."""
    expected = most_matches_within(predicted, truth, BOUNDARY_TOLERANCE)
    assert match_boundaries(np.array(predicted), np.array(truth), BOUNDARY_TOLERANCE) == expected
    assert match_boundaries(np.array([2, 6]), np.array([4, 0]), 2) == 2


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.integers(-1, 3), st.integers(2, 20)), min_size=1, max_size=4),
       st.sampled_from(["onset_offset", "onset_middle_offset", "every_n"]), st.integers(1, 9), st.randoms())
def test_anchors_are_placed_on_each_signs_policy_frames_once_labelled_by_the_earlier_sign(
        layout, policy: str, every: int, shuffle) -> None:
    """Against a per-sign list written here: onset on the first frame, offset on the last, middle with as many
    frames before it as after (the earlier on an even length), or every ``every`` frames from the onset plus the
    last; a frame two signs share (one's offset, the next one's onset) gets one anchor, named after the earlier
    sign (its gloss, else SIGN and its place in time); each anchor is posed as the motion is on its frame."""
    segments, frame = [], 0
    for k, (gap, length) in enumerate(layout):
        start = max(frame + gap, 0)
        segments.append(Segment(start, start + length, "" if k % 2 else f"G{k}"))
        frame = start + length
    motion = _motion(frame + 2)
    expected: dict[int, str] = {}
    for index, seg in enumerate(segments):
        name = seg.gloss or f"SIGN{index + 1}"
        last = seg.end - 1
        if policy == "every_n":
            roles = [(f, f"frame {f - seg.start}") for f in sorted({*range(seg.start, seg.end, every), last})]
        else:
            roles = [(seg.start, "onset"), *([(seg.start + (seg.length - 1) // 2, "middle")]
                                             if policy == "onset_middle_offset" else []), (last, "offset")]
        for f, role in roles:
            expected.setdefault(f, f"{name} {role}")
    shuffled = list(segments)
    shuffle.shuffle(shuffled)  # the order signs come in does not matter: time does
    anchors = anchors_from_segments(motion, shuffled, policy=policy, every=every)
    assert {a.frame: a.label for a in anchors} == expected and len(anchors) == len(expected)
    for anchor in anchors:
        np.testing.assert_array_equal(anchor.pose, motion.features[anchor.frame])


@settings(max_examples=60, deadline=None)
@given(st.integers(8, 60), st.data())
def test_an_unanchored_sign_is_cut_only_at_wrist_slowdowns_into_pieces_that_tile_it(length: int,
                                                                                   data: st.DataObject) -> None:
    """Checked piece by piece on a sign that never rests and has no start peak: the pieces tile the sign exactly (no
    frame lost or doubled, its confidence kept), each at least min_length long; each cut lies on a frame where the
    wrist speed is no higher than on the frames either side of it; a sign no longer than max_sign_seconds is kept
    whole; one the segmenter marked (a start peak on its first frame) is kept whole however long."""
    fps, settings, split = 25.0, DecodingSettings(), SplitSettings()
    n = length + 4
    heights = data.draw(st.lists(st.sampled_from([0.0, 0.1, 1.0]), min_size=n, max_size=n))  # pauses and moves
    wrists = np.zeros((n, 2, 3))
    wrists[:, 1, 1] = np.cumsum(heights) * 0.01  # the right wrist moves up, faster and slower
    probs = np.tile([0.0, 1.0, 0.0], (n, 1))
    sign = Segment(2, 2 + length, confidence=0.9)
    pieces = split_unanchored_segments([sign], probs, wrists, fps, settings, split)
    assert pieces[0].start == sign.start and pieces[-1].end == sign.end
    assert all(a.end == b.start for a, b in itertools.pairwise(pieces))
    assert all(p.length >= settings.min_length and p.confidence == 0.9 for p in pieces)
    speed = wrist_speed_cue(wrists, fps, split.smooth_frames)
    for cut in (p.start for p in pieces[1:]):
        assert speed[cut] <= speed[cut - 1] and speed[cut] <= speed[cut + 1]
    if length <= round(split.max_sign_seconds * fps):
        assert pieces == [sign]
    marked = probs.copy()
    marked[sign.start] = [0.0, 0.5, 0.5]
    assert split_unanchored_segments([sign], marked, wrists, fps, settings, split) == [sign]
