"""Build step for ``packaging/signeditor.spec``: ship symbol-stripped copies of the bundle's shared libraries.

Many wheels and the interpreter carry their symbol tables (libpython alone
drops from 22 to 6 MB, PyAV's extension modules from 30 to 5 MB), which the app
never needs. PyInstaller's own ``strip=True`` strips every binary, and that
breaks the libraries auditwheel rewrote with patchelf (numpy's and SciPy's
OpenBLAS: "ELF load command address/offset not page-aligned"), so each
stripped copy is checked the way the dynamic loader checks it and the
original is kept where the check fails. Without a ``strip`` tool (Windows, a
machine without binutils) the binaries are shipped as they are.
"""

from __future__ import annotations

import hashlib
import shutil
import struct
import subprocess
from pathlib import Path

PAGE_SIZE = 4096
PT_LOAD = 1


def elf_loadable(path: Path) -> bool:
    """False when a loadable segment of the 64-bit little-endian ELF file ``path`` is not page-aligned.

    That is the loader's check (glibc's ``_dl_map_segments``) that a stripped,
    patchelf-rewritten library fails; other files pass.
    """
    with path.open("rb") as handle:
        head = handle.read(64)
        if len(head) < 64 or head[:4] != b"\x7fELF" or head[4] != 2 or head[5] != 1:
            return True
        (table_offset,) = struct.unpack_from("<Q", head, 32)
        entry_size, entries = struct.unpack_from("<HH", head, 54)
        handle.seek(table_offset)
        table = handle.read(entry_size * entries)
    for i in range(entries):
        kind, _flags, offset, address = struct.unpack_from("<IIQQ", table, i * entry_size)
        if kind == PT_LOAD and (address - offset) % PAGE_SIZE:
            return False
    return True


def _is_elf(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) == b"\x7fELF"


def stripped_copy(source: Path, cache: Path, strip: str) -> Path:
    """``source`` stripped into ``cache`` (kept by content hash: a rebuild reuses it), or ``source`` if that fails."""
    digest = hashlib.sha256(source.read_bytes()).hexdigest()[:20]
    target = cache / digest / source.name
    if target.is_file():
        return target if elf_loadable(target) else source
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(source, target)
    target.chmod(0o755)
    result = subprocess.run([strip, str(target)], capture_output=True, text=True, check=False)
    if result.returncode != 0 or not elf_loadable(target):
        return source
    return target


def strip_binaries(binaries: list[tuple[str, str, str]], cache: Path) -> list[tuple[str, str, str]]:
    """PyInstaller's ``(name, path, typecode)`` binaries with each ELF file's path swapped for a stripped copy."""
    strip = shutil.which("strip")
    if strip is None:
        print("slim_binaries: no strip tool, shipping binaries with their symbols")
        return binaries
    out = []
    for name, path, typecode in binaries:
        source = Path(path)
        if source.is_file() and _is_elf(source):
            path = str(stripped_copy(source.resolve(), cache, strip))
        out.append((name, path, typecode))
    return out
