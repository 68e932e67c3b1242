"""Typed errors for reading files: each names the file and what is wrong with it."""

from __future__ import annotations

from pathlib import Path


class FileFormatError(ValueError):
    """A file could not be read; the message says which file and why."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


def read_file_bytes(path: str | Path) -> bytes:
    """The file's bytes, or a FileFormatError naming it (missing, unreadable, a folder...)."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise FileFormatError(path, f"cannot read the file ({exc.strerror or exc})") from exc
