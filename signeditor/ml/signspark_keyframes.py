"""SignSparK's custom keyframe file: the exact keyframes of exported clips, for their loader's selection mode 999.

Their loader derives keyframes from segment labels by splitting only at non-sign (0) frames, so two signs with
no rest frame between them merge into one segment and lose their inner keyframes (an offset directly followed
by the next onset cannot be told apart by labels at all). Mode 999 instead loads the file with torch and looks up
``[split][clip]``, a sorted list of frame indices; we write it beside every SignSparK export with our anchors'
frames, for every split, so the clip can sit in any split folder. Plain dicts of ints load with ``weights_only=True``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path

import torch

from signeditor.io.atomic import atomic_writer
from signeditor.io.errors import FileFormatError

SPLITS: tuple[str, ...] = ("train", "dev", "test")
#: The merged keyframe file of a data root, beside its split folders (``DATA_ROOT/lmdb/keyframes.pt``).
LAYOUT_KEYFRAME_NAME = "keyframes.pt"


def keyframe_file_path(export_path: str | Path) -> Path:
    """``take.signspark.npz`` -> ``take.keyframes.pt``; ``corpus.lmdb`` -> ``corpus.keyframes.pt``."""
    from signeditor.io.formats import document_name

    path = Path(export_path)
    return path.with_name(document_name(path) + ".keyframes.pt")


def write_keyframe_file(path: str | Path, keyframes: Mapping[str, Iterable[int]]) -> None:
    by_clip = {str(clip): sorted({int(f) for f in frames}) for clip, frames in keyframes.items()}
    with atomic_writer(path) as handle:
        torch.save({split: dict(by_clip) for split in SPLITS}, handle)


def read_keyframe_file(path: str | Path) -> dict[str, dict[str, list[int]]]:
    """The file's ``{split: {clip: frames}}``; FileFormatError naming the file when torch cannot read it as data."""
    path = Path(path)
    try:
        return torch.load(path, weights_only=True)
    except Exception as exc:  # a foreign or crafted file: torch raises many types (UnpicklingError for code)
        raise FileFormatError(path, f"not a SignSparK keyframe file ({type(exc).__name__}: {exc})") from exc


def layout_keyframe_file(root: str | Path) -> Path:
    """The one keyframe file of a SignSparK data root (``DATA_ROOT/lmdb/keyframes.pt``), for every database in it."""
    return Path(root) / "lmdb" / LAYOUT_KEYFRAME_NAME


def stored_keyframes(export_path: str | Path, clip_id: str) -> list[int] | None:
    """The keyframes we stored for ``clip_id`` of an exported file, or None when no keyframe file has the clip.

    Looked up beside the file (``take.keyframes.pt``) and, for a database in a split folder of a data root
    (``lmdb/<split>/X.lmdb``), in the root's merged file. A file that cannot be read is ignored: the labels still
    give anchors.
    """
    path = Path(export_path)
    candidates = [keyframe_file_path(path)]
    if path.parent.name in SPLITS:
        candidates.append(path.parent.parent / LAYOUT_KEYFRAME_NAME)
    for candidate in candidates:
        if not candidate.is_file():
            continue
        try:
            by_split = read_keyframe_file(candidate)
        except Exception:  # torch raises many kinds for a damaged or hostile file
            continue
        splits = [path.parent.name, *SPLITS] if path.parent.name in SPLITS else list(SPLITS)
        for split in splits:
            frames = by_split.get(split, {}).get(clip_id) if isinstance(by_split, dict) else None
            if frames is not None:
                return sorted({int(f) for f in frames})
    return None
