"""Lexicon look-ups and fingerspelling alphabets against a list model over random hand-built index files."""

from __future__ import annotations

import tempfile
import unicodedata

from hypothesis import example, given, settings
from hypothesis import strategies as st

from signeditor.io.lexicon import lexicon_from_bytes

#: Spellings of a few terms: case variants, a decomposed umlaut, stray spaces, letters (one character, doubled,
#: SCH) and two- and three-letter words that are no letters.
SPELLINGS = ("Essen", "essen", "ESSEN", "Tür", "tu\u0308r", " TÜR ", "A", "a", "SCH", "sch", "ll", "du", "Tag", "ja")
PAIRS = (("de", "sgg"), ("de", "dgs"), ("fr", "sgg"))


def _fold(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip().lower().replace("ß", "ss")


def _is_letter(words: str) -> bool:
    """One letter, a doubled letter or SCH (the alphabets' letters), never a short word."""
    w = unicodedata.normalize("NFC", words.strip())
    return w.isalpha() and (len(w) == 1 or (len(w) == 2 and w[0].lower() == w[1].lower()) or w.lower() == "sch")


@settings(max_examples=200, deadline=None, derandomize=True)
@example([("Tür", "", PAIRS[0], 0), (" TÜR ", "", PAIRS[0], 0)], " TÜR ", PAIRS[0], None)  # typed with spaces
@given(st.lists(st.tuples(st.sampled_from(SPELLINGS), st.sampled_from(["", "", "ESSEN", "TÜR", "ESSEN-VERB", "A"]),
                          st.sampled_from(PAIRS[:1] * 4 + PAIRS), st.integers(-1, 1)), min_size=1, max_size=10),
       st.sampled_from(SPELLINGS), st.sampled_from(PAIRS[:1] * 4 + PAIRS), st.sampled_from([None, True, False]))
def test_a_lookup_finds_the_lowest_priority_entry_spelled_as_typed_first(
        rows: list[tuple[str, str, tuple[str, str], int]], term: str, pair: tuple[str, str],
        letters: bool | None) -> None:
    """Against a list model over the index rows in file order: the entries of the language pair whose words or
    gloss equal the typed term (case, Unicode composition and surrounding spaces aside), only letters or only
    words when asked; the lowest priority wins; among those, one spelled exactly as typed; else the first in the
    file. The alphabet: each letter's lowest-priority entry of the pair, else of the signed language under any
    spoken language."""
    lines = ["path,spoken_language,signed_language,start,end,words,glosses,priority"]
    lines += [f"c{k}.pose,{spoken},{signed},0,0,{words},{gloss},{priority}"
              for k, (words, gloss, (spoken, signed), priority) in enumerate(rows)]
    with tempfile.TemporaryDirectory() as folder:
        lexicon = lexicon_from_bytes("\n".join(lines).encode(), folder)
    entries = lexicon.entries
    assert [(e.words, e.glosses, e.priority) for e in entries] == [(w.strip(), g, p) for w, g, _, p in rows]
    matching = [e for e in entries if (e.spoken_language, e.signed_language) == pair
                and _fold(term) in {_fold(e.words), _fold(e.glosses)} - {""}
                and (letters is None or _is_letter(e.words) == letters)]
    found = lexicon.lookup(term, *pair, letters=letters)
    if not matching:
        assert found is None
    else:
        best = [e for e in matching if e.priority == min(m.priority for m in matching)]
        exact = [e for e in best if term.strip() in (e.words, e.glosses)]
        assert found is (exact or best)[0]
    for spoken in (pair[0], "en"):
        alphabet = lexicon.alphabet(spoken, pair[1])
        expected: dict[str, object] = {}
        for candidates in ([e for e in entries if (e.spoken_language, e.signed_language) == (spoken, pair[1])],
                           [e for e in entries if e.signed_language == pair[1]]):
            for e in sorted((e for e in candidates if _is_letter(e.words)), key=lambda e: e.priority):
                expected.setdefault(_fold(e.words), e)
            if expected:
                break
        assert alphabet.keys() == expected.keys()
        assert all(alphabet[k] is expected[k] for k in expected)
