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


def keyframe_file_path(export_path: str | Path) -> Path:
    """``take.signspark.npz`` -> ``take.keyframes.pt``; ``corpus.lmdb`` -> ``corpus.keyframes.pt``."""
    path = Path(export_path)
    return path.with_name(path.name.split(".")[0] + ".keyframes.pt")


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
