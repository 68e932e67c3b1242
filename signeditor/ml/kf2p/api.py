"""The generator the editor calls: anchors in, dense motion out, optionally only inside a window.

Windowed regeneration keeps a few frames of the current motion on each side
of the window as hard keyframes, so the network sees the motion it must join
and the result meets it without a jump in position or velocity; frames
outside the window are copied, never touched.

The network runs through ONNX Runtime (the exported ``kf2p.onnx``, no torch) or through torch when asked for
or when no current export is there; the sampler around it is the same numpy loop either way.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from signeditor.core import rotations
from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.interpolation import interpolate_between_anchors
from signeditor.core.motion import STREAM_SLICES, Motion
from signeditor.ml.kf2p.model_file import CHECKPOINT_VERSION, ModelLoadError
from signeditor.ml.kf2p.representation import (
    Conditioning,
    Normaliser,
    apply_residual_gate,
    build_conditioning,
    features_from_residual,
    normalised_interp,
    plain_cubic_of,
)
from signeditor.ml.kf2p.sampler import SampleInputs, VelocityModel, sample_residual
from signeditor.ml.kf2p.text import language_index, token_id_arrays
from signeditor.ml.onnx_session import OnnxModelError, onnx_runtime_available, stale_export
from signeditor.paths import MODELS_DIR

if TYPE_CHECKING:
    import torch

    from signeditor.ml.kf2p.model import KF2PNet

__all__ = ["BACKENDS", "DEFAULT_WEIGHTS", "Generator", "InterpolationGenerator", "ModelLoadError", "load_generator"]

DEFAULT_WEIGHTS = MODELS_DIR / "kf2p" / "kf2p.pt"
#: How :func:`load_generator` runs the network: the ONNX export when it is current, else torch ("auto").
BACKENDS: tuple[str, ...] = ("auto", "onnx", "torch")
DEFAULT_STEPS = 4
#: Frames of existing motion kept on each side of a window as hard keyframes.
CONTEXT_FRAMES = 3
#: Frames inside a window over which the kept motion's velocity is eased into the new motion.
BLEND_FRAMES = 4


def _window(n_frames: int, frame_range: tuple[int, int] | None) -> tuple[int, int]:
    if frame_range is None:
        return 0, n_frames
    start, stop = (int(frame_range[0]), int(frame_range[1]))
    start, stop = max(0, start), min(n_frames, stop)
    if stop <= start:
        raise ValueError(f"empty frame range {frame_range} for a motion of {n_frames} frames")
    return start, stop


def _write_anchors(features: np.ndarray, anchors: AnchorSet, start: int, stop: int) -> None:
    """Anchored streams take the anchor's pose bit for bit (later-created anchors win, as in AnchorSet)."""
    for anchor in sorted(anchors, key=lambda a: a.id):
        if start <= anchor.frame < stop:
            for stream in anchor.streams:
                features[anchor.frame, STREAM_SLICES[stream]] = anchor.pose[STREAM_SLICES[stream]]


def _blend_edges(features: np.ndarray, motion: Motion, start: int, stop: int, anchors: AnchorSet,
                 blend: int | None = None) -> None:
    """Ease the window's first and last frames from the kept motion's velocity into the generated motion.

    Near each edge the result is a smoothstep blend of the generated frames and
    a constant-velocity continuation of the kept motion, so position and
    velocity are continuous where the window meets untouched frames; the blend
    stops short of any anchor so anchored poses stay exact.
    """
    blend = BLEND_FRAMES if blend is None else blend
    n = motion.n_frames
    kept = motion.features
    frames = np.array(sorted({a.frame for a in anchors}), dtype=np.int64)
    inside = frames[(frames >= start) & (frames < stop)]
    for side in ("left", "right"):
        if side == "left":
            if start < 2:
                continue
            room = min(blend, int(inside.min() - start)) if len(inside) else blend
            idx = np.arange(start, min(stop, start + room))
            velocity = kept[start - 1] - kept[start - 2]
            continuation = kept[start - 1] + velocity * (idx - start + 1)[:, None]
            k = idx - start
        else:
            if stop > n - 2:
                continue
            room = min(blend, int(stop - 1 - inside.max())) if len(inside) else blend
            idx = np.arange(max(start, stop - room), stop)
            velocity = kept[stop] - kept[stop + 1]
            continuation = kept[stop] + velocity * (stop - idx)[:, None]
            k = stop - 1 - idx
        if len(idx) == 0:
            continue
        u = (k + 1) / (len(idx) + 1)
        weight = (1 - (3 * u**2 - 2 * u**3))[:, None]  # 1 at the edge, 0 inside, zero slope at both ends
        features[idx] = weight * continuation + (1 - weight) * features[idx]
    window = features[start:stop]
    features[start:stop] = rotations.orthonormalize_rot6d(window.reshape(len(window), -1, 6)).reshape(window.shape)


def _segment_keyframes(motion: Motion, anchors: AnchorSet, start: int, stop: int,
                       context: int) -> tuple[int, int, np.ndarray, np.ndarray]:
    """Keyframes of the sub-sequence to generate: anchors in the window plus context frames of the motion."""
    seg_start, seg_stop = max(0, start - context), min(motion.n_frames, stop + context)
    values, mask = anchors.keyframes(motion.n_frames)
    values, mask = values[seg_start:seg_stop].copy(), mask[seg_start:seg_stop].copy()
    outside = np.r_[seg_start:start, stop:seg_stop] - seg_start
    values[outside] = motion.features[seg_start:seg_stop][outside]
    mask[outside] = 1.0
    return seg_start, seg_stop, values, mask


class Generator:
    """A loaded KF2P model. Thread-compatible: one call at a time (the editor runs it on a worker thread)."""

    def __init__(self, net: VelocityModel | KF2PNet, normaliser: Normaliser, languages: list[str],
                 device: str | torch.device | None = None, meta: dict | None = None,
                 noise_scale: float | None = None) -> None:
        """``net``: an exported network (:class:`VelocityModel`) or a torch ``KF2PNet`` run on ``device``."""
        if isinstance(net, VelocityModel):
            self.model: VelocityModel = net
        else:
            from signeditor.ml.kf2p.torch_velocity import TorchVelocity

            self.model = TorchVelocity(net, device)
        self.net = net
        self.device = self.model.device
        self.normaliser = normaliser
        self.languages = languages
        self.meta = dict(meta or {})
        self.version = f"{CHECKPOINT_VERSION}.{self.meta.get('run_id', 'dev')}"
        self.default_steps = int(self.meta.get("default_steps", DEFAULT_STEPS))
        self.method = str(self.meta.get("sampler", "euler"))
        self.noise_scale = float(noise_scale if noise_scale is not None else self.meta.get("noise_scale", 1.0))
        self.end_tension = float(self.meta.get("end_tension", 0.0))
        #: Per gap kind (rest, signing), gap-length bucket and stream (body, left hand, right hand, jaw): how much
        #: of the model's departure from the plain cubic in-between is kept (chosen on validation after
        #: training, gate.py; None: all of it, as before the gate). Bucket edges in frames.
        gate = self.meta.get("residual_gate")
        self.residual_gate = None if gate is None else np.asarray(gate, dtype=np.float64)
        self.residual_gate_edges = tuple(int(e) for e in self.meta.get("residual_gate_gap_edges", ()))

    def _inputs(self, conds: list[Conditioning], texts: list[str], languages: list[str],
                with_uncond: bool) -> SampleInputs:
        n = max(c.interp.shape[0] for c in conds)
        ds = self.model.downsample
        padded = -(-n // ds) * ds

        def stack(arrays: list[np.ndarray]) -> np.ndarray:
            out = np.zeros((len(arrays), padded, arrays[0].shape[1]), dtype=np.float32)
            for i, a in enumerate(arrays):
                out[i, : a.shape[0]] = a
            return np.ascontiguousarray(out.transpose(0, 2, 1))

        lengths = [np.ones((c.interp.shape[0], 1), dtype=np.float32) for c in conds]
        ids, weights = token_id_arrays(texts)
        lang = np.array([language_index(self.languages, code) for code in languages], dtype=np.int64)
        uncond = None
        if with_uncond:
            empty_ids, empty_w = token_id_arrays([""] * len(texts))
            uncond = (empty_ids, empty_w, np.zeros_like(lang))
        return SampleInputs(
            interp=stack([normalised_interp(c, self.normaliser) for c in conds]),
            column_mask=stack([c.column_mask for c in conds]),
            stream_mask=stack([c.anchor_channels(self.model.timing_channels) for c in conds]),
            length_mask=stack(lengths),
            text_ids=ids, text_weights=weights, language=lang, uncond=uncond,
        )

    def generate_features(self, values: np.ndarray, mask: np.ndarray, *, steps: int | None = None, seed: int = 0,
                          text: str = "", signed_language: str = "", guidance: float = 1.0,
                          open_start: bool = False, open_end: bool = False) -> np.ndarray:
        """Dense features (T, 246) from dense keyframe arrays, as :meth:`AnchorSet.keyframes` returns them.

        ``open_start`` / ``open_end``: that edge is window context inside a longer clip, not the clip's end.
        """
        cond = build_conditioning(values, mask, self.end_tension, open_start=open_start, open_end=open_end)
        if self.residual_gate is not None and not self.residual_gate.any():
            # Gate 0 in every context: the result is the plain cubic whatever the network says, so skip it.
            plain = plain_cubic_of(cond, values)
            out = apply_residual_gate(plain, plain, self.residual_gate, cond.stream_mask, values,
                                      gap_edges=self.residual_gate_edges)
            anchored = cond.column_mask > 0.5
            out[anchored] = cond.interp[anchored]
            return out
        inputs = self._inputs([cond], [text], [signed_language], with_uncond=guidance != 1.0)
        residual = sample_residual(self.model, inputs, steps=steps or self.default_steps, seed=seed,
                                   method=self.method, guidance=guidance, noise_scale=self.noise_scale)
        residual_np = residual[0].T[: values.shape[0]]
        features = features_from_residual(residual_np, cond, self.normaliser)
        if self.residual_gate is None:
            return features
        return apply_residual_gate(features, plain_cubic_of(cond, values), self.residual_gate,
                                   cond.stream_mask, values, (not open_start, not open_end), self.residual_gate_edges)

    def base_features(self, values: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """The model's base in-between alone (its fitted spline, no network residual): what evaluation compares the
        full model with, to measure what the network itself adds."""
        cond = build_conditioning(values, mask, self.end_tension)
        return features_from_residual(np.zeros_like(cond.interp), cond, self.normaliser)

    def regenerate_between_anchors(self, motion: Motion, anchors: AnchorSet, *,
                                   frame_range: tuple[int, int] | None = None, steps: int | None = None,
                                   seed: int = 0, text: str = "", signed_language: str = "",
                                   guidance: float = 1.0) -> Motion:
        """New motion through ``anchors``; only frames in ``frame_range`` (start, stop exclusive) change.

        Anchored streams equal the anchor pose exactly on anchor frames inside the range.
        """
        result = motion.copy()
        if motion.n_frames == 0:
            return result
        start, stop = _window(motion.n_frames, frame_range)
        context = 0 if frame_range is None else CONTEXT_FRAMES
        seg_start, seg_stop, values, mask = _segment_keyframes(motion, anchors, start, stop, context)
        generated = self.generate_features(values, mask, steps=steps, seed=seed, text=text,
                                           signed_language=signed_language, guidance=guidance,
                                           open_start=seg_start < start, open_end=seg_stop > stop)
        result.features[start:stop] = generated[start - seg_start : stop - seg_start]
        if frame_range is not None:
            _blend_edges(result.features, motion, start, stop, anchors)
        _write_anchors(result.features, anchors, start, stop)
        if result.filled is not None:
            result.filled[start:stop] = False
        return result


class InterpolationGenerator:
    """Same call as :class:`Generator`, backed by classical interpolation: the editor's fallback without weights."""

    version = "interpolation"
    device = "cpu"

    def __init__(self, method: str = "cubic") -> None:
        self.method = method

    def regenerate_between_anchors(self, motion: Motion, anchors: AnchorSet, *,
                                   frame_range: tuple[int, int] | None = None, steps: int | None = None,
                                   seed: int = 0, text: str = "", signed_language: str = "",
                                   guidance: float = 1.0) -> Motion:
        del steps, seed, text, signed_language, guidance
        result = motion.copy()
        if motion.n_frames == 0:
            return result
        start, stop = _window(motion.n_frames, frame_range)
        context = 0 if frame_range is None else 1
        seg_start, seg_stop, values, mask = _segment_keyframes(motion, anchors, start, stop, context)

        # Rebuild anchors for the segment from the dense keyframes (context frames included) and interpolate.
        seg_anchors = []
        for f in np.flatnonzero(mask.any(axis=1)):
            streams = frozenset(s for s, cols in STREAM_SLICES.items() if mask[f, cols.start] > 0.5)
            seg_anchors.append(Anchor(int(f), values[f], streams))
        dense = interpolate_between_anchors(seg_stop - seg_start, AnchorSet(seg_anchors), self.method, motion.fps)
        result.features[start:stop] = dense[start - seg_start : stop - seg_start]
        if frame_range is not None:
            _blend_edges(result.features, motion, start, stop, anchors)
        _write_anchors(result.features, anchors, start, stop)
        return result


def _onnx_generator(path: Path, device: str | None, backend: str, threads: int | None) -> Generator | None:
    """The export's generator; None when it is stale and ``backend`` lets torch run the ``.pt`` instead."""
    from signeditor.ml.kf2p.onnx_velocity import OnnxVelocity

    try:
        model = OnnxVelocity(path, device, threads)
        header = model.header
        stale = stale_export(path, header)
        if stale is not None:
            if backend == "auto":
                return None
            raise ModelLoadError(path, stale)
        if header.get("format_version") != CHECKPOINT_VERSION:
            raise ModelLoadError(path, f"export version {header.get('format_version')!r} is not supported "
                                       f"(expected {CHECKPOINT_VERSION})")
        normaliser = Normaliser.from_lists(header["normaliser"])
        languages = [str(x) for x in header["languages"]]
        meta = dict(header.get("meta", {}))
    except OnnxModelError as exc:
        raise ModelLoadError(path, exc.problem) from exc
    except (KeyError, TypeError, ValueError) as exc:
        raise ModelLoadError(path, f"ONNX header is inconsistent ({exc})") from exc
    return Generator(model, normaliser, languages, meta=meta)


def _torch_generator(path: Path, device: str | None, threads: int | None) -> Generator:
    try:
        import torch

        from signeditor.ml.kf2p.checkpoint import load_checkpoint
    except ImportError as exc:
        raise ModelLoadError(path, "running a .pt needs torch (pip install signeditor[train]); "
                                   "the editor runs the exported .onnx beside it without torch") from exc
    if threads:
        torch.set_num_threads(threads)
    net, normaliser, languages, meta = load_checkpoint(path)
    return Generator(net, normaliser, languages, device, meta)


def load_generator(path: str | Path | None = None, device: str | None = None, backend: str = "auto",
                   threads: int | None = None) -> Generator:
    """Load KF2P (the shipped model by default); raises :class:`ModelLoadError` when it cannot be used.

    ``path`` is a ``.pt`` checkpoint or its ``.onnx`` export. ``backend="auto"`` runs the export beside a
    ``.pt`` when ONNX Runtime is installed and the export is current (measured faster: README, Performance),
    and torch otherwise; "onnx" or "torch" insist on one. ``threads`` caps the CPU threads inference uses.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {BACKENDS}")
    path = Path(path) if path is not None else DEFAULT_WEIGHTS
    device = None if device is None else str(device)
    onnx_path = path.with_suffix(".onnx")
    if backend != "torch" and onnx_path.is_file() and (backend == "onnx" or onnx_runtime_available()):
        generator = _onnx_generator(onnx_path, device, backend, threads)
        if generator is not None:
            return generator
    elif backend == "onnx":
        raise ModelLoadError(onnx_path, "no ONNX export of these weights (`signeditor train export-onnx`)")
    if path.suffix == ".onnx":
        raise ModelLoadError(path, "ONNX export not found")
    return _torch_generator(path, device, threads)
