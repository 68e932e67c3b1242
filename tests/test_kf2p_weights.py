"""Loading KF2P weights: typed errors for missing, damaged, wrong-version and malicious files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from needs import missing

from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.motion import Motion
from signeditor.ml.kf2p.api import ModelLoadError, load_generator
from signeditor.ml.kf2p.checkpoint import save_checkpoint
from signeditor.ml.kf2p.model import KF2PConfig, KF2PNet
from signeditor.ml.kf2p.representation import Normaliser
from signeditor.ml.kf2p.synthetic import synthetic_clip

SMALL = KF2PConfig(channels=(16, 24, 32), cond_dim=32, text_dim=16)


def _saved(tmp_path: Path) -> Path:
    torch.manual_seed(1)
    net = KF2PNet(SMALL)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.05 * torch.randn_like(p))
    path = tmp_path / "kf2p.pt"
    save_checkpoint(path, net, Normaliser.identity(), ["gsg"], {"run_id": "t"})
    return path


def test_round_trip_reproduces_output(tmp_path: Path) -> None:
    path = _saved(tmp_path)
    features, _ = synthetic_clip(np.random.default_rng(0), 40)
    anchors = AnchorSet(Anchor(f, features[f]) for f in (0, 13, 26, 39))
    a = load_generator(path, "cpu").regenerate_between_anchors(Motion(25.0, features), anchors, steps=2)
    b = load_generator(path, "cpu").regenerate_between_anchors(Motion(25.0, features), anchors, steps=2)
    np.testing.assert_array_equal(a.features, b.features)
    assert load_generator(path, "cpu").version == "2.t"


def test_missing_and_corrupt_files(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match="not found"):
        load_generator(tmp_path / "absent.pt")
    damaged = tmp_path / "damaged.pt"
    damaged.write_bytes(_saved(tmp_path).read_bytes()[:300])
    with pytest.raises(ModelLoadError, match="not a loadable"):
        load_generator(damaged)
    other = tmp_path / "other.pt"
    torch.save({"weights": torch.zeros(3)}, other)
    with pytest.raises(ModelLoadError, match="not a SignEditor KF2P"):
        load_generator(other)


def test_wrong_version_and_mismatched_weights(tmp_path: Path) -> None:
    payload = torch.load(_saved(tmp_path), weights_only=True)
    future = tmp_path / "future.pt"
    torch.save({**payload, "format_version": 99}, future)
    with pytest.raises(ModelLoadError, match="version 99"):
        load_generator(future)
    mismatched = tmp_path / "mismatched.pt"
    torch.save({**payload, "config": {**payload["config"], "channels": [32, 48, 64]}}, mismatched)
    with pytest.raises(ModelLoadError, match="inconsistent"):
        load_generator(mismatched)


class _Payload:
    """Unpickling this would create a marker file: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple:
        return (Path.touch, (self.marker,))


def test_crafted_pickle_is_refused_without_running_code(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    crafted = tmp_path / "crafted.pt"
    torch.save({"format": "signeditor-kf2p", "evil": _Payload(marker)}, crafted, pickle_protocol=2)
    with pytest.raises(ModelLoadError):
        load_generator(crafted)
    assert not marker.exists()


def test_shipped_weights_keep_anchors_exactly() -> None:
    from signeditor.ml.kf2p.api import DEFAULT_WEIGHTS

    if not DEFAULT_WEIGHTS.is_file():
        missing("shipped KF2P weights not present (train them with `signeditor train kf2p`)")
    generator = load_generator(device="cpu")
    assert generator.default_steps <= 8
    features, _ = synthetic_clip(np.random.default_rng(4), 60)
    anchors = AnchorSet(Anchor(f, features[f]) for f in (2, 20, 41, 59))
    out = generator.regenerate_between_anchors(Motion(25.0, features), anchors)
    for anchor in anchors:
        np.testing.assert_array_equal(out.features[anchor.frame], anchor.pose)
    assert np.all(np.isfinite(out.features))
