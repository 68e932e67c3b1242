"""The ``signeditor`` command line.

Commands are discovered, not listed: every module in ``signeditor.cli`` with a
``register(subparsers)`` function adds a top-level command, and the command
groups (``bench``, ``eval``, ``train``) collect every module of their package
that has ``add_arguments`` and ``run``. Each feature owns its own module, and
the CLI and the GUI call the same core functions.
"""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
from collections.abc import Sequence

from signeditor import __version__
from signeditor.io.errors import FileFormatError

#: Command group -> package whose modules are its subcommands.
COMMAND_GROUPS: dict[str, tuple[str, str]] = {
    "bench": ("signeditor.bench", "measure speed and accuracy; --json prints one JSON object"),
    "eval": ("signeditor.evaluation", "evaluate a model on a data folder"),
    "train": ("signeditor.ml.train", "train a model from the data-build corpus"),
}


def _modules(package: str) -> list[object]:
    pkg = importlib.import_module(package)
    return [importlib.import_module(f"{package}.{m.name}") for m in pkgutil.iter_modules(pkg.__path__)
            if not m.name.startswith("_")]


def _print_result(result: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, indent=1, sort_keys=True, default=str))
        return
    width = max((len(k) for k in result), default=0)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="signeditor", description="SignEditor: sign language animation editor")
    parser.add_argument("--version", action="version", version=f"signeditor {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group, (package, help_text) in COMMAND_GROUPS.items():
        group_parser = commands.add_parser(group, help=help_text)
        sub = group_parser.add_subparsers(dest="subcommand", required=True, metavar="WHAT")
        for module in _modules(package):
            if hasattr(module, "add_arguments") and hasattr(module, "run"):
                name = module.__name__.rsplit(".", 1)[-1].replace("_", "-")
                summary = (module.__doc__ or "").strip().splitlines()
                p = sub.add_parser(name, help=summary[0] if summary else None)
                p.add_argument("--json", action="store_true", help="print one JSON object")
                module.add_arguments(p)
                p.set_defaults(handler=lambda a, m=module: _print_result(m.run(a) or {}, a.json))
    for module in _modules("signeditor.cli"):
        if hasattr(module, "register"):
            module.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        result = args.handler(args)
    except FileFormatError as exc:
        print(f"signeditor: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
