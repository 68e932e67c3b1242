"""The KF2P network behind the numpy sampler through torch: training's validation, and inference when torch is
installed (half precision on CUDA)."""

from __future__ import annotations

import numpy as np
import torch

from signeditor.ml.kf2p.model import KF2PNet


def pick_device(device: str | torch.device | None) -> torch.device:
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


class TorchVelocity:
    """A :class:`~signeditor.ml.kf2p.sampler.VelocityModel` over a torch :class:`KF2PNet`."""

    def __init__(self, net: KF2PNet, device: str | torch.device | None = None) -> None:
        self.torch_device = pick_device(device)
        self.device = str(self.torch_device)
        self.half = self.torch_device.type == "cuda"
        self.net = net.to(self.torch_device).eval()
        if self.half:
            self.net.half()
        self.downsample = net.config.downsample
        self.timing_channels = net.config.timing_channels

    def velocity(self, x: np.ndarray, interp: np.ndarray, stream_mask: np.ndarray, length_mask: np.ndarray,
                 t: np.ndarray, text_ids: np.ndarray, text_weights: np.ndarray, language: np.ndarray,
                 noise_scale: np.ndarray) -> np.ndarray:
        dtype = torch.float16 if self.half else torch.float32

        def motion(a: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(np.ascontiguousarray(a)).to(self.torch_device, dtype)

        def vector(a: np.ndarray) -> torch.Tensor:
            return torch.from_numpy(np.ascontiguousarray(a)).to(self.torch_device)

        with torch.inference_mode():
            cond = self.net.condition(vector(t), vector(text_ids), vector(text_weights), vector(language),
                                      vector(noise_scale)).to(dtype)
            v = self.net(motion(x), motion(interp), motion(stream_mask), motion(length_mask), cond)
        return v.float().cpu().numpy()
