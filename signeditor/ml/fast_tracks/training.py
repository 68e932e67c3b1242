"""Train fast_tracks on BOSTON-104's training sentences (torch here only; inference is numpy).

Validation sentences (by hash, ``data.boston104.split_of``) choose the
checkpoint, the decoding thresholds and the weight of the duration prior;
test sentences are never read. Augmentation is what a second camera or
signer would change: tempo (0.8-1.25x), a small rotation and anisotropic
scale of the image, and tracker noise.
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from signeditor.core.gloss_alignment import DurationPrior, align_glosses
from signeditor.core.hand_tracks import TRACKS_FPS, track_features
from signeditor.core.segmentation_decoding import DecodingSettings, decode_segments
from signeditor.core.segmentation_metrics import segmentation_scores
from signeditor.core.segments import Segment, labels_from_segments
from signeditor.data.boston104 import TrackSentence, load_boston
from signeditor.ml.fast_tracks.network import TracksConfig, TracksWeights, forward, save_weights


@dataclass
class TracksTrainingSettings:
    steps: int = 2000
    batch_size: int = 16
    learning_rate: float = 3e-3
    weight_decay: float = 1e-4
    dropout: float = 0.1
    start_weight: float = 3.0  # sign-start frames are rare (one per sign) and decide where signs split
    validate_every: int = 100
    seed: int = 0
    threads: int = 1


def augmented(sentence: TrackSentence, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """(features, labels) of a randomly re-timed, rotated, scaled and jittered copy of ``sentence``."""
    tempo = float(np.exp(rng.uniform(np.log(0.8), np.log(1.25))))
    angle = rng.normal(0.0, 0.08)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    scale = np.exp(rng.normal(0.0, 0.08, size=2))
    tracks = (sentence.tracks @ rotation.T) * scale
    spread = float(np.median(np.abs(tracks[:, :2] - tracks[:, 2:3]))) + 1e-6
    tracks = tracks + rng.normal(0.0, 0.01 * spread, size=tracks.shape)
    features = track_features(tracks, sentence.fps * tempo)
    n = len(features)
    ratio = n / max(sentence.n_frames, 1)
    signs = []
    for s in sentence.signs:
        a, b = round(s.start * ratio), round(s.end * ratio)
        if a < n:
            signs.append(Segment(a, max(min(b, n), a + 1)))
    return features, np.asarray(labels_from_segments(signs, n), dtype=np.int64)


def plain(sentence: TrackSentence) -> np.ndarray:
    return track_features(sentence.tracks, sentence.fps)


def duration_prior(sentences: list[TrackSentence]) -> DurationPrior:
    """Log-normal fit of the training signs' lengths in seconds."""
    log_lengths = np.log([s.length / sentence.fps for sentence in sentences for s in sentence.signs])
    return DurationPrior(log_mean_s=round(float(np.mean(log_lengths)), 3),
                         log_std_s=round(float(np.std(log_lengths)), 3))


def _torch_net(config: TracksConfig, dropout: float) -> object:
    import torch
    from torch import nn

    class TracksNet(nn.Module):
        """The layers of network.forward, in torch; padded frames are zeroed before every convolution."""

        def __init__(self) -> None:
            super().__init__()
            c = config.channels
            self.input = nn.Linear(config.in_dim, c)
            self.convs = nn.ModuleList([nn.Conv1d(c, c, config.kernel, padding=d * (config.kernel // 2),
                                                  dilation=d) for d in config.dilations])
            self.mixes = nn.ModuleList([nn.Linear(c, c) for _ in config.dilations])
            self.head = nn.Linear(c, 3)
            self.drop = nn.Dropout(dropout)

        def forward(self, x: torch.Tensor, keep: torch.Tensor) -> torch.Tensor:
            """``x`` (B, T, F) normalised features, ``keep`` (B, T, 1) 0 on padding -> (B, T, 3) logits."""
            h = self.input(x) * keep
            for conv, mix in zip(self.convs, self.mixes, strict=True):
                inner = torch.relu(conv(h.transpose(1, 2)).transpose(1, 2))
                h = (h + mix(self.drop(inner))) * keep
            return self.head(torch.relu(h))

        def export(self) -> dict[str, np.ndarray]:
            arrays = {"input.w": self.input.weight, "input.b": self.input.bias,
                      "head.w": self.head.weight, "head.b": self.head.bias}
            for i, (conv, mix) in enumerate(zip(self.convs, self.mixes, strict=True)):
                arrays |= {f"block{i}.conv.w": conv.weight, f"block{i}.conv.b": conv.bias,
                           f"block{i}.mix.w": mix.weight, f"block{i}.mix.b": mix.bias}
            return {k: v.detach().cpu().numpy().astype(np.float32).copy() for k, v in arrays.items()}

    return TracksNet()


def _batch(items: list[tuple[np.ndarray, np.ndarray]], mean: np.ndarray, std: np.ndarray) -> tuple:
    import torch

    longest = max(len(f) for f, _ in items)
    x = np.zeros((len(items), longest, len(mean)), np.float32)
    y = np.full((len(items), longest), -100, np.int64)
    keep = np.zeros((len(items), longest, 1), np.float32)
    for i, (f, lab) in enumerate(items):
        x[i, : len(f)] = (f - mean) / std
        y[i, : len(f)] = lab
        keep[i, : len(f)] = 1.0
    return torch.from_numpy(x), torch.from_numpy(y), torch.from_numpy(keep)


def validation_scores(weights: TracksWeights, sentences: list[TrackSentence], decoding: DecodingSettings,
                      prior: DurationPrior) -> dict[str, dict[str, float]]:
    """Free decoding and gloss-guided alignment scores on ``sentences``."""
    probs = [forward(weights, plain(s)) for s in sentences]
    truth = [list(s.signs) for s in sentences]
    free = [decode_segments(p, decoding) for p in probs]
    guided = [align_glosses(p, s.glosses, TRACKS_FPS, prior) for p, s in zip(probs, sentences, strict=True)]
    return {"free": segmentation_scores(free, truth), "guided": segmentation_scores(guided, truth)}


def _selection_score(scores: dict[str, dict[str, float]]) -> float:
    return (scores["free"]["boundary_f1_2frames"] + scores["guided"]["segment_f1_iou50"]
            + scores["guided"]["boundary_f1_2frames"])


def tune_on_validation(weights: TracksWeights, sentences: list[TrackSentence],
                       prior: DurationPrior) -> tuple[DecodingSettings, DurationPrior]:
    """Decoding thresholds maximising free boundary F1 + segment F1, and the prior weight maximising
    gloss-guided segment F1 and boundary F1, on validation sentences."""
    probs = [forward(weights, plain(s)) for s in sentences]
    truth = [list(s.signs) for s in sentences]
    best_decoding, best = DecodingSettings(), -1.0
    for sign_t, start_t, min_len in itertools.product((0.3, 0.4, 0.5, 0.6), (0.2, 0.3, 0.4, 0.5), (3, 4, 6)):
        decoding = DecodingSettings(sign_threshold=sign_t, start_threshold=start_t, min_length=min_len,
                                    merge_gap=2, min_start_distance=min_len)
        s = segmentation_scores([decode_segments(p, decoding) for p in probs], truth)
        if s["boundary_f1_2frames"] + s["segment_f1_iou50"] > best:
            best_decoding, best = decoding, s["boundary_f1_2frames"] + s["segment_f1_iou50"]
    best_prior, best = prior, -1.0
    for weight in (0.0, 0.5, 1.0, 2.0, 4.0):
        candidate = replace(prior, weight=weight)
        guided = [align_glosses(p, s.glosses, TRACKS_FPS, candidate) for p, s in zip(probs, sentences, strict=True)]
        s = segmentation_scores(guided, truth)
        if s["segment_f1_iou50"] + s["boundary_f1_2frames"] > best:
            best_prior, best = candidate, s["segment_f1_iou50"] + s["boundary_f1_2frames"]
    return best_decoding, best_prior


def train_tracks(data: str | Path, output: str | Path, settings: TracksTrainingSettings | None = None,
                 log: Callable[[str], None] = print) -> dict:
    import torch

    settings = settings or TracksTrainingSettings()
    began = time.monotonic()
    torch.manual_seed(settings.seed)
    torch.set_num_threads(settings.threads)
    rng = np.random.default_rng(settings.seed)
    train = load_boston(data, ("train",))
    val = load_boston(data, ("val",))
    if not train or not val:
        raise ValueError(f"{data}: no training or validation sentences")
    prior = duration_prior(train)
    stacked = np.concatenate([plain(s) for s in train])
    mean, std = stacked.mean(axis=0), stacked.std(axis=0) + 1e-3
    config = TracksConfig()
    net = _torch_net(config, settings.dropout)
    optimiser = torch.optim.AdamW(net.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, settings.learning_rate, total_steps=settings.steps)
    class_weight = torch.tensor([1.0, 1.0, settings.start_weight])
    best_score, best_arrays, best_step = -1.0, net.export(), 0
    for step in range(1, settings.steps + 1):
        net.train()
        picks = rng.choice(len(train), size=settings.batch_size)
        x, y, keep = _batch([augmented(train[i], rng) for i in picks], mean, std)
        logits = net(x, keep)
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, 3), y.reshape(-1), weight=class_weight,
                                                 ignore_index=-100)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        if step % settings.validate_every == 0 or step == settings.steps:
            net.eval()
            weights = TracksWeights(config, mean, std, net.export())
            scores = validation_scores(weights, val, DecodingSettings(), prior)
            score = _selection_score(scores)
            log(f"step {step} loss {loss.item():.4f} val free boundary F1 {scores['free']['boundary_f1_2frames']:.3f}"
                f" guided F1@0.5 {scores['guided']['segment_f1_iou50']:.3f}"
                f" guided median err {scores['guided']['boundary_err_median_frames']:.1f}")
            if score > best_score:
                best_score, best_arrays, best_step = score, weights.arrays, step
    weights = TracksWeights(config, mean, std, best_arrays)
    decoding, prior = tune_on_validation(weights, val, prior)
    final = validation_scores(weights, val, decoding, prior)
    info = {"steps": settings.steps, "best_step": best_step, "seed": settings.seed,
            "batch_size": settings.batch_size, "train_sentences": len(train), "val_sentences": len(val),
            "train_seconds": round(time.monotonic() - began, 1)}
    weights.extra = {"decoding": asdict(decoding), "prior": asdict(prior), "info": info}
    save_weights(weights, output)
    return {"output": str(output), **info, "decoding": asdict(decoding), "prior": asdict(prior),
            **{f"val_{kind}_{k}": v for kind, s in final.items() for k, v in s.items()
               if k in ("segment_f1_iou50", "boundary_f1_2frames", "boundary_err_median_frames",
                        "sign_count_abs_err")}}
