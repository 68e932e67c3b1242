"""Gloss-guided alignment, boundary metrics, the count-given speed baseline and the 2D track features."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signeditor.core.gloss_alignment import DurationPrior, GlossAlignmentError, align_glosses, parse_glosses
from signeditor.core.hand_tracks import (
    TRACKS_FPS,
    frames_at_rate,
    normalise_tracks,
    resample_tracks,
    track_features,
    tracks_from_motion,
)
from signeditor.core.motion import Motion
from signeditor.core.segmentation_metrics import segmentation_scores, sign_boundaries
from signeditor.core.segments import IN_SIGN, NON_SIGN, SIGN_START, Segment
from signeditor.core.speed_baseline import speed_minima_given_count


def _noisy_probabilities(truth: list[Segment], n_frames: int, rng: np.random.Generator) -> np.ndarray:
    """Frame probabilities that favour the true tags (0.6-0.9) with the rest spread at random: built from the
    known segments, independently of the alignment."""
    probs = rng.uniform(0.05, 0.2, size=(n_frames, 3))
    for f in range(n_frames):
        probs[f, NON_SIGN] = rng.uniform(0.6, 0.9)
    for s in truth:
        probs[s.start:s.end, IN_SIGN] = rng.uniform(0.6, 0.9, size=s.length)
        probs[s.start:s.end, NON_SIGN] = rng.uniform(0.05, 0.2, size=s.length)
        probs[s.start, SIGN_START] = 0.9
    return probs / probs.sum(axis=1, keepdims=True)


def test_alignment_returns_exactly_the_glosses_in_order_on_known_boundaries() -> None:
    rng = np.random.default_rng(0)
    # Signs of 8-14 frames, some touching (no gap), some with a rest between.
    truth = [Segment(4, 14), Segment(14, 26), Segment(30, 38), Segment(38, 52), Segment(57, 66)]
    glosses = ["IX-1P", "SEE", "JOHN", "YESTERDAY", "IX"]
    probs = _noisy_probabilities(truth, 72, rng)
    aligned = align_glosses(probs, glosses, fps=30.0)
    assert [s.gloss for s in aligned] == glosses
    assert all(a.end <= b.start for a, b in itertools.pairwise(aligned))
    for got, want in zip(aligned, truth, strict=True):
        assert abs(got.start - want.start) <= 1 and abs(got.end - want.end) <= 1


@pytest.mark.parametrize("n_glosses", [1, 3, 8])
def test_alignment_lays_any_count_the_user_gives(n_glosses: int) -> None:
    """Fewer or more glosses than the clip shows: still exactly that many signs, inside the clip, in order."""
    truth = [Segment(4, 14), Segment(20, 30), Segment(36, 46)]
    probs = _noisy_probabilities(truth, 50, np.random.default_rng(1))
    glosses = [f"G{i}" for i in range(n_glosses)]
    aligned = align_glosses(probs, glosses, fps=25.0, prior=DurationPrior(weight=0.5))
    assert [s.gloss for s in aligned] == glosses
    assert aligned[0].start >= 0 and aligned[-1].end <= 50
    assert all(a.end <= b.start for a, b in itertools.pairwise(aligned))


def test_alignment_refuses_an_empty_list_and_more_glosses_than_frames() -> None:
    probs = np.full((5, 3), 1 / 3)
    with pytest.raises(GlossAlignmentError, match="empty"):
        align_glosses(probs, [], 25.0)
    with pytest.raises(GlossAlignmentError, match="6 glosses but only 5 frames"):
        align_glosses(probs, list("ABCDEF"), 25.0)
    assert [s.length for s in align_glosses(probs, list("ABCDE"), 25.0)] == [1] * 5


def test_parse_glosses_splits_on_spaces_and_commas() -> None:
    assert parse_glosses(" IX-1P, SEE  JOHN,,") == ["IX-1P", "SEE", "JOHN"]
    assert parse_glosses("  ") == []


def test_boundary_scores_on_a_hand_built_case() -> None:
    truth = [Segment(0, 10), Segment(12, 20), Segment(20, 30)]  # boundaries at 11 and 20
    assert list(sign_boundaries(truth)) == [11.0, 20.0]
    predicted = [Segment(0, 12), Segment(13, 25), Segment(25, 30)]  # boundaries at 12.5 and 25
    scores = segmentation_scores([predicted], [truth])
    # 12.5 is within 2 frames of 11, 25 is 5 frames from 20: one match of two on each side.
    assert scores["boundary_f1_2frames"] == pytest.approx(0.5)
    # Same count: paired by rank, errors 1.5 and 5.
    assert scores["boundary_err_median_frames"] == pytest.approx(3.25)


def test_speed_minima_given_count_cuts_at_the_slowest_frames() -> None:
    # A wrist whose speed swings between 0 and 2, stopping at frames 20 and 45: the two cuts fall there.
    t = np.arange(70, dtype=float)
    x = np.cumsum(1.0 - np.cos((t - 20) / 25 * 2 * np.pi)) / 30.0
    wrists = np.zeros((70, 2, 2))
    wrists[:, 1, 0] = x
    segments = speed_minima_given_count(wrists, 30.0, 3)
    assert segments[0].start == 0 and segments[-1].end == 70
    assert len(segments) == 3
    assert abs(segments[0].end - 20) <= 1 and abs(segments[1].end - 45) <= 1


def test_track_normalisation_removes_camera_distance_and_position() -> None:
    rng = np.random.default_rng(2)
    tracks = rng.normal(size=(40, 3, 2))
    moved = tracks * 37.0 + np.array([120.0, -80.0])  # another camera: pixels, elsewhere in the image
    assert np.allclose(normalise_tracks(tracks), normalise_tracks(moved))
    assert np.allclose(track_features(tracks, 30.0), track_features(moved, 30.0), atol=1e-4)
    # A clip at another frame rate is resampled to 30 fps: 50 frames at 25 fps last 2 s, so 60 frames.
    assert track_features(rng.normal(size=(50, 3, 2)), 25.0).shape[0] == 60


def test_projected_skeleton_puts_the_signers_right_hand_on_the_right() -> None:
    tracks = tracks_from_motion(Motion.rest(3))
    left, right, head = tracks[0]
    assert left[0] < head[0] < right[0]
    assert head[1] > max(left[1], right[1])  # y up: the head above the resting hands


def test_projected_tracks_agree_with_full_forward_kinematics() -> None:
    """The cheap chain (arms and neck only) against the whole skeleton's forward kinematics, on random poses."""
    from scipy.spatial.transform import Rotation

    from signeditor.core import rotations
    from signeditor.core.kinematics import forward_kinematics
    from signeditor.core.skeleton import JOINT_INDEX

    n_joints = Motion.rest(1).features.shape[1] // 6
    matrices = Rotation.random(12 * n_joints, random_state=5).as_matrix().reshape(12, n_joints, 3, 3)
    motion = Motion(25.0, rotations.matrix_to_rot6d(matrices).reshape(12, -1).astype(np.float32))
    points = forward_kinematics(motion.features)[:, [JOINT_INDEX[j] for j in ("L_Wrist", "R_Wrist", "Head")], :2]
    expected = np.stack([-points[..., 0], points[..., 1]], axis=-1)
    np.testing.assert_allclose(tracks_from_motion(motion), expected, atol=1e-5)


def test_alignment_keeps_a_sign_longer_than_the_usual_limit_whole() -> None:
    """A 12 s sign (an isolated sign with a long hold) beside a short one: not cut into pieces of the limit."""
    truth = [Segment(10, 310), Segment(320, 335)]
    probs = _noisy_probabilities(truth, 345, np.random.default_rng(6))
    aligned = align_glosses(probs, ["HOLD", "SHORT"], fps=25.0)
    for got, want in zip(aligned, truth, strict=True):
        assert abs(got.start - want.start) <= 1 and abs(got.end - want.end) <= 1


def test_realigned_signs_replace_sign_anchors_and_take_the_frames_of_user_anchors_they_land_on() -> None:
    """Old signs' anchors ("X onset" ...) give way to the new signs' onset/middle/offset anchors; the user's own
    anchors stay, except one on a frame a new anchor takes (frame 20, the new HAUS onset): one anchor per frame."""
    from signeditor.core.anchors import Anchor, AnchorSet
    from signeditor.core.keyframes import anchors_following_signs

    motion = Motion.rest(40)
    pose = motion.features[0]
    old = AnchorSet([Anchor(5, pose, label="ICH onset"), Anchor(12, pose, label="ICH offset"),
                     Anchor(20, pose, label="my key"), Anchor(33, pose, label="my other key")])
    new = anchors_following_signs(old, motion, [Segment(0, 10, "ICH"), Segment(20, 31, "HAUS")])
    assert [(a.frame, a.label) for a in new] == [
        (0, "ICH onset"), (4, "ICH middle"), (9, "ICH offset"), (20, "HAUS onset"), (25, "HAUS middle"),
        (30, "HAUS offset"), (33, "my other key")]


def test_each_aligned_sign_reports_the_mean_sign_probability_over_its_own_frames() -> None:
    """ICH on frames 0-9 (sign probability 0.9), a rest on 10-11, HAUS on 12-21 (0.7): the alignment lays the two
    signs there, and each one's confidence is the mean over its own frames only: 0.9 and 0.7."""
    probs = np.zeros((22, 3))
    probs[:10] = [0.1, 0.8, 0.1]
    probs[0] = [0.1, 0.1, 0.8]
    probs[10:12] = [1.0, 0.0, 0.0]
    probs[12:] = [0.3, 0.6, 0.1]
    probs[12] = [0.3, 0.1, 0.6]
    ich, haus = align_glosses(probs, ["ICH", "HAUS"], 25.0, DurationPrior(weight=0.0))
    assert (ich.start, ich.end, haus.start, haus.end) == (0, 10, 12, 22)
    assert ich.confidence == pytest.approx(0.9) and haus.confidence == pytest.approx(0.7)


def _best_by_enumeration(probs: np.ndarray, n_signs: int, fps: float, prior: DurationPrior) -> list[tuple[int, int]]:
    """The documented score maximised by trying every placement of ``n_signs`` signs (an independent oracle for
    the dynamic programme): gap frames -log P(non-sign), a sign's first frame -log P(start), its other frames
    -log P(in), plus the log-normal duration term of each sign."""
    logs = np.log(np.clip(probs, 1e-6, 1.0))
    n = len(probs)

    def duration(d: int) -> float:
        return -prior.weight * 0.5 * ((np.log(d / fps) - prior.log_mean_s) / prior.log_std_s) ** 2

    best: tuple[float, list[tuple[int, int]]] = (-np.inf, [])
    for cuts in itertools.combinations_with_replacement(range(n + 1), 2 * n_signs):
        spans = [(cuts[2 * k], cuts[2 * k + 1]) for k in range(n_signs)]  # back to back: one's end, next's start
        if any(a == b for a, b in spans):
            continue
        inside = np.zeros(n, bool)
        score = 0.0
        for a, b in spans:
            inside[a:b] = True
            score += logs[a, SIGN_START] + logs[a + 1:b, IN_SIGN].sum() + duration(b - a)
        score += logs[~inside, NON_SIGN].sum()
        if score > best[0]:
            best = (score, spans)
    return best[1]


@pytest.mark.parametrize("seed", range(6))
def test_alignment_is_the_best_placement_found_by_trying_them_all(seed: int) -> None:
    """Random frame probabilities over 9 frames, two or three glosses: the alignment's signs are exactly the
    placement that an exhaustive search over every placement scores best."""
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet([1.0, 1.0, 1.0], size=9)
    prior = DurationPrior()
    for glosses in (["A", "B"], ["A", "B", "C"]):
        found = [(s.start, s.end) for s in align_glosses(probs, glosses, 25.0, prior)]
        assert found == _best_by_enumeration(probs, len(glosses), 25.0, prior), glosses


def test_a_long_held_sign_among_short_ones_is_laid_whole() -> None:
    """An isolated sign held for 5 s (125 frames at 25 fps) between short ones, four glosses on 200 frames: it is
    laid whole (frames 25-149), up to the prior's 10 s limit, not cut to twice the clip's average sign length."""
    probs = np.tile([0.02, 0.96, 0.02], (200, 1))
    for start in (0, 25, 150, 175):
        probs[start] = [0.02, 0.02, 0.96]
    signs = align_glosses(probs, ["ICH", "WARTEN", "DU", "KOMMEN"], 25.0)
    assert [(s.start, s.end) for s in signs] == [(0, 25), (25, 150), (150, 175), (175, 200)]


@pytest.mark.parametrize("fps", [12.5, 24.0, 25.0, 29.97, 50.0, 60.0])
@pytest.mark.parametrize("n_frames", [2, 3, 17, 80])
def test_tracks_keep_their_timing_through_the_tracks_rate_and_back(fps: float, n_frames: int) -> None:
    """A hand moving along a straight line at constant speed is the same line at any frame rate: tracks resampled to
    the tracks' rate keep the clip's duration (to a frame) and sit on the line at each new frame's time (the last
    position held past the clip's end); values computed per tracks frame, read back at the clip's frames, are
    those of the tracks frame nearest in time."""
    times = np.arange(n_frames) / fps
    tracks = np.stack([np.stack([0.2 + 0.5 * times, 0.1 - 0.3 * times], -1)] * 3, axis=1)  # (T, 3, 2), metres
    resampled = resample_tracks(tracks, fps)
    duration = n_frames / fps
    assert abs(len(resampled) / TRACKS_FPS - duration) <= 0.5 / TRACKS_FPS + 1e-9
    at = np.minimum(np.arange(len(resampled)) / TRACKS_FPS, times[-1])
    np.testing.assert_allclose(resampled[:, 0, 0], 0.2 + 0.5 * at, atol=1e-9)
    np.testing.assert_allclose(resampled[:, 2, 1], 0.1 - 0.3 * at, atol=1e-9)
    stamps = np.arange(len(resampled)) / TRACKS_FPS  # a value per tracks frame: its own time
    back = frames_at_rate(stamps, n_frames, fps)
    assert len(back) == n_frames
    assert set(back) <= set(stamps)
    nearest = np.abs(stamps[None] - times[:, None]).min(axis=1)  # a tie between two tracks frames may go either way
    np.testing.assert_allclose(np.abs(back - times), nearest, atol=1e-9)


def _placements(n_frames: int, n_signs: int, max_len: int, first: int = 0):
    """Every way to lay ``n_signs`` non-overlapping spans of 1..max_len frames, in order, on frames first..n_frames."""
    if n_signs == 0:
        yield []
        return
    for a in range(first, n_frames):
        for b in range(a + 1, min(a + max_len, n_frames) + 1):
            for rest in _placements(n_frames, n_signs - 1, max_len, b):
                yield [(a, b), *rest]


def _placement_score(probs: np.ndarray, spans: list[tuple[int, int]], fps: float, prior: DurationPrior) -> float:
    """The documented score of one labelling, frame by frame in plain Python: a gap frame adds log P(non-sign),
    a sign's first frame log P(start), its other frames log P(in) (each probability floored at 1e-6), and each sign
    of d frames the log-normal term -weight/2 * ((log(d/fps) - mean) / std)**2."""
    def log(p: float) -> float:
        return float(np.log(min(max(p, 1e-6), 1.0)))

    tag = [NON_SIGN] * len(probs)
    score = 0.0
    for a, b in spans:
        tag[a] = SIGN_START
        tag[a + 1:b] = [IN_SIGN] * (b - a - 1)
        z = (np.log((b - a) / fps) - prior.log_mean_s) / prior.log_std_s
        score -= prior.weight * 0.5 * z * z
    return score + sum(log(probs[f][tag[f]]) for f in range(len(probs)))


_PROBABILITY_LEVELS = [0.0, 1e-7, 0.05, 0.2, 0.2, 0.5, 0.5, 0.9, 1.0]  # repeated levels give ties; 0 tests the floor


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.integers(1, 9), st.data())
def test_alignment_scores_best_of_every_placement_within_the_length_limit(n_frames: int, data) -> None:
    """What the user gets from "align these N glosses": exactly N signs named in the given order, inside the clip,
    not overlapping (touching allowed, gaps allowed, N = 1 and N = frames included), each reporting the mean of
    in-sign + sign-start over its own frames as its confidence, and the placement scores best of every placement
    (exhaustive search, frame-by-frame score written here) whose signs are at most the length limit: the prior's
    max_s in frames, at least 2 frames, raised to twice the clip's length per gloss (rounded up) when the glosses
    must be longer, never more than the clip. Probabilities come from a few levels (ties, exact 0 and 1);
    where several placements tie, any of them is right, so the found one's score is compared with the best."""
    n_signs = data.draw(st.integers(1, min(n_frames, 4)), label="n_signs")
    rows = data.draw(st.lists(st.tuples(*[st.sampled_from(_PROBABILITY_LEVELS)] * 3), min_size=n_frames,
                              max_size=n_frames), label="rows")
    probs = np.array(rows, dtype=np.float64)
    fps = data.draw(st.sampled_from([2.0, 10.0, 25.0, 29.97]), label="fps")
    prior = DurationPrior(log_mean_s=data.draw(st.sampled_from([-1.118, -2.0, 0.5]), label="mean"),
                          log_std_s=data.draw(st.sampled_from([0.424, 1.5]), label="std"),
                          weight=data.draw(st.sampled_from([0.0, 0.5, 1.0, 3.0]), label="weight"),
                          max_s=data.draw(st.sampled_from([0.01, 0.1, 0.15, 10.0]), label="max_s"))
    glosses = [f"G{k}-{data.draw(st.sampled_from(['X', 'Y']))}" for k in range(n_signs)]  # names may repeat
    limit = min(n_frames, max(2, round(prior.max_s * fps), -(-2 * n_frames // n_signs)))

    signs = align_glosses(probs, glosses, fps, prior)

    assert [s.gloss for s in signs] == glosses
    spans = [(s.start, s.end) for s in signs]
    assert spans[0][0] >= 0 and spans[-1][1] <= n_frames
    assert all(a < b <= c for (a, b), (c, _) in itertools.pairwise(spans))
    assert all(b - a <= limit for a, b in spans)
    for s in signs:
        assert s.confidence == pytest.approx(float(np.mean(probs[s.start:s.end, IN_SIGN] + probs[s.start:s.end,
                                                                                                  SIGN_START])))
    best = max(_placement_score(probs, p, fps, prior) for p in _placements(n_frames, n_signs, limit))
    assert _placement_score(probs, spans, fps, prior) == pytest.approx(best, rel=1e-9, abs=1e-9)


@pytest.mark.parametrize("n_frames", [1, 2, 7])
def test_as_many_glosses_as_frames_gives_one_frame_each_and_one_more_is_refused(n_frames: int) -> None:
    """N = frames: one sign per frame whatever the probabilities say; N = frames + 1 or N = 0: a clear error."""
    probs = np.tile([0.98, 0.01, 0.01], (n_frames, 1))
    glosses = [f"G{k}" for k in range(n_frames)]
    assert [(s.start, s.end, s.gloss) for s in align_glosses(probs, glosses, 25.0)] == [
        (f, f + 1, f"G{f}") for f in range(n_frames)]
    with pytest.raises(GlossAlignmentError, match=f"{n_frames + 1} glosses but only {n_frames} frames"):
        align_glosses(probs, [*glosses, "ONE-MORE"], 25.0)
    with pytest.raises(GlossAlignmentError, match="empty"):
        align_glosses(probs, [], 25.0)


@pytest.mark.parametrize(("long", "n_signs", "max_s", "limit"), [
    (5, 3, 0.01, 5),  # 7 frames, 3 glosses: the limit is twice 7/3 rounded up, 5 frames
    (6, 3, 0.01, 6),  # 8 frames: 16/3 rounded up
    (8, 4, 0.32, 8),  # 11 frames, 4 glosses: max_s (8 frames at 25 fps) is above twice the frames per gloss (6)
    (9, 4, 0.32, 8),  # 12 frames: a 9-frame sign is over the limit and cannot be laid whole
])
def test_a_sign_is_laid_whole_up_to_the_length_limit_and_no_longer(long: int, n_signs: int, max_s: float,
                                                                   limit: int) -> None:
    """One long sign then one-frame signs, each starting on a sure sign-start frame, no duration prior: the long
    sign is laid whole when it is within the limit (max_s in frames, or twice the clip's frames per gloss rounded up
    when that is more); one frame over it, the longest sign laid is exactly the limit."""
    n_frames = long + n_signs - 1
    probs = np.tile([0.02, 0.96, 0.02], (n_frames, 1))
    for start in [0, *range(long, n_frames)]:
        probs[start] = [0.02, 0.02, 0.96]
    signs = align_glosses(probs, [f"G{k}" for k in range(n_signs)], 25.0, DurationPrior(weight=0.0, max_s=max_s))
    if long <= limit:
        assert [(s.start, s.end) for s in signs] == [(0, long), *[(f, f + 1) for f in range(long, n_frames)]]
    else:
        assert max(s.length for s in signs) == limit


@pytest.mark.parametrize(("n_frames", "n_signs"), [(1, 1), (4, 1), (4, 2), (6, 3), (5, 5)])
def test_with_no_evidence_every_sign_is_one_frame_laid_as_late_as_possible(n_frames: int, n_signs: int) -> None:
    """Every probability 1 and no duration prior: every placement scores exactly the same, and the documented tie
    rule (each sign, from the last, ends and then starts as late as possible) lays one-frame signs on the last
    frames, the last gloss on the last frame."""
    signs = align_glosses(np.ones((n_frames, 3)), [f"G{k}" for k in range(n_signs)], 25.0,
                          DurationPrior(weight=0.0))
    assert [(s.start, s.end) for s in signs] == [(f, f + 1) for f in range(n_frames - n_signs, n_frames)]
