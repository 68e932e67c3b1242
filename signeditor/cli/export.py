"""``signeditor export``: batch conversion of projects and motion files to the formats other tools open."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Iterator
from pathlib import Path

from tqdm import tqdm

import signeditor.render.video  # noqa: F401  (registers the mp4 and gif formats)
from signeditor.app_services import complete_import, export_document, open_document
from signeditor.core.project import Project
from signeditor.io.errors import FileFormatError
from signeditor.io.formats import EXPORT_FORMATS, project_from_record
from signeditor.render.avatars.catalog import export_options


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("export", help=f"export to {', '.join(sorted(EXPORT_FORMATS))}")
    parser.add_argument("inputs", nargs="+", type=Path,
                        help=".signproj, .pose, .bvh, .glb, .npz, .signspark.npz or .lmdb (every clip) files")
    add_export_options(parser)
    parser.add_argument("-o", "--output", required=True, type=Path, help="output folder")
    parser.add_argument("--signed-language", default=None,
                        help="signed-language tag to record (e.g. gsg) when the input does not say")
    parser.add_argument("--text", default=None, help="the translation to record when the input does not say")
    parser.set_defaults(handler=run_export)


def add_export_options(parser: argparse.ArgumentParser) -> None:
    """Format and figure (``signeditor batch export`` takes the same)."""
    parser.add_argument("-f", "--format", required=True, choices=sorted(EXPORT_FORMATS))
    parser.add_argument("--avatar", default="", help="figure for glb/gltf/mp4/gif: mannequin, shipped:NAME, "
                        "file:PATH.vrm|glb or smplx:PATH (default: the mannequin)")


def _projects(source: Path) -> Iterator[tuple[str, Project]]:
    """(output name, project) for each clip of the input, opened as the editor opens it: every clip of an LMDB
    database (read once), else the file itself."""
    if source.name.lower().endswith(".lmdb"):
        from signeditor.io.signspark import read_signspark_lmdb

        for record in read_signspark_lmdb(source):
            yield record.clip_id, complete_import(project_from_record(record, source), source)
        return
    yield source.name.split(".")[0], open_document(source)


def run_export(args: argparse.Namespace) -> int:
    """Convert each input (FAST and anchors as in the editor); a bad input is reported and skipped."""
    fmt = EXPORT_FORMATS[args.format]
    args.output.mkdir(parents=True, exist_ok=True)
    options = export_options(args.format, args.avatar)
    failures = 0
    for source in tqdm(args.inputs, desc=f"export {fmt.name}", unit="file", disable=len(args.inputs) < 2):
        try:
            for name, project in _projects(source):
                if args.signed_language and not project.signed_language:
                    project = dataclasses.replace(project, signed_language=args.signed_language)
                if args.text and not project.text:
                    project = dataclasses.replace(project, text=args.text)
                target = export_document(project, args.output / f"{name}{fmt.suffix}", fmt.name, **options)
                print(f"wrote {target}")
        except FileFormatError as exc:
            failures += 1
            print(f"skipped: {exc}", file=sys.stderr)
    return 1 if failures else 0
