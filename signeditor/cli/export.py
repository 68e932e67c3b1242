"""``signeditor export``: batch conversion of projects and motion files to the formats other tools open."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from signeditor.io.errors import FileFormatError
from signeditor.io.formats import EXPORT_FORMATS, export_project, open_project


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("export", help="export to bvh, glb, mp4, gif, pose, npz, signspark or eaf")
    parser.add_argument("inputs", nargs="+", type=Path, help=".signproj, .pose, .bvh or .npz files")
    parser.add_argument("-f", "--format", required=True, choices=sorted(EXPORT_FORMATS))
    parser.add_argument("-o", "--output", required=True, type=Path, help="output folder")
    parser.add_argument("--avatar", default="", help="figure for glb/gltf/mp4/gif: mannequin, shipped:NAME, "
                        "file:PATH.vrm|glb or smplx:PATH (default: the mannequin)")
    parser.set_defaults(handler=run_export)


def run_export(args: argparse.Namespace) -> int:
    """Convert each input; a bad input is reported and skipped so one broken file never stops a batch."""
    fmt = EXPORT_FORMATS[args.format]
    args.output.mkdir(parents=True, exist_ok=True)
    options = {}
    if args.avatar and fmt.name in ("glb", "gltf", "mp4", "gif"):
        from signeditor.render.avatars.catalog import load_avatar

        options["avatar"] = load_avatar(args.avatar)
    failures = 0
    for source in tqdm(args.inputs, desc=f"export {fmt.name}", unit="file", disable=len(args.inputs) < 2):
        name = source.name.split(".")[0]
        try:
            target = export_project(open_project(source), args.output / f"{name}{fmt.suffix}", fmt.name,
                                    **options)
        except FileFormatError as exc:
            failures += 1
            print(f"skipped: {exc}", file=sys.stderr)
            continue
        print(f"wrote {target}")
    return 1 if failures else 0
