"""Error types every layer raises (a leaf module: it imports nothing from signeditor, so core can use it too)."""

from __future__ import annotations

from pathlib import Path


class FileFormatError(ValueError):
    """A file could not be read; the message says which file and why."""

    def __init__(self, path: str | Path, problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")
