"""Run by ``torchrun --nproc_per_node 2`` from test_distributed_training.py: a few data-parallel KF2P steps.

Each rank trains on its shard with the library's own step (``train_step``,
``BatchSource``) and saves its batches, losses and weights, so the test can
replay the same global batches in one process and compare.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

from signeditor.ml.distributed import finish_distributed, init_distributed
from signeditor.ml.kf2p.model import KF2PConfig, KF2PNet
from signeditor.ml.kf2p.position_loss import HandPositionLoss
from signeditor.ml.kf2p.synthetic import synthetic_clip
from signeditor.ml.kf2p.trainer import BatchSource, train_step
from signeditor.ml.kf2p.training import TrainClip, TrainConfig, compute_normaliser

STEPS = 3


def tiny_setup() -> tuple[list[TrainClip], TrainConfig]:
    """The clips and configuration both the ranks and the one-process replay use."""
    rng = np.random.default_rng(0)
    clips = [TrainClip(*synthetic_clip(rng, 72), text="HAUS GROSS" if i % 2 else "KIND", signed_language="gsg")
             for i in range(6)]
    cfg = TrainConfig(steps=STEPS, batch_size=4, min_crop=32, max_crop=48, warmup=1, lr=3e-3,
                      model=KF2PConfig(channels=(16, 24, 32), cond_dim=32, text_dim=16, dropout=0.0))
    return clips, cfg


def fresh_model(cfg: TrainConfig) -> KF2PNet:
    torch.manual_seed(123)
    return KF2PNet(cfg.model)


def main(out: Path) -> None:
    torch.set_num_threads(1)
    ctx = init_distributed()
    clips, cfg = tiny_setup()
    norm = compute_normaliser(clips, np.random.default_rng(0), 0.0, n_samples=8)
    net = fresh_model(cfg) if ctx.rank == 0 else KF2PNet(cfg.model)  # other ranks' init is replaced by rank 0's
    model = nn.parallel.DistributedDataParallel(net)
    ema = fresh_model(cfg).eval()
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    source = BatchSource(ctx.shard(clips), cfg, ctx, norm, ["gsg"], 0.0)
    position = HandPositionLoss(norm)
    batches, losses = [], []
    for step in range(STEPS):
        batch = source.next()
        batches.append({k: getattr(batch, k) for k in batch.__dataclass_fields__})
        share = train_step(model, ema, opt, batch, cfg, step, position, noise=source.noise,
                           noise_rows=source.noise_rows, mean=source.mean)
        losses.append(float(ctx.all_reduce_sum(np.array(share.item()))) / ctx.world)
    torch.save({"batches": batches, "losses": losses, "net": net.state_dict(),
                "shard_size": len(ctx.shard(clips))}, out / f"rank{ctx.rank}.pt")
    finish_distributed()


if __name__ == "__main__":
    main(Path(sys.argv[1]))
