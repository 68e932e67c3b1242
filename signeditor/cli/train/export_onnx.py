"""Export trained weights (.pt) to the .onnx the editor runs without torch, beside them; records both SHA-256s."""

from __future__ import annotations

import argparse
from pathlib import Path

from signeditor.paths import MODELS_DIR


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("weights", nargs="*", type=Path,
                        default=[MODELS_DIR / "kf2p" / "kf2p.pt", MODELS_DIR / "fast" / "fast.pt"],
                        help="KF2P or FAST checkpoints (default: both shipped ones); each NAME.pt gets NAME.onnx "
                             "and its folder's MODEL_CARD.md the files' SHA-256")


def run(args: argparse.Namespace) -> dict:
    from signeditor.ml.onnx_export import export_onnx

    return {str(path): export_onnx(path) for path in args.weights}
