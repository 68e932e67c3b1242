"""The user's own lexicon: corrected signs saved as ``.pose`` clips plus ``index.csv`` rows (spoken-to-signed layout).

Saving writes the clip first and the index last, both atomically, so a
crash leaves either the old lexicon or the new one, never a row pointing at
a missing file. Clip names come from the gloss, reduced to safe characters,
and must resolve inside the folder (a symlinked name cannot write elsewhere).
An existing clip or an entry for the same word and languages is a clash the
caller must confirm before it is overwritten.
"""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

from signeditor.core.motion import Motion
from signeditor.io.errors import FileFormatError
from signeditor.io.lexicon import INDEX_NAME, LexiconEntry, normalise_term, read_lexicon, write_lexicon

_UNSAFE = re.compile(r"[^A-Za-z0-9_-]+")


class LexiconClash(FileExistsError):
    """The sign's clip or an entry for the same word already exists; ``overwrite=True`` replaces it."""


def clip_file_name(gloss: str) -> str:
    """A safe file name for a gloss: ASCII letters, digits, ``_`` and ``-`` ("HAUS^" -> "HAUS.pose")."""
    ascii_name = unicodedata.normalize("NFKD", gloss).encode("ascii", "ignore").decode()
    stem = _UNSAFE.sub("_", ascii_name).strip("_-")[:80] or "sign"
    return f"{stem}.pose"


def add_sign(folder: str | Path, motion: Motion, words: str, glosses: str, spoken_language: str,
             signed_language: str, overwrite: bool = False) -> LexiconEntry:
    """Write ``motion`` as a clip of ``folder`` and add (or, with ``overwrite``, replace) its index row."""
    from signeditor.io.pose_export import write_pose

    folder = Path(folder)
    words, glosses = words.strip(), glosses.strip()
    spoken_language, signed_language = spoken_language.strip(), signed_language.strip()
    if not (words or glosses) or not spoken_language or not signed_language:
        raise ValueError("a lexicon entry needs a word or gloss and both languages")
    folder.mkdir(parents=True, exist_ok=True)
    clip = folder / clip_file_name(glosses or words)
    if clip.resolve().parent != folder.resolve():
        raise FileFormatError(clip, f"the clip would be written outside the lexicon folder {folder}")
    rows = read_lexicon(folder).entries if (folder / INDEX_NAME).is_file() else []
    key = (spoken_language, signed_language, normalise_term(words or glosses))
    same = [e for e in rows if (e.spoken_language, e.signed_language, normalise_term(e.words or e.glosses)) == key
            or e.path.resolve() == clip.resolve()]
    if (same or clip.exists()) and not overwrite:
        what = f"an entry for {words or glosses!r}" if same else f"the clip {clip.name}"
        raise LexiconClash(f"{folder} already has {what}")
    entry = LexiconEntry(clip, spoken_language, signed_language, 0, 0, words, glosses, 0)
    write_pose(motion, clip)
    write_lexicon([*(e for e in rows if e not in same), entry], folder)
    return entry
