"""Sign lexicons in the spoken-to-signed layout: a folder with ``index.csv`` and ``.pose`` clips.

Using the layout of the spoken-to-signed project unchanged means any lexicon
made for it (SignSuisse, its fingerspelling alphabets, a user's own) plugs in
as is. ``start`` and ``end`` are milliseconds into the clip (``end`` 0 = to
the end of the file) and a lower ``priority`` wins, as there. Several folders
combine into one :class:`Lexicon`, so a user can keep a personal lexicon
beside a shared one.
"""

from __future__ import annotations

import csv
import io
import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from signeditor.io.csv_table import csv_rows
from signeditor.io.errors import FileFormatError, read_file_bytes
from signeditor.io.synonyms import Thesaurus, read_thesaurus
from signeditor.io.terms import normalise_term

INDEX_NAME = "index.csv"
COLUMNS: tuple[str, ...] = (
    "path", "spoken_language", "signed_language", "start", "end", "words", "glosses", "priority",
)
#: The letters of more than one character in the fingerspelling alphabets (spoken-to-signed's): digraphs and the
#: German SCH, the Slavic ligatures and the Arabic lam-alef, alef-lam and initial yeh forms; doubled letters
#: ("ll", "ÖÖ") are letters too. Any other term of two or three letters is a word ("du", "ja", "Tag", "Tür"), so
#: it is never spelled with nor cut out of a compound as if it were a letter.
MULTI_CHARACTER_LETTERS = frozenset({"ch", "sch", "dž", "lj", "nj", "ال", "لا", "ئـ"})


#: A corpus gloss's variant marks: sense number and letter, then ``^`` (citation form) or ``*`` (modified form).
_GLOSS_VARIANT = re.compile(r"\d+[a-z]?[\^*]*$|[\^*]+$")


def gloss_base(gloss: str) -> str:
    """A gloss without the DGS Corpus' variant marks, normalised: ``HOUSE1A^`` -> ``house``, ``GEHT-ES`` kept."""
    return _GLOSS_VARIANT.sub("", normalise_term(gloss))


@dataclass(frozen=True)
class LexiconEntry:
    """One clip of the lexicon: which sign, in which languages, where in which file."""

    path: Path
    spoken_language: str
    signed_language: str
    start: int
    end: int
    words: str
    glosses: str
    priority: int = 0
    #: Where the entry was read from (index file and physical line), for messages about it.
    source: Path = field(default=Path(INDEX_NAME), compare=False)
    line: int = field(default=0, compare=False)

    @property
    def gloss(self) -> str:
        """What the timeline shows: the gloss, else the word."""
        return self.glosses.strip() or self.words.strip()

    @property
    def is_letter(self) -> bool:
        """A fingerspelling letter: one alphabetic character ("A", "Ä"), a doubled one ("ll") or a known
        multi-character letter ("SCH", "Ch"; :data:`MULTI_CHARACTER_LETTERS`).

        The layout has no column saying so; spoken-to-signed keeps alphabets in separate lexicons whose terms are
        exactly such letters. Short words ("du", "Tag") are not letters: spelling "Stage" with the sign TAG, or
        failing to split "Haustür" because "Tür" looked like a letter, is what calling them letters did.
        """
        term = unicodedata.normalize("NFC", self.words.strip())
        if not term.isalpha():
            return False
        folded = term.casefold()
        doubled = len(folded) == 2 and folded[0] == folded[1]
        return len(term) == 1 or doubled or folded in MULTI_CHARACTER_LETTERS


@dataclass
class Lexicon:
    """Entries of one or more lexicon folders, indexed by normalised word and gloss."""

    entries: list[LexiconEntry] = field(default_factory=list)
    folders: list[Path] = field(default_factory=list)
    #: Synonym groups of the folders (``synonyms.csv``), which drafts try before compounds and fingerspelling.
    thesaurus: Thesaurus = field(default_factory=Thesaurus)
    #: What was read but not used (a bad ``synonyms.csv``), in words for the user: the signs still serve.
    problems: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._by_term: dict[tuple[str, str, str], list[LexiconEntry]] = {}
        for entry in self.entries:
            terms = {normalise_term(entry.words), normalise_term(entry.glosses)} - {""}
            for term in terms:
                key = (entry.spoken_language, entry.signed_language, term)
                self._by_term.setdefault(key, []).append(entry)
        for matches in self._by_term.values():
            matches.sort(key=lambda e: e.priority)

    def __len__(self) -> int:
        return len(self.entries)

    def language_pairs(self) -> list[tuple[str, str]]:
        """(spoken, signed) pairs the lexicon has any entry for, sorted."""
        return sorted({(e.spoken_language, e.signed_language) for e in self.entries})

    def spoken_languages(self) -> list[str]:
        return sorted({e.spoken_language for e in self.entries})

    def signed_languages(self, spoken_language: str | None = None) -> list[str]:
        return sorted({e.signed_language for e in self.entries
                       if spoken_language is None or e.spoken_language == spoken_language})

    def lookup(self, term: str, spoken_language: str, signed_language: str,
               letters: bool | None = None) -> LexiconEntry | None:
        """Best entry whose words or glosses equal ``term`` (normalised): lowest priority, exact spelling first.

        ``letters`` True keeps only alphabet letters, False only non-letters, None both.
        """
        wanted = normalise_term(term)
        matches = [e for e in self._by_term.get((spoken_language, signed_language, wanted), [])
                   if letters is None or e.is_letter == letters]
        if not matches:
            return None
        best = min(e.priority for e in matches)
        top = [e for e in matches if e.priority == best]
        exact = [e for e in top if term.strip() in (e.words.strip(), e.glosses.strip())]
        return (exact or top)[0]

    def lookup_gloss(self, gloss: str, signed_language: str) -> LexiconEntry | None:
        """Best entry of ``signed_language`` (under any spoken language) glossed ``gloss``: the exact gloss first,
        else the same gloss without corpus variant marks (``HAUS`` finds ``HAUS1A^``). Short words count as
        letters by their spelling (``is_letter``), so letters are not excluded: a gloss says what the sign is."""
        entries = sorted((e for e in self.entries if e.signed_language == signed_language and e.glosses.strip()),
                         key=lambda e: e.priority)
        for key in (normalise_term, gloss_base):
            found = next((e for e in entries if key(e.glosses) == key(gloss)), None)
            if found is not None:
                return found
        return None

    def alphabet(self, spoken_language: str, signed_language: str) -> dict[str, LexiconEntry]:
        """Normalised letter -> best entry of the signed language's fingerspelling alphabet.

        Falls back to the signed language's alphabet under any spoken language,
        since an alphabet belongs to the signed language (the spoken language
        only names the letters).
        """
        for pairs in ({(spoken_language, signed_language)},
                      {(e.spoken_language, signed_language) for e in self.entries}):
            letters: dict[str, LexiconEntry] = {}
            for entry in sorted(self.entries, key=lambda e: e.priority):
                if (entry.spoken_language, entry.signed_language) in pairs and entry.is_letter:
                    letters.setdefault(normalise_term(entry.words), entry)
            if letters:
                return letters
        return {}

    @classmethod
    def combined(cls, lexicons: Iterable[Lexicon]) -> Lexicon:
        entries: list[LexiconEntry] = []
        folders: list[Path] = []
        thesauri: list[Thesaurus] = []
        problems: list[str] = []
        for lexicon in lexicons:
            entries.extend(lexicon.entries)
            folders.extend(lexicon.folders)
            thesauri.append(lexicon.thesaurus)
            problems.extend(lexicon.problems)
        return cls(entries, folders, Thesaurus.combined(thesauri), problems)


def _int_field(value: str, column: str, index: Path, line: int, *, minimum: int = 0,
               empty: int | None = None) -> int:
    text = value.strip()
    if not text and empty is not None:
        return empty
    try:
        number = int(text)
    except ValueError:
        raise FileFormatError(index, f"line {line}: column {column!r} must be an integer, got {text[:40]!r}") from None
    if number < minimum:
        raise FileFormatError(index, f"line {line}: column {column!r} must be at least {minimum}, got {number}")
    return number


def _entry_from_row(row: dict[str, str], folder: Path, index: Path, line: int) -> LexiconEntry:
    clip = row["path"].strip()
    if not clip:
        raise FileFormatError(index, f"line {line}: empty 'path'")
    if "\x00" in clip:
        raise FileFormatError(index, f"line {line}: 'path' contains a NUL character")
    if Path(clip).is_absolute() or ".." in Path(clip.replace("\\", "/")).parts:
        raise FileFormatError(index, f"line {line}: 'path' {clip[:80]!r} points outside the lexicon folder")
    spoken, signed = row["spoken_language"].strip(), row["signed_language"].strip()
    if not spoken or not signed:
        raise FileFormatError(index, f"line {line}: 'spoken_language' and 'signed_language' must not be empty")
    start = _int_field(row["start"], "start", index, line, empty=0)
    end = _int_field(row["end"], "end", index, line, empty=0)
    if end and end <= start:
        raise FileFormatError(index, f"line {line}: 'end' ({end} ms) must be after 'start' ({start} ms) or 0")
    words, glosses = row["words"].strip(), row["glosses"].strip()
    if not words and not glosses:
        raise FileFormatError(index, f"line {line}: an entry needs 'words' or 'glosses'")
    priority = _int_field(row["priority"], "priority", index, line, minimum=-(2**31), empty=0)
    return LexiconEntry(folder / clip, spoken, signed, start, end, words, glosses, priority, index, line)


def lexicon_from_bytes(data: bytes, folder: str | Path, index: str | Path | None = None) -> Lexicon:
    """Parse an ``index.csv``'s bytes; clip paths are relative to ``folder``. FileFormatError on any bad row."""
    folder = Path(folder)
    index = Path(index) if index is not None else folder / INDEX_NAME
    entries = [_entry_from_row(row, folder, index, line) for line, row in csv_rows(data, index, COLUMNS)]
    return Lexicon(entries, [folder])


def read_lexicon(folder: str | Path) -> Lexicon:
    """The lexicon in ``folder`` (its ``index.csv``, and ``synonyms.csv`` when present); FileFormatError names the
    file, the line and the problem of a bad index. A bad synonyms table keeps the signs: it is left out and named
    in ``problems``, which drafts show as a warning."""
    folder = Path(folder)
    index = folder / INDEX_NAME
    lexicon = lexicon_from_bytes(read_file_bytes(index), folder, index)
    try:
        lexicon.thesaurus = read_thesaurus(folder)
    except FileFormatError as exc:
        lexicon.problems.append(f"{exc} (its synonyms are not used)")
    return lexicon


def read_lexicons(folders: Iterable[str | Path]) -> Lexicon:
    """Several lexicon folders as one lexicon (entries of every folder; priorities decide between them)."""
    return Lexicon.combined(read_lexicon(folder) for folder in folders)


def check_lexicon_folder(folder: str | Path) -> tuple[Lexicon | None, str | None]:
    """(the folder's lexicon, None), or (None, why it cannot serve as one, in words a user can act on)."""
    folder = Path(folder)
    if not folder.is_dir():
        return None, f"{folder}: not a folder, or it no longer exists"
    if not (folder / INDEX_NAME).is_file():
        return None, f"{folder}: has no {INDEX_NAME} (a lexicon folder holds {INDEX_NAME} and its .pose clips)"
    try:
        lexicon = read_lexicon(folder)
    except FileFormatError as exc:
        return None, str(exc)
    if not len(lexicon):
        return None, f"{folder / INDEX_NAME}: no entries"
    return lexicon, None


def read_usable_lexicons(folders: Iterable[str | Path]) -> tuple[Lexicon, list[str]]:
    """The folders that can be read, as one lexicon, and a warning for each one skipped.

    One bad folder in a user's list must not stop drafts from the good ones.
    """
    usable: list[Lexicon] = []
    skipped: list[str] = []
    for folder in folders:
        lexicon, problem = check_lexicon_folder(folder)
        if lexicon is not None:
            usable.append(lexicon)
        else:
            skipped.append(f"lexicon folder skipped: {problem}")
    return Lexicon.combined(usable), skipped


def lexicon_index_bytes(rows: Iterable[LexiconEntry], folder: str | Path) -> bytes:
    """``index.csv`` bytes for ``rows``; clip paths are written relative to ``folder`` (POSIX separators)."""
    folder = Path(folder)
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    for e in rows:
        relative = Path(os.path.relpath(e.path, folder)).as_posix()
        writer.writerow([relative, e.spoken_language, e.signed_language, e.start, e.end, e.words, e.glosses,
                         e.priority])
    return out.getvalue().encode("utf-8")


def write_lexicon(rows: Iterable[LexiconEntry], folder: str | Path) -> Path:
    """Write ``folder/index.csv`` atomically (clips are referenced, not copied); returns the index path."""
    from signeditor.io.atomic import write_bytes_atomically

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    index = folder / INDEX_NAME
    write_bytes_atomically(index, lexicon_index_bytes(rows, folder))
    return index


def bundled_lexicon_folders() -> list[Path]:
    """Lexicon folders installed with the program: spoken-to-signed's fingerspelling alphabets (MIT).

    They make drafts work on a fresh install (every unknown word is
    fingerspelled in one of 20 signed languages); empty if the package or its
    assets are missing, so a stripped install still starts.
    """
    try:
        import spoken_to_signed.assets as assets
    except ImportError:
        return []
    folder = Path(assets.__file__).parent / "fingerspelling_lexicon"
    return [folder] if (folder / INDEX_NAME).is_file() else []


def with_bundled_lexicons(folders: Iterable[str | Path]) -> list[Path]:
    """The user's folders first (their entries win ties), then the bundled ones not already listed."""
    chosen = [Path(f) for f in folders]
    known = {f.resolve() for f in chosen}
    return chosen + [f for f in bundled_lexicon_folders() if f.resolve() not in known]
