"""The KF2P network: a small 1D temporal U-Net with AdaLN-zero conditioning.

Signing motion is local in time (a sign lasts ~10-25 frames at 25 fps), so
temporal convolutions at three resolutions see enough context while staying
cheap enough to regenerate a whole clip interactively on a laptop CPU. Flow
time, text and the signed-language tag enter through AdaLN-zero: each block's
modulation starts at zero, so an untrained block is the identity and training
is stable from the first step.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn
from torch.nn import functional as F

from signeditor.core.motion import FEATURE_DIM, STREAMS
from signeditor.ml.kf2p.text import TEXT_BUCKETS


@dataclass(frozen=True)
class KF2PConfig:
    """Architecture hyper-parameters; stored in the checkpoint so a file rebuilds its own network.

    Defaults are the shipped model's.
    """

    channels: tuple[int, ...] = (48, 64, 96)
    blocks_per_level: int = 1
    cond_dim: int = 128
    text_dim: int = 64
    n_languages: int = 32
    kernel_size: int = 5
    #: Dropout inside every residual block: the corpus is a few hundred clips, so the network must not memorise them.
    dropout: float = 0.2
    #: The starting noise's scale is an input, so one network serves both the editor's deterministic default
    #: (scale 0: the most likely motion) and variations (scale 1: a sample that a new seed changes).
    noise_conditioning: bool = True
    #: Per-stream phase and length of the gap between anchors as extra input channels (representation.gap_timing).
    timing_channels: bool = True

    def to_dict(self) -> dict:
        d = asdict(self)
        d["channels"] = list(self.channels)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> KF2PConfig:
        d = dict(d)
        d["channels"] = tuple(int(c) for c in d["channels"])
        # Checkpoints written before these options existed were trained without them.
        for key, absent in (("dropout", 0.0), ("noise_conditioning", False), ("timing_channels", False)):
            d.setdefault(key, absent)
        return cls(**d)

    @property
    def anchor_channels(self) -> int:
        return len(STREAMS) * (3 if self.timing_channels else 1)

    @property
    def downsample(self) -> int:
        return 2 ** (len(self.channels) - 1)


def timestep_embedding(t: torch.Tensor, dim: int) -> torch.Tensor:
    """Sinusoidal features of flow time in [0, 1] (scaled so the low frequencies still vary)."""
    half = dim // 2
    freqs = torch.exp(-math.log(1000.0) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    args = 1000.0 * t.float()[:, None] * freqs[None] / 10.0
    return torch.cat([torch.sin(args), torch.cos(args)], dim=-1)


class AdaResBlock(nn.Module):
    """Conv residual block; the conditioning sets shift, scale and a zero-initialised gate."""

    def __init__(self, channels: int, cond_dim: int, kernel_size: int, dropout: float = 0.0) -> None:
        super().__init__()
        self.norm = nn.GroupNorm(8, channels, affine=False)
        self.dropout = nn.Dropout(dropout)
        self.conv1 = nn.Conv1d(channels, channels, kernel_size, padding=kernel_size // 2)
        self.conv2 = nn.Conv1d(channels, channels, kernel_size, padding=kernel_size // 2)
        self.modulation = nn.Linear(cond_dim, 3 * channels)
        nn.init.zeros_(self.modulation.weight)
        nn.init.zeros_(self.modulation.bias)

    def forward(self, x: torch.Tensor, cond: torch.Tensor, length_mask: torch.Tensor) -> torch.Tensor:
        shift, scale, gate = self.modulation(cond)[..., None].chunk(3, dim=1)
        h = self.norm(x) * (1 + scale) + shift
        h = self.conv1(F.silu(h)) * length_mask
        h = self.conv2(self.dropout(F.silu(h))) * length_mask
        return x + gate * h


class KF2PNet(nn.Module):
    """Predicts the flow velocity of the normalised residual motion.

    Inputs per frame: the noisy residual state with keyframes written in (246),
    the cubic in-between of the keyframes (246, what the residual is relative
    to), per-stream keyframe masks (4; with ``timing_channels`` also each
    stream's phase and gap length between its anchors, 8) and the length mask (1).
    """

    def __init__(self, config: KF2PConfig) -> None:
        super().__init__()
        self.config = config
        c = config.channels
        in_channels = 2 * FEATURE_DIM + config.anchor_channels + 1
        self.inp = nn.Conv1d(in_channels, c[0], config.kernel_size, padding=config.kernel_size // 2)
        self.time_mlp = nn.Sequential(nn.Linear(config.cond_dim, config.cond_dim), nn.SiLU(),
                                      nn.Linear(config.cond_dim, config.cond_dim))
        self.text_table = nn.EmbeddingBag(TEXT_BUCKETS, config.text_dim, mode="sum", padding_idx=0)
        self.text_proj = nn.Linear(config.text_dim, config.cond_dim)
        self.language_table = nn.Embedding(config.n_languages + 1, config.cond_dim)
        self.noise_embed = nn.Linear(1, config.cond_dim) if config.noise_conditioning else None
        self.down_blocks = nn.ModuleList()
        self.downs = nn.ModuleList()
        def blocks(width: int) -> nn.ModuleList:
            return nn.ModuleList(AdaResBlock(width, config.cond_dim, config.kernel_size, config.dropout)
                                 for _ in range(config.blocks_per_level))

        for level, width in enumerate(c):
            self.down_blocks.append(blocks(width))
            if level < len(c) - 1:
                self.downs.append(nn.Conv1d(width, c[level + 1], 4, stride=2, padding=1))
        self.mid = AdaResBlock(c[-1], config.cond_dim, 3, config.dropout)
        self.ups = nn.ModuleList()
        self.up_blocks = nn.ModuleList()
        for level in range(len(c) - 2, -1, -1):
            self.ups.append(nn.ConvTranspose1d(c[level + 1], c[level], 4, stride=2, padding=1))
            self.up_blocks.append(blocks(c[level]))
        self.out_norm = nn.GroupNorm(8, c[0], affine=False)
        self.out_modulation = nn.Linear(config.cond_dim, 2 * c[0])
        nn.init.zeros_(self.out_modulation.weight)
        nn.init.zeros_(self.out_modulation.bias)
        self.out = nn.Conv1d(c[0], FEATURE_DIM, 3, padding=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)

    def condition(self, t: torch.Tensor, text_ids: torch.Tensor, text_weights: torch.Tensor,
                  language: torch.Tensor, noise_scale: torch.Tensor | None = None) -> torch.Tensor:
        """One conditioning vector per sequence: flow time + text + signed language (+ starting noise scale)."""
        cond = self.time_mlp(timestep_embedding(t, self.config.cond_dim))
        text = self.text_table(text_ids, per_sample_weights=text_weights.to(self.text_table.weight.dtype))
        cond = cond + self.text_proj(text) + self.language_table(language)
        if self.noise_embed is not None:
            scale = torch.ones_like(t) if noise_scale is None else noise_scale
            cond = cond + self.noise_embed(scale[:, None].to(cond.dtype))
        return F.silu(cond)

    def forward(self, x_t: torch.Tensor, interp: torch.Tensor, stream_mask: torch.Tensor, length_mask: torch.Tensor,
                cond: torch.Tensor) -> torch.Tensor:
        """All motion tensors are (B, C, T) with T a multiple of ``config.downsample``; returns (B, 246, T)."""
        h = self.inp(torch.cat([x_t, interp, stream_mask, length_mask], dim=1)) * length_mask
        masks = [length_mask]
        skips = []
        for level, blocks in enumerate(self.down_blocks):
            for block in blocks:
                h = block(h, cond, masks[-1])
            if level < len(self.downs):
                skips.append(h)
                h = self.downs[level](h)
                masks.append(F.max_pool1d(masks[-1], 2))
        h = self.mid(h, cond, masks[-1])
        for up, blocks in zip(self.ups, self.up_blocks, strict=True):
            masks.pop()
            h = up(h) + skips.pop()
            for block in blocks:
                h = block(h, cond, masks[-1])
        shift, scale = self.out_modulation(cond)[..., None].chunk(2, dim=1)
        h = self.out_norm(h) * (1 + scale) + shift
        return self.out(F.silu(h)) * length_mask


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
