"""Data-parallel training (torchrun, gloo on CPU) against one process on the same global batches; resume."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from signeditor.ml.kf2p.model import KF2PConfig
from signeditor.ml.kf2p.training import Batch, NoiseRows, TrainClip, TrainConfig, compute_normaliser

TESTS = Path(__file__).resolve().parent


def torchrun(nproc: int, *args: str, cwd: Path) -> tuple[str, str]:
    """torchrun on this machine (a free port); on a timeout the whole process group is ended, ranks included."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(TESTS)}
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(nproc), *args]
    proc = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        out, err = proc.communicate(timeout=240)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise
    assert proc.returncode == 0, err[-4000:]
    return out, err


def rank0_summary(stdout: str) -> dict:
    """Rank 0's JSON summary among the ranks' outputs (the other ranks print ``{}``, in any order)."""
    summary, _ = json.JSONDecoder().raw_decode(stdout[stdout.index('{\n "'):])
    return summary


def _concatenated(parts: list[dict]) -> Batch:
    """Two ranks' rows as one batch (text ids padded with zero-weight tokens, as batch_token_ids pads)."""
    width = max(p["text_ids"].shape[1] for p in parts)

    def padded(t: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.pad(t, (0, width - t.shape[1]))

    fields = {k: torch.cat([padded(p[k]) if k.startswith("text") else p[k] for p in parts]) for k in parts[0]}
    return Batch(**fields)


@pytest.mark.slow
def test_two_gloo_ranks_match_one_process_on_the_same_global_batch(tmp_path: Path) -> None:
    from ddp_driver import STEPS, fresh_model, tiny_setup

    from signeditor.ml.kf2p.position_loss import HandPositionLoss
    from signeditor.ml.kf2p.trainer import SHARED_NOISE_SEED, train_step

    torchrun(2, str(TESTS / "ddp_driver.py"), str(tmp_path), cwd=tmp_path)
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in range(2)]
    assert [r["shard_size"] for r in ranks] == [3, 3]  # each rank drew from its own half of the clips
    # Identical weights on every rank after the steps.
    for name, tensor in ranks[0]["net"].items():
        assert torch.equal(tensor, ranks[1]["net"][name]), name
    # One process, the same global batches (both ranks' rows) and the same noise: same losses and weights.
    clips, cfg = tiny_setup()
    norm = compute_normaliser(clips, np.random.default_rng(0), 0.0, n_samples=8)
    net, ema = fresh_model(cfg), fresh_model(cfg).eval()
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    noise = torch.Generator().manual_seed(cfg.seed + SHARED_NOISE_SEED)
    position = HandPositionLoss(norm)
    for step in range(STEPS):
        batch = _concatenated([ranks[0]["batches"][step], ranks[1]["batches"][step]])
        assert batch.x1.shape[0] == cfg.batch_size
        loss = train_step(net, ema, opt, batch, cfg, step, position, noise=noise,
                          noise_rows=NoiseRows(0, cfg.batch_size))
        assert loss.item() == pytest.approx(ranks[0]["losses"][step], rel=1e-5)
    for name, tensor in net.state_dict().items():
        # Summation order differs (float32), and Adam amplifies tiny gradients: measured 2e-5 at most here,
        # against 6e-3 when each rank averages its own rows (the error GlobalMaskedMean removes).
        torch.testing.assert_close(ranks[0]["net"][name], tensor, rtol=1e-3, atol=1e-4, msg=name)


def _tiny_clips() -> list[TrainClip]:
    from signeditor.ml.kf2p.synthetic import synthetic_clip

    rng = np.random.default_rng(0)
    return [TrainClip(*synthetic_clip(rng, 72), text="HAUS", signed_language="gsg") for _ in range(4)]


def test_resumed_training_continues_exactly(tmp_path: Path) -> None:
    from signeditor.ml.kf2p.trainer import train

    clips = _tiny_clips()
    cfg = TrainConfig(steps=4, batch_size=2, min_crop=32, max_crop=40, warmup=1, log_every=2, select_every=None,
                      model=KF2PConfig(channels=(16, 24, 32), cond_dim=32, text_dim=16))
    state = tmp_path / "run.state.pt"
    kept = tmp_path / "step2.state.pt"

    def keep_step_2_state(message: str) -> None:
        # At step 4's log line the state file still holds step 2's state (it is written after logging).
        if json.loads(message).get("step") == 4:
            shutil.copy(state, kept)

    whole = train(clips, [], cfg, tmp_path / "whole.pt", log=keep_step_2_state, state_path=state, state_every=2)
    resumed = train(clips, [], cfg, tmp_path / "resumed.pt", log=lambda _: None, state_path=kept, resume=True)
    def losses(summary: dict) -> list[tuple[int, float]]:
        return [(entry["step"], entry["train_loss"]) for entry in summary["history"]]

    assert losses(resumed) == losses(whole) and len(losses(whole)) == 2
    for name, tensor in whole["ema_model"].state_dict().items():
        assert torch.equal(tensor, resumed["ema_model"].state_dict()[name]), name
    with pytest.raises(Exception, match="resume with the same number of processes"):
        from signeditor.ml.kf2p.training_state import load_training_state

        load_training_state(kept, 2)


def write_signspark_corpus(folder: Path, n_train: int = 4, n_val: int = 2) -> Path:
    """A tiny SignSparK-layout corpus: train/ and dev/ LMDB databases of synthetic signing."""
    from signeditor.core.motion import Motion
    from signeditor.io.signspark import SignSparkRecord, write_signspark_lmdb
    from signeditor.ml.kf2p.synthetic import synthetic_clip

    rng = np.random.default_rng(3)
    for split, count in (("train", n_train), ("dev", n_val)):
        records = []
        for i in range(count):
            features, labels = synthetic_clip(rng, 72)
            records.append(SignSparkRecord(f"{split}{i}", Motion(25.0, features), labels.astype(np.int64), "asl",
                                           "the house is big", "HOUSE BIG"))
        (folder / split).mkdir(parents=True)
        write_signspark_lmdb(records, folder / split)
    return folder


@pytest.mark.slow
def test_torchrun_trains_kf2p_on_a_signspark_lmdb_corpus_and_resumes(tmp_path: Path) -> None:
    from signeditor.ml.kf2p.checkpoint import load_checkpoint

    corpus = write_signspark_corpus(tmp_path / "corpus")
    common = ["-m", "signeditor", "train", "kf2p", "--json", "--data", str(corpus), "-o", str(tmp_path / "k.pt"),
              "--channels", "16,24,32", "--blocks", "1", "--batch-size", "4", "--select-every", "2",
              "--no-fast-keyframes", "--state", str(tmp_path / "k.state.pt"), "--state-every", "2"]
    out, _ = torchrun(2, *common, "--steps", "4", cwd=tmp_path)
    summary = rank0_summary(out)
    assert summary["world_size"] == 2 and summary["steps"] == 4 and summary["train_clips"] == 4
    assert summary["val_clips"] == 2 and np.isfinite(summary["val_loss_ema"])
    _, _, languages, meta = load_checkpoint(tmp_path / "k.pt")
    assert languages == ["asl"] and meta["train_clips"] == 4
    _, err = torchrun(2, *common, "--steps", "6", "--resume", cwd=tmp_path)
    assert '"resumed_at_step": 4' in err
    assert load_checkpoint(tmp_path / "k.pt")[3]["steps"] == 6


@pytest.mark.slow
def test_torchrun_trains_fast_on_two_ranks(tmp_path: Path) -> None:
    from signeditor.ml.fast.api import load_segmenter

    corpus = write_signspark_corpus(tmp_path / "corpus", n_train=4, n_val=1)
    out, _ = torchrun(2, "-m", "signeditor", "train", "fast", "--json", "--data", str(corpus), "-o",
                      str(tmp_path / "fast.pt"), "--steps", "3", "--batch-size", "4", cwd=tmp_path)
    summary = rank0_summary(out)
    assert summary["world_size"] == 2 and summary["train_clips"] == 4 and summary["steps"] == 3
    from signeditor.core.motion import Motion
    from signeditor.ml.kf2p.synthetic import synthetic_clip

    features, _ = synthetic_clip(np.random.default_rng(9), 60)
    segmenter = load_segmenter(tmp_path / "fast.pt")  # rank 0 wrote a loadable checkpoint
    assert all(0 <= s.start < s.end <= 60 for s in segmenter.segment(Motion(25.0, features)))


def test_fast_resumed_training_continues_exactly(tmp_path: Path) -> None:
    from signeditor.ml.fast.training import TrainingClip, TrainingSettings, train_network
    from signeditor.ml.kf2p.synthetic import synthetic_clip

    rng = np.random.default_rng(0)
    clips = [TrainingClip(*synthetic_clip(rng, 80), kind="sentence", group="x", clip_id=str(i)) for i in range(4)]
    settings = TrainingSettings(steps=4, batch_size=2, window=64, log_every=2)
    state, kept = tmp_path / "fast.state.pt", tmp_path / "step2.state.pt"

    def keep_step_2_state(message: str) -> None:
        if message.startswith("step 4/"):  # the state file still holds step 2's state here
            shutil.copy(state, kept)

    whole, *_ = train_network(clips, settings, log=keep_step_2_state, state_path=state, state_every=2)
    resumed, *_ = train_network(clips, settings, log=lambda _: None, state_path=kept, resume=True)
    for name, tensor in whole.state_dict().items():
        assert torch.equal(tensor, resumed.state_dict()[name]), name
