"""Checks every importer shares: pickle-free npz reading, numeric arrays, and a motion that is safe to edit.

Importers see files from anywhere; these helpers turn every way such input
can be wrong (a damaged zip, a string where numbers belong, NaN in an
expression, a rotation that is all zeros) into a FileFormatError naming the
file, instead of an exception deep inside numpy or the renderer later.
"""

from __future__ import annotations

import io
import tokenize
import zipfile
import zlib
from collections.abc import Collection
from pathlib import Path

import numpy as np

from signeditor.core.motion import STREAM_SLICES, STREAMS, Motion
from signeditor.io.errors import FileFormatError, read_file_bytes

#: What a damaged or hostile npz/zip raises while being read.
ARCHIVE_ERRORS: tuple[type[BaseException], ...] = (
    ValueError, OSError, EOFError, KeyError, zipfile.BadZipFile, zlib.error, NotImplementedError,
    tokenize.TokenError, SyntaxError, MemoryError,  # numpy parses .npy headers as Python literals
)


def load_npz(source: bytes | str | Path, path: str | Path, what: str = "npz",
             string_keys: Collection[str] = ()) -> dict[str, np.ndarray]:
    """Every array of an ``.npz``, or a FileFormatError; never unpickling.

    Object arrays are refused with their name, except those named in ``string_keys``: other tools store text as
    object arrays of strings, which are decoded by :func:`~signeditor.io.safe_pickle.loads_string_array` (numpy's
    array constructors only, every item checked to be a string).
    """
    data = read_file_bytes(source) if isinstance(source, str | Path) else source
    try:
        _check_declared_sizes(data, path)
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {}
            for key in npz.files:
                try:
                    arrays[key] = npz[key]
                except ValueError as exc:
                    if "allow_pickle" not in str(exc):
                        raise
                    arrays[key] = _object_strings(data, key, path, what, string_keys)
            return arrays
    except FileFormatError:
        raise
    except ARCHIVE_ERRORS as exc:
        raise FileFormatError(path, f"not a readable, pickle-free {what} ({type(exc).__name__}: {exc})") from exc


def _object_strings(data: bytes, key: str, path: str | Path, what: str, string_keys: Collection[str]) -> np.ndarray:
    """Member ``key`` (an object array) decoded as strings when ``string_keys`` allows it, else refused."""
    from signeditor.io.safe_pickle import UnsafePickleError, loads_string_array

    if key not in string_keys:
        raise FileFormatError(path, f"{what}: '{key}' is an object array (a pickle), which is not read; store it "
                                    "as numbers or as a numpy string array")
    with zipfile.ZipFile(io.BytesIO(data)) as zf, zf.open(f"{key}.npy") as member:
        version = np.lib.format.read_magic(member)
        (np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0)(member)
        payload = member.read()
    try:
        return loads_string_array(payload)
    except UnsafePickleError as exc:
        raise FileFormatError(path, f"{what}: '{key}' refused: {exc}") from exc


def _check_declared_sizes(data: bytes, path: str | Path) -> None:
    """Refuse members whose header claims more data than they hold.

    numpy allocates the declared shape before reading, so a damaged header
    (a flipped bit in the shape) would otherwise ask for gigabytes.
    """
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        for info in zf.infolist():
            if not info.filename.endswith(".npy"):
                continue
            with zf.open(info) as member:
                version = np.lib.format.read_magic(member)
                if version not in ((1, 0), (2, 0), (3, 0)):
                    raise FileFormatError(path, f"{info.filename}: unsupported .npy version {version}")
                header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                          else np.lib.format.read_array_header_2_0)(member)
                shape, _fortran, dtype = header
                header_bytes = member.tell()
            needed = int(np.prod(shape, dtype=np.float64)) * dtype.itemsize
            if dtype.hasobject:
                continue  # np.load refuses these itself (allow_pickle=False)
            if needed > info.file_size - header_bytes:
                raise FileFormatError(path, f"{info.filename} declares shape {shape} ({needed} bytes) but holds "
                                            f"{info.file_size - header_bytes} bytes")


def numeric_array(value: object, name: str, path: str | Path, dtype: type = np.float64) -> np.ndarray:
    """``value`` as a real-valued array; FileFormatError for strings, objects or complex numbers."""
    array = np.asarray(value)
    if array.dtype.kind not in "fiub":
        raise FileFormatError(path, f"'{name}' holds {array.dtype} values, expected numbers")
    return array.astype(dtype)


def finite_scalar(value: object, name: str, path: str | Path) -> float:
    array = numeric_array(value, name, path)
    if array.size != 1 or not np.isfinite(array.reshape(-1)[0]):
        raise FileFormatError(path, f"'{name}' must be one finite number, got shape {array.shape}")
    return float(array.reshape(-1)[0])


def validate_motion(motion: Motion, path: str | Path) -> Motion:
    """Refuse what Motion itself lets through but editing cannot use: bad expression, filled, zero rotations."""
    n = motion.n_frames
    if n < 1:
        raise FileFormatError(path, "the file holds zero frames")
    if motion.expression is not None:
        if motion.expression.ndim != 2 or motion.expression.shape[0] != n:
            raise FileFormatError(path, f"expression has shape {motion.expression.shape}, expected ({n}, k)")
        if not np.all(np.isfinite(motion.expression)):
            raise FileFormatError(path, "expression contains NaN or infinite values")
    if motion.filled is None or np.shape(motion.filled) != (n,):
        raise FileFormatError(path, f"'filled' has shape {np.shape(motion.filled)}, expected ({n},)")
    rows = np.linalg.norm(motion.features.reshape(n, -1, 2, 3).astype(np.float64), axis=-1)
    if not np.all(rows > 1e-6):
        frame = int(np.argwhere(~(rows > 1e-6))[0][0])
        raise FileFormatError(path, f"frame {frame} holds a degenerate rotation (a 6D row of length zero)")
    return motion


def repair_degenerate_rotations(motion: Motion) -> Motion:
    """Joints whose fitted rotation degenerated (a zero 6D row) take the rest pose; their frames are marked filled.

    IK on keypoints that coincide (a damaged file, a collapsed detection)
    can yield an all-zero rotation, which no renderer or model can use; the
    rest rotation is the same choice IK makes for limbs it never sees.
    """
    from signeditor.core.ik import rest_pose_features

    n = motion.n_frames
    joints = motion.features.reshape(n, -1, 2, 3)
    bad = ~(np.linalg.norm(joints.astype(np.float64), axis=-1) > 1e-6).all(axis=-1)  # (T, J)
    if not bad.any():
        return motion
    repaired = motion.copy()
    rest = rest_pose_features().reshape(-1, 2, 3)
    features = repaired.features.reshape(n, -1, 2, 3)
    frames, joint_ids = np.nonzero(bad)
    features[frames, joint_ids] = rest[joint_ids]
    repaired.features = features.reshape(n, -1)
    repaired.filled = np.asarray(repaired.filled, dtype=bool) | bad.any(axis=1)
    if repaired.stream_filled is not None:  # only the streams whose joints were repaired
        repaired.stream_filled = repaired.stream_filled | np.stack(
            [bad[:, STREAM_SLICES[s].start // 6:STREAM_SLICES[s].stop // 6].any(axis=1) for s in STREAMS], axis=1)
    return repaired
