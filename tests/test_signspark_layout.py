"""SignSparK as a user runs it: their data layout, one keyframe file, unique names, text, face, safe strings.

The reader below is written from their documented layout and loader (DATA.md, ``configs/data_v2/splits``,
``signspark/pose_datasets_lmdb.py``): ``base_path/<split>/*.lmdb`` kept when the path contains a name of
``train_data``/``dev_data``; ``__meta__`` a pickle with ``clip_ids``; each record an npz read with
``allow_pickle=True`` (these are our own files, written in this test); keyframes
``torch.load(custom_keyframe_file)[split][clip]``; the ``full`` stream ``left[:, :90] | right[:, :90] |
body[:, 66:] | face`` (296 values). It shares no code with SignEditor's own reader.
"""

from __future__ import annotations

import io
import itertools
import json
import pickle
import shutil
from pathlib import Path

import lmdb
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from signeditor.app_services import export_document, open_document, with_stored_keyframes
from signeditor.cli import main
from signeditor.core import rotations
from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.face import FACE_PARAMETERS
from signeditor.core.motion import Motion
from signeditor.core.nonmanual import preset_keys
from signeditor.core.project import Project
from signeditor.core.segments import Segment
from signeditor.io.errors import FileFormatError
from signeditor.io.pose_metadata import read_pose_metadata
from signeditor.io.project_file import load_project, save_project
from signeditor.io.signspark import read_signspark_lmdb, read_signspark_record
from signeditor.paths import SAMPLE_PROJECT


def their_loader(data_root: Path, split: str, dataset_names: list[str], keyframe_file: Path) -> dict[str, dict]:
    """Clip id -> what their ``__getitem__`` builds (features 'full', text, keyframes), for one split."""
    paths = [str(p) for p in (data_root / "lmdb" / split).rglob("*.lmdb")]
    paths = [p for p in paths if any(d in p for d in dataset_names)]
    if not paths:
        raise ValueError(f"No valid LMDB paths found for split '{split}'")
    custom = torch.load(keyframe_file)[split]
    items = {}
    for path in paths:
        env = lmdb.open(path, readonly=True, lock=False, readahead=False, meminit=False)
        with env.begin(write=False) as txn:
            meta = pickle.loads(txn.get(b"__meta__"))
            assert meta["num_clips"] == len(meta["clip_ids"])
            for name in meta["clip_ids"]:
                npz = np.load(io.BytesIO(txn.get(name.encode("utf-8"))), allow_pickle=True)
                data = {k: npz[k] for k in ("language", "translation", "gloss", "segment", "left_features",
                                            "right_features", "body_features", "face_features")}
                features = np.concatenate([data["left_features"][:, :90], data["right_features"][:, :90],
                                           data["body_features"][:, 11 * 6:], data["face_features"]], axis=-1)
                items[name] = {"features": features, "text": f"<{data['language'][0]}> {data['translation'][0]}",
                               "keyframes": sorted(set(custom[name])), "segment": data["segment"],
                               "face": data["face_features"]}
        env.close()
    return items


def sample_copy(path: Path, face: bool = False) -> Path:
    project = load_project(SAMPLE_PROJECT)
    if face:
        project.face_keys = tuple(preset_keys("wh-question", 10, 40))
    path.parent.mkdir(parents=True, exist_ok=True)
    save_project(project, path)
    return path


def test_layout_export_is_read_by_their_loader_with_one_keyframe_file(tmp_path: Path) -> None:
    """Names that differ only after a dot stay apart; every clip lands in exactly one split; their loader gets
    our anchors as keyframes, our motion as features and our face channel as expression values."""
    inputs = [sample_copy(tmp_path / f"in/x.v{i}.signproj", face=(i == 1)) for i in range(1, 5)]
    root = tmp_path / "data"
    assert main(["export", *map(str, inputs), "-f", "lmdb", "--signspark-layout", str(root), "--signed-language",
                 "ase"]) == 0
    assert (root / "lmdb" / "train" / "SignEditor_train.lmdb" / "data.mdb").is_file()
    keyframe_file = root / "lmdb" / "keyframes.pt"
    train = their_loader(root, "train", ["SignEditor"], keyframe_file)
    dev = their_loader(root, "dev", ["SignEditor"], keyframe_file)
    assert sorted([*train, *dev]) == ["x.v1", "x.v2", "x.v3", "x.v4"] and dev and not set(train) & set(dev)
    with pytest.raises(ValueError, match="No valid LMDB"):  # their name filter: the default config's dataset
        their_loader(root, "train", ["CSL-Daily"], keyframe_file)
    project = load_project(inputs[0])
    clip = {**train, **dev}["x.v1"]
    assert clip["keyframes"] == sorted(a.frame for a in project.anchors)
    assert clip["features"].shape == (project.motion.n_frames, 296)
    np.testing.assert_allclose(clip["features"][:, :90], project.motion.features[:, 60:150], atol=1e-6)
    assert clip["text"] == "<ase> Hello!"
    furrow = clip["face"][:, 6 + FACE_PARAMETERS.index("brow_furrow_l")]  # the wh-question's furrowed brows
    assert furrow[25] > 0.5 and furrow[0] == 0.0
    assert np.all(clip["face"][:, 6 + len(FACE_PARAMETERS):] == 0)
    assert "train_data='[SignEditor]'" in (root / "SIGNSPARK.txt").read_text()


def test_reopening_an_export_restores_our_anchors(tmp_path: Path) -> None:
    project = load_project(SAMPLE_PROJECT)
    project.anchors = project.anchors.replaced(project.anchors[2].moved_to(project.anchors[2].frame + 3))
    wanted = sorted(a.frame for a in project.anchors)
    export_document(project, tmp_path / "take.v2.lmdb")
    assert sorted(a.frame for a in open_document(tmp_path / "take.v2.lmdb").anchors) == wanted
    assert sorted(a.frame for a in open_document(tmp_path / "take.v2.lmdb" / "data.mdb").anchors) == wanted
    export_document(project, tmp_path / "take.signspark.npz")
    assert sorted(a.frame for a in open_document(tmp_path / "take.signspark.npz").anchors) == wanted
    assert (tmp_path / "take.v2.keyframes.pt").is_file() and (tmp_path / "take.keyframes.pt").is_file()


def test_a_keyframe_file_naming_a_frame_past_the_clip_is_ignored(tmp_path: Path) -> None:
    """Stored keyframes must lie inside the clip: a file naming frame n_frames (one past the last) is not used,
    and the anchors come from the labels as for a clip without a keyframe file."""
    from signeditor.ml.signspark_keyframes import keyframe_file_path, write_keyframe_file

    project = load_project(SAMPLE_PROJECT)
    path = export_document(project, tmp_path / "take.signspark.npz")
    from_labels_dir = tmp_path / "plain"
    from_labels_dir.mkdir()
    shutil.copy(path, from_labels_dir / path.name)
    from_labels = sorted(a.frame for a in open_document(from_labels_dir / path.name).anchors)
    n = project.motion.n_frames
    write_keyframe_file(keyframe_file_path(path), {"take": [0, 5, n - 1]})  # inside: the file is used
    assert sorted(a.frame for a in open_document(path).anchors) == [0, 5, n - 1]
    for bad in ([0, 5, n], [-1, 5, 10]):
        write_keyframe_file(keyframe_file_path(path), {"take": bad})
        assert sorted(a.frame for a in open_document(path).anchors) == from_labels, bad


def test_same_names_never_overwrite_each_other(tmp_path: Path) -> None:
    a = sample_copy(tmp_path / "a" / "x.signproj")
    b = sample_copy(tmp_path / "b" / "x.signproj")
    v1, v2 = sample_copy(tmp_path / "x.v1.signproj"), sample_copy(tmp_path / "x.v2.signproj")
    for fmt, suffix in (("npz", ".npz"), ("signspark", ".signspark.npz"), ("lmdb", ".lmdb")):
        out = tmp_path / f"out-{fmt}"
        assert main(["export", str(a), str(b), str(v1), str(v2), "-f", fmt, "-o", str(out)]) == 0
        assert sorted(p.name for p in out.iterdir() if p.name.endswith(suffix)) == sorted(
            f"{n}{suffix}" for n in ("x", "x-2", "x.v1", "x.v2"))
    assert [r.clip_id for r in read_signspark_lmdb(tmp_path / "out-lmdb" / "x.v2.lmdb")] == ["x.v2"]


def _npz_with(**arrays: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _record_arrays(n: int = 6) -> dict[str, np.ndarray]:
    identity = np.tile([1.0, 0, 0, 0, 1, 0], 1).astype(np.float32)
    return {"segment": np.zeros(n, np.int64), "left_features": np.tile(identity, (n, 15)),
            "right_features": np.tile(identity, (n, 15)), "body_features": np.tile(identity, (n, 21)),
            "face_features": np.concatenate([np.tile(identity, (n, 1)), np.zeros((n, 50), np.float32)], 1)}


class _Touch:
    """Unpickling this would create a file: the proof that nothing was unpickled."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple:
        return (open, (str(self.path), "w"))


def test_object_array_strings_are_decoded_without_unpickling(tmp_path: Path) -> None:
    path = tmp_path / "theirs.signspark.npz"
    path.write_bytes(_npz_with(**_record_arrays(), language=np.array(["gsg"], dtype=object),
                               translation=np.array(["Wie geht es dir?"], dtype=object),
                               gloss=np.array(["WIE GEHT-ES DIR"], dtype=object)))
    record = read_signspark_record(path)
    assert (record.language, record.translation, record.gloss) == ("gsg", "Wie geht es dir?", "WIE GEHT-ES DIR")

    sentinel = tmp_path / "ran"
    hostile = tmp_path / "hostile.signspark.npz"
    hostile.write_bytes(_npz_with(**_record_arrays(), language=np.array([_Touch(sentinel)], dtype=object)))
    with pytest.raises(FileFormatError, match="'language' refused"):
        read_signspark_record(hostile)
    evil_numbers = tmp_path / "numbers.signspark.npz"
    evil_numbers.write_bytes(_npz_with(**{**_record_arrays(), "segment": np.array([_Touch(sentinel)] * 6)}))
    with pytest.raises(FileFormatError, match="'segment' is an object array"):
        read_signspark_record(evil_numbers)
    assert not sentinel.exists()


def test_train_reads_their_layout_with_its_own_dev_split(tmp_path: Path) -> None:
    from signeditor.data.signspark_corpus import is_signspark_corpus, signspark_clips

    inputs = [sample_copy(tmp_path / f"in/c{i}.signproj") for i in range(6)]
    root = tmp_path / "data"
    assert main(["export", *map(str, inputs[:4]), "-f", "lmdb", "--signspark-layout", str(root)]) == 0
    # A second dataset beside the first, as their README's train/ holds CSL-Daily and How2Sign.
    assert main(["export", *map(str, inputs[4:]), "-f", "lmdb", "-o", str(tmp_path / "more")]) == 0
    shutil.copytree(tmp_path / "more" / "c4.lmdb", root / "lmdb" / "train" / "Other_train.lmdb")
    for data in (root, root / "lmdb"):
        assert is_signspark_corpus(data)
        train = {c.id for c in signspark_clips(data, "train")}
        val = {c.id for c in signspark_clips(data, "val")}
        assert len(train) == 4 and len(val) == 1 and "c4" in train and not train & val
    single = tmp_path / "more" / "c5.lmdb"
    assert [c.id for c in signspark_clips(single, "train")] == ["c5"]  # one clip: nothing to hold out
    big = tmp_path / "big"
    assert main(["export", *map(str, inputs), "-f", "lmdb", "--signspark-layout", str(big), "--dev-fraction",
                 "0.0"]) == 0
    database = next((big / "lmdb" / "train").glob("*.lmdb"))
    train = {c.id for c in signspark_clips(database, "train")}
    val = {c.id for c in signspark_clips(database, "val")}
    assert len(val) == 1 and len(train) == 4 and not train & val  # a single database: a tenth, at least one


def test_export_of_data_mdb_writes_every_clip(tmp_path: Path) -> None:
    inputs = [sample_copy(tmp_path / f"in/c{i}.signproj") for i in range(3)]
    root = tmp_path / "data"
    assert main(["export", *map(str, inputs), "-f", "lmdb", "--signspark-layout", str(root), "--dev-fraction",
                 "0.0"]) == 0
    database = next((root / "lmdb" / "train").glob("*.lmdb"))
    assert main(["export", str(database / "data.mdb"), "-f", "bvh", "-o", str(tmp_path / "bvh")]) == 0
    assert len(list((tmp_path / "bvh").glob("*.bvh"))) == len(read_signspark_lmdb(database)) == 2


def test_pose_metadata_gives_text_and_language(tmp_path: Path) -> None:
    (tmp_path / "train_7_metadata.json").write_text(json.dumps(
        {"sentence": {"english": "It rains.", "german": "Es regnet.", "glosses": {"gloss": ["REGEN1"]}}}))
    meta = read_pose_metadata(tmp_path / "train_7_original.pose")
    assert (meta.text, meta.spoken_language, meta.signed_language) == ("Es regnet.", "de", "gsg")
    (tmp_path / "own_metadata.json").write_text(json.dumps({"translation": "Hi", "signed_language": "ase"}))
    assert read_pose_metadata(tmp_path / "own.pose").signed_language == "ase"
    assert read_pose_metadata(tmp_path / "lonely.pose").text == ""


def test_dgs_sentence_export_carries_its_metadata(shared_signdata: Path, tmp_path: Path) -> None:
    pose = shared_signdata / "dgs_sentences" / "train_1_original.pose"
    german = json.loads((shared_signdata / "dgs_sentences" / "train_1_metadata.json").read_text())["sentence"]
    assert main(["export", str(pose), "-f", "signspark", "-o", str(tmp_path)]) == 0
    record = read_signspark_record(tmp_path / "train_1_original.signspark.npz")
    assert (record.translation, record.language) == (german["german"], "gsg")


def test_segment_takes_a_database(tmp_path: Path) -> None:
    """`signeditor segment X.lmdb` (or its data.mdb) segments the database's first clip with FAST."""
    inputs = [sample_copy(tmp_path / f"in/c{i}.signproj") for i in range(2)]
    assert main(["export", *map(str, inputs), "-f", "lmdb", "--signspark-layout", str(tmp_path / "data"),
                 "--dev-fraction", "0.0"]) == 0
    database = next((tmp_path / "data" / "lmdb" / "train").glob("*.lmdb"))
    first = read_signspark_lmdb(database)[0]
    for source in (database, database / "data.mdb"):
        out = tmp_path / f"{source.name}.json"
        assert main(["segment", str(source), "-o", str(out)]) == 0
        document = json.loads(out.read_text())
        assert document["n_frames"] == first.motion.n_frames and document["segments"]


@settings(max_examples=50, deadline=None, derandomize=True)
@given(st.integers(1, 8), st.data(), st.sampled_from([".signspark.npz", ".lmdb", ".lmdb", ".signspark.npz", ".npz"]),
       st.sampled_from(["before", "end", "past", None, None, None]), st.integers(0, 2**32 - 1))
def test_a_reopened_export_gets_exactly_its_stored_keyframes_labelled_by_their_sign(
        tmp_path_factory: pytest.TempPathFactory, n_frames: int, data, suffix: str, outside: str | None,
        seed: int) -> None:
    """Reopening a SignSparK export (.signspark.npz or .lmdb) that has no anchors of its own: the clip's stored
    keyframes (from a keyframe file written here by torch.save, beside other clips' frames) become its anchors,
    each frame once, posed as the motion there and labelled with the gloss of the sign it lies in ("" outside any
    sign). Left as it is: any other file, a project that already has anchors, a clip with no stored frames, and
    a clip whose stored frames fall outside the motion (a stale file)."""
    frames = data.draw(st.lists(st.integers(0, n_frames - 1), max_size=5), label="frames")
    if outside is not None:  # now and then a stale frame: before the clip, or past its end
        frames.append({"before": -1, "end": n_frames, "past": n_frames + 1}[outside])
    cuts = data.draw(st.lists(st.integers(1, n_frames), max_size=3), label="cuts")
    had_anchor = data.draw(st.integers(0, 5), label="anchor") == 0
    rng = np.random.default_rng(seed)
    motion = Motion(25.0, rotations.axis_angle_to_rot6d(rng.normal(size=(n_frames, 41, 3))).reshape(n_frames, -1))
    bounds = sorted({c for c in cuts if c <= n_frames} | {0, n_frames})
    segments = [Segment(a, b, str(rng.choice(["", "HAUS", "GROSS"]))) for a, b in itertools.pairwise(bounds)
                if rng.random() < 0.7]
    own = AnchorSet([Anchor(0, motion.features[0], label="mine")]) if had_anchor else AnchorSet()
    project = Project(motion=motion, anchors=own, segments=segments)
    folder = tmp_path_factory.mktemp("reopen")
    path = folder / f"take{suffix}"
    torch.save({"train": {"take": frames, "other": [0, n_frames + 5]}, "dev": {}, "test": {}},
               folder / "take.keyframes.pt")

    reopened = with_stored_keyframes(project, path, "take")

    if suffix in (".signproj", ".npz") or had_anchor or not frames or not all(0 <= f < n_frames for f in frames):
        assert [(a.frame, a.label) for a in reopened.anchors] == [(a.frame, a.label) for a in own]
        return

    def gloss_at(frame: int) -> str:
        return next((s.gloss for s in segments if s.start <= frame < s.end), "")

    assert [(a.frame, a.label) for a in reopened.anchors] == [(f, gloss_at(f)) for f in sorted(set(frames))]
    for anchor in reopened.anchors:
        np.testing.assert_array_equal(anchor.pose, motion.features[anchor.frame])


@pytest.mark.parametrize(("stored", "anchors"), [
    ([2, 0, 2], [0, 2]),  # each frame once, in order
    ([0, 3], [0, 3]),  # the first and the last frame
    ([-1, 1], []),  # a frame before the clip: the file is stale, the labels give the anchors instead
    ([1, 4], []),  # a frame just past the end
    ([], []),  # the clip is listed without frames
])
def test_stored_keyframes_at_the_clips_edges(tmp_path: Path, stored: list[int], anchors: list[int]) -> None:
    """A 4-frame clip reopened from take.lmdb with these stored frames: anchors on exactly the stored frames when
    all lie in the clip, none otherwise."""
    torch.save({"train": {"take": stored}, "dev": {}, "test": {}}, tmp_path / "take.keyframes.pt")
    reopened = with_stored_keyframes(Project(motion=Motion.rest(4)), tmp_path / "take.lmdb", "take")
    assert reopened.anchors.frames == anchors
