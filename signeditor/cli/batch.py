"""``signeditor batch segment|import-video|export|draft INPUTS... -o DIR``: one task per file, in parallel.

Runs on Ray when the ``[cluster]`` extra is installed (a local Ray by default,
``--address`` for a cluster), else on a local process pool, and says which.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from signeditor.batch.tasks import TASKS, TaskUnavailableError
from signeditor.cli.draft import add_draft_options
from signeditor.cli.export import add_export_options
from signeditor.cli.segment import add_segment_options


def _segment_options(parser: argparse.ArgumentParser) -> None:
    add_segment_options(parser)
    parser.add_argument("--suffix", choices=(".json", ".eaf"), default=".json", help="output kind")


def _video_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--suffix", choices=(".signproj", ".pose"), default=".signproj",
                        help="a project (its keypoints in a .pose beside it) or the keypoints alone")


def _draft_options(parser: argparse.ArgumentParser) -> None:
    add_draft_options(parser)
    parser.add_argument("--suffix", default=".signproj", help="output suffix: .signproj or an export format's")


#: Each task's own options, the same as its single-file command's (the task registry itself has no argparse).
TASK_OPTIONS = {"segment": _segment_options, "import-video": _video_options, "export": add_export_options,
                "draft": _draft_options}

#: Options shared by every batch task (not passed to the task itself).
RUN_OPTIONS = ("inputs", "output", "workers", "address", "local", "manifest", "no_progress", "json",
               "command", "task", "handler")


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser("batch", help="run segment, import-video, export or draft on many files in parallel")
    tasks = parser.add_subparsers(dest="task", required=True, metavar="TASK")
    for task in TASKS.values():
        sub = tasks.add_parser(task.name, help=task.help)
        sub.add_argument("inputs", nargs="+", type=Path, help=f"files or folders (of {' '.join(task.suffixes)})")
        sub.add_argument("-o", "--output", required=True, type=Path, help="output folder (manifest goes here too)")
        sub.add_argument("--workers", type=int, default=None, help="worker processes (default: all CPUs)")
        sub.add_argument("--address", default=None, help="Ray cluster: auto or ray://HOST:PORT (default: local)")
        sub.add_argument("--local", action="store_true", help="use a local process pool even when Ray is installed")
        sub.add_argument("--manifest", type=Path, default=None, help="JSON Lines manifest (default: in -o)")
        sub.add_argument("--no-progress", action="store_true", help="no progress bar")
        sub.add_argument("--json", action="store_true", help="print a JSON summary")
        TASK_OPTIONS[task.name](sub)
        sub.set_defaults(handler=run_batch_command)


def run_batch_command(args: argparse.Namespace) -> int:
    from signeditor.batch.driver import expand_inputs, plan_jobs, run_batch
    from signeditor.batch.runners import make_runner, ray_available

    task = TASKS[args.task]
    try:
        task.check_available()
    except TaskUnavailableError as exc:
        print(f"signeditor batch: {exc}", file=sys.stderr)
        return 2
    options = {k: v for k, v in vars(args).items() if k not in RUN_OPTIONS}
    if not args.local and not ray_available():
        print("Ray is not installed (pip install 'signeditor[cluster]'): using a local process pool",
              file=sys.stderr)
    try:
        jobs = plan_jobs(task, expand_inputs(args.inputs, task.suffixes), args.output, options)
    except ValueError as exc:
        print(f"signeditor batch: {exc}", file=sys.stderr)
        return 2
    runner = make_runner(args.workers, args.address, use_ray=not args.local)
    print(f"batch {task.name} on {runner.description}", file=sys.stderr)
    try:
        summary = run_batch(task, jobs, args.output, runner, args.manifest, progress=not args.no_progress)
    finally:
        runner.close()
    result = summary.as_dict()
    if args.json:
        print(json.dumps(result, indent=1, sort_keys=True))
    else:
        print(f"{summary.done} done, {summary.failed} failed, {summary.skipped} already done "
              f"({summary.seconds:.1f} s, {summary.runner})")
    return 1 if summary.failed else 0
