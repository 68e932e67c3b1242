"""``train fast|kf2p`` never overwrite the shipped weights unless asked, and KF2P records which FAST it used."""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import numpy as np
import pytest

from signeditor.cli import build_parser
from signeditor.cli.train import kf2p as train_kf2p
from signeditor.cli.train._outputs import training_output
from signeditor.ml.kf2p.synthetic import synthetic_clip
from signeditor.ml.kf2p.training import TrainClip


def _parse(argv: list[str]) -> argparse.Namespace:
    return build_parser(argv).parse_args(argv)


def test_default_output_is_a_new_file_under_runs(tmp_path: Path) -> None:
    shipped = tmp_path / "models" / "kf2p.pt"
    first = training_output("kf2p", None, False, shipped, runs_dir=tmp_path / "runs")
    assert first.parent == tmp_path / "runs" / "kf2p" and not first.exists()
    first.write_bytes(b"run 1")
    second = training_output("kf2p", None, False, shipped, runs_dir=tmp_path / "runs")
    assert second != first and not second.exists()
    assert training_output("kf2p", None, True, shipped) == shipped
    assert training_output("kf2p", tmp_path / "mine.pt", False, shipped) == tmp_path / "mine.pt"


@pytest.mark.parametrize("model", ["fast", "kf2p"])
def test_install_and_output_are_exclusive_and_neither_is_the_default(model: str) -> None:
    args = _parse(["train", model])
    assert args.out is None and not args.install
    with pytest.raises(SystemExit):
        _parse(["train", model, "--install", "-o", "x.pt"])


def test_kf2p_run_records_the_fast_weights_hash_and_writes_under_runs(tmp_path: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    fast = tmp_path / "fast.pt"
    fast.write_bytes(b"these FAST weights")
    rng = np.random.default_rng(0)
    clips = [TrainClip(*synthetic_clip(rng, 40), text="", signed_language="gsg")]
    monkeypatch.setattr(train_kf2p, "load_train_clips", lambda *a, **k: clips)
    monkeypatch.setattr(train_kf2p, "_segmenter_tags", lambda weights: (lambda f: np.zeros(len(f), np.int8)))
    calls = []
    monkeypatch.setattr(train_kf2p, "train", lambda tr, va, cfg, out, meta, **kw: calls.append((out, meta)) or {})
    args = _parse(["train", "kf2p", "--fast-weights", str(fast), "--data", str(tmp_path)])
    summary = train_kf2p.run(args)
    out, meta = calls[0]
    assert out.parent == Path("runs") / "kf2p"
    assert meta["fast_weights_sha256"] == hashlib.sha256(b"these FAST weights").hexdigest()
    assert summary["fast_weights_sha256"] == meta["fast_weights_sha256"] and summary["out"] == str(out)


def test_train_options_of_the_issue_13_experiments_parse_and_default_to_the_shipped_recipe() -> None:
    """The experiments the model cards report are reruns of the same commands with these options."""
    from signeditor.ml.fast.training import TrainingSettings
    from signeditor.ml.kf2p.training import TrainConfig

    fast = _parse(["train", "fast"])
    assert fast.mix is None and fast.spelled_in_place == 0.0 == TrainingSettings().p_spelled_in_place
    assert "continuous" not in TrainingSettings().mix
    mixed = _parse(["train", "fast", "--mix", "isolated=0.5,continuous=0.5"])
    assert mixed.mix == {"isolated": 0.5, "continuous": 0.5}
    for bad in ("walking=1", "isolated=x", "isolated=0"):
        with pytest.raises(SystemExit):
            _parse(["train", "fast", "--mix", bad])
    kf2p = _parse(["train", "kf2p"])
    assert kf2p.hand_shape_weight == 0.0 == TrainConfig().loss_weights["hand_shape"]
    assert kf2p.continuous_share == 0.0 == TrainConfig().continuous_share
