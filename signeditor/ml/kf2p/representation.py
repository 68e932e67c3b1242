"""What the network sees: the classical in-between of the keyframes and the normalised residual to it.

The base is Catmull-Rom (cubic) interpolation, which measured 13% closer to
real hands than slerp on the validation split of the first corpus, so the
network starts from the better of the two baselines.
Generating the residual over the classical interpolation, rather than the
motion itself, means an untrained or uncertain model degrades to what the
animation tools already do, and all capacity goes into what interpolation gets wrong
(arcs, holds, anticipation, finger timing). Keyframe frames have residual zero
by construction, so writing keyframes back during sampling is exact.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from signeditor.core import rotations
from signeditor.core.interpolation import interpolate_keyframes
from signeditor.core.motion import FEATURE_DIM, STREAM_SLICES, STREAMS
from signeditor.ml.kf2p.end_tension import end_tensions, rest_weight

if TYPE_CHECKING:
    import torch


@dataclass
class Normaliser:
    """Per-channel statistics of the features and of the residual to the base in-between, from the training split."""

    feature_mean: np.ndarray
    feature_std: np.ndarray
    residual_std: np.ndarray

    def to_dict(self) -> dict[str, torch.Tensor]:
        import torch

        return {k: torch.from_numpy(np.asarray(v, dtype=np.float32)) for k, v in self.__dict__.items()}

    @classmethod
    def from_dict(cls, d: dict[str, torch.Tensor]) -> Normaliser:
        return cls(**{k: np.asarray(d[k].float().cpu().numpy(), dtype=np.float32) for k in
                      ("feature_mean", "feature_std", "residual_std")})

    def to_lists(self) -> dict[str, list[float]]:
        """Plain numbers for a JSON header (float32 values survive the round trip exactly)."""
        return {k: [float(x) for x in np.asarray(v, dtype=np.float32)] for k, v in self.__dict__.items()}

    @classmethod
    def from_lists(cls, d: dict[str, list[float]]) -> Normaliser:
        return cls(**{k: np.asarray(d[k], dtype=np.float32) for k in ("feature_mean", "feature_std", "residual_std")})

    @classmethod
    def identity(cls) -> Normaliser:
        ones = np.ones(FEATURE_DIM, dtype=np.float32)
        return cls(np.zeros(FEATURE_DIM, dtype=np.float32), ones, ones.copy())


def stream_mask_from_columns(mask: np.ndarray) -> np.ndarray:
    """(T, 246) column mask -> (T, 4) per-stream mask (a stream is anchored or not as a whole)."""
    return np.stack([mask[:, STREAM_SLICES[s].start] for s in STREAMS], axis=1).astype(np.float32)


def columns_from_stream_mask(stream_mask: np.ndarray) -> np.ndarray:
    out = np.zeros((stream_mask.shape[0], FEATURE_DIM), dtype=np.float32)
    for i, s in enumerate(STREAMS):
        out[:, STREAM_SLICES[s]] = stream_mask[:, i : i + 1]
    return out


@dataclass
class Conditioning:
    """Numpy inputs for one sequence (T frames)."""

    interp: np.ndarray  # (T, 246) cubic in-between, exact at keyframes
    column_mask: np.ndarray  # (T, 246) not generated: anchored, or outside the stream's anchored span (held)
    stream_mask: np.ndarray  # (T, 4) anchors, what the network is told
    #: The base spline's tension at the first and last key (none: ``interp`` is the plain cubic itself).
    end_tension: tuple[float, float] = (0.0, 0.0)

    def anchor_channels(self, with_timing: bool) -> np.ndarray:
        """What the network is told about the anchors per frame: the stream mask, optionally with timing."""
        if not with_timing:
            return self.stream_mask
        return np.concatenate([self.stream_mask, gap_timing(self.stream_mask)], axis=1)


#: Frames per second of the gap lengths the timing channels report (the corpus rate).
TIMING_FPS = 25.0


def gap_timing(stream_mask: np.ndarray) -> np.ndarray:
    """(T, 8): per stream, the phase (0 to 1) of each frame between its two anchors and that gap's length (s).

    A temporal convolution sees the anchors only as sparse spikes in the mask;
    where a frame sits between them (just after a hold, or mid-transition) and
    how long the transition is decide how the hand should move, so both are
    given explicitly. Frames outside the first and last anchor get zeros.
    """
    n = stream_mask.shape[0]
    out = np.zeros((n, 2 * stream_mask.shape[1]), dtype=np.float32)
    t = np.arange(n)
    for i in range(stream_mask.shape[1]):
        frames = np.flatnonzero(stream_mask[:, i] > 0.5)
        if len(frames) < 2:
            continue
        seg = np.searchsorted(frames, t, side="right") - 1
        inside = (seg >= 0) & (seg < len(frames) - 1)
        prev, nxt = frames[seg[inside]], frames[seg[inside] + 1]
        out[inside, 2 * i] = (t[inside] - prev) / (nxt - prev)
        out[inside, 2 * i + 1] = (nxt - prev) / TIMING_FPS
    return out


#: How the base in-between is computed (see the module docstring).
BASE_INTERPOLATION = "cubic"


def build_conditioning(values: np.ndarray, mask: np.ndarray, end_tension: float = 0.0, *,
                       open_start: bool = False, open_end: bool = False) -> Conditioning:
    """``end_tension`` shapes the base spline at the clip's first and last anchor (see end_tension.py; a
    checkpoint stores the value it was trained with). An *open* side is a window edge inside the clip, whose
    keys are context frames of the kept motion, not a signer starting from or returning to rest: no tension."""
    stream_mask = stream_mask_from_columns(mask)
    column_mask = columns_from_stream_mask(stream_mask)
    ends = (0.0, 0.0)
    if not (open_start and open_end):  # a window open at both sides has no clip end to tension
        first, last = end_tensions(values, np.flatnonzero(stream_mask[:, STREAMS.index("body")] > 0.5), end_tension)
        ends = (0.0 if open_start else first, 0.0 if open_end else last)
    interp = interpolate_keyframes(values, column_mask, BASE_INTERPOLATION, ends)
    held = columns_from_stream_mask(1.0 - anchored_span(stream_mask))
    return Conditioning(interp, np.maximum(column_mask, held), stream_mask, ends)


def anchored_span(stream_mask: np.ndarray) -> np.ndarray:
    """(T, 4): 1 from each stream's first to its last anchor. Outside it nothing constrains the motion, the pose
    is held (as interpolation holds it) and the network generates nothing: learning to guess how a signer left
    and returned to rest there would only pull its in-between predictions off."""
    span = np.zeros_like(stream_mask)
    for i in range(stream_mask.shape[1]):
        frames = np.flatnonzero(stream_mask[:, i] > 0.5)
        if len(frames):
            span[frames[0]:frames[-1] + 1, i] = 1.0
    return span


def residual_target(features: np.ndarray, cond: Conditioning, norm: Normaliser) -> np.ndarray:
    """Normalised residual the flow generates; exactly zero on anchored columns."""
    return ((features - cond.interp) / norm.residual_std * (1.0 - cond.column_mask)).astype(np.float32)


def features_from_residual(residual: np.ndarray, cond: Conditioning, norm: Normaliser) -> np.ndarray:
    """Back to valid rotations: add the residual to the base in-between and project every 6-vector onto a rotation."""
    features = cond.interp + residual * norm.residual_std
    n = features.shape[0]
    features = rotations.orthonormalize_rot6d(features.reshape(n, -1, 6)).reshape(n, -1).astype(np.float32)
    anchored = cond.column_mask > 0.5
    features[anchored] = cond.interp[anchored]
    return features


def normalised_interp(cond: Conditioning, norm: Normaliser) -> np.ndarray:
    return ((cond.interp - norm.feature_mean) / norm.feature_std).astype(np.float32)


def plain_cubic(values: np.ndarray, stream_mask: np.ndarray) -> np.ndarray:
    """Catmull-Rom through the anchors with no end tension: exactly the cubic baseline evaluation compares with
    (``interpolate_between_anchors(..., "cubic")``), the base the residual gate falls back to."""
    return interpolate_keyframes(values, columns_from_stream_mask(stream_mask), "cubic")


def plain_cubic_of(cond: Conditioning, values: np.ndarray) -> np.ndarray:
    """:func:`plain_cubic` of the keyframes ``cond`` was built from: its base itself when that has no end tension."""
    if BASE_INTERPOLATION == "cubic" and cond.end_tension == (0.0, 0.0):
        return cond.interp
    return plain_cubic(values, cond.stream_mask)


def gap_lengths(stream_mask: np.ndarray) -> np.ndarray:
    """(T, 4) per frame and stream, how many frames apart the stream's anchors on either side of it are (frames
    before the first or after the last anchor take the first or last gap; 0 where a stream has under 2 anchors).

    The context the residual gate buckets by: short gaps (every few frames, continuous signing) are where
    the plain cubic is already as good as the network, long ones (isolated signs, letters with FAST's keys)
    where the network is far better."""
    n = stream_mask.shape[0]
    lengths = np.zeros((n, len(STREAMS)), dtype=np.int64)
    for i in range(len(STREAMS)):
        anchors = np.flatnonzero(stream_mask[:, i] > 0.5)
        if len(anchors) < 2:
            continue
        nxt = np.clip(np.searchsorted(anchors, np.arange(n), side="right"), 1, len(anchors) - 1)
        lengths[:, i] = anchors[nxt] - anchors[nxt - 1]
    return lengths


def rest_gaps(stream_mask: np.ndarray, values: np.ndarray, clip_ends: tuple[bool, bool] = (True, True)) -> np.ndarray:
    """(T,) True in a *rest* gap: between a clip's first (last) body anchor and the next (previous) one where the
    signer is fully at rest at that end anchor (``end_tension.rest_weight`` 1), leaving or returning to rest.
    ``clip_ends``: whether the first / last anchor is the clip's end (False: window context inside a clip)."""
    n = stream_mask.shape[0]
    rest = np.zeros(n, dtype=bool)
    body = np.flatnonzero(stream_mask[:, STREAMS.index("body")] > 0.5)
    if len(body) < 2:
        return rest
    t = np.arange(n)
    for is_end, anchor, gap in ((clip_ends[0], body[0], t <= body[1]), (clip_ends[1], body[-1], t >= body[-2])):
        if is_end and rest_weight(values[anchor]) >= 1.0:
            rest |= gap
    return rest


def gate_table(gate: np.ndarray, gap_edges: tuple[int, ...] = ()) -> np.ndarray:
    """The flat gate of a checkpoint's meta as (2, buckets, 4): [rest gap, signing gap][gap-length bucket][stream].
    ``gap_edges`` (ascending, frames): bucket k holds gaps with ``edges[k-1] < length <= edges[k]``. A (4,) gate
    applies to every gap; 8 floats without edges are the rest row and the signing row (the older format)."""
    gate = np.asarray(gate, dtype=np.float64).reshape(-1, len(gap_edges) + 1, len(STREAMS))
    return np.stack([gate[0], gate[-1]])


def gate_weights(gate: np.ndarray, stream_mask: np.ndarray, values: np.ndarray,
                 clip_ends: tuple[bool, bool] = (True, True), gap_edges: tuple[int, ...] = ()) -> np.ndarray:
    """(T, 4) per frame and stream, the share of the model's departure from the plain cubic to keep: the entry of
    :func:`gate_table` for the frame's gap kind (:func:`rest_gaps`) and its stream's gap length (:func:`gap_lengths`).

    Only what the generator sees at inference decides it (the anchors and their spacing), never what kind of
    signing the clip is."""
    table = gate_table(gate, gap_edges)
    buckets = np.searchsorted(np.asarray(gap_edges, dtype=np.int64), gap_lengths(stream_mask), side="left")
    kind = np.where(rest_gaps(stream_mask, values, clip_ends), 0, 1)[:, None]
    return table[kind, buckets, np.arange(len(STREAMS))[None, :]]


def blend_streams(generated: np.ndarray, plain: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """(T, 246) ``plain + weights * (generated - plain)`` per stream (weights (T, 4)), back onto rotations."""
    out = plain.astype(np.float64).copy()
    for i, stream in enumerate(STREAMS):
        cols = STREAM_SLICES[stream]
        out[:, cols] += weights[:, i:i + 1] * (generated[:, cols] - plain[:, cols])
    n = out.shape[0]
    return rotations.orthonormalize_rot6d(out.reshape(n, -1, 6)).reshape(n, -1)


def apply_residual_gate(generated: np.ndarray, plain: np.ndarray, gate: np.ndarray, stream_mask: np.ndarray,
                        values: np.ndarray, clip_ends: tuple[bool, bool] = (True, True),
                        gap_edges: tuple[int, ...] = ()) -> np.ndarray:
    """Per stream (body, left hand, right hand, jaw) and frame, ``plain + w * (generated - plain)`` with ``w`` from
    :func:`gate_weights`, projected back onto rotations; anchored frames keep the anchor pose exactly.

    Gate 0 keeps the plain cubic in-between (where the network is not better than it, measured on validation),
    1 keeps the model's output; the values live in the checkpoint's meta (``residual_gate``).
    """
    weights = gate_weights(gate, stream_mask, values, clip_ends, gap_edges)
    out = blend_streams(generated, plain, weights).astype(np.float32)
    anchored = columns_from_stream_mask(stream_mask) > 0.5
    out[anchored] = generated[anchored]
    return out
