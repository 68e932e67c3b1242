"""Train fast_tracks, the segmenter on 2D wrist and head tracks, on BOSTON-104 (--install:
models/fast_tracks/fast_tracks.npz)."""

from __future__ import annotations

import argparse

from signeditor.cli.train._outputs import add_output_arguments, training_output
from signeditor.ml.fast_tracks.api import DEFAULT_TRACKS_WEIGHTS
from signeditor.paths import SHARED_SIGNDATA


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default=str(SHARED_SIGNDATA / "rwth_boston104"),
                        help="BOSTON-104 folder (hands.csv + *_words.csv)")
    add_output_arguments(parser, DEFAULT_TRACKS_WEIGHTS)
    parser.add_argument("--steps", type=int, default=None, help="optimiser steps (default: the shipped recipe)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default: 1)")


def run(args: argparse.Namespace) -> dict:
    from signeditor.ml.fast_tracks.training import TracksTrainingSettings, train_tracks

    out = training_output("fast_tracks", args.out, args.install, DEFAULT_TRACKS_WEIGHTS)
    if out.suffix != ".npz":
        out = out.with_suffix(".npz")
    settings = TracksTrainingSettings(seed=args.seed, threads=args.threads)
    if args.steps:
        settings.steps = args.steps
    return train_tracks(args.data, out, settings)
