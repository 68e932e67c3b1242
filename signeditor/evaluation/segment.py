"""Score FAST against the wrist-speed baseline on sentences with gloss timings (frame and segment F1).

Two sources: ``--data DIR`` of ``*_original.pose`` + ``*_metadata.json``
pairs (the dgs_sentences layout; motions fitted by IK, gloss times mapped
onto the frames), or ``--corpus DIR --split test`` for the corpus' held-out
clips with their stored labels, plus joined held-out isolated signs and
fingerspelled letters so boundaries between signs are tested too.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path

import numpy as np

from signeditor.core.motion import Motion
from signeditor.core.protocols import BatchSegmenter
from signeditor.core.segmentation_metrics import segmentation_scores
from signeditor.core.segments import Segment, segments_from_labels
from signeditor.core.speed_baseline import speed_minima_segments
from signeditor.io.errors import FileFormatError

Example = tuple[Motion, np.ndarray]  # motion and its true per-frame tags


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", help="folder of *_original.pose + *_metadata.json (dgs_sentences layout)")
    parser.add_argument("--corpus", default="data",
                        help="corpus folder (index.json): scored itself without --data, else only used for --split")
    parser.add_argument("--split", default=None, choices=("train", "val", "test", "all"),
                        help="only clips of this corpus split (default: test for the corpus, all files for --data)")
    parser.add_argument("--weights", default=None, help="FAST checkpoint (default: models/fast/fast.pt)")
    parser.add_argument("--limit", type=int, default=None, help="score at most this many files (quick checks)")


def files_in_split(corpus: Path, split: str) -> set[str]:
    """File names of the corpus' source files in ``split`` (splits are decided by file, so names identify them)."""
    from signeditor.data.corpus import load_corpus

    return {Path(r.source).name for r in load_corpus(corpus) if r.split == split}


def examples_from_pose_folder(
    folder: Path, limit: int | None = None, only: set[str] | None = None
) -> list[tuple[str, Example]]:
    """(name, (motion, tags)) for every sentence of the folder that has metadata with gloss timings."""
    from signeditor.data.labels import gloss_segments, labels_for
    from signeditor.data.sources import read_gloss_timing
    from signeditor.io.pose_import import motion_from_pose_file

    pairs = sorted(p for p in folder.glob("*_original.pose") if only is None or p.name in only)
    if not pairs:
        raise FileFormatError(folder, "no *_original.pose files" + (" in the chosen split" if only else ""))
    examples = []
    for pose_path in pairs[:limit]:
        meta_path = pose_path.with_name(pose_path.name.replace("_original.pose", "_metadata.json"))
        timing, _text = read_gloss_timing(meta_path)
        motion = motion_from_pose_file(pose_path)
        segments = gloss_segments(timing.glosses, timing.starts_ms, timing.ends_ms, timing.span_ms, motion.n_frames)
        examples.append((pose_path.stem, (motion, labels_for(segments, motion.n_frames))))
    return examples


def examples_from_corpus(corpus: Path, split: str) -> dict[str, list[Example]]:
    from signeditor.ml.fast.corpus_clips import evaluation_sequences, load_clips
    from signeditor.ml.fast.training import FPS

    splits = ("train", "val", "test") if split == "all" else (split,)
    clips = load_clips(corpus, splits)
    if not clips:
        raise FileFormatError(corpus, f"no labelled clips in split {split!r}")
    return {kind: [(Motion(FPS, f), lab) for f, lab in seqs] for kind, seqs in evaluation_sequences(clips).items()}


def score(examples: list[Example], segment: Callable[[list[Motion]], list[list[Segment]]]) -> dict[str, float]:
    motions = [m for m, _ in examples]
    labels = [lab for _, lab in examples]
    return segmentation_scores(segment(motions), [segments_from_labels(lab) for lab in labels], labels)


def compare(examples: list[Example], segmenter: BatchSegmenter) -> dict[str, dict[str, float]]:
    return {
        "fast": score(examples, segmenter.segment_batch),
        "baseline_speed_minima": score(examples, lambda ms: [speed_minima_segments(m) for m in ms]),
    }


def run(args: argparse.Namespace) -> dict:
    from signeditor.ml.fast.api import load_segmenter

    segmenter = load_segmenter(args.weights)
    if args.data:
        only = None if args.split in (None, "all") else files_in_split(Path(args.corpus), args.split)
        named = examples_from_pose_folder(Path(args.data), args.limit, only)
        return {"source": args.data, "split": args.split or "all", "files": [n for n, _ in named],
                **compare([e for _, e in named], segmenter)}
    corpus = Path(args.corpus)
    split = args.split or "test"
    groups = examples_from_corpus(corpus, split)
    result: dict = {"source": str(corpus), "split": split}
    for kind, examples in groups.items():
        result[kind] = compare(examples[: args.limit], segmenter)
    return result
