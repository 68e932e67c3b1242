"""KF2P sampling and windowed regeneration with a small untrained network (behaviour, not quality)."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from signeditor.core import rotations
from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.ik import rest_pose_features
from signeditor.core.interpolation import interpolate_between_anchors, interpolate_keyframes
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


@st.composite
def _windowed_edits(draw: st.DrawFn) -> tuple[int, list[tuple[int, set[str]]], tuple[int, int] | None]:
    """A clip length, anchors (frame, streams) and a window; frames and window edges often on the clip's ends, on
    an anchor, next to one, or just off the clip."""
    n = draw(st.integers(2, 30))
    frame = st.one_of(st.integers(0, n - 1), st.sampled_from([-1, 0, 1, n - 2, n - 1, n]))
    specs = [(draw(frame), draw(st.sets(st.sampled_from(list(STREAM_SLICES)), min_size=1)))
             for _ in range(draw(st.integers(0, 6)))]
    anchor_frames = [f for f, _ in specs] or [0]
    edge = st.one_of(st.integers(-2, n + 2), st.sampled_from([0, 1, 2, n - 3, n - 2, n - 1, n]),
                     st.tuples(st.sampled_from(anchor_frames), st.integers(-3, 3)).map(sum))
    window = None
    if draw(st.integers(0, 4)):  # mostly a window: its ends in either order, widened to hold a frame of the clip
        a, b = sorted((draw(edge), draw(edge)))
        a = min(a, n - 1)
        window = (a, max(b, max(a, 0) + 1))
    return n, specs, window


@functools.cache
def _kept_motion(seed: int) -> np.ndarray:
    return synthetic_clip(np.random.default_rng(seed), 32)[0]


@settings(max_examples=80, deadline=None, derandomize=True)
@given(edit=_windowed_edits(), method=st.sampled_from(("slerp", "cubic")), seed=st.integers(0, 2))
def test_windowed_fallback_regeneration_matches_a_frame_by_frame_model(
        edit: tuple[int, list[tuple[int, set[str]]], tuple[int, int] | None], method: str, seed: int) -> None:
    """The editor's fallback regeneration of a window [start, stop) (clipped to the clip; the whole clip without
    one), written frame by frame from what the user must get:
    - frames outside the window keep the current motion bit for bit;
    - inside, the in-between (the tested ``interpolate_between_anchors``) through each stream's newest anchor per
      window frame plus one context frame of the kept motion on each side (every stream keyed there);
    - near each edge that has two kept frames beyond it, up to 4 frames (stopping before the window's first /
      last anchor of any stream) are a smoothstep blend from the kept motion continued at its edge velocity
      (weight 1 - smoothstep((k + 1) / (m + 1)) on the k-th frame in from the edge, m frames blended), every
      window frame then projected onto rotations;
    - each anchored stream on an anchor frame in the window is the newest anchor's pose bit for bit."""
    n, specs, window = edit
    rng = np.random.default_rng(seed)
    kept = _kept_motion(seed)[:n]
    motion = Motion(25.0, kept.copy())
    anchors = [Anchor(f, random_pose(rng), frozenset(s)) for f, s in specs]
    out = InterpolationGenerator(method).regenerate_between_anchors(motion, AnchorSet(anchors[::-1]),
                                                                    frame_range=window).features
    _assert_window_is_the_model(out, kept, anchors, window, context=1, method=method)


def _assert_window_is_the_model(out: np.ndarray, kept: np.ndarray, anchors: list[Anchor],
                                window: tuple[int, int] | None, context: int, method: str) -> None:
    """The frame-by-frame model of a windowed regeneration (see the fallback test's docstring); ``anchors`` in
    creation order, ``context`` kept frames each side of a window."""
    n = len(kept)
    start, stop = (0, n) if window is None else (max(0, window[0]), min(n, window[1]))
    context = 0 if window is None else context
    first, last = max(0, start - context), min(n, stop + context)
    newest: dict[tuple[int, str], Anchor] = {}
    for anchor in anchors:  # list order is creation order
        for stream in anchor.streams:
            if start <= anchor.frame < stop:
                newest[anchor.frame, stream] = anchor
    keys = [Anchor(f - first, a.pose, frozenset({s})) for (f, s), a in newest.items()]
    keys += [Anchor(f - first, kept[f]) for f in range(first, last) if not start <= f < stop]
    expected = kept.astype(np.float64)
    expected[start:stop] = interpolate_between_anchors(last - first, AnchorSet(keys), method)[start - first:
                                                                                                stop - first]
    if window is not None:
        in_window = sorted({a.frame for a in anchors if start <= a.frame < stop})
        sides = []
        if start >= 2:
            count = min(4, in_window[0] - start) if in_window else 4
            sides.append([(start + k, k, kept[start - 1] + (kept[start - 1] - kept[start - 2]) * (k + 1))
                          for k in range(count) if start + k < stop])
        if stop <= n - 2:
            count = min(4, stop - 1 - in_window[-1]) if in_window else 4
            sides.append([(stop - 1 - k, k, kept[stop] + (kept[stop] - kept[stop + 1]) * (k + 1))
                          for k in range(count) if stop - 1 - k >= start])
        for blended in sides:
            for frame, k, continued in blended:
                u = (k + 1) / (len(blended) + 1)
                weight = 1.0 - (3 * u**2 - 2 * u**3)
                expected[frame] = weight * continued + (1 - weight) * expected[frame]
        inner = expected[start:stop].reshape(stop - start, -1, 6)
        expected[start:stop] = rotations.orthonormalize_rot6d(inner).reshape(stop - start, -1)
    for (frame, stream), anchor in newest.items():
        expected[frame, STREAM_SLICES[stream]] = anchor.pose[STREAM_SLICES[stream]]
    np.testing.assert_array_equal(out[:start], kept[:start])
    np.testing.assert_array_equal(out[stop:], kept[stop:])
    for (frame, stream), anchor in newest.items():
        np.testing.assert_array_equal(out[frame, STREAM_SLICES[stream]], anchor.pose[STREAM_SLICES[stream]])
    np.testing.assert_allclose(out, expected, atol=2e-5)




class StillField:
    """A stand-in exported network whose flow velocity is 0: the generator's residual stays 0, so its result is
    its base in-between (the cubic: the model carries no end tension) projected onto rotations."""

    downsample = 1
    timing_channels = False
    device = "cpu"

    def velocity(self, x: np.ndarray, *_: np.ndarray) -> np.ndarray:
        return np.zeros_like(x)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(edit=_windowed_edits(), seed=st.integers(0, 2))
def test_windowed_model_regeneration_matches_the_frame_by_frame_model_with_three_context_frames(
        edit: tuple[int, list[tuple[int, set[str]]], tuple[int, int] | None], seed: int) -> None:
    """The learned generator's window, with a network that adds nothing to its cubic base: the same frame-by-frame
    model as the fallback's with 3 kept context frames each side, anchors bit for bit (also on a window's first
    and last frame), frames outside untouched, and the window's frames marked as generated (not filled)."""
    n, specs, window = edit
    rng = np.random.default_rng(seed)
    kept = _kept_motion(seed)[:n]
    filled = rng.random(n) < 0.5
    motion = Motion(25.0, kept.copy(), filled=filled.copy())
    anchors = [Anchor(f, random_pose(rng), frozenset(s)) for f, s in specs]
    generator = Generator(StillField(), Normaliser.identity(), ["gsg"], noise_scale=0.0)
    result = generator.regenerate_between_anchors(motion, AnchorSet(anchors[::-1]), frame_range=window, steps=1)
    _assert_window_is_the_model(result.features, kept, anchors, window, context=3, method="cubic")
    start, stop = (0, n) if window is None else (max(0, window[0]), min(n, window[1]))
    expected_filled = filled.copy()
    expected_filled[start:stop] = False
    np.testing.assert_array_equal(result.filled, expected_filled)
@pytest.mark.parametrize("window", [(5, 5), (7, 6), (-4, 0), (20, 24)])
def test_a_window_with_no_frame_of_the_clip_is_refused(window: tuple[int, int]) -> None:
    """A window that is empty once clipped to the 20-frame clip is an error naming the range, not a silent no-op."""
    motion = Motion(25.0, _kept_motion(0)[:20].copy())
    with pytest.raises(ValueError, match=r"empty frame range"):
        InterpolationGenerator().regenerate_between_anchors(motion, AnchorSet(), frame_range=window)


class RandomField:
    """A stand-in exported network with a fixed, arbitrary velocity: whatever it says, gate 0 must drop it."""

    downsample = 1
    timing_channels = False
    device = "cpu"

    def velocity(self, x: np.ndarray, *_: np.ndarray) -> np.ndarray:
        return np.random.default_rng(x.size).normal(0.0, 3.0, x.shape).astype(np.float32)


@pytest.mark.parametrize("gate", [[0.0] * 4, [1.0, 0.0, 0.0, 0.0]])
def test_a_zero_gate_gives_the_plain_cubic_whatever_the_network_and_the_base_tension(gate: list[float]) -> None:
    """A model trained with end tension (its base spline leaves and reaches rest faster) and residual gate 0 on a
    stream: that stream is exactly the plain (tension-free) Catmull-Rom through the anchors, whatever the network
    says; with gate 1 on the body and a still network, the body is the model's tensioned base instead. Anchors
    (rest at both ends, random poses between) are exact everywhere."""
    rng = np.random.default_rng(3)
    rest = rest_pose_features()
    frames = [0, 9, 17, 30]
    anchors = AnchorSet(Anchor(f, p) for f, p in zip(frames, [rest, random_pose(rng), random_pose(rng), rest],
                                                     strict=True))
    values, mask = anchors.keyframes(31)
    meta = {"end_tension": -2.0, "residual_gate": gate}
    body = STREAM_SLICES["body"]
    for net in (RandomField(), StillField()):
        out = Generator(net, Normaliser.identity(), ["gsg"], meta=meta, noise_scale=0.0).generate_features(
            values, mask, steps=2)
        plain = interpolate_keyframes(values, mask, "cubic")
        tensioned = rotations.orthonormalize_rot6d(interpolate_keyframes(values, mask, "cubic", (-2.0, -2.0))
                                                   .reshape(31, -1, 6)).reshape(31, -1)
        for stream, cols in STREAM_SLICES.items():
            kept = gate[list(STREAM_SLICES).index(stream)]
            if kept == 0.0:
                np.testing.assert_allclose(out[:, cols], plain[:, cols], atol=1e-6, err_msg=stream)
            elif isinstance(net, StillField):
                np.testing.assert_allclose(out[:, cols], tensioned[:, cols], atol=1e-6, err_msg=stream)
        np.testing.assert_array_equal(out[frames], values[frames])
        if gate[0] == 1.0 and isinstance(net, StillField):
            assert np.abs(out[1:9, body] - plain[1:9, body]).max() > 1e-3  # the tension shows
