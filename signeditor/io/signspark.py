"""SignSparK records: per-clip ``.npz`` blobs (and LMDB databases of them) in their schema.

Fields: ``language``, ``translation``, ``gloss`` (1,) strings; ``segment`` (T,)
0 non-sign / 1 in-sign / 2 sign-start; ``left_features``/``right_features``
(T, 90) rot6D; ``body_features`` (T, 126) all 21 SMPL-X body joints (their
loader keeps the last 10); ``face_features`` (T, 56) jaw 6D + 50 expression.
Strings are stored as numpy unicode arrays, so no pickle is needed to read a
record; records that store them as object arrays (their loader reads with
``allow_pickle=True``) are decoded as strings without general unpickling, and
the LMDB ``__meta__`` pickle is read with a restricted unpickler.

The 50 expression values: a motion with SMPL-X expression coefficients keeps
them. A motion with only SignEditor's face channel (29 named weights in
[0, 1], :data:`signeditor.core.face.FACE_PARAMETERS`) writes those weights, in
that order, into expression values 0..28 and zeros into 29..49, and marks the
record with ``expression_kind = "signeditor-face"`` (an extra field SignSparK's
loader ignores), so a model trained on such records learns our face channel;
these values are not FLAME coefficients, so do not mix such records with
SMPL-X-fitted ones in one face-stream training. Reading a marked record
restores the face channel.
"""

from __future__ import annotations

import io
import pickle
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from signeditor.core.face import FACE_DIM
from signeditor.core.motion import IDENTITY_6D, STREAM_SLICES, Motion, MotionError
from signeditor.io.atomic import atomic_writer
from signeditor.io.errors import FileFormatError, read_file_bytes
from signeditor.io.safe_pickle import UnsafePickleError, loads_plain_data
from signeditor.io.validation import load_npz, numeric_array, validate_motion

SIGNSPARK_FPS = 25.0
N_BODY_JOINTS = 21
N_EXPRESSION = 50
#: ``expression_kind`` of a record whose expression values hold SignEditor's face channel (see the module text).
FACE_CHANNEL_KIND = "signeditor-face"
#: Fields that are text; other tools may store them as object arrays of strings.
TEXT_FIELDS = ("language", "translation", "gloss", "expression_kind")


@dataclass
class SignSparkRecord:
    clip_id: str
    motion: Motion
    segment: np.ndarray
    language: str = ""
    translation: str = ""
    gloss: str = ""


def record_arrays(record: SignSparkRecord) -> dict[str, np.ndarray]:
    motion = record.motion
    n = motion.n_frames
    body = np.tile(IDENTITY_6D, (n, N_BODY_JOINTS))
    body[:, -60:] = motion.stream("body")
    face = np.zeros((n, 6 + N_EXPRESSION), np.float32)
    face[:, :6] = motion.stream("jaw")
    kind = {}
    if motion.expression is not None:
        k = min(N_EXPRESSION, motion.expression.shape[1])
        face[:, 6:6 + k] = motion.expression[:, :k]
    elif motion.face is not None:
        face[:, 6:6 + FACE_DIM] = motion.face
        kind = {"expression_kind": np.array([FACE_CHANNEL_KIND])}
    return {**kind,
        "language": np.array([record.language]), "translation": np.array([record.translation]),
        "gloss": np.array([record.gloss]), "segment": np.asarray(record.segment, dtype=np.int64),
        "left_features": motion.stream("left_hand").astype(np.float32),
        "right_features": motion.stream("right_hand").astype(np.float32),
        "body_features": body.astype(np.float32), "face_features": face,
    }


def record_bytes(record: SignSparkRecord) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **record_arrays(record))
    return buf.getvalue()


def write_signspark_record(record: SignSparkRecord, path: str | Path) -> None:
    with atomic_writer(path) as handle:
        handle.write(record_bytes(record))


def record_from_bytes(data: bytes, clip_id: str, source: str | Path) -> SignSparkRecord:
    arrays = load_npz(data, source, f"record {clip_id!r}", string_keys=TEXT_FIELDS)
    required = ("left_features", "right_features", "body_features")
    missing = [k for k in required if k not in arrays]
    if missing:
        raise FileFormatError(source, f"record {clip_id!r} lacks {missing}")
    for key in (*required, "face_features", "segment"):
        if key in arrays:
            arrays[key] = numeric_array(arrays[key], f"{clip_id}: {key}", source, np.float32 if key != "segment"
                                        else np.int64)
            if arrays[key].ndim != (1 if key == "segment" else 2):
                raise FileFormatError(source, f"record {clip_id!r}: {key} has shape {arrays[key].shape}")
    n = arrays["left_features"].shape[0]
    try:
        streams = {
            "left_hand": arrays["left_features"][:, :90], "right_hand": arrays["right_features"][:, :90],
            "body": arrays["body_features"][:, -60:],
        }
        expression = face = None
        if "face_features" in arrays and arrays["face_features"].shape[1] >= 6:
            streams["jaw"] = arrays["face_features"][:, :6]
            expression = arrays["face_features"][:, 6:].astype(np.float32)
            if _text(arrays, "expression_kind") == FACE_CHANNEL_KIND and expression.shape[1] >= FACE_DIM:
                expression, face = None, expression[:, :FACE_DIM]
        for name, values in streams.items():
            if values.shape != (n, STREAM_SLICES[name].stop - STREAM_SLICES[name].start):
                raise FileFormatError(source, f"record {clip_id!r}: {name} has shape {values.shape}")
        face = None if face is None else np.clip(face, 0.0, 1.0)
        motion = validate_motion(Motion.from_streams(SIGNSPARK_FPS, streams, expression=expression, face=face),
                                 source)
    except (MotionError, IndexError, ValueError) as exc:
        if isinstance(exc, FileFormatError):
            raise
        raise FileFormatError(source, f"record {clip_id!r}: {exc}") from exc
    segment = arrays.get("segment", np.full(n, -1))
    if segment.shape != (n,):
        raise FileFormatError(source, f"record {clip_id!r}: segment has {segment.shape}, expected ({n},)")

    return SignSparkRecord(clip_id, motion, segment.astype(np.int64), _text(arrays, "language"),
                           _text(arrays, "translation"), _text(arrays, "gloss"))


def _text(arrays: dict[str, np.ndarray], key: str) -> str:
    value = arrays.get(key)
    return str(value.reshape(-1)[0]) if value is not None and value.size else ""


def read_signspark_record(path: str | Path) -> SignSparkRecord:
    path = Path(path)
    return record_from_bytes(read_file_bytes(path), path.stem, path)


def write_signspark_lmdb(records: list[SignSparkRecord], path: str | Path) -> None:
    import lmdb

    path = Path(path)
    size = sum(len(record_bytes(r)) for r in records) * 2 + (1 << 20)
    env = lmdb.open(str(path), map_size=size)
    with env.begin(write=True) as txn:
        ids = []
        for record in records:
            txn.put(record.clip_id.encode("utf-8"), record_bytes(record))
            ids.append(record.clip_id)
        txn.put(b"__meta__", pickle.dumps({"clip_ids": ids, "num_clips": len(ids)}))
    env.close()


def write_signspark_lmdb_atomically(records: list[SignSparkRecord], path: str | Path) -> None:
    """Write the database into a temporary folder beside ``path``, then rename it: never a partial database."""
    import shutil
    import tempfile

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{path.name}.", dir=path.parent))
    try:
        write_signspark_lmdb(records, staging / path.name)
        if path.is_dir():
            shutil.rmtree(path)
        (staging / path.name).rename(path)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def read_signspark_lmdb(path: str | Path,
                        select: Callable[[list[str]], list[str]] | None = None) -> list[SignSparkRecord]:
    """Every record listed in ``__meta__`` (or those ``select`` keeps of the listed ids, decoding only them);
    the database is read in a child process (see ``lmdb_dump``)."""
    from signeditor.io.lmdb_dump import read_lmdb_items

    path = Path(path)
    items = read_lmdb_items(path)
    raw_meta = items.get(b"__meta__")
    if raw_meta is None:
        raise FileFormatError(path, "no __meta__ key: not a SignSparK database")
    try:
        meta = loads_plain_data(raw_meta)
    except UnsafePickleError as exc:
        raise FileFormatError(path, f"__meta__ refused: {exc}") from exc
    if not isinstance(meta, dict) or not isinstance(meta.get("clip_ids"), list):
        raise FileFormatError(path, "__meta__ has no clip_ids list")
    records = []
    clip_ids = [str(c) for c in meta["clip_ids"]]
    for clip_id in select(clip_ids) if select is not None else clip_ids:
        raw = items.get(str(clip_id).encode("utf-8"))
        if raw is None:
            raise FileFormatError(path, f"clip {clip_id!r} is listed in __meta__ but missing")
        records.append(record_from_bytes(raw, str(clip_id), path))
    return records
