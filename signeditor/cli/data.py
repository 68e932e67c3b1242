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
    return 0
