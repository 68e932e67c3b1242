"""``signeditor export``: batch conversion of projects and motion files to the formats other tools open."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tqdm import tqdm

from signeditor.io.errors import FileFormatError
from signeditor.io.formats import EXPORT_FORMATS, export_project, open_project

#: Formats that draw a figure (``--avatar``).
FIGURE_FORMATS = ("glb", "gltf", "mp4", "gif")


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("export", help="export to bvh, glb, mp4, gif, pose, npz, signspark or eaf")
    parser.add_argument("inputs", nargs="+", type=Path, help=".signproj, .pose, .bvh or .npz files")
    add_export_options(parser)
    parser.add_argument("-o", "--output", required=True, type=Path, help="output folder")
    parser.set_defaults(handler=run_export)


def add_export_options(parser: argparse.ArgumentParser) -> None:
    """Format and figure (``signeditor batch export`` takes the same)."""
    parser.add_argument("-f", "--format", required=True, choices=sorted(EXPORT_FORMATS))
    parser.add_argument("--avatar", default="", help="figure for glb/gltf/mp4/gif: mannequin, shipped:NAME, "
                        "file:PATH.vrm|glb or smplx:PATH (default: the mannequin)")


def export_options(format_name: str, avatar: str) -> dict:
    """What every file of an export shares, loaded once: the figure, for the formats that draw one."""
    if avatar and EXPORT_FORMATS[format_name].name in FIGURE_FORMATS:
        from signeditor.render.avatars.catalog import load_avatar

        return {"avatar": load_avatar(avatar)}
    return {}


def export_target(source: Path, output_dir: Path, format_name: str) -> Path:
    """Where ``export`` writes ``source``: the output folder, the name before the first dot, the format's suffix."""
    return output_dir / f"{source.name.split('.')[0]}{EXPORT_FORMATS[format_name].suffix}"


def export_file(source: Path, target: Path, format_name: str, options: dict) -> Path:
    """Export one file (``signeditor batch export`` calls this too); ``options`` from :func:`export_options`."""
    return export_project(open_project(source), target, EXPORT_FORMATS[format_name].name, **options)


def run_export(args: argparse.Namespace) -> int:
    """Convert each input; a bad input is reported and skipped so one broken file never stops a batch."""
    fmt = EXPORT_FORMATS[args.format]
    args.output.mkdir(parents=True, exist_ok=True)
    options = export_options(args.format, args.avatar)
    failures = 0
    for source in tqdm(args.inputs, desc=f"export {fmt.name}", unit="file", disable=len(args.inputs) < 2):
        try:
            target = export_file(source, export_target(source, args.output, args.format), args.format, options)
        except FileFormatError as exc:
            failures += 1
            print(f"skipped: {exc}", file=sys.stderr)
            continue
        print(f"wrote {target}")
    return 1 if failures else 0
