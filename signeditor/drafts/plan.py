"""From text to a plan of signs: normalised tokens, each a lexicon sign, fingerspelled letters or a marked gap.

No glosser: the draft signs the words in the order typed (as spoken-to-signed's
"simple" glosser does). The user refines grammar in the editor; the point of
the draft is to have every word's sign on the timeline at once. Lexicons list
citation forms, so a word without an entry of its own is looked up by its
lemma (simplemma, as spoken-to-signed's glossers do: "Kinder" -> "Kind"), and
a numeral is read as the whole number in the spoken language ("12" -> "zwölf").
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from signeditor.io.lexicon import Lexicon, LexiconEntry, normalise_term

#: Words, possibly with inner apostrophes or hyphens ("don't", "Kinder-Garten"), or runs of digits.
_TOKEN = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*|\d+")
#: Longest lexicon phrase tried ("guten Morgen" may be one sign).
MAX_PHRASE_TOKENS = 3

#: Inflection endings tried, longest first, when neither a word nor its lemma has an entry ("Pizzas" -> "Pizza",
#: "Junge" -> "jung"): the lemmatiser does not know every word (names of dishes, loans).
INFLECTION_ENDINGS: tuple[str, ...] = ("es", "en", "er", "e", "n", "s")
MIN_STEM_CHARS = 3

#: Numerals longer than this (or with a leading zero: "007", a phone number) are read digit by digit.
MAX_WHOLE_NUMBER_DIGITS = 9
#: Digit names per spoken language, for numerals read digit by digit where num2words lacks the language.
DIGIT_WORDS: dict[str, tuple[str, ...]] = {
    "de": ("null", "eins", "zwei", "drei", "vier", "fünf", "sechs", "sieben", "acht", "neun"),
    "en": ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"),
    "fr": ("zéro", "un", "deux", "trois", "quatre", "cinq", "six", "sept", "huit", "neuf"),
    "it": ("zero", "uno", "due", "tre", "quattro", "cinque", "sei", "sette", "otto", "nove"),
    "es": ("cero", "uno", "dos", "tres", "cuatro", "cinco", "seis", "siete", "ocho", "nueve"),
    "pt": ("zero", "um", "dois", "três", "quatro", "cinco", "seis", "sete", "oito", "nove"),
}


class DraftError(ValueError):
    """Nothing can be drafted (empty text, a signed language the lexicon does not have): the message says why."""


@dataclass(frozen=True)
class PlannedSign:
    """One item on the draft's timeline: a lexicon clip, or a gap (``entry`` None) for something unsignable."""

    label: str
    entry: LexiconEntry | None
    #: The typed word it signs (several letters share their word).
    word: str
    kind: str  # "sign" | "letter" | "gap"


@dataclass
class DraftPlan:
    signs: list[PlannedSign] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def tokenize(text: str) -> list[str]:
    """Words and numerals in typed order; punctuation dropped; Unicode NFC so composed and decomposed letters match.

    Case is kept (the lexicon match is case-insensitive, but an exact-case
    entry wins, e.g. a gloss); digit runs are separate tokens ("A3" -> "A", "3").
    """
    return _TOKEN.findall(unicodedata.normalize("NFC", text))


@functools.lru_cache(maxsize=4096)
def lemma(word: str, spoken_language: str) -> str:
    """The word's dictionary form in the spoken language (simplemma); the word itself if unknown or unsupported."""
    try:
        import simplemma

        return str(simplemma.lemmatize(word, lang=spoken_language))
    except (ImportError, ValueError, KeyError):  # simplemma absent, or no dictionary for the language
        return word


def number_words(digits: str, spoken_language: str) -> str | None:
    """A whole number in words ("12", "de" -> "zwölf"), or None when it is read digit by digit or the language
    has no number names (num2words)."""
    if not digits.isdigit() or len(digits) > MAX_WHOLE_NUMBER_DIGITS or (len(digits) > 1 and digits[0] == "0"):
        return None
    try:
        from num2words import num2words

        return str(num2words(int(digits), lang=spoken_language))
    except (ImportError, NotImplementedError, OverflowError, KeyError):
        return None


def spell(word: str, alphabet: dict[str, LexiconEntry]) -> tuple[list[LexiconEntry], list[str]]:
    """Letter entries for ``word`` by greedy longest match ("SCH" before "S"), and the characters the alphabet lacks."""
    folded = normalise_term(word)
    longest = max((len(k) for k in alphabet), default=1)
    letters: list[LexiconEntry] = []
    missing: list[str] = []
    i = 0
    while i < len(folded):
        for size in range(min(longest, len(folded) - i), 0, -1):
            entry = alphabet.get(folded[i : i + size])
            if entry is not None:
                letters.append(entry)
                i += size
                break
        else:
            if folded[i].isalnum():
                missing.append(folded[i].upper())
            i += 1
    return letters, missing


class Planner:
    """Look tokens up in a lexicon for one language pair; fingerspell or mark what is missing."""

    def __init__(self, lexicon: Lexicon, spoken_language: str, signed_language: str, lemmatise: bool = True) -> None:
        self.lexicon = lexicon
        self.spoken = spoken_language.strip()
        self.signed = signed_language.strip()
        self.alphabet = lexicon.alphabet(self.spoken, self.signed)
        #: False only to measure what lemmas add (``bench draft``'s hit rate).
        self.lemmatise = lemmatise

    def check_languages(self) -> list[str]:
        """Warnings about the language pair; DraftError when the signed language has nothing at all."""
        if self.signed not in self.lexicon.signed_languages():
            known = ", ".join(self.lexicon.signed_languages()) or "none (is a lexicon folder set?)"
            raise DraftError(f"the lexicon has no signs for signed language {self.signed!r}; known: {known}")
        warnings = []
        if (self.spoken, self.signed) not in self.lexicon.language_pairs():
            warnings.append(f"no lexicon entries for {self.spoken!r} -> {self.signed!r}; words will be fingerspelled")
        if not self.alphabet:
            warnings.append(f"no fingerspelling alphabet for {self.signed!r}; unknown words are left as gaps")
        return warnings

    def _word_entry(self, term: str) -> LexiconEntry | None:
        """A word's own sign first; a letter entry only when nothing else matches (a typed single letter)."""
        return (self.lexicon.lookup(term, self.spoken, self.signed, letters=False)
                or self.lexicon.lookup(term, self.spoken, self.signed, letters=True))

    def _fingerspell(self, word: str, plan: DraftPlan) -> None:
        letters, missing = spell(word, self.alphabet)
        if missing:
            plan.warnings.append(f"{word!r}: the {self.signed} alphabet has no letter(s) {' '.join(missing)}; "
                                 "marked as a gap")
        if letters and not missing:
            plan.warnings.append(f"{word!r} is not in the lexicon: fingerspelled")
        plan.signs.extend(PlannedSign(f"fs-{e.gloss.upper()}", e, word, "letter") for e in letters)
        if missing:
            plan.signs.append(PlannedSign(f"?{word}", None, word, "gap"))

    def _numeral(self, digits: str, plan: DraftPlan) -> None:
        """A numeral: its own sign, else the whole number's word(s) ("12" -> "zwölf", "21" -> "twenty-one"),
        else digit by digit when the lexicon has every digit, else the number word fingerspelled."""
        entry = self._word_entry(digits)
        if entry is not None:
            plan.signs.append(PlannedSign(entry.gloss, entry, digits, "sign"))
            return
        words = number_words(digits, self.spoken)
        if words is not None:
            entry = self._word_entry(words)
            if entry is not None:
                plan.signs.append(PlannedSign(entry.gloss, entry, digits, "sign"))
                return
            parts = [p for p in re.split(r"[\s\-]+", words) if p]
            entries = [self._word_entry(p) for p in parts]
            if len(parts) > 1 and all(entries):
                plan.signs.extend(PlannedSign(e.gloss, e, digits, "sign") for e in entries if e is not None)
                return
        digit_entries = [self._digit_entry(d) for d in digits]
        if all(digit_entries):
            plan.signs.extend(PlannedSign(e.gloss, e, d, "sign") for e, d in zip(digit_entries, digits, strict=True)
                              if e is not None)
            return
        if words is not None:
            self._fingerspell(words.replace(" ", "").replace("-", ""), plan)
            return
        names = DIGIT_WORDS.get(self.spoken)
        for digit, entry in zip(digits, digit_entries, strict=True):
            if entry is not None:
                plan.signs.append(PlannedSign(entry.gloss, entry, digit, "sign"))
            elif names is not None:
                self._fingerspell(names[int(unicodedata.digit(digit))], plan)
            else:
                plan.warnings.append(f"{digit!r}: no sign and no digit names for spoken language {self.spoken!r}")
                plan.signs.append(PlannedSign(f"?{digit}", None, digit, "gap"))

    def _digit_entry(self, digit: str) -> LexiconEntry | None:
        """The sign of one digit: as a numeral ("2") or by its name in the spoken language ("zwei")."""
        names = DIGIT_WORDS.get(self.spoken)
        return self._word_entry(digit) or (self._word_entry(names[int(unicodedata.digit(digit))]) if names else None)

    def plan(self, text: str) -> DraftPlan:
        """The signs for ``text``; raises DraftError when there is nothing to sign."""
        tokens = tokenize(text)
        if not tokens:
            raise DraftError("the text has no words to sign")
        plan = DraftPlan(warnings=self.check_languages())
        i = 0
        while i < len(tokens):
            for size in range(min(MAX_PHRASE_TOKENS, len(tokens) - i), 1, -1):
                entry = self._word_entry(" ".join(tokens[i : i + size]))
                if entry is not None:
                    plan.signs.append(PlannedSign(entry.gloss, entry, " ".join(tokens[i : i + size]), "sign"))
                    i += size
                    break
            else:
                self._token(tokens[i], plan)
                i += 1
        if not any(s.entry is not None for s in plan.signs):
            raise DraftError("no word of the text could be signed: " + "; ".join(plan.warnings))
        return plan

    def _token(self, token: str, plan: DraftPlan) -> None:
        if token.isdigit():
            self._numeral(token, plan)
            return
        entry = self._word_entry(token)
        if entry is None and re.search(r"['’\-]", token):
            for part in re.split(r"['’\-]", token):
                self._token(part, plan)
            return
        if entry is None and self.lemmatise:
            base = lemma(token, self.spoken)
            if normalise_term(base) != normalise_term(token):
                entry = self.lexicon.lookup(base, self.spoken, self.signed, letters=False)
        if entry is None:
            entry = self._stem_entry(token, plan)
        if entry is not None:
            plan.signs.append(PlannedSign(entry.gloss, entry, token, "sign"))
        else:
            self._fingerspell(token, plan)

    def _stem_entry(self, token: str, plan: DraftPlan) -> LexiconEntry | None:
        """The entry of the word without an inflection ending, with a warning naming the guess."""
        for ending in INFLECTION_ENDINGS:
            stem = token[: -len(ending)]
            if token.casefold().endswith(ending) and len(stem) >= MIN_STEM_CHARS:
                entry = self.lexicon.lookup(stem, self.spoken, self.signed, letters=False)
                if entry is not None:
                    plan.warnings.append(f"{token!r} is not in the lexicon: signed as {entry.gloss!r} ({stem})")
                    return entry
        return None


def lexicon_hit_rate(lexicon: Lexicon, sentences: Iterable[tuple[str, str, str]], lemmatise: bool = True) -> float:
    """Share of the words (numerals aside) signed by a lexicon sign rather than fingerspelled or left as gaps."""
    hits = words = 0
    for text, spoken, signed in sentences:
        try:
            plan = Planner(lexicon, spoken, signed, lemmatise=lemmatise).plan(text)
        except DraftError:
            plan = DraftPlan()
        words += sum(1 for t in tokenize(text) if not t.isdigit())
        hits += sum(len(tokenize(s.word)) for s in plan.signs if s.kind == "sign" and not s.word.isdigit())
    return hits / words if words else 0.0
