"""Where a training run writes its weights, and the fingerprint of weights it depends on.

Training never overwrites the shipped weights by accident: without ``--install`` or ``-o`` a run writes a new file
under ``runs/<model>/`` (named by the UTC time it started) and says how to install it. ``--install`` writes the
shipped path the editor loads.
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import time
from pathlib import Path

#: Folder (relative to the working directory) that collects training runs; ignored by git.
RUNS_DIR = Path("runs")


def add_output_arguments(parser: argparse.ArgumentParser, shipped: Path) -> None:
    """``-o PATH`` / ``--install`` (mutually exclusive); neither: a new file under ``runs/``."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-o", "--out", "--output", dest="out", type=Path, default=None,
                       help="checkpoint to write (default: a new file under runs/<model>/)")
    group.add_argument("--install", action="store_true",
                       help=f"write the shipped weights the editor loads ({shipped})")


def training_output(model: str, out: Path | None, install: bool, shipped: Path,
                    runs_dir: Path = RUNS_DIR) -> Path:
    """The path a run writes: ``out`` if given, ``shipped`` with ``install``, else a path that does not exist yet."""
    if install:
        return shipped
    if out is not None:
        return out
    stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
    path = runs_dir / model / f"{model}-{stamp}.pt"
    n = 1
    while path.exists():
        n += 1
        path = runs_dir / model / f"{model}-{stamp}-{n}.pt"
    path.parent.mkdir(parents=True, exist_ok=True)
    print(f"writing {path}; the shipped {shipped} stays (--install replaces it)", file=sys.stderr)
    return path


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file: identifies exactly which weights a run used."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
