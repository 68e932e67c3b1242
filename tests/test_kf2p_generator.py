"""KF2P sampling and windowed regeneration with a small untrained network (behaviour, not quality)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.motion import STREAM_SLICES, Motion
from signeditor.ml.kf2p.api import Generator, InterpolationGenerator
from signeditor.ml.kf2p.model import KF2PConfig, KF2PNet
from signeditor.ml.kf2p.representation import Normaliser
from signeditor.ml.kf2p.synthetic import random_pose, synthetic_clip

N_FRAMES = 90


def _generator(noise_scale: float = 1.0, zero_output: bool = False) -> Generator:
    torch.manual_seed(0)
    net = KF2PNet(KF2PConfig(channels=(16, 24, 32), cond_dim=32, text_dim=16))
    if not zero_output:
        # An untrained net outputs zero (AdaLN-zero); perturb it so the sampler has something to integrate.
        with torch.no_grad():
            for p in net.parameters():
                p.add_(0.05 * torch.randn_like(p))
    norm = Normaliser.identity()
    norm.residual_std[:] = 0.05
    return Generator(net, norm, ["gsg"], torch.device("cpu"), noise_scale=noise_scale)


@pytest.fixture(scope="module")
def clip() -> tuple[Motion, AnchorSet]:
    features, _ = synthetic_clip(np.random.default_rng(0), N_FRAMES)
    motion = Motion(25.0, features)
    return motion, AnchorSet(Anchor(f, features[f]) for f in range(0, N_FRAMES, 10))


def test_result_equals_anchor_poses_exactly(clip: tuple[Motion, AnchorSet]) -> None:
    _, anchors = clip
    out = _generator().regenerate_between_anchors(Motion.rest(N_FRAMES), anchors, steps=3)
    for anchor in anchors:
        np.testing.assert_array_equal(out.features[anchor.frame], anchor.pose)
    # ...and the frames in between were actually generated (not copied from the rest pose).
    assert np.abs(out.features[5] - Motion.rest(1).features[0]).max() > 1e-3


def test_same_seed_same_motion_new_seed_variation(clip: tuple[Motion, AnchorSet]) -> None:
    motion, anchors = clip
    gen = _generator()
    a = gen.regenerate_between_anchors(motion, anchors, steps=2, seed=7).features
    b = gen.regenerate_between_anchors(motion, anchors, steps=2, seed=7).features
    c = gen.regenerate_between_anchors(motion, anchors, steps=2, seed=8).features
    np.testing.assert_array_equal(a, b)
    assert np.abs(a - c).max() > 1e-4
    for anchor in anchors:  # the variation keeps the anchors
        np.testing.assert_array_equal(c[anchor.frame], anchor.pose)


def test_partial_stream_anchor_pins_only_its_stream(clip: tuple[Motion, AnchorSet]) -> None:
    motion, _ = clip
    pose = random_pose(np.random.default_rng(5))
    anchors = AnchorSet([Anchor(20, pose, frozenset({"right_hand"})), Anchor(60, pose, frozenset({"right_hand"}))])
    out = _generator().regenerate_between_anchors(motion, anchors, steps=2).features
    rh = STREAM_SLICES["right_hand"]
    np.testing.assert_array_equal(out[20, rh], pose[rh])
    np.testing.assert_array_equal(out[60, rh], pose[rh])
    # The body is free at the anchor frame: it is generated, not forced to the anchor's body pose.
    assert np.abs(out[20, STREAM_SLICES["body"]] - pose[STREAM_SLICES["body"]]).max() > 1e-3


@pytest.mark.parametrize("make", [lambda: _generator(noise_scale=0.0, zero_output=True), InterpolationGenerator])
def test_window_leaves_outside_untouched_and_joins_smoothly(clip: tuple[Motion, AnchorSet], make: object) -> None:
    motion, anchors = clip
    moved = anchors[4]  # frame 40 -> 43
    edited = anchors.replaced(moved.moved_to(43).with_pose(anchors[5].pose))
    window = (34, 48)  # edges between anchors, where a naive paste would kink
    out = make().regenerate_between_anchors(motion, edited, frame_range=window, steps=2).features  # type: ignore[operator]
    np.testing.assert_array_equal(out[: window[0]], motion.features[: window[0]])
    np.testing.assert_array_equal(out[window[1]:], motion.features[window[1]:])
    np.testing.assert_array_equal(out[43], anchors[5].pose)
    assert np.abs(out[35:48] - motion.features[35:48]).max() > 1e-2  # the window did change
    # No jump: the per-frame step and its change at each edge stay within what the smooth input motion has
    # (without the edge blend the second difference at the edges is ~3x the input's maximum).
    steps = np.abs(np.diff(motion.features.astype(np.float64), axis=0)).max()
    accel = np.abs(np.diff(motion.features.astype(np.float64), 2, axis=0)).max()
    for edge in window:
        local = out[edge - 2 : edge + 2].astype(np.float64)
        assert np.abs(np.diff(local, axis=0)).max() <= 1.5 * steps
        assert np.abs(np.diff(local, 2, axis=0)).max() <= 2.0 * accel


def test_guidance_and_text_change_the_result(clip: tuple[Motion, AnchorSet]) -> None:
    motion, anchors = clip
    gen = _generator()
    plain = gen.regenerate_between_anchors(motion, anchors, steps=2, seed=1).features
    texted = gen.regenerate_between_anchors(motion, anchors, steps=2, seed=1, text="HAUS", signed_language="gsg",
                                            guidance=2.0).features
    assert np.abs(plain - texted).max() > 1e-5
    for anchor in anchors:
        np.testing.assert_array_equal(texted[anchor.frame], anchor.pose)


def test_base_alone_is_the_network_output_without_its_residual(clip: tuple[Motion, AnchorSet]) -> None:
    _, anchors = clip
    values, mask = anchors.keyframes(N_FRAMES)
    silent = _generator(noise_scale=0.0, zero_output=True)  # AdaLN-zero: an untrained net adds no residual
    base = silent.base_features(values, mask)
    np.testing.assert_allclose(base, silent.generate_features(values, mask, steps=2), atol=1e-6)
    for anchor in anchors:
        np.testing.assert_allclose(base[anchor.frame], anchor.pose, atol=1e-6)
    trained = _generator(noise_scale=0.0)  # a net that does add a residual differs from its base
    assert np.abs(trained.generate_features(values, mask, steps=2) - trained.base_features(values, mask)).max() > 1e-3
