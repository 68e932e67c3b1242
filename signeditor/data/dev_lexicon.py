"""A development lexicon from ``../shared/signdata``: one ``index.csv`` (and a small ``synonyms.csv``) over copies
of the research clips.

Lexicon clip paths must stay inside the lexicon folder (the reader refuses
others, so a downloaded index cannot reach arbitrary files), so the clips are
copied into ``OUT/clips/``. The output folder is git-ignored: the data have
research licences and never enter the repository. It joins the DGS isolated
signs, the spoken-to-signed dummy lexicon and the fingerspelling alphabets of
20 signed languages (about 55 MB).
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

from signeditor.io.errors import FileFormatError
from signeditor.io.lexicon import LexiconEntry, read_lexicon, write_lexicon
from signeditor.io.synonyms import SYNONYMS_NAME, WORD_SEPARATOR, SynonymGroup, synonyms_csv_bytes

#: Lexicon folders of the shared data that already have an index.csv.
INDEXED_FOLDERS: tuple[str, ...] = ("dgs_lexicon_dummy", "fingerspelling_lexicon")
ISOLATED_FOLDER = "dgs_isolated"
#: German words for the DGS isolated signs (their glosses are the corpus' English glosses).
GERMAN_WORDS: dict[str, str] = {
    "HOUSE": "Haus", "DIFFERENT": "verschieden", "EQUAL": "gleich", "IMAGINATION": "Fantasie",
    "SMOOTH-OR-SLICK": "glatt", "YOUNG": "jung",
}
#: Synonym groups for the words of the DGS isolated signs (``synonyms.csv``; the corpus gloss SMOOTH-OR-SLICK
#: names its own pair): a small hand-written table, so drafts and ``bench draft`` exercise synonym lookup.
SYNONYM_GROUPS: tuple[tuple[str, str], ...] = (
    ("de", "Haus|Gebäude"), ("de", "verschieden|unterschiedlich"), ("de", "gleich|identisch"),
    ("de", "Fantasie|Phantasie|Vorstellungskraft"), ("de", "glatt|rutschig"), ("de", "jung|jugendlich"),
    ("en", "house|building"), ("en", "different|distinct"), ("en", "equal|same"),
    ("en", "imagination|fantasy"), ("en", "smooth|slick"), ("en", "young|youthful"),
)
#: Files of dgs_isolated that are not single signs.
_NOT_SIGNS = {"sentence", "stitched"}


def isolated_entries(folder: Path) -> list[LexiconEntry]:
    """DGS (gsg) entries from files named by their gloss (``HOUSE1A^.pose``), with English and German words."""
    entries = []
    for clip in sorted(folder.glob("*.pose")):
        gloss = clip.stem
        if gloss in _NOT_SIGNS:
            continue
        base = re.sub(r"\d.*$", "", gloss.rstrip("^")) or gloss
        english = base.replace("-OR-", " or ").lower().split(" or ")[0]
        entries.append(LexiconEntry(clip, "en", "gsg", 0, 0, english, gloss, 0))
        if base in GERMAN_WORDS:
            entries.append(LexiconEntry(clip, "de", "gsg", 0, 0, GERMAN_WORDS[base], gloss, 0))
    return entries


def build_dev_lexicon(source: str | Path, out: str | Path) -> tuple[Path, int]:
    """Write ``out/index.csv`` for the shared data in ``source``; returns the index path and the entry count."""
    source, out = Path(source), Path(out)
    if not source.is_dir():
        raise FileFormatError(source, "sign data folder not found")
    entries: list[LexiconEntry] = []
    for name in INDEXED_FOLDERS:
        if (source / name / "index.csv").is_file():
            entries.extend(read_lexicon(source / name).entries)
    if (source / ISOLATED_FOLDER).is_dir():
        entries.extend(isolated_entries(source / ISOLATED_FOLDER))
    if not entries:
        raise FileFormatError(source, f"no lexicon folders ({', '.join(INDEXED_FOLDERS)}, {ISOLATED_FOLDER}) found")
    copied = [LexiconEntry(_copy_clip(e.path, source, out), e.spoken_language, e.signed_language, e.start, e.end,
                           e.words, e.glosses, e.priority) for e in entries]
    index = write_lexicon(copied, out)
    groups = [SynonymGroup(language, tuple(words.split(WORD_SEPARATOR))) for language, words in SYNONYM_GROUPS]
    (out / SYNONYMS_NAME).write_bytes(synonyms_csv_bytes(groups))
    return index, len(copied)


def _copy_clip(clip: Path, source: Path, out: Path) -> Path:
    """Copy ``clip`` to ``out/clips/<its path under source>`` unless an up-to-date copy is there."""
    target = out / "clips" / clip.resolve().relative_to(source.resolve())
    stat = clip.stat()
    if not (target.is_file() and target.stat().st_size == stat.st_size and target.stat().st_mtime >= stat.st_mtime):
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(clip, target)
    return target
