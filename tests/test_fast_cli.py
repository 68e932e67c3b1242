"""The segment command (JSON and ELAN output, read back), the eval command and the ELAN reader."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pympi
import pytest
import torch
from needs import missing

from signeditor.cli import main
from signeditor.core.hand_features import HAND_FEATURE_DIM
from signeditor.core.project import Project
from signeditor.core.segmentation_decoding import DecodingSettings
from signeditor.core.segments import Segment
from signeditor.io.elan import read_elan, write_elan
from signeditor.io.errors import FileFormatError
from signeditor.io.project_file import save_project
from signeditor.ml.fast.api import make_checkpoint
from signeditor.ml.fast.model import FastSegmenterNet
from signeditor.ml.fast.synthetic import synthetic_motion

SHARED = Path(__file__).parents[1] / ".." / "shared" / "signdata"


@pytest.fixture
def always_sign_weights(tmp_path: Path) -> Path:
    """A checkpoint whose head says "in sign" everywhere and never "start", decoded from its probabilities alone
    (no split at wrist-speed minima): one segment over the whole clip."""
    torch.manual_seed(0)
    net = FastSegmenterNet()
    with torch.no_grad():
        net.head.weight.zero_()
        net.head.bias.copy_(torch.tensor([-5.0, 5.0, -5.0]))
    path = tmp_path / "fast.pt"
    torch.save(make_checkpoint(net, np.zeros((2, HAND_FEATURE_DIM)), np.ones((2, HAND_FEATURE_DIM)),
                               DecodingSettings(), splitting=None), path)
    return path


def _project(tmp_path: Path, n_signs: int = 3) -> tuple[Path, int]:
    motion, _ = synthetic_motion(np.random.default_rng(0), n_signs)
    path = tmp_path / "clip.signproj"
    save_project(Project(motion=motion), path)
    return path, motion.n_frames


def test_segment_cli_writes_json_with_segments_and_keyframes(tmp_path: Path, always_sign_weights: Path) -> None:
    source, n_frames = _project(tmp_path)
    out = tmp_path / "out.json"
    assert main(["segment", str(source), "-o", str(out), "--weights", str(always_sign_weights)]) == 0
    document = json.loads(out.read_text())
    assert document["n_frames"] == n_frames
    assert [(s["start"], s["end"]) for s in document["segments"]] == [(0, n_frames)]
    assert document["segments"][0]["confidence"] > 0.99
    frames = [k["frame"] for k in document["keyframes"]]
    assert frames == [0, (n_frames - 1) // 2, n_frames - 1]
    assert document["keyframes"][0]["label"] == "SIGN1 onset"


def test_segment_cli_writes_elan_read_back_by_pympi(tmp_path: Path, always_sign_weights: Path) -> None:
    source, n_frames = _project(tmp_path)
    out = tmp_path / "out.eaf"
    assert main(["segment", str(source), "-o", str(out), "--weights", str(always_sign_weights)]) == 0
    eaf = pympi.Elan.Eaf(str(out))
    assert "Sign" in eaf.get_tier_names()
    (annotation,) = eaf.get_annotation_data_for_tier("Sign")
    assert annotation[:3] == (0, round(n_frames * 40), "SIGN1")
    assert read_elan(out, 25.0) == [Segment(0, n_frames, "SIGN1")]


def test_segment_cli_reports_missing_weights(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source, _ = _project(tmp_path, 1)
    code = main(["segment", str(source), "-o", str(tmp_path / "o.json"), "--weights", str(tmp_path / "no.pt")])
    assert code == 2
    assert "not found" in capsys.readouterr().err


def test_elan_round_trip_keeps_frames_and_glosses(tmp_path: Path) -> None:
    segments = [Segment(3, 11, "HOUSE"), Segment(11, 20, ""), Segment(31, 33, "YOUNG")]
    path = tmp_path / "signs.eaf"
    write_elan(segments, 25.0, path)
    clipped = tmp_path / "clipped.eaf"
    write_elan(segments, 25.0, clipped, n_frames=15)
    assert [(s.start, s.end) for s in read_elan(clipped, 25.0)] == [(3, 11), (11, 15)]
    back = read_elan(path, fps=25.0)
    assert [(s.start, s.end) for s in back] == [(3, 11), (11, 20), (31, 33)]
    assert [s.gloss for s in back] == ["HOUSE", "SIGN2", "YOUNG"]
    # At another frame rate the times stay the same, so frames scale.
    assert (read_elan(path, fps=50.0)[0].start, read_elan(path, fps=50.0)[0].end) == (6, 22)
    with pytest.raises(FileFormatError, match="tier"):
        read_elan(path, 25.0, tier="Mouthing")
    bad = tmp_path / "bad.eaf"
    bad.write_text("<not-elan")
    with pytest.raises(FileFormatError):
        read_elan(bad, 25.0)


@pytest.mark.shared_data
@pytest.mark.slow
def test_eval_segment_on_a_pose_folder(tmp_path: Path, always_sign_weights: Path,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    source = SHARED / "dgs_sentences"
    if not source.is_dir():
        missing("../shared/signdata/dgs_sentences is absent")
    folder = tmp_path / "sentences"
    folder.mkdir()
    for name in ("train_4_original.pose", "train_4_metadata.json"):
        shutil.copy(source / name, folder / name)
    args = ["eval", "segment", "--data", str(folder), "--weights", str(always_sign_weights), "--json"]
    assert main(args) == 0
    result = json.loads(capsys.readouterr().out)
    fast = result["fast"]
    # The always-sign model predicts one segment over the whole clip: its scores follow from the three glosses.
    assert fast["predicted_signs"] == 1 and fast["true_signs"] == 3
    assert fast["sign_count_abs_err"] == 2.0
    assert 0.0 < fast["frame_f1"] < 1.0
    assert set(result["baseline_speed_minima"]) == set(fast)
    assert set(result["fast_shipped_decoding"]) == set(fast)
