"""Reading glTF/GLB containers: the JSON document, its buffers and views, and typed accessors.

The one accessor reader of the project: avatars (``io/avatar_gltf.py``) and animation from other rigs
(``io/rig_import.py``) both read through it, so strides, normalised integers, sparse accessors and meshopt
compression (``EXT_meshopt_compression``, decoded by the ``meshopt`` wheel) are handled once.
"""

from __future__ import annotations

import base64
import json
import struct
from pathlib import Path

import numpy as np

from signeditor.io.errors import FileFormatError, read_file_bytes

_DTYPES = {5120: np.int8, 5121: np.uint8, 5122: np.int16, 5123: np.uint16, 5125: np.uint32, 5126: np.float32}
_WIDTH = {"SCALAR": 1, "VEC2": 2, "VEC3": 3, "VEC4": 4, "MAT2": 4, "MAT3": 9, "MAT4": 16}


class GltfReader:
    """Buffers, views and accessors of one glTF document."""

    def __init__(self, path: Path, doc: dict, binary: bytes | None) -> None:
        self.path, self.doc, self.binary = path, doc, binary
        self._buffers: dict[int, bytes] = {}
        self._views: dict[int, bytes] = {}

    def fail(self, problem: str) -> FileFormatError:
        return FileFormatError(self.path, problem)

    def buffer(self, index: int) -> bytes:
        if index not in self._buffers:
            spec = self.doc["buffers"][index]
            uri = spec.get("uri")
            if uri is None:
                if self.binary is None:
                    raise self.fail(f"buffer {index} has no data (a fallback buffer read without its extension?)")
                data = self.binary
            elif uri.startswith("data:"):
                data = base64.b64decode(uri.split(",", 1)[1])
            else:
                data = read_file_bytes(self.path.parent / uri)
            self._buffers[index] = data
        return self._buffers[index]

    def view(self, index: int) -> bytes:
        if index not in self._views:
            spec = self.doc["bufferViews"][index]
            meshopt = spec.get("extensions", {}).get("EXT_meshopt_compression")
            if meshopt is not None:
                data = self._meshopt_view(meshopt)
            else:
                start = spec.get("byteOffset", 0)
                data = self.buffer(spec["buffer"])[start:start + spec["byteLength"]]
                if len(data) != spec["byteLength"]:
                    raise self.fail(f"buffer view {index} reads past the end of its buffer")
            self._views[index] = data
        return self._views[index]

    def _meshopt_view(self, ext: dict) -> bytes:
        try:
            import meshopt
        except ImportError as exc:
            raise self.fail("the file is meshopt-compressed: install the 'meshopt' package") from exc
        start = ext.get("byteOffset", 0)
        source = self.buffer(ext["buffer"])[start:start + ext["byteLength"]]
        filters = ext.get("filter", "NONE")
        try:
            decoded = meshopt.decode_gltf_buffer(source, ext["count"], ext["byteStride"], ext["mode"],
                                                 None if filters == "NONE" else filters)
        except Exception as exc:  # the decoder reports damaged data with its own exception types
            raise self.fail(f"cannot decode meshopt data ({exc})") from exc
        return np.ascontiguousarray(decoded).tobytes()

    def accessor(self, index: int) -> np.ndarray:
        """An accessor as float64 (count, width), normalised integers scaled, sparse values applied."""
        spec = self.doc["accessors"][index]
        dtype = np.dtype(_DTYPES[spec["componentType"]])
        width = _WIDTH[spec["type"]]
        count = spec["count"]
        if "bufferView" in spec:
            view_spec = self.doc["bufferViews"][spec["bufferView"]]
            data = self.view(spec["bufferView"])
            meshopt = view_spec.get("extensions", {}).get("EXT_meshopt_compression", {})
            stride = view_spec.get("byteStride") or meshopt.get("byteStride") or dtype.itemsize * width
            offset = spec.get("byteOffset", 0)
            row = dtype.itemsize * width
            if count and offset + stride * (count - 1) + row > len(data):
                raise self.fail(f"accessor {index} reads past the end of its buffer view")
            raw = np.frombuffer(data, np.uint8, count=stride * max(count - 1, 0) + row if count else 0, offset=offset)
            rows = np.lib.stride_tricks.as_strided(raw, shape=(count, row), strides=(stride, 1))
            values = np.ascontiguousarray(rows).view(dtype).reshape(count, width).astype(np.float64)
        else:
            values = np.zeros((count, width))
        if spec.get("normalized") and dtype.kind in "iu":
            values = np.maximum(values / np.iinfo(dtype).max, -1.0)
        sparse = spec.get("sparse")
        if sparse:
            ids = self._typed(sparse["indices"], sparse["count"], 1).astype(np.int64)[:, 0]
            fake = {"componentType": spec["componentType"], "type": spec["type"], "normalized": spec.get("normalized")}
            changed = self._typed({**sparse["values"], **fake}, sparse["count"], width)
            if ids.size and (ids.min() < 0 or ids.max() >= count):
                raise self.fail(f"sparse accessor {index} points outside its {count} elements")
            values = values.copy()
            values[ids] = changed
        return values

    def _typed(self, spec: dict, count: int, width: int) -> np.ndarray:
        dtype = np.dtype(_DTYPES[spec["componentType"]])
        data = self.view(spec["bufferView"])
        values = np.frombuffer(data, dtype, count=count * width, offset=spec.get("byteOffset", 0))
        values = values.reshape(count, width).astype(np.float64)
        if spec.get("normalized") and dtype.kind in "iu":
            values = np.maximum(values / np.iinfo(dtype).max, -1.0)
        return values


def split_glb(path: Path, data: bytes) -> tuple[dict, bytes | None]:
    if data[:4] != b"glTF":
        try:
            return json.loads(data.decode("utf-8")), None
        except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
            raise FileFormatError(path, f"neither GLB nor glTF JSON ({exc})") from exc
    if len(data) < 20:
        raise FileFormatError(path, "truncated GLB header")
    offset, doc, binary = 12, None, None
    while offset + 8 <= len(data):
        length, kind = struct.unpack_from("<II", data, offset)
        chunk = data[offset + 8:offset + 8 + length]
        if len(chunk) != length:
            raise FileFormatError(path, "truncated GLB chunk")
        if kind == 0x4E4F534A:
            try:
                doc = json.loads(chunk.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
                raise FileFormatError(path, f"the GLB's JSON chunk is damaged ({exc})") from exc
        elif kind == 0x004E4942:
            binary = chunk
        offset += 8 + length + (-length % 4)
    if doc is None:
        raise FileFormatError(path, "GLB has no JSON chunk")
    return doc, binary


def read_gltf(path: str | Path) -> GltfReader:
    """A glTF or GLB file's reader; FileFormatError naming the file when it is neither."""
    path = Path(path)
    doc, binary = split_glb(path, read_file_bytes(path))
    if not isinstance(doc, dict):
        raise FileFormatError(path, "the glTF JSON is not an object")
    return GltfReader(path, doc, binary)
