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
from signeditor.io.errors import FileFormatError
from signeditor.io.safe_pickle import UnsafePickleError, loads_plain_data

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
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:  # torch.save's layout, tensors aside
        archive.writestr("archive/data.pkl", pickle.dumps({split: dict(by_clip) for split in SPLITS}, protocol=2))
        archive.writestr("archive/byteorder", "little")
        archive.writestr("archive/version", "3\n")
    write_bytes_atomically(path, buffer.getvalue())


def read_keyframe_file(path: str | Path) -> dict[str, dict[str, list[int]]]:
    """The file's ``{split: {clip: frames}}``, read without torch and without running code.

    torch's zip container is opened and its ``data.pkl`` read by the plain-data unpickler (no globals at all:
    dicts, lists, strings and ints are all a keyframe file holds); a file that is not such a container, or whose
    pickle needs anything else (a tensor, a callable), is refused with FileFormatError naming it.
    """
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            member = next((n for n in archive.namelist() if n.endswith("/data.pkl") or n == "data.pkl"), None)
            if member is None:
                raise FileFormatError(path, "not a SignSparK keyframe file (no data.pkl in the torch container)")
            value = loads_plain_data(archive.read(member))
    except (OSError, zipfile.BadZipFile) as exc:
        raise FileFormatError(path, f"not a SignSparK keyframe file ({type(exc).__name__}: {exc})") from exc
    except UnsafePickleError as exc:
        raise FileFormatError(path, f"not a SignSparK keyframe file: {exc}") from exc
    if not isinstance(value, dict):
        raise FileFormatError(path, "not a SignSparK keyframe file: expected a dict of splits")
    return value


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
        except FileFormatError:  # a damaged or hostile file: the labels still give anchors
            continue
        splits = [path.parent.name, *SPLITS] if path.parent.name in SPLITS else list(SPLITS)
        for split in splits:
            frames = by_split.get(split, {}).get(clip_id) if isinstance(by_split, dict) else None
            if frames is not None:
                return sorted({int(f) for f in frames})
    return None
