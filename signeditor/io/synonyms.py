"""Words a translator's text may use for a lexicon's sign: groups of synonyms in a lexicon folder's ``synonyms.csv``.

A lexicon lists one citation word per sign ("Auto"), while a text says
"Wagen". Drafts try a word's synonyms before splitting it as a compound or
fingerspelling it. The groups live beside the lexicon they serve, in a file the
team edits like the index (a spreadsheet exports it): no thesaurus is shipped
or downloaded, so a group says exactly what the lexicon's owners mean.

Format: UTF-8 CSV with a header ``spoken_language,words``; each row is one
group of interchangeable words or phrases of that spoken language, separated by
``|`` (``de,Auto|Wagen|PKW``). A word may sit in several groups (senses); a
group is not transitive across rows.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from signeditor.io.csv_table import csv_rows
from signeditor.io.errors import FileFormatError, read_file_bytes
from signeditor.io.terms import normalise_term

SYNONYMS_NAME = "synonyms.csv"
SYNONYM_COLUMNS: tuple[str, ...] = ("spoken_language", "words")
WORD_SEPARATOR = "|"


@dataclass(frozen=True)
class SynonymGroup:
    """Interchangeable words of one spoken language, with where they were read (for messages)."""

    spoken_language: str
    words: tuple[str, ...]
    source: Path = field(default=Path(SYNONYMS_NAME), compare=False)
    line: int = field(default=0, compare=False)


@dataclass
class Thesaurus:
    """Synonym groups of one or more lexicon folders, indexed by spoken language and normalised word."""

    groups: list[SynonymGroup] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_word: dict[tuple[str, str], list[SynonymGroup]] = {}
        for group in self.groups:
            for word in group.words:
                self._by_word.setdefault((group.spoken_language, normalise_term(word)), []).append(group)

    def __len__(self) -> int:
        return len(self.groups)

    def synonyms(self, word: str, spoken_language: str) -> list[str]:
        """The other words of every group holding ``word``, in the groups' order, each once."""
        wanted = normalise_term(word)
        seen, found = {wanted}, []
        for group in self._by_word.get((spoken_language, wanted), []):
            for other in group.words:
                key = normalise_term(other)
                if key not in seen:
                    seen.add(key)
                    found.append(other)
        return found

    @classmethod
    def combined(cls, thesauri: Iterable[Thesaurus]) -> Thesaurus:
        return cls([group for thesaurus in thesauri for group in thesaurus.groups])


def thesaurus_from_bytes(data: bytes, path: str | Path) -> Thesaurus:
    """Parse a ``synonyms.csv``; FileFormatError names the file, the line and the problem."""
    path = Path(path)
    groups: list[SynonymGroup] = []
    for line, row in csv_rows(data, path, SYNONYM_COLUMNS):
        language = row["spoken_language"].strip()
        if not language:
            raise FileFormatError(path, f"line {line}: empty 'spoken_language'")
        words = tuple(w.strip() for w in row["words"].split(WORD_SEPARATOR) if w.strip())
        if len({normalise_term(w) for w in words}) < 2:
            raise FileFormatError(path, f"line {line}: a group needs at least two different words separated "
                                        f"by {WORD_SEPARATOR!r}, got {row['words'].strip()[:80]!r}")
        groups.append(SynonymGroup(language, words, path, line))
    return Thesaurus(groups)


def read_thesaurus(folder: str | Path) -> Thesaurus:
    """The synonym groups of a lexicon folder; empty when it has no ``synonyms.csv``."""
    path = Path(folder) / SYNONYMS_NAME
    return thesaurus_from_bytes(read_file_bytes(path), path) if path.is_file() else Thesaurus()


def synonyms_csv_bytes(groups: Iterable[SynonymGroup]) -> bytes:
    """A ``synonyms.csv`` holding ``groups`` (what ``thesaurus_from_bytes`` reads back)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(SYNONYM_COLUMNS)
    for group in groups:
        writer.writerow((group.spoken_language, WORD_SEPARATOR.join(group.words)))
    return out.getvalue().encode("utf-8")
