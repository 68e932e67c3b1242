"""The ``signeditor`` command line, which starts at once because it imports only the command it runs.

Top-level commands are the modules of ``signeditor.cli`` named in :data:`COMMANDS`, each with a
``register(subparsers)`` function; the command groups (``bench``, ``eval``, ``train``) collect every module of
their package that has ``add_arguments`` and ``run``, and list them by the first line of each module's
docstring, read from the source without importing it (and only for the group asked for). Only the chosen
command's module is imported, so ``signeditor --help`` or ``signeditor export`` never loads torch, Qt or
MediaPipe (tests/test_cli_startup.py). The CLI and the GUI call the same functions (signeditor.app_services).
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import pkgutil
import sys
from collections.abc import Sequence
from pathlib import Path

from signeditor import __version__

#: Top-level command -> (module whose ``register`` builds it, the one line ``signeditor --help`` shows).
#: tests/test_cli_startup.py checks that each module registers exactly this name and help.
COMMANDS: dict[str, tuple[str, str]] = {
    "batch": ("signeditor.cli.batch", "run segment, import-video, export or draft on many files in parallel"),
    "data": ("signeditor.cli.data", "build and inspect the motion corpus"),
    "draft": ("signeditor.cli.draft", "make an editable signing draft from text with a sign lexicon"),
    "export": ("signeditor.cli.export", "export to bvh, eaf, gif, glb, gltf, lmdb, mp4, npz, pose, signspark"),
    "generate": ("signeditor.cli.generate", "regenerate motion from anchors with KF2P; writes .signproj"),
    "gui": ("signeditor.cli.gui", "open the editor (optionally on a .signproj or .pose file)"),
    "import-video": ("signeditor.cli.import_video",
                     "find the signer in a video (MediaPipe Holistic) and write .pose or .signproj"),
    "segment": ("signeditor.cli.segment", "find signs in a recording with FAST; write JSON or ELAN"),
}

#: Command group -> package whose modules are its subcommands.
COMMAND_GROUPS: dict[str, tuple[str, str]] = {
    "bench": ("signeditor.bench", "measure speed and accuracy; --json prints one JSON object"),
    "eval": ("signeditor.evaluation", "evaluate a model on a data folder"),
    "train": ("signeditor.cli.train", "train a model from the data-build corpus, or export one to ONNX"),
}


def _package_dir(package: str) -> Path:
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError(package)
    return Path(next(iter(spec.submodule_search_locations)))


def subcommands(package: str) -> dict[str, tuple[str, str]]:
    """Subcommand name -> (module, summary) for a group, from the sources alone (nothing is imported).

    A subcommand is a public module defining both ``add_arguments`` and ``run``; its summary is the first line
    of its docstring.
    """
    found = {}
    folder = _package_dir(package)
    for info in pkgutil.iter_modules([str(folder)]):
        if info.name.startswith("_"):
            continue
        path = folder / (f"{info.name}/__init__.py" if info.ispkg else f"{info.name}.py")
        text = path.read_text(encoding="utf-8")
        if "\ndef add_arguments(" in text and "\ndef run(" in text:
            found[info.name.replace("_", "-")] = (f"{package}.{info.name}", _summary(text))
    return found


def _summary(source: str) -> str:
    """The first line of a module's docstring, read from its source text."""
    text = source.lstrip()
    quote = text[:3]
    if quote not in ('"""', "'''"):
        return ""
    lines = text[3:].split(quote, 1)[0].strip().splitlines()
    return lines[0] if lines else ""


def _print_result(result: dict, as_json: bool) -> None:
    if as_json:
        print(json.dumps(result, indent=1, sort_keys=True, default=str))
        return
    width = max((len(k) for k in result), default=0)
    for key, value in result.items():
        print(f"{key:<{width}}  {value}")


def _requested(argv: Sequence[str]) -> tuple[str | None, str | None]:
    """The command and subcommand words of ``argv`` (the first two that are not options)."""
    words = [a for a in argv if not a.startswith("-")]
    return (words[0] if words else None), (words[1] if len(words) > 1 else None)


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser for ``argv`` (default: ``sys.argv[1:]``): every command is listed, only the requested one is
    imported and given its options."""
    argv = sys.argv[1:] if argv is None else argv
    command, subcommand = _requested(argv)
    parser = argparse.ArgumentParser(prog="signeditor", description="SignEditor: sign language animation editor")
    parser.add_argument("--version", action="version", version=f"signeditor {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group, (package, help_text) in COMMAND_GROUPS.items():
        if importlib.util.find_spec(package) is None:
            continue  # not in this installation (the packaged app has no `train`)
        group_parser = commands.add_parser(group, help=help_text)
        if group != command:
            continue
        sub = group_parser.add_subparsers(dest="subcommand", required=True, metavar="WHAT")
        for name, (module_name, summary) in subcommands(package).items():
            p = sub.add_parser(name, help=summary)
            if group == command and name == subcommand:
                module = importlib.import_module(module_name)
                p.add_argument("--json", action="store_true", help="print one JSON object")
                module.add_arguments(p)
                p.set_defaults(handler=lambda a, m=module: _print_result(m.run(a) or {}, a.json))
    for name, (module_name, help_text) in COMMANDS.items():
        if name == command:
            importlib.import_module(module_name).register(commands)
        else:
            commands.add_parser(name, help=help_text)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    from signeditor.io.errors import FileFormatError

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
