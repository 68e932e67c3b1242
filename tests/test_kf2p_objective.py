"""The pieces that align KF2P's training with what users see: base-spline end tension, finger positions, noise scale."""

from __future__ import annotations

import numpy as np
import torch

from signeditor.core.interpolation import interpolate_keyframes
from signeditor.core.kinematics import forward_kinematics
from signeditor.core.motion import identity_features
from signeditor.core.segments import segments_from_labels
from signeditor.ml.kf2p.end_tension import end_tensions, fit_end_tension, rest_weight
from signeditor.ml.kf2p.model import KF2PConfig, KF2PNet
from signeditor.ml.kf2p.position_loss import HandPositionLoss
from signeditor.ml.kf2p.representation import Normaliser, build_conditioning, gap_timing, residual_target
from signeditor.ml.kf2p.sampler import SampleInputs, sample_residual
from signeditor.ml.kf2p.synthetic import synthetic_clip
from signeditor.ml.kf2p.text import token_id_arrays
from signeditor.ml.kf2p.torch_velocity import TorchVelocity
from signeditor.ml.kf2p.training import TrainClip, time_warped


def _spline_examples(tension: float, n: int = 4) -> list[tuple[np.ndarray, np.ndarray]]:
    """Motion that *is* a tension spline through its keyframes, so the fit has one right answer."""
    rng = np.random.default_rng(3)
    examples = []
    for _ in range(n):
        features, _labels = synthetic_clip(rng, 60)
        frames = np.array([0, 14, 31, 45, 59])
        mask = np.zeros_like(features)
        mask[frames] = 1.0
        ends = end_tensions(features, frames, tension)  # the same rest gating the fit applies
        examples.append((interpolate_keyframes(features * mask, mask, "cubic", ends), frames))
    return examples


def test_fit_end_tension_recovers_the_tension_that_made_the_motion() -> None:
    for truth in (0.0, -2.0):
        fitted, errors = fit_end_tension(_spline_examples(truth), candidates=(0.0, -1.0, -2.0, -3.0))
        assert fitted == truth
        assert errors[truth] < 1e-3 < min(e for c, e in errors.items() if c != truth)


def test_position_loss_kinematics_match_core_forward_kinematics() -> None:
    features, _ = synthetic_clip(np.random.default_rng(0), 12)
    loss = HandPositionLoss(Normaliser.identity())
    torch_positions = loss.positions(torch.from_numpy(features).T[None])[0].numpy()
    np.testing.assert_allclose(torch_positions, forward_kinematics(features), atol=1e-5)


def test_position_loss_is_zero_for_the_truth_and_grows_with_error() -> None:
    features, _ = synthetic_clip(np.random.default_rng(1), 16)
    loss = HandPositionLoss(Normaliser.identity(), hand_shape=True)
    residual = torch.from_numpy(features).T[None]
    interp = torch.zeros_like(residual)
    weight = torch.ones(1, 1, 16)
    assert max(term.item() for term in loss(residual, residual, interp, weight).values()) < 1e-6
    small = loss(residual + 0.01, residual, interp, weight)
    large = loss(residual + 0.1, residual, interp, weight)
    assert set(small) == {"position", "hand_shape"}
    for name in small:
        assert 0 < small[name].item() < large[name].item()


def test_hand_shape_term_is_the_wrist_aligned_finger_error_of_the_paper_metric() -> None:
    """The second term is each hand's 21 points, translated onto their wrist, compared in shoulder widths (the
    per-frame error DTW-JPE accumulates): checked against core forward kinematics."""
    from signeditor.core.kinematics import shoulder_width
    from signeditor.core.motion import STREAM_SLICES
    from signeditor.core.skeleton import JOINT_INDEX, SIDE_HAND_POINT_INDICES

    rng = np.random.default_rng(2)
    features, _ = synthetic_clip(rng, 16)
    changed = features.copy()
    changed[:, STREAM_SLICES["right_hand"]] += rng.normal(0, 0.2, (16, 90)).astype(np.float32)
    changed[:, STREAM_SLICES["body"]] += rng.normal(0, 0.05, (16, STREAM_SLICES["body"].stop
                                                             - STREAM_SLICES["body"].start)).astype(np.float32)
    loss = HandPositionLoss(Normaliser.identity(), hand_shape=True)
    truth, guess = torch.from_numpy(features).T[None], torch.from_numpy(changed).T[None]
    shape = loss(guess, truth, torch.zeros_like(truth), torch.ones(1, 1, 16))["hand_shape"]
    a, b = forward_kinematics(changed), forward_kinematics(features)
    per_side = [np.linalg.norm((a[:, list(SIDE_HAND_POINT_INDICES[s])] - a[:, [JOINT_INDEX[f"{s}_Wrist"]]])
                               - (b[:, list(SIDE_HAND_POINT_INDICES[s])] - b[:, [JOINT_INDEX[f"{s}_Wrist"]]]),
                               axis=-1).mean() for s in "LR"]
    expected = float(np.mean(per_side)) / shoulder_width(forward_kinematics(identity_features(1))[0])
    assert expected > 0.01
    np.testing.assert_allclose(shape.item(), expected, rtol=1e-4)


def _unanchored_inputs(net: KF2PNet, frames: int = 16) -> SampleInputs:
    zeros = np.zeros((1, 246, frames), np.float32)
    ids, weights = token_id_arrays(["HAUS"])
    return SampleInputs(interp=zeros, column_mask=zeros.copy(),
                        stream_mask=np.zeros((1, net.config.anchor_channels, frames), np.float32),
                        length_mask=np.ones((1, 1, frames), np.float32), text_ids=ids, text_weights=weights,
                        language=np.zeros(1, np.int64))


def test_noise_scale_zero_is_deterministic_and_scale_one_varies_with_the_seed() -> None:
    torch.manual_seed(0)
    net = KF2PNet(KF2PConfig(channels=(16, 24, 32), cond_dim=32, text_dim=16, noise_conditioning=True)).eval()
    for p in net.parameters():  # a non-trivial network: the zero-initialised output would hide everything
        torch.nn.init.normal_(p, std=0.05)
    inputs = _unanchored_inputs(net)
    model = TorchVelocity(net, "cpu")
    a0, b0 = (sample_residual(model, inputs, steps=3, seed=s, noise_scale=0.0) for s in (1, 2))
    a1, b1 = (sample_residual(model, inputs, steps=3, seed=s, noise_scale=1.0) for s in (1, 2))
    a1_again = sample_residual(model, inputs, steps=3, seed=1, noise_scale=1.0)
    np.testing.assert_array_equal(a0, b0)
    np.testing.assert_array_equal(a1, a1_again)
    assert np.abs(a1 - b1).max() > 1e-4
    # The network is told the scale: the same state and time give a different velocity at another scale.
    parts = (torch.from_numpy(inputs.text_ids), torch.from_numpy(inputs.text_weights), torch.zeros(1, dtype=torch.long))
    cond0 = net.condition(torch.zeros(1), *parts, torch.zeros(1))
    cond1 = net.condition(torch.zeros(1), *parts, torch.ones(1))
    assert not torch.allclose(cond0, cond1)


def test_gap_timing_reports_phase_and_length_between_each_streams_anchors() -> None:
    stream_mask = np.zeros((12, 4), np.float32)
    stream_mask[[0, 4, 10], 2] = 1.0  # right hand anchored at 0, 4, 10; body anchored once (no gap)
    stream_mask[5, 0] = 1.0
    timing = gap_timing(stream_mask)
    np.testing.assert_allclose(timing[:, 4], [0, .25, .5, .75, 0, 1 / 6, 2 / 6, 3 / 6, 4 / 6, 5 / 6, 0, 0], atol=1e-6)
    np.testing.assert_allclose(timing[1:4, 5], 4 / 25)
    np.testing.assert_allclose(timing[5:10, 5], 6 / 25)
    assert timing[10:, 5].sum() == 0  # after the last anchor
    assert not timing[:, [0, 1, 2, 3, 6, 7]].any()  # one anchor or none: no gap to report


def test_time_warp_scales_sign_boundaries_and_keeps_every_sign() -> None:
    features, _ = synthetic_clip(np.random.default_rng(2), 100)
    labels = np.zeros(100, np.int8)
    labels[10], labels[11:30] = 2, 1
    labels[30], labels[31:60] = 2, 1  # two signs back to back: the second sign-start must survive
    clip = TrainClip(features, labels, "HAUS", "gsg", segmenter_labels=labels.copy())
    for speed in (0.8, 1.25):
        warped = time_warped(clip, speed)
        spans = [(s.start, s.end) for s in segments_from_labels(warped.labels)]
        assert spans == [(round(10 / speed), round(30 / speed)), (round(30 / speed), round(60 / speed))]
        assert warped.features.shape == (len(np.arange(0.0, 99, speed)), 246)
        assert np.array_equal(warped.segmenter_labels, warped.labels)
        np.testing.assert_allclose(warped.features[0], features[0], atol=1e-5)


def test_base_spline_tension_only_at_closed_ends_and_nothing_generated_outside_the_anchored_span() -> None:
    features, _ = synthetic_clip(np.random.default_rng(4), 40)
    mask = np.zeros_like(features)
    mask[[5, 15, 25, 35]] = 1.0
    values = features * mask
    closed = build_conditioning(values, mask, -3.0)
    window = build_conditioning(values, mask, -3.0, open_start=True)
    plain = interpolate_keyframes(values, mask, "cubic")
    np.testing.assert_allclose(closed.interp, interpolate_keyframes(values, mask, "cubic", (-3.0, -3.0)))
    np.testing.assert_allclose(window.interp, interpolate_keyframes(values, mask, "cubic", (0.0, -3.0)))
    assert np.allclose(window.interp[5:15], plain[5:15]) and not np.allclose(closed.interp[5:15], plain[5:15])
    # Before the first and after the last anchor the pose is held: those columns are not generated.
    held = np.r_[0:5, 36:40]
    assert (closed.column_mask[held] == 1).all() and (closed.column_mask[6:15] == 0).all()
    assert np.abs(residual_target(features, closed, Normaliser.identity())[held]).max() == 0
    assert (closed.stream_mask[held] == 0).all()  # the network is still told where the real anchors are


def test_rest_weight_tells_a_hand_at_rest_from_hands_raised_for_signing() -> None:
    from signeditor.core.rotations import axis_angle_to_matrix, matrix_to_rot6d
    from signeditor.core.skeleton import ROTATING_JOINTS

    def with_shoulders(angle_deg: float) -> np.ndarray:
        pose = identity_features(1)[0].copy()
        for side, sign in (("L", 1.0), ("R", -1.0)):  # rotate both upper arms about the forward axis
            j = ROTATING_JOINTS.index(f"{side}_Shoulder")
            rot = axis_angle_to_matrix(np.array([0.0, 0.0, sign * np.radians(angle_deg)]))
            pose[6 * j:6 * j + 6] = matrix_to_rot6d(rot)
        return pose

    weights = {a: rest_weight(with_shoulders(a)) for a in (-70.0, 0.0, 70.0)}
    assert sorted(weights.values()) == [0.0, 0.0, 1.0], weights  # arms down: at rest; T-pose or raised: not
