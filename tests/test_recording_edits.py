"""Edits on a recording keep it: time warp between neighbours, displacements that fade, generation only where asked."""

from __future__ import annotations

import itertools
import math
from dataclasses import replace
from fractions import Fraction

import numpy as np
import pytest
from conftest import recorded_features, recorded_project
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from signeditor.core import rotations
from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.displacement import DisplacementKey, apply_displacements
from signeditor.core.motion import STREAM_SLICES, Motion, identity_features
from signeditor.core.recording import (
    Recording,
    edit_recording,
    recorded_frames,
    regenerate_keeping_recording,
    take_span,
    wrist_path_length,
)
from signeditor.core.recording_layout import take_position
from signeditor.core.skeleton import ROTATING_JOINTS
from signeditor.core.time_warp import resample_rotations, resample_values, source_times, warp_knots


def angle_between(a6d: np.ndarray, b6d: np.ndarray) -> np.ndarray:
    a = rotations.rot6d_to_matrix(np.asarray(a6d, dtype=np.float64).reshape(-1, 6))
    b = rotations.rot6d_to_matrix(np.asarray(b6d, dtype=np.float64).reshape(-1, 6))
    return np.linalg.norm(rotations.matrix_to_axis_angle(a @ np.swapaxes(b, -1, -2)), axis=-1)


def by_label(project, label: str):
    return next(a for a in project.anchors if a.label == label)


def test_warp_is_identity_where_nothing_moved_and_monotone_when_anchors_cross() -> None:
    times = source_times(warp_knots([(10, 10), (40, 40)], 60), 60)
    assert np.array_equal(times, np.arange(60.0))
    # 15 clip frames over a 59-frame take: frame 7 shows take time 7 * 58 / 14 = 29, a whole frame copied exactly
    # (the straight line's float arithmetic alone lands a hair below it, and the frame would be resampled).
    assert source_times(warp_knots([], 15, 59), 15)[7] == 29.0
    times = source_times(warp_knots([(10, 10), (45, 40), (70, 70)], 100), 100)
    assert np.array_equal(times[:11], np.arange(11.0)) and np.array_equal(times[70:], np.arange(70.0, 100.0))
    assert times[45] == 40.0 and np.all(np.diff(times) > 0)
    # Dragged past its neighbour: the pair that would fold time back is dropped, the rest kept.
    now, take = warp_knots([(10, 10), (30, 50), (40, 40), (60, 60)], 100)
    assert np.all(np.diff(take) >= 0) and len(now) == 5
    # A held pause (frames 20 and 30 both show take frame 30) is a non-decreasing run: it stays, and the anchor
    # dragged back past it (40 -> take 25) is the one dropped.
    now, take = warp_knots([(10, 10), (20, 30), (30, 30), (40, 25), (60, 60)], 100)
    assert now.tolist() == [0, 10, 20, 30, 60, 99] and take.tolist() == [0, 10, 30, 30, 60, 99]


def test_resampling_copies_whole_frames_and_slerps_between() -> None:
    axis_angle = np.zeros((3, 41, 3))
    axis_angle[1, 9] = [0.0, 0.0, 1.0]
    axis_angle[2, 9] = [0.0, 0.0, 2.0]
    features = rotations.axis_angle_to_rot6d(axis_angle).reshape(3, -1).astype(np.float32)
    out = resample_rotations(features, np.array([0.0, 1.5, 2.0]))
    assert np.array_equal(out[[0, 2]], features[[0, 2]])
    angle = rotations.rot6d_to_axis_angle(out[1].reshape(-1, 6))[9]
    np.testing.assert_allclose(angle, [0.0, 0.0, 1.5], atol=1e-5)  # halfway along the arc, not a shrunk blend


def test_displacement_is_exact_at_its_key_fades_to_nothing_at_the_neighbours() -> None:
    features = recorded_features(50)  # captured-looking float32 rotations: a needless round trip would change bits
    wrist = slice(6 * ROTATING_JOINTS.index("R_Wrist"), 6 * ROTATING_JOINTS.index("R_Wrist") + 6)
    target = features[25].copy()
    target[wrist] = rotations.axis_angle_to_rot6d(np.array([0.0, 0.8, 0.0]))
    keys = [DisplacementKey.between(10, features[10], features[10]), DisplacementKey.between(25, target, features[25]),
            DisplacementKey.between(40, features[40], features[40])]
    out = apply_displacements(features, keys)
    np.testing.assert_allclose(out[25], target, atol=1e-6)
    assert np.array_equal(out[:11], features[:11]) and np.array_equal(out[40:], features[40:])
    others = np.ones(features.shape[1], dtype=bool)
    others[wrist] = False
    assert np.array_equal(out[:, others], features[:, others]), "joints the edit did not change are not touched"
    angles = angle_between(out[10:26, wrist], features[10:26, wrist])
    assert np.all(np.diff(angles) >= -1e-6) and angles[1] < 0.02, "eases in from zero, no jump at the neighbour"


def test_moving_an_anchor_five_frames_keeps_the_recording_outside_and_its_path_inside() -> None:
    project = recorded_project()
    middle = by_label(project, "HAUS middle")
    moved = project.anchors.replaced(middle.moved_to(middle.frame + 5))
    edited = edit_recording(project.recording, moved).features
    take = project.motion.features
    before, after = project.anchors.neighbours(middle.frame)
    changed = np.flatnonzero(np.any(edited != take, axis=1))
    assert len(changed) and changed.min() > before and changed.max() < after
    np.testing.assert_array_equal(edited[middle.frame + 5], take[middle.frame], "the take's pose moved with it")
    ratio = wrist_path_length(edited) / wrist_path_length(take)
    assert abs(ratio - 1) < 0.05, ratio
    # Regenerating between anchors (what editing did before) loses the captured wobble: the measure can fail.
    from signeditor.core.interpolation import interpolate_between_anchors

    regenerated = interpolate_between_anchors(take.shape[0], moved, "cubic")
    regenerated_ratio = wrist_path_length(regenerated) / wrist_path_length(take)
    assert abs(regenerated_ratio - 1) > 0.05, regenerated_ratio


def test_a_pose_edit_is_a_displacement_that_keeps_the_captured_detail() -> None:
    project = recorded_project()
    offset = by_label(project, "HAUS offset")
    wrist = ROTATING_JOINTS.index("R_Wrist")
    pose = offset.pose.copy()
    turned = rotations.rot6d_to_matrix(pose[6 * wrist : 6 * wrist + 6].astype(np.float64))
    pose[6 * wrist : 6 * wrist + 6] = rotations.matrix_to_rot6d(rotations.axis_angle_to_matrix(
        np.array([0.0, 0.0, 0.6])) @ turned)
    edited = edit_recording(project.recording, project.anchors.replaced(offset.with_pose(pose))).features
    take = project.motion.features
    np.testing.assert_array_equal(edited[offset.frame], pose)
    before, after = project.anchors.neighbours(offset.frame)
    assert np.array_equal(edited[: before + 1], take[: before + 1]) and np.array_equal(edited[after:], take[after:])
    others = np.ones(edited.shape[1], dtype=bool)
    others[6 * wrist : 6 * wrist + 6] = False
    assert np.array_equal(edited[:, others], take[:, others]), "every other joint is the capture, bit for bit"
    # The wrist keeps its wobble: what the edit added is one smooth offset about one axis, rising to the key.
    new = rotations.rot6d_to_matrix(edited[before:after + 1, 6 * wrist : 6 * wrist + 6].astype(np.float64))
    old = rotations.rot6d_to_matrix(take[before:after + 1, 6 * wrist : 6 * wrist + 6].astype(np.float64))
    added = rotations.matrix_to_axis_angle(new @ np.swapaxes(old, -1, -2))
    angles = np.linalg.norm(added, axis=-1)
    key = offset.frame - before
    assert np.all(np.diff(angles[: key + 1]) >= -1e-6) and np.all(np.diff(angles[key:]) <= 1e-6)
    axes = added[angles > 1e-3] / angles[angles > 1e-3, None]
    np.testing.assert_allclose(axes, np.broadcast_to(axes[-1], axes.shape), atol=1e-4)


def test_regenerating_a_span_generates_only_there_and_restoring_brings_the_take_back() -> None:
    project = recorded_project()
    calls = []

    def generate(motion: Motion, anchors, span):
        calls.append(span)
        result = motion.copy()
        result.features[span[0] : span[1]] = motion.features[span[0]]  # a hold: clearly not the capture
        return result

    take_lo, take_hi = take_span(project.recording, project.anchors, 40, 71)
    regenerated = project.recording.with_captured(take_lo, take_hi, False)
    assert not recorded_frames(regenerated, project.anchors)[40:71].any()
    motion = regenerate_keeping_recording(regenerated, project.motion, project.anchors, (40, 71), generate)
    assert calls == [(40, 71)]
    assert np.array_equal(motion.features[:40], project.motion.features[:40])
    assert np.array_equal(motion.features[71:], project.motion.features[71:])
    assert not np.array_equal(motion.features[41:71], project.motion.features[41:71])
    restored = regenerated.with_captured(take_lo, take_hi, True)
    back = regenerate_keeping_recording(restored, motion, project.anchors, (40, 71), generate)
    assert calls == [(40, 71)] and np.array_equal(back.features, project.motion.features)


def test_gaps_the_importer_filled_are_generated_only_inside_an_edit() -> None:
    project = recorded_project()
    project.motion.filled[:6] = True
    project.motion.filled[50:55] = True

    recording = Recording.of(project.motion, project.anchors)
    calls = []

    def generate(motion: Motion, anchors, span):
        calls.append(span)
        return motion.copy()

    middle = by_label(project, "HAUS middle")
    moved = project.anchors.replaced(middle.moved_to(middle.frame + 5))
    regenerate_keeping_recording(recording, project.motion, moved, (10, 71), generate)
    gaps = np.flatnonzero(~recorded_frames(recording, moved))
    inside = gaps[gaps >= 10]
    assert inside[0] > 50 and inside[-1] < 60, "the gap moved with the stretched recording"
    assert calls == [(int(inside[0]), int(inside[-1]) + 1)], "only the gap inside the edit is generated"


@pytest.mark.shared_data
def test_anchor_move_on_the_long_mediapipe_fixture_keeps_the_recording(shared_signdata) -> None:
    from signeditor.bench.recording_edit import measure_anchor_move

    report = measure_anchor_move(shared_signdata / "fixtures" / "mediapipe_long.pose", delta=5)
    assert report["frames_changed_outside_neighbours"] == 0
    assert report["frames_changed"] > 0
    assert abs(report["right_wrist_path_ratio"] - 1) < 0.05, report
    assert abs(report["regenerated_right_wrist_path_ratio"] - 1) > abs(report["right_wrist_path_ratio"] - 1)


@pytest.mark.parametrize("at_end", [False, True])
def test_an_edit_on_the_first_or_last_anchor_fades_out_towards_the_clips_end(at_end: bool) -> None:
    """The clip's ends act as unedited keys one frame outside it: an offset of 0.8 rad on the only key, at frame 4
    (or 4 frames before the last), shows at the clip's end frame as smoothstep(1/5) = 0.104 of it (by hand),
    not as nothing (an unedited key on the end frame itself) and not held whole."""
    n = 30
    features = recorded_features(n)
    wrist = slice(6 * ROTATING_JOINTS.index("R_Wrist"), 6 * ROTATING_JOINTS.index("R_Wrist") + 6)
    frame = n - 5 if at_end else 4
    offset = rotations.axis_angle_to_matrix(np.array([0.0, 0.8, 0.0]))
    target = features[frame].copy()
    target[wrist] = rotations.matrix_to_rot6d(offset @ rotations.rot6d_to_matrix(features[frame, wrist]
                                                                                 .astype(np.float64)))
    out = apply_displacements(features, [DisplacementKey.between(frame, target, features[frame])])
    end = n - 1 if at_end else 0
    assert angle_between(out[[frame], wrist], features[[frame], wrist])[0] == pytest.approx(0.8, abs=1e-5)
    u = 1.0 / 5.0
    assert angle_between(out[[end], wrist], features[[end], wrist])[0] == pytest.approx(
        0.8 * u * u * (3 - 2 * u), abs=1e-4)


def test_pinning_a_hand_as_shown_on_a_moved_body_anchor_leaves_the_hands_timing_alone() -> None:
    """A body-only anchor (the take's copy pins only the body) moved from frame 30 to 33 warps the body; the right
    hand, which no take anchor between 10 and 50 pins, keeps the take's own timing. Pinning the right hand on that
    anchor with the pose shown there (what a lane pin does) must change nothing: the hand's warp uses only pairs
    whose take copy pins the hand, so the hand is still the take frame by frame, bit for bit."""
    take = Motion(25.0, recorded_features(60))
    ends = [Anchor(f, take.features[f]) for f in (10, 50)]
    body_only = Anchor(30, take.features[30], frozenset({"body"}))
    recording = Recording(take, AnchorSet([*ends, body_only]), np.ones((60, 4), bool))
    hand = STREAM_SLICES["right_hand"]
    pose = take.features[30].copy()
    pose[hand] = take.features[33, hand]  # the hand as shown at frame 33 (not moved: the take's own frame 33)
    pinned = AnchorSet([*ends, replace(body_only.moved_to(33).with_pose(pose), streams=frozenset({"body",
                                                                                                    "right_hand"}))])
    edited = edit_recording(recording, pinned)
    np.testing.assert_array_equal(edited.features[:, hand], take.features[:, hand])
    body = STREAM_SLICES["body"]
    np.testing.assert_array_equal(edited.features[33, body], take.features[30, body])  # the body did move


def longest_monotone_pairs(pairs: list[tuple[int, int]]) -> int:
    """Size of the largest subset of (now, take) pairs whose take frames never decrease with now, by trying all."""
    for size in range(len(pairs), 0, -1):
        for subset in itertools.combinations(sorted(pairs), size):
            if all(a[1] <= b[1] for a, b in itertools.pairwise(subset)):
                return size
    return 0


def shown_time(knots: list[tuple[int, int]], frame: int) -> Fraction:
    """The take time at ``frame`` on the straight line between the knots around it, in exact fractions."""
    for (n0, t0), (n1, t1) in itertools.pairwise(knots):
        if n0 <= frame <= n1:
            return Fraction(t0) if n1 == n0 else t0 + Fraction(t1 - t0, n1 - n0) * (frame - n0)
    raise AssertionError(f"frame {frame} outside the knots {knots}")


@settings(max_examples=150, deadline=None)
@given(st.integers(2, 40), st.integers(2, 120), st.data())
def test_the_warp_keeps_most_anchors_in_order_and_shows_whole_frames_where_time_runs_exact(
        n_frames: int, n_take: int, data: st.DataObject) -> None:
    """Against a brute-force search and exact fractions: the warp keeps as many anchor pairs as any order-keeping
    choice can (pairs off either clip dropped), pins the clip's ends to the take's, runs through every kept pair,
    and shows at each frame the take time of the straight line between the knots around it, a whole take frame
    exactly where that time is whole; values sampled there are that take row bit for bit, the rest blends."""
    nows = data.draw(st.lists(st.integers(-2, n_frames + 1), max_size=6, unique=True))
    pairs = [(now, data.draw(st.integers(-2, n_take + 1))) for now in nows]
    now, take = warp_knots(pairs, n_frames, n_take)
    knots = list(zip(now.astype(int).tolist(), take.astype(int).tolist(), strict=True))
    valid = [(a, b) for a, b in pairs if 0 <= a < n_frames and 0 <= b < n_take]
    inner = [k for k in knots if k in valid]
    assert len(inner) == longest_monotone_pairs(valid)
    assert knots[0][0] == 0 and knots[-1][0] == n_frames - 1
    assert knots[0] in valid or knots[0] == (0, 0)
    assert knots[-1] in valid or knots[-1] == (n_frames - 1, n_take - 1)
    assert all(a[0] < b[0] and a[1] <= b[1] for a, b in itertools.pairwise(knots))
    times = source_times((now, take), n_frames)
    for frame in range(n_frames):
        exact = shown_time(knots, frame)
        if exact.denominator == 1:
            assert times[frame] == exact
        else:
            assert times[frame] == pytest.approx(float(exact), abs=1e-9)
    values = np.random.default_rng(n_take).normal(size=(n_take, 3))
    sampled = resample_values(values, times)
    for frame, time in enumerate(times):
        lo = int(np.floor(time))
        if time == lo:
            assert np.array_equal(sampled[frame], values[lo])
        else:
            w = time - lo
            np.testing.assert_allclose(sampled[frame], (1 - w) * values[lo] + w * values[lo + 1], atol=1e-12)


@settings(max_examples=120, deadline=None)
@given(st.integers(2, 30), st.integers(2, 30), st.data())
def test_take_span_and_position_hold_every_take_frame_a_clip_span_shows(n_frames: int, n_take: int,
                                                                        data: st.DataObject) -> None:
    """Against exact fractions on the warp's knots: the take span of clip frames [lo, hi) runs from the first take
    frame any of them shows (or blends from) to one past the last, and a clip frame's take position is the first
    take frame at or after the time it shows (0 before the clip, the take's length after it)."""
    pose = identity_features(1)[0]
    take_frames = data.draw(st.lists(st.integers(0, n_take - 1), max_size=4, unique=True))
    placed = [Anchor(f, pose) for f in take_frames]
    now = [data.draw(st.integers(0, n_frames - 1)) for _ in placed]
    recording = Recording(Motion(25.0, identity_features(n_take)), AnchorSet(placed), np.ones((n_take, 4), bool),
                          n_frames)
    anchors = AnchorSet(a.moved_to(f) for a, f in zip(placed, now, strict=True))
    knots = list(zip(*(k.astype(int).tolist() for k in warp_knots(list(zip(now, take_frames, strict=True)),
                                                                  n_frames, n_take)), strict=True))
    shown = [shown_time(knots, frame) for frame in range(n_frames)]
    lo = data.draw(st.integers(0, n_frames - 1))
    hi = data.draw(st.integers(lo + 1, n_frames))
    touched = [f for t in shown[lo:hi] for f in (math.floor(t), math.ceil(t))]
    assert take_span(recording, anchors, lo, hi) == (min(touched), max(touched) + 1)
    for frame in range(-1, n_frames + 1):
        expected = 0 if frame <= 0 else n_take if frame >= n_frames else math.ceil(shown[frame])
        assert take_position(recording, anchors, frame) == expected


@settings(max_examples=40, deadline=None)
@given(st.data())
def test_anchors_moved_without_crossing_show_the_take_at_the_warped_times(data: st.DataObject) -> None:
    """Against exact fractions and scipy's rotations: whole-stream anchors moved in time (their poses untouched, none
    dragged past another) show, at every frame, the take frame the straight line between the anchors around it
    reaches, bit for bit where that time is a whole frame, else every joint slerped between the two take frames
    around it; nothing is displaced, and each frame is 'filled' as its nearest take frame is."""
    n = 24
    take = Motion(25.0, recorded_features(n, seed=7), filled=np.arange(n) % 5 == 0)
    take_frames = sorted(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=4, unique=True)))
    now = sorted(data.draw(st.lists(st.integers(0, n - 1), min_size=len(take_frames), max_size=len(take_frames),
                                    unique=True)))
    placed = [Anchor(f, take.features[f]) for f in take_frames]
    recording = Recording(take, AnchorSet(placed), np.ones((n, 4), bool))
    edited = edit_recording(recording, AnchorSet(a.moved_to(f) for a, f in zip(placed, now, strict=True)))
    knots = list(zip(now, take_frames, strict=True))
    knots = ([] if knots[0][0] == 0 else [(0, 0)]) + knots + ([] if knots[-1][0] == n - 1 else [(n - 1, n - 1)])
    joints = take.features.reshape(n, -1, 6)
    for frame in range(n):
        time = shown_time(knots, frame)
        assert edited.filled[frame] == take.filled[round(time)]
        if time.denominator == 1:
            np.testing.assert_array_equal(edited.features[frame], take.features[int(time)])
            continue
        lo = math.floor(time)
        a, b = (Rotation.from_matrix(rotations.rot6d_to_matrix(joints[f].astype(np.float64))) for f in (lo, lo + 1))
        expected = (a * Rotation.from_rotvec((a.inv() * b).as_rotvec() * float(time - lo))).as_matrix()  # slerp
        got = rotations.rot6d_to_matrix(edited.features[frame].reshape(-1, 6).astype(np.float64))
        np.testing.assert_allclose(got, expected, atol=1e-5)


@settings(max_examples=40, deadline=None)
@given(st.integers(2, 25), st.data())
def test_displacements_fade_by_a_smoothstep_slerp_between_keys_and_the_clips_ends(n: int, data: st.DataObject) -> None:
    """Against scipy's rotations frame by frame: between two keys (the clip's ends count as unedited keys one frame
    outside it) each joint is turned by the slerp of the two keys' offsets at smoothstep of the way along; where
    both keys around a frame leave a joint unedited, and on a key's own frame where it leaves it unedited, the joint
    keeps its exact value."""
    n_joints = 5
    features = recorded_features(n, seed=4)[:, : 6 * n_joints]
    frames = sorted(data.draw(st.lists(st.integers(0, n - 1), min_size=1, max_size=4, unique=True)))
    offsets = {-1: np.zeros((n_joints, 3)), n: np.zeros((n_joints, 3))}  # rotation vectors per key and joint
    keys = []
    for frame in frames:
        turned = data.draw(st.lists(st.booleans(), min_size=n_joints, max_size=n_joints))
        rotvec = np.random.default_rng(frame).normal(size=(n_joints, 3)) * 0.4 * np.array(turned)[:, None]
        offsets[frame] = rotvec
        old = rotations.rot6d_to_matrix(features[frame].reshape(-1, 6).astype(np.float64))
        new = rotations.matrix_to_rot6d(Rotation.from_rotvec(rotvec).as_matrix() @ old).reshape(-1)
        new[~np.repeat(turned, 6)] = features[frame][~np.repeat(turned, 6)]
        keys.append(DisplacementKey.between(frame, new, features[frame]))
    out = apply_displacements(features, keys)
    knots = [-1, *frames, n]
    for t in range(n):
        f0, f1 = next((a, b) for a, b in itertools.pairwise(knots) if a <= t < b)
        # Unedited on both sides, or on the key's own frame: the exact value.
        still = ~(offsets[f0].any(axis=1) | offsets[f1].any(axis=1)) | ((t == f0) & ~offsets[f0].any(axis=1))
        np.testing.assert_array_equal(out[t].reshape(-1, 6)[still], features[t].reshape(-1, 6)[still])
        u = (t - f0) / (f1 - f0)
        w = 3 * u**2 - 2 * u**3  # smoothstep
        a, b = Rotation.from_rotvec(offsets[f0]), Rotation.from_rotvec(offsets[f1])
        offset = a * Rotation.from_rotvec((a.inv() * b).as_rotvec() * w)
        current = Rotation.from_matrix(rotations.rot6d_to_matrix(features[t].reshape(-1, 6).astype(np.float64)))
        got = rotations.rot6d_to_matrix(out[t].reshape(-1, 6).astype(np.float64))
        np.testing.assert_allclose(got, (offset * current).as_matrix(), atol=2e-5)
