"""ODE sampling of the flow with keyframes written back at every step.

Few steps are enough because the flow only has to carry noise to a residual
over cubic interpolation, which is small and smooth; Heun's method buys accuracy per network
call when the step count is tiny.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from signeditor.cancellation import raise_if_stopped
from signeditor.ml.kf2p.model import KF2PNet

SAMPLERS: tuple[str, ...] = ("euler", "heun")


@dataclass
class SampleInputs:
    """Batched model inputs, all (B, C, T) except the conditioning vectors (B, D)."""

    interp: torch.Tensor
    column_mask: torch.Tensor
    stream_mask: torch.Tensor
    length_mask: torch.Tensor
    cond_parts: tuple[torch.Tensor, torch.Tensor, torch.Tensor]  # text ids, text weights, language
    uncond_parts: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None


def _velocity(net: KF2PNet, x: torch.Tensor, t: float, inputs: SampleInputs, guidance: float,
              noise_scale: float) -> torch.Tensor:
    batch = x.shape[0]
    t_tensor = torch.full((batch,), t, device=x.device)
    scale = torch.full((batch,), noise_scale, device=x.device)
    cond = net.condition(t_tensor, *inputs.cond_parts, scale).to(x.dtype)
    v = net(x, inputs.interp, inputs.stream_mask, inputs.length_mask, cond)
    if guidance != 1.0 and inputs.uncond_parts is not None:
        uncond = net.condition(t_tensor, *inputs.uncond_parts, scale).to(x.dtype)
        v_uncond = net(x, inputs.interp, inputs.stream_mask, inputs.length_mask, uncond)
        v = v_uncond + guidance * (v - v_uncond)
    return v


def sample_residual(net: KF2PNet, inputs: SampleInputs, *, steps: int, seed: int, method: str = "euler",
                    guidance: float = 1.0, noise_scale: float = 1.0) -> torch.Tensor:
    """Integrate from noise (t=0) to data (t=1); anchored columns are reset to their known value (zero residual).

    The noise comes from a generator seeded on the CPU, so the same seed gives
    the same motion on every device and a new seed gives a variation.
    """
    if method not in SAMPLERS:
        raise ValueError(f"unknown sampler {method!r}; choose one of {SAMPLERS}")
    steps = max(1, int(steps))
    generator = torch.Generator().manual_seed(int(seed))
    shape = inputs.interp.shape
    noise = torch.randn(shape, generator=generator) * noise_scale
    free = (1.0 - inputs.column_mask) * inputs.length_mask
    x = noise.to(device=inputs.interp.device, dtype=inputs.interp.dtype) * free
    dt = 1.0 / steps
    for i in range(steps):
        raise_if_stopped()  # a superseded editor request stops between steps (see signeditor.cancellation)
        t = i * dt
        v = _velocity(net, x, t, inputs, guidance, noise_scale)
        if method == "heun" and i < steps - 1:
            x_pred = (x + dt * v) * free
            v2 = _velocity(net, x_pred, t + dt, inputs, guidance, noise_scale)
            v = 0.5 * (v + v2)
        # Keyframes written back: known residual is zero, so x1*mask + x*(1-mask) reduces to x*(1-mask).
        x = (x + dt * v) * free
    return x
