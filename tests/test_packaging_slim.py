"""The packaged app's two size steps: slim fingerspelling alphabets and symbol-stripped shared libraries.

Oracles: the original alphabet clips read by the same draft code (the slim copy must draft identically), and the
system's dynamic loader (a stripped library must load, one the loader refuses must not be shipped).
"""

from __future__ import annotations

import _decimal
import ctypes
import importlib.util
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from signeditor.drafts.clips import ClipLibrary
from signeditor.io.lexicon import INDEX_NAME, bundled_lexicon_folders, read_lexicon
from signeditor.io.lexicon_slim import write_slim_lexicon

ROOT = Path(__file__).resolve().parents[1]


def _slim_binaries() -> object:
    spec = importlib.util.spec_from_file_location("slim_binaries", ROOT / "packaging" / "slim_binaries.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _three_letter_lexicon(folder: Path) -> Path:
    """Three letters of three signed languages from the bundled alphabets, as their own lexicon folder."""
    source = bundled_lexicon_folders()[0]
    lines = (source / INDEX_NAME).read_text().splitlines()
    rows = [next(line for line in lines[1:] if line.startswith(f"{lang}/")) for lang in ("ase", "gsg", "ssp")]
    for row in rows:
        clip = row.split(",")[0]
        (folder / clip).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source / clip, folder / clip)
    (folder / INDEX_NAME).write_text("\n".join([lines[0], *rows]) + "\n")
    (folder / ".DS_Store").write_bytes(b"junk")
    return folder


def test_slim_alphabet_clips_draft_exactly_like_the_originals(tmp_path: Path) -> None:
    if not bundled_lexicon_folders():
        pytest.skip("spoken-to-signed's alphabets are not installed")
    original = _three_letter_lexicon(tmp_path / "original")
    slim = write_slim_lexicon(original, tmp_path / "slim")

    assert not (slim / ".DS_Store").exists()
    assert (slim / INDEX_NAME).read_bytes() == (original / INDEX_NAME).read_bytes()
    clips = ClipLibrary(None, None)
    for before, after in zip(read_lexicon(original).entries, read_lexicon(slim).entries, strict=True):
        assert after.path.stat().st_size < 0.25 * before.path.stat().st_size
        a, b = clips.load(before), clips.load(after)
        np.testing.assert_array_equal(b.motion.features, a.motion.features)
        np.testing.assert_array_equal(b.motion.filled, a.motion.filled)
        assert b.motion.fps == a.motion.fps


def _loader_error(path: Path) -> str | None:
    try:
        ctypes.CDLL(str(path))
    except OSError as exc:
        return str(exc)
    return None


@pytest.mark.skipif(shutil.which("strip") is None, reason="needs binutils' strip")
def test_stripped_libraries_load_and_a_library_strip_would_break_is_kept(tmp_path: Path) -> None:
    slim = _slim_binaries()
    cache = tmp_path / "cache"
    strip = shutil.which("strip")

    # An extension module of the interpreter, built with its symbols: the stripped copy is smaller and loads.
    if not getattr(_decimal, "__file__", None):
        pytest.skip("this interpreter has decimal built in")
    source = Path(_decimal.__file__)
    copy = slim.stripped_copy(source, cache, strip)
    assert copy != source
    assert _loader_error(copy) is None
    assert copy.stat().st_size < source.stat().st_size

    # numpy's bundled libgfortran was rewritten by patchelf: stripped, the loader refuses it, so the original ships.
    rewritten = next((Path(np.__file__).parent.parent / "numpy.libs").glob("libgfortran*"), None)
    if rewritten is None:
        pytest.skip("this numpy ships no patchelf-rewritten libgfortran")
    broken = tmp_path / rewritten.name
    shutil.copyfile(rewritten, broken)
    subprocess.run([strip, str(broken)], check=True)
    if _loader_error(broken) is None:
        pytest.skip("strip leaves this libgfortran loadable here")
    assert "page-aligned" in (_loader_error(broken) or "")
    assert not slim.elf_loadable(broken)
    assert slim.stripped_copy(rewritten, cache, strip) == rewritten
    assert _loader_error(rewritten) is None
