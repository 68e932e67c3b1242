"""The one form in which words, glosses and synonyms are compared (lexicon lookups, synonym groups)."""

from __future__ import annotations

import unicodedata


def normalise_term(text: str) -> str:
    """The form terms are matched in: Unicode NFC (so a decomposed "Ä" equals a composed one), case-folded."""
    return unicodedata.normalize("NFC", text).strip().casefold()
