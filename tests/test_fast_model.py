"""FAST network shapes and size, hand features against full FK, batching, a tiny overfit, checkpoint errors."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
import torch
from needs import missing

from signeditor.core import rotations
from signeditor.core.hand_features import (
    HAND_FEATURE_DIM,
    arm_chain,
    hand_feature_streams,
    hand_features_and_wrists_many,
    wrist_positions,
)
from signeditor.core.kinematics import forward_kinematics
from signeditor.core.motion import Motion, mirror_features
from signeditor.core.segmentation_decoding import DecodingSettings, decode_segments
from signeditor.core.segmentation_metrics import segmentation_scores
from signeditor.core.skeleton import JOINT_INDEX
from signeditor.io.errors import FileFormatError
from signeditor.ml.fast.api import Segmenter, load_segmenter, make_checkpoint, segmenter_from_checkpoint
from signeditor.ml.fast.model import FastConfig, FastSegmenterNet, parameter_count
from signeditor.ml.fast.synthetic import synthetic_labels, synthetic_motion
from signeditor.ml.fast.training import TrainingClip, TrainingSettings, resample_clip, train_network, tune_decoding

torch.set_num_threads(1)


def _random_features(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rotations.axis_angle_to_rot6d(rng.normal(0, 0.6, (n, 41, 3))).reshape(n, -1).astype(np.float32)


def test_arm_chain_matches_full_forward_kinematics() -> None:
    features = _random_features(12)
    positions, world = forward_kinematics(features, with_rotations=True)
    for side in "LR":
        shoulder, wrist, wrist_rot = arm_chain(features, side)
        np.testing.assert_allclose(shoulder, positions[:, JOINT_INDEX[f"{side}_Shoulder"]], atol=1e-5)
        np.testing.assert_allclose(wrist, positions[:, JOINT_INDEX[f"{side}_Wrist"]], atol=1e-5)
        np.testing.assert_allclose(wrist_rot, world[:, JOINT_INDEX[f"{side}_Wrist"]], atol=1e-5)


def test_one_pass_gives_each_clips_streams_and_wrists() -> None:
    """The segmenter's single pass over all clips equals each clip's streams and wrist positions on its own."""
    clips = [_random_features(7, seed=7), _random_features(1, seed=1), np.zeros((0, 246), np.float32),
             _random_features(12, seed=12)]
    streams, wrists = hand_features_and_wrists_many(clips)
    for clip, clip_streams, clip_wrists in zip(clips, streams, wrists, strict=True):
        np.testing.assert_array_equal(clip_streams, hand_feature_streams(clip))
        if len(clip):
            np.testing.assert_array_equal(clip_wrists, wrist_positions(clip))
        assert clip_wrists.shape == (len(clip), 2, 3)


def test_mirroring_swaps_the_hand_streams() -> None:
    features = _random_features(10, seed=1)
    streams = hand_feature_streams(features)
    mirrored = hand_feature_streams(mirror_features(features))
    assert streams.shape == (2, 10, HAND_FEATURE_DIM)
    # Wrist height and speed do not change under a left-right mirror, they move to the other hand.
    np.testing.assert_allclose(mirrored[1, :, 97], streams[0, :, 97], atol=1e-5)
    np.testing.assert_allclose(mirrored[0, :, 102], streams[1, :, 102], atol=1e-4)
    np.testing.assert_allclose(mirrored[1, :, 96], -streams[0, :, 96], atol=1e-5)


def test_network_shapes_and_parameter_budget() -> None:
    net = FastSegmenterNet()
    assert 50_000 < parameter_count(net) <= 2_000_000
    for frames in (1, 31, 100):
        assert net(torch.randn(3, 2, frames, HAND_FEATURE_DIM)).shape == (3, frames, 3)


def _segmenter(seed: int = 0) -> Segmenter:
    torch.manual_seed(seed)
    return Segmenter(FastSegmenterNet(), np.zeros((2, HAND_FEATURE_DIM)), np.ones((2, HAND_FEATURE_DIM)))


def test_batched_inference_equals_one_clip_at_a_time() -> None:
    segmenter = _segmenter()
    rng = np.random.default_rng(0)
    motions = [synthetic_motion(rng, n)[0] for n in (1, 3, 6)]
    batched = segmenter.tag_probabilities_batch(motions)
    for motion, probs in zip(motions, batched, strict=True):
        assert probs.shape == (motion.n_frames, 3)
        np.testing.assert_allclose(probs, segmenter.tag_probabilities(motion), atol=1e-5)
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_other_frame_rates_are_resampled_and_mapped_back() -> None:
    segmenter = _segmenter()
    motion, _ = synthetic_motion(np.random.default_rng(1), 3)
    fast = motion.resampled(50.0)
    assert segmenter.tag_probabilities(fast).shape == (fast.n_frames, 3)
    # Frame i of a clip at f fps is at time i / f: the model's frame round(i * 25 / f) of the clip at 25 fps.
    for fps in (50.0, 20.0, 24.0):
        other = motion.resampled(fps)
        at_model_rate = segmenter.tag_probabilities(other.resampled(25.0))
        expected = at_model_rate[np.minimum(np.round(np.arange(other.n_frames) * 25.0 / fps).astype(int),
                                            len(at_model_rate) - 1)]
        np.testing.assert_allclose(segmenter.tag_probabilities(other), expected, atol=1e-6)


def test_resampling_keeps_one_start_per_sign() -> None:
    labels = np.array([0, 0, 2, 1, 1, 1, 2, 1, 1, 0, 0, 2, 1, 1], dtype=np.int8)
    features = _random_features(len(labels))
    for factor in (0.5, 0.8, 1.3):
        _, new = resample_clip(features, labels, factor)
        assert (new == 2).sum() == 3


@pytest.mark.slow
def test_tiny_training_run_learns_to_segment_synthetic_signing() -> None:
    rng = np.random.default_rng(0)
    clips = []
    for _ in range(24):
        motion, segments = synthetic_motion(rng, int(rng.integers(2, 6)))
        clips.append(TrainingClip(motion.features, synthetic_labels(segments, motion.n_frames), "sentence"))
    settings = TrainingSettings(steps=80, batch_size=8, window=96, log_every=1000, p_mirror=0.0)
    net, mean, std, _ = train_network(clips, settings, FastConfig(), log=lambda _: None)
    segmenter = Segmenter(net, mean, std)
    held_out = [synthetic_motion(rng, 4) for _ in range(10)]
    probs = segmenter.tag_probabilities_batch([m for m, _ in held_out])
    labels = [synthetic_labels(s, m.n_frames) for m, s in held_out]
    decoding, _ = tune_decoding(probs[:5], labels[:5])
    predicted = [decode_segments(p, decoding) for p in probs[5:]]
    scores = segmentation_scores(predicted, [s for _, s in held_out[5:]], labels[5:])
    assert scores["frame_f1"] > 0.9
    assert scores["segment_f1_iou50"] > 0.8


def test_checkpoint_round_trip(tmp_path: Path) -> None:
    segmenter = _segmenter(seed=2)
    path = tmp_path / "fast.pt"
    torch.save(make_checkpoint(segmenter.net, segmenter.mean, segmenter.std,
                               DecodingSettings(min_length=6)), path)
    loaded = load_segmenter(path)
    assert loaded.decoding.min_length == 6
    motion, _ = synthetic_motion(np.random.default_rng(4), 2)
    np.testing.assert_allclose(loaded.tag_probabilities(motion), segmenter.tag_probabilities(motion), atol=1e-6)


def test_load_segmenter_errors(tmp_path: Path) -> None:
    with pytest.raises(FileFormatError, match="not found"):
        load_segmenter(tmp_path / "missing.pt")
    corrupt = tmp_path / "corrupt.pt"
    corrupt.write_bytes(b"\x80\x04 this is not a checkpoint")
    with pytest.raises(FileFormatError, match="cannot read"):
        load_segmenter(corrupt)
    segmenter = _segmenter()
    checkpoint = make_checkpoint(segmenter.net, segmenter.mean, segmenter.std, DecodingSettings())
    truncated = tmp_path / "truncated.pt"
    torch.save(checkpoint, truncated)
    truncated.write_bytes(truncated.read_bytes()[:2000])
    with pytest.raises(FileFormatError, match="cannot read"):
        load_segmenter(truncated)
    wrong_version = tmp_path / "v99.pt"
    torch.save({**checkpoint, "version": 99}, wrong_version)
    with pytest.raises(FileFormatError, match="version 99"):
        load_segmenter(wrong_version)
    damaged = dict(checkpoint)
    damaged["state_dict"] = {k: v[..., :1] for k, v in checkpoint["state_dict"].items()}
    with pytest.raises(FileFormatError, match="damaged"):
        segmenter_from_checkpoint(damaged)
    with pytest.raises(FileFormatError, match="not a FAST"):
        segmenter_from_checkpoint({"format": "something-else"})


def test_motion_fixture_is_valid() -> None:
    motion, segments = synthetic_motion(np.random.default_rng(5), 3)
    assert isinstance(motion, Motion) and len(segments) == 3
    assert all(a.end <= b.start for a, b in itertools.pairwise(segments))


def test_shipped_weights_load_and_are_small() -> None:
    from signeditor.ml.fast.api import DEFAULT_WEIGHTS

    if not DEFAULT_WEIGHTS.is_file():
        missing("models/fast/fast.pt is not built (signeditor train fast)")
    assert DEFAULT_WEIGHTS.stat().st_size < 5_000_000
    segmenter = load_segmenter()
    assert parameter_count(load_segmenter(backend="torch").net) <= 2_000_000
    motion, _ = synthetic_motion(np.random.default_rng(6), 3)
    probs = segmenter.tag_probabilities(motion)
    assert probs.shape == (motion.n_frames, 3)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-5)


def test_empty_and_single_frame_motions_give_no_crash() -> None:
    segmenter = _segmenter()
    empty = Motion(25.0, np.zeros((0, 246), dtype=np.float32))
    probs = segmenter.tag_probabilities_batch([empty, Motion.rest(1)])
    assert probs[0].shape == (0, 3) and probs[1].shape == (1, 3)
    assert segmenter.segment(empty) == []


def test_continuous_material_runs_signs_together_with_labelled_minimum_jerk_transitions() -> None:
    """Isolated signs (rest, sign, rest) become one sentence: rest only at its two ends, one start per sign,
    and between signs a non-sign transition that leaves and arrives slowly (minimum jerk)."""
    from signeditor.core.segments import segments_from_labels
    from signeditor.ml.fast.continuous import join_continuous
    from signeditor.ml.fast.training import continuous_sequence, normalise_starts_keep_unknown

    rng = np.random.default_rng(5)
    isolated = []
    for _ in range(4):
        motion, segments = synthetic_motion(rng, 1, rest_between=True)
        isolated.append(TrainingClip(motion.features, synthetic_labels(segments, motion.n_frames), "isolated"))
    features, labels = join_continuous([(c.features, c.labels) for c in isolated[:3]], rng, (6, 6))
    labels = normalise_starts_keep_unknown(labels)
    joined = segments_from_labels(labels)
    assert len(joined) == 3 and (labels == 2).sum() == 3
    first, last = (segments_from_labels(c.labels)[0] for c in (isolated[0], isolated[2]))
    assert joined[0].start == first.start  # the first sign keeps its rise from rest
    assert len(labels) - joined[-1].end == len(isolated[2].labels) - last.end  # the last its return
    for before, after in itertools.pairwise(joined):
        assert after.start - before.end == 6  # only the transition lies between signs: no rest
        gap = features[before.end - 1:after.start + 1]
        steps = np.linalg.norm(np.diff(gap, axis=0), axis=1)
        assert steps[0] < steps[len(steps) // 2] > steps[-1]
    sentence_features, sentence_labels = continuous_sequence(isolated, {}, rng, n_items=(3, 3))
    assert len(sentence_features) == len(sentence_labels)
    assert (sentence_labels == 2).sum() == 3


def test_a_word_spelled_in_place_holds_the_arm_and_changes_the_hand_once_per_letter() -> None:
    from signeditor.core.motion import STREAM_SLICES
    from signeditor.core.skeleton import BODY_JOINTS
    from signeditor.ml.fast.training import spelled_word_in_place

    rng = np.random.default_rng(6)
    letters = [TrainingClip(_random_features(20, seed), np.ones(20, dtype=np.int8), "fingerspelling", "ase")
               for seed in range(4)]
    features, labels = spelled_word_in_place(letters, rng)
    assert (labels == 2).sum() == 4 and labels[0] == 2
    elbow = STREAM_SLICES["body"].start + 6 * BODY_JOINTS.index("L_Elbow")  # held where the first letter put it
    assert np.ptp(features[:, elbow:elbow + 6], axis=0).max() < 1e-6
    hand = features[:, STREAM_SLICES["right_hand"]]
    assert np.ptp(hand, axis=0).max() > 0.5  # the fingers spell


def test_checkpoints_keep_the_split_of_unparsed_signs_unless_they_turn_it_off() -> None:
    """Older checkpoints (the shipped fast.pt among them) have no "splitting" entry: they get the default split, as
    the model card says; a checkpoint saved with splitting=None decodes from the probabilities alone."""
    from signeditor.core.segmentation_decoding import SplitSettings

    net = FastSegmenterNet()
    mean, std = np.zeros((2, HAND_FEATURE_DIM)), np.ones((2, HAND_FEATURE_DIM))
    older = make_checkpoint(net, mean, std, DecodingSettings())
    del older["splitting"]
    assert segmenter_from_checkpoint(older).splitting == SplitSettings()
    assert segmenter_from_checkpoint(make_checkpoint(net, mean, std, DecodingSettings(), splitting=None)).splitting \
        is None
    custom = SplitSettings(max_sign_seconds=0.9)
    assert segmenter_from_checkpoint(make_checkpoint(net, mean, std, DecodingSettings(), splitting=custom)).splitting \
        == custom
