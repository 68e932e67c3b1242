"""SignSparK LMDB databases (the How2Sign / CSL-Daily releases' layout) as a training corpus.

``--data`` of ``signeditor train`` may name, instead of a ``signeditor data build`` corpus:

* their documented data root, ``DATA_ROOT`` or ``DATA_ROOT/lmdb``, whose split folders (``train/``, ``dev/`` or
  ``val/``, ``test/``) hold any number of databases (``lmdb/train/CSL-Daily_reopt_train.lmdb``, ...), every one
  of them read;
* a folder whose split folders are themselves databases;
* a single database.

Without a validation database (a single database, or only ``train/``), a tenth of the training clips (at least
one), chosen by a hash of the clip id, is held out as the validation split, so validation is never empty and a
clip never sits in both. Streams are mapped as the importer maps them (:mod:`signeditor.io.signspark`),
``__meta__`` is read with the restricted unpickler, and ``segment`` becomes the per-frame tags (unknown where a
record has none).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
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


def corpus_root(path: Path) -> Path:
    """``DATA_ROOT`` -> ``DATA_ROOT/lmdb`` when that is where the split folders are (their README's layout)."""
    return path / "lmdb" if not is_lmdb(path) and (path / "lmdb").is_dir() else path


def is_signspark_corpus(path: Path) -> bool:
    path = corpus_root(path)
    return is_lmdb(path) or any(_folder_databases(path / name) for names in SPLIT_FOLDERS.values() for name in names)


def _folder_databases(folder: Path) -> list[Path]:
    """The split folder itself when it is a database, else every ``*.lmdb`` database below it."""
    if is_lmdb(folder):
        return [folder]
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.rglob("*.lmdb") if is_lmdb(p))


def split_databases(path: Path, split: str) -> list[Path]:
    """The databases holding ``split`` (a single database is the train split); empty when there are none."""
    path = corpus_root(path)
    if is_lmdb(path):
        return [path] if split == "train" else []
    return next((found for name in SPLIT_FOLDERS[split] if (found := _folder_databases(path / name))), [])


def held_out_ids(clip_ids: Sequence[str], fraction: float = 0.1) -> set[str]:
    """The clip ids held out for validation: ``fraction`` of them (at least one, never all), those with the
    smallest hash of the id, so a clip keeps its side when others are added."""
    if len(clip_ids) < 2:
        return set()
    n = min(len(clip_ids) - 1, max(1, round(len(clip_ids) * fraction)))
    return set(sorted(clip_ids, key=lambda c: hashlib.sha1(c.encode("utf-8")).hexdigest())[:n])


def signspark_clips(path: Path, split: str,
                    shard: Callable[[list[str]], list[str]] | None = None) -> list[SignSparkClip]:
    """The split's records (only this rank's ``shard`` of the record ids is decoded)."""
    from signeditor.io.signspark import read_signspark_lmdb

    databases = split_databases(path, split)
    own_validation = split in ("train", "val") and not split_databases(path, "val")
    if split == "val" and own_validation:
        databases = split_databases(path, "train")
    keep = shard or (lambda ids: ids)

    def select(ids: list[str]) -> list[str]:
        if own_validation:
            held = held_out_ids(ids)
            ids = [i for i in ids if (i in held) == (split == "val")]
        return keep(ids)

    clips = []
    for database in databases:
        for record in read_signspark_lmdb(database, select=select):
            labels = np.asarray(record.segment, dtype=np.int8)
            if labels.shape != (record.motion.n_frames,):
                labels = np.full(record.motion.n_frames, -1, np.int8)
            clips.append(SignSparkClip(record.clip_id, record.motion.features.astype(np.float32), labels,
                                       record.translation, record.language, record.gloss.split()))
    return clips
