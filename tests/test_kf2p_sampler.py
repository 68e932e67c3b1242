"""The ODE sampler on a velocity field with a known answer: Euler and Heun, masks, and cooperative stopping."""

from __future__ import annotations

import numpy as np
import pytest

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
