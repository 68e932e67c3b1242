"""A tiny KF2P training run on synthetic motion learns (loss goes down) and saves loadable weights."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from signeditor.ml.kf2p.api import load_generator
from signeditor.ml.kf2p.model import KF2PConfig, KF2PNet
from signeditor.ml.kf2p.synthetic import synthetic_clip
from signeditor.ml.kf2p.trainer import train
from signeditor.ml.kf2p.training import (
    TrainClip,
    TrainConfig,
    compute_normaliser,
    flow_losses,
    make_batch,
    total_loss,
)


def _clips(n: int) -> list[TrainClip]:
    rng = np.random.default_rng(0)
    return [TrainClip(*synthetic_clip(rng, 80), text="HAUS GROSS", signed_language="gsg") for _ in range(n)]


@pytest.mark.slow
def test_overfitting_a_fixed_batch_lowers_the_loss() -> None:
    """The network, losses and conditioning are wired so gradient steps fit the data (a broken input would not)."""
    torch.manual_seed(0)
    clips = _clips(2)
    cfg = TrainConfig(batch_size=4, min_crop=48, max_crop=48,
                      model=KF2PConfig(channels=(16, 24, 32), cond_dim=32, text_dim=16))
    norm = compute_normaliser(clips, np.random.default_rng(0), 0.0, n_samples=8)
    batch = make_batch(clips, np.random.default_rng(1), cfg, norm, ["gsg"], cfg.model.downsample, dropout=False)
    net = KF2PNet(cfg.model)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)

    def loss() -> torch.Tensor:
        return total_loss(flow_losses(net, batch, torch.Generator().manual_seed(0)))

    first = loss().item()
    for _ in range(40):
        opt.zero_grad()
        loss().backward()
        opt.step()
    assert loss().item() < 0.5 * first


def test_train_writes_loadable_ema_weights(tmp_path: Path) -> None:
    clips = _clips(3)
    cfg = TrainConfig(steps=4, batch_size=2, min_crop=32, max_crop=40, warmup=1, log_every=1000,
                      model=KF2PConfig(channels=(16, 24, 32), cond_dim=32, text_dim=16))
    out = tmp_path / "kf2p.pt"
    summary = train(clips, clips[:1], cfg, out, log=lambda _: None)
    assert np.isfinite(summary["val_loss_ema"])
    generator = load_generator(out, "cpu")
    assert generator.languages == ["gsg"]
    assert generator.net.config == cfg.model
    for name, tensor in generator.net.state_dict().items():
        torch.testing.assert_close(tensor, summary["ema_model"].state_dict()[name])


def test_training_refuses_the_test_split(tmp_path: Path) -> None:
    from signeditor.cli.train.kf2p import load_train_clips

    with pytest.raises(ValueError, match="test split"):
        load_train_clips(tmp_path, "test")


def test_continuous_share_sets_how_often_crops_come_from_sentences() -> None:
    """One short sentence among long isolated clips: its crops are the only 30-frame rows of a batch."""
    from dataclasses import replace

    rng = np.random.default_rng(0)
    clips = [replace(c, kind="isolated") for c in _clips(9)]
    clips.append(TrainClip(*synthetic_clip(rng, 30), text="HAUS", signed_language="gsg", kind="sentence"))
    cfg = TrainConfig(batch_size=200, min_crop=48, max_crop=48, model=KF2PConfig(channels=(16, 24, 32)))
    norm = compute_normaliser(clips, np.random.default_rng(0), 0.0, n_samples=8)

    def sentence_rows(share: float) -> float:
        batch = make_batch(clips, np.random.default_rng(1), replace(cfg, continuous_share=share), norm, ["gsg"],
                           cfg.model.downsample, dropout=False)
        return float((batch.length_mask.sum(dim=(1, 2)) == 30).float().mean())

    assert sentence_rows(1.0) == 1.0
    assert abs(sentence_rows(0.5) - (0.5 + 0.5 / 10)) < 0.1
    assert sentence_rows(0.0) < 0.25


def test_model_selection_weighs_each_kind_of_signing_alike() -> None:
    """Validation error is the mean of the kinds' means: many easy letters cannot hide a bad sentence."""
    from dataclasses import replace

    from signeditor.ml.kf2p.training import validation_hands_error

    clips = _clips(4)
    norm = compute_normaliser(clips, np.random.default_rng(0), 0.0, n_samples=8)

    def error(kinds: list[str]) -> float:
        labelled = [replace(c, kind=k) for c, k in zip(clips, kinds, strict=True)]
        return validation_hands_error(None, labelled, norm, ["gsg"], 0.0, torch.device("cpu"), 0, 0.0)

    single = [validation_hands_error(None, [c], norm, ["gsg"], 0.0, torch.device("cpu"), 0, 0.0) for c in clips]
    expected = float(np.mean([single[0], np.mean(single[1:])]))
    np.testing.assert_allclose(error(["sentence", "letter", "letter", "letter"]), expected)
    assert not np.isclose(expected, np.mean(single))


def test_stitched_transition_frames_are_never_scored() -> None:
    """Targets on inserted straight-line frames do not move any loss term; targets on real frames do."""
    rng = np.random.default_rng(0)
    features, labels = synthetic_clip(rng, 48)
    stitched = np.zeros(48, dtype=bool)
    stitched[20:26] = True
    clips = [TrainClip(features, labels, "HAUS", "gsg", stitched=stitched)]
    cfg = TrainConfig(batch_size=2, min_crop=48, max_crop=48, keyframe_dropout=0.0,
                      model=KF2PConfig(channels=(16, 24, 32), cond_dim=32, text_dim=16))
    norm = compute_normaliser(clips, np.random.default_rng(0), 0.0, n_samples=4)
    batch = make_batch(clips, np.random.default_rng(1), cfg, norm, ["gsg"], cfg.model.downsample, dropout=False)
    np.testing.assert_array_equal(batch.loss_mask[0, 0, :48].numpy(), (~stitched).astype(np.float32))
    net = KF2PNet(cfg.model).eval()

    def losses(x1: torch.Tensor) -> dict[str, float]:
        # Flow time 0 from a point start: the network's input does not contain the target, only the losses do.
        batch.x1 = x1
        parts = flow_losses(net, batch, torch.Generator().manual_seed(0), noise_scales=(0.0,), t_zero_prob=1.0)
        return {k: float(v.detach()) for k, v in parts.items()}

    original = batch.x1.clone()
    reference = losses(original)
    on_stitched, on_real = original.clone(), original.clone()
    on_stitched[..., 20:26] += 5.0
    on_real[..., 30:34] += 5.0
    assert losses(on_stitched) == pytest.approx(reference, rel=1e-6)
    changed = losses(on_real)
    assert all(changed[k] > reference[k] for k in ("flow", "recon"))


def test_installed_residual_gate_is_stored_and_gate_zero_regenerates_exact_cubic(tmp_path: Path) -> None:
    from signeditor.cli.train.kf2p import install_residual_gate
    from signeditor.core.anchors import Anchor, AnchorSet
    from signeditor.core.interpolation import interpolate_between_anchors
    from signeditor.core.motion import Motion

    clips = _clips(3)
    cfg = TrainConfig(steps=4, batch_size=2, min_crop=32, max_crop=40, warmup=1, log_every=1000,
                      model=KF2PConfig(channels=(16, 24, 32), cond_dim=32, text_dim=16))
    out = tmp_path / "kf2p.pt"
    train(clips, clips[:1], cfg, out, log=lambda _: None)
    gate, report = install_residual_gate(out, clips)
    generator = load_generator(out, "cpu")
    edges = report["gap_edges"]
    assert generator.residual_gate.tolist() == gate and list(generator.residual_gate_edges) == edges
    assert len(gate) == 2 * (len(edges) + 1) * 4 and set(gate) <= {0.0, 0.5, 1.0}
    assert all(r <= 1.0 + 1e-6 for group in report["ratios_to_cubic"].values() for r in group.values())
    motion = Motion(25.0, clips[0].features)
    anchors = AnchorSet(Anchor(int(f), motion.features[f]) for f in range(0, 80, 8))
    generator.residual_gate, generator.residual_gate_edges = np.zeros(8), ()
    np.testing.assert_allclose(generator.regenerate_between_anchors(motion, anchors).features,
                               interpolate_between_anchors(80, anchors, "cubic"), atol=1e-5)
    generator.residual_gate = np.ones(8)
    gated_open = generator.regenerate_between_anchors(motion, anchors).features
    generator.residual_gate = None
    np.testing.assert_allclose(gated_open, generator.regenerate_between_anchors(motion, anchors).features, atol=1e-5)
