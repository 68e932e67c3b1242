"""The layers hold at run time too: the lower layers and the shared open/export path load neither Qt nor torch.

(`make lint` enforces the import table statically: each package's ruff.toml bans the layers above it.)
"""

from __future__ import annotations

import subprocess
import sys

import pytest


@pytest.mark.parametrize(("modules", "forbidden"), [
    ("signeditor.core.kinematics, signeditor.core.avatar_rig, signeditor.core.handshapes", ("PySide6", "torch",
                                                                                          "signeditor.io")),
    ("signeditor.io.formats, signeditor.io.gltf_export, signeditor.io.bvh", ("PySide6", "torch", "vispy")),
    ("signeditor.app_services, signeditor.render.video", ("PySide6", "torch")),
])
def test_importing_a_layer_loads_nothing_above_it(modules: str, forbidden: tuple[str, ...]) -> None:
    code = (f"import sys, {modules}\n"
            f"print(sorted(m for m in {forbidden!r} if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", f"{modules} loaded {out.strip()}"


def test_the_command_line_starts_without_qt() -> None:
    """(tests/test_cli_startup.py checks that it loads no torch either.)"""
    code = ("import sys\nfrom signeditor.cli import build_parser\nbuild_parser(['--help'])\n"
            "print(sorted(m for m in ('PySide6', 'vispy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
