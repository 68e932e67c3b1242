"""No untrusted code: a crafted pickle in weights, npz arrays, LMDB metadata or a project is refused unrun.

Every payload would create a marker file when unpickled (the control test
proves it does); each loader must refuse the file with its typed error and
the marker must never appear.
"""

from __future__ import annotations

import io
import json
import os
import pickle
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch

from signeditor.io.errors import FileFormatError

ROOT = Path(__file__).resolve().parents[1]


class Payload:
    """Unpickling this runs a shell command that creates ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (os.system, (f"touch {self.marker}",))


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    path = tmp_path / "payload-ran"
    yield path
    assert not path.exists(), "the crafted pickle ran"


def test_control_the_payload_really_runs_when_unpickled(tmp_path: Path):
    ran = tmp_path / "control"
    pickle.loads(pickle.dumps(Payload(ran)))
    assert ran.exists()


def test_kf2p_weights_with_a_payload_are_refused(tmp_path: Path, marker: Path):
    from signeditor.ml.kf2p.checkpoint import CHECKPOINT_FORMAT, CHECKPOINT_VERSION, ModelLoadError, load_checkpoint

    path = tmp_path / "kf2p.pt"
    torch.save({"format": CHECKPOINT_FORMAT, "format_version": CHECKPOINT_VERSION, "meta": Payload(marker)}, path)
    with pytest.raises(ModelLoadError, match=r"kf2p\.pt"):
        load_checkpoint(path)


def test_fast_weights_with_a_payload_are_refused(tmp_path: Path, marker: Path):
    from signeditor.ml.fast.api import load_segmenter

    path = tmp_path / "fast.pt"
    torch.save({"format": "signeditor-fast", "version": 1, "info": Payload(marker)}, path)
    with pytest.raises(FileFormatError, match=r"fast\.pt"):
        load_segmenter(path)


def _object_npz(path: Path, marker: Path, **arrays: np.ndarray) -> Path:
    np.savez(path, **arrays, evil=np.array([Payload(marker)], dtype=object))  # np.savez pickles object arrays
    return path


def test_smplx_npz_with_an_object_array_is_refused(tmp_path: Path, marker: Path):
    from signeditor.io.smplx_params import read_smplx_npz

    path = _object_npz(tmp_path / "m.npz", marker, body_pose=np.zeros((3, 21, 3), np.float32))
    with pytest.raises(FileFormatError, match=r"m\.npz"):
        read_smplx_npz(path)


def test_signspark_record_with_an_object_array_is_refused(tmp_path: Path, marker: Path):
    from signeditor.io.signspark import read_signspark_record

    path = _object_npz(tmp_path / "r.signspark.npz", marker, left_features=np.zeros((3, 90), np.float32))
    with pytest.raises(FileFormatError, match=r"r\.signspark\.npz"):
        read_signspark_record(path)


def _write_lmdb(path: Path, items: dict[bytes, bytes]) -> None:
    import lmdb

    env = lmdb.open(str(path), map_size=1 << 22)
    with env.begin(write=True) as txn:
        for key, value in items.items():
            txn.put(key, value)
    env.close()


def test_lmdb_meta_pickle_with_a_payload_is_refused(tmp_path: Path, marker: Path):
    from signeditor.io.signspark import read_signspark_lmdb

    _write_lmdb(tmp_path / "db", {b"__meta__": pickle.dumps({"clip_ids": ["a"], "x": Payload(marker)})})
    with pytest.raises(FileFormatError, match="__meta__ refused"):
        read_signspark_lmdb(tmp_path / "db")


def test_lmdb_record_stored_as_a_pickle_is_refused(tmp_path: Path, marker: Path):
    from signeditor.io.signspark import read_signspark_lmdb

    _write_lmdb(tmp_path / "db", {b"__meta__": pickle.dumps({"clip_ids": ["a"]}),
                                  b"a": pickle.dumps({"left_features": Payload(marker)})})
    with pytest.raises(FileFormatError, match="db"):
        read_signspark_lmdb(tmp_path / "db")


def test_project_file_with_an_object_array_is_refused(tmp_path: Path, marker: Path):
    from signeditor.io.project_file import load_project, project_to_bytes
    from signeditor.reliability.fuzz_targets import seed_project

    with zipfile.ZipFile(io.BytesIO(project_to_bytes(seed_project()))) as zf:
        meta = json.loads(zf.read("project.json"))
    arrays = io.BytesIO()
    np.savez(arrays, features=np.array([Payload(marker)], dtype=object))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        zf.writestr("project.json", json.dumps(meta))
        zf.writestr("arrays.npz", arrays.getvalue())
    (tmp_path / "p.signproj").write_bytes(out.getvalue())
    with pytest.raises(FileFormatError, match=r"p\.signproj"):
        load_project(tmp_path / "p.signproj")


def test_the_editor_survives_a_malicious_kf2p_file(tmp_path: Path, marker: Path):
    """The regenerator's model loader falls back to interpolation instead of running the payload."""
    from signeditor.gui.regeneration import ModelRegenerate

    path = tmp_path / "kf2p.pt"
    torch.save({"evil": Payload(marker)}, path)
    regenerate = ModelRegenerate(weights=path)
    regenerate.warm_up()
    assert regenerate.backend == "interpolation" and "kf2p.pt" in regenerate.load_error


_UNSAFE = {
    "torch.load without weights_only=True": (re.compile(r"torch\.load\("), "weights_only=True"),
    "np.load without allow_pickle=False": (re.compile(r"\bnp\.load\("), "allow_pickle=False"),
}


def _call_text(text: str, open_paren_end: int) -> str:
    """The argument text of a call whose "(" ends at ``open_paren_end`` (balanced parentheses)."""
    depth = 1
    for i in range(open_paren_end, len(text)):
        depth += {"(": 1, ")": -1}.get(text[i], 0)
        if depth == 0:
            return text[open_paren_end:i]
    return text[open_paren_end:]


def test_no_loader_in_the_code_can_unpickle():
    """Every torch.load / np.load call passes the safe flag; pickle.load(s) only in the restricted unpickler."""
    offenders = []
    for path in sorted((ROOT / "signeditor").rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for label, (pattern, flag) in _UNSAFE.items():
            for match in pattern.finditer(text):
                call = _call_text(text, match.end())
                if flag not in call:
                    offenders.append(f"{path.relative_to(ROOT)}: {label}: {call[:80]}")
        if path.name != "safe_pickle.py":
            offenders += [f"{path.relative_to(ROOT)}: pickle.{m}" for m in re.findall(r"pickle\.(loads?|Unpickler)\(",
                                                                                        text)]
    assert not offenders, "\n".join(offenders)
