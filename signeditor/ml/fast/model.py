"""The FAST network: per-hand convolutions, a two-hand mixer and a small transformer over time.

Each hand gets its own convolution stack because the dominant and the
non-dominant hand behave differently (the weak hand often rests while the
strong one signs); the mixer lets either hand's activity decide, and the
transformer looks a second or two around each frame so it can tell a hold
inside a sign from the rest before it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import torch
from torch import nn

from signeditor.core.hand_features import HAND_FEATURE_DIM


@dataclass(frozen=True)
class FastConfig:
    """Network sizes; stored in the checkpoint so a file rebuilds its own network."""

    in_dim: int = HAND_FEATURE_DIM
    input_dim: int = 32
    hand_dim: int = 48
    model_dim: int = 64
    kernel: int = 5
    conv_layers: int = 2
    heads: int = 4
    transformer_layers: int = 2
    ff_dim: int = 128
    dropout: float = 0.1
    block: int = 32

    def to_dict(self) -> dict[str, int | float]:
        return asdict(self)


class HandEncoder(nn.Module):
    """One hand's stream, (B, T, F) -> (B, T, hand_dim): a per-frame projection, then temporal convolutions.

    Projecting the 103 raw features to a few dozen first keeps the
    convolutions (the costly part per frame) small.
    """

    def __init__(self, config: FastConfig) -> None:
        super().__init__()
        self.project = nn.Linear(config.in_dim, config.input_dim)
        layers: list[nn.Module] = []
        channels = config.input_dim
        for i in range(config.conv_layers):
            dilation = 1 if i == 0 else 2
            padding = dilation * (config.kernel // 2)
            layers += [nn.Conv1d(channels, config.hand_dim, config.kernel, padding=padding, dilation=dilation),
                       nn.GELU()]
            channels = config.hand_dim
        self.net = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor, keep: torch.Tensor | None = None) -> torch.Tensor:
        """``keep`` (B, 1, T) is 0 on padded frames: they are zeroed before every convolution so a padded
        clip gives the same output as the clip alone (whose convolutions pad with zeros too)."""
        h = self.project(x).transpose(1, 2)
        for layer in self.net:
            if keep is not None and isinstance(layer, nn.Conv1d):
                h = h * keep
            h = layer(h)
        return h.transpose(1, 2)


class LocalAttentionLayer(nn.Module):
    """Pre-norm transformer layer whose attention sees only the frame's block and the two beside it.

    Frames are grouped in blocks of ``block``; each query attends to 3 blocks
    (one to two blocks either side), so cost grows linearly with clip length
    and a long recording is segmented the same way as a short excerpt.
    """

    def __init__(self, config: FastConfig) -> None:
        super().__init__()
        d = config.model_dim
        self.heads = config.heads
        self.block = config.block
        self.norm1 = nn.LayerNorm(d)
        self.qkv = nn.Linear(d, 3 * d)
        self.out = nn.Linear(d, d)
        self.norm2 = nn.LayerNorm(d)
        self.ff = nn.Sequential(nn.Linear(d, config.ff_dim), nn.GELU(), nn.Linear(config.ff_dim, d))
        self.dropout = nn.Dropout(config.dropout)

    def _neighbourhood(self, x: torch.Tensor) -> torch.Tensor:
        """(B, nb, W, ...) -> (B, nb, 3W, ...): each block with the block before and after it."""
        pad = [0, 0] * (x.dim() - 2) + [1, 1]
        padded = nn.functional.pad(x, pad)
        nb = x.shape[1]
        return torch.cat([padded[:, 0:nb], padded[:, 1 : nb + 1], padded[:, 2 : nb + 2]], dim=2)

    def forward(self, x: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        """``x`` (B, T, D) with T a multiple of the block; ``valid`` (B, T) False on padding."""
        b, t, d = x.shape
        w, h = self.block, self.heads
        nb = t // w
        qkv = self.qkv(self.norm1(x)).view(b, nb, w, 3, h, d // h)
        q = qkv[:, :, :, 0].permute(0, 1, 3, 2, 4)  # (B, nb, H, W, dh)
        k = self._neighbourhood(qkv[:, :, :, 1].contiguous()).permute(0, 1, 3, 2, 4)
        v = self._neighbourhood(qkv[:, :, :, 2].contiguous()).permute(0, 1, 3, 2, 4)
        key_ok = self._neighbourhood(valid.view(b, nb, w))[:, :, None, None, :]  # (B, nb, 1, 1, 3W)
        # Blocks folded into the batch: 4-D attention takes torch's fast CPU kernel (5-D is ~5x slower).
        attended = nn.functional.scaled_dot_product_attention(
            q.reshape(b * nb, h, w, -1), k.reshape(b * nb, h, 3 * w, -1), v.reshape(b * nb, h, 3 * w, -1),
            attn_mask=key_ok.reshape(b * nb, 1, 1, 3 * w), dropout_p=self.dropout.p if self.training else 0.0,
        )
        attended = torch.nan_to_num(attended).view(b, nb, h, w, -1).permute(0, 1, 3, 2, 4).reshape(b, t, d)
        x = x + self.dropout(self.out(attended))
        return x + self.dropout(self.ff(self.norm2(x)))


class FastSegmenterNet(nn.Module):
    """(B, 2, T, F) hand streams -> (B, T, 3) tag logits."""

    def __init__(self, config: FastConfig | None = None) -> None:
        super().__init__()
        self.config = config or FastConfig()
        c = self.config
        self.hands = nn.ModuleList([HandEncoder(c), HandEncoder(c)])
        self.mixer = nn.Sequential(nn.Linear(2 * c.hand_dim, c.model_dim), nn.GELU())
        self.layers = nn.ModuleList([LocalAttentionLayer(c) for _ in range(c.transformer_layers)])
        self.norm = nn.LayerNorm(c.model_dim)
        self.head = nn.Linear(c.model_dim, 3)

    def forward(self, hands: torch.Tensor, padding: torch.Tensor | None = None) -> torch.Tensor:
        """``padding`` (B, T) is True on padded frames, which no real frame attends to."""
        b, _, t, _ = hands.shape
        keep = None if padding is None else (~padding).to(hands.dtype)[:, None, :]
        left = self.hands[0](hands[:, 0], keep)
        right = self.hands[1](hands[:, 1], keep)
        x = self.mixer(torch.cat([left, right], dim=-1))
        w = self.config.block
        t_pad = (t + w - 1) // w * w  # not -(-t // w): traced to ONNX, integer division truncates
        # Built without in-place writes so the graph exports to ONNX for any clip length.
        real = torch.ones(b, t, dtype=torch.bool, device=x.device) if padding is None else ~padding
        valid = torch.cat([real, torch.zeros(b, t_pad - t, dtype=torch.bool, device=x.device)], dim=1)
        x = nn.functional.pad(x, (0, 0, 0, t_pad - t))
        for layer in self.layers:
            x = layer(x, valid)
        return self.head(self.norm(x[:, :t]))


def parameter_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
