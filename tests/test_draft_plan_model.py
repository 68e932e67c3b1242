"""The draft planner over a hand-built lexicon, against a list model of its rules (phrases, words, endings,
compounds, fingerspelling, gaps and the holds punctuation asks for)."""

from __future__ import annotations

import tempfile

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signeditor.drafts.plan import DraftError, Planner
from signeditor.io.lexicon import lexicon_from_bytes

#: words -> gloss of the hand-built lexicon (German into DGS): words, phrases of two and three words.
WORDS = {"hallo": "HALLO", "guten": "GUT", "morgen": "MORGEN", "guten morgen": "GUTEN-MORGEN",
         "guten tag": "GUTEN-TAG", "tag": "TAG", "haus": "HAUS", "kind": "KIND", "pizza": "PIZZA",
         "bis bald wieder": "BIS-BALD", "bald": "BALD", "guten tag zusammen": "GUTEN-TAG-ZUSAMMEN",
         "zusammen": "ZUSAMMEN"}
LETTERS = ("A", "B", "C", "E", "I", "N", "O", "R", "S", "SCH", "T", "Z", "Ü")
#: Words the lexicon lacks, with what they are signed as: an ending dropped, a compound (linking "er"), letters
#: (greedy longest letter: SCH before S), and the letters there are with a gap ("?" + the word as typed) for what
#: the alphabet lacks (W, D, X, Y, L, Q).
OTHERS = {"pizzas": ["PIZZA"], "hauses": ["HAUS"], "tages": ["TAG"], "hauskind": ["HAUS", "KIND"],
          "kinderhaus": ["KIND", "HAUS"], "kindtag": ["KIND", "TAG"],
          "zebra": ["fs-Z", "fs-E", "fs-B", "fs-R", "fs-A"], "tisch": ["fs-T", "fs-I", "fs-SCH"],
          "bis": ["fs-B", "fs-I", "fs-S"], "wieder": ["fs-I", "fs-E", "fs-E", "fs-R", "?"], "xylo": ["fs-O", "?"],
          "qwx": ["?"]}
#: Between words: a space, or punctuation the signer holds for.
SEPARATORS = (" ", " ", ", ", ". ", "? ", "; ", " – ", "! ")


def _lexicon():
    rows = ["path,spoken_language,signed_language,start,end,words,glosses,priority"]
    rows += [f"w{k}.pose,de,dgs,0,0,{words},{gloss},0" for k, (words, gloss) in enumerate(WORDS.items())]
    rows += [f"l{k}.pose,de,dgs,0,0,{letter},{letter},0" for k, letter in enumerate(LETTERS)]
    with tempfile.TemporaryDirectory() as folder:
        return lexicon_from_bytes("\n".join(rows).encode(), folder)


LEXICON = _lexicon()


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(sorted(set(WORDS) | set(OTHERS) | {"bis bald", "guten guten morgen"})),
                min_size=1, max_size=5),
       st.data(), st.sampled_from(["", ".", "?", "!"]))
def test_the_plan_signs_the_longest_phrase_first_then_each_word_and_holds_at_punctuation(
        chunks: list[str], data: st.DataObject, ending: str) -> None:
    """A user types a German sentence (words capitalised or not). Against a list model: from each word on, the
    longest lexicon phrase of three, then two words is one sign (at the text's start, middle or end; never across
    punctuation: "gut. Morgen" is two sentences); else the word
    is its own sign, else the sign of the word without an inflection ending, else a compound of signed words,
    else it is fingerspelled, with a marked gap for letters the alphabet lacks. The last sign of each word or
    phrase followed by a comma, sentence end or dash (not the text's last) is held. Nothing signable: refused."""
    typed = [(w, data.draw(st.booleans()), data.draw(st.sampled_from(SEPARATORS)))
             for chunk in chunks for w in chunk.split()]  # phrases typed whole: at the start, middle, end
    words = [w.capitalize() if upper else w for w, upper, _ in typed]
    text = "".join(w + (sep if k < len(typed) - 1 else "") for k, (w, (_, _, sep)) in enumerate(zip(words, typed,
                                                                                                   strict=True)))
    text += ending
    expected: list[tuple[str, str, bool]] = []  # (label, typed word or phrase, held after)
    i = 0
    while i < len(words):
        for size in (3, 2, 1):
            phrase = " ".join(words[i:i + size])
            across_a_pause = any(typed[k][2].strip() for k in range(i, min(i + size, len(words)) - 1))
            if i + size <= len(words) and not across_a_pause and (phrase.lower() in WORDS if size > 1 else False):
                labels = [WORDS[phrase.lower()]]
                break
        else:
            size, phrase = 1, words[i]
            labels = [WORDS[phrase.lower()]] if phrase.lower() in WORDS else \
                [label + phrase if label == "?" else label for label in OTHERS[phrase.lower()]]
        last = i + size - 1
        held = last < len(words) - 1 and typed[last][2].strip() != ""
        expected += [(label, phrase, held and k == len(labels) - 1) for k, label in enumerate(labels)]
        i += size
    planner = Planner(LEXICON, "de", "dgs", lemmatise=False, synonyms=False)
    if all(label.startswith("?") for label, _, _ in expected):
        with pytest.raises(DraftError, match="no word of the text could be signed"):
            planner.plan(text)
        return
    plan = planner.plan(text)
    assert [(s.label, s.word, s.pause_after) for s in plan.signs] == expected, text
    for sign in plan.signs:
        assert sign.kind == ("gap" if sign.label.startswith("?") else "letter" if sign.label.startswith("fs-")
                             else "sign")
        assert (sign.entry is None) == (sign.kind == "gap")


@pytest.mark.parametrize("text", ["qwx", "Qwx, qwx!", "...", ""])
def test_a_text_with_nothing_signable_is_refused(text: str) -> None:
    """Only letters the alphabet lacks (gaps), or no words at all: nothing can be drafted, and the user is told."""
    with pytest.raises(DraftError, match=r"no words? "):
        Planner(LEXICON, "de", "dgs", lemmatise=False, synonyms=False).plan(text)
