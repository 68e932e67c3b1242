"""fast_tracks: the numpy forward against torch, its weight file, the BOSTON-104 reader, training, eval and CLI."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from signeditor.cli import main
from signeditor.core.project import Project
from signeditor.core.segments import Segment
from signeditor.data.boston104 import load_boston, split_of
from signeditor.io.elan import write_elan
from signeditor.io.errors import FileFormatError
from signeditor.io.project_file import save_project
from signeditor.ml.fast.synthetic import synthetic_motion
from signeditor.ml.fast_tracks.network import TracksConfig, TracksWeights, forward, load_weights, save_weights

torch = pytest.importorskip("torch")


def _boston_folder(folder: Path, n_sentences: int = 14, seed: int = 0) -> dict[str, list[tuple[str, int, int]]]:
    """A BOSTON-104-layout folder of synthetic sentences: the right hand rests low, rises, and makes one
    stroke per sign with a pause between; returns each video's (word, start, last frame) rows."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    words: dict[str, list[tuple[str, int, int]]] = {}
    with (folder / "hands.csv").open("w", newline="") as hands:
        writer = csv.writer(hands)
        writer.writerow(["video", "frame", "left-x", "left-y", "right-x", "right-y", "nose-x", "nose-y"])
        for v in range(1, n_sentences + 1):
            frames, rows, t = [], [], 6
            right = [(170.0, 175.0)] * 6
            for k in range(int(rng.integers(2, 5))):
                length = int(rng.integers(8, 14))
                target = (rng.uniform(100, 180), rng.uniform(70, 120))
                start = right[-1]
                right += [tuple(np.add(start, np.subtract(target, start) * (i + 1) / length)) for i in range(length)]
                rows.append((f"W{k}", t, t + length - 1))
                right += [target] * 2
                t += length + 2
            right += [(170.0, 175.0)] * 6
            for f, (rx, ry) in enumerate(right):
                frames.append([v, f, 149, 181, round(rx), round(ry), 161, 62])
            writer.writerows(frames)
            words[str(v)] = rows
    with (folder / "train_words.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["video", "speaker", "word", "startframe", "endframe"])
        for v, rows in words.items():
            writer.writerows([v, "woman-1", w, a, b] for w, a, b in rows)
    return words


def _random_weights(config: TracksConfig, seed: int = 0) -> tuple[TracksWeights, object]:
    from signeditor.ml.fast_tracks.training import _torch_net

    torch.manual_seed(seed)
    net = _torch_net(config, dropout=0.0).eval()
    mean = np.random.default_rng(seed).normal(size=config.in_dim).astype(np.float32)
    return TracksWeights(config, mean, np.full(config.in_dim, 2.0, np.float32), net.export()), net


def test_numpy_forward_matches_the_torch_layers_it_was_exported_from() -> None:
    config = TracksConfig(channels=8)
    weights, net = _random_weights(config)
    rng = np.random.default_rng(1)
    clips = [rng.normal(size=(n, config.in_dim)).astype(np.float32) for n in (37, 20)]
    # The two clips in one padded batch, as training sees them.
    x = torch.zeros(2, 37, config.in_dim)
    keep = torch.zeros(2, 37, 1)
    for i, clip in enumerate(clips):
        x[i, : len(clip)] = (torch.from_numpy(clip) - torch.from_numpy(weights.mean)) / torch.from_numpy(weights.std)
        keep[i, : len(clip)] = 1.0
    with torch.no_grad():
        batched = torch.softmax(net(x, keep), dim=-1).numpy()
    for i, clip in enumerate(clips):
        probs = forward(weights, clip)
        assert probs.shape == (len(clip), 3)
        np.testing.assert_allclose(probs, batched[i, : len(clip)], atol=1e-5)


def test_weights_file_round_trip_and_refusals(tmp_path: Path) -> None:
    weights, _ = _random_weights(TracksConfig(channels=8))
    weights.extra = {"decoding": {"sign_threshold": 0.4}}
    path = tmp_path / "w.npz"
    save_weights(weights, path)
    back = load_weights(path)
    assert back.config == weights.config and back.extra == weights.extra
    features = np.random.default_rng(0).normal(size=(15, weights.config.in_dim))
    np.testing.assert_array_equal(forward(back, features), forward(weights, features))

    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, header=np.array([{"format": "signeditor-fast-tracks"}], dtype=object))
    with pytest.raises(FileFormatError, match=r"pickled\.npz"):
        load_weights(pickled)  # object arrays need pickle: refused, never unpickled
    arrays = dict(np.load(path, allow_pickle=False))
    del arrays["block2.conv.w"]
    damaged = tmp_path / "damaged.npz"
    np.savez(damaged, **arrays)
    with pytest.raises(FileFormatError, match=r"block2\.conv\.w"):
        load_weights(damaged)
    with pytest.raises(FileFormatError, match="not found"):
        load_weights(tmp_path / "missing.npz")


def test_boston_reader_splits_by_hash_and_keeps_word_timing(tmp_path: Path) -> None:
    words = _boston_folder(tmp_path / "boston")
    everything = load_boston(tmp_path / "boston")
    assert {s.name for s in everything} == set(words)
    for sentence in everything:
        assert [(s.gloss, s.start, s.end - 1) for s in sentence.signs] == words[sentence.name]
        assert sentence.tracks.shape == (sentence.n_frames, 3, 2)
        assert sentence.tracks[0, 2, 1] == -62  # image y down -> y up
    parts = [{s.name for s in load_boston(tmp_path / "boston", (p,))} for p in ("train", "val", "test")]
    assert sum(len(p) for p in parts) == len(words) and not (parts[0] & parts[1] or parts[1] & parts[2])
    assert all(split_of(name) == p for p, names in zip(("train", "val", "test"), parts, strict=True)
               for name in names)
    with pytest.raises(FileFormatError, match="BOSTON-104"):
        load_boston(tmp_path)


def test_train_command_writes_weights_eval_reads_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "boston"
    _boston_folder(folder, n_sentences=16)
    out = tmp_path / "tracks.npz"
    assert main(["train", "fast-tracks", "--data", str(folder), "--steps", "2", "-o", str(out), "--json"]) == 0
    capsys.readouterr()
    assert load_weights(out).extra["info"]["steps"] == 2
    assert main(["eval", "segment", "--data", str(folder), "--split", "all", "--tracks-weights", str(out),
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert "skipped" in result["fast"]  # a full-skeleton model cannot read 2D tracks: said, not failed
    keys = {"segment_f1_iou50", "sign_count_abs_err", "boundary_f1_2frames", "boundary_err_median_frames"}
    for method in ("baseline_speed_minima", "baseline_speed_minima_given_count", "speed_split_of_signing_span",
                   "fast_tracks", "fast_gloss_guided"):
        assert keys <= set(result[method])
    # Given the word lists, the alignment lays exactly as many signs as each sentence has.
    assert result["fast_gloss_guided"]["sign_count_abs_err"] == 0.0
    assert result["fast_gloss_guided"]["true_signs"] == result["fast_gloss_guided"]["predicted_signs"]


def _project(tmp_path: Path) -> tuple[Path, int]:
    motion, _ = synthetic_motion(np.random.default_rng(0), 3)
    path = tmp_path / "clip.signproj"
    save_project(Project(motion=motion), path)
    return path, motion.n_frames


def test_segment_cli_lays_the_given_glosses(tmp_path: Path) -> None:
    source, _ = _project(tmp_path)
    out = tmp_path / "out.json"
    assert main(["segment", str(source), "-o", str(out), "--glosses", "HOUSE TREE CAR",
                 "--gloss-source", "tracks"]) == 0
    document = json.loads(out.read_text())
    assert [s["gloss"] for s in document["segments"]] == ["HOUSE", "TREE", "CAR"]
    assert {k["label"] for k in document["keyframes"]} >= {"HOUSE onset", "CAR offset"}

    eaf = tmp_path / "glosses.eaf"
    write_elan([Segment(0, 10, "A"), Segment(10, 20, "B")], 25.0, eaf)  # named signs: a Gloss tier too
    out_eaf = tmp_path / "out.eaf"
    assert main(["segment", str(source), "-o", str(out_eaf), "--glosses-from", str(eaf),
                 "--gloss-source", "tracks"]) == 0
    from signeditor.io.elan import read_elan

    assert [s.gloss for s in read_elan(out_eaf, 25.0)] == ["A", "B"]


@pytest.mark.parametrize("kind", ["empty", "too_many", "no_gloss_tier"])
def test_segment_cli_refuses_bad_gloss_lists_and_writes_nothing(tmp_path: Path, kind: str,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    source, n_frames = _project(tmp_path)
    before = source.read_bytes()
    out = tmp_path / "out.json"
    if kind == "no_gloss_tier":
        eaf = tmp_path / "signs_only.eaf"
        write_elan([Segment(0, 10)], 25.0, eaf)  # unnamed signs: only a Sign tier
        given, expected = ["--glosses-from", str(eaf)], "no gloss tier"
    elif kind == "empty":
        given, expected = ["--glosses", " , "], "empty"
    else:
        given, expected = ["--glosses", " ".join(["G"] * (n_frames + 1))], f"only {n_frames} frames"
    assert main(["segment", str(source), "-o", str(out), *given, "--gloss-source", "tracks"]) == 2
    assert expected in capsys.readouterr().err
    assert not out.exists() and source.read_bytes() == before
