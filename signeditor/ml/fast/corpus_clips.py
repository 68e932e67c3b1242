"""Corpus clips as training/evaluation material: load a split, build deterministic joined test sequences."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from signeditor.core.motion import Motion
from signeditor.ml.fast.training import FPS, TrainingClip, continuous_sequence, join_clips, spelled_word_in_place


def load_clips(corpus_dir: str | Path, splits: Sequence[str],
               shard: Callable[[list], list] | None = None, *, mask_stitched: bool = False) -> list[TrainingClip]:
    """Clips of the given splits that carry labels, resampled to the model's frame rate when needed.

    ``mask_stitched`` tags the inserted straight-line transitions of stitched files unknown (-1), so training
    and model selection never learn or reward finding the joins (a zero-acceleration detector finds them all).

    ``corpus_dir`` is a ``signeditor data build`` corpus or a SignSparK LMDB corpus (its clips count as
    sentences); ``shard`` keeps this rank's share before the arrays are read (training on several processes).
    """
    from signeditor.data.corpus import load_corpus
    from signeditor.data.signspark_corpus import is_signspark_corpus, signspark_clips

    keep = shard or (lambda items: items)
    if is_signspark_corpus(Path(corpus_dir)):
        return [TrainingClip(c.features, c.labels, "sentence", "signspark", c.id)
                for split in splits for c in signspark_clips(Path(corpus_dir), split, keep)
                if len(c.features) >= 2 and np.any(c.labels >= 1)]
    records = keep([r for r in load_corpus(Path(corpus_dir)) if r.split in splits and r.has_labels])
    clips: list[TrainingClip] = []
    for record in records:
        arrays = record.load()
        features = np.asarray(arrays["features"], dtype=np.float32)
        labels = np.asarray(arrays["labels"], dtype=np.int8)
        if mask_stitched:
            labels = np.where(arrays["stitched"], np.int8(-1), labels)
        if len(features) < 2 or not np.any(labels >= 1):
            continue
        fps = float(getattr(record, "fps", FPS) or FPS)
        if abs(fps - FPS) > 1e-6:
            motion = Motion(fps, features).resampled(FPS)
            idx = np.clip(np.round(np.arange(motion.n_frames) * fps / FPS).astype(int), 0, len(labels) - 1)
            features, labels = motion.features, labels[idx]
        group = record.signed_language if record.kind == "fingerspelling" else record.dataset
        clips.append(TrainingClip(features, labels, record.kind, group, record.id))
    return clips


def evaluation_sequences(
    clips: Sequence[TrainingClip], seed: int = 1234, joined_per_kind: int = 40
) -> dict[str, list[tuple[np.ndarray, np.ndarray]]]:
    """Held-out material by kind: sentences as they are; isolated signs and letters joined deterministically,
    and run together as continuous signing (``continuous``).

    Joined sequences let held-out isolated clips test boundaries between
    signs, which single clips (one sign each) cannot.
    """
    rng = np.random.default_rng(seed)
    out: dict[str, list[tuple[np.ndarray, np.ndarray]]] = {}
    sentences = [c for c in clips if c.kind == "sentence"]
    if sentences:
        out["sentence"] = [(c.features, c.labels) for c in sentences]
    isolated = [c for c in clips if c.kind == "isolated"]
    alphabets: dict[str, list[TrainingClip]] = {}
    for c in clips:
        if c.kind == "fingerspelling":
            alphabets.setdefault(c.group, []).append(c)
    for kind, groups in (("isolated", {"all": isolated} if isolated else {}), ("fingerspelling", alphabets)):
        if not groups:
            continue
        names = sorted(groups)
        seqs = []
        for i in range(joined_per_kind):
            group = groups[names[i % len(names)]]
            chosen = [group[j] for j in rng.integers(len(group), size=int(rng.integers(2, 5)))]
            keep_rest = kind == "isolated" and i % 2 == 0
            seqs.append(join_clips(chosen, rng, keep_rest=keep_rest, inner_transition=(1, 4)))
        out[f"joined_{kind}"] = seqs
        if kind == "fingerspelling":
            words = [groups[names[i % len(names)]] for i in range(joined_per_kind)]
            out["spelled_in_place"] = [
                spelled_word_in_place([w[j] for j in rng.integers(len(w), size=int(rng.integers(3, 7)))], rng)
                for w in words]
    if isolated:
        out["joined_continuous"] = [continuous_sequence(isolated, alphabets, rng, n_items=(3, 6))
                                    for _ in range(joined_per_kind)]
    return out
