"""A restricted unpickler for metadata that other tools store as pickles.

SignSparK's LMDB ``__meta__`` key is a pickle. Unpickling can run arbitrary
code, so this reader admits only plain containers, strings and numbers: any
pickle that asks for a class or a callable (the only way to run code) is
refused before anything is constructed.
"""

from __future__ import annotations

import io
import pickle

_MAX_BYTES = 64 << 20


class UnsafePickleError(ValueError):
    """The pickle wanted to create something other than lists, dicts, strings and numbers."""


class _PlainDataUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> object:
        # Every global lookup (classes, functions, os.system, ...) is refused; plain data never needs one.
        raise UnsafePickleError(f"pickle refers to {module}.{name}; only plain data is allowed")


_ALLOWED = (dict, list, tuple, str, bytes, int, float, bool, type(None))


def _check_plain(value: object, depth: int = 0) -> None:
    if depth > 50:
        raise UnsafePickleError("pickle nests too deeply")
    if not isinstance(value, _ALLOWED) or isinstance(value, set | frozenset):
        raise UnsafePickleError(f"pickle holds a {type(value).__name__}; only plain data is allowed")
    if isinstance(value, dict):
        for k, v in value.items():
            _check_plain(k, depth + 1)
            _check_plain(v, depth + 1)
    elif isinstance(value, list | tuple):
        for v in value:
            _check_plain(v, depth + 1)


def _load_restricted(unpickler: type[pickle.Unpickler], data: bytes) -> object:
    """Load ``data`` with a restricted unpickler; any failure becomes UnsafePickleError with its reason."""
    if len(data) > _MAX_BYTES:
        raise UnsafePickleError("pickle is implausibly large")
    try:
        return unpickler(io.BytesIO(data)).load()
    except UnsafePickleError:
        raise
    except Exception as exc:  # malformed pickles raise many exception types
        raise UnsafePickleError(f"not a readable pickle ({type(exc).__name__}: {exc})") from exc


def loads_plain_data(data: bytes) -> object:
    """Unpickle lists, dicts, tuples, strings, bytes and numbers only; raise UnsafePickleError otherwise."""
    value = _load_restricted(_PlainDataUnpickler, data)
    _check_plain(value)
    return value


#: The only globals a pickled numpy object array of strings needs: the array and dtype constructors.
_STRING_ARRAY_GLOBALS = frozenset({
    ("numpy._core.multiarray", "_reconstruct"), ("numpy.core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"), ("numpy", "dtype"),
})


class _StringArrayUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> object:
        if (module, name) not in _STRING_ARRAY_GLOBALS:
            raise UnsafePickleError(f"pickle refers to {module}.{name}; only an array of strings is allowed")
        return super().find_class(module, name)


def loads_string_array(data: bytes) -> object:
    """A pickled numpy object array whose items are all strings (how ``np.savez`` stores Python strings when the
    array has dtype object), built without running anything but numpy's array and dtype constructors; any other
    global, or an item that is not a string, raises UnsafePickleError."""
    import numpy as np

    value = _load_restricted(_StringArrayUnpickler, data)
    if not isinstance(value, np.ndarray) or value.dtype != object:
        raise UnsafePickleError(f"pickle holds a {type(value).__name__}, not an object array")
    bad = next((type(v).__name__ for v in value.reshape(-1) if not isinstance(v, str)), None)
    if bad is not None:
        raise UnsafePickleError(f"the object array holds a {bad}; only strings are allowed")
    return value.astype(str) if value.size else np.array([], dtype=str)
