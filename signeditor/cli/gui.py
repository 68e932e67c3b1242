"""``signeditor gui [FILE]``: open the editor on a .signproj project or a .pose file."""

from __future__ import annotations

import argparse
import sys


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("gui", help="open the editor (optionally on a .signproj or .pose file)")
    parser.add_argument("file", nargs="?", help="a .signproj project or a .pose file to import")
    parser.add_argument("--no-recovery", action="store_true", help="do not offer to restore autosaved edits")
    parser.add_argument("--exit-when-ready", action="store_true",
                        help=argparse.SUPPRESS)  # quit once the first frame is drawn (start-up benchmark)
    parser.add_argument("--autosave-seconds", type=float, default=None,
                        help="autosave interval in seconds (default 30)")
    parser.add_argument("--script", default=None, help=argparse.SUPPRESS)  # test hook: run a Python file's
    # `drive(window)` once the window is open (the crash-recovery test edits a real app this way)
    parser.set_defaults(handler=run_gui)


def run_gui(args: argparse.Namespace) -> int:
    from signeditor.gui.app import launch

    return launch(args.file, offer_recovery=not args.no_recovery, argv=sys.argv[:1],
                  exit_when_ready=args.exit_when_ready, autosave_seconds=args.autosave_seconds,
                  script=args.script)
