"""``signeditor data build SRC -o OUT``: turn the shared sign data into the training corpus."""

from __future__ import annotations

import argparse
from collections import Counter


def register(subparsers: argparse._SubParsersAction) -> None:
    data = subparsers.add_parser("data", help="build and inspect the motion corpus")
    sub = data.add_subparsers(dest="data_command", required=True, metavar="WHAT")
    build = sub.add_parser("build", help="fit every clip of a sign data folder and write data/index.json + clips/")
    build.add_argument("source", help="sign data folder (e.g. ../shared/signdata)")
    build.add_argument("-o", "--out", default="data", help="corpus folder to write (default: data)")
    build.add_argument("--force", action="store_true", help="refit clips even when their output is up to date")
    build.add_argument("--dataset", action="append",
                       help="only this dataset folder (repeatable; the index then lists only these)")
    build.set_defaults(handler=_build)
    shapes = sub.add_parser("handshapes", help="derive the handshape library from the corpus's fingerspelling clips")
    shapes.add_argument("corpus", nargs="?", default="data", help="corpus folder from `data build` (default: data)")
    shapes.add_argument("-o", "--out", default=None,
                        help="library .npz to write (default: the shipped resources/handshapes/handshapes.npz)")
    shapes.set_defaults(handler=_handshapes)
    fingers = sub.add_parser("handshape-fingers", help="measure the handshape library's fingers from a "
                                                      "fingerspelling lexicon's clips (the shipped library's step 2)")
    fingers.add_argument("lexicon", help="a fingerspelling lexicon, e.g. ../shared/signdata/fingerspelling_lexicon")
    fingers.add_argument("--library", default=None, help="library .npz to start from (default: the shipped one)")
    fingers.add_argument("-o", "--out", default=None, help="library .npz to write (default: the shipped one)")
    fingers.set_defaults(handler=_handshape_fingers)
    lexicon = sub.add_parser("lexicon", help="write a development sign lexicon (index.csv) over a sign data folder")
    lexicon.add_argument("source", help="sign data folder (e.g. ../shared/signdata)")
    lexicon.add_argument("-o", "--out", default="lexicon", help="lexicon folder to write (default: lexicon)")
    lexicon.set_defaults(handler=_lexicon)
    folder = sub.add_parser("sign-folder", help="make a lexicon of a folder of sign videos or .pose files "
                                                "(one sign per file, named by the file; index.csv written there)")
    folder.add_argument("folder", help="folder of .pose files and/or videos")
    folder.add_argument("--spoken", required=True, help="spoken language of the words (ISO 639, e.g. de)")
    folder.add_argument("--signed", required=True, help="signed language of the signs (ISO 639-3, e.g. gsg)")
    folder.set_defaults(handler=_sign_folder)


def _sign_folder(args: argparse.Namespace) -> int:
    """The GUI's Sign > Import folder as lexicon, from the command line (the same function)."""
    from signeditor.video.lexicon_folder import import_sign_folder

    report = import_sign_folder(args.folder, args.spoken, args.signed,
                                progress=lambda done, total, name: print(f"[{done + 1}/{total}] {name}")
                                if name and "frame" not in name else None)
    print(report.summary())
    return 0


def _lexicon(args: argparse.Namespace) -> int:
    from signeditor.data.dev_lexicon import build_dev_lexicon

    index, count = build_dev_lexicon(args.source, args.out)
    print(f"{count} lexicon entries -> {index} (clips copied under the folder; keep it out of git)")
    return 0


def _build(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from signeditor.data.build import build_corpus

    records, report = build_corpus(
        args.source, args.out, force=args.force, datasets=set(args.dataset) if args.dataset else None,
        progress=lambda items: tqdm(items, desc="data build", unit="clip"), log=tqdm.write,
    )
    splits = Counter(r.split for r in records)
    frames = sum(r.n_frames for r in records)
    print(f"{len(records)} clips ({frames} frames at 25 fps): built {report.built}, reused {report.reused}, "
          f"skipped {report.skipped}; splits {dict(sorted(splits.items()))}; index {args.out}/index.json")
    print(f"stitched: {report.stitched_clips} clips with inserted straight-line transitions, {report.masked_frames} "
          f"frames masked out of training losses and metrics; exact gloss spans from the transitions in "
          f"{sum(r.gloss_spans_exact for r in records)} clips"
          + (f"; count did not match the glosses in {len(report.label_fallbacks)}: "
             + ", ".join(report.label_fallbacks) if report.label_fallbacks else ""))
    return 0


def _handshape_fingers(args: argparse.Namespace) -> int:
    from signeditor.core.handshapes import DEFAULT_LIBRARY_PATH, load_handshape_library
    from signeditor.data.handshapes import with_clip_fingers, write_handshape_library

    library = with_clip_fingers(load_handshape_library(args.library), args.lexicon)
    path = write_handshape_library(library, args.out or DEFAULT_LIBRARY_PATH)
    print(f"{len(library)} handshapes, fingers measured from {args.lexicon} -> {path}")
    return 0


def _handshapes(args: argparse.Namespace) -> int:
    from signeditor.core.handshapes import DEFAULT_LIBRARY_PATH
    from signeditor.data.corpus import load_corpus
    from signeditor.data.handshapes import build_handshape_library, write_handshape_library

    library = build_handshape_library(load_corpus(args.corpus))
    path = write_handshape_library(library, args.out or DEFAULT_LIBRARY_PATH)
    two_handed = sum(h.two_handed for h in library.handshapes)
    print(f"{len(library)} handshapes ({two_handed} two-handed) in {len(library.languages)} signed languages "
          f"-> {path} ({path.stat().st_size // 1024} KB)")
    return 0
