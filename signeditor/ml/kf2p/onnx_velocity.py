"""The exported KF2P network behind the numpy sampler through ONNX Runtime: the editor's default, no torch."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from signeditor.ml.onnx_session import OnnxModelError, open_session, session_device

#: The exported graph's inputs, in the order :meth:`VelocityModel.velocity` takes them.
INPUT_NAMES: tuple[str, ...] = ("x", "interp", "stream_mask", "length_mask", "t", "text_ids", "text_weights",
                                "language", "noise_scale")
HEADER_FORMAT = "signeditor-kf2p-onnx"


class OnnxVelocity:
    """A :class:`~signeditor.ml.kf2p.sampler.VelocityModel` over an ONNX Runtime session."""

    def __init__(self, path: str | Path, device: str | None = None, threads: int | None = None) -> None:
        self.path = Path(path)
        self.session, self.header = open_session(self.path, device, threads)
        if self.header.get("format") != HEADER_FORMAT:
            raise OnnxModelError(self.path, "not an exported KF2P network")
        config: dict[str, Any] = self.header["config"]
        self.downsample = 2 ** (len(config["channels"]) - 1)
        self.timing_channels = bool(config.get("timing_channels", False))
        self.device = session_device(self.session)

    def velocity(self, x: np.ndarray, interp: np.ndarray, stream_mask: np.ndarray, length_mask: np.ndarray,
                 t: np.ndarray, text_ids: np.ndarray, text_weights: np.ndarray, language: np.ndarray,
                 noise_scale: np.ndarray) -> np.ndarray:
        arrays = (x, interp, stream_mask, length_mask, t, text_ids, text_weights, language, noise_scale)
        return self.session.run(None, dict(zip(INPUT_NAMES, arrays, strict=True)))[0]
