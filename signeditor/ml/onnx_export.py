"""Export a trained ``.pt`` to the ``.onnx`` the editor runs without torch (``signeditor train export-onnx``).

The export traces each network's own ``forward`` through a thin wrapper (KF2P: conditioning plus U-Net, one
velocity per call; FAST: logits to probabilities), so a retrained or resized network exports with the same
command. Every export is checked against torch on random inputs of two lengths before it is written, and carries
a JSON header (config, normalisation, the SHA-256 of its ``.pt``) in the ONNX metadata.
"""

from __future__ import annotations

import io
import json
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from signeditor.io.atomic import write_bytes_atomically
from signeditor.ml.onnx_session import HEADER_KEY, sha256_of

#: The ONNX opset the editor's ONNX Runtime must support.
OPSET = 17


class _GatherSum(nn.Module):
    """``nn.EmbeddingBag(mode="sum")`` with per-sample weights as gather and sum, which ONNX can express
    (the bag's own export refuses a padding index). Same weights, same result up to summation order."""

    def __init__(self, bag: nn.EmbeddingBag) -> None:
        super().__init__()
        self.weight = bag.weight
        self.padding_idx = bag.padding_idx

    def forward(self, ids: torch.Tensor, offsets: torch.Tensor | None = None,
                per_sample_weights: torch.Tensor | None = None) -> torch.Tensor:
        weights = torch.ones_like(ids, dtype=self.weight.dtype) if per_sample_weights is None else per_sample_weights
        if self.padding_idx is not None:
            weights = weights * (ids != self.padding_idx).to(weights.dtype)
        return (self.weight[ids] * weights[..., None]).sum(dim=1)


def _exportable(module: nn.Module) -> nn.Module:
    """Swap every sum-mode EmbeddingBag for :class:`_GatherSum` (in place; the module is a private copy)."""
    for name, child in list(module.named_children()):
        if isinstance(child, nn.EmbeddingBag) and child.mode == "sum":
            setattr(module, name, _GatherSum(child))
        else:
            _exportable(child)
    return module


class _KF2PVelocity(nn.Module):
    """One flow velocity from the raw conditioning parts: what the numpy sampler calls per step."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, x: torch.Tensor, interp: torch.Tensor, stream_mask: torch.Tensor, length_mask: torch.Tensor,
                t: torch.Tensor, text_ids: torch.Tensor, text_weights: torch.Tensor, language: torch.Tensor,
                noise_scale: torch.Tensor) -> torch.Tensor:
        cond = self.net.condition(t, text_ids, text_weights, language, noise_scale).to(x.dtype)
        return self.net(x, interp, stream_mask, length_mask, cond)


class _FastProbabilities(nn.Module):
    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.net = net

    def forward(self, hands: torch.Tensor, padding: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.net(hands, padding), dim=-1)


def _kf2p_inputs(net: nn.Module, batch: int, frames: int, tokens: int, seed: int) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    c = net.config
    frames = -(-frames // c.downsample) * c.downsample
    length = torch.ones(batch, 1, frames)
    length[-1, :, frames // 2:] = 0.0  # a padded sequence in the batch
    return (torch.randn(batch, 246, frames, generator=g), torch.randn(batch, 246, frames, generator=g),
            (torch.rand(batch, c.anchor_channels, frames, generator=g) > 0.8).float(), length,
            torch.rand(batch, generator=g), torch.randint(0, 4096, (batch, tokens), generator=g),
            torch.rand(batch, tokens, generator=g), torch.randint(0, c.n_languages + 1, (batch,), generator=g),
            torch.rand(batch, generator=g))


def _fast_inputs(net: nn.Module, batch: int, frames: int, seed: int) -> tuple[torch.Tensor, ...]:
    g = torch.Generator().manual_seed(seed)
    padding = torch.zeros(batch, frames, dtype=torch.bool)
    padding[-1, frames // 2:] = True
    return torch.randn(batch, 2, frames, net.config.in_dim, generator=g), padding


FAST_INPUTS = ("hands", "padding")


def _export(wrapper: nn.Module, example: tuple[torch.Tensor, ...], names: tuple[str, ...], output: str,
            dynamic: dict[str, dict[int, str]]) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():  # the tracer's notes on constant shape checks and its own deprecation
        warnings.simplefilter("ignore")
        torch.onnx.export(wrapper, example, buffer, input_names=list(names), output_names=[output],
                          dynamic_axes={**dynamic, output: {0: "batch", 2 if output == "velocity" else 1: "frames"}},
                          opset_version=OPSET, dynamo=False)
    return buffer.getvalue()


def _with_header(model_bytes: bytes, header: dict[str, Any]) -> bytes:
    import onnx

    model = onnx.load_from_string(model_bytes)
    entry = model.metadata_props.add()
    entry.key = HEADER_KEY
    entry.value = json.dumps(header)
    onnx.checker.check_model(model)
    return model.SerializeToString()


def _check_agreement(path_bytes: bytes, wrapper: nn.Module, examples: list[tuple[torch.Tensor, ...]],
                     names: tuple[str, ...], tolerance: float) -> float:
    """Largest difference between ONNX Runtime and torch over ``examples``; refuses the export above tolerance."""
    import onnxruntime

    session = onnxruntime.InferenceSession(path_bytes, providers=["CPUExecutionProvider"])
    worst = 0.0
    with torch.inference_mode():
        for example in examples:
            expected = wrapper(*example).numpy()
            got = session.run(None, {n: a.numpy() for n, a in zip(names, example, strict=True)})[0]
            worst = max(worst, float(np.abs(got - expected).max()))
    if worst > tolerance:
        raise RuntimeError(f"the ONNX export differs from torch by {worst:.3g} (> {tolerance:g}); not written")
    return worst


def export_kf2p(pt_path: Path, onnx_path: Path) -> dict[str, Any]:
    from signeditor.ml.kf2p.checkpoint import CHECKPOINT_FORMAT, CHECKPOINT_VERSION, load_checkpoint
    from signeditor.ml.kf2p.onnx_velocity import HEADER_FORMAT, INPUT_NAMES
    net, normaliser, languages, meta = load_checkpoint(pt_path)
    wrapper = _KF2PVelocity(_exportable(net)).eval()
    motion_axes = {0: "batch", 2: "frames"}
    dynamic = {"x": motion_axes, "interp": motion_axes, "stream_mask": motion_axes, "length_mask": motion_axes,
               "t": {0: "batch"}, "text_ids": {0: "batch", 1: "tokens"}, "text_weights": {0: "batch", 1: "tokens"},
               "language": {0: "batch"}, "noise_scale": {0: "batch"}}
    model_bytes = _export(wrapper, _kf2p_inputs(net, 2, 64, 7, 0), INPUT_NAMES, "velocity", dynamic)
    header = {"format": HEADER_FORMAT, "checkpoint_format": CHECKPOINT_FORMAT, "format_version": CHECKPOINT_VERSION,
              "config": net.config.to_dict(), "normaliser": normaliser.to_lists(), "languages": list(languages),
              "meta": meta, "source_sha256": sha256_of(pt_path)}
    model_bytes = _with_header(model_bytes, header)
    worst = _check_agreement(model_bytes, _KF2PVelocity(load_checkpoint(pt_path)[0]).eval(),
                             [_kf2p_inputs(net, 1, 250, 1, 1), _kf2p_inputs(net, 3, 96, 12, 2)], INPUT_NAMES, 1e-4)
    write_bytes_atomically(onnx_path, model_bytes)
    return {"onnx": str(onnx_path), "max_abs_difference": worst}


def export_fast(pt_path: Path, onnx_path: Path) -> dict[str, Any]:
    from signeditor.ml.fast.api import HEADER_FORMAT, load_segmenter

    segmenter = load_segmenter(pt_path, backend="torch")
    net = segmenter.net
    wrapper = _FastProbabilities(net).eval()
    dynamic = {"hands": {0: "batch", 2: "frames"}, "padding": {0: "batch", 1: "frames"}}
    model_bytes = _export(wrapper, _fast_inputs(net, 2, 80, 0), FAST_INPUTS, "probabilities", dynamic)
    header = {"format": HEADER_FORMAT, **segmenter.header_fields(), "source_sha256": sha256_of(pt_path)}
    model_bytes = _with_header(model_bytes, header)
    worst = _check_agreement(model_bytes, wrapper, [_fast_inputs(net, 1, 250, 1), _fast_inputs(net, 3, 37, 2)],
                             FAST_INPUTS, 1e-5)
    write_bytes_atomically(onnx_path, model_bytes)
    return {"onnx": str(onnx_path), "max_abs_difference": worst}


CARD_START, CARD_END = "<!-- weights-sha256 -->", "<!-- /weights-sha256 -->"


def record_in_model_card(card: Path, files: list[Path]) -> None:
    """Write the shipped files' SHA-256 into the model card's files block (replaced on every export)."""
    rows = "\n".join(f"| `{f.name}` | {f.stat().st_size:,} | `{sha256_of(f)}` |" for f in files)
    block = (f"{CARD_START}\n## Files (written by `signeditor train export-onnx`)\n\n"
             f"The editor runs the `.onnx` (ONNX Runtime, no torch); training and `--backend torch` use the `.pt`.\n\n"
             f"| file | bytes | SHA-256 |\n|---|---:|---|\n{rows}\n{CARD_END}")
    text = card.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(CARD_START) + ".*?" + re.escape(CARD_END), re.DOTALL)
    text = pattern.sub(lambda _: block, text) if pattern.search(text) else text.rstrip("\n") + "\n\n" + block + "\n"
    card.write_text(text, encoding="utf-8")


def export_onnx(pt_path: str | Path, onnx_path: str | Path | None = None) -> dict[str, Any]:
    """Write ``pt_path``'s ONNX export (default: beside it, ``.onnx``); which network it is, the file says."""
    pt_path = Path(pt_path)
    onnx_path = Path(onnx_path) if onnx_path is not None else pt_path.with_suffix(".onnx")
    payload = torch.load(pt_path, map_location="cpu", weights_only=True)
    kind = payload.get("format") if isinstance(payload, dict) else None
    exporters = {"signeditor-kf2p": export_kf2p, "signeditor-fast": export_fast}
    if kind not in exporters:
        raise ValueError(f"{pt_path}: not a SignEditor KF2P or FAST checkpoint")
    summary = exporters[kind](pt_path, onnx_path)
    summary.update(model=kind, pt_sha256=sha256_of(pt_path), onnx_sha256=sha256_of(onnx_path))
    card = pt_path.parent / "MODEL_CARD.md"
    if card.is_file():
        record_in_model_card(card, [pt_path, onnx_path])
        summary["model_card"] = str(card)
    return summary
