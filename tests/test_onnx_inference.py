"""The editor's torch-free inference: the exported ONNX networks and the numpy sampler agree with torch.

Oracle: the torch network (the ``.pt`` the export came from) and, for the sampler, the torch sampling loop
written out here as it ran before the editor moved to numpy.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.motion import Motion
from signeditor.io.project_file import load_project
from signeditor.ml.fast.api import DEFAULT_WEIGHTS as FAST_WEIGHTS
from signeditor.ml.fast.api import load_segmenter
from signeditor.ml.kf2p.api import DEFAULT_WEIGHTS as KF2P_WEIGHTS
from signeditor.ml.kf2p.api import ModelLoadError, load_generator
from signeditor.ml.onnx_session import sha256_of
from signeditor.paths import SAMPLE_PROJECT as SAMPLE

torch = pytest.importorskip("torch")
FAST_TOLERANCE = 1e-5
KF2P_TOLERANCE = 1e-4
#: One clip of each pose-file group of the shared corpus (datasets differ in signer, tracker and kind of signing).
GROUPS = ("dgs_isolated", "dgs_sentences", "dsgs_isolated", "fingerspelling_lexicon", "how2sign_sentences")


def _keyframed(motion: Motion, every: int = 9) -> AnchorSet:
    return AnchorSet(Anchor(f, motion.features[f]) for f in [*range(0, motion.n_frames - 1, every),
                                                                motion.n_frames - 1])


def _kf2p_cases(motion: Motion, anchors: AnchorSet) -> list[dict]:
    n = motion.n_frames
    return [{}, {"frame_range": (n // 4, n // 2)}, {"guidance": 2.0, "text": "HAUS", "signed_language": "gsg"}]


@pytest.fixture(scope="module")
def generators() -> tuple:
    return load_generator(backend="onnx"), load_generator(backend="torch")


@pytest.fixture(scope="module")
def segmenters() -> tuple:
    return load_segmenter(backend="onnx"), load_segmenter(backend="torch")


def _assert_kf2p_agree(generators: tuple, motion: Motion, anchors: AnchorSet) -> None:
    onnx, torch_gen = generators
    for case in _kf2p_cases(motion, anchors):
        a = onnx.regenerate_between_anchors(motion, anchors, **case).features
        b = torch_gen.regenerate_between_anchors(motion, anchors, **case).features
        assert np.abs(a - b).max() <= KF2P_TOLERANCE, case


def test_shipped_exports_are_current_and_named_in_the_model_cards() -> None:
    for pt in (KF2P_WEIGHTS, FAST_WEIGHTS):
        onnx = pt.with_suffix(".onnx")
        assert onnx.is_file(), f"{onnx} missing: run `signeditor train export-onnx {pt}`"
        card = (pt.parent / "MODEL_CARD.md").read_text(encoding="utf-8")
        assert sha256_of(pt) in card and sha256_of(onnx) in card, f"{pt.parent}/MODEL_CARD.md lacks the SHA-256s"
    assert load_generator().model.__class__.__name__ == "OnnxVelocity"  # current: the editor runs it


def test_kf2p_onnx_matches_torch_on_the_sample(generators: tuple) -> None:
    project = load_project(SAMPLE)
    _assert_kf2p_agree(generators, project.motion, project.anchors)


def test_fast_onnx_matches_torch_on_the_sample(segmenters: tuple) -> None:
    motion = load_project(SAMPLE).motion
    a, b = (s.tag_probabilities(motion) for s in segmenters)
    assert np.abs(a - b).max() <= FAST_TOLERANCE


@pytest.mark.shared_data
@pytest.mark.parametrize("group", GROUPS)
def test_onnx_matches_torch_on_a_clip_of_every_group(group: str, shared_signdata: Path, generators: tuple,
                                                     segmenters: tuple) -> None:
    from signeditor.io.pose_import import motion_from_pose_file

    path = sorted((shared_signdata / group).rglob("*.pose"))[0]
    motion = motion_from_pose_file(path)
    motion = Motion(motion.fps, motion.features[:160].copy())
    a, b = (s.tag_probabilities(motion) for s in segmenters)
    assert np.abs(a - b).max() <= FAST_TOLERANCE
    _assert_kf2p_agree(generators, motion, _keyframed(motion))


def test_seeded_variations_match_the_torch_sampler() -> None:
    """The numpy sampler around ONNX gives what the torch loop gave for a seed (noise, steps, write-back)."""
    from signeditor.ml.kf2p.checkpoint import load_checkpoint
    from signeditor.ml.kf2p.representation import build_conditioning, features_from_residual, normalised_interp
    from signeditor.ml.kf2p.text import batch_token_ids

    generator = load_generator(backend="onnx", device="cpu")
    generator.noise_scale = 1.0
    generator.residual_gate = None  # the sampler itself (a gate of 0 would not even run it)
    project = load_project(SAMPLE)
    values, mask = project.anchors.keyframes(project.motion.n_frames)
    ours = generator.generate_features(values, mask, steps=3, seed=11)

    # The torch loop as it was: inputs padded to the U-Net's multiple, torch noise from a seeded CPU generator,
    # Euler steps, anchored columns zeroed after each step.
    net = load_checkpoint(KF2P_WEIGHTS)[0]
    cond = build_conditioning(values, mask, generator.end_tension)
    n = len(values)
    padded = -(-n // net.config.downsample) * net.config.downsample

    def channels_first(a: np.ndarray) -> torch.Tensor:
        out = torch.zeros(1, a.shape[1], padded)
        out[0, :, :n] = torch.from_numpy(np.asarray(a, np.float32)).T
        return out

    interp = channels_first(normalised_interp(cond, generator.normaliser))
    stream_mask = channels_first(cond.anchor_channels(net.config.timing_channels))
    length_mask = channels_first(np.ones((n, 1)))
    free = (1.0 - channels_first(cond.column_mask)) * length_mask
    ids, weights = batch_token_ids([""])
    x = torch.randn(interp.shape, generator=torch.Generator().manual_seed(11)) * 1.0 * free
    with torch.inference_mode():
        for i in range(3):
            c = net.condition(torch.full((1,), i / 3), ids, weights, torch.zeros(1, dtype=torch.long), torch.ones(1))
            x = (x + (1 / 3) * net(x, interp, stream_mask, length_mask, c)) * free
    theirs = features_from_residual(x[0].numpy().T[:n], cond, generator.normaliser)
    assert np.abs(ours - theirs).max() <= KF2P_TOLERANCE
    assert np.abs(ours - generator.generate_features(values, mask, steps=3, seed=12)).max() > 1e-3


def test_a_retrained_network_exports_with_the_same_command(tmp_path: Path) -> None:
    """A freshly initialised network of another size (what a retrain ships) exports and agrees."""
    from signeditor.ml.kf2p.checkpoint import save_checkpoint
    from signeditor.ml.kf2p.model import KF2PConfig, KF2PNet
    from signeditor.ml.kf2p.representation import Normaliser
    from signeditor.ml.onnx_export import export_onnx

    torch.manual_seed(3)
    net = KF2PNet(KF2PConfig(channels=(16, 24, 32, 40), cond_dim=32, text_dim=16))
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.05 * torch.randn_like(p))
    norm = Normaliser.identity()
    norm.residual_std[:] = 0.05
    pt = tmp_path / "kf2p.pt"
    save_checkpoint(pt, net, norm, ["gsg"], {"noise_scale": 0.0})
    summary = export_onnx(pt)
    assert summary["max_abs_difference"] <= KF2P_TOLERANCE
    motion = load_project(SAMPLE).motion
    anchors = _keyframed(motion, 12)
    _assert_kf2p_agree((load_generator(pt, backend="onnx"), load_generator(pt, backend="torch")), motion, anchors)


def test_a_stale_export_is_not_run(tmp_path: Path) -> None:
    """A .pt retrained after its export: the editor runs the .pt (torch) or, without torch, says to re-export."""
    pt = tmp_path / "kf2p.pt"
    shutil.copy(KF2P_WEIGHTS, pt)
    shutil.copy(KF2P_WEIGHTS.with_suffix(".onnx"), tmp_path / "kf2p.onnx")
    assert load_generator(pt).model.__class__.__name__ == "OnnxVelocity"
    with open(pt, "ab") as f:  # another .pt: a different SHA-256 from the one the export recorded
        f.write(b"\0")
    assert load_generator(pt).model.__class__.__name__ == "TorchVelocity"
    with pytest.raises(ModelLoadError, match="export-onnx"):
        load_generator(pt, backend="onnx")
