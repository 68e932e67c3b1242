"""From text to a plan of signs: normalised tokens, each a lexicon sign, fingerspelled letters or a marked gap.

No glosser: the draft signs the words in the order typed (as spoken-to-signed's
"simple" glosser does). The user refines grammar in the editor; the point of
the draft is to have every word's sign on the timeline at once. Lexicons list
citation forms, so a word without an entry of its own is looked up by its
lemma (simplemma, as spoken-to-signed's glossers do: "Kinder" -> "Kind"), then
by a synonym the lexicon's ``synonyms.csv`` groups with it ("Wagen" -> AUTO), then without an inflection
ending, then as a compound of signed words ("Kinderpizza" -> KIND PIZZA, with German linking letters), and only then
fingerspelled; a numeral is read as the whole number in the spoken language
("12" -> "zwölf").

Text typed in capitals is a gloss sequence, the way translators write
(``HALLO WIE GEHT-ES DIR``): each gloss is looked up directly among the signed
language's glosses (``HAUS`` finds ``HAUS1A^``), then as a word.

Punctuation inside the text is shown: after a comma, semicolon, colon or a
sentence end the signer holds the sign (``PlannedSign.pause_after``); a
question's non-manuals come from ``core.nonmanual.grammar_keys`` (the draft
panel's switch, ``draft --nonmanuals``).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace

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
    #: Punctuation after it (a comma, a sentence end): the signer holds before moving on.
    pause_after: bool = False


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


#: Punctuation the signer shows as a hold between signs.
_PAUSE_MARKS = frozenset(",;:.!?–—")
#: Linking letters between the parts of a (German) compound: "Kind|er|garten", "Arbeit|s|platz".
COMPOUND_LINKS: tuple[str, ...] = ("", "s", "es", "n", "en", "er", "e")
MIN_COMPOUND_PART = 3


def pauses_after_tokens(text: str) -> list[bool]:
    """For each token of ``text``: whether punctuation that the signer holds for follows it (before the next)."""
    text = unicodedata.normalize("NFC", text)
    spans = [m.span() for m in _TOKEN.finditer(text)]
    ends = [b for _, b in spans]
    nexts = [a for a, _ in spans[1:]] + [len(text)]
    return [i < len(spans) - 1 and any(c in _PAUSE_MARKS for c in text[end:nxt])
            for i, (end, nxt) in enumerate(zip(ends, nexts, strict=True))]


def is_gloss_text(text: str) -> bool:
    """Text in capitals (``HALLO WIE GEHT-ES DIR``): glosses, not a sentence."""
    words = [t for t in tokenize(text) if not t.isdigit()]
    return bool(words) and any(len(w) > 1 for w in words) and all(w == w.upper() and w != w.lower() for w in words)


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
    if not digits.isdecimal() or len(digits) > MAX_WHOLE_NUMBER_DIGITS or (len(digits) > 1 and digits[0] == "0"):
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

    def __init__(self, lexicon: Lexicon, spoken_language: str, signed_language: str, lemmatise: bool = True,
                 synonyms: bool = True) -> None:
        self.lexicon = lexicon
        self.spoken = spoken_language.strip()
        self.signed = signed_language.strip()
        self.alphabet = lexicon.alphabet(self.spoken, self.signed)
        #: False only to measure what lemmas and synonyms add (``bench draft``'s hit rate).
        self.lemmatise = lemmatise
        self.synonyms = synonyms

    def check_languages(self) -> list[str]:
        """Warnings about the language pair; DraftError when the signed language has nothing at all."""
        if self.signed not in self.lexicon.signed_languages():
            known = ", ".join(self.lexicon.signed_languages()) or "none (is a lexicon folder set?)"
            raise DraftError(f"the lexicon has no signs for signed language {self.signed!r}; known: {known}")
        warnings = list(self.lexicon.problems)
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
        pauses = pauses_after_tokens(text)
        glosses = is_gloss_text(text)
        i = 0
        while i < len(tokens):
            before = len(plan.signs)
            for size in range(min(MAX_PHRASE_TOKENS, len(tokens) - i), 1, -1):
                if any(pauses[i : i + size - 1]):  # "gut. Morgen" is two sentences, never the phrase GUTEN-MORGEN
                    continue
                entry = self._word_entry(" ".join(tokens[i : i + size]))
                if entry is not None:
                    plan.signs.append(PlannedSign(entry.gloss, entry, " ".join(tokens[i : i + size]), "sign"))
                    i += size
                    break
            else:
                if not (glosses and self._gloss(tokens[i], plan)):
                    self._token(tokens[i], plan)
                i += 1
            if pauses[i - 1] and len(plan.signs) > before:
                plan.signs[-1] = replace(plan.signs[-1], pause_after=True)
        if not any(s.entry is not None for s in plan.signs):
            raise DraftError("no word of the text could be signed: " + "; ".join(plan.warnings))
        return plan

    def _gloss(self, gloss: str, plan: DraftPlan) -> bool:
        """A typed gloss signed by the signed language's entry glossed so (its parts, for ``GEHT-ES``); False
        when there is none, so the gloss is treated as a word."""
        entry = self.lexicon.lookup_gloss(gloss, self.signed)
        if entry is not None:
            plan.signs.append(PlannedSign(entry.gloss, entry, gloss, "sign"))
            return True
        parts = [p for p in re.split(r"[\-+]", gloss) if p]
        entries = [self.lexicon.lookup_gloss(p, self.signed) for p in parts]
        if len(parts) > 1 and all(entries):
            plan.signs.extend(PlannedSign(e.gloss, e, gloss, "sign") for e in entries if e is not None)
            return True
        return False

    def _token(self, token: str, plan: DraftPlan) -> None:
        if token.isdecimal():  # "²" or "፫" are digits but no decimal number: int() refuses them
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
            entry = self._synonym_entry(token, plan)
        if entry is None:
            entry = self._stem_entry(token, plan)
        if entry is not None:
            plan.signs.append(PlannedSign(entry.gloss, entry, token, "sign"))
            return
        parts = self._compound(token)
        if parts:
            plan.warnings.append(f"{token!r} is not in the lexicon: signed as the compound "
                                 f"{' '.join(e.gloss for e in parts)}")
            plan.signs.extend(PlannedSign(e.gloss, e, token, "sign") for e in parts)
            return
        self._fingerspell(token, plan)

    def _signed_word(self, word: str) -> LexiconEntry | None:
        """A word's sign, by itself or its lemma (no letters, no guessing of endings)."""
        entry = self.lexicon.lookup(word, self.spoken, self.signed, letters=False)
        if entry is None and self.lemmatise:
            base = lemma(word, self.spoken)
            if normalise_term(base) != normalise_term(word):
                entry = self.lexicon.lookup(base, self.spoken, self.signed, letters=False)
        return entry

    def _compound(self, token: str, depth: int = 0) -> list[LexiconEntry]:
        """Signs of a compound's parts, longest first part first ("Kinderpizza" -> KIND PIZZA), each part a
        signed word, linking letters allowed between parts; empty when no split into signed words exists."""
        if depth > 2:
            return []
        for cut in range(len(token) - MIN_COMPOUND_PART, MIN_COMPOUND_PART - 1, -1):
            head = self._signed_word(token[:cut])
            if head is None:
                continue
            rest = token[cut:]
            for link in COMPOUND_LINKS:
                if not rest.casefold().startswith(link) or len(rest) - len(link) < MIN_COMPOUND_PART:
                    continue
                tail = rest[len(link):]
                whole = self._signed_word(tail) or self._signed_word(tail.capitalize())
                if whole is not None:
                    return [head, whole]
                more = self._compound(tail, depth + 1) or self._compound(tail.capitalize(), depth + 1)
                if more:
                    return [head, *more]
        return []

    def _synonym_entry(self, token: str, plan: DraftPlan) -> LexiconEntry | None:
        """The sign of a synonym of the word or of its lemma (the lexicon's ``synonyms.csv``), with a warning
        naming it: a group the lexicon's owners wrote beats guessing an ending or a compound split."""
        if not self.synonyms:
            return None
        words = [token, lemma(token, self.spoken)] if self.lemmatise else [token]
        for word in dict.fromkeys(words):
            for synonym in self.lexicon.thesaurus.synonyms(word, self.spoken):
                entry = self._signed_word(synonym)
                if entry is not None:
                    plan.warnings.append(f"{token!r} is not in the lexicon: signed as {entry.gloss!r} "
                                         f"(synonym {synonym!r})")
                    return entry
        return None

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


def lexicon_hit_rate(lexicon: Lexicon, sentences: Iterable[tuple[str, str, str]], lemmatise: bool = True,
                     synonyms: bool = True) -> float:
    """Share of the words (numerals aside) signed by a lexicon sign rather than fingerspelled or left as gaps."""
    hits = words = 0
    for text, spoken, signed in sentences:
        try:
            plan = Planner(lexicon, spoken, signed, lemmatise=lemmatise, synonyms=synonyms).plan(text)
        except DraftError:
            plan = DraftPlan()
        words += sum(1 for t in tokenize(text) if not t.isdigit())
        signed_words = [s.word for s in plan.signs if s.kind == "sign" and not s.word.isdigit()]
        # A compound's parts share their word: count it once.
        hits += sum(len(tokenize(w)) for k, w in enumerate(signed_words) if k == 0 or w != signed_words[k - 1])
    return hits / words if words else 0.0
