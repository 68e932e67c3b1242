"""`make lint` runs import-linter on the layer contracts in pyproject.toml: the tree passes, and one planted upward
import (core importing video, which no hand-written ban list covered) fails it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(tree: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run([str(LINT_IMPORTS), "--config", str(tree / "pyproject.toml"), "--no-cache"], cwd=tree,
                          env=env, capture_output=True, text=True, timeout=240)


@pytest.mark.skipif(not LINT_IMPORTS.exists(), reason="import-linter is not installed (the dev extra)")
def test_layer_contracts_hold_and_catch_a_planted_upward_import(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    shutil.copytree(ROOT / "signeditor", tree / "signeditor", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tree / "pyproject.toml")
    clean = _lint(tree)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    planted = tree / "signeditor" / "core" / "segments.py"
    planted.write_text(planted.read_text(encoding="utf-8") + "\n\ndef _planted() -> None:\n"
                       "    import signeditor.video.importer  # noqa: F401\n", encoding="utf-8")
    broken = _lint(tree)
    assert broken.returncode != 0
    assert "signeditor.core is not allowed to import signeditor.video" in broken.stdout
