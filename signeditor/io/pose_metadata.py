"""The ``*_metadata.json`` that corpora put beside a ``.pose`` file: its translation and language.

The shared DGS sentences (Public DGS Corpus, via fluent-pose-synthesis) name it after the recording's stem less
its last ``_part`` (``train_1_original.pose`` -> ``train_1_metadata.json``) and keep the sentence under
``sentence`` with ``german`` and ``english`` texts. A German text from such a file means German Sign Language
(``gsg``, the corpus' language). A file may also say ``text``/``translation``, ``spoken_language`` and
``signed_language`` itself; what it says wins. A missing or unreadable file just gives nothing: the metadata
only fills in what the recording does not say.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

#: Spoken-language keys of the DGS Corpus metadata, in order of preference: (key, spoken tag, signed tag).
SENTENCE_LANGUAGES: tuple[tuple[str, str, str], ...] = (("german", "de", "gsg"), ("english", "en", ""))
_MAX_BYTES = 1 << 20


@dataclass(frozen=True)
class PoseMetadata:
    text: str = ""
    spoken_language: str = ""
    signed_language: str = ""


def metadata_path(pose_path: Path) -> Path | None:
    """``X_metadata.json`` beside ``X.pose``, else beside it for the stem less trailing ``_part``s."""
    stem = pose_path.stem
    while stem:
        candidate = pose_path.with_name(f"{stem}_metadata.json")
        if candidate.is_file():
            return candidate
        stem = stem.rpartition("_")[0]
    return None


def read_pose_metadata(pose_path: str | Path) -> PoseMetadata:
    path = metadata_path(Path(pose_path))
    if path is None or path.stat().st_size > _MAX_BYTES:
        return PoseMetadata()
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError):
        return PoseMetadata()
    if not isinstance(document, dict):
        return PoseMetadata()
    sentence = document.get("sentence")
    sentence = sentence if isinstance(sentence, dict) else {}

    def said(key: str) -> str:
        value = document.get(key, sentence.get(key))
        return value.strip() if isinstance(value, str) else ""

    text, spoken, signed = said("translation") or said("text"), said("spoken_language"), said("signed_language")
    if not text:
        for key, spoken_tag, signed_tag in SENTENCE_LANGUAGES:
            if said(key):
                text, spoken, signed = said(key), spoken or spoken_tag, signed or signed_tag
                break
    return PoseMetadata(text, spoken, signed)
