"""``signeditor export``: batch conversion of projects and motion files to the formats other tools open."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from tqdm import tqdm

import signeditor.render.video  # noqa: F401  (registers the mp4 and gif formats)
from signeditor.app_services import (
    complete_import,
    database_path,
    export_document,
    open_document,
    with_stored_keyframes,
)
from signeditor.core.project import Project
from signeditor.io.errors import FileFormatError
from signeditor.io.formats import EXPORT_FORMATS, document_name, project_from_record, signspark_record_of
from signeditor.render.avatars.catalog import export_options

if TYPE_CHECKING:
    from signeditor.ml.signspark_layout import LayoutClip


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("export", help=f"export to {', '.join(sorted(EXPORT_FORMATS))}")
    parser.add_argument("inputs", nargs="+", type=Path,
                        help=".signproj, .pose, .bvh, .glb, .npz, .signspark.npz or .lmdb (every clip) files")
    add_export_options(parser)
    parser.add_argument("-o", "--output", type=Path, help="output folder (not with --signspark-layout)")
    parser.add_argument("--signspark-layout", type=Path, default=None, metavar="DATA_ROOT",
                        help="with -f lmdb: write every clip into SignSparK's data layout under DATA_ROOT "
                        "(lmdb/train/NAME_train.lmdb, lmdb/dev/NAME_dev.lmdb, one lmdb/keyframes.pt), ready for "
                        "their train.py; the command line to train is printed and saved in DATA_ROOT/SIGNSPARK.txt")
    parser.add_argument("--layout-name", default="SignEditor",
                        help="database name in the layout (their train_data/dev_data select it; default SignEditor)")
    parser.add_argument("--dev-fraction", type=float, default=0.1,
                        help="share of the clips in the layout's dev split (at least one clip; default 0.1)")
    parser.add_argument("--signed-language", default=None,
                        help="signed-language tag to record (e.g. gsg) when the input does not say")
    parser.add_argument("--text", default=None, help="the translation to record when the input does not say")
    parser.set_defaults(handler=run_export)


def add_export_options(parser: argparse.ArgumentParser) -> None:
    """Format and figure (``signeditor batch export`` takes the same)."""
    parser.add_argument("-f", "--format", required=True, choices=sorted(EXPORT_FORMATS))
    parser.add_argument("--avatar", default="", help="figure for glb/gltf/mp4/gif: mannequin, shipped:NAME, "
                        "file:PATH.vrm|glb or smplx:PATH (default: the editor's default avatar, with its face)")


def unique_name(name: str, taken: set[str]) -> str:
    """``name``, or ``name-2``, ``name-3``... when an earlier output of the same run took it (never overwrite)."""
    candidate, n = name, 1
    while candidate.lower() in taken:
        n += 1
        candidate = f"{name}-{n}"
    taken.add(candidate.lower())
    return candidate


def _projects(source: Path) -> Iterator[tuple[str, Project]]:
    """(output name, project) for each clip of the input, opened as the editor opens it: every clip of an LMDB
    database (read once; ``db.lmdb/data.mdb`` names the database), else the file itself."""
    source = database_path(source)
    if source.name.lower().endswith(".lmdb"):
        from signeditor.io.signspark import read_signspark_lmdb

        for record in read_signspark_lmdb(source):
            project = with_stored_keyframes(project_from_record(record, source), source, record.clip_id)
            yield record.clip_id, complete_import(project, source)
        return
    yield document_name(source), open_document(source)


def _completed(project: Project, args: argparse.Namespace) -> Project:
    """The language and text the command line gives, where the input does not say."""
    if args.signed_language and not project.signed_language:
        project = dataclasses.replace(project, signed_language=args.signed_language)
    if args.text and not project.text:
        project = dataclasses.replace(project, text=args.text)
    return project


def run_export(args: argparse.Namespace) -> int:
    """Convert each input (FAST and anchors as in the editor); a bad input is reported and skipped. Outputs whose
    names would repeat (``x.v1.pose`` and ``x.v1.signproj``) get ``-2``, ``-3``: one run never overwrites itself."""
    if (args.output is None) == (args.signspark_layout is None):
        print("error: give either -o OUTPUT_FOLDER or --signspark-layout DATA_ROOT", file=sys.stderr)
        return 2
    if args.signspark_layout is not None and args.format != "lmdb":
        print("error: --signspark-layout writes LMDB databases; use it with -f lmdb", file=sys.stderr)
        return 2
    fmt = EXPORT_FORMATS[args.format]
    options = export_options(args.format, args.avatar)
    failures, taken = 0, set()
    layout_clips = []
    for source in tqdm(args.inputs, desc=f"export {fmt.name}", unit="file", disable=len(args.inputs) < 2):
        try:
            for name, project in _projects(source):
                name, wanted = unique_name(name, taken), name
                if name != wanted:
                    print(f"{source}: {wanted!r} is taken by an earlier input; writing it as {name!r}")
                project = _completed(project, args)
                if args.signspark_layout is not None:
                    layout_clips.append(_layout_clip(project, name))
                    continue
                args.output.mkdir(parents=True, exist_ok=True)
                target = export_document(project, args.output / f"{name}{fmt.suffix}", fmt.name, **options)
                print(f"wrote {target}")
        except FileFormatError as exc:
            failures += 1
            print(f"skipped: {exc}", file=sys.stderr)
    if layout_clips:
        from signeditor.ml.signspark_layout import write_signspark_layout

        try:
            layout = write_signspark_layout(layout_clips, args.signspark_layout, args.layout_name,
                                            args.dev_fraction)
        except ValueError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        for split, database in layout.databases.items():
            print(f"wrote {database} ({split})")
        print(f"wrote {layout.keyframe_file}\ntrain with SignSparK:\n  {layout.overrides}")
    return 1 if failures else 0


def _layout_clip(project: Project, clip_id: str) -> LayoutClip:
    from signeditor.ml.signspark_layout import LayoutClip

    return LayoutClip(signspark_record_of(project, clip_id), project.anchors.frames)
