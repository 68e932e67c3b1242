"""The fast_tracks network as a plain numpy forward: a small dilated temporal convolution stack.

Inference needs no torch: the weights are an ``.npz`` of float arrays read
with ``allow_pickle=False``, and the forward below is a handful of matrix
products (a few hundred thousand frames per second on one core). Training
(``training.py``) builds the same layers in torch and exports them here; a
test checks both forwards agree.

Layers: a per-frame projection of the track features, residual blocks of a
dilated convolution + ReLU + per-frame mixing (dilations 1, 2, 4, 8, 1 with
kernel 5: about two seconds of context either side), a ReLU and a 3-way head
(non-sign / in-sign / sign-start).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from signeditor.core.hand_tracks import TRACK_FEATURE_DIM
from signeditor.io.atomic import write_bytes_atomically
from signeditor.io.errors import FileFormatError

WEIGHTS_FORMAT = "signeditor-fast-tracks"
WEIGHTS_VERSION = 1


@dataclass(frozen=True)
class TracksConfig:
    in_dim: int = TRACK_FEATURE_DIM
    channels: int = 32
    kernel: int = 5
    dilations: tuple[int, ...] = (1, 2, 4, 8, 1)


@dataclass
class TracksWeights:
    """Config, input normalisation and the layer arrays, by name (``input.w`` (C, F), ``block0.conv.w``
    (C, C, K) in torch's Conv1d layout, ...)."""

    config: TracksConfig
    mean: np.ndarray
    std: np.ndarray
    arrays: dict[str, np.ndarray]
    extra: dict = field(default_factory=dict)  # decoding settings, duration prior, training info (JSON)


def _conv(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, dilation: int) -> np.ndarray:
    """Zero-padded 'same' 1D cross-correlation of (T, C_in) with a (C_out, C_in, K) kernel, as torch's Conv1d."""
    k = weight.shape[2]
    pad = dilation * (k // 2)
    padded = np.pad(x, ((pad, pad), (0, 0)))
    n = len(x)
    out = np.broadcast_to(bias, (n, len(bias))).copy()
    for j in range(k):
        out += padded[j * dilation : j * dilation + n] @ weight[:, :, j].T
    return out


def forward(weights: TracksWeights, features: np.ndarray) -> np.ndarray:
    """(T, F) track features -> (T, 3) tag probabilities."""
    a = weights.arrays
    x = (np.asarray(features, dtype=np.float32) - weights.mean) / weights.std
    h = x @ a["input.w"].T + a["input.b"]
    for i, dilation in enumerate(weights.config.dilations):
        inner = np.maximum(_conv(h, a[f"block{i}.conv.w"], a[f"block{i}.conv.b"], dilation), 0.0)
        h = h + inner @ a[f"block{i}.mix.w"].T + a[f"block{i}.mix.b"]
    logits = np.maximum(h, 0.0) @ a["head.w"].T + a["head.b"]
    logits = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(logits)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def expected_shapes(config: TracksConfig) -> dict[str, tuple[int, ...]]:
    c = config.channels
    shapes: dict[str, tuple[int, ...]] = {"input.w": (c, config.in_dim), "input.b": (c,),
                                          "head.w": (3, c), "head.b": (3,)}
    for i in range(len(config.dilations)):
        shapes |= {f"block{i}.conv.w": (c, c, config.kernel), f"block{i}.conv.b": (c,),
                   f"block{i}.mix.w": (c, c), f"block{i}.mix.b": (c,)}
    return shapes


def save_weights(weights: TracksWeights, path: str | Path) -> None:
    """Write an ``.npz`` of plain arrays (JSON text for config and extras), atomically."""
    import io

    header = {"format": WEIGHTS_FORMAT, "version": WEIGHTS_VERSION, "config": asdict(weights.config),
              "extra": weights.extra}
    buffer = io.BytesIO()
    np.savez(buffer, header=np.array(json.dumps(header)), mean=weights.mean.astype(np.float32),
             std=weights.std.astype(np.float32), **{k: v.astype(np.float32) for k, v in weights.arrays.items()})
    write_bytes_atomically(path, buffer.getvalue())


def load_weights(path: str | Path) -> TracksWeights:
    """Weights saved by :func:`save_weights`; FileFormatError for a missing, foreign or damaged file."""
    path = Path(path)
    if not path.is_file():
        raise FileFormatError(path, "fast_tracks weights not found; train them with `signeditor train fast-tracks`")
    try:
        with np.load(path, allow_pickle=False) as data:
            header = json.loads(str(data["header"]))
            arrays = {k: np.asarray(data[k], dtype=np.float32) for k in data.files if k != "header"}
    except (OSError, ValueError, KeyError, json.JSONDecodeError) as exc:
        raise FileFormatError(path, f"cannot read fast_tracks weights ({type(exc).__name__}: {exc})") from exc
    if header.get("format") != WEIGHTS_FORMAT:
        raise FileFormatError(path, "not a fast_tracks weights file")
    if header.get("version") != WEIGHTS_VERSION:
        raise FileFormatError(path, f"fast_tracks weights version {header.get('version')!r}, "
                                    f"this SignEditor reads {WEIGHTS_VERSION}")
    try:
        raw = header["config"]
        config = TracksConfig(**{**raw, "dilations": tuple(raw["dilations"])})
    except (KeyError, TypeError) as exc:
        raise FileFormatError(path, f"fast_tracks config is damaged: {exc}") from exc
    mean, std = arrays.pop("mean", None), arrays.pop("std", None)
    shapes = expected_shapes(config)
    wrong = [k for k, shape in shapes.items() if k not in arrays or arrays[k].shape != shape]
    if mean is None or std is None or mean.shape != (config.in_dim,) or std.shape != (config.in_dim,) or wrong:
        raise FileFormatError(path, f"fast_tracks arrays missing or misshapen: {wrong or ['mean/std']}")
    return TracksWeights(config, mean, std, {k: arrays[k] for k in shapes}, dict(header.get("extra") or {}))
