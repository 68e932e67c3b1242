"""Reading files with typed errors that name the file and what is wrong (the types live in signeditor.errors)."""

from __future__ import annotations

from pathlib import Path

from signeditor.errors import FileFormatError

__all__ = ["FileFormatError", "read_file_bytes"]


def read_file_bytes(path: str | Path) -> bytes:
    """The file's bytes, or a FileFormatError naming it (missing, unreadable, a folder...)."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise FileFormatError(path, f"cannot read the file ({exc.strerror or exc})") from exc
