import io
import pickle
import tempfile
from pathlib import Path

import lmdb
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signeditor.core import rotations
from signeditor.core.face import FACE_DIM
from signeditor.core.motion import FEATURE_DIM, Motion
from signeditor.core.segments import Segment, labels_from_segments
from signeditor.io.errors import FileFormatError
from signeditor.io.safe_pickle import UnsafePickleError, loads_plain_data
from signeditor.io.signspark import (
    SignSparkRecord,
    read_signspark_lmdb,
    read_signspark_record,
    record_bytes,
    record_from_bytes,
    write_signspark_lmdb,
    write_signspark_record,
)
from signeditor.ml.signspark_keyframes import (
    keyframe_file_path,
    read_keyframe_file,
    stored_keyframes,
    write_keyframe_file,
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


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)


@settings(max_examples=25, deadline=None, derandomize=True)
@given(st.integers(1, 6), st.sampled_from(["none", "expression", "short-expression", "face"]), _TEXT, _TEXT,
       _TEXT, st.integers(0, 2**32 - 1))
def test_a_record_is_written_in_the_documented_layout_and_read_back_field_by_field(
        n_frames: int, face_kind: str, language: str, translation: str, gloss: str, seed: int) -> None:
    """Read back with numpy alone (no pickle), against the layout in the module's text: left/right_features (T, 90)
    are the left and right hand streams (never swapped), body_features (T, 126) is 11 identity joints then the 10
    body joints, face_features (T, 56) the jaw then 50 expression values (a motion's own coefficients, the first
    50 of them, zero-padded; or the 29 face-channel weights then zeros, marked expression_kind); language,
    translation and gloss one string each, segment the labels as int64. Read by SignEditor, every field comes back
    (25 fps, the face channel or the expression as written)."""
    rng = np.random.default_rng(seed)
    streams = {name: rotations.axis_angle_to_rot6d(rng.normal(scale=0.5, size=(n_frames, joints, 3))).reshape(
        n_frames, 6 * joints).astype(np.float32) for name, joints in
        (("body", 10), ("left_hand", 15), ("right_hand", 15), ("jaw", 1))}
    extra: dict[str, np.ndarray] = {}
    if face_kind == "expression":
        extra["expression"] = rng.normal(size=(n_frames, 60)).astype(np.float32)
    elif face_kind == "short-expression":
        extra["expression"] = rng.normal(size=(n_frames, 7)).astype(np.float32)
    elif face_kind == "face":
        extra["face"] = rng.uniform(0, 1, size=(n_frames, FACE_DIM)).astype(np.float32)
    motion = Motion.from_streams(25.0, streams, **extra)
    segment = rng.integers(0, 3, size=n_frames)
    record = SignSparkRecord("c", motion, segment, language, translation, gloss)
    buffer = io.BytesIO(record_bytes(record))
    with np.load(buffer, allow_pickle=False) as npz:
        fields = {key: npz[key] for key in npz.files}
    assert set(fields) == {"language", "translation", "gloss", "segment", "left_features", "right_features",
                           "body_features", "face_features"} | ({"expression_kind"} if face_kind == "face" else set())
    assert [str(fields[k][0]) for k in ("language", "translation", "gloss")] == [language, translation, gloss]
    assert all(fields[k].shape == (1,) for k in ("language", "translation", "gloss"))
    assert fields["segment"].dtype == np.int64 and list(fields["segment"]) == list(segment)
    np.testing.assert_array_equal(fields["left_features"], streams["left_hand"])
    np.testing.assert_array_equal(fields["right_features"], streams["right_hand"])
    assert fields["body_features"].shape == (n_frames, 126)
    np.testing.assert_array_equal(fields["body_features"][:, :66], np.tile([1, 0, 0, 0, 1, 0], (n_frames, 11)))
    np.testing.assert_array_equal(fields["body_features"][:, 66:], streams["body"])
    assert fields["face_features"].shape == (n_frames, 56)
    np.testing.assert_array_equal(fields["face_features"][:, :6], streams["jaw"])
    expected_expression = np.zeros((n_frames, 50), np.float32)
    if "expression" in extra:
        kept = min(50, extra["expression"].shape[1])
        expected_expression[:, :kept] = extra["expression"][:, :kept]
    elif "face" in extra:
        expected_expression[:, :FACE_DIM] = extra["face"]
        assert [str(v) for v in fields["expression_kind"]] == ["signeditor-face"]
    np.testing.assert_array_equal(fields["face_features"][:, 6:], expected_expression)

    back = record_from_bytes(buffer.getvalue(), "c", "c.npz")
    assert (back.clip_id, back.language, back.translation, back.gloss) == ("c", language, translation, gloss)
    assert back.motion.fps == 25.0 and list(back.segment) == list(segment)
    for name, values in streams.items():
        np.testing.assert_allclose(back.motion.stream(name), values, atol=1e-6)
    if "face" in extra:
        assert back.motion.expression is None
        np.testing.assert_array_equal(back.motion.face, extra["face"])
    else:
        assert back.motion.face is None
        np.testing.assert_array_equal(back.motion.expression, expected_expression)


@settings(max_examples=30, deadline=None, derandomize=True)
@given(st.dictionaries(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=8),
                       st.lists(st.integers(0, 12), max_size=8), max_size=4))  # small frames: repeats
def test_the_keyframe_file_is_read_by_torch_as_every_split_holding_each_clips_sorted_frames(keyframes) -> None:
    """SignSparK's loader reads the keyframe file with ``torch.load(weights_only=True)`` and looks up
    ``[split][clip]``: every split (train, dev, test) holds every clip with its frames sorted and each once.
    SignEditor reads the same back without torch, and finds a clip's frames beside an export."""
    import torch

    with tempfile.TemporaryDirectory() as folder:
        export = Path(folder) / "take.signspark.npz"
        path = keyframe_file_path(export)
        assert path.name == "take.keyframes.pt"
        write_keyframe_file(path, keyframes)
        expected = {clip: sorted(set(frames)) for clip, frames in keyframes.items()}
        assert torch.load(path, weights_only=True) == {"train": expected, "dev": expected, "test": expected}
        assert read_keyframe_file(path) == {"train": expected, "dev": expected, "test": expected}
        for clip, frames in expected.items():
            assert stored_keyframes(export, clip) == frames
        assert stored_keyframes(export, "\x00no such clip") is None


def test_a_keyframe_file_saved_by_torch_is_read_split_first_where_the_export_lies(tmp_path: Path) -> None:
    """A keyframe file written by torch itself (``torch.save``), with different frames per split: an export in a
    split folder takes its own split's frames, any other export the first split (train, dev, test) that has the
    clip."""
    import torch

    by_split = {"train": {"c": [3, 1]}, "dev": {"c": [2], "d": [5, 4]}, "test": {"e": [7]}}
    torch.save(by_split, tmp_path / "take.keyframes.pt")
    assert read_keyframe_file(tmp_path / "take.keyframes.pt") == by_split
    assert [stored_keyframes(tmp_path / "take.lmdb", clip) for clip in "cdef"] == [[1, 3], [4, 5], [7], None]
    (tmp_path / "lmdb" / "dev").mkdir(parents=True)
    torch.save(by_split, tmp_path / "lmdb" / "keyframes.pt")
    in_dev = tmp_path / "lmdb" / "dev" / "X_dev.lmdb"
    assert [stored_keyframes(in_dev, clip) for clip in "cdef"] == [[2], [4, 5], [7], None]


def test_face_channel_weights_written_out_of_range_by_another_tool_are_read_within_zero_to_one(
        tmp_path: Path) -> None:
    """A record marked as holding the face channel whose weights another tool wrote as -0.2 and 1.5: read as 0
    and 1 (the channel's range); the other weights as written."""
    n = 2
    weights = np.full((n, 50), 0.25, np.float32)
    weights[:, 0], weights[:, 1] = -0.2, 1.5
    np.savez(tmp_path / "c.npz", left_features=np.tile([1, 0, 0, 0, 1, 0], (n, 15)).astype(np.float32),
             right_features=np.tile([1, 0, 0, 0, 1, 0], (n, 15)).astype(np.float32),
             body_features=np.tile([1, 0, 0, 0, 1, 0], (n, 21)).astype(np.float32),
             face_features=np.concatenate([np.tile([1, 0, 0, 0, 1, 0], (n, 1)), weights], axis=1),
             expression_kind=np.array(["signeditor-face"]), segment=np.zeros(n, np.int64))
    face = read_signspark_record(tmp_path / "c.npz").motion.face
    assert face is not None and face.shape == (n, FACE_DIM)
    np.testing.assert_array_equal(face[:, :3], np.tile([0.0, 1.0, 0.25], (n, 1)))
