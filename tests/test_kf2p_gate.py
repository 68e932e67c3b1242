"""The residual gate: 0 gives exactly the cubic baseline, 1 the model's output, per stream and gap kind."""

from __future__ import annotations

import numpy as np
from conftest import plausible_features

from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.ik import rest_pose_features
from signeditor.core.interpolation import interpolate_between_anchors
from signeditor.core.motion import STREAM_SLICES
from signeditor.ml.kf2p.representation import (
    apply_residual_gate,
    gap_lengths,
    gate_weights,
    plain_cubic,
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
