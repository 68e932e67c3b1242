"""``signeditor segment INPUT -o OUT.json|OUT.eaf``: find signs in a recording and propose keyframes."""

from __future__ import annotations

import argparse
from pathlib import Path

from signeditor.app_services import segment_file
from signeditor.core.keyframes import POLICIES


def run_segment(args: argparse.Namespace) -> int:
    from signeditor.ml.fast.api import load_segmenter

    segmenter = load_segmenter(args.weights)
    print(segment_file(Path(args.input), Path(args.output), segmenter, args.policy, args.every))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("segment", help="find signs in a recording with FAST; write JSON or ELAN")
    parser.add_argument("input", help=".pose recording or .signproj project")
    parser.add_argument("-o", "--output", required=True, help="OUT.json (segments + keyframes) or OUT.eaf (ELAN)")
    add_segment_options(parser)
    parser.set_defaults(handler=run_segment)


def add_segment_options(parser: argparse.ArgumentParser) -> None:
    """The model and keyframe options (``signeditor batch segment`` takes the same)."""
    parser.add_argument("--weights", default=None, help="FAST checkpoint (default: models/fast/fast.pt)")
    parser.add_argument("--policy", choices=POLICIES, default="onset_middle_offset", help="keyframe policy")
    parser.add_argument("--every", type=int, default=8, help="spacing for the every_n policy")
