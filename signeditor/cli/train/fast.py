"""Train the FAST sign segmenter from the corpus (a new file under runs/fast/; --install: models/fast/fast.pt; several
processes: torchrun)."""

from __future__ import annotations

import argparse
from pathlib import Path

from signeditor.cli.train._outputs import add_output_arguments, training_output
from signeditor.ml.fast.api import DEFAULT_WEIGHTS


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", default="data", help="corpus folder (default: data) or SignSparK LMDB corpus")
    add_output_arguments(parser, DEFAULT_WEIGHTS)
    parser.add_argument("--steps", type=int, default=None, help="optimiser steps (default: the shipped recipe)")
    parser.add_argument("--seed", type=int, default=0)
    # One thread by default: the shipped weights were trained so (bit-for-bit reproducible), and on the shared
    # 2-core machine two threads measured ~8x slower per step because they spin-wait on each other under load.
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (default: 1)")
    parser.add_argument("--batch-size", type=int, default=None, help="global batch (split over torchrun ranks)")
    parser.add_argument("--mix", type=_mix, default=None,
                        help="kinds of training sequence and their shares, e.g. "
                             "sentence=0.15,isolated=0.3,fingerspelling=0.25,continuous=0.3 (default: the recipe's)")
    parser.add_argument("--spelled-in-place", type=float, default=0.0,
                        help="share of fingerspelled words spelled with the arm held (default: 0, the recipe's)")
    parser.add_argument("--state", type=Path, default=None,
                        help="training state file to write every --state-every steps (for --resume)")
    parser.add_argument("--state-every", type=int, default=500, help="steps between training state saves")
    parser.add_argument("--resume", action="store_true", help="continue from --state (same number of processes)")


def _mix(text: str) -> dict[str, float]:
    kinds = ("sentence", "isolated", "fingerspelling", "continuous")
    try:
        mix = {kind: float(share) for kind, share in (item.split("=") for item in text.split(","))}
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"expected kind=share,...: {text!r}") from exc
    if unknown := set(mix) - set(kinds):
        raise argparse.ArgumentTypeError(f"unknown kinds {sorted(unknown)}; known: {', '.join(kinds)}")
    if sum(mix.values()) <= 0 or min(mix.values()) < 0:
        raise argparse.ArgumentTypeError("shares must be >= 0 and not all 0")
    return mix


def run(args: argparse.Namespace) -> dict:
    from signeditor.ml.fast.recipe import train_and_save

    out = training_output("fast", args.out, args.install, DEFAULT_WEIGHTS)
    summary = train_and_save(args.data, out, seed=args.seed, steps=args.steps, threads=args.threads,
                          batch_size=args.batch_size, mix=args.mix, spelled_in_place=args.spelled_in_place,
                          state_path=args.state, state_every=args.state_every, resume=args.resume)
    if summary and Path(out).is_file():  # the editor runs the ONNX export (rank 0 writes the weights)
        from signeditor.ml.onnx_export import export_onnx

        summary["onnx"] = export_onnx(out)
    return summary
