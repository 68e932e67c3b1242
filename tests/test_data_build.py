"""``signeditor data build``: every dataset layout becomes the corpus contract, deterministically."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from conftest import HAND_POINTS, plausible_features, reduced_holistic_points, write_pose

from signeditor.cli import main
from signeditor.core.ik import rest_pose_features
from signeditor.data.build import build_corpus
from signeditor.data.corpus import ARRAY_NAMES, clips_for_split, load_corpus
from signeditor.io.errors import FileFormatError

INDEX_FIELDS = {"id", "dataset", "source", "split", "signed_language", "spoken_language", "text", "glosses",
                "n_frames", "has_labels", "kind", "stitched_frames", "gloss_spans_exact"}


def _isolated_clip(path: Path, n: int = 30, fps: float = 25.0, active: tuple[int, int] = (8, 20)) -> Path:
    """A sign: hands down and out of view, raised and detected over ``active``, then down again."""
    features = np.tile(rest_pose_features(), (n, 1))
    components = reduced_holistic_points(features)
    confidence = {}
    for hand in ("LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS"):
        names, points = components[hand]
        points = points.copy()
        points[active[0]:active[1], :, 1] += 0.5  # raised to chest height while signing
        components[hand] = (names, points)
        c = np.zeros((n, len(HAND_POINTS)))
        c[active[0]:active[1]] = 1.0
        confidence[hand] = c
    return write_pose(path, components, fps, confidence)


@pytest.fixture
def signdata(tmp_path: Path, make_pose_file) -> Path:
    root = tmp_path / "signdata"
    sentences = root / "dgs_sentences"
    for number in (3, 5):
        make_pose_file(f"train_{number}_original.pose", n_frames=40, folder=sentences, seed=number)
        make_pose_file(f"train_{number}_updated.pose", n_frames=30, folder=sentences, seed=number + 10)
        metadata = {"sentence": {"start": 1000, "end": 2600, "german": f"Satz {number}", "glosses": {
            "gloss": ["ICH1", "HAUS1A"], "start": [1000, 1800], "end": [1400, 2600]}}}
        (sentences / f"train_{number}_metadata.json").write_text(json.dumps(metadata))
    _isolated_clip((root / "dsgs_isolated").mkdir(parents=True) or root / "dsgs_isolated" / "ss01.pose", fps=30.0)
    (root / "dsgs_isolated" / "ss02.pose").write_bytes(b"\x00 broken")
    (root / "fingerspelling_lexicon" / "ase").mkdir(parents=True)
    _isolated_clip(root / "fingerspelling_lexicon" / "ase" / "fs-a.pose")
    (root / "fingerspelling_lexicon" / "index.csv").write_text(
        "path,spoken_language,signed_language,start,end,words,glosses,priority\nase/fs-a.pose,en,ase,0,1200,A,A,0\n")
    phoenix = root / "phoenix_ptslp"
    phoenix.mkdir()
    frame = np.zeros((50, 3))
    frame[0], frame[2], frame[5] = (0, -0.17, 0), (0.16, 0.08, 0), (-0.16, 0.08, 0)
    frame[3], frame[4], frame[6], frame[7] = (0.28, 0.36, 0), (0.15, 0.46, 0.2), (-0.36, 0.32, 0), (-0.23, 0.25, 0.2)
    rows = [" ".join(f"{v:.5f}" for v in np.append(frame.ravel(), i / 9)) for i in range(10)]
    (phoenix / "dev.skels").write_text(" ".join(rows) + "\n")
    (phoenix / "dev.gloss").write_text("REGEN WIND\n")
    (phoenix / "dev.text").write_text("es regnet\n")
    return root


def _build(signdata: Path, out: Path, **kwargs) -> tuple[list, object, list[str]]:
    messages: list[str] = []
    records, report = build_corpus(signdata, out, log=messages.append, **kwargs)
    return records, report, messages


def test_corpus_contract(signdata: Path, tmp_path: Path) -> None:
    out = tmp_path / "data"
    _, report, messages = _build(signdata, out)
    assert report.skipped == 1 and any("ss02.pose" in m for m in messages)
    index = json.loads((out / "index.json").read_text())
    assert index["version"] == 1 and index["fps"] == 25.0
    assert {c["dataset"] for c in index["clips"]} == {"dgs_sentences", "dsgs_isolated", "fingerspelling_lexicon",
                                                      "phoenix_ptslp"}
    for clip in index["clips"]:
        assert set(clip) == INDEX_FIELDS and clip["split"] in ("train", "val", "test")
        arrays = np.load(out / "clips" / f"{clip['id']}.npz", allow_pickle=False)
        assert set(ARRAY_NAMES) <= set(arrays.files)
        n, k = clip["n_frames"], len(arrays["keypoint_names"])
        assert arrays["features"].shape == (n, 246) and arrays["features"].dtype == np.float32
        assert arrays["filled"].shape == (n,) and arrays["filled"].dtype == bool
        assert arrays["labels"].shape == (n,) and arrays["labels"].dtype == np.int8
        assert arrays["keypoints"].shape == (n, k, 3) and arrays["keypoints"].dtype == np.float32
        assert clip["has_labels"] == bool((arrays["labels"] >= 0).any())
    assert [r.id for r in load_corpus(out)] == [c["id"] for c in index["clips"]]


def test_gloss_timings_become_labels_and_split_holds_out_sentences(signdata: Path, tmp_path: Path) -> None:
    records, _, _ = _build(signdata, tmp_path / "data", datasets={"dgs_sentences"})
    by_source = {r.source: r for r in records}
    original = by_source["dgs_sentences/train_5_original.pose"]
    assert original.split == "test" and by_source["dgs_sentences/train_5_updated.pose"].split == "test"
    assert by_source["dgs_sentences/train_3_original.pose"].split == "train"
    assert original.glosses == ["ICH1", "HAUS1A"] and original.text == "Satz 5" and original.kind == "sentence"
    labels = original.load()["labels"]
    # 1600 ms span over 40 frames: ICH1 0..400 ms -> frames 0..10, HAUS1A 800..1600 ms -> frames 20..40.
    expected = np.zeros(40, dtype=np.int8)
    expected[0], expected[1:10], expected[20], expected[21:40] = 2, 1, 2, 1
    np.testing.assert_array_equal(labels, expected)
    updated = by_source["dgs_sentences/train_5_updated.pose"]
    assert not updated.has_labels and (updated.load()["labels"] == -1).all()
    assert len(clips_for_split(records, "test")) == 2


def test_stitched_sentence_is_masked_and_labelled_from_its_transitions(tmp_path: Path) -> None:
    """Three sign spans joined by straight constant-speed lines (as the DGS sentences are): the joins are
    masked, the labels are exactly the spans, and a gloss count that does not match falls back and says so."""
    sentences = tmp_path / "signdata" / "dgs_sentences"
    sentences.mkdir(parents=True)
    pieces = [reduced_holistic_points(plausible_features(n, seed)) for n, seed in ((10, 1), (8, 2), (12, 3))]
    components = {}
    for name in pieces[0]:
        parts = [pieces[0][name][1]]
        for gap, piece in zip((4, 5), pieces[1:], strict=True):
            a, b = parts[-1][-1], piece[name][1][0]
            parts += [a + (np.arange(1, gap + 1) / (gap + 1))[:, None, None] * (b - a), piece[name][1]]
        components[name] = (pieces[0][name][0], np.concatenate(parts))
    for number, glosses in ((7, ["A1", "B1", "C1"]), (8, ["A1", "B1"])):
        write_pose(sentences / f"train_{number}_original.pose", components)
        metadata = {"sentence": {"start": 0, "end": 1560, "german": "Satz", "glosses": {
            "gloss": glosses, "start": [0, 400, 800][:len(glosses)], "end": [300, 700, 1500][:len(glosses)]}}}
        (sentences / f"train_{number}_metadata.json").write_text(json.dumps(metadata))
    records, report, messages = _build(tmp_path / "signdata", tmp_path / "data")
    exact = next(r for r in records if "train_7" in r.source)
    arrays = exact.load()
    expected_mask = np.zeros(39, dtype=bool)
    expected_mask[10:14] = expected_mask[22:27] = True
    np.testing.assert_array_equal(arrays["stitched"], expected_mask)
    expected = np.zeros(39, dtype=np.int8)
    for start, stop in ((0, 10), (14, 22), (27, 39)):
        expected[start], expected[start + 1:stop] = 2, 1
    np.testing.assert_array_equal(arrays["labels"], expected)
    assert exact.gloss_spans_exact and exact.stitched_frames == 9
    assert report.stitched_clips == 2 and report.masked_frames == 18
    assert report.label_fallbacks == ["dgs_sentences/train_8_original.pose"]
    assert any("train_8" in m and "2 inserted transitions for 2 glosses" in m for m in messages)


def test_hand_activity_labels_isolated_signs(signdata: Path, tmp_path: Path) -> None:
    records, _, _ = _build(signdata, tmp_path / "data", datasets={"dsgs_isolated", "fingerspelling_lexicon"})
    dsgs = next(r for r in records if r.dataset == "dsgs_isolated")
    arrays = dsgs.load()
    # 30 fps source resampled to 25 fps: 30 frames -> 25; the sign spans source frames 8..19 (0.27..0.67 s).
    assert dsgs.n_frames == 25 and dsgs.signed_language == "sgg" and dsgs.kind == "isolated"
    labels = arrays["labels"]
    start = int(np.flatnonzero(labels == 2)[0])
    assert abs(start - 7) <= 1 and (labels[:start] == 0).all()
    assert (labels[start + 1:15] == 1).all() and (labels[18:] == 0).all()
    assert arrays["filled"][:5].all() and not arrays["filled"][10:14].any()
    letter = next(r for r in records if r.dataset == "fingerspelling_lexicon")
    assert (letter.glosses, letter.signed_language, letter.spoken_language, letter.kind) == (
        ["A"], "ase", "en", "fingerspelling")


def test_phoenix_sequences_are_unlabelled_sentences(signdata: Path, tmp_path: Path) -> None:
    records, _, _ = _build(signdata, tmp_path / "data", datasets={"phoenix_ptslp"})
    (clip,) = records
    assert clip.split == "val" and clip.glosses == ["REGEN", "WIND"] and clip.text == "es regnet"
    arrays = clip.load()
    assert clip.n_frames == 10 and (arrays["labels"] == -1).all()
    names = list(arrays["keypoint_names"])
    right = arrays["keypoints"][0, names.index("POSE_LANDMARKS.RIGHT_SHOULDER")]
    head = arrays["keypoints"][0, names.index("POSE_LANDMARKS.HEAD")]
    assert right[0] < 0 and head[1] > right[1]  # the right shoulder on the signer's right, head up


def test_rebuild_is_deterministic_and_incremental(signdata: Path, tmp_path: Path) -> None:
    out = tmp_path / "data"
    _build(signdata, out)
    first = {p.name: p.read_bytes() for p in sorted((out / "clips").iterdir())}
    index = (out / "index.json").read_bytes()
    _, report, _ = _build(signdata, out)
    assert report.built == 0 and report.reused == len(json.loads(index)["clips"])
    source = signdata / "fingerspelling_lexicon" / "ase" / "fs-a.pose"
    os.utime(source, (source.stat().st_mtime + 100, source.stat().st_mtime + 100))
    _, report, _ = _build(signdata, out)
    assert report.built == 1
    _, report, _ = _build(signdata, out, force=True)
    assert report.built == report.reused + len(json.loads(index)["clips"])
    assert {p.name: p.read_bytes() for p in sorted((out / "clips").iterdir())} == first
    assert (out / "index.json").read_bytes() == index


def test_cli_data_build(signdata: Path, tmp_path: Path, capsys) -> None:
    out = tmp_path / "cli"
    assert main(["data", "build", str(signdata), "-o", str(out)]) == 0
    printed = capsys.readouterr()
    assert "skip dsgs_isolated/ss02.pose" in printed.out + printed.err
    assert "clips" in printed.out and (out / "index.json").exists()


def test_load_corpus_rejects_malformed_index(tmp_path: Path) -> None:
    (tmp_path / "index.json").write_text("{not json")
    with pytest.raises(FileFormatError, match="malformed"):
        load_corpus(tmp_path)


@pytest.mark.shared_data
def test_real_dgs_sentences_build(shared_signdata: Path, tmp_path: Path) -> None:
    records, report, _ = _build(shared_signdata, tmp_path / "data", datasets={"dgs_sentences"})
    assert report.skipped == 0 and len(records) >= 3
    test_clips = [r for r in clips_for_split(records, "test") if r.has_labels]
    assert len(test_clips) >= 3
    labels = test_clips[0].load()["labels"]
    assert (labels == 2).sum() == len(test_clips[0].glosses)
