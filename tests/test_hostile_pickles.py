"""A hostile-input corpus for every loader that reads pickle-like data: the restricted unpickler, the LMDB
``__meta__`` key and the ``.pt`` files (KF2P and FAST weights, training states, SignSparK keyframe files).

Every payload would leave a marker file if anything unpickled it; ``test_control_*`` proves each one really
does under ``pickle.loads``. The payloads go through ``builtins.eval/exec/getattr/__import__`` (also spelled
``__builtin__``, which protocol 0-2 pickles map to ``builtins``), ``copyreg._reconstructor``,
``functools.partial``, ``subprocess.Popen``, ``os.system`` and ``posix.system``, pickled in protocols 0-5 and
hand-assembled where ``pickle.dumps`` never writes the opcode (INST, OBJ, NEWOBJ, NEWOBJ_EX, STACK_GLOBAL).
Each loader must refuse each payload with its typed error naming the file, and the marker must not appear.
Whatever the restricted unpickler accepts, even from mutated bytes, holds no global lookup at all
(checked with ``pickletools``, independently of the loader).
"""

from __future__ import annotations

import builtins
import contextlib
import copyreg
import functools
import gc
import io
import os
import pickle
import pickletools
import subprocess
import sys
import time
import types
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from signeditor.io import safe_pickle
from signeditor.io.errors import FileFormatError
from signeditor.io.safe_pickle import UnsafePickleError, loads_plain_data

#: Opcodes that look a global up or call something: plain data never needs one.
CALLING_OPCODES = frozenset({"GLOBAL", "STACK_GLOBAL", "INST", "OBJ", "REDUCE", "NEWOBJ", "NEWOBJ_EX", "BUILD",
                             "EXT1", "EXT2", "EXT4"})
PROTOCOLS = range(pickle.HIGHEST_PROTOCOL + 1)
#: torch warns that it reads protocols above 2 with less care: these files are meant to be refused anyway.
pytestmark = pytest.mark.filterwarnings("ignore:Detected pickle protocol:UserWarning")
#: A module name that no real module has: the ``__import__`` payload imports a file of this name that we plant.
PLANTED_MODULE = "signeditor_hostile_import_probe"


# --- the payloads ---------------------------------------------------------------------------------------------
class _Reduce:
    """Pickles as ``function(*args)``: what a hostile pickle calls while it is being loaded."""

    def __init__(self, function: object, *args: object) -> None:
        self.function, self.args = function, args

    def __reduce__(self) -> tuple:
        return self.function, self.args

    def __call__(self) -> None:  # pickle.dumps insists that a reduce's function looks callable
        raise AssertionError("never called here")


def _builtin_import() -> Callable[..., object]:
    """The interpreter's own ``__import__``: Qt's shiboken replaces ``builtins.__import__`` with a wrapper of its own
    (named ``__feature_import__`` or ``__lazy_import__``) once PySide6 is imported, which would make the payload
    call that wrapper, or fail to pickle at all, depending on which tests ran first."""
    if builtins.__import__.__name__ == "__import__":
        return builtins.__import__
    return next(o for o in gc.get_objects() if type(o) is types.BuiltinFunctionType and o.__name__ == "__import__"
                and getattr(o, "__self__", None) is builtins)


@contextlib.contextmanager
def _pristine_import() -> Iterator[None]:
    """Put the interpreter's own ``__import__`` back in ``builtins`` while payloads are pickled: pickle writes a
    function as the global it is found under, and checks that ``builtins.__import__`` is that very function."""
    current = builtins.__import__
    builtins.__import__ = _builtin_import()
    try:
        yield
    finally:
        builtins.__import__ = current


def _write_code(marker: Path) -> str:
    return f"open({str(marker)!r}, 'w').close()"


def _reduced_payloads(marker: Path) -> dict[str, object]:
    """Objects whose pickle runs code that creates ``marker`` (each family once)."""
    touch = ["touch", str(marker)]
    command = f"touch '{marker}'"
    import_os = _Reduce(_builtin_import(), "os")
    return {
        "builtins.eval": _Reduce(eval, _write_code(marker)),
        "builtins.exec": _Reduce(exec, _write_code(marker)),
        "builtins.getattr of __import__('os')": _Reduce(_Reduce(getattr, import_os, "system"), command),
        "builtins.__import__ of a planted module": _Reduce(_builtin_import(), PLANTED_MODULE),
        "copyreg._reconstructor of Popen": _Reduce(copyreg._reconstructor, subprocess.Popen, subprocess.Popen, touch),
        "functools.partial of os.system": _Reduce(functools.partial(os.system, command)),
        "subprocess.Popen": _Reduce(subprocess.Popen, touch),
        "os.system": _Reduce(os.system, command),
        # numpy's own module, but a function that writes a file: only the array and dtype constructors may pass.
        "numpy.savetxt": _Reduce(np.savetxt, str(marker), np.zeros(1)),
    }


def _text(value: str) -> bytes:
    data = value.encode("utf-8")
    return b"X" + len(data).to_bytes(4, "little") + data  # BINUNICODE


def _hand_assembled(marker: Path) -> dict[str, bytes]:
    """Opcodes ``pickle.dumps`` does not write for these calls, and the old ``__builtin__`` spelling."""
    command = f"touch '{marker}'"
    quoted = repr(command).encode()
    code = repr(_write_code(marker)).encode()
    return {
        "INST os.system (protocol 0)": b"(S" + quoted + b"\nios\nsystem\n.",
        "OBJ os.system (protocol 1)": b"(cos\nsystem\nS" + quoted + b"\no.",
        "INST __builtin__.eval (protocol 0)": b"(S" + code + b"\ni__builtin__\neval\n.",
        "GLOBAL __builtin__.exec + REDUCE (protocol 2)":
            b"\x80\x02c__builtin__\nexec\n" + _text(_write_code(marker)) + b"\x85R.",
        "GLOBAL posix.system + REDUCE (protocol 1)": b"cposix\nsystem\n(S" + quoted + b"\ntR.",
        "NEWOBJ functools.partial, called (protocol 2)":
            b"\x80\x02cfunctools\npartial\ncos\nsystem\n" + _text(command) + b"\x86\x81)R.",
        "NEWOBJ_EX functools.partial, called (protocol 4)":
            b"\x80\x04" + _text("functools") + _text("partial") + b"\x93" + _text("os") + _text("system") + b"\x93"
            + _text(command) + b"\x86}\x92)R.",
        "STACK_GLOBAL builtins.eval (protocol 5)":
            b"\x80\x05" + _text("builtins") + _text("eval") + b"\x93" + _text(_write_code(marker)) + b"\x85R.",
        "payload hidden in a dict value (protocol 0)": b"(dp0\nVclip_ids\np1\ncos\nsystem\n(S" + quoted + b"\ntRs.",
    }


def hostile_pickles(marker: Path) -> dict[str, bytes]:
    """Name -> bytes of every payload: each reduced family in every protocol, then the hand-assembled ones."""
    with _pristine_import():
        corpus = {f"{name}, protocol {p}": pickle.dumps(obj, protocol=p)
                  for name, obj in _reduced_payloads(marker).items() for p in PROTOCOLS}
    return corpus | _hand_assembled(marker)


_NAMES = tuple(hostile_pickles(Path("/m")))
#: One payload per family and opcode, for loaders that are slow to call (a child process per read).
_SAMPLE = tuple(n for n in _NAMES if n.endswith("protocol 2") or "(protocol" in n)


@pytest.fixture
def marker(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Path:
    """The file a payload would create; the planted module of the ``__import__`` payload creates it too."""
    path = tmp_path / "payload-ran"
    (tmp_path / f"{PLANTED_MODULE}.py").write_text(_write_code(path) + "\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, PLANTED_MODULE, raising=False)
    yield path
    name = getattr(getattr(request.node, "callspec", None), "params", {}).get("name", "Popen")
    if "Popen" in name:  # a Popen runs its command asynchronously: give it a moment to show itself
        time.sleep(0.2)
    assert not path.exists(), "the hostile pickle ran"


def _wait_for(path: Path, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.02)
    return path.exists()


@pytest.mark.parametrize("name", _NAMES)
def test_control_each_payload_really_runs_when_unpickled(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str):
    ran = tmp_path / "ran"
    (tmp_path / f"{PLANTED_MODULE}.py").write_text(_write_code(ran) + "\n", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, PLANTED_MODULE, raising=False)
    try:
        pickle.loads(hostile_pickles(ran)[name])
    finally:
        monkeypatch.delitem(sys.modules, PLANTED_MODULE, raising=False)
    assert _wait_for(ran), f"{name}: the payload is not a real one"


def _global_lookups(data: bytes) -> list[str]:
    """GLOBAL-like and calling opcodes in a pickle, read by pickletools (not by the loader under test)."""
    return [f"{op.name} {arg}" for op, arg, _ in pickletools.genops(data) if op.name in CALLING_OPCODES]


@pytest.mark.parametrize("name", _NAMES)
def test_every_payload_has_a_global_lookup(name: str):
    """The corpus is what it claims: each payload names a global (so an allow-list of none refuses it)."""
    assert any(g.split()[0] in {"GLOBAL", "STACK_GLOBAL", "INST"} for g in _global_lookups(hostile_pickles(
        Path("/m"))[name]))


# --- the restricted unpickler -----------------------------------------------------------------------------------
def _string_array_loader() -> list:
    """``loads_string_array`` where this checkout has it (the object-array reader), so it meets the corpus too."""
    loader = getattr(safe_pickle, "loads_string_array", None)
    return [pytest.param(loader, id="loads_string_array")] if loader is not None else []


PLAIN_LOADERS = [pytest.param(loads_plain_data, id="loads_plain_data"), *_string_array_loader()]


@pytest.mark.parametrize("loader", PLAIN_LOADERS)
@pytest.mark.parametrize("name", _NAMES)
def test_the_restricted_unpickler_refuses_each_payload_unrun(marker: Path, name: str, loader: Callable):
    with pytest.raises(UnsafePickleError, match=r"refers to|only|not a readable pickle"):
        loader(hostile_pickles(marker)[name])


#: Bytes are left out: protocols 0-2 write them through ``_codecs.encode``, a global the loader rightly refuses.
PLAIN_DATA = {"clip_ids": ["a", "b"], "num_clips": 2, "nested": [(1, 2.5, None, True), {"k": [1.5e300, -0.0]}],
              "text": "Grüße", "big": 2**70, "negative": -3}


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_plain_data_in_every_protocol_is_accepted_and_holds_no_global(protocol: int):
    data = pickle.dumps(PLAIN_DATA, protocol=protocol)
    assert _global_lookups(data) == []
    assert loads_plain_data(data) == PLAIN_DATA


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_whatever_is_accepted_holds_no_global_lookup(marker: Path, data: st.DataObject):
    """Mutated payloads and plain pickles (bytes flipped, cut, spliced): refused, or plain data without a global."""
    corpus = [*hostile_pickles(marker).values(), *(pickle.dumps(PLAIN_DATA, protocol=p) for p in PROTOCOLS)]
    blob = bytearray(data.draw(st.sampled_from(corpus)))
    for _ in range(data.draw(st.integers(0, 4))):
        at = data.draw(st.integers(0, len(blob) - 1))
        kind = data.draw(st.sampled_from(["flip", "cut", "splice"]))
        if kind == "flip":
            blob[at] = data.draw(st.integers(0, 255))
        elif kind == "cut":
            del blob[at:at + data.draw(st.integers(1, 8))]
        else:
            blob[at:at] = data.draw(st.sampled_from(corpus))[:data.draw(st.integers(1, 40))]
        if not blob:
            blob = bytearray(b".")
    try:
        loads_plain_data(bytes(blob))
    except UnsafePickleError:
        return
    assert _global_lookups(bytes(blob)) == [], "an accepted pickle looked a global up"


# --- the LMDB __meta__ key --------------------------------------------------------------------------------------
def _write_lmdb(path: Path, meta: bytes) -> None:
    import lmdb

    env = lmdb.open(str(path), map_size=1 << 22)
    with env.begin(write=True) as txn:
        txn.put(b"__meta__", meta)
    env.close()


@pytest.mark.parametrize("name", _SAMPLE)
def test_lmdb_meta_refuses_each_payload_unrun(tmp_path: Path, marker: Path, name: str):
    from signeditor.io.signspark import read_signspark_lmdb

    _write_lmdb(tmp_path / "hostile.lmdb", hostile_pickles(marker)[name])
    with pytest.raises(FileFormatError, match=r"hostile\.lmdb.*__meta__ refused"):
        read_signspark_lmdb(tmp_path / "hostile.lmdb")


# --- .pt files ---------------------------------------------------------------------------------------------------
def _pt_with_pickle(path: Path, data_pkl: bytes) -> Path:
    """A file laid out as torch.save writes it, whose pickle is ``data_pkl``."""
    import torch

    buffer = io.BytesIO()
    torch.save({"format": "x"}, buffer)
    with zipfile.ZipFile(io.BytesIO(buffer.getvalue())) as src, zipfile.ZipFile(path, "w") as out:
        for info in src.infolist():
            out.writestr(info, data_pkl if info.filename.endswith("/data.pkl") else src.read(info))
    return path


def _load_kf2p(path: Path) -> object:
    from signeditor.ml.kf2p.checkpoint import load_checkpoint

    return load_checkpoint(path)


def _load_fast(path: Path) -> object:
    from signeditor.ml.fast.api import load_segmenter

    return load_segmenter(path)


def _load_training_state(path: Path) -> object:
    from signeditor.ml.training_state import load_state

    return load_state(path, "kf2p-training-state", 1)


def _load_keyframes(path: Path) -> object:
    from signeditor.ml.signspark_keyframes import read_keyframe_file

    return read_keyframe_file(path)


PT_LOADERS = {"kf2p weights": _load_kf2p, "fast weights": _load_fast, "training state": _load_training_state,
              "signspark keyframes": _load_keyframes}


def test_control_a_rewritten_pt_file_is_read_back(tmp_path: Path):
    """The .pt writer above makes files torch reads: a plain pickle comes back as written."""
    from signeditor.ml.signspark_keyframes import read_keyframe_file

    plain = {"train": {"clip": [1, 5]}}
    assert read_keyframe_file(_pt_with_pickle(tmp_path / "k.pt", pickle.dumps(plain, protocol=2))) == plain


@pytest.mark.parametrize("loader", PT_LOADERS)
@pytest.mark.parametrize("name", _NAMES)
def test_pt_loaders_refuse_each_payload_unrun(tmp_path: Path, marker: Path, name: str, loader: str):
    from signeditor.ml.kf2p.checkpoint import ModelLoadError

    path = _pt_with_pickle(tmp_path / "hostile.pt", hostile_pickles(marker)[name])
    with pytest.raises((FileFormatError, ModelLoadError), match=r"hostile\.pt"):
        PT_LOADERS[loader](path)


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_torch_save_of_a_payload_is_refused_in_every_protocol(tmp_path: Path, marker: Path, protocol: int):
    import torch

    from signeditor.ml.kf2p.checkpoint import ModelLoadError

    for name, payload in _reduced_payloads(marker).items():
        path = tmp_path / f"saved-{protocol}.pt"
        with _pristine_import():
            torch.save({"format": "signeditor-kf2p", "meta": payload}, path, pickle_protocol=protocol)
        for loader in PT_LOADERS.values():
            with pytest.raises((FileFormatError, ModelLoadError), match=rf"saved-{protocol}\.pt"):
                loader(path)
        assert not marker.exists(), name
