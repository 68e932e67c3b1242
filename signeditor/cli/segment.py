"""``signeditor segment INPUT -o OUT.json|OUT.eaf``: find signs in a recording and propose keyframes."""

from __future__ import annotations

import argparse
from pathlib import Path

from signeditor.app_services import segment_file
from signeditor.core.keyframes import POLICIES
from signeditor.io.errors import FileFormatError
from signeditor.ml.fast_tracks.guided import DEFAULT_SOURCE, SOURCES


def gloss_list(args: argparse.Namespace) -> list[str] | None:
    """The glosses given by ``--glosses`` or ``--glosses-from`` (None: find the signs freely)."""
    if args.glosses_from:
        from signeditor.io.elan import read_gloss_sequence

        return read_gloss_sequence(args.glosses_from)
    if args.glosses is None:
        return None
    from signeditor.core.gloss_alignment import parse_glosses

    glosses = parse_glosses(args.glosses)
    if not glosses:
        raise FileFormatError(Path(args.input), "--glosses is empty: give the glosses signed, e.g. \"A B C\"")
    return glosses


def run_segment(args: argparse.Namespace) -> int:
    glosses = gloss_list(args)
    if glosses is not None:
        from signeditor.ml.fast_tracks.guided import load_gloss_aligner

        segmenter = load_gloss_aligner(args.gloss_source, args.weights, args.tracks_weights)
    else:
        from signeditor.ml.fast.api import load_segmenter

        segmenter = load_segmenter(args.weights)
    print(segment_file(Path(args.input), Path(args.output), segmenter, args.policy, args.every, glosses))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("segment", help="find signs in a recording with FAST; write JSON or ELAN")
    parser.add_argument("input", help=".pose recording, .signproj project, or another motion file the editor "
                        "opens (.bvh, .npz, .signspark.npz, .lmdb: its first clip)")
    parser.add_argument("-o", "--output", required=True, help="OUT.json (segments + keyframes) or OUT.eaf (ELAN)")
    add_segment_options(parser)
    given = parser.add_mutually_exclusive_group()
    given.add_argument("--glosses", default=None,
                       help='the glosses signed, in order ("A B C"): exactly that many signs, named by them')
    given.add_argument("--glosses-from", default=None, metavar="EAF",
                       help="take the gloss list from an ELAN file's gloss tier")
    parser.add_argument("--gloss-source", choices=SOURCES, default=DEFAULT_SOURCE,
                        help="frame probabilities the gloss alignment reads: FAST, fast_tracks or both "
                             "(FAST weighing 3/4)")
    parser.add_argument("--tracks-weights", default=None,
                        help="fast_tracks weights (default: models/fast_tracks/fast_tracks.npz)")
    parser.set_defaults(handler=run_segment)


def add_segment_options(parser: argparse.ArgumentParser) -> None:
    """The model and keyframe options (``signeditor batch segment`` takes the same)."""
    parser.add_argument("--weights", default=None, help="FAST checkpoint (default: models/fast/fast.pt)")
    parser.add_argument("--policy", choices=POLICIES, default="onset_middle_offset", help="keyframe policy")
    parser.add_argument("--every", type=int, default=8, help="spacing for the every_n policy")
