"""Score the segmenters on signing with known sign timing: FAST, fast_tracks, gloss-guided alignment, baselines.

Three sources:

- ``--data DIR`` with ``hands.csv`` + ``*_words.csv`` (the BOSTON-104 layout): natural continuous signing, only 2D
  hand and nose tracks, so the full-skeleton FAST cannot run there (the JSON says so). Default ``--split test``:
  sentences never used to choose anything (``val`` chose fast_tracks' checkpoint and decoding).
- ``--data DIR`` of ``*_original.pose`` + ``*_metadata.json`` (the dgs_sentences layout): sign spans from the
  inserted straight-line transitions of these stitched files (``core.stitching``; a file whose transitions do not
  match its gloss count falls back to mapping the gloss times linearly, and the JSON counts both). These figures
  are reported, never tuned on: their joins are found by any detector of zero acceleration.
- ``--corpus DIR --split test``: the corpus' held-out clips with their stored labels, plus joined held-out
  isolated signs and fingerspelled letters.

Every method gets the same scores (``core.segmentation_metrics``); ``fast_gloss_guided`` is given each clip's
sign count (its gloss list) and lays exactly that many signs (``core.gloss_alignment``). ``fast`` is FAST as the
editor decodes it (signs it did not parse split at wrist-speed minima); ``fast_shipped_decoding`` is the decoder of
the probabilities alone, kept for comparison.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from signeditor.core.hand_features import wrist_positions
from signeditor.core.hand_tracks import normalise_tracks
from signeditor.core.motion import Motion
from signeditor.core.segmentation_decoding import decode_segments, split_unanchored_segments, tags_to_probabilities
from signeditor.core.segmentation_metrics import segmentation_scores
from signeditor.core.segments import Segment, segments_from_labels
from signeditor.core.speed_baseline import (
    speed_minima_given_count,
    speed_minima_segments,
    speed_minima_segments_of_wrists,
)
from signeditor.io.errors import FileFormatError
from signeditor.ml.fast_tracks.guided import DEFAULT_SOURCE, SOURCES, GlossAligner

if TYPE_CHECKING:
    from signeditor.data.boston104 import TrackSentence
    from signeditor.ml.fast.api import Segmenter
    from signeditor.ml.fast_tracks.api import TrackSegmenter

Example = tuple[Motion, np.ndarray]  # motion and its true per-frame tags


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", help="BOSTON-104 folder (hands.csv + *_words.csv) or a folder of "
                                       "*_original.pose + *_metadata.json (dgs_sentences layout)")
    parser.add_argument("--corpus", default="data",
                        help="corpus folder (index.json): scored itself without --data, else only used for --split")
    parser.add_argument("--split", default=None, choices=("train", "val", "test", "all"),
                        help="only clips of this split (default: test for the corpus and BOSTON-104, "
                             "all files for a pose folder)")
    parser.add_argument("--weights", default=None, help="FAST checkpoint (default: models/fast/fast.pt)")
    parser.add_argument("--tracks-weights", default=None,
                        help="fast_tracks weights (default: models/fast_tracks/fast_tracks.npz)")
    parser.add_argument("--gloss-source", choices=SOURCES, default=DEFAULT_SOURCE,
                        help="frame probabilities gloss-guided alignment reads on a full skeleton "
                             "(BOSTON-104 has only tracks: fast_tracks)")
    parser.add_argument("--limit", type=int, default=None, help="score at most this many files (quick checks)")


def files_in_split(corpus: Path, split: str) -> set[str]:
    """File names of the corpus' source files in ``split`` (splits are decided by file, so names identify them)."""
    from signeditor.data.corpus import load_corpus

    return {Path(r.source).name for r in load_corpus(corpus) if r.split == split}


def examples_from_pose_folder(
    folder: Path, limit: int | None = None, only: set[str] | None = None
) -> tuple[list[tuple[str, Example]], dict[str, int]]:
    """(name, (motion, tags)) for every sentence of the folder with gloss timings, and how its labels were made."""
    from signeditor.data.labels import gloss_segments, labels_for
    from signeditor.data.sources import read_gloss_timing
    from signeditor.evaluation.stitched_labels import stitched_gloss_segments
    from signeditor.io.pose_import import motion_from_pose_file

    pairs = sorted(p for p in folder.glob("*_original.pose") if only is None or p.name in only)
    if not pairs:
        raise FileFormatError(folder, "no *_original.pose files" + (" in the chosen split" if only else ""))
    examples = []
    counts = {"exact_from_transitions": 0, "linear_fallback": 0}
    for pose_path in pairs[:limit]:
        meta_path = pose_path.with_name(pose_path.name.replace("_original.pose", "_metadata.json"))
        timing, _text = read_gloss_timing(meta_path)
        motion = motion_from_pose_file(pose_path)
        segments = stitched_gloss_segments(pose_path, timing.glosses, motion.fps, motion.n_frames)
        if segments is None:
            counts["linear_fallback"] += 1
            segments = gloss_segments(timing.glosses, timing.starts_ms, timing.ends_ms, timing.span_ms,
                                      motion.n_frames)
        else:
            counts["exact_from_transitions"] += 1
        examples.append((pose_path.stem, (motion, labels_for(segments, motion.n_frames))))
    return examples, counts


def examples_from_corpus(corpus: Path, split: str) -> dict[str, list[Example]]:
    from signeditor.ml.fast.corpus_clips import evaluation_sequences, load_clips
    from signeditor.ml.fast.training import FPS

    splits = ("train", "val", "test") if split == "all" else (split,)
    clips = load_clips(corpus, splits, mask_stitched=True)  # stitched joins: unknown, never scored as frames
    if not clips:
        raise FileFormatError(corpus, f"no labelled clips in split {split!r}")
    return {kind: [(Motion(FPS, f), lab) for f, lab in seqs] for kind, seqs in evaluation_sequences(clips).items()}


def _named(truth: list[Segment]) -> list[str]:
    return [t.gloss or f"SIGN{i + 1}" for i, t in enumerate(truth)]


def compare(examples: list[Example], segmenter: Segmenter, tracks: TrackSegmenter | None,
            aligner: GlossAligner) -> dict[str, dict]:
    """Every method on motions with true tags; ``tracks`` is the fast_tracks segmenter (None: not shipped)."""
    motions = [m for m, _ in examples]
    labels = [lab for _, lab in examples]
    truth = [segments_from_labels(lab) for lab in labels]

    def scored(predicted: list[list[Segment]]) -> dict[str, float]:
        return segmentation_scores(predicted, truth, labels)

    probabilities = segmenter.tag_probabilities_batch(motions)
    return {
        "fast": scored([segmenter.decode(p, m) for p, m in zip(probabilities, motions, strict=True)]),
        "fast_shipped_decoding": scored([decode_segments(p, segmenter.decoding) for p in probabilities]),
        "baseline_speed_minima": scored([speed_minima_segments(m) for m in motions]),
        "baseline_speed_minima_given_count": scored(
            [speed_minima_given_count(wrist_positions(m.features), m.fps, len(t)) for m, t in zip(motions, truth,
                                                                                                 strict=True)]),
        "fast_tracks": scored(tracks.segment_batch(motions)) if tracks else {"skipped": "no fast_tracks weights"},
        "fast_gloss_guided": scored([aligner.align(m, _named(t)) for m, t in zip(motions, truth, strict=True)]),
    }


def compare_tracks(sentences: list[TrackSentence], tracks: TrackSegmenter | None) -> dict[str, dict]:
    """Every method on 2D track sentences (BOSTON-104); without fast_tracks weights its methods say so."""
    truth = [list(s.signs) for s in sentences]

    def scored(predicted: list[list[Segment]]) -> dict[str, float]:
        return segmentation_scores(predicted, truth)

    wrists = [normalise_tracks(s.tracks) for s in sentences]
    result = {
        "fast": {"skipped": "FAST reads a full skeleton; this folder has only 2D hand and nose tracks"},
        "baseline_speed_minima": scored([speed_minima_segments_of_wrists(w, s.fps)
                                         for w, s in zip(wrists, sentences, strict=True)]),
        "baseline_speed_minima_given_count": scored([speed_minima_given_count(w, s.fps, len(s.signs))
                                                     for w, s in zip(wrists, sentences, strict=True)]),
        "speed_split_of_signing_span": scored([_split_signing_span(w, s) for w, s in zip(wrists, sentences,
                                                                                         strict=True)]),
    }
    if tracks is None:
        return result | {k: {"skipped": "no fast_tracks weights"} for k in ("fast_tracks", "fast_gloss_guided")}
    probabilities = [tracks.probabilities_of_tracks(s.tracks, s.fps) for s in sentences]
    return result | {
        "fast_tracks": scored([tracks.decode(p) for p in probabilities]),
        "fast_gloss_guided": scored([tracks.align(p, s.glosses, s.fps)
                                     for p, s in zip(probabilities, sentences, strict=True)]),
    }


def _split_signing_span(wrists: np.ndarray, sentence: TrackSentence) -> list[Segment]:
    """The editor's split of an unparsed sign (``core.segmentation_decoding``) on one segment laid over the
    sentence's signing span, first sign's start to last sign's end: how well wrist speed alone recovers the signs
    of natural signing when a segmenter sees one long sign, as FAST does on real continuous signing."""
    span = Segment(sentence.signs[0].start, sentence.signs[-1].end)
    unparsed = tags_to_probabilities(np.ones(len(wrists), dtype=int))  # in sign throughout, no start, no rest
    return split_unanchored_segments([span], unparsed, wrists, sentence.fps)


def _track_segmenter(path: str | None) -> TrackSegmenter | None:
    from signeditor.ml.fast_tracks.api import DEFAULT_TRACKS_WEIGHTS, load_track_segmenter

    if path is None and not DEFAULT_TRACKS_WEIGHTS.is_file():
        return None
    return load_track_segmenter(path)


def run(args: argparse.Namespace) -> dict:
    data = Path(args.data) if args.data else None
    tracks = _track_segmenter(args.tracks_weights)
    if data is not None:
        from signeditor.data.boston104 import is_boston_folder, load_boston

        if is_boston_folder(data):
            split = args.split or "test"
            sentences = load_boston(data, ("train", "val", "test") if split == "all" else (split,))[: args.limit]
            return {"source": str(data), "split": split, "sentences": len(sentences),
                    "gloss_guided_probabilities": "fast_tracks", **compare_tracks(sentences, tracks)}
    from signeditor.ml.fast.api import load_segmenter

    segmenter = load_segmenter(args.weights)
    source = args.gloss_source if tracks is not None else "fast"
    aligner = GlossAligner(segmenter, tracks, source)
    if data is not None:
        only = None if args.split in (None, "all") else files_in_split(Path(args.corpus), args.split)
        named, counts = examples_from_pose_folder(data, args.limit, only)
        return {"source": args.data, "split": args.split or "all", "files": [n for n, _ in named],
                "labels": counts, "gloss_guided_probabilities": source,
                **compare([e for _, e in named], segmenter, tracks, aligner)}
    corpus = Path(args.corpus)
    split = args.split or "test"
    groups = examples_from_corpus(corpus, split)
    result: dict = {"source": str(corpus), "split": split, "gloss_guided_probabilities": source}
    for kind, examples in groups.items():
        result[kind] = compare(examples[: args.limit], segmenter, tracks, aligner)
    return result
