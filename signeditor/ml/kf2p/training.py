"""KF2P training material and objective (conditional flow matching); the loop itself is in trainer.py.

Loss = flow MSE on the velocity + reconstruction of the clean residual from
the one-step estimate + its first and second temporal differences, which is
what keeps generated hands from jittering. Text and keyframes are dropped 10%
of the time each so classifier-free guidance has an unconditional model.
"""

from __future__ import annotations

import copy
import sys
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from signeditor.core.motion import FEATURE_DIM, interpolate_features, mirror_features
from signeditor.core.segments import NON_SIGN, Segment, labels_from_segments, segments_from_labels
from signeditor.ml.kf2p.api import Generator
from signeditor.ml.kf2p.end_tension import hands_error_between_keyframes, has_frames_between
from signeditor.ml.kf2p.keyframe_sampling import onset_middle_offset, training_stream_mask
from signeditor.ml.kf2p.model import KF2PConfig, KF2PNet
from signeditor.ml.kf2p.position_loss import HandPositionLoss
from signeditor.ml.kf2p.representation import (
    Normaliser,
    build_conditioning,
    columns_from_stream_mask,
    normalised_interp,
    residual_target,
)
from signeditor.ml.kf2p.text import batch_token_ids, language_index

#: SignSparK's four terms and their weights; "position" (finger positions after FK) and "hand_shape" (the same
#: points relative to their wrist; off in the shipped recipe, tried for issue #13) are this project's additions.
LOSS_WEIGHTS = {"flow": 0.5, "recon": 1.0, "velocity": 0.5, "accel": 0.1, "position": 20.0, "hand_shape": 0.0}


@dataclass
class TrainClip:
    features: np.ndarray
    labels: np.ndarray
    text: str = ""
    signed_language: str = ""
    #: FAST's per-frame tags for the clip (same convention as ``labels``), when FAST was available.
    segmenter_labels: np.ndarray | None = None
    #: "sentence" for continuous signing, "isolated" or "fingerspelling" otherwise (the corpus's kinds).
    kind: str = ""
    #: (T,) True on inserted straight-line transition frames of a stitched file: kept as input, never a target.
    stitched: np.ndarray | None = None
    #: Natural continuous signing (a natural-signing dataset's sentence): model selection weighs it on its own.
    natural_continuous: bool = False


@dataclass
class TrainConfig:
    """Defaults are the shipped recipe (models/kf2p/MODEL_CARD.md); ``signeditor train kf2p`` takes them."""

    steps: int = 1000
    batch_size: int = 24
    min_crop: int = 64
    max_crop: int = 128
    lr: float = 5e-4
    weight_decay: float = 1e-2
    #: Chance of mirroring a crop left-right (a left-handed signer): the corpus is small, this doubles its poses.
    mirror_prob: float = 0.3
    #: Chance of replaying a clip faster or slower (factor in ``speed_range``): signers differ in tempo, and a
    #: few hundred clips are otherwise learnt by heart.
    time_warp_prob: float = 0.5
    speed_range: tuple[float, float] = (0.8, 1.25)
    #: Scales how often training disturbs the anchor layout (keyframe_sampling.training_stream_mask).
    layout_augmentation: float = 0.3
    #: Share of crops drawn from continuous signing (clips of kind "sentence") on top of drawing clips uniformly,
    #: where the few sentences make 4% of crops (fingerspelled letters 75%). 0 in the shipped recipe: 0.3 was
    #: tried for issue #13 and did not help continuous signing (model card).
    continuous_share: float = 0.0
    warmup: int = 200
    ema_decay: float = 0.998
    text_dropout: float = 0.1
    keyframe_dropout: float = 0.1
    #: Widths of the Gaussian the flow starts from, one drawn per example. The editor samples from scale 0
    #: (the most likely motion, what accuracy needs); scale 1 is the generative flow that gives variations.
    #: More than one value needs ``model.noise_conditioning`` so the network knows which flow it is on.
    noise_scales: tuple[float, ...] = (0.0, 0.0, 0.5)
    #: Share of scale-0 examples at flow time exactly 0, where sampling takes its first and largest step:
    #: from a point start, the state at t > 0 already holds most of the answer, so uniform times alone
    #: would teach the network little about that first step.
    t_zero_prob: float = 1.0
    loss_weights: dict[str, float] = field(default_factory=lambda: dict(LOSS_WEIGHTS))
    #: Tension of the base spline at the first and last key; None fits it on the training clips (end_tension.py).
    end_tension: float | None = None
    seed: int = 0
    max_minutes: float | None = None
    log_every: int = 100
    #: Every this many steps the EMA weights are scored on the validation clips (hands error, the editor's
    #: sampler) and saved when they are the best so far: the corpus is small and the network overfits it,
    #: so the last step is rarely the best one. A stopped run still leaves its best weights.
    select_every: int | None = 100
    #: The sampler the weights ship with: stored in the checkpoint, and what the validation score uses.
    default_steps: int = 4
    default_noise_scale: float = 0.0
    model: KF2PConfig = field(default_factory=KF2PConfig)


def clip_keyframes(clip: TrainClip) -> np.ndarray | None:
    """Onset/middle/offset keyframes of a whole clip (FAST's where known, else the annotation's)."""
    tags = clip.segmenter_labels if clip.segmenter_labels is not None else clip.labels
    if not (tags >= 0).all():
        return None
    frames = onset_middle_offset(segments_from_labels(tags), len(tags))
    return frames if has_frames_between(frames) else None


def _warped_tags(tags: np.ndarray, speed: float, n_frames: int) -> np.ndarray:
    """Per-frame tags of a clip replayed ``speed`` times faster: sign boundaries scaled, not frames resampled
    (nearest-frame resampling would drop or double the one-frame sign-start tags)."""
    unknown = tags < 0
    segments = [Segment(round(sg.start / speed), max(round(sg.end / speed), round(sg.start / speed) + 1), sg.gloss)
                for sg in segments_from_labels(np.where(unknown, NON_SIGN, tags))]
    warped = np.asarray(labels_from_segments(segments, n_frames), dtype=np.int8)
    if unknown.any():
        positions = np.minimum(np.round(np.arange(n_frames) * speed).astype(int), len(tags) - 1)
        warped[unknown[positions]] = -1
    return warped


def time_warped(clip: TrainClip, speed: float) -> TrainClip:
    times = np.arange(0.0, clip.features.shape[0] - 1, speed)
    n = len(times)
    fast = None if clip.segmenter_labels is None else _warped_tags(clip.segmenter_labels, speed, n)
    stitched = None if clip.stitched is None else clip.stitched[np.round(times).astype(int)]
    return TrainClip(interpolate_features(clip.features, times), _warped_tags(clip.labels, speed, n), clip.text,
                     clip.signed_language, fast, clip.kind, stitched, clip.natural_continuous)


def keyframe_examples(clips: list[TrainClip]) -> list[tuple[np.ndarray, np.ndarray]]:
    return [(c.features, f) for c in clips if (f := clip_keyframes(c)) is not None]


@torch.no_grad()
def validation_hands_error(net: KF2PNet | None, clips: list[TrainClip], norm: Normaliser, languages: list[str],
                           tension: float, device: torch.device, steps: int, noise_scale: float) -> float:
    """Finger error (shoulder widths) between whole-clip keyframes, sampled as the editor samples: the mean
    over the kinds of signing of each kind's mean, so the few continuous sentences weigh as much as the many
    fingerspelled letters when the best weights are chosen. Natural continuous signing is a kind of its own
    (what translators work on), and stitched transition frames are not scored.

    ``net=None`` scores the base spline alone (zero residual), the reference the network must improve on.
    """
    generator = None
    if net is not None:
        meta = {"end_tension": tension, "default_steps": steps, "noise_scale": noise_scale}
        generator = Generator(copy.deepcopy(net), norm, languages, device, meta)
    errors: dict[str, list[float]] = {}
    for clip in clips:
        frames = clip_keyframes(clip)
        if frames is None:
            continue
        mask = np.zeros_like(clip.features)
        mask[frames] = 1.0
        if generator is None:
            pred = build_conditioning(clip.features * mask, mask, tension).interp
        else:
            pred = generator.generate_features(clip.features * mask, mask, text=clip.text,
                                               signed_language=clip.signed_language)
        error = hands_error_between_keyframes(pred, clip.features, frames, clip.stitched)
        if np.isfinite(error):
            errors.setdefault("natural_continuous" if clip.natural_continuous else clip.kind, []).append(error)
    return float(np.mean([np.mean(kind) for kind in errors.values()])) if errors else float("nan")


def compute_normaliser(clips: list[TrainClip], rng: np.random.Generator, tension: float,
                       n_samples: int = 200, combine: Callable[[np.ndarray], np.ndarray] | None = None) -> Normaliser:
    """Feature statistics over all frames; residual statistics over crops with training-like keyframes.

    With ``combine`` (a sum over the ranks of a data-parallel run, each holding a shard of the clips) the
    statistics are those of every rank's frames and crops; ``n_samples`` is then this rank's share.
    """
    if combine is None:
        feats = np.concatenate([c.features for c in clips])
        mean = feats.mean(0)
        std = np.maximum(feats.std(0), 0.05)
    else:
        sums = np.zeros((3, FEATURE_DIM))
        for c in clips:
            f = c.features.astype(np.float64)
            sums += (np.full(FEATURE_DIM, len(f)), f.sum(0), (f * f).sum(0))
        count, total, squares = combine(sums)
        mean = total / count
        std = np.maximum(np.sqrt(np.maximum(squares / count - mean * mean, 0.0)), 0.05)
    sq = np.zeros(FEATURE_DIM)
    count = np.zeros(FEATURE_DIM)
    for _ in range(n_samples):
        clip = clips[int(rng.integers(len(clips)))]
        stream_mask, context = training_stream_mask(rng, clip.labels, keyframe_dropout=0.0)
        mask = columns_from_stream_mask(stream_mask)
        cond = build_conditioning(clip.features * mask, mask, tension, open_start=context, open_end=context)
        free = 1.0 - mask
        sq += (((clip.features - cond.interp) ** 2) * free).sum(0)
        count += free.sum(0)
    if combine is not None:
        sq, count = combine(np.stack([sq, count]))
    residual_std = np.maximum(np.sqrt(sq / np.maximum(count, 1.0)), 0.01)
    return Normaliser(mean.astype(np.float32), std.astype(np.float32), residual_std.astype(np.float32))


@dataclass
class Batch:
    x1: torch.Tensor
    interp: torch.Tensor
    column_mask: torch.Tensor
    stream_mask: torch.Tensor
    length_mask: torch.Tensor
    text_ids: torch.Tensor
    text_weights: torch.Tensor
    language: torch.Tensor
    #: (B, 1, T) 1 on the frames the losses score: real (not padding) and not an inserted stitched transition.
    loss_mask: torch.Tensor


def make_batch(clips: list[TrainClip], rng: np.random.Generator, cfg: TrainConfig, norm: Normaliser,
               languages: list[str], downsample: int, *, dropout: bool = True, tension: float = 0.0,
               crop_len: int | None = None) -> Batch:
    """Random crops with sampled keyframes, padded to a common length that the U-Net can halve.

    ``crop_len`` is drawn from ``rng`` unless given (ranks of one step share it, so their rows pad alike)."""
    if crop_len is None:
        crop_len = int(rng.integers(cfg.min_crop, cfg.max_crop + 1))
    padded = -(-crop_len // downsample) * downsample
    b = cfg.batch_size
    x1 = np.zeros((b, padded, FEATURE_DIM), np.float32)
    interp = np.zeros_like(x1)
    colmask = np.zeros_like(x1)
    smask = np.zeros((b, padded, cfg.model.anchor_channels), np.float32)
    lmask = np.zeros((b, padded, 1), np.float32)
    scored = np.zeros_like(lmask)
    texts: list[str] = []
    langs: list[int] = []
    continuous = [c for c in clips if c.kind == "sentence"] if cfg.continuous_share > 0 else []
    for i in range(b):
        if continuous and rng.random() < cfg.continuous_share:
            clip = continuous[int(rng.integers(len(continuous)))]
        else:
            clip = clips[int(rng.integers(len(clips)))]
        if dropout and rng.random() < cfg.time_warp_prob:
            clip = time_warped(clip, float(rng.uniform(*cfg.speed_range)))
        n = min(crop_len, clip.features.shape[0])
        start = int(rng.integers(0, clip.features.shape[0] - n + 1))
        feats = clip.features[start:start + n]
        if dropout and rng.random() < cfg.mirror_prob:
            feats = mirror_features(feats)
        fast_tags = None if clip.segmenter_labels is None else clip.segmenter_labels[start:start + n]
        stream_mask, context = training_stream_mask(rng, clip.labels[start:start + n],
                                                    keyframe_dropout=cfg.keyframe_dropout if dropout else 0.0,
                                                    segmenter_labels=fast_tags,
                                                    augmentation=cfg.layout_augmentation)
        mask = columns_from_stream_mask(stream_mask)
        # A crop's edge is a clip end only if the crop reaches it and carries no window context there.
        cond = build_conditioning(feats * mask, mask, tension, open_start=context or start > 0,
                                  open_end=context or start + n < len(clip.features))
        x1[i, :n] = residual_target(feats, cond, norm)
        interp[i, :n] = normalised_interp(cond, norm)
        colmask[i, :n] = cond.column_mask
        smask[i, :n] = cond.anchor_channels(cfg.model.timing_channels)
        lmask[i, :n] = 1.0
        scored[i, :n, 0] = 1.0 if clip.stitched is None else ~clip.stitched[start:start + n]
        drop_text = dropout and rng.random() < cfg.text_dropout
        texts.append("" if drop_text else clip.text)
        langs.append(0 if drop_text else language_index(languages, clip.signed_language))
    ids, weights = batch_token_ids(texts)

    def t(a: np.ndarray) -> torch.Tensor:
        return torch.from_numpy(a).transpose(1, 2).contiguous()

    return Batch(t(x1), t(interp), t(colmask), t(smask), t(lmask), ids, weights, torch.tensor(langs), t(scored))


#: A masked mean, sum(values * weight) / sum(weight): per process, or over all ranks' rows (GlobalMaskedMean).
MaskedMean = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]


def masked_mean(values: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    return (values * weight).sum() / weight.expand_as(values).sum().clamp_min(1.0)


@dataclass(frozen=True)
class NoiseRows:
    """This rank's rows of the global batch: the flow's noise is drawn for the whole global batch from a
    generator every rank shares, and each rank keeps its rows, so the noise does not depend on the world size."""

    start: int
    global_size: int


def flow_losses(net: nn.Module, batch: Batch, generator: torch.Generator | None = None,
                noise_scales: tuple[float, ...] = (0.0, 0.0, 0.5), t_zero_prob: float = 0.0,
                position_loss: HandPositionLoss | None = None, *, noise_rows: NoiseRows | None = None,
                mean: MaskedMean = masked_mean) -> dict[str, torch.Tensor]:
    """The four loss terms for one batch (keyframe columns excluded: they are given, not generated; stitched
    transition frames are seen by the network but never scored)."""
    device = batch.x1.device
    x1 = batch.x1
    bsz = x1.shape[0]
    draw = bsz if noise_rows is None else noise_rows.global_size
    rows = slice(0, bsz) if noise_rows is None else slice(noise_rows.start, noise_rows.start + bsz)
    free = (1.0 - batch.column_mask) * batch.length_mask
    scales = torch.tensor(noise_scales)[torch.randint(len(noise_scales), (draw,), generator=generator)][rows]
    x0 = (torch.randn((draw, *x1.shape[1:]), generator=generator)[rows] * scales[:, None, None]).to(device)
    t = torch.rand(draw, generator=generator)[rows]
    at_start = (scales == 0) & (torch.rand(draw, generator=generator)[rows] < t_zero_prob)
    t = torch.where(at_start, torch.zeros_like(t), t).to(device)
    tt = t[:, None, None]
    x_t = ((1 - tt) * x0 + tt * x1) * free
    target_v = x1 - x0
    module = net.module if hasattr(net, "module") else net
    cond = module.condition(t, batch.text_ids, batch.text_weights, batch.language, scales.to(device))
    v_hat = net(x_t, batch.interp, batch.stream_mask, batch.length_mask, cond)
    x1_hat = (x_t + (1 - tt) * v_hat) * free
    lm = batch.length_mask * batch.loss_mask
    free = free * batch.loss_mask
    vel_w = lm[..., 1:] * lm[..., :-1]
    acc_w = vel_w[..., 1:] * vel_w[..., :-1]
    dx_hat, dx = x1_hat.diff(dim=-1), x1.diff(dim=-1)
    losses = {
        "flow": mean((v_hat - target_v) ** 2, free),
        "recon": mean((x1_hat - x1) ** 2, lm),
        "velocity": mean((dx_hat - dx) ** 2, vel_w),
        "accel": mean((dx_hat.diff(dim=-1) - dx.diff(dim=-1)) ** 2, acc_w),
    }
    if position_loss is not None:
        losses.update(position_loss(x1_hat, x1, batch.interp, lm, mean))
    return losses


def hand_position_loss(cfg: TrainConfig, norm: Normaliser, device: torch.device | str = "cpu"
                       ) -> HandPositionLoss | None:
    """The forward-kinematics loss terms the config weighs; None when it weighs neither."""
    position, shape = cfg.loss_weights.get("position"), cfg.loss_weights.get("hand_shape")
    if not (position or shape):
        return None
    return HandPositionLoss(norm, hand_shape=bool(shape)).to(device)


def total_loss(parts: dict[str, torch.Tensor], weights: dict[str, float] = LOSS_WEIGHTS) -> torch.Tensor:
    return sum(weights.get(k, 0.0) * v for k, v in parts.items())  # type: ignore[return-value]


def batch_to(batch: Batch, device: torch.device) -> Batch:
    return Batch(*(getattr(batch, f).to(device) for f in Batch.__dataclass_fields__))


@torch.no_grad()
def validation_loss(net: nn.Module, clips: list[TrainClip], cfg: TrainConfig, norm: Normaliser, languages: list[str],
                    device: torch.device, tension: float, n_batches: int = 6) -> float:
    """Loss on fixed crops and noise (same seed every call), so numbers are comparable across checkpoints."""
    position_loss = hand_position_loss(cfg, norm, device)
    rng = np.random.default_rng(12345)
    gen = torch.Generator().manual_seed(12345)
    total = 0.0
    for _ in range(n_batches):
        batch = batch_to(make_batch(clips, rng, cfg, norm, languages, net.config.downsample, dropout=False,
                               tension=tension), device)
        parts = flow_losses(net, batch, gen, cfg.noise_scales, cfg.t_zero_prob, position_loss)
        total += float(total_loss(parts, cfg.loss_weights))
    return total / n_batches


def log_to_stderr(message: str) -> None:
    """Progress goes to stderr, unbuffered, so ``--json`` keeps stdout to one JSON object."""
    print(message, file=sys.stderr, flush=True)
