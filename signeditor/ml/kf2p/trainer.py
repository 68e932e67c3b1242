"""The KF2P training loop: one process (CPU or GPU) or data-parallel over ranks launched by ``torchrun``.

With several ranks each holds a shard of the training clips and draws its
rows of every global batch (``batch_size`` is the global batch) from it; the
crop length and the flow's noise come from generators all ranks share, the
losses are masked means over the global batch (``GlobalMaskedMean``), DDP
averages the gradients, and the normaliser, end tension and languages are
computed over every rank's clips. Rank 0 validates, logs and writes the EMA
weights and the resumable training state. With one process the loop is the
single-process recipe, bit for bit.
"""

from __future__ import annotations

import copy
import json
import math
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from signeditor.ml.distributed import DistributedContext, GlobalMaskedMean, finish_distributed, init_distributed
from signeditor.ml.kf2p.checkpoint import save_checkpoint
from signeditor.ml.kf2p.end_tension import fit_end_tension
from signeditor.ml.kf2p.model import KF2PNet, count_parameters
from signeditor.ml.kf2p.position_loss import HandPositionLoss
from signeditor.ml.kf2p.representation import Normaliser
from signeditor.ml.kf2p.training import (
    Batch,
    MaskedMean,
    NoiseRows,
    TrainClip,
    TrainConfig,
    batch_to,
    compute_normaliser,
    flow_losses,
    hand_position_loss,
    keyframe_examples,
    log_to_stderr,
    make_batch,
    masked_mean,
    total_loss,
    validation_hands_error,
    validation_loss,
)
from signeditor.ml.kf2p.training_state import TrainingState, load_training_state, save_training_state

#: Seeds of the generators every rank shares (crop lengths, flow noise), offset from the run's seed.
SHARED_CROP_SEED, SHARED_NOISE_SEED = 7_000_001, 7_000_002


def lr_at(cfg: TrainConfig, step: int) -> float:
    if step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    progress = (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup)
    return cfg.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def train_step(model: nn.Module, ema: KF2PNet, opt: torch.optim.Optimizer, batch: Batch, cfg: TrainConfig,
               step: int, position_loss: HandPositionLoss | None, *, noise: torch.Generator | None = None,
               noise_rows: NoiseRows | None = None, mean: MaskedMean = masked_mean) -> torch.Tensor:
    """One optimiser step and EMA update; returns the loss (with several ranks: this rank's share)."""
    net = model.module if isinstance(model, nn.parallel.DistributedDataParallel) else model
    for group in opt.param_groups:
        group["lr"] = lr_at(cfg, step)
    loss = total_loss(flow_losses(model, batch, noise, noise_scales=cfg.noise_scales, t_zero_prob=cfg.t_zero_prob,
                                  position_loss=position_loss, noise_rows=noise_rows, mean=mean), cfg.loss_weights)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    nn.utils.clip_grad_norm_(net.parameters(), 1.0)
    opt.step()
    decay = min(cfg.ema_decay, (1 + step) / (10 + step))
    with torch.no_grad():
        for pe, p in zip(ema.parameters(), net.parameters(), strict=True):
            pe.lerp_(p, 1 - decay)
    return loss.detach()


class BatchSource:
    """This rank's rows of each global batch, drawn from its shard of the clips."""

    def __init__(self, clips: list[TrainClip], cfg: TrainConfig, ctx: DistributedContext, norm: Normaliser,
                 languages: list[str], tension: float) -> None:
        self.clips, self.norm, self.languages, self.tension, self.ctx = clips, norm, languages, tension, ctx
        if cfg.batch_size % ctx.world:
            raise ValueError(f"batch size {cfg.batch_size} does not split over {ctx.world} processes")
        self.cfg = replace(cfg, batch_size=cfg.batch_size // ctx.world) if ctx.distributed else cfg
        self.rng = np.random.default_rng(cfg.seed + 1000 * ctx.rank)
        self.crop_rng = np.random.default_rng(cfg.seed + SHARED_CROP_SEED) if ctx.distributed else None
        self.noise = torch.Generator().manual_seed(cfg.seed + SHARED_NOISE_SEED) if ctx.distributed else None
        self.noise_rows = NoiseRows(ctx.rank * self.cfg.batch_size, cfg.batch_size) if ctx.distributed else None
        self.mean: MaskedMean = GlobalMaskedMean(ctx.world) if ctx.distributed else masked_mean

    def next(self) -> Batch:
        crop = None
        if self.crop_rng is not None:
            crop = int(self.crop_rng.integers(self.cfg.min_crop, self.cfg.max_crop + 1))
        batch = make_batch(self.clips, self.rng, self.cfg, self.norm, self.languages, self.cfg.model.downsample,
                           tension=self.tension, crop_len=crop)
        return batch_to(batch, self.ctx.device)


def _languages(clips: list[TrainClip], ctx: DistributedContext, limit: int) -> list[str]:
    """Every rank's languages, so the language table is the same on all ranks."""
    mine = {c.signed_language for c in clips if c.signed_language}
    return sorted(set().union(*ctx.all_gather_objects(mine)))[:limit]


def train(train_clips: list[TrainClip], val_clips: list[TrainClip], cfg: TrainConfig, out_path: Path | None,
          log: Callable[[str], None] = log_to_stderr, meta: dict | None = None, *,
          state_path: Path | None = None, state_every: int | None = None, resume: bool = False) -> dict:
    """Train, keep an EMA copy, save the EMA weights; returns a summary dict (losses, params, time).

    ``train_clips`` are this rank's shard (all clips with one process); ``val_clips`` matter on rank 0 only.
    Every ``state_every`` steps rank 0 writes everything needed to continue (weights, optimiser, every rank's
    random state) to ``state_path``; ``resume`` continues from it, exactly where the run would have been.
    """
    ctx = init_distributed()
    rank, world, device = ctx.rank, ctx.world, ctx.device
    torch.manual_seed(cfg.seed + rank)
    combine = ctx.all_reduce_sum if ctx.distributed else None
    languages = _languages(train_clips, ctx, cfg.model.n_languages)
    tension = cfg.end_tension
    if tension is None:
        tension, by_tension = fit_end_tension(keyframe_examples(train_clips), combine=combine)
        if ctx.is_main:
            log(json.dumps({"end_tension": tension, "hands_error_by_tension": by_tension}))
    if ctx.distributed:
        norm_rng, n_samples = np.random.default_rng(cfg.seed + 1000 * rank), -(-200 // world)
    else:
        norm_rng, n_samples = np.random.default_rng(cfg.seed), 200
    norm = compute_normaliser(train_clips, norm_rng, tension, n_samples, combine=combine)
    position_loss = hand_position_loss(cfg, norm, device)
    net = KF2PNet(cfg.model).to(device)
    model: nn.Module = net
    if ctx.distributed:  # DDP gives every rank rank 0's initial weights
        model = nn.parallel.DistributedDataParallel(net, device_ids=[device.index] if device.type == "cuda" else None)
    ema = copy.deepcopy(net).eval()
    for p in ema.parameters():
        p.requires_grad_(False)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    source = BatchSource(train_clips, cfg, ctx, norm, languages, tension)

    def save(steps_done: int, extra: dict) -> None:
        info = dict(meta or {})
        info.update({"steps": steps_done, "seed": cfg.seed, "end_tension": tension, "sampler": "euler",
                     "default_steps": cfg.default_steps, "noise_scale": cfg.default_noise_scale, **extra})
        save_checkpoint(out_path, ema, norm, languages, info)

    def select(steps_done: int) -> None:
        """Score the EMA weights on validation and keep them if they are the best so far."""
        nonlocal best, last_scored
        last_scored = steps_done
        if not val_clips:
            save(steps_done, {})
            return
        error = validation_hands_error(ema, val_clips, norm, languages, tension, device, cfg.default_steps,
                                       cfg.default_noise_scale)
        log(json.dumps({"step": steps_done, "val_hands_error": error, "best": min(best[0], error)}))
        if error < best[0]:
            best = (error, steps_done)
            save(steps_done, {"val_hands_error": error})

    selecting = ctx.is_main and out_path is not None
    best = (float("inf"), 0)
    last_scored = 0
    base_error = None
    history: list[dict] = []
    running = 0.0
    start_step = 0
    if resume:
        if state_path is None:
            raise ValueError("resuming needs the training state file")
        state = load_training_state(state_path, world)
        state.restore(net, ema, opt, source)
        start_step, best, last_scored, history, running = (state.step, state.best, state.last_scored,
                                                           state.history, state.running)
        base_error = state.base_error
        if ctx.is_main:
            log(json.dumps({"resumed_at_step": start_step, "from": str(state_path)}))
    elif ctx.is_main and val_clips:
        base_error = validation_hands_error(None, val_clips, norm, languages, tension, device, 0, 0.0)
        log(json.dumps({"val_hands_error_base_spline": base_error}))
    started = time.monotonic()
    step = max(start_step - 1, 0)
    for step in range(start_step, cfg.steps):
        if cfg.max_minutes is not None:
            over = time.monotonic() - started > 60 * cfg.max_minutes
            if ctx.distributed:  # every rank stops at the same step, or the others wait for it forever
                over = bool(ctx.all_reduce_sum(np.array(float(over))) > 0)
            if over:
                log(f"time budget reached at step {step}")
                break
        loss = train_step(model, ema, opt, source.next(), cfg, step, position_loss, noise=source.noise,
                          noise_rows=source.noise_rows, mean=source.mean)
        running += loss.item()
        if (step + 1) % cfg.log_every == 0:
            mean_loss = running / cfg.log_every
            if ctx.distributed:  # the ranks' shares averaged: the global batch's loss
                mean_loss = float(ctx.all_reduce_sum(np.array(mean_loss))) / world
            running = 0.0
            if ctx.is_main:
                entry = {"step": step + 1, "train_loss": mean_loss, "minutes": (time.monotonic() - started) / 60}
                history.append(entry)
                log(json.dumps(entry))
        if selecting and cfg.select_every and (step + 1) % cfg.select_every == 0:
            select(step + 1)
        if state_path is not None and state_every and (step + 1) % state_every == 0:
            snapshot = TrainingState.capture(step + 1, net, ema, opt, source, ctx, best, last_scored, history,
                                             running, base_error)
            if ctx.is_main:
                save_training_state(snapshot, state_path)
    steps_done = step + 1
    summary: dict = {"params": count_parameters(net), "steps": steps_done, "world_size": world,
                     "minutes": (time.monotonic() - started) / 60, "device": str(device), "history": history}
    if ctx.is_main:
        if val_clips:
            summary["val_loss_ema"] = validation_loss(ema, val_clips, cfg, norm, languages, device, tension)
            summary["val_loss_raw"] = validation_loss(net, val_clips, cfg, norm, languages, device, tension)
        summary["train_loss_ema"] = validation_loss(ema, train_clips, cfg, norm, languages, device, tension)
        summary["end_tension"] = tension
        if selecting and last_scored != steps_done:
            select(steps_done)
        summary.update({"val_hands_error_base_spline": base_error, "val_hands_error_best": best[0],
                        "best_step": best[1]})
    summary["ema_model"] = ema
    summary["normaliser"] = norm
    summary["languages"] = languages
    if ctx.distributed:
        finish_distributed()  # leaves together: rank 0 may still be validating and writing
    return summary
