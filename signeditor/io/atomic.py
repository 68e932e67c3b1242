"""Atomic file writes: a save interrupted at any byte leaves the old file intact."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import BinaryIO


@contextmanager
def atomic_writer(path: str | Path) -> Iterator[BinaryIO]:
    """Write to a temporary file beside ``path``, fsync it, then rename over ``path``.

    The rename is atomic on POSIX and Windows, so readers see either the old
    file or the complete new one, never a torn write.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    # mkstemp creates 0600 files; keep the mode of the file being replaced, else a normal 0644.
    os.chmod(tmp_name, path.stat().st_mode & 0o777 if path.exists() else 0o644)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def write_bytes_atomically(path: str | Path, data: bytes) -> None:
    with atomic_writer(path) as handle:
        handle.write(data)
