import pickle
from pathlib import Path

import lmdb
import numpy as np
import pytest

from signeditor.core import rotations
from signeditor.core.motion import FEATURE_DIM, Motion
from signeditor.core.segments import Segment, labels_from_segments
from signeditor.io.errors import FileFormatError
from signeditor.io.safe_pickle import UnsafePickleError, loads_plain_data
from signeditor.io.signspark import (
    SignSparkRecord,
    read_signspark_lmdb,
    read_signspark_record,
    write_signspark_lmdb,
    write_signspark_record,
)


def make_record(clip_id: str = "clip1") -> SignSparkRecord:
    rng = np.random.default_rng(1)
    motion = Motion(25.0, rotations.axis_angle_to_rot6d(
        rng.normal(scale=0.4, size=(20, 41, 3))).reshape(20, FEATURE_DIM))
    labels = np.array(labels_from_segments([Segment(3, 9), Segment(12, 18)], 20))
    return SignSparkRecord(clip_id, motion, labels, "gsg", "Das Haus ist groß.", "HAUS GROSS")


def test_record_matches_schema_and_round_trips(tmp_path: Path) -> None:
    record = make_record()
    path = tmp_path / "clip1.npz"
    write_signspark_record(record, path)
    with np.load(path, allow_pickle=False) as npz:  # readable without pickle, as their loader expects
        assert npz["body_features"].shape == (20, 126) and npz["face_features"].shape == (20, 56)
        assert npz["left_features"].shape == npz["right_features"].shape == (20, 90)
        np.testing.assert_array_equal(npz["body_features"][:, 66:], record.motion.stream("body"))
        assert npz["translation"][0] == "Das Haus ist groß." and set(np.unique(npz["segment"])) == {0, 1, 2}
    back = read_signspark_record(path)
    np.testing.assert_allclose(back.motion.features, record.motion.features)
    np.testing.assert_array_equal(back.segment, record.segment)
    assert (back.language, back.gloss) == ("gsg", "HAUS GROSS")


def test_lmdb_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "db.lmdb"
    write_signspark_lmdb([make_record("a"), make_record("b")], path)
    records = read_signspark_lmdb(path)
    assert [r.clip_id for r in records] == ["a", "b"]
    np.testing.assert_allclose(records[1].motion.features, make_record().motion.features)


class _Exploit:
    def __reduce__(self) -> tuple:
        return (Path.touch, (Path("/tmp/signeditor_pwned"),))


def test_crafted_meta_pickle_is_refused_without_running(tmp_path: Path) -> None:
    marker = Path("/tmp/signeditor_pwned")
    marker.unlink(missing_ok=True)
    path = tmp_path / "evil.lmdb"
    env = lmdb.open(str(path), map_size=1 << 20)
    with env.begin(write=True) as txn:
        txn.put(b"__meta__", pickle.dumps({"clip_ids": [], "x": _Exploit()}))
    env.close()
    with pytest.raises(FileFormatError, match="__meta__ refused"):
        read_signspark_lmdb(path)
    assert not marker.exists()


def test_plain_data_unpickler() -> None:
    assert loads_plain_data(pickle.dumps({"clip_ids": ["a", 1, 2.5, None, (1, 2)]})) == {
        "clip_ids": ["a", 1, 2.5, None, (1, 2)]}
    with pytest.raises(UnsafePickleError):
        loads_plain_data(pickle.dumps({1, 2}))
    with pytest.raises(UnsafePickleError):
        loads_plain_data(b"\x80\x04garbage")


def test_a_record_whose_face_features_hold_only_the_jaw_keeps_its_jaw(tmp_path: Path) -> None:
    """Other tools may write face_features with the 6 jaw columns and no expression: the jaw is read (not left at
    rest), and the clip has no expression."""
    record = make_record()
    path = tmp_path / "clip1.npz"
    write_signspark_record(record, path)
    with np.load(path, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    arrays["face_features"] = arrays["face_features"][:, :6]
    np.savez(tmp_path / "jaw_only.npz", **arrays)
    back = read_signspark_record(tmp_path / "jaw_only.npz")
    np.testing.assert_allclose(back.motion.stream("jaw"), record.motion.stream("jaw"), atol=1e-6)
    assert back.motion.expression is None or not back.motion.expression.size


def test_a_record_without_labels_reads_as_unknown_not_as_no_signing(tmp_path: Path) -> None:
    """A record without a segment array (labels not given) reads -1 (unknown) on every frame, which training
    leaves out, not 0, which would teach that nothing in the clip is signing."""
    record = make_record()
    path = tmp_path / "clip1.npz"
    write_signspark_record(record, path)
    with np.load(path, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files if key != "segment"}
    np.savez(tmp_path / "unlabelled.npz", **arrays)
    back = read_signspark_record(tmp_path / "unlabelled.npz")
    assert back.segment.tolist() == [-1] * 20
