"""Read an LMDB database in a child process and stream its key/value pairs back.

LMDB maps the database file into memory and trusts its page structure: a
truncated or damaged file makes the library touch memory past the end of the
mapping and the process dies (SIGBUS/SIGSEGV) instead of raising. Reading in a
child confines such a crash, so the importer can report a damaged file.
The pairs come back length-prefixed, never pickled.
"""

from __future__ import annotations

import struct
import subprocess
import sys
from pathlib import Path

from signeditor.io.errors import FileFormatError

_LENGTHS = struct.Struct("<QQ")
#: Exit status of the child for an error LMDB reported (as opposed to a crash).
_LMDB_ERROR = 3
TIMEOUT_S = 600.0


def _dump(path: str) -> int:
    import lmdb

    out = sys.stdout.buffer
    try:
        env = lmdb.open(path, readonly=True, lock=False, readahead=False, subdir=Path(path).is_dir())
        with env.begin() as txn:
            for key, value in txn.cursor():
                out.write(_LENGTHS.pack(len(key), len(value)))
                out.write(bytes(key))
                out.write(bytes(value))
        env.close()
    except lmdb.Error as exc:
        sys.stderr.write(f"{type(exc).__name__}: {exc}")
        return _LMDB_ERROR
    out.flush()
    return 0


def _parse(stream: bytes, path: Path) -> dict[bytes, bytes]:
    items: dict[bytes, bytes] = {}
    at = 0
    while at < len(stream):
        if at + _LENGTHS.size > len(stream):
            raise FileFormatError(path, "damaged LMDB database (incomplete read)")
        key_len, value_len = _LENGTHS.unpack_from(stream, at)
        at += _LENGTHS.size
        if at + key_len + value_len > len(stream):
            raise FileFormatError(path, "damaged LMDB database (incomplete read)")
        key = stream[at:at + key_len]
        items[key] = stream[at + key_len:at + key_len + value_len]
        at += key_len + value_len
    return items


def read_lmdb_items(path: str | Path) -> dict[bytes, bytes]:
    """Every key/value pair of the database at ``path``; FileFormatError when it is damaged (even fatally)."""
    path = Path(path)
    if not path.exists():
        raise FileFormatError(path, "LMDB database not found")
    if getattr(sys, "frozen", False):  # a frozen app cannot run `python -m`; read in-process there
        return _read_in_process(path)
    try:
        result = subprocess.run([sys.executable, "-m", "signeditor.io.lmdb_dump", str(path)], capture_output=True,
                                timeout=TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired as exc:
        raise FileFormatError(path, f"reading the LMDB database took longer than {TIMEOUT_S:g} s") from exc
    if result.returncode == _LMDB_ERROR:
        raise FileFormatError(path, f"not a readable LMDB database ({result.stderr.decode('utf-8', 'replace')})")
    if result.returncode != 0:
        raise FileFormatError(path, f"damaged LMDB database (reading it failed with status {result.returncode})")
    return _parse(result.stdout, path)


def _read_in_process(path: Path) -> dict[bytes, bytes]:
    import lmdb

    try:
        env = lmdb.open(str(path), readonly=True, lock=False, readahead=False, subdir=path.is_dir())
        try:
            with env.begin() as txn:
                return {bytes(k): bytes(v) for k, v in txn.cursor()}
        finally:
            env.close()
    except lmdb.Error as exc:
        raise FileFormatError(path, f"not a readable LMDB database ({exc})") from exc


if __name__ == "__main__":
    sys.exit(_dump(sys.argv[1]))
