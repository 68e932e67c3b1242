"""Commands start at once: the CLI lists its commands without importing them, and no command but ``train``
loads torch (the editor and every light command run the ONNX exports)."""

from __future__ import annotations

import argparse
import importlib
import subprocess
import sys

import pytest

from signeditor.cli import COMMAND_GROUPS, COMMANDS, build_parser, subcommands

HEAVY = ("torch", "PySide6", "vispy", "mediapipe", "ray", "onnxruntime")


def _loaded_after(code: str, modules: tuple[str, ...]) -> list[str]:
    probe = f"import sys\n{code}\nprint(sorted(m for m in {modules!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return eval(out.stdout.strip().splitlines()[-1])  # a list of names printed by the probe


def test_help_lists_every_command_and_imports_none() -> None:
    code = ("import contextlib, io\nfrom signeditor.cli import main\n"
            "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()) as out:\n"
            "    main(['--help'])\n"
            "assert all(name in out.getvalue() for name in " + repr([*COMMANDS, *COMMAND_GROUPS]) + ")\n"
            "print(sorted(m for m in sys.modules if m.startswith('signeditor.') and m.count('.') > 1))")
    out = subprocess.run([sys.executable, "-c", "import sys\n" + code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert eval(out.stdout.strip()) == [], "signeditor --help imported command modules"
    assert _loaded_after("from signeditor.cli import build_parser\nbuild_parser(['--help'])", HEAVY) == []


def test_no_command_but_train_loads_torch() -> None:
    """Every command's and subcommand's module, imported as running it imports it, loads no torch."""
    names = [m for m, _ in COMMANDS.values()]
    names += [m for group, (package, _) in COMMAND_GROUPS.items() if group != "train"
              for m, _ in subcommands(package).values()]
    imports = "\n".join(f"import {m}" for m in names)
    if _loaded_after(imports, ("torch",)):
        guilty = [m for m in names if _loaded_after(f"import {m}", ("torch",))]
        pytest.fail(f"these command modules import torch: {guilty}")


def test_the_table_names_what_each_module_registers() -> None:
    for name, (module, help_text) in COMMANDS.items():
        sub = argparse.ArgumentParser().add_subparsers()
        importlib.import_module(module).register(sub)
        assert list(sub.choices) == [name], module
        assert help_text, name


def test_a_command_gets_its_own_options_and_runs() -> None:
    args = build_parser(["train", "export-onnx", "x.pt"]).parse_args(["train", "export-onnx", "x.pt"])
    assert [str(w) for w in args.weights] == ["x.pt"] and callable(args.handler)
    with pytest.raises(SystemExit):  # another command's options are not there
        build_parser(["segment"]).parse_args(["segment", "x.pose", "-o", "y.json", "--install"])


def test_the_app_opens_regenerates_and_exports_with_torch_unimportable(tmp_path) -> None:
    """What `make run` installs (no torch): open the sample (FAST), regenerate (KF2P), export a GLB."""
    code = f"""
import sys
sys.modules["torch"] = None  # any `import torch` now raises ImportError, as without the train extra
from pathlib import Path
from signeditor.app_services import export_document, open_document
from signeditor.gui.regeneration import ModelRegenerate
from signeditor.paths import SAMPLE_PROJECT
from signeditor.ml.fast.api import load_segmenter
project = open_document(SAMPLE_PROJECT)
regenerate = ModelRegenerate()
motion = regenerate(project.motion, project.anchors, None)
assert regenerate.backend.startswith("KF2P"), (regenerate.backend, regenerate.load_error)
assert motion.features.shape == project.motion.features.shape
assert len(load_segmenter().segment(project.motion)) > 0
project.motion = motion
out = export_document(project, Path({str(tmp_path)!r}) / "sample.glb")
print(out.stat().st_size)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    assert int(out.stdout.strip().splitlines()[-1]) > 10_000
