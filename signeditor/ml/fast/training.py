"""Training FAST from the corpus: sequence building, augmentation, the loop and decoding tuning.

Real signing sentences with timings are scarce (a few DGS sentences), so
most training sequences are assembled: isolated signs joined with their own
rest frames or with short transitions (so the model sees both signs
separated by rest and signs that follow each other directly), and letters
of one alphabet joined into fingerspelled words. Labels come from the
corpus (known from the joins and from hand activity), and frames labelled
unknown (-1) are left out of the loss.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import nn

from signeditor.core.hand_features import hand_feature_streams
from signeditor.core.motion import interpolate_features, mirror_features
from signeditor.core.segmentation_decoding import DecodingSettings, decode_segments
from signeditor.core.segmentation_metrics import segmentation_scores
from signeditor.core.segments import IN_SIGN, NON_SIGN, SIGN_START, UNKNOWN_LABEL, segments_from_labels
from signeditor.ml.distributed import DistributedContext, init_distributed
from signeditor.ml.fast.continuous import (
    SIGN_FRAMES,
    SPEED_UP,
    join_continuous,
    minimum_jerk_transition,
    sentence_form,
    spelled_in_place,
)
from signeditor.ml.fast.model import FastConfig, FastSegmenterNet
from signeditor.ml.training_state import gather_random_states, load_state, restore_random_state, save_state

FPS = 25.0
STATE_KIND = "signeditor FAST training state"


@dataclass
class TrainingClip:
    """One corpus clip in memory: rotations, per-frame tags (-1 unknown) and what kind of clip it is."""

    features: np.ndarray
    labels: np.ndarray
    kind: str  # "sentence" | "isolated" | "fingerspelling"
    group: str = ""  # the alphabet for fingerspelling, the dataset otherwise
    clip_id: str = ""


@dataclass
class TrainingSettings:
    seed: int = 0
    steps: int = 3000
    batch_size: int = 24
    window: int = 160
    learning_rate: float = 2e-3
    weight_decay: float = 1e-2
    start_weight: float = 4.0
    noise: float = 0.05
    p_mirror: float = 0.3
    #: Share of fingerspelled words spelled in place (arm held, see ``continuous``) rather than joined as recorded
    #: (0 in the shipped recipe: tried for issue #13, see the model card).
    p_spelled_in_place: float = 0.0
    speed_range: tuple[float, float] = (0.8, 1.25)
    #: Kinds of training sequence and their shares; "continuous" (isolated signs run together, see
    #: ``continuous``) is not in the shipped recipe: tried for issue #13, see the model card.
    mix: dict[str, float] = field(default_factory=lambda: {"sentence": 0.2, "isolated": 0.5, "fingerspelling": 0.3})
    threads: int = 1
    log_every: int = 100


# --------------------------------------------------------------------------- labels and sequence building


def normalise_starts(labels: np.ndarray) -> np.ndarray:
    """Every run of sign frames begins with exactly one start tag (keeps runs split by explicit starts)."""
    labels = labels.astype(np.int8).copy()
    sign = labels >= IN_SIGN
    prev_sign = np.concatenate([[False], sign[:-1]])
    labels[sign & ~prev_sign] = SIGN_START
    prev_start = np.concatenate([[False], labels[:-1] == SIGN_START])
    labels[(labels == SIGN_START) & prev_start] = IN_SIGN
    return labels


def resample_clip(features: np.ndarray, labels: np.ndarray, factor: float) -> tuple[np.ndarray, np.ndarray]:
    """Play a clip ``factor`` times faster; sign starts stay single frames at the nearest new frame."""
    n = len(features)
    n_out = max(2, round(n / factor))
    times = np.linspace(0, n - 1, n_out)
    new_features = interpolate_features(features, times)
    nearest = np.clip(np.round(times).astype(int), 0, n - 1)
    new_labels = labels[nearest].copy()
    new_labels[new_labels == SIGN_START] = IN_SIGN
    for start in np.flatnonzero(labels == SIGN_START):
        k = min(int(np.searchsorted(times, start - 0.5)), n_out - 1)
        if new_labels[k] >= IN_SIGN:
            new_labels[k] = SIGN_START
    return new_features, normalise_starts_keep_unknown(new_labels)


def normalise_starts_keep_unknown(labels: np.ndarray) -> np.ndarray:
    unknown = labels == UNKNOWN_LABEL
    fixed = normalise_starts(np.where(unknown, NON_SIGN, labels))
    fixed[unknown] = UNKNOWN_LABEL
    return fixed


def sign_span(labels: np.ndarray) -> tuple[int, int] | None:
    """First and one-past-last sign frame of a clip."""
    idx = np.flatnonzero(labels >= IN_SIGN)
    return (int(idx[0]), int(idx[-1]) + 1) if len(idx) else None


def transition(a: np.ndarray, b: np.ndarray, n: int) -> np.ndarray:
    """``n`` frames moving from pose ``a`` to pose ``b`` (ends excluded)."""
    pair = np.stack([a, b])
    return interpolate_features(pair, np.linspace(0, 1, n + 2)[1:-1])


def join_clips(
    clips: Sequence[TrainingClip], rng: np.random.Generator, keep_rest: bool, inner_transition: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate clips; with ``keep_rest`` false, inner rest frames are cut and replaced by a short transition."""
    parts_f: list[np.ndarray] = []
    parts_l: list[np.ndarray] = []
    for i, clip in enumerate(clips):
        f, lab = clip.features, clip.labels
        span = sign_span(lab)
        if not keep_rest and span is not None:
            start = 0 if i == 0 else span[0]
            end = len(f) if i == len(clips) - 1 else span[1]
            f, lab = f[start:end], lab[start:end]
        if parts_f:
            n = int(rng.integers(inner_transition[0], inner_transition[1] + 1)) if not keep_rest else 2
            if n > 0:
                parts_f.append(transition(parts_f[-1][-1], f[0], n))
                parts_l.append(np.full(n, NON_SIGN, dtype=np.int8))
        parts_f.append(f)
        parts_l.append(lab.astype(np.int8))
    return np.concatenate(parts_f).astype(np.float32), normalise_starts_keep_unknown(np.concatenate(parts_l))


def continuous_sequence(
    isolated: Sequence[TrainingClip], alphabets: dict[str, list[TrainingClip]], rng: np.random.Generator,
    n_items: tuple[int, int] = (2, 7), p_spelled: float = 0.2,
) -> tuple[np.ndarray, np.ndarray]:
    """Isolated signs (and now and then a spelled word) run together as continuous signing; see ``continuous``."""
    n = int(rng.integers(n_items[0], n_items[1] + 1))
    items: list[tuple[np.ndarray, np.ndarray]] = []
    for i in range(n):
        if i in (0, n - 1):
            clip = isolated[rng.integers(len(isolated))]
            items.append(resample_clip(clip.features, clip.labels, float(rng.uniform(*SPEED_UP))))
        elif alphabets and rng.random() < p_spelled:
            letters = alphabets[sorted(alphabets)[rng.integers(len(alphabets))]]
            word = rng.integers(len(letters), size=int(rng.integers(2, 6)))
            items.append(spelled_in_place([(letters[j].features, letters[j].labels) for j in word], rng))
        else:
            clip = isolated[rng.integers(len(isolated))]
            items.append(sentence_form(clip.features, clip.labels, rng, SIGN_FRAMES))
    features, labels = join_continuous(items, rng)
    return features, normalise_starts_keep_unknown(labels)


def spelled_word_in_place(letters: Sequence[TrainingClip], rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """A fingerspelled word as a signer spells it: rest, the letters in place, rest (see ``continuous``)."""
    first, last = letters[0], letters[-1]
    word = spelled_in_place([(c.features, c.labels) for c in letters], rng)
    opening = first.features[: int(np.flatnonzero(first.labels >= IN_SIGN)[0])]
    closing = last.features[int(np.flatnonzero(last.labels >= IN_SIGN)[-1]) + 1:]
    parts_f, parts_l = [word[0]], [word[1]]
    if len(opening):
        parts_f.insert(0, np.concatenate([opening, minimum_jerk_transition(opening[-1], word[0][0], 4)]))
        parts_l.insert(0, np.full(len(opening) + 4, NON_SIGN, dtype=np.int8))
    if len(closing):
        parts_f.append(np.concatenate([minimum_jerk_transition(word[0][-1], closing[0], 4), closing]))
        parts_l.append(np.full(len(closing) + 4, NON_SIGN, dtype=np.int8))
    return np.concatenate(parts_f).astype(np.float32), normalise_starts_keep_unknown(np.concatenate(parts_l))


class SequenceSampler:
    """Draws augmented training sequences (hand streams + tags) from corpus clips, deterministically by seed."""

    def __init__(self, clips: Sequence[TrainingClip], settings: TrainingSettings, rng: np.random.Generator) -> None:
        self.settings = settings
        self.rng = rng
        self.pools: dict[str, list[TrainingClip]] = {}
        for clip in clips:
            if len(clip.features) >= 2:
                self.pools.setdefault(clip.kind, []).append(clip)
        self.alphabets: dict[str, list[TrainingClip]] = {}
        for clip in self.pools.get("fingerspelling", []):
            self.alphabets.setdefault(clip.group, []).append(clip)
        kinds = [k for k, share in settings.mix.items()
                 if share > 0 and self.pools.get("isolated" if k == "continuous" else k)]
        if not kinds:
            kinds = list(self.pools)
        if not kinds:
            raise ValueError("no training clips")
        weights = np.array([settings.mix.get(k, 1.0) for k in kinds], dtype=float)
        self.kinds = kinds
        self.kind_p = weights / weights.sum()

    def raw_sequence(self) -> tuple[np.ndarray, np.ndarray]:
        rng = self.rng
        kind = self.kinds[rng.choice(len(self.kinds), p=self.kind_p)]
        if kind == "continuous":
            return continuous_sequence(self.pools["isolated"], self.alphabets, rng)
        pool = self.pools[kind]
        if kind == "sentence":
            clip = pool[rng.integers(len(pool))]
            return clip.features, normalise_starts_keep_unknown(clip.labels)
        if kind == "fingerspelling":
            alphabet = list(self.alphabets)[rng.integers(len(self.alphabets))]
            letters = self.alphabets[alphabet]
            chosen = [letters[i] for i in rng.integers(len(letters), size=int(rng.integers(2, 7)))]
            if self.settings.p_spelled_in_place > 0 and rng.random() < self.settings.p_spelled_in_place:
                return spelled_word_in_place(chosen, rng)
            return join_clips(chosen, rng, keep_rest=False, inner_transition=(1, 3))
        chosen = [pool[i] for i in rng.integers(len(pool), size=int(rng.integers(1, 5)))]
        if len(chosen) == 1 or rng.random() < 0.5:
            return join_clips(chosen, rng, keep_rest=True, inner_transition=(0, 0))
        return join_clips(chosen, rng, keep_rest=False, inner_transition=(1, 5))

    def sample(self) -> tuple[np.ndarray, np.ndarray]:
        """One window: hand streams (2, window, F) and tags (window,), unknown or padding frames -1."""
        s, rng = self.settings, self.rng
        features, labels = self.raw_sequence()
        lo, hi = s.speed_range
        factor = math.exp(rng.uniform(math.log(lo), math.log(hi)))
        features, labels = resample_clip(features, labels, factor)
        if rng.random() < s.p_mirror:
            features = mirror_features(features)
        if len(features) > s.window:
            start = int(rng.integers(0, len(features) - s.window + 1))
            features, labels = features[start : start + s.window], labels[start : start + s.window].copy()
            if labels[0] == IN_SIGN:
                labels[0] = UNKNOWN_LABEL  # a sign cut by the window: its start is not known
        streams = hand_feature_streams(features, FPS)
        pad = s.window - streams.shape[1]
        if pad > 0:
            streams = np.concatenate([streams, np.repeat(streams[:, -1:], pad, axis=1)], axis=1)
            labels = np.concatenate([labels, np.full(pad, UNKNOWN_LABEL, dtype=np.int8)])
        return streams, labels.astype(np.int64)


# --------------------------------------------------------------------------- training loop


def normalisation(streams: Sequence[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per-hand feature mean and std; std is floored so near-constant features are not blown up into noise."""
    stacked = np.concatenate([s for s in streams], axis=1)  # (2, N, F)
    mean = stacked.mean(axis=1)
    std = np.maximum(stacked.std(axis=1), 0.05)
    return mean.astype(np.float32), std.astype(np.float32)


def _distributed_normalisation(streams: Sequence[np.ndarray], ctx: DistributedContext) -> tuple[np.ndarray, np.ndarray]:
    """``normalisation`` over every rank's warm-up windows (sums of values and squares, then mean and std)."""
    stacked = np.concatenate([s for s in streams], axis=1).astype(np.float64)  # (2, N, F)
    n = ctx.all_reduce_sum(np.array(float(stacked.shape[1])))
    total, squares = ctx.all_reduce_sum(np.stack([stacked.sum(axis=1), (stacked * stacked).sum(axis=1)]))
    mean = total / n
    std = np.maximum(np.sqrt(np.maximum(squares / n - mean * mean, 0.0)), 0.05)
    return mean.astype(np.float32), std.astype(np.float32)


def train_network(
    clips: Sequence[TrainingClip],
    settings: TrainingSettings,
    config: FastConfig | None = None,
    log: Callable[[str], None] = print,
    *,
    state_path: Path | None = None,
    state_every: int | None = None,
    resume: bool = False,
) -> tuple[FastSegmenterNet, np.ndarray, np.ndarray, dict[str, float]]:
    """Train from scratch (or continue from ``state_path`` with ``resume``); returns the network, the
    normalisation and training stats. Every ``state_every`` steps rank 0 writes a resumable state.

    Under ``torchrun`` each rank passes its shard of the clips and draws its share of every global batch
    (``batch_size``) from it; the loss is the weighted cross-entropy of the global batch (DDP averages the
    gradients) and rank 0 logs. With one process this is the single-process recipe, bit for bit.
    """
    ctx = init_distributed()
    torch.manual_seed(settings.seed + ctx.rank)
    torch.set_num_threads(settings.threads)
    rng = np.random.default_rng(settings.seed + 1000 * ctx.rank)
    if settings.batch_size % ctx.world:
        raise ValueError(f"batch size {settings.batch_size} does not split over {ctx.world} processes")
    batch_size = settings.batch_size // ctx.world
    sampler = SequenceSampler(clips, settings, rng)
    warm = [sampler.sample()[0] for _ in range(-(-64 // ctx.world))]
    mean, std = _distributed_normalisation(warm, ctx) if ctx.distributed else normalisation(warm)
    mean_t, std_t = torch.from_numpy(mean), torch.from_numpy(std)
    net = FastSegmenterNet(config)
    model: nn.Module = nn.parallel.DistributedDataParallel(net) if ctx.distributed else net
    optimiser = torch.optim.AdamW(net.parameters(), lr=settings.learning_rate, weight_decay=settings.weight_decay)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimiser, max_lr=settings.learning_rate, total_steps=settings.steps, pct_start=0.1
    )
    class_weight = torch.tensor([1.0, 1.0, settings.start_weight])
    loss_fn = nn.CrossEntropyLoss(weight=class_weight, ignore_index=UNKNOWN_LABEL)
    net.train()
    began = time.monotonic()
    running = 0.0
    first_step = 1
    if resume:
        if state_path is None:
            raise ValueError("resuming needs the training state file")
        state = load_state(state_path, STATE_KIND, ctx.world)
        net.load_state_dict(state["net"])
        optimiser.load_state_dict(state["optimiser"])
        schedule.load_state_dict(state["schedule"])
        restore_random_state(state["ranks"], ctx, rng)
        first_step, running = state["step"] + 1, state["running"]
        if ctx.is_main:
            log(f"resumed at step {state['step']} from {state_path}")
    for step in range(first_step, settings.steps + 1):
        batch = [sampler.sample() for _ in range(batch_size)]
        x = torch.from_numpy(np.stack([b[0] for b in batch]))
        y = torch.from_numpy(np.stack([b[1] for b in batch]))
        x = (x - mean_t[None, :, None]) / std_t[None, :, None]
        if settings.noise > 0:
            x = x + settings.noise * torch.randn(x.shape, generator=None)
        logits = model(x)
        if ctx.distributed:
            loss = _global_weighted_cross_entropy(logits.reshape(-1, 3), y.reshape(-1), class_weight, ctx.world)
        else:
            loss = loss_fn(logits.reshape(-1, 3), y.reshape(-1))
        optimiser.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        optimiser.step()
        schedule.step()
        running += float(loss.detach())
        if step % settings.log_every == 0 or step == settings.steps:
            count = settings.log_every if step % settings.log_every == 0 else step % settings.log_every
            if ctx.distributed:  # the ranks' shares averaged: the global batch's loss
                running = float(ctx.all_reduce_sum(np.array(running))) / ctx.world
            if ctx.is_main:
                log(f"step {step}/{settings.steps} loss {running / count:.4f} ({time.monotonic() - began:.0f} s)")
            running = 0.0
        if state_path is not None and state_every and step % state_every == 0:
            ranks = gather_random_states(ctx, rng)
            if ctx.is_main:
                save_state(state_path, STATE_KIND, ctx.world, {
                    "step": step, "net": net.state_dict(), "optimiser": optimiser.state_dict(),
                    "schedule": schedule.state_dict(), "ranks": ranks, "running": running})
    net.eval()
    return net, mean, std, {"train_seconds": time.monotonic() - began, "steps": settings.steps}


def _global_weighted_cross_entropy(logits: torch.Tensor, target: torch.Tensor, weight: torch.Tensor,
                                   world: int) -> torch.Tensor:
    """This rank's share of the class-weighted cross-entropy over all ranks' frames (unknown frames ignored)."""
    import torch.distributed as dist

    total = nn.functional.cross_entropy(logits, target, weight=weight, ignore_index=UNKNOWN_LABEL, reduction="sum")
    known = target != UNKNOWN_LABEL
    denominator = weight[target[known]].sum().detach().clone()
    dist.all_reduce(denominator)
    return total * world / denominator.clamp_min(1e-8)


# --------------------------------------------------------------------------- decoding tuning


def tune_decoding(
    probabilities: Sequence[np.ndarray],
    labels: Sequence[np.ndarray],
    base: DecodingSettings | None = None,
    groups: Sequence[str] | None = None,
) -> tuple[DecodingSettings, float]:
    """Pick decoding thresholds that maximise segment F1 (IoU >= 0.5) on held-out clips.

    With ``groups`` (one name per clip, e.g. sentence / joined isolated), the
    objective is the mean of the groups' F1, so a few real sentences weigh as
    much as many joined isolated signs.
    """
    base = base or DecodingSettings()
    groups = list(groups) if groups is not None else ["all"] * len(labels)
    members = {g: [i for i, name in enumerate(groups) if name == g] for g in dict.fromkeys(groups)}
    truths = [segments_from_labels(lab) for lab in labels]
    best, best_score = base, -1.0
    for sign_threshold in (0.4, 0.5, 0.6):
        for start_threshold in (0.2, 0.3, 0.4, 0.5, 0.6):
            for min_length in (2, 3, 4, 6):
                candidate = DecodingSettings(sign_threshold, start_threshold, min_length, base.merge_gap,
                                             min(base.min_start_distance, min_length))
                predictions = [decode_segments(p, candidate) for p in probabilities]
                score = float(np.mean([
                    segmentation_scores([predictions[i] for i in idx], [truths[i] for i in idx],
                                        [labels[i] for i in idx])["segment_f1_iou50"]
                    for idx in members.values()
                ]))
                if score > best_score + 1e-9:
                    best, best_score = candidate, score
    return best, best_score
