"""The residual gate: 0 gives exactly the cubic baseline, 1 the model's output, per stream and gap kind."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from conftest import plausible_features
from hypothesis import given, settings
from hypothesis import strategies as st

from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.ik import rest_pose_features
from signeditor.core.interpolation import interpolate_between_anchors, interpolate_keyframes
from signeditor.core.motion import STREAM_SLICES, STREAMS
from signeditor.ml.kf2p.end_tension import rest_weight
from signeditor.ml.kf2p.representation import (
    Normaliser,
    anchored_span,
    apply_residual_gate,
    build_conditioning,
    features_from_residual,
    gap_lengths,
    gap_timing,
    gate_weights,
    plain_cubic,
    residual_target,
    rest_gaps,
    stream_mask_from_columns,
)


def _anchored(n: int, frames: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray, AnchorSet]:
    truth = plausible_features(n, seed=5)
    mask = np.zeros_like(truth)
    mask[frames] = 1.0
    anchors = AnchorSet(Anchor(f, truth[f]) for f in frames)
    return truth, truth * mask, stream_mask_from_columns(mask), anchors


def test_gate_zero_is_the_cubic_baseline_and_one_the_model() -> None:
    frames = [0, 8, 16, 24, 31]
    truth, values, stream_mask, anchors = _anchored(32, frames)
    plain = plain_cubic(values, stream_mask)
    cubic = interpolate_between_anchors(32, anchors, "cubic")
    np.testing.assert_allclose(plain, cubic, atol=1e-6)
    model = plausible_features(32, seed=9)  # stands for the network's output: any valid motion
    model[frames] = truth[frames]
    np.testing.assert_allclose(apply_residual_gate(model, plain, np.zeros(4), stream_mask, values), cubic, atol=1e-5)
    np.testing.assert_allclose(apply_residual_gate(model, plain, np.ones(4), stream_mask, values), model, atol=1e-5)
    # Only the body kept: the hands are the cubic's, the body the model's.
    mixed = apply_residual_gate(model, plain, np.array([1.0, 0.0, 0.0, 0.0]), stream_mask, values)
    body, right = STREAM_SLICES["body"], STREAM_SLICES["right_hand"]
    np.testing.assert_allclose(mixed[:, body], model[:, body], atol=1e-5)
    np.testing.assert_allclose(mixed[:, right], cubic[:, right], atol=1e-5)
    np.testing.assert_array_equal(mixed[frames], truth[frames])


def test_rest_gaps_and_signing_gaps_take_their_own_gate() -> None:
    """A gap next to a clip-end anchor where the signer is at rest (hands hanging: the IK rest pose) takes the
    rest row; every other gap, and a window edge inside a clip, the signing row."""
    _, values, stream_mask, _ = _anchored(32, [2, 8, 16, 24, 30])
    values[2] = rest_pose_features()
    gate = np.array([[1.0, 0.5, 0.5, 1.0], [0.0, 0.25, 0.25, 0.0]])
    weights = gate_weights(gate, stream_mask, values, clip_ends=(True, False))
    rest_gap, signing = np.arange(0, 9), np.arange(9, 32)
    np.testing.assert_array_equal(weights[rest_gap], np.broadcast_to(gate[0], (len(rest_gap), 4)))
    np.testing.assert_array_equal(weights[signing], np.broadcast_to(gate[1], (len(signing), 4)))
    inside = gate_weights(gate, stream_mask, values, clip_ends=(False, False))
    np.testing.assert_array_equal(inside, np.broadcast_to(gate[1], (32, 4)))


def test_short_gaps_keep_the_cubic_and_long_gaps_the_model() -> None:
    """Bucketed by the anchors' spacing: with edge 8, gaps of 4 frames (keys close together, where the spline is
    already good) take bucket 0 (gate 0: the cubic), the 32-frame gap bucket 1 (gate 1: the model)."""
    frames = [0, 4, 8, 40, 44]
    truth, values, stream_mask, anchors = _anchored(45, frames)
    lengths = gap_lengths(stream_mask)
    assert lengths[2, 0] == 4 and lengths[20, 1] == 32 and lengths[42, 3] == 4 and lengths[8, 2] == 32
    plain = plain_cubic(values, stream_mask)
    cubic = interpolate_between_anchors(45, anchors, "cubic")
    model = plausible_features(45, seed=9)
    model[frames] = truth[frames]
    short_then_long = np.array([0.0] * 4 + [1.0] * 4)  # one row of buckets: every gap is a signing gap here
    gate = np.r_[short_then_long, short_then_long]  # rest row, signing row
    out = apply_residual_gate(model, plain, gate, stream_mask, values, (False, False), gap_edges=(8,))
    short, long = np.r_[1:4, 5:8, 41:44], np.arange(9, 40)
    np.testing.assert_allclose(out[short], cubic[short], atol=1e-5)
    np.testing.assert_allclose(out[long], model[long], atol=1e-5)
    np.testing.assert_array_equal(out[frames], truth[frames])
    # An edge above every gap puts them all in the short bucket: exactly the cubic.
    np.testing.assert_allclose(apply_residual_gate(model, plain, gate, stream_mask, values, (False, False),
                                                   gap_edges=(40,)), cubic, atol=1e-5)


def test_a_gap_exactly_on_a_bucket_edge_is_in_the_lower_bucket() -> None:
    """Edges are inclusive upper bounds ("gaps of 8 frames or fewer keep cubic"): keys every 8 frames, edge 8, gate 0
    below the edge and 1 above it must give exactly the cubic."""
    frames = [0, 8, 16, 24]
    truth, values, stream_mask, anchors = _anchored(25, frames)
    assert set(gap_lengths(stream_mask)[:, 0]) == {8}
    model = plausible_features(25, seed=3)
    model[frames] = truth[frames]
    below_then_above = np.array([0.0] * 4 + [1.0] * 4)
    gate = np.r_[below_then_above, below_then_above]
    out = apply_residual_gate(model, plain_cubic(values, stream_mask), gate, stream_mask, values, (False, False),
                              gap_edges=(8,))
    np.testing.assert_allclose(out, interpolate_between_anchors(25, anchors, "cubic"), atol=1e-5)


def test_only_a_fully_rested_end_anchor_makes_a_rest_gap() -> None:
    """Body anchors on frames 0, 10 and 20 of 21: the last one is the rest pose (arms down), the first has every
    joint 60 % of the way from rest to the T-pose (rest weight about 0.8, checked). Only the gap to the fully
    rested end is a rest gap (frames 10-20); the gap from the half-raised start is signing."""
    from signeditor.core import rotations
    from signeditor.core.motion import STREAMS
    from signeditor.ml.kf2p.end_tension import rest_weight
    from signeditor.ml.kf2p.representation import rest_gaps

    rest = rest_pose_features()
    down = rotations.rot6d_to_matrix(rest.reshape(-1, 6).astype(np.float64))
    half_raised = rotations.matrix_to_rot6d(rotations.slerp_matrices(down, np.broadcast_to(np.eye(3), down.shape),
                                                                     np.full(len(down), 0.6))).reshape(-1)
    assert 0.5 < rest_weight(half_raised.astype(np.float32)) < 1.0 and rest_weight(rest) == 1.0
    values = np.zeros((21, rest.shape[0]), np.float32)
    values[0], values[10], values[20] = half_raised, rest, rest
    stream_mask = np.zeros((21, len(STREAMS)), np.float32)
    stream_mask[[0, 10, 20], STREAMS.index("body")] = 1.0
    assert np.flatnonzero(rest_gaps(stream_mask, values)).tolist() == list(range(10, 21))


@functools.cache
def _motion(seed: int) -> np.ndarray:
    """30 frames of signing-like motion (cached: hypothesis draws many clips)."""
    return plausible_features(30, seed=seed)


def _neighbours(keys: list[int], t: int) -> tuple[int, int] | None:
    """The keys either side of frame ``t`` (a key frame starts the gap after it); None outside [first, last)."""
    before = [k for k in keys if k <= t]
    after = [k for k in keys if k > t]
    return (before[-1], after[0]) if before and after else None


@st.composite
def _anchor_layouts(draw: st.DrawFn) -> tuple[np.ndarray, list[int], np.ndarray, np.ndarray]:
    """A stream mask (T, 4) with anchors often on the first / last frame, back to back, or a stream's only one;
    the frames whose pose is the rest pose (hands hanging) and gap-bucket edges, often equal to a gap length."""
    n = draw(st.integers(1, 30))
    stream_mask = np.zeros((n, len(STREAMS)), np.float32)
    for i in range(len(STREAMS)):
        frames = draw(st.lists(st.one_of(st.integers(0, n - 1), st.sampled_from([0, n - 1])), max_size=6))
        stream_mask[frames, i] = 1.0
    at_rest = draw(st.lists(st.integers(0, n - 1), max_size=n))
    edges = np.array(sorted(set(draw(st.lists(st.integers(1, 12), max_size=3)))), dtype=np.int64)
    return stream_mask, at_rest, edges, np.array(draw(st.tuples(st.booleans(), st.booleans())))


@settings(max_examples=100, deadline=None, derandomize=True)
@given(layout=_anchor_layouts(), one_row=st.booleans(), seed=st.integers(0, 2**16))
def test_per_frame_gap_bookkeeping_matches_a_frame_by_frame_model(
        layout: tuple[np.ndarray, list[int], np.ndarray, np.ndarray], one_row: bool, seed: int) -> None:
    """What the network and the residual gate are told about each frame, per stream, against a frame-by-frame
    model written from the docstrings:
    - anchored span: 1 from a stream's first to its last anchor;
    - gap timing: between two anchors (an anchor starts the gap after it, the last anchor has none) the phase
      (t - prev) / (next - prev) and the gap in seconds at 25 fps, else 0; nothing for a stream with under 2 anchors;
    - gap lengths: the gap around each frame, the first / last gap before / after the anchors, 0 under 2 anchors;
    - rest gaps: up to the second body anchor when the first is the clip's end and at rest (rest weight 1), from
      the second-to-last body anchor when the last one is; a window edge (clip end False) is never a rest end;
    - gate weights: the gate row for the frame's gap kind (rest / signing) and the bucket of its gap length
      (edges are inclusive upper bounds), for a one-row gate both kinds use the same row."""
    stream_mask, at_rest, edges, clip_ends = layout
    n = len(stream_mask)
    rng = np.random.default_rng(seed)
    values = _motion(seed % 3)[:n].copy()
    values[at_rest] = rest_pose_features()
    rows = 1 if one_row else 2
    gate = rng.random((rows, len(edges) + 1, len(STREAMS)))
    ends = (bool(clip_ends[0]), bool(clip_ends[1]))

    span, timing = anchored_span(stream_mask), gap_timing(stream_mask)
    lengths = gap_lengths(stream_mask)
    rest = rest_gaps(stream_mask, values, ends)
    weights = gate_weights(gate.reshape(-1), stream_mask, values, ends, tuple(int(e) for e in edges))
    body = [int(f) for f in np.flatnonzero(stream_mask[:, STREAMS.index("body")])]
    starts_at_rest = len(body) >= 2 and ends[0] and rest_weight(values[body[0]]) >= 1.0
    ends_at_rest = len(body) >= 2 and ends[1] and rest_weight(values[body[-1]]) >= 1.0
    for t in range(n):
        is_rest = (starts_at_rest and t <= body[1]) or (ends_at_rest and t >= body[-2])
        assert rest[t] == is_rest, t
        for i in range(len(STREAMS)):
            keys = [int(f) for f in np.flatnonzero(stream_mask[:, i])]
            assert span[t, i] == (1.0 if keys and keys[0] <= t <= keys[-1] else 0.0)
            around = _neighbours(keys, t) if len(keys) >= 2 else None
            if around is None:
                assert timing[t, 2 * i] == 0.0 and timing[t, 2 * i + 1] == 0.0
            else:
                assert timing[t, 2 * i] == pytest.approx((t - around[0]) / (around[1] - around[0]), abs=1e-6)
                assert timing[t, 2 * i + 1] == pytest.approx((around[1] - around[0]) / 25.0, abs=1e-6)
            if len(keys) < 2:
                gap = 0
            else:
                gap = keys[1] - keys[0] if t < keys[0] else keys[-1] - keys[-2] if t >= keys[-1] else \
                    around[1] - around[0]  # type: ignore[index]
            assert lengths[t, i] == gap, (t, i)
            bucket = sum(1 for e in edges if e < gap)
            row = gate[0] if is_rest else gate[-1]
            assert weights[t, i] == row[bucket, i], (t, i)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(layout=_anchor_layouts(), seed=st.integers(0, 2**16))
def test_the_gate_blends_each_stream_from_the_plain_cubic_towards_the_model_and_keeps_anchors_exact(
        layout: tuple[np.ndarray, list[int], np.ndarray, np.ndarray], seed: int) -> None:
    """Per stream and frame ``plain + w (generated - plain)`` with ``w`` the gate weight, each 6-vector projected
    onto a rotation by Gram-Schmidt (written here: the first column normalised, the second made orthogonal to it
    and normalised); on a stream's anchored frames the generated pose (the anchor) bit for bit."""
    stream_mask, at_rest, edges, clip_ends = layout
    n = len(stream_mask)
    rng = np.random.default_rng(seed)
    values = _motion(seed % 3)[:n].copy()
    values[at_rest] = rest_pose_features()
    generated, plain = _motion(seed % 3 + 3)[:n], _motion(seed % 3 + 6)[:n]
    gate = rng.random(2 * (len(edges) + 1) * len(STREAMS))
    ends = (bool(clip_ends[0]), bool(clip_ends[1]))
    edge_tuple = tuple(int(e) for e in edges)
    out = apply_residual_gate(generated, plain, gate, stream_mask, values, ends, edge_tuple)
    weights = gate_weights(gate, stream_mask, values, ends, edge_tuple)
    for i, stream in enumerate(STREAMS):
        cols = STREAM_SLICES[stream]
        mixed = plain[:, cols].astype(np.float64) + weights[:, i:i + 1] * (generated[:, cols] - plain[:, cols])
        six = mixed.reshape(n, -1, 6)
        x = six[..., 0:3] / np.linalg.norm(six[..., 0:3], axis=-1, keepdims=True)
        y = six[..., 3:6] - np.sum(six[..., 3:6] * x, axis=-1, keepdims=True) * x
        y /= np.linalg.norm(y, axis=-1, keepdims=True)
        expected = np.concatenate([x, y], axis=-1).reshape(n, -1)
        anchored = stream_mask[:, i] > 0.5
        np.testing.assert_allclose(out[~anchored][:, cols], expected[~anchored], atol=2e-6)
        np.testing.assert_array_equal(out[anchored][:, cols], generated[anchored][:, cols])


@settings(max_examples=30, deadline=None, derandomize=True)
@given(layout=_anchor_layouts(), tension=st.sampled_from((0.0, -2.5)), open_sides=st.tuples(st.booleans(),
       st.booleans()), seed=st.integers(0, 2**16))
def test_the_conditioning_holds_anchors_and_unanchored_ends_and_the_residual_round_trips(
        layout: tuple[np.ndarray, list[int], np.ndarray, np.ndarray], tension: float,
        open_sides: tuple[bool, bool], seed: int) -> None:
    """What the network conditions on, from a dense keyframe array: a stream is anchored on a frame when its first
    column is masked (the other columns do not count); its columns are not generated (column mask 1) on anchors
    and outside its first-to-last anchor span; the base is the cubic with the end tension scaled by how rested
    the first / last body anchor is (full tension without body anchors), none on an open (window-edge) side and
    none at all when both sides are open. The normalised residual is (motion - base) / std, zero on columns not
    generated, and turning it back gives the motion on generated columns and the base bit for bit elsewhere."""
    stream_mask, at_rest, _, _ = layout
    n = len(stream_mask)
    rng = np.random.default_rng(seed)
    truth = _motion(seed % 3)[:n].copy()
    truth[at_rest] = rest_pose_features()
    mask = (rng.random(truth.shape) < 0.5).astype(np.float32)
    whole_streams = np.zeros_like(mask)
    for i, stream in enumerate(STREAMS):
        mask[:, STREAM_SLICES[stream].start] = stream_mask[:, i]
        whole_streams[:, STREAM_SLICES[stream]] = stream_mask[:, i:i + 1]
    values = truth * whole_streams  # the anchored streams' poses; zeros elsewhere
    cond = build_conditioning(values, mask, tension, open_start=open_sides[0], open_end=open_sides[1])
    np.testing.assert_array_equal(cond.stream_mask, stream_mask)
    body = np.flatnonzero(stream_mask[:, STREAMS.index("body")])
    rested = (rest_weight(values[body[0]]), rest_weight(values[body[-1]])) if len(body) else (1.0, 1.0)
    ends = (0.0, 0.0) if all(open_sides) else tuple(0.0 if side else tension * w
                                                      for side, w in zip(open_sides, rested, strict=True))
    assert cond.end_tension == pytest.approx(ends)
    for i, stream in enumerate(STREAMS):
        cols = STREAM_SLICES[stream]
        keys = np.flatnonzero(stream_mask[:, i])
        held = np.ones(n, bool) if not len(keys) else (np.arange(n) < keys[0]) | (np.arange(n) > keys[-1])
        expected = np.where(held | (stream_mask[:, i] > 0.5), 1.0, 0.0)
        np.testing.assert_array_equal(cond.column_mask[:, cols], np.repeat(expected[:, None], cols.stop - cols.start,
                                                                           axis=1))
    np.testing.assert_array_equal(cond.interp, interpolate_keyframes(values, whole_streams, "cubic",
                                                                     cond.end_tension))
    std = rng.uniform(0.5, 2.0, truth.shape[1]).astype(np.float32)
    norm = Normaliser(np.zeros_like(std), np.ones_like(std), std)
    residual = residual_target(truth, cond, norm)
    free = cond.column_mask < 0.5
    np.testing.assert_allclose(residual[free], ((truth - cond.interp) / std)[free], rtol=1e-5, atol=1e-6)
    assert not residual[~free].any()
    back = features_from_residual(residual, cond, norm)
    np.testing.assert_allclose(back[free], truth[free], atol=3e-6)
    np.testing.assert_array_equal(back[~free], cond.interp[~free])
