"""Boundary tables for interval logic: each row is a hand-built case whose answer is written out here.

FAST decoding at exactly ``merge_gap`` and one more; non-manual presets replacing keys that sit on a span's
ends; lexicon phrases at the start, middle and end of a text; regeneration windows that start or end on an
anchor (anchored streams must equal the anchor pose bit for bit there).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.motion import Motion
from signeditor.core.nonmanual import LANES, FaceKey, keys_replacing_span, nonmanual_spans, preset_keys
from signeditor.core.segmentation_decoding import DecodingSettings, decode_segments, tags_to_probabilities
from signeditor.core.segments import IN_SIGN, NON_SIGN, SIGN_START


# --- FAST decoding: a dip of exactly merge_gap frames is inside one sign, one frame more splits it -------------
def _two_runs(gap: int, run: int = 8, lead: int = 3) -> np.ndarray:
    return np.array([NON_SIGN] * lead + [IN_SIGN] * run + [NON_SIGN] * gap + [IN_SIGN] * run + [NON_SIGN] * lead)


@pytest.mark.parametrize(("merge_gap", "gap", "expected"), [
    (1, 1, [(3, 20)]),
    (1, 2, [(3, 11), (13, 21)]),
    (2, 2, [(3, 21)]),
    (2, 3, [(3, 11), (14, 22)]),
    (3, 3, [(3, 22)]),
    (3, 4, [(3, 11), (15, 23)]),
    (5, 5, [(3, 24)]),
    (5, 6, [(3, 11), (17, 25)]),
])
def test_decoding_merges_a_dip_of_exactly_merge_gap_and_splits_one_frame_more(merge_gap: int, gap: int,
                                                                              expected: list[tuple[int, int]]):
    settings = DecodingSettings(merge_gap=merge_gap, min_length=4)
    segments = decode_segments(tags_to_probabilities(_two_runs(gap)), settings)
    assert [(s.start, s.end) for s in segments] == expected


def _tags(*runs: tuple[int, int]) -> np.ndarray:
    return np.concatenate([np.full(length, tag) for tag, length in runs])


@pytest.mark.parametrize(("tags", "expected"), [
    # A sign-start inside a run cuts it when the piece after it is exactly min_length (4) frames long...
    (_tags((NON_SIGN, 2), (IN_SIGN, 8), (SIGN_START, 1), (IN_SIGN, 3), (NON_SIGN, 2)), [(2, 10), (10, 14)]),
    # ...and not when it is one frame shorter (the flicker stays in the sign before it).
    (_tags((NON_SIGN, 2), (IN_SIGN, 8), (SIGN_START, 1), (IN_SIGN, 2), (NON_SIGN, 2)), [(2, 13)]),
    # A lone run of exactly min_length frames is a sign; one frame shorter is dropped.
    (_tags((NON_SIGN, 3), (IN_SIGN, 4), (NON_SIGN, 3)), [(3, 7)]),
    (_tags((NON_SIGN, 3), (IN_SIGN, 3), (NON_SIGN, 3)), []),
    # Two sign-starts exactly min_start_distance (4) apart both cut; 3 apart, the second is the same sign's.
    (_tags((SIGN_START, 1), (IN_SIGN, 3), (SIGN_START, 1), (IN_SIGN, 5), (NON_SIGN, 2)), [(0, 4), (4, 10)]),
    (_tags((SIGN_START, 1), (IN_SIGN, 2), (SIGN_START, 1), (IN_SIGN, 6), (NON_SIGN, 2)), [(0, 10)]),
])
def test_decoding_at_exactly_min_length_and_min_start_distance(tags: np.ndarray, expected: list[tuple[int, int]]):
    settings = DecodingSettings(min_length=4, min_start_distance=4, merge_gap=2)
    segments = decode_segments(tags_to_probabilities(tags), settings)
    assert [(s.start, s.end) for s in segments] == expected


# --- non-manual presets: keys on the span's ends are replaced, keys one frame outside are kept -------------------
def _old_keys(lane: str, frames: list[int]) -> list[FaceKey]:
    return [FaceKey(f, lane, np.full(len(LANES[lane]), 0.3), label="old") for f in frames]


@pytest.mark.parametrize("preset", ["yes/no question", "wh-question", "negation", "topic", "conditional",
                                    "role shift", "mouthing"])
def test_a_preset_replaces_its_lanes_keys_on_both_span_ends_and_keeps_those_outside(preset: str):
    start, end = 10, 22
    new = preset_keys(preset, start, end, word="hallo")
    lanes = {k.lane for k in new}
    frames = [start - 1, start, start + 1, end - 1, end, end + 1]
    old = [k for lane in LANES for k in _old_keys(lane, frames)]
    result = keys_replacing_span(old, new, start, end)
    kept_old = {(k.lane, k.frame) for k in result if k.label == "old"}
    expected = {(lane, f) for lane in LANES for f in frames if lane not in lanes or not start <= f <= end}
    assert kept_old == expected
    assert sum(k.label != "old" for k in result) == len(new)


def test_replacing_a_preset_leaves_no_stale_span_on_the_annotation_tier(tmp_path: Path):
    """A topic over frames 5-20 replaced by a yes/no question over the same frames: the ELAN file read back by
    pympi has one non-manual annotation, the question's."""
    import pympi

    from signeditor.io.elan import NONMANUAL_TIER, write_elan

    keys = keys_replacing_span((), preset_keys("topic", 5, 20), 5, 20)
    keys = keys_replacing_span(keys, preset_keys("yes/no question", 5, 20), 5, 20)
    assert nonmanual_spans(keys) == [(5, 20, "yes/no question")]
    write_elan([], 25.0, tmp_path / "nm.eaf", 40, nonmanual=nonmanual_spans(keys))
    annotations = pympi.Elan.Eaf(str(tmp_path / "nm.eaf")).get_annotation_data_for_tier(NONMANUAL_TIER)
    assert [(a[0], a[1], a[2]) for a in annotations] == [(200, 800, "yes/no question")]


# --- lexicon phrases at the start, middle and end of a text ----------------------------------------------------
def _lexicon():
    from signeditor.io.lexicon import Lexicon, LexiconEntry

    rows = [("hallo", "HALLO"), ("morgen", "MORGEN"), ("guten morgen", "GUTEN-MORGEN"),
            ("auf wieder sehen", "AUF-WIEDERSEHEN"), ("essen", "ESSEN")]
    return Lexicon([LexiconEntry(Path(f"{g}.pose"), "de", "sgg", 0, 0, w, g) for w, g in rows])


@pytest.mark.parametrize(("text", "glosses"), [
    ("Hallo guten Morgen", ["HALLO", "GUTEN-MORGEN"]),
    ("guten Morgen Hallo", ["GUTEN-MORGEN", "HALLO"]),
    ("Hallo guten Morgen essen", ["HALLO", "GUTEN-MORGEN", "ESSEN"]),
    ("guten Morgen", ["GUTEN-MORGEN"]),
    ("Hallo auf wieder sehen", ["HALLO", "AUF-WIEDERSEHEN"]),
    ("auf wieder sehen Hallo", ["AUF-WIEDERSEHEN", "HALLO"]),
    ("essen auf wieder sehen essen", ["ESSEN", "AUF-WIEDERSEHEN", "ESSEN"]),
    ("Morgen Hallo guten Morgen", ["MORGEN", "HALLO", "GUTEN-MORGEN"]),
])
def test_multi_word_entries_are_found_at_the_start_middle_and_end(text: str, glosses: list[str]):
    from signeditor.drafts.plan import Planner

    plan = Planner(_lexicon(), "de", "sgg").plan(text)
    assert [s.label for s in plan.signs] == glosses


# --- regeneration windows that begin or end on an anchor -------------------------------------------------------
def _generators() -> list:
    from test_kf2p_generator import _generator

    from signeditor.ml.kf2p.api import InterpolationGenerator

    return [pytest.param(lambda: _generator(), id="kf2p"), pytest.param(InterpolationGenerator, id="interpolation")]


@pytest.fixture(scope="module")
def clip() -> tuple[Motion, AnchorSet]:
    from signeditor.ml.kf2p.synthetic import synthetic_clip

    features, _ = synthetic_clip(np.random.default_rng(3), 60)
    return Motion(25.0, features), AnchorSet(Anchor(f, features[f]) for f in range(0, 60, 10))


@pytest.mark.parametrize("make", _generators())
@pytest.mark.parametrize("window", [(20, 33), (14, 21), (20, 21), (0, 11), (50, 60)])
def test_anchored_streams_are_exact_on_a_windows_first_and_last_frame(clip, make, window: tuple[int, int]):
    """Anchors sit on frames 0, 10, ..., 50; each is given another anchor's pose, so the motion there is wrong
    until regenerated. Every anchor inside the window equals its new pose bit for bit, whatever edge it is on;
    frames outside the window are untouched."""
    motion, anchors = clip
    poses = [a.pose for a in anchors]
    edited = AnchorSet(a.with_pose(poses[(k + 1) % len(poses)]) for k, a in enumerate(anchors))
    out = make().regenerate_between_anchors(motion, edited, frame_range=window, steps=2).features
    lo, hi = window
    inside = [a for a in edited if lo <= a.frame < hi]
    assert inside, "every window in the table holds an anchor"
    for anchor in inside:
        assert np.array_equal(out[anchor.frame], anchor.pose), f"anchor at {anchor.frame}, window {window}"
    assert np.array_equal(out[:lo], motion.features[:lo]) and np.array_equal(out[hi:], motion.features[hi:])


@pytest.mark.parametrize("make", _generators())
def test_a_right_hand_anchor_on_a_windows_first_frame_pins_that_stream_exactly(clip, make):
    from signeditor.core.motion import STREAM_SLICES

    motion, anchors = clip
    hand = STREAM_SLICES["right_hand"]
    pose = motion.features[45].copy()
    edited = anchors.added(Anchor(25, pose, frozenset({"right_hand"})))
    out = make().regenerate_between_anchors(motion, edited, frame_range=(25, 40), steps=2).features
    assert np.array_equal(out[25, hand], pose[hand])


@pytest.mark.parametrize("make", _generators())
def test_where_two_anchors_share_a_frame_the_newer_one_wins(clip, make):
    """The user's last action wins (AnchorSet.keyframes): a newer anchor on frame 20, and on the window's first
    frame, replaces the older one's pose there exactly."""
    motion, anchors = clip
    older = anchors[2]  # frame 20
    newer = Anchor(20, motion.features[45])
    assert newer.id > older.id
    out = make().regenerate_between_anchors(motion, anchors.added(newer), frame_range=(20, 35), steps=2).features
    assert np.array_equal(out[20], newer.pose)


def test_keys_from_older_files_make_a_span_only_from_two_or_more_same_label_keys():
    """Keys without a remembered span (files from before spans were stored): a run of same-label keys in a lane
    is one span from its first to its last key; a lone labelled key is no span (nothing to annotate), and hand
    keys (no label) make none."""
    def key(frame: int, label: str) -> FaceKey:
        return FaceKey(frame, "Brows", np.zeros(len(LANES["Brows"])), label=label)

    keys = [key(5, "topic"), key(9, "topic"), key(14, "topic"), key(20, "negation"), key(30, ""), key(31, "")]
    assert nonmanual_spans(keys) == [(5, 14, "topic")]


def test_head_lane_values_keep_their_sign():
    """The Head lane holds signed turns: a topic nods the head back (head_nod -0.12) through its hold, and read
    back between its keys the lane shows -0.12 there, not a value clipped at neutral."""
    from signeditor.core.nonmanual import lane_values_at

    held = lane_values_at(preset_keys("topic", 10, 30), "Head", np.array([5, 20, 30]))
    np.testing.assert_allclose(held, [[0.0, 0.0, 0.0], [-0.12, 0.0, 0.0], [0.0, 0.0, 0.0]], atol=1e-6)


@pytest.mark.parametrize("preset", ["yes/no question", "wh-question", "negation", "topic", "conditional",
                                    "role shift"])
def test_a_preset_on_the_shortest_span_is_neutral_at_both_ends_and_held_between(preset: str):
    """The shortest span a preset takes (3 frames, 10-12): neutral on 10 and 12, the preset's held values on 11
    (one-frame ramps), in every lane the preset uses (the negation's headshake turns on frames of its own)."""
    from signeditor.core.face import FACE_INDEX
    from signeditor.core.nonmanual import _HELD, face_with_keys, lane_values, lane_values_at

    keys = preset_keys(preset, 10, 12)
    for lane, weights in _HELD[preset].items():
        if lane == "Head":
            shown = lane_values_at(keys, lane, np.array([10, 11, 12]))
        else:
            columns = [FACE_INDEX[p] for p in LANES[lane]]
            shown = face_with_keys(None, keys, 13)[[10, 11, 12]][:, columns]
        held = lane_values(lane, **weights)
        np.testing.assert_allclose(shown, [np.zeros_like(held), held, np.zeros_like(held)], atol=1e-6)


def test_a_regeneration_window_reaching_the_clips_end_regenerates_its_last_frame():
    """Anchors on frames 10 and 20 of a 30-frame clip; the window from 15 to the end (30) is regenerated: after the
    last anchor the pose holds its pose, the clip's last frame (29) included."""
    from signeditor.core import rotations
    from signeditor.ml.kf2p.api import InterpolationGenerator

    rng = np.random.default_rng(2)
    features = rotations.axis_angle_to_rot6d(rng.normal(0, 0.3, (30, 41, 3))).reshape(30, -1).astype(np.float32)
    motion = Motion(25.0, features)
    anchors = AnchorSet([Anchor(10, features[10]), Anchor(20, features[3])])
    out = InterpolationGenerator("cubic").regenerate_between_anchors(motion, anchors, frame_range=(15, 30)).features
    np.testing.assert_allclose(out[21:], np.tile(features[3], (9, 1)), atol=1e-5)
    np.testing.assert_array_equal(out[:15], features[:15])


def test_a_question_too_short_for_a_preset_gets_no_marker_instead_of_an_error():
    """A draft of one two-frame sign typed as a question ("Ja?"): a preset needs 3 frames, so the text adds no
    question marker (and does not fail); from 3 frames on it does."""
    from signeditor.core.nonmanual import grammar_keys
    from signeditor.core.segments import Segment

    assert grammar_keys("Ja?", [Segment(0, 2, "JA")], 2) == ()
    assert {k.label for k in grammar_keys("Ja?", [Segment(0, 3, "JA")], 3)} == {"yes/no question"}


def test_a_window_is_generated_from_the_kept_frame_before_it_to_its_first_anchor():
    """The motion holds one pose up to frame 14; the window 15-29 has an anchor on frame 20 with another pose: the
    frames between come from frame 14's pose towards the anchor (the frame before the window pins the start), so
    frame 17 is well short of the anchor's pose, not already holding it (at most 45 % of the way, by angle)."""
    from signeditor.core import rotations
    from signeditor.ml.kf2p.api import InterpolationGenerator

    kept = Motion.rest(30)
    target = kept.features[0].copy()
    target[:6] = rotations.axis_angle_to_rot6d(np.array([0.0, 0.0, 1.0]))  # the first joint turned by 1 rad
    anchors = AnchorSet([Anchor(5, kept.features[5]), Anchor(20, target)])
    out = InterpolationGenerator("slerp").regenerate_between_anchors(kept, anchors, frame_range=(15, 30)).features

    def angle(a: np.ndarray, b: np.ndarray) -> float:
        relative = rotations.rot6d_to_matrix(a[:6].astype(np.float64)).T @ rotations.rot6d_to_matrix(
            b[:6].astype(np.float64))
        return float(np.arccos(np.clip((np.trace(relative) - 1.0) / 2.0, -1.0, 1.0)))

    assert np.array_equal(out[20], target) and np.array_equal(out[:15], kept.features[:15])
    assert 0.0 < angle(out[17], kept.features[14]) < 0.45 * angle(target, kept.features[14])


def test_a_headshake_faces_forward_on_both_ends_of_its_span():
    """The negation's headshake over frames 10-40 turns side to side in between but faces forward (turn 0) on its
    first and last frames, so it joins the unshaken head without a jump."""
    from signeditor.core.nonmanual import head_turns

    turns = head_turns(preset_keys("negation", 10, 40), 41)[:, 1]
    assert turns[10] == 0.0 and turns[40] == 0.0 and np.abs(turns[11:40]).max() > 0.0


@pytest.mark.parametrize("preset", ["topic", "negation", "mouthing"])
def test_a_preset_needs_three_frames(preset: str):
    """Neutral, held and neutral need three frames: a span of two is refused with the reason, three is laid."""
    with pytest.raises(ValueError, match="at least 3 frames"):
        preset_keys(preset, 10, 11, word="ja")
    assert {k.frame for k in preset_keys(preset, 10, 12, word="ja")} <= {10, 11, 12}
