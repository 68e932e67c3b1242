"""Reading .pose files: layouts from the header, axes and scale, gap filling, and clear errors."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import HAND_POINTS, plausible_features, reduced_holistic_points, write_pose
from hypothesis import given, settings
from hypothesis import strategies as st

from signeditor.core.ik import rest_pose_features
from signeditor.core.skeleton import signing_skeleton
from signeditor.io.errors import FileFormatError
from signeditor.io.pose_import import motion_from_pose_file
from signeditor.io.pose_reader import read_pose_keypoints


def _components(n_frames: int = 6) -> dict:
    return reduced_holistic_points(np.tile(rest_pose_features(), (n_frames, 1)))


def test_axes_and_scale_match_the_skeleton(make_pose_file) -> None:
    path, _ = make_pose_file(n_frames=8)
    keypoints = read_pose_keypoints(path)
    skeleton = signing_skeleton()
    rest = skeleton.rest_positions()
    left = keypoints.point("POSE_LANDMARKS.LEFT_SHOULDER")
    right = keypoints.point("POSE_LANDMARKS.RIGHT_SHOULDER")
    np.testing.assert_allclose(np.linalg.norm(left - right, axis=-1), skeleton.shoulder_width(), rtol=1e-4)
    np.testing.assert_allclose(left, np.broadcast_to(rest[skeleton.index("L_Shoulder")], left.shape), atol=1e-4)
    # Head above the shoulders (+y up), the signer's left hand on +x.
    assert np.all(keypoints.point("FACE_LANDMARKS.152")[:, 1] > left[:, 1])
    assert np.all(keypoints.point("LEFT_HAND_LANDMARKS.WRIST")[:, 0] > 0)
    assert keypoints.observed.all()


def test_points_are_found_by_name_not_offset(tmp_path) -> None:
    components = _components()
    shuffled = {k: components[k] for k in ("RIGHT_HAND_LANDMARKS", "FACE_LANDMARKS", "LEFT_HAND_LANDMARKS",
                                            "POSE_LANDMARKS")}
    names, hand = shuffled["LEFT_HAND_LANDMARKS"]
    order = np.random.default_rng(0).permutation(len(names))
    shuffled["LEFT_HAND_LANDMARKS"] = (tuple(names[i] for i in order), hand[:, order])
    a = read_pose_keypoints(write_pose(tmp_path / "a.pose", components))
    b = read_pose_keypoints(write_pose(tmp_path / "b.pose", shuffled))
    for name in ("POSE_LANDMARKS.RIGHT_ELBOW", "LEFT_HAND_LANDMARKS.INDEX_FINGER_TIP", "FACE_LANDMARKS.263"):
        np.testing.assert_allclose(a.point(name), b.point(name), atol=1e-5)


def test_full_holistic_with_world_landmarks_is_read(tmp_path) -> None:
    components = _components()
    body_names, body = components["POSE_LANDMARKS"]
    extra = [f"EXTRA_{i}" for i in range(33 - len(body_names))]
    full_body = np.concatenate([body, np.zeros((body.shape[0], len(extra), 3))], axis=1)
    components["POSE_LANDMARKS"] = (tuple(body_names) + tuple(extra), full_body)
    components["POSE_WORLD_LANDMARKS"] = (components["POSE_LANDMARKS"][0], full_body * 0.001)
    keypoints = read_pose_keypoints(write_pose(tmp_path / "full.pose", components))
    assert not any(n.startswith("POSE_WORLD_LANDMARKS") for n in keypoints.names)
    assert keypoints.has("POSE_LANDMARKS.LEFT_WRIST", "RIGHT_HAND_LANDMARKS.PINKY_TIP")


def test_hand_only_file_is_placed_at_the_skeleton_wrist(tmp_path) -> None:
    components = {"RIGHT_HAND_LANDMARKS": _components()["RIGHT_HAND_LANDMARKS"]}
    keypoints = read_pose_keypoints(write_pose(tmp_path / "hand.pose", components))
    skeleton = signing_skeleton()
    wrist = keypoints.point("RIGHT_HAND_LANDMARKS.WRIST")
    np.testing.assert_allclose(wrist, np.broadcast_to(skeleton.rest_positions()[skeleton.index("R_Wrist")],
                                                      wrist.shape), atol=1e-6)
    motion = motion_from_pose_file(tmp_path / "hand.pose")
    assert motion.n_frames == 6 and np.isfinite(motion.features).all()


def test_gaps_are_interpolated_and_ends_held(tmp_path) -> None:
    n = 10
    components = reduced_holistic_points(np.tile(rest_pose_features(), (n, 1)))
    names, hand = components["LEFT_HAND_LANDMARKS"]
    hand = hand.copy()
    hand[:, :, 1] += np.linspace(0.0, 0.09, n)[:, None]  # the hand rises steadily
    components["LEFT_HAND_LANDMARKS"] = (names, hand)
    confidence = np.ones((n, len(HAND_POINTS)))
    confidence[:2] = 0.0  # leading gap
    confidence[4:7] = 0.0  # inner gap
    keypoints = read_pose_keypoints(write_pose(tmp_path / "gap.pose", components,
                                               confidence={"LEFT_HAND_LANDMARKS": confidence}))
    y = keypoints.point("LEFT_HAND_LANDMARKS.WRIST")[:, 1]
    step = np.diff(y[7:])[0]
    np.testing.assert_allclose(np.diff(y[3:8]), step, rtol=1e-3)  # linear through the inner gap
    np.testing.assert_allclose(y[:2], y[2])  # held before the first detection
    assert not keypoints.seen("LEFT_HAND_LANDMARKS.WRIST")[[0, 1, 4, 5, 6]].any()


def test_motion_from_pose_file_resamples_to_25_fps(make_pose_file) -> None:
    path, _ = make_pose_file(n_frames=20, fps=50.0)
    motion = motion_from_pose_file(path)
    assert motion.fps == 25.0 and motion.n_frames == 10


def test_truncated_file_raises_file_format_error(make_pose_file, tmp_path) -> None:
    path, _ = make_pose_file()
    broken = tmp_path / "broken.pose"
    broken.write_bytes(path.read_bytes()[: len(path.read_bytes()) // 3])
    with pytest.raises(FileFormatError, match=r"broken\.pose"):
        read_pose_keypoints(broken)
    garbage = tmp_path / "garbage.pose"
    garbage.write_bytes(b"not a pose file at all")
    with pytest.raises(FileFormatError, match=r"garbage\.pose"):
        read_pose_keypoints(garbage)
    with pytest.raises(FileFormatError, match="cannot read"):
        read_pose_keypoints(tmp_path / "missing.pose")


def test_unknown_layout_raises(tmp_path) -> None:
    points = tuple(f"P{i}" for i in range(25))
    path = write_pose(tmp_path / "openpose.pose", {"pose_keypoints_2d": (points, np.zeros((4, 25, 3)))})
    with pytest.raises(FileFormatError, match="unknown point layout"):
        read_pose_keypoints(path)


def test_nan_keypoints_raise(tmp_path) -> None:
    components = _components()
    names, hand = components["LEFT_HAND_LANDMARKS"]
    hand = hand.copy()
    hand[2, 3, 0] = np.nan
    components["LEFT_HAND_LANDMARKS"] = (names, hand)
    with pytest.raises(FileFormatError, match="NaN"):
        read_pose_keypoints(write_pose(tmp_path / "nan.pose", components))


def test_never_detected_body_raises(tmp_path) -> None:
    components = {"POSE_LANDMARKS": _components()["POSE_LANDMARKS"]}
    path = write_pose(tmp_path / "empty.pose", components, confidence={"POSE_LANDMARKS": np.zeros((6, 8))})
    with pytest.raises(FileFormatError, match="ever detected"):
        read_pose_keypoints(path)


@pytest.mark.shared_data
def test_real_layouts_read(shared_signdata) -> None:
    cases = {
        "dgs_sentences/train_10_original.pose": 178,
        "dgs_isolated/HOUSE1A^.pose": 543,
        "fixtures/mediapipe_hand_normalized.pose": 21,
    }
    for relative, n_points in cases.items():
        path = shared_signdata / relative
        if not path.exists():
            continue
        keypoints = read_pose_keypoints(path)
        assert keypoints.positions.shape[1] == n_points and np.isfinite(keypoints.positions).all()
    with pytest.raises(FileFormatError, match="unknown point layout"):
        read_pose_keypoints(shared_signdata / "fixtures" / "openpose.pose")


def test_exaggerated_arm_depth_is_rebuilt_from_bone_lengths(tmp_path) -> None:
    """MediaPipe's wrist z is often several times too deep; the reader keeps its sign, not its size."""
    components = _components(4)
    names, body = components["POSE_LANDMARKS"]
    body = body.copy()
    for elbow, wrist in (("LEFT_ELBOW", "LEFT_WRIST"), ("RIGHT_ELBOW", "RIGHT_WRIST")):
        e, w = names.index(elbow), names.index(wrist)
        body[:, w, 2] = body[:, e, 2] + 4.0 * (body[:, w, 2] - body[:, e, 2])
    components["POSE_LANDMARKS"] = (names, body)
    keypoints = read_pose_keypoints(write_pose(tmp_path / "deep.pose", components))
    skeleton = signing_skeleton()
    forearm = keypoints.point("POSE_LANDMARKS.LEFT_WRIST") - keypoints.point("POSE_LANDMARKS.LEFT_ELBOW")
    np.testing.assert_allclose(np.linalg.norm(forearm, axis=-1),
                               np.linalg.norm(skeleton.offsets[skeleton.index("L_Wrist")]), rtol=1e-3)
    assert np.all(forearm[:, 2] > 0)  # the rest pose's forearm points slightly forward; so does the repair
    # The hand moves with its wrist.
    hand_wrist = keypoints.point("LEFT_HAND_LANDMARKS.WRIST")
    np.testing.assert_allclose(hand_wrist, keypoints.point("POSE_LANDMARKS.LEFT_WRIST"), atol=1e-6)


def test_a_lost_hand_flags_only_its_own_stream_as_not_captured(make_pose_file) -> None:
    """A hand missing while the arm is tracked (as MediaPipe often reports): the opened recording may regenerate
    that hand there, never the body, the other hand or the face."""
    from signeditor.app_services import open_document
    from signeditor.core.motion import STREAMS

    n = 30
    confidence = np.ones((n, len(HAND_POINTS)))
    confidence[8:20] = 0.0
    path, _ = make_pose_file(n_frames=n, confidence={"LEFT_HAND_LANDMARKS": confidence})
    project = open_document(path)
    captured = project.recording.captured
    assert project.motion.filled[8:20].all(), "the frame-level flag still says a hand was filled"
    left = STREAMS.index("left_hand")
    assert not captured[8:20, left].any() and captured[:8, left].all() and captured[20:, left].all()
    others = [i for i in range(len(STREAMS)) if i != left]
    assert captured[:, others].all(), "the tracked arm, the other hand and the face stay captured"


@pytest.mark.parametrize("seed", range(3))
def test_every_point_reads_back_in_the_skeleton_frame_and_gaps_are_the_straight_line_between_sightings(
        tmp_path, seed: int) -> None:
    """A signing motion's points filmed by a camera that sways (each frame shifted) and zooms (a scale), written
    in image axes with real depth and random points missing on random frames: every observed point reads back
    at its skeleton-frame position (the shoulders' midpoint put on the skeleton's, one scale for the clip); a
    point missing on some frames is, on each of them, the straight line between its neighbouring sightings as
    the camera saw them (held before the first and after the last), placed like every point of that frame
    (relative to its shoulders); a point never seen is marked unobserved. Body points, face points and
    both hands' points, by name, in the image plane (x, y): depth may be moved by the lifting's guards
    (test_lifting.py). The hands' depth is given as MediaPipe's hand model gives it, relative to the hand's own
    wrist: on frames where both wrists are seen the hand is put at the body wrist's depth, its shape kept."""
    rng = np.random.default_rng(seed)
    n = 12
    truth = reduced_holistic_points(plausible_features(n, seed=seed))
    scale, sway = rng.uniform(0.6, 1.6), rng.normal(0.0, 0.05, (n, 1, 3))
    filmed, confidence = {}, {}
    for component, (names, points) in truth.items():
        filmed[component] = (names, points * scale + sway)
        if component.endswith("HAND_LANDMARKS"):
            filmed[component][1][..., 2] -= filmed[component][1][:, names.index("WRIST"), None, 2]
        seen = rng.random(points.shape[:2]) > 0.2
        if component == "POSE_LANDMARKS":
            seen[:, :6] = True  # the shoulders and arms stay seen: they set the scale
        else:
            seen[:, int(rng.integers(len(names)))] = False  # one point never seen
        confidence[component] = seen.astype(np.float32)
    keypoints = read_pose_keypoints(write_pose(tmp_path / "clip.pose", filmed, confidence=confidence))
    frames = np.arange(n)
    for component, (names, _) in truth.items():
        for k, name in enumerate(names):
            seen = confidence[component][:, k] > 0
            got = keypoints.point(f"{component}.{name}")
            np.testing.assert_array_equal(keypoints.seen(f"{component}.{name}"), seen)
            if not seen.any():
                continue
            sightings = np.flatnonzero(seen)
            track = filmed[component][1][:, k]
            for t in frames:
                before, after = sightings[sightings <= t], sightings[sightings >= t]
                if not len(before):
                    camera = track[after[0]]
                elif not len(after):
                    camera = track[before[-1]]
                elif before[-1] == after[0]:
                    camera = track[t]
                else:
                    share = (t - before[-1]) / (after[0] - before[-1])
                    camera = (1 - share) * track[before[-1]] + share * track[after[0]]
                expected = (camera - sway[t, 0]) / scale  # the shoulders' midpoint is still in the skeleton's place
                np.testing.assert_allclose(got[t, :2], expected[:2], atol=2e-4, err_msg=f"{component}.{name} frame {t}")
    for word in ("LEFT", "RIGHT"):
        hand, body_wrist = f"{word}_HAND_LANDMARKS", f"POSE_LANDMARKS.{word}_WRIST"
        names, points = truth[hand]
        wrist = names.index("WRIST")
        body_wrist_seen = confidence["POSE_LANDMARKS"][:, truth["POSE_LANDMARKS"][0].index(f"{word}_WRIST")] > 0
        both = (confidence[hand][:, wrist] > 0) & body_wrist_seen
        hand_wrist_depth = keypoints.point(f"{hand}.WRIST")[:, 2]
        np.testing.assert_allclose(hand_wrist_depth[both], keypoints.point(body_wrist)[both, 2], atol=1e-9)
        for k, name in enumerate(names):
            seen = both & (confidence[hand][:, k] > 0)
            np.testing.assert_allclose(keypoints.point(f"{hand}.{name}")[seen, 2] - hand_wrist_depth[seen],
                                       points[seen, k, 2] - points[seen, wrist, 2], atol=2e-4, err_msg=name)


_BODY_POINTS = ("NOSE", "LEFT_SHOULDER", "RIGHT_SHOULDER", "LEFT_ELBOW", "RIGHT_ELBOW", "LEFT_WRIST", "RIGHT_WRIST",
                "LEFT_EYE", "RIGHT_EYE")


def _held_and_interpolated(values: np.ndarray, seen: np.ndarray) -> np.ndarray:
    """Frame by frame: a frame where the point was seen keeps its value; one between two seen frames lies on the
    straight line between them; one before the first (after the last) seen frame holds it."""
    out = values.copy()
    frames = [t for t in range(len(values)) if seen[t]]
    for t in range(len(values)):
        if seen[t]:
            continue
        before = [f for f in frames if f < t]
        after = [f for f in frames if f > t]
        if before and after:
            a, b = before[-1], after[0]
            out[t] = values[a] + (values[b] - values[a]) * (t - a) / (b - a)
        else:
            out[t] = values[before[-1] if before else after[0]]
    return out


@settings(max_examples=25, deadline=None, derandomize=True)
@given(st.integers(1, 7), st.permutations(["POSE_LANDMARKS", "LEFT_HAND_LANDMARKS", "SOMETHING_ELSE"]),
       st.sampled_from([12.5, 25.0, 29.97, 50.0]), st.integers(0, 2**32 - 1))
def test_points_are_read_by_name_with_their_gaps_filled_in_the_skeleton_axes(
        tmp_path_factory: pytest.TempPathFactory, n_frames: int, order: list[str], fps: float, seed: int) -> None:
    """A .pose written here with pose-format: components in any order (one the reader does not know), points in
    any order within them, random points missing (confidence 0) on random frames, a second person. Read back: one
    name per known point ("COMPONENT.POINT") of the first person, the frame rate, which points were seen on which
    frames; a point never seen is all zero; every other point, with its gaps filled frame by frame (straight lines
    between sightings, held at the ends), is the image point with y turned up, moved so the shoulders' midpoint
    sits at one fixed place on every frame and scaled by one common positive factor (x and y; depth is rebuilt by
    the lifting)."""
    from pose_format import Pose
    from pose_format.numpy import NumPyPoseBody
    from pose_format.pose_header import PoseHeader, PoseHeaderComponent, PoseHeaderDimensions

    rng = np.random.default_rng(seed)
    points = {"POSE_LANDMARKS": list(rng.permutation(_BODY_POINTS)),
              "LEFT_HAND_LANDMARKS": list(rng.permutation(HAND_POINTS)),
              "SOMETHING_ELSE": ["A", "B"]}
    components, values, confidence = [], [], []
    for name in order:
        count = len(points[name])
        components.append(PoseHeaderComponent(name, points[name], [], [], "XYZC"))
        xy = rng.uniform(100, 500, size=(n_frames, count, 2))
        z = rng.uniform(-150, 150, size=(n_frames, count, 1))
        values.append(np.concatenate([xy, z], axis=-1))
        seen = rng.random((n_frames, count)) < 0.7
        if name == "POSE_LANDMARKS":
            both = rng.integers(n_frames)  # both shoulders seen together at least once: the body sets the scale
            for shoulder in ("LEFT_SHOULDER", "RIGHT_SHOULDER"):
                seen[both, points[name].index(shoulder)] = True
            if rng.random() < 0.5:
                seen[:, points[name].index("NOSE")] = False  # never seen
        confidence.append(np.where(seen, rng.uniform(0.1, 1.0, seen.shape), 0.0))
    data = np.concatenate(values, axis=1)[:, None].astype(np.float32)
    conf = np.concatenate(confidence, axis=1)[:, None].astype(np.float32)
    # A second person behind the signer: the reader follows the first one.
    data = np.concatenate([data, rng.uniform(100, 500, size=data.shape).astype(np.float32)], axis=1)
    conf = np.concatenate([conf, np.ones_like(conf)], axis=1)
    body = NumPyPoseBody(fps, np.ma.masked_array(data, mask=np.repeat((conf == 0)[..., None], 3, -1)), conf)
    path = tmp_path_factory.mktemp("pose") / "random.pose"
    with path.open("wb") as handle:
        Pose(PoseHeader(0.1, PoseHeaderDimensions(640, 480, 640), components), body).write(handle)

    keypoints = read_pose_keypoints(path)

    columns: dict[str, int] = {}
    offset = 0
    for name in order:
        for j, point in enumerate(points[name]):
            if name != "SOMETHING_ELSE":
                columns[f"{name}.{point}"] = offset + j
        offset += len(points[name])
    assert sorted(keypoints.names) == sorted(columns) and len(set(keypoints.names)) == len(keypoints.names)
    assert keypoints.fps == pytest.approx(fps) and keypoints.n_frames == n_frames
    image = data[:, 0].astype(np.float64)
    filled = {}
    for name, column in columns.items():
        seen = conf[:, 0, column] > 0
        np.testing.assert_array_equal(keypoints.seen(name), seen, err_msg=name)
        if not seen.any():
            np.testing.assert_array_equal(keypoints.point(name), 0.0, err_msg=name)
            continue
        filled[name] = _held_and_interpolated(image[:, column, :2] * [1.0, -1.0], seen)  # image y down -> up
    middle = 0.5 * (filled["POSE_LANDMARKS.LEFT_SHOULDER"] + filled["POSE_LANDMARKS.RIGHT_SHOULDER"])
    got_middle = 0.5 * (keypoints.point("POSE_LANDMARKS.LEFT_SHOULDER") + keypoints.point(
        "POSE_LANDMARKS.RIGHT_SHOULDER"))[:, :2]
    np.testing.assert_allclose(got_middle, np.broadcast_to(got_middle[0], got_middle.shape), atol=1e-9)
    wanted = np.stack([filled[name] - middle for name in filled])  # (K, T, 2)
    got = np.stack([keypoints.point(name)[:, :2] - got_middle for name in filled])
    scale = float(np.sum(wanted * got) / np.sum(wanted * wanted))
    assert scale > 0
    np.testing.assert_allclose(got, scale * wanted, atol=1e-6 * scale * np.abs(wanted).max())
