"""SignSparK's documented data layout, so their ``train.py`` reads our clips with their config unchanged.

Their loader globs ``${DATA_ROOT}/lmdb/<split>/*.lmdb`` for the splits ``train`` and ``dev`` (``test`` for
sampling), keeps the databases whose path contains a name listed in ``train_data`` / ``dev_data`` (their
README: ``CSL-Daily_reopt_train.lmdb``), and takes one ``custom_keyframe_file`` for every database, looked up as
``[split][clip_id]``. So a layout is: ``DATA_ROOT/lmdb/train/<Name>_train.lmdb``,
``DATA_ROOT/lmdb/dev/<Name>_dev.lmdb`` and ``DATA_ROOT/lmdb/keyframes.pt`` holding every clip in every split
(a database can then be moved between split folders); clip ids are unique across the layout.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from signeditor.data.signspark_corpus import held_out_ids
from signeditor.io.atomic import write_bytes_atomically
from signeditor.io.signspark import SignSparkRecord, write_signspark_lmdb_atomically
from signeditor.ml.signspark_keyframes import layout_keyframe_file, write_keyframe_file

#: The splits their training reads (``train.py`` loads ``train`` and ``dev``).
LAYOUT_SPLITS: tuple[str, ...] = ("train", "dev")


@dataclass(frozen=True)
class LayoutClip:
    record: SignSparkRecord
    keyframes: list[int]


@dataclass(frozen=True)
class Layout:
    databases: dict[str, Path]
    keyframe_file: Path
    #: The ``train.py`` overrides that select this data (their README's "common overrides").
    overrides: str


def split_of_clips(clip_ids: Sequence[str], dev_fraction: float) -> dict[str, list[str]]:
    """Clip ids per split, dev chosen as ``signeditor train`` holds out validation clips (a hash of the id); a
    single clip goes to both (their training needs a dev set)."""
    if len(clip_ids) < 2:
        return {"train": list(clip_ids), "dev": list(clip_ids)}
    dev = held_out_ids(clip_ids, dev_fraction)
    return {"train": [c for c in clip_ids if c not in dev], "dev": [c for c in clip_ids if c in dev]}


def write_signspark_layout(clips: Sequence[LayoutClip], root: str | Path, name: str,
                           dev_fraction: float = 0.1) -> Layout:
    """Write ``clips`` under ``root`` (their ``DATA_ROOT``) in SignSparK's layout; raises ValueError for repeated
    clip ids or a name their substring match would not find."""
    root = Path(root)
    ids = [c.record.clip_id for c in clips]
    repeated = sorted({i for i in ids if ids.count(i) > 1})
    if repeated:
        raise ValueError(f"clip ids must be unique in a SignSparK layout, repeated: {repeated}")
    if not name or "/" in name or name in LAYOUT_SPLITS:
        raise ValueError(f"{name!r} cannot name the databases (their train_data/dev_data lists match it)")
    by_id = {c.record.clip_id: c for c in clips}
    databases = {}
    for split, split_ids in split_of_clips(ids, dev_fraction).items():
        databases[split] = root / "lmdb" / split / f"{name}_{split}.lmdb"
        write_signspark_lmdb_atomically([by_id[i].record for i in split_ids], databases[split])
    keyframe_file = layout_keyframe_file(root)
    write_keyframe_file(keyframe_file, {c.record.clip_id: c.keyframes for c in clips})
    overrides = (f"DATA_ROOT={root.resolve()} python train.py data_v2=full train_data='[{name}]' "
                 f"dev_data='[{name}]' custom_keyframe_file={keyframe_file.resolve()}")
    write_bytes_atomically(root / "SIGNSPARK.txt", (
        f"SignSparK data written by SignEditor: {len(clips)} clips, {name!r}.\n"
        f"Train with (from their repository):\n  {overrides}\n").encode())
    return Layout(databases, keyframe_file, overrides)
