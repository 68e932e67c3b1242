"""ODE sampling of the flow with keyframes written back at every step, in numpy around any velocity network.

Few steps are enough because the flow only has to carry noise to a residual
over cubic interpolation, which is small and smooth; Heun's method buys accuracy per network
call when the step count is tiny. The loop is numpy so the editor runs it around the exported ONNX graph
without torch; the network itself is whatever :class:`VelocityModel` wraps (ONNX Runtime or torch).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from signeditor.cancellation import raise_if_stopped

SAMPLERS: tuple[str, ...] = ("euler", "heun")


@dataclass
class SampleInputs:
    """Batched float32 model inputs, all (B, C, T), and the conditioning parts per sequence."""

    interp: np.ndarray
    column_mask: np.ndarray
    stream_mask: np.ndarray
    length_mask: np.ndarray
    text_ids: np.ndarray  # (B, L) int64, 0 = padding
    text_weights: np.ndarray  # (B, L) float32
    language: np.ndarray  # (B,) int64
    #: The same with the text and language left out (classifier-free guidance); None without guidance.
    uncond: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None


@runtime_checkable
class VelocityModel(Protocol):
    """The flow network as the sampler sees it: numpy in, numpy out (ONNX Runtime or torch behind it)."""

    #: The clip length must be a multiple of this (the U-Net's down-sampling).
    downsample: int
    #: Whether the network is told each stream's gap phase and length besides the anchor mask.
    timing_channels: bool
    device: str

    def velocity(self, x: np.ndarray, interp: np.ndarray, stream_mask: np.ndarray, length_mask: np.ndarray,
                 t: np.ndarray, text_ids: np.ndarray, text_weights: np.ndarray, language: np.ndarray,
                 noise_scale: np.ndarray) -> np.ndarray:
        """(B, 246, T) flow velocity at flow times ``t`` (B,)."""
        ...


def torch_compatible_normal(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """``torch.randn(shape, generator=torch.Generator().manual_seed(seed))`` in numpy, to float32 rounding.

    torch's CPU generator is MT19937 seeded like numpy's legacy RandomState; randn draws 24-bit uniforms
    and turns each block of 16 into normals by Box-Muller (first 8 as u1, last 8 as u2), recomputing the
    last 16 from fresh uniforms when the size is not a multiple of 16. Reproducing it keeps every seed's
    motion what the torch sampler gave, with or without torch installed.
    """
    size = int(np.prod(shape))
    if size < 16:
        raise ValueError("torch-compatible noise needs at least 16 values (torch draws small tensors otherwise)")
    tail = size % 16
    raw = np.random.RandomState(int(seed) & 0xFFFFFFFF).randint(0, 2**32, size=size + (16 if tail else 0),
                                                                 dtype=np.uint64)
    uniform = (raw & 0xFFFFFF).astype(np.float64) * 2.0**-24

    def box_muller(blocks: np.ndarray) -> np.ndarray:
        radius = np.sqrt(-2.0 * np.log(1.0 - blocks[:, :8]))
        theta = 2.0 * np.pi * blocks[:, 8:]
        return np.concatenate([radius * np.cos(theta), radius * np.sin(theta)], axis=1).ravel()

    full = size - tail
    out = np.empty(size, dtype=np.float64)
    out[:full] = box_muller(uniform[:full].reshape(-1, 16))
    if tail:
        out[size - 16:] = box_muller(uniform[size:].reshape(1, 16))
    return out.astype(np.float32).reshape(shape)


def _velocity(model: VelocityModel, x: np.ndarray, t: float, inputs: SampleInputs, guidance: float,
              noise_scale: float) -> np.ndarray:
    batch = x.shape[0]
    if guidance == 1.0 or inputs.uncond is None:
        return model.velocity(x, inputs.interp, inputs.stream_mask, inputs.length_mask,
                              np.full(batch, t, dtype=np.float32), inputs.text_ids, inputs.text_weights,
                              inputs.language, np.full(batch, noise_scale, dtype=np.float32))
    # Conditioned and unconditioned passes in one batch: one network call per step.
    ids, weights, language = inputs.uncond
    length = max(inputs.text_ids.shape[1], ids.shape[1])

    def padded(a: np.ndarray) -> np.ndarray:
        return np.pad(a, ((0, 0), (0, length - a.shape[1])))

    def twice(a: np.ndarray) -> np.ndarray:
        return np.concatenate([a, a])

    v = model.velocity(twice(x), twice(inputs.interp), twice(inputs.stream_mask), twice(inputs.length_mask),
                       np.full(2 * batch, t, dtype=np.float32),
                       np.concatenate([padded(inputs.text_ids), padded(ids)]),
                       np.concatenate([padded(inputs.text_weights), padded(weights)]),
                       np.concatenate([inputs.language, language]), np.full(2 * batch, noise_scale, dtype=np.float32))
    v_cond, v_uncond = v[:batch], v[batch:]
    return v_uncond + guidance * (v_cond - v_uncond)


def sample_residual(model: VelocityModel, inputs: SampleInputs, *, steps: int, seed: int, method: str = "euler",
                    guidance: float = 1.0, noise_scale: float = 1.0) -> np.ndarray:
    """Integrate from noise (t=0) to data (t=1); anchored columns are reset to their known value (zero residual).

    The noise is torch's CPU generator's for ``seed`` (:func:`torch_compatible_normal`), so the same seed
    gives the same motion on every device and backend, and a new seed gives a variation.
    """
    if method not in SAMPLERS:
        raise ValueError(f"unknown sampler {method!r}; choose one of {SAMPLERS}")
    steps = max(1, int(steps))
    free = (1.0 - inputs.column_mask) * inputs.length_mask
    if noise_scale == 0.0:  # the editor's deterministic default: the noise would be multiplied away
        x = np.zeros_like(inputs.interp)
    else:
        x = (torch_compatible_normal(inputs.interp.shape, seed) * np.float32(noise_scale) * free).astype(np.float32)
    dt = 1.0 / steps
    for i in range(steps):
        raise_if_stopped()  # a superseded editor request stops between steps (see signeditor.cancellation)
        t = i * dt
        v = _velocity(model, x, t, inputs, guidance, noise_scale)
        if method == "heun" and i < steps - 1:
            x_pred = (x + dt * v) * free
            v2 = _velocity(model, x_pred, t + dt, inputs, guidance, noise_scale)
            v = 0.5 * (v + v2)
        # Keyframes written back: known residual is zero, so x1*mask + x*(1-mask) reduces to x*(1-mask).
        x = ((x + dt * v) * free).astype(np.float32)
    return x
