"""Load the shipped FAST weights and segment motions.

The checkpoint is a plain dict of tensors and numbers read with
``weights_only=True``: it carries its format version, the network config,
the feature normalisation and the decoding settings it was tuned with, so a
file is self-describing and a mismatched or damaged file fails loudly. The editor runs the network's ONNX
export (``fast.onnx`` beside ``fast.pt``, written by ``signeditor train``) through ONNX Runtime, without torch;
torch runs the ``.pt`` when asked for, or when no current export is there.
"""

from __future__ import annotations

from dataclasses import asdict, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from signeditor.core.hand_features import hand_features_and_wrists_many, wrist_positions
from signeditor.core.motion import Motion
from signeditor.core.segmentation_decoding import (
    DecodingSettings,
    SplitSettings,
    decode_segments,
    split_unanchored_segments,
)
from signeditor.core.segments import Segment
from signeditor.io.errors import FileFormatError
from signeditor.ml.onnx_session import OnnxModelError, onnx_runtime_available, open_session, stale_export
from signeditor.paths import MODELS_DIR

if TYPE_CHECKING:
    import onnxruntime

    from signeditor.ml.fast.model import FastSegmenterNet

CHECKPOINT_FORMAT = "signeditor-fast"
CHECKPOINT_VERSION = 1
#: Frame rate the network was trained at; other motions are resampled to it.
MODEL_FPS = 25.0
DEFAULT_WEIGHTS = MODELS_DIR / "fast" / "fast.pt"
HEADER_FORMAT = "signeditor-fast-onnx"
#: How :func:`load_segmenter` runs the network: the ONNX export when it is current, else torch ("auto").
BACKENDS: tuple[str, ...] = ("auto", "onnx", "torch")


@runtime_checkable
class TagModel(Protocol):
    """The network as the segmenter sees it: normalised (B, 2, T, F) hand streams and (B, T) padding in,
    (B, T, 3) tag probabilities out."""

    def probabilities(self, hands: np.ndarray, padding: np.ndarray) -> np.ndarray: ...


class OnnxTagModel:
    """The exported network through ONNX Runtime."""

    def __init__(self, session: onnxruntime.InferenceSession) -> None:
        self.session = session

    def probabilities(self, hands: np.ndarray, padding: np.ndarray) -> np.ndarray:
        return self.session.run(None, {"hands": hands, "padding": padding})[0]


class TorchTagModel:
    """The torch network (training, and inference when asked for)."""

    def __init__(self, net: FastSegmenterNet) -> None:
        self.net = net.eval()

    def probabilities(self, hands: np.ndarray, padding: np.ndarray) -> np.ndarray:
        import torch

        with torch.inference_mode():
            pad = torch.from_numpy(padding) if padding.any() else None
            return torch.softmax(self.net(torch.from_numpy(hands), pad), dim=-1).numpy()


class Segmenter:
    """A trained FAST network plus its normalisation and decoding settings.

    ``splitting`` splits the signs the network did not parse (long sign runs with no sign-start peak, as on real
    continuous signing) at wrist-speed minima; ``None`` gives the shipped decoding of the probabilities alone.
    """

    def __init__(
        self,
        net: TagModel | FastSegmenterNet,
        mean: np.ndarray,
        std: np.ndarray,
        decoding: DecodingSettings | None = None,
        batch_frames: int = 4096,
        info: dict | None = None,
        splitting: SplitSettings | None = SplitSettings(),  # noqa: B008 (frozen dataclass)
    ) -> None:
        """``net``: an exported network (:class:`TagModel`) or a torch ``FastSegmenterNet``."""
        self.net = net
        self.model: TagModel = net if isinstance(net, TagModel) else TorchTagModel(net)
        self.mean = np.asarray(mean, dtype=np.float32)
        self.std = np.asarray(std, dtype=np.float32)
        self.decoding = decoding or DecodingSettings()
        self.batch_frames = batch_frames
        self.info = dict(info or {})
        self.splitting = splitting

    def header_fields(self) -> dict[str, Any]:
        """What an ONNX export carries besides the network (plain JSON: float32 values round-trip exactly)."""
        config = self.net.config.to_dict() if hasattr(self.net, "config") else self.info.get("config", {})
        return {"version": CHECKPOINT_VERSION, "config": config, "mean": self.mean.tolist(),
                "std": self.std.tolist(), "decoding": asdict(self.decoding), "info": self.info,
                "splitting": None if self.splitting is None else asdict(self.splitting)}

    def _streams(self, motions: list[Motion]) -> list[np.ndarray]:
        return self._streams_and_wrists(motions)[0]

    def _streams_and_wrists(self, motions: list[Motion]) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
        """The network's hand streams at the model rate, and the wrist positions the decoder splits signs by (None
        for a motion at another rate: the decoder works at the motion's own rate)."""
        at_rate = [abs(m.fps - MODEL_FPS) <= 1e-6 for m in motions]
        resampled = [m if ok else m.resampled(MODEL_FPS) for m, ok in zip(motions, at_rate, strict=True)]
        streams, wrists = hand_features_and_wrists_many([m.features for m in resampled], MODEL_FPS)
        return streams, [w if ok else None for w, ok in zip(wrists, at_rate, strict=True)]

    def _probabilities_of_streams(self, streams: list[np.ndarray]) -> list[np.ndarray]:
        """Batch clips of similar length together, padding to the longest in each batch."""
        order = sorted(range(len(streams)), key=lambda i: streams[i].shape[1])
        results: list[np.ndarray] = [np.empty((0, 3), np.float32)] * len(streams)
        i = 0
        while i < len(order):
            longest = max(streams[order[i]].shape[1], 1)
            j = i + 1
            while j < len(order) and (j - i + 1) * max(streams[order[j]].shape[1], 1) <= self.batch_frames:
                longest = max(longest, streams[order[j]].shape[1])
                j += 1
            batch = np.zeros((j - i, 2, longest, streams[order[i]].shape[2]), dtype=np.float32)
            padding = np.ones((j - i, longest), dtype=bool)
            for b, k in enumerate(order[i:j]):
                n = streams[k].shape[1]
                batch[b, :, :n] = streams[k]
                padding[b, :n] = False
            x = (batch - self.mean[None, :, None]) / self.std[None, :, None]
            probs = self.model.probabilities(x, padding)
            for b, k in enumerate(order[i:j]):
                results[k] = probs[b, : streams[k].shape[1]].copy()
            i = j
        return results

    def tag_probabilities_batch(self, motions: list[Motion]) -> list[np.ndarray]:
        """(T_i, 3) non-sign / in-sign / sign-start probabilities per motion, at each motion's own frame rate."""
        return self._probabilities_at_motion_rates(motions, self._streams(motions))

    def _probabilities_at_motion_rates(self, motions: list[Motion], streams: list[np.ndarray]) -> list[np.ndarray]:
        nonempty = [i for i, st in enumerate(streams) if st.shape[1] > 0]
        probs = [np.zeros((0, 3), np.float32) for _ in streams]
        for i, p in zip(nonempty, self._probabilities_of_streams([streams[i] for i in nonempty]), strict=True):
            probs[i] = p
        out = []
        for motion, p in zip(motions, probs, strict=True):
            if len(p) != motion.n_frames:
                src = np.clip(np.round(np.arange(motion.n_frames) * MODEL_FPS / motion.fps).astype(int), 0, len(p) - 1)
                p = p[src]
            out.append(p.astype(np.float32))
        return out

    def tag_probabilities(self, motion: Motion) -> np.ndarray:
        return self.tag_probabilities_batch([motion])[0]

    def decode(self, probabilities: np.ndarray, motion: Motion, wrists: np.ndarray | None = None) -> list[Segment]:
        """Segments from ``motion``'s frame probabilities: the decoder, then the split of unparsed signs.

        ``wrists``: ``wrist_positions(motion.features)`` when the caller has them already.
        """
        segments = decode_segments(probabilities, self.decoding)
        if self.splitting is None or not segments:
            return segments
        wrists = wrist_positions(motion.features) if wrists is None else wrists
        return split_unanchored_segments(segments, probabilities, wrists, motion.fps, self.decoding, self.splitting)

    def segment_batch(self, motions: list[Motion]) -> list[list[Segment]]:
        streams, wrists = self._streams_and_wrists(motions)
        probabilities = self._probabilities_at_motion_rates(motions, streams)
        return [self.decode(p, m, w) for p, m, w in zip(probabilities, motions, wrists, strict=True)]

    def segment(self, motion: Motion) -> list[Segment]:
        """Signs found in ``motion`` (frames at the motion's own rate), each with a confidence."""
        return self.segment_batch([motion])[0]


def make_checkpoint(
    net: FastSegmenterNet, mean: np.ndarray, std: np.ndarray, decoding: DecodingSettings, info: dict | None = None,
    splitting: SplitSettings | None = SplitSettings(),  # noqa: B008 (frozen dataclass)
) -> dict:
    """The dict saved to ``fast.pt``: only tensors, numbers and strings, so ``weights_only`` can read it.

    ``splitting`` None stores a model decoded from its probabilities alone; a checkpoint without the key (older
    files, the shipped one) gets the default split of unparsed signs.
    """
    import torch

    return {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "config": net.config.to_dict(),
        "state_dict": {k: v.detach().clone() for k, v in net.state_dict().items()},
        "mean": torch.as_tensor(mean, dtype=torch.float32),
        "std": torch.as_tensor(std, dtype=torch.float32),
        "decoding": asdict(decoding),
        "splitting": asdict(splitting) if splitting is not None else None,
        "info": dict(info or {}),
    }


def _decoding(decoding: dict) -> DecodingSettings:
    known = {f.name for f in fields(DecodingSettings)}
    return DecodingSettings(**{k: v for k, v in decoding.items() if k in known})


def _splitting(stored: dict | None) -> SplitSettings | None:
    """None: decode from the probabilities alone; a missing entry (older files) means the default split."""
    if stored is None:
        return None
    known = {f.name for f in fields(SplitSettings)}
    return SplitSettings(**{k: v for k, v in stored.items() if k in known})


def _check_normalisation(path: Path | str, mean: np.ndarray, std: np.ndarray, in_dim: int) -> None:
    if mean.shape != (2, in_dim) or std.shape != (2, in_dim):
        raise FileFormatError(path, f"FAST checkpoint normalisation has shape {mean.shape}, expected (2, {in_dim})")


def segmenter_from_checkpoint(checkpoint: object, path: Path | str = "<memory>") -> Segmenter:
    from signeditor.ml.fast.model import FastConfig, FastSegmenterNet

    if not isinstance(checkpoint, dict) or checkpoint.get("format") != CHECKPOINT_FORMAT:
        raise FileFormatError(path, "not a FAST segmenter checkpoint")
    if checkpoint.get("version") != CHECKPOINT_VERSION:
        raise FileFormatError(
            path, f"FAST checkpoint version {checkpoint.get('version')!r}, this SignEditor reads {CHECKPOINT_VERSION}"
        )
    try:
        known = {f.name for f in fields(FastConfig)}
        config = FastConfig(**{k: v for k, v in checkpoint["config"].items() if k in known})
        net = FastSegmenterNet(config)
        net.load_state_dict(checkpoint["state_dict"])
        decoding = _decoding(checkpoint["decoding"])
        splitting = _splitting(checkpoint.get("splitting", {}))
        mean = checkpoint["mean"].numpy()
        std = checkpoint["std"].numpy()
    except (KeyError, TypeError, RuntimeError, AttributeError, ValueError) as exc:
        raise FileFormatError(path, f"FAST checkpoint is damaged or does not match this network: {exc}") from exc
    _check_normalisation(path, mean, std, config.in_dim)
    return Segmenter(net, mean, std, decoding, info=checkpoint.get("info"), splitting=splitting)


def _onnx_segmenter(path: Path, backend: str, threads: int | None) -> Segmenter | None:
    """The export's segmenter; None when it is stale and ``backend`` lets torch run the ``.pt`` instead.

    One intra-op thread unless asked otherwise: ONNX Runtime's sums depend on its thread count (1e-7 in the
    probabilities), and a batch worker (one thread) must write byte for byte what the single-file command writes;
    two threads measured no faster for this small network (bench fast: 68k vs 66k frames/s).
    """
    try:
        session, header = open_session(path, threads=threads or 1)
    except OnnxModelError as exc:
        raise FileFormatError(path, exc.problem) from exc
    if header.get("format") != HEADER_FORMAT or header.get("version") != CHECKPOINT_VERSION:
        raise FileFormatError(path, "not an exported FAST segmenter of this SignEditor's version")
    stale = stale_export(path, header)
    if stale is not None:
        if backend == "auto":
            return None
        raise FileFormatError(path, stale)
    try:
        config, decoding = dict(header["config"]), _decoding(header["decoding"])
        splitting = _splitting(header.get("splitting", {}))
        mean = np.asarray(header["mean"], dtype=np.float32)
        std = np.asarray(header["std"], dtype=np.float32)
    except (KeyError, TypeError, ValueError) as exc:
        raise FileFormatError(path, f"FAST export header is inconsistent ({exc})") from exc
    _check_normalisation(path, mean, std, int(config["in_dim"]))
    return Segmenter(OnnxTagModel(session), mean, std, decoding, info={**header.get("info", {}), "config": config},
                     splitting=splitting)


def _torch_segmenter(path: Path, threads: int | None) -> Segmenter:
    try:
        import torch
    except ImportError as exc:
        raise FileFormatError(path, "running a .pt needs torch (pip install signeditor[train]); "
                                    "the editor runs the exported .onnx beside it without torch") from exc
    if threads:
        torch.set_num_threads(threads)
    try:
        checkpoint = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises many types for truncated or foreign files
        raise FileFormatError(path, f"cannot read FAST weights ({type(exc).__name__}: {exc})") from exc
    return segmenter_from_checkpoint(checkpoint, path)


def load_segmenter(path: str | Path | None = None, backend: str = "auto", threads: int | None = None) -> Segmenter:
    """The segmenter stored at ``path`` (default: the shipped ``models/fast/fast.pt``), a ``.pt`` or its ``.onnx``.

    ``backend="auto"`` runs the export beside a ``.pt`` when ONNX Runtime is installed and the export is current
    (measured faster: README, Performance), and torch otherwise; "onnx" or "torch" insist on one. ``threads``
    caps the CPU threads inference uses.
    """
    if backend not in BACKENDS:
        raise ValueError(f"unknown backend {backend!r}; choose one of {BACKENDS}")
    path = Path(path) if path is not None else DEFAULT_WEIGHTS
    onnx_path = path.with_suffix(".onnx")
    if backend != "torch" and onnx_path.is_file() and (backend == "onnx" or onnx_runtime_available()):
        segmenter = _onnx_segmenter(onnx_path, backend, threads)
        if segmenter is not None:
            return segmenter
    elif backend == "onnx":
        raise FileFormatError(onnx_path, "no ONNX export of these weights (`signeditor train export-onnx`)")
    if not path.is_file():
        raise FileFormatError(path, "FAST weights not found; train them with `signeditor train fast`")
    return _torch_segmenter(path, threads)
