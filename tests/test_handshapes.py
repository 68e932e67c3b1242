"""The handshape library: building it from fingerspelling clips, the shipped file, applying a handshape."""

from __future__ import annotations

import json

import numpy as np
import pytest

from signeditor.core import rotations
from signeditor.core.handshapes import (
    DEFAULT_LIBRARY_PATH,
    HAND_DIM,
    Handshape,
    HandshapeLibrary,
    apply_handshape,
    load_handshape_library,
)
from signeditor.core.motion import STREAM_SLICES, hand_pose_mirrored, identity_features
from signeditor.data.corpus import load_corpus
from signeditor.data.handshapes import build_handshape_library, medoid, write_handshape_library
from signeditor.io.errors import FileFormatError

RIGHT, LEFT = STREAM_SLICES["right_hand"], STREAM_SLICES["left_hand"]


def hand_pose(seed: int) -> np.ndarray:
    axis_angle = np.random.default_rng(seed).normal(scale=0.6, size=(15, 3))
    return rotations.axis_angle_to_rot6d(axis_angle).reshape(-1).astype(np.float32)


KEYPOINT_NAMES = (["POSE_LANDMARKS.LEFT_SHOULDER", "POSE_LANDMARKS.RIGHT_SHOULDER", "POSE_LANDMARKS.LEFT_HIP",
                   "POSE_LANDMARKS.RIGHT_HIP"] + [f"LEFT_HAND_LANDMARKS.{i}" for i in range(21)]
                  + [f"RIGHT_HAND_LANDMARKS.{i}" for i in range(21)])


def write_clip(root, clip_id: str, *, right: np.ndarray | None, left: np.ndarray | None, n: int = 20,
               seed: int = 0) -> dict:
    """A letter clip: the hand(s) hold the given shape in the middle, other shapes at the edges (transitions)."""
    rng = np.random.default_rng(seed)
    features = np.repeat(identity_features(1), n, axis=0)
    keypoints = np.zeros((n, len(KEYPOINT_NAMES), 3), np.float32)
    keypoints[:, :2, 1], keypoints[:, 2:4, 1] = 0.1, -0.4  # shoulders and hips
    observed = np.zeros((n, len(KEYPOINT_NAMES)), bool)
    observed[:, :4] = True
    for shape, stream, first in ((right, RIGHT, 25), (left, LEFT, 4)):
        if shape is None:
            continue
        features[:, stream] = hand_pose(int(rng.integers(1000)))  # edges: some other shape
        features[n // 4: n - n // 4, stream] = shape
        features[n // 2, stream] = hand_pose(int(rng.integers(1000)))  # one bad fit in the middle
        observed[:, first: first + 21] = True
        keypoints[:, first: first + 21, 1] = 0.0  # raised to chest height
    labels = np.ones(n, np.int8)
    labels[0] = 2
    np.savez(root / "clips" / f"{clip_id}.npz", features=features, filled=np.zeros(n, bool), labels=labels,
             keypoints=keypoints, keypoint_names=np.array(KEYPOINT_NAMES), keypoint_observed=observed)
    return clip_id


def record(clip_id: str, language: str, letter: str, kind: str = "fingerspelling") -> dict:
    return {"id": clip_id, "dataset": "fs", "source": f"{clip_id}.pose", "split": "train", "signed_language": language,
            "spoken_language": "en", "text": letter, "glosses": [letter], "n_frames": 20, "has_labels": True,
            "kind": kind}


@pytest.fixture
def corpus(tmp_path):
    (tmp_path / "clips").mkdir()
    shapes = {name: hand_pose(seed) for seed, name in enumerate(("A", "B", "C", "D"), start=10)}
    clips = [
        record(write_clip(tmp_path, "a1", right=shapes["A"], left=None, seed=1), "ase", "A"),
        record(write_clip(tmp_path, "a2", right=shapes["A"], left=None, seed=2), "ase", "A"),
        record(write_clip(tmp_path, "b", right=None, left=hand_pose_mirrored(shapes["B"]), seed=3), "ise", "B"),
        record(write_clip(tmp_path, "c", right=shapes["C"], left=shapes["D"], seed=4), "cse", "C"),
        record(write_clip(tmp_path, "s", right=shapes["D"], left=None, seed=5), "ase", "HELLO", kind="isolated"),
    ]
    (tmp_path / "index.json").write_text(json.dumps({"version": 1, "fps": 25.0, "clips": clips}))
    return tmp_path, shapes


def test_medoid_is_the_most_central_sample():
    samples = np.array([[0.0, 0], [1, 0], [0.9, 0.1], [1.1, -0.1], [10, 10]])
    np.testing.assert_array_equal(medoid(samples), [1, 0])


def test_library_built_from_fingerspelling_takes_the_held_shape(corpus, tmp_path):
    root, shapes = corpus
    library = build_handshape_library(load_corpus(root))
    assert {(h.language, h.letter) for h in library.handshapes} == {("ase", "A"), ("ise", "B"), ("cse", "C")}
    a = library.get("ase", "A")
    assert a.clips == 2 and not a.two_handed
    np.testing.assert_allclose(a.dominant, shapes["A"], atol=1e-6)
    # A left-handed clip is stored as if signed with the right hand.
    np.testing.assert_allclose(library.get("ise", "B").dominant, shapes["B"], atol=1e-5)
    c = library.get("cse", "C")
    assert c.two_handed
    np.testing.assert_allclose(c.dominant, shapes["C"], atol=1e-6)
    np.testing.assert_allclose(c.other, shapes["D"], atol=1e-6)

    path = write_handshape_library(library, tmp_path / "out" / "lib.npz")
    again = load_handshape_library(path)
    assert [(h.language, h.letter, h.two_handed) for h in again.handshapes] == [
        (h.language, h.letter, h.two_handed) for h in library.handshapes]
    np.testing.assert_array_equal(again.get("cse", "C").other, c.other)


def test_cli_regenerates_the_library_file(corpus, tmp_path, capsys):
    from signeditor.cli import main

    root, shapes = corpus
    out = tmp_path / "lib" / "handshapes.npz"
    assert main(["data", "handshapes", str(root), "-o", str(out)]) == 0
    assert "3 handshapes (1 two-handed) in 3 signed languages" in capsys.readouterr().out
    np.testing.assert_allclose(load_handshape_library(out).get("ase", "A").dominant, shapes["A"], atol=1e-6)
    assert main(["data", "handshapes", str(tmp_path / "no-corpus"), "-o", str(out)]) == 2, "a missing index"


def test_apply_handshape_sets_the_chosen_hand_and_mirrors_for_the_left():
    pose = identity_features(1)[0]
    shape = Handshape("ase", "V", hand_pose(1))
    two = Handshape("cse", "C", hand_pose(2), other=hand_pose(3))
    right = apply_handshape(pose, shape, "right")
    np.testing.assert_array_equal(right[RIGHT], shape.dominant)
    np.testing.assert_array_equal(right[LEFT], pose[LEFT])
    left = apply_handshape(pose, shape, "left")
    np.testing.assert_allclose(left[LEFT], hand_pose_mirrored(shape.dominant), atol=1e-6)
    np.testing.assert_array_equal(left[RIGHT], pose[RIGHT])
    both = apply_handshape(pose, two, "both")
    np.testing.assert_array_equal(both[LEFT], two.other)
    np.testing.assert_array_equal(both[STREAM_SLICES["body"]], pose[STREAM_SLICES["body"]])
    with pytest.raises(ValueError):
        apply_handshape(pose, shape, "middle")


def test_shipped_library_covers_the_corpus_alphabets_with_valid_rotations():
    library = load_handshape_library()
    assert DEFAULT_LIBRARY_PATH.stat().st_size < 600_000
    assert {"ase", "gsg", "sgg"} <= set(library.languages)
    assert len(library.for_language("ase")) == 26
    dominant = np.stack([h.dominant for h in library.handshapes]).reshape(-1, 2, 3).astype(np.float64)
    np.testing.assert_allclose(np.linalg.norm(dominant, axis=-1), 1.0, atol=1e-4)
    np.testing.assert_allclose((dominant[:, 0] * dominant[:, 1]).sum(-1), 0.0, atol=1e-4)
    # Handshapes differ: ASL B is an open flat hand, A and S are fists (fingers bent much more).
    bend = {h.letter: float(np.linalg.norm(h.dominant - identity_features(1)[0][RIGHT])) for h in
            library.for_language("ase")}
    assert bend["B"] < bend["A"] and bend["B"] < bend["S"]


def test_damaged_library_raises_file_format_error(tmp_path):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip")
    with pytest.raises(FileFormatError, match=r"bad\.npz"):
        load_handshape_library(bad)
    np.savez(tmp_path / "short.npz", version=1, language=np.array(["ase"]), letter=np.array(["A"]),
             dominant=np.zeros((1, HAND_DIM - 6), np.float32), other=np.zeros((1, HAND_DIM), np.float32),
             two_handed=np.zeros(1, bool), clips=np.ones(1, np.int32))
    with pytest.raises(FileFormatError, match=r"short\.npz"):
        load_handshape_library(tmp_path / "short.npz")
    with pytest.raises(FileFormatError, match=r"missing\.npz"):
        load_handshape_library(tmp_path / "missing.npz")
    assert len(HandshapeLibrary([])) == 0


FINGER_CHAINS = {"Index": (5, 6, 7, 8), "Middle": (9, 10, 11, 12), "Ring": (13, 14, 15, 16), "Pinky": (17, 18, 19, 20)}


def finger_extension(points: np.ndarray) -> np.ndarray:
    """Per finger (index to pinky): knuckle-to-tip distance over the finger's length, from 21 hand points in the
    MediaPipe order: about 1 for a straight finger, well under 0.6 for one curled into a fist."""
    out = []
    for chain in FINGER_CHAINS.values():
        c = points[..., chain, :]
        length = np.linalg.norm(np.diff(c, axis=-2), axis=-1).sum(-1)
        out.append(np.linalg.norm(c[..., 3, :] - c[..., 0, :], axis=-1) / length)
    return np.stack(out, -1)


def clip_finger_extension(path) -> np.ndarray | None:
    """The letter's finger extension straight from the clip's keypoints (pose-format, the detector's own
    depth, none of our fitting): median over the middle half of the frames of the hand seen most."""
    from pose_format import Pose

    pose = Pose.read(path.read_bytes())
    names = [f"{c.name}.{p}" for c in pose.header.components for p in c.points]
    hands = []
    for side in ("RIGHT", "LEFT"):
        first = names.index(f"{side}_HAND_LANDMARKS.WRIST")
        points = np.ma.getdata(pose.body.data)[:, 0, first:first + 21].astype(np.float64)
        points[..., 2] *= pose.header.dimensions.width  # depth in the same units as x
        hands.append(points[(pose.body.confidence[:, 0, first:first + 21] > 0).all(-1)])
    points = max(hands, key=len)
    if len(points) < 4:
        return None
    quarter = len(points) // 4
    return np.median(finger_extension(points[quarter:len(points) - quarter]), axis=0)


@pytest.mark.shared_data
def test_named_handshapes_match_the_alphabet_clips(shared_signdata):
    """A handshape looks like its letter: where the clip shows a fist (every finger curled) the shipped
    handshape is a fist, its fingertips on the palm side of the knuckles (not folded sideways), where it shows a
    flat hand it is flat; S, a fist in every alphabet that signs it so, never comes out as a loose claw."""
    from signeditor.core.kinematics import forward_kinematics
    from signeditor.core.skeleton import JOINT_INDEX
    from signeditor.io.lexicon import read_lexicon

    library = load_handshape_library()
    order = ["R_Wrist"] + [f"R_{f}{k}" for f in ("Thumb", "Index", "Middle", "Ring", "Pinky")
                           for k in ("1", "2", "3", "Tip")]
    fists, flats, s_letters = [], [], []
    for entry in read_lexicon(shared_signdata / "fingerspelling_lexicon").entries:
        try:
            shape = library.get(entry.signed_language, entry.words.strip())
        except KeyError:
            continue
        clip = clip_finger_extension(entry.path)
        if clip is None:
            continue
        pose = apply_handshape(identity_features(1)[0], shape, "right")
        positions = np.asarray(forward_kinematics(pose[None]))[0]
        points = np.stack([positions[JOINT_INDEX[n]] for n in order])
        fitted = finger_extension(points)
        # Our rest hand lies palm down: a finger curled towards the palm dips below its base knuckle (folded
        # sideways in the palm's plane, it would not).
        palm_side = all(points[list(chain[1:]), 1].min() < points[chain[0], 1] - 0.01
                        for chain in FINGER_CHAINS.values())
        if clip.max() <= 0.55:
            fists.append(fitted.max() <= 0.66 and palm_side)
            if entry.words == "S":
                s_letters.append((entry.signed_language, fitted.round(2).tolist(), palm_side))
        if clip.min() >= 0.9:
            flats.append(fitted.min() >= 0.85)
    assert len(fists) >= 15 and len(flats) >= 50
    assert s_letters and all(max(fingers) <= 0.66 and palm for _language, fingers, palm in s_letters), s_letters
    assert np.mean(fists) >= 0.7, f"{sum(fists)} of {len(fists)} fist letters are fists"
    assert np.mean(flats) >= 0.9, f"{sum(flats)} of {len(flats)} flat letters are flat"


def test_finger_bends_are_measured_in_the_palm_frame_whatever_the_camera():
    """Bends put on our hand's finger joints are read back from its 21 points (within 12°), the same when turned
    and shrunk as a camera would see it (the measurement is in the hand's own palm frame), and clamped to what
    joints can do."""
    from signeditor.core.kinematics import forward_kinematics
    from signeditor.core.skeleton import JOINT_INDEX
    from signeditor.data.handshapes import anatomical, finger_angles, fingers_posed

    wanted = np.zeros(16)
    wanted[:12] = np.radians([60, 80, 40] * 4)  # bends of index, middle, ring, pinky
    pose = identity_features(1)[0].copy()
    pose[RIGHT] = fingers_posed(wanted, pose[RIGHT])
    positions = np.asarray(forward_kinematics(pose[None]))[0]
    order = ["R_Wrist"] + [f"R_{f}{k}" for f in ("Thumb", "Index", "Middle", "Ring", "Pinky")
                           for k in ("1", "2", "3", "Tip")]
    points = np.stack([positions[JOINT_INDEX[n]] for n in order])
    # (our knuckles fan out from the wrist, so the palm frame sees each bend a little differently)
    np.testing.assert_allclose(finger_angles(points)[:12], wanted[:12], atol=np.radians(12))
    turn = rotations.axis_angle_to_matrix(np.array([0.3, -1.2, 0.5]))
    np.testing.assert_allclose(finger_angles(0.4 * points @ turn.T + 7.0), finger_angles(points), atol=1e-9)
    impossible = wanted.copy()
    impossible[1] = np.radians(170)  # a middle knuckle folded back flat: flat depth, not a real joint
    fixed = anatomical(impossible)
    assert fixed[1] == pytest.approx(np.radians(110)) and fixed[0] == pytest.approx(np.radians(95))
    assert fixed[:3].sum() == pytest.approx(impossible[:3].sum()), "the finger's whole curl is kept"
