"""Where shipped files live, in a source checkout and in the packaged (PyInstaller) app alike."""

from __future__ import annotations

import sys
from pathlib import Path


def install_root() -> Path:
    """The folder holding ``models/`` and ``resources/``: the repository, or the unpacked app bundle."""
    bundle = getattr(sys, "_MEIPASS", None)
    return Path(bundle) if bundle else Path(__file__).resolve().parents[1]


MODELS_DIR = install_root() / "models"
RESOURCES_DIR = install_root() / "resources"
SAMPLE_PROJECT = RESOURCES_DIR / "samples" / "sample.signproj"
#: The development data beside the checkout (research licences: never shipped).
SHARED_SIGNDATA = install_root().parent / "shared" / "signdata"
