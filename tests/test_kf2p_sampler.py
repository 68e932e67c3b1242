"""The ODE sampler on a velocity field with a known answer: Euler and Heun, masks, and cooperative stopping."""

from __future__ import annotations

import pytest
import torch

from signeditor.cancellation import Stopped, stop_check
from signeditor.ml.kf2p.sampler import SampleInputs, sample_residual


class LinearField:
    """A stand-in network whose velocity is v(x, t) = a - x (the flow x' = a - x has x(1) = a + (x0 - a)/e)."""

    def __init__(self, target: torch.Tensor) -> None:
        self.target = target
        self.calls = 0

    def condition(self, t: torch.Tensor, *parts: object) -> torch.Tensor:
        return t[:, None]

    def __call__(self, x: torch.Tensor, *_: object) -> torch.Tensor:
        self.calls += 1
        return self.target - x


def inputs(channels: int = 3, frames: int = 8) -> SampleInputs:
    column_mask = torch.zeros(1, channels, frames)
    column_mask[:, 0] = 1.0  # channel 0 is anchored: its residual stays zero
    empty = torch.zeros(1, 1)
    return SampleInputs(interp=torch.zeros(1, channels, frames), column_mask=column_mask,
                        stream_mask=torch.ones(1, 4, frames), length_mask=torch.ones(1, 1, frames),
                        cond_parts=(empty, empty, empty))


@pytest.mark.parametrize(("method", "steps", "tolerance"), [("euler", 200, 5e-3), ("heun", 20, 2e-3)])
def test_sampler_integrates_a_known_flow(method: str, steps: int, tolerance: float) -> None:
    target = torch.full((1, 3, 8), 2.0)
    field = LinearField(target)
    x = sample_residual(field, inputs(), steps=steps, seed=0, method=method, noise_scale=0.0)
    # From x0 = 0: x(1) = a (1 - 1/e) on free channels; anchored channel 0 stays 0.
    expected = 2.0 * (1.0 - torch.exp(torch.tensor(-1.0)))
    assert torch.allclose(x[:, 1:], torch.full_like(x[:, 1:], float(expected)), atol=tolerance)
    assert torch.count_nonzero(x[:, 0]) == 0
    assert field.calls == (steps if method == "euler" else 2 * steps - 1)


def test_heun_is_more_accurate_than_euler_at_equal_steps() -> None:
    target = torch.full((1, 3, 8), 2.0)
    exact = 2.0 * (1.0 - float(torch.exp(torch.tensor(-1.0))))
    errors = {m: float((sample_residual(LinearField(target), inputs(), steps=4, seed=0, method=m,
                                        noise_scale=0.0)[:, 1:] - exact).abs().max()) for m in ("euler", "heun")}
    assert errors["heun"] < errors["euler"] / 5


def test_a_superseded_request_stops_between_steps() -> None:
    field = LinearField(torch.zeros(1, 3, 8))
    with stop_check(lambda: field.calls >= 3), pytest.raises(Stopped):
        sample_residual(field, inputs(), steps=10, seed=0)
    assert field.calls == 3
