"""The ODE sampler on a velocity field with a known answer: Euler and Heun, masks, and cooperative stopping."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signeditor.cancellation import Stopped, stop_check
from signeditor.ml.kf2p.sampler import SampleInputs, sample_residual, torch_compatible_normal


class LinearField:
    """A stand-in network whose velocity is v(x, t) = a - x (the flow x' = a - x has x(1) = a + (x0 - a)/e)."""

    downsample = 1
    timing_channels = False
    device = "cpu"

    def __init__(self, target: float) -> None:
        self.target = target
        self.calls = 0

    def velocity(self, x: np.ndarray, *_: np.ndarray) -> np.ndarray:
        self.calls += 1
        return (self.target - x).astype(np.float32)


def inputs(channels: int = 3, frames: int = 8) -> SampleInputs:
    column_mask = np.zeros((1, channels, frames), np.float32)
    column_mask[:, 0] = 1.0  # channel 0 is anchored: its residual stays zero
    empty = np.zeros((1, 1), np.int64)
    return SampleInputs(interp=np.zeros((1, channels, frames), np.float32), column_mask=column_mask,
                        stream_mask=np.ones((1, 4, frames), np.float32),
                        length_mask=np.ones((1, 1, frames), np.float32),
                        text_ids=empty, text_weights=empty.astype(np.float32), language=np.zeros(1, np.int64))


@pytest.mark.parametrize(("method", "steps", "tolerance"), [("euler", 200, 5e-3), ("heun", 20, 2e-3)])
def test_sampler_integrates_a_known_flow(method: str, steps: int, tolerance: float) -> None:
    field = LinearField(2.0)
    x = sample_residual(field, inputs(), steps=steps, seed=0, method=method, noise_scale=0.0)
    # From x0 = 0: x(1) = a (1 - 1/e) on free channels; anchored channel 0 stays 0.
    np.testing.assert_allclose(x[:, 1:], 2.0 * (1.0 - np.exp(-1.0)), atol=tolerance)
    assert np.count_nonzero(x[:, 0]) == 0
    assert field.calls == (steps if method == "euler" else 2 * steps - 1)


def test_heun_is_more_accurate_than_euler_at_equal_steps() -> None:
    exact = 2.0 * (1.0 - np.exp(-1.0))
    errors = {m: float(np.abs(sample_residual(LinearField(2.0), inputs(), steps=4, seed=0, method=m,
                                              noise_scale=0.0)[:, 1:] - exact).max()) for m in ("euler", "heun")}
    assert errors["heun"] < errors["euler"] / 5


def test_a_superseded_request_stops_between_steps() -> None:
    field = LinearField(0.0)
    with stop_check(lambda: field.calls >= 3), pytest.raises(Stopped):
        sample_residual(field, inputs(), steps=10, seed=0)
    assert field.calls == 3


@pytest.mark.parametrize(("shape", "seed"), [((1, 246, 256), 0), ((2, 246, 100), 7), ((1, 5, 7), 3),
                                             ((1, 246, 250), 2**40 + 5)])
def test_noise_is_torch_randn_for_the_same_seed(shape: tuple[int, ...], seed: int) -> None:
    """The numpy sampler draws the noise torch's seeded CPU generator draws, so seeds keep their motion."""
    torch = pytest.importorskip("torch")
    expected = torch.randn(shape, generator=torch.Generator().manual_seed(seed)).numpy()
    np.testing.assert_allclose(torch_compatible_normal(shape, seed), expected, atol=5e-6)


class TimeAndLanguageField:
    """A stand-in network whose velocity is v = t + language (each row's language id): the flow's integral over
    [0, 1] is known by hand for any step rule, and the conditioned and unconditioned rows differ by the language."""

    downsample = 1
    timing_channels = False
    device = "cpu"

    def velocity(self, x: np.ndarray, interp: np.ndarray, stream_mask: np.ndarray, length_mask: np.ndarray,
                 t: np.ndarray, text_ids: np.ndarray, text_weights: np.ndarray, language: np.ndarray,
                 noise_scale: np.ndarray) -> np.ndarray:
        return np.broadcast_to((t + language)[:, None, None], x.shape).astype(np.float32)


@pytest.mark.parametrize(("method", "expected"), [
    # dt = 0.25. Euler reads v at each step's start: 0.25 * (0 + 0.25 + 0.5 + 0.75) = 0.375.
    ("euler", 0.375),
    # Heun averages start and end for the first three steps, the last one is Euler:
    # 0.25 * (0.125 + 0.375 + 0.625) + 0.25 * 0.75 = 0.46875.
    ("heun", 0.46875),
])
def test_each_step_reads_the_flow_at_its_own_time(method: str, expected: float) -> None:
    x = sample_residual(TimeAndLanguageField(), inputs(), steps=4, seed=0, method=method, noise_scale=0.0)
    np.testing.assert_allclose(x[:, 1:], expected, rtol=1e-6)
    assert np.count_nonzero(x[:, 0]) == 0


@pytest.mark.parametrize("guidance", [1.0, 2.5])
def test_guidance_extrapolates_from_the_unconditioned_towards_the_conditioned_velocity(guidance: float) -> None:
    """Conditioned language 3, unconditioned 1: guided velocity = t + 1 + g * (3 - 1) (classifier-free guidance),
    so one Euler step from t = 0 lands on 1 + 2 g."""
    plain = inputs()
    plain.language = np.full(1, 3, np.int64)
    plain.uncond = (plain.text_ids, plain.text_weights, np.ones(1, np.int64))
    x = sample_residual(TimeAndLanguageField(), plain, steps=1, seed=0, guidance=guidance, noise_scale=0.0)
    expected = 3.0 if guidance == 1.0 else 1.0 + 2.0 * guidance
    np.testing.assert_allclose(x[:, 1:], expected, rtol=1e-6)


def test_padding_frames_stay_zero_whatever_the_flow() -> None:
    """Frames past a clip's length (length mask 0, batch padding) are neither noised nor integrated: their residual
    stays exactly 0, as anchored channels' does."""
    padded = inputs(frames=8)
    padded.length_mask[..., 6:] = 0.0
    for noise_scale in (0.0, 1.0):
        x = sample_residual(LinearField(2.0), padded, steps=4, seed=1, noise_scale=noise_scale)
        assert np.count_nonzero(x[..., 6:]) == 0 and np.count_nonzero(x[:, 1:, :6]) == 2 * 6


class AffineField:
    """A stand-in network with a velocity known in closed form for every input it reads:
    v = -k x + b + c t + d language + e noise_scale + f * (the row's mean of x), per element (k..f fixed arrays);
    the last term couples all elements of a clip, as a real network does, so masked values would leak."""

    downsample = 1
    timing_channels = False
    device = "cpu"

    def __init__(self, shape: tuple[int, ...], seed: int) -> None:
        rng = np.random.default_rng(seed)
        self.k, self.b, self.c, self.d, self.e, self.f = rng.uniform(-1.0, 1.0, (6, *shape))
        self.calls = 0

    def terms(self, x: np.ndarray, t: np.ndarray, language: np.ndarray, noise_scale: np.ndarray) -> np.ndarray:
        rows = x.shape[0] // self.k.shape[0]

        def tiled(a: np.ndarray) -> np.ndarray:
            return np.concatenate([a] * rows)

        def per_row(a: np.ndarray) -> np.ndarray:
            return np.asarray(a, np.float64)[:, None, None]

        mean = x.reshape(len(x), -1).mean(axis=1)
        return (-tiled(self.k) * x + tiled(self.b) + tiled(self.c) * per_row(t) + tiled(self.d) * per_row(language)
                + tiled(self.e) * per_row(noise_scale) + tiled(self.f) * per_row(mean))

    def velocity(self, x: np.ndarray, interp: np.ndarray, stream_mask: np.ndarray, length_mask: np.ndarray,
                 t: np.ndarray, text_ids: np.ndarray, text_weights: np.ndarray, language: np.ndarray,
                 noise_scale: np.ndarray) -> np.ndarray:
        self.calls += 1
        return self.terms(x.astype(np.float64), t, language, noise_scale).astype(np.float32)


@settings(max_examples=60, deadline=None, derandomize=True)
@given(steps=st.integers(1, 5), method=st.sampled_from(("euler", "heun")), seed=st.integers(0, 1000),
       noise_scale=st.sampled_from((0.0, 0.5, 1.0)), guidance=st.sampled_from((1.0, 2.5, None)),
       frames=st.integers(4, 9), batch=st.integers(1, 2))
def test_the_sampler_is_the_textbook_ode_step_on_free_values_and_keeps_the_rest_exactly_zero(
        steps: int, method: str, seed: int, noise_scale: float, guidance: float | None, frames: int,
        batch: int) -> None:
    """From noise (torch's seeded normal times the noise scale, on free values only) to t = 1 in ``steps`` equal
    steps, each reading the flow at its own start time: Euler x += dt v(x, t); Heun averages v(x, t) with v at the
    Euler prediction (masked to the free values) at t + dt, except on the last step, which is Euler. With guidance
    (and unconditioned inputs) the velocity is v_u + g (v_c - v_u), conditioned language 3 and unconditioned 1;
    without unconditioned inputs guidance is ignored. Free = not anchored (column mask 0) and inside the clip
    (length mask 1); every other value is exactly 0 after every step. Oracle: the recurrence in float64 with the
    field's closed form."""
    rng = np.random.default_rng(seed)
    channels = 5
    shape = (batch, channels, frames)
    column_mask = (rng.random(shape) < 0.3).astype(np.float32)
    length_mask = np.ones((batch, 1, frames), np.float32)
    length_mask[:, :, frames - int(rng.integers(0, 2)):] = 0.0
    ids = np.zeros((batch, 1), np.int64)
    run = SampleInputs(interp=np.zeros(shape, np.float32), column_mask=column_mask,
                       stream_mask=np.ones((batch, 4, frames), np.float32), length_mask=length_mask, text_ids=ids,
                       text_weights=ids.astype(np.float32), language=np.full(batch, 3, np.int64),
                       uncond=None if guidance is None else (ids, ids.astype(np.float32), np.ones(batch, np.int64)))
    field = AffineField(shape, seed)
    g = 1.0 if guidance is None else guidance
    out = sample_residual(field, run, steps=steps, seed=seed, method=method, guidance=g, noise_scale=noise_scale)

    free = ((1.0 - column_mask) * length_mask).astype(np.float64)
    x = (torch_compatible_normal(shape, seed).astype(np.float64) * noise_scale * free
         if noise_scale else np.zeros(shape))
    language = 3.0 if g == 1.0 or guidance is None else 1.0 + g * (3.0 - 1.0)

    def v(x: np.ndarray, t: float) -> np.ndarray:
        return field.terms(x, np.full(batch, t), np.full(batch, language), np.full(batch, noise_scale))

    dt = 1.0 / steps
    for i in range(steps):
        slope = v(x, i * dt)
        if method == "heun" and i < steps - 1:
            slope = 0.5 * (slope + v((x + dt * slope) * free, (i + 1) * dt))
        x = (x + dt * slope) * free
    np.testing.assert_allclose(out, x, rtol=2e-5, atol=2e-5)
    assert not out[free == 0].any()
    assert field.calls == (steps if method == "euler" else 2 * steps - 1)
