"""``signeditor draft "Kinder essen Pizza" --spoken de --signed sgg -o draft.signproj``: a signing draft from text."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from signeditor.app_services import LEXICON_ENV, default_lexicon_folders, draft_builder, draft_to_file


def run_draft(args: argparse.Namespace) -> int:
    from signeditor.drafts.plan import DraftError

    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, args.threads)))  # ONNX Runtime's and numpy's threads
    folders = [Path(p) for p in args.lexicon] if args.lexicon else default_lexicon_folders()
    try:
        builder = draft_builder(folders, args.cache_dir, not args.no_kf2p, args.letters_per_second)
        message = draft_to_file(builder, args.text, args.spoken, args.signed, Path(args.output), args.format,
                                nonmanuals=args.nonmanuals)
    except DraftError as exc:
        print(f"signeditor draft: {exc}", file=sys.stderr)
        return 2
    print(message)
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("draft", help="make an editable signing draft from text with a sign lexicon")
    parser.add_argument("text", help="the sentence to sign")
    parser.add_argument("-o", "--output", required=True,
                        help="OUT.signproj, or any export format by suffix (.bvh, .glb, .pose, .eaf, .mp4, ...)")
    parser.add_argument("-f", "--format", default=None, help="export format name, overriding the suffix")
    add_draft_options(parser)
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for the models")
    parser.set_defaults(handler=run_draft)


def add_draft_options(parser: argparse.ArgumentParser) -> None:
    """Languages, lexicons, models and face presets (``signeditor batch draft`` takes the same)."""
    from signeditor.drafts.clips import default_cache_dir
    from signeditor.drafts.pipeline import DEFAULT_LETTERS_PER_SECOND

    parser.add_argument("--spoken", required=True, help="spoken language of the text (e.g. de, en)")
    parser.add_argument("--signed", required=True, help="signed language code (e.g. sgg, gsg, ase)")
    parser.add_argument("--lexicon", action="append", default=[],
                        help=f"lexicon folder with index.csv (repeatable; default ${LEXICON_ENV} or ./lexicon); "
                             "the fingerspelling alphabets installed with spoken-to-signed are always added last")
    parser.add_argument("--cache-dir", default=str(default_cache_dir()), help="cache of fitted lexicon clips")
    parser.add_argument("--letters-per-second", type=float, default=DEFAULT_LETTERS_PER_SECOND,
                        help="fingerspelling pace of words not in the lexicon (default %(default)s)")
    parser.add_argument("--no-kf2p", action="store_true", help="cubic interpolation instead of KF2P transitions")
    parser.add_argument("--nonmanuals", action="store_true",
                        help="mark questions (by the final '?') and negation words with face presets")
