"""SignSparK LMDB databases (the How2Sign / CSL-Daily releases' layout) as a training corpus.

``--data`` of ``signeditor train`` may name such a database instead of a
``signeditor data build`` corpus: either a folder holding one database per
split (``train/``, ``val/`` or ``dev/``, ``test/``) or a single database,
which is then the training split. Streams are mapped as the importer maps
them (:mod:`signeditor.io.signspark`), ``__meta__`` is read with the
restricted unpickler, and ``segment`` becomes the per-frame tags (unknown
where a record has none).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

#: Folder names a split's database may have (SignSparK's releases call validation "dev").
SPLIT_FOLDERS: dict[str, tuple[str, ...]] = {"train": ("train",), "val": ("val", "dev"), "test": ("test",)}


@dataclass
class SignSparkClip:
    """One record as training material: 25 fps features, tags (-1 unknown), text, glosses, language."""

    id: str
    features: np.ndarray
    labels: np.ndarray
    text: str
    signed_language: str
    glosses: list[str] = field(default_factory=list)


def is_lmdb(path: Path) -> bool:
    """A database folder (data.mdb inside) or a database file (opened with subdir=False)."""
    return (path / "data.mdb").is_file() or (path.is_file() and path.suffix in (".mdb", ".lmdb"))


def is_signspark_corpus(path: Path) -> bool:
    return is_lmdb(path) or any(is_lmdb(path / name) for names in SPLIT_FOLDERS.values() for name in names)


def split_database(path: Path, split: str) -> Path | None:
    """The database holding ``split``, or None when the corpus has none (a single database is the train split)."""
    if is_lmdb(path):
        return path if split == "train" else None
    return next((path / name for name in SPLIT_FOLDERS[split] if is_lmdb(path / name)), None)


def signspark_clips(path: Path, split: str,
                    shard: Callable[[list[str]], list[str]] | None = None) -> list[SignSparkClip]:
    """The split's records (only this rank's ``shard`` of the record ids is decoded)."""
    from signeditor.io.signspark import read_signspark_lmdb

    database = split_database(path, split)
    if database is None:
        return []
    clips = []
    for record in read_signspark_lmdb(database, select=shard):
        labels = np.asarray(record.segment, dtype=np.int8)
        if labels.shape != (record.motion.n_frames,):
            labels = np.full(record.motion.n_frames, -1, np.int8)
        clips.append(SignSparkClip(record.clip_id, record.motion.features.astype(np.float32), labels,
                                   record.translation, record.language, record.gloss.split()))
    return clips
