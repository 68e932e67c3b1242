"""SignSparK's custom keyframe file: the exact keyframes of exported clips, for their loader's selection mode 999.

Their loader derives keyframes from segment labels by splitting only at non-sign (0) frames, so two signs with
no rest frame between them merge into one segment and lose their inner keyframes (an offset directly followed
by the next onset cannot be told apart by labels at all). Mode 999 instead loads the file with torch and looks up
``[split][clip]``, a sorted list of frame indices; we write it beside every SignSparK export with our anchors'
frames, for every split, so the clip can sit in any split folder. Plain dicts of ints load with ``weights_only=True``.

The file is written without torch (the editor does not install it): torch's zip container holds only a pickle
of plain dicts, lists and ints here (no tensors), which ``torch.load(weights_only=True)`` reads as it reads
``torch.save``'s own.
"""

from __future__ import annotations

import io
import pickle
import zipfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from signeditor.io.atomic import write_bytes_atomically

SPLITS: tuple[str, ...] = ("train", "dev", "test")


def keyframe_file_path(export_path: str | Path) -> Path:
    """``take.signspark.npz`` -> ``take.keyframes.pt``; ``corpus.lmdb`` -> ``corpus.keyframes.pt``."""
    path = Path(export_path)
    return path.with_name(path.name.split(".")[0] + ".keyframes.pt")


def write_keyframe_file(path: str | Path, keyframes: Mapping[str, Iterable[int]]) -> None:
    by_clip = {str(clip): sorted({int(f) for f in frames}) for clip, frames in keyframes.items()}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:  # torch.save's layout, tensors aside
        archive.writestr("archive/data.pkl", pickle.dumps({split: dict(by_clip) for split in SPLITS}, protocol=2))
        archive.writestr("archive/byteorder", "little")
        archive.writestr("archive/version", "3\n")
    write_bytes_atomically(path, buffer.getvalue())


def read_keyframe_file(path: str | Path) -> dict[str, dict[str, list[int]]]:
    """As SignSparK's loader reads it (needs torch)."""
    import torch

    return torch.load(Path(path), weights_only=True)
