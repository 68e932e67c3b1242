"""Classical in-betweening: exact at anchors, smooth between them, per stream."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.interpolate import CubicHermiteSpline
from scipy.spatial.transform import Rotation, Slerp

from signeditor.core import rotations
from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.interpolation import interpolate_between_anchors, interpolate_keyframes
from signeditor.core.motion import IDENTITY_6D, STREAM_SLICES, STREAMS, identity_features


def _pose(rng: np.random.Generator, scale: float = 0.6) -> np.ndarray:
    return rotations.axis_angle_to_rot6d(rng.normal(0, scale, (41, 3))).reshape(-1).astype(np.float32)


def _angles_between(features: np.ndarray) -> np.ndarray:
    """Per-frame-step rotation angle of every joint, (T-1, 41)."""
    mats = rotations.rot6d_to_matrix(features.reshape(len(features), -1, 6).astype(np.float64))
    rel = np.swapaxes(mats[:-1], -1, -2) @ mats[1:]
    return np.linalg.norm(rotations.matrix_to_axis_angle(rel), axis=-1)


@pytest.mark.parametrize("method", ["slerp", "cubic"])
def test_hits_anchors_exactly_and_holds_outside(method: str) -> None:
    rng = np.random.default_rng(1)
    poses = [_pose(rng) for _ in range(4)]
    frames = [5, 17, 30, 44]
    out = interpolate_between_anchors(60, AnchorSet(Anchor(f, p) for f, p in zip(frames, poses, strict=True)), method)
    for f, p in zip(frames, poses, strict=True):
        np.testing.assert_array_equal(out[f], p)
    np.testing.assert_allclose(out[:5], np.tile(out[5], (5, 1)), atol=1e-5)
    np.testing.assert_allclose(out[45:], np.tile(out[44], (15, 1)), atol=1e-5)
    # Every frame is a valid rotation.
    np.testing.assert_allclose(rotations.orthonormalize_rot6d(out.reshape(60, -1, 6)).reshape(60, -1), out, atol=1e-5)


def test_slerp_moves_at_constant_angular_speed() -> None:
    rng = np.random.default_rng(2)
    a, b = _pose(rng, 0.4), _pose(rng, 0.4)
    out = interpolate_between_anchors(21, AnchorSet([Anchor(0, a), Anchor(20, b)]), "slerp")
    steps = _angles_between(out)
    np.testing.assert_allclose(steps, np.broadcast_to(steps.mean(0), steps.shape), atol=1e-4)
    assert steps.max() > 1e-3


def test_cubic_has_no_velocity_kink_at_interior_anchor() -> None:
    """Catmull-Rom keeps velocity continuous through an anchor where slerp turns a corner."""
    base = np.zeros((41, 3))
    poses = []
    for angle in (0.0, 0.8, 0.0):
        aa = base.copy()
        aa[:, 0] = angle
        aa[:, 1] = angle * 0.3
        poses.append(rotations.axis_angle_to_rot6d(aa).reshape(-1))
    anchors = AnchorSet(Anchor(f, p) for f, p in zip((0, 10, 20), poses, strict=True))
    accel = {}
    for method in ("slerp", "cubic"):
        out = interpolate_between_anchors(21, anchors, method).astype(np.float64)
        accel[method] = np.abs(np.diff(out, 2, axis=0)).max()
    assert accel["cubic"] < 0.5 * accel["slerp"]


def test_partial_stream_anchors_leave_other_streams_at_rest() -> None:
    rng = np.random.default_rng(3)
    pose = _pose(rng)
    anchors = AnchorSet([Anchor(3, pose, frozenset({"right_hand"})), Anchor(9, _pose(rng), frozenset({"right_hand"})),
                         Anchor(6, _pose(rng), frozenset({"body"}))])
    out = interpolate_between_anchors(12, anchors, "slerp")
    rest = identity_features(12)
    np.testing.assert_array_equal(out[:, STREAM_SLICES["left_hand"]], rest[:, STREAM_SLICES["left_hand"]])
    np.testing.assert_array_equal(out[:, STREAM_SLICES["jaw"]], np.tile(IDENTITY_6D, (12, 1)))
    np.testing.assert_array_equal(out[3, STREAM_SLICES["right_hand"]], pose[STREAM_SLICES["right_hand"]])
    # A single body anchor is held over the whole clip.
    body = out[:, STREAM_SLICES["body"]]
    np.testing.assert_allclose(body, np.tile(body[6], (12, 1)), atol=1e-5)


def test_no_anchors_is_rest_and_unknown_method_fails() -> None:
    np.testing.assert_array_equal(interpolate_between_anchors(7, AnchorSet()), identity_features(7))
    with pytest.raises(ValueError, match="unknown interpolation"):
        interpolate_between_anchors(7, AnchorSet(), "linear")


def test_hemisphere_alignment_is_the_running_sign_of_consecutive_keys() -> None:
    """Oracle: the key-by-key rule written out (flip a key whose dot with the previous, as flipped, is negative)."""
    from signeditor.core.interpolation import _align_hemispheres

    rng = np.random.default_rng(3)
    quats = rng.normal(size=(30, 7, 4))
    quats[5, 2] = 0.0  # a zero key: its dots are exactly 0, so it is kept and the next run starts afresh
    quats[12, 4] = [1.0, 0.0, 0.0, 0.0]
    quats[13, 4] = [0.0, 1.0, 0.0, 0.0]  # orthogonal to the key before: dot exactly 0
    expected = quats.copy()
    for k in range(1, len(expected)):
        dots = np.sum(expected[k] * expected[k - 1], axis=-1, keepdims=True)
        expected[k] = np.where(dots < 0, -expected[k], expected[k])
    aligned = _align_hemispheres(quats)
    np.testing.assert_array_equal(aligned, expected)
    assert (np.sum(aligned[1:] * aligned[:-1], axis=-1) >= 0).all()
    assert not np.array_equal(aligned, quats)  # some keys were flipped


def test_fast_rotation_paths_give_the_matrix_route_numbers() -> None:
    """The shortcuts the generator runs on every frame equal the conversions through full 3x3 matrices."""
    rng = np.random.default_rng(4)
    raw = rng.normal(size=(40, 41, 6)).astype(np.float32)
    for values in (raw, raw.astype(np.float64)):
        np.testing.assert_array_equal(rotations.orthonormalize_rot6d(values),
                                      rotations.matrix_to_rot6d(rotations.rot6d_to_matrix(values)))
    quats = rng.normal(size=(40, 9, 4))
    np.testing.assert_array_equal(rotations.quaternion_to_rot6d(quats),
                                  rotations.matrix_to_rot6d(rotations.quaternion_to_matrix(quats)))
    np.testing.assert_array_equal(np.stack(rotations.unit_quaternion_components(quats), axis=-1),
                                  quats / np.maximum(np.linalg.norm(quats, axis=-1, keepdims=True), 1e-8))
    for dtype in (np.float32, np.float64):  # Gram-Schmidt written with numpy's norm and cross products
        primary, secondary = rng.normal(size=(2, 30, 7, 3)).astype(dtype)
        x = primary / np.maximum(np.linalg.norm(primary, axis=-1, keepdims=True), 1e-8)
        y = secondary - np.sum(secondary * x, axis=-1, keepdims=True) * x
        y = y / np.maximum(np.linalg.norm(y, axis=-1, keepdims=True), 1e-8)
        frame = rotations.frame_from_vectors(primary, secondary)
        assert frame.dtype == dtype
        np.testing.assert_array_equal(frame, np.stack([x, y, np.cross(x, y)], axis=-1))


def test_joint_positions_are_forward_kinematics_of_those_joints() -> None:
    from signeditor.core.kinematics import forward_kinematics, joint_positions
    from signeditor.core.skeleton import JOINT_INDEX

    rng = np.random.default_rng(5)
    features = np.stack([_pose(rng) for _ in range(6)])
    names = ("R_Wrist", "L_Shoulder", "Head", "L_Middle1")
    np.testing.assert_array_equal(joint_positions(features, names),
                                  forward_kinematics(features)[:, [JOINT_INDEX[n] for n in names]])


def test_streams_keyed_on_the_same_frames_interpolate_as_when_keyed_alone() -> None:
    """Batching streams that share key frames changes no number: each stream alone is the oracle."""
    from signeditor.core.interpolation import interpolate_keyframes
    from signeditor.core.motion import STREAMS

    rng = np.random.default_rng(6)
    values = np.stack([_pose(rng) for _ in range(50)])
    mask = np.zeros_like(values)
    mask[[0, 9, 20, 33, 49]] = 1.0
    mask[[5, 40], STREAM_SLICES["jaw"]] = 1.0  # the jaw has keys of its own
    together = interpolate_keyframes(values, mask, "cubic", (-2.0, -1.0))
    for stream in STREAMS:
        alone = np.zeros_like(mask)
        alone[:, STREAM_SLICES[stream]] = mask[:, STREAM_SLICES[stream]]
        expected = interpolate_keyframes(values, alone, "cubic", (-2.0, -1.0))
        np.testing.assert_array_equal(together[:, STREAM_SLICES[stream]], expected[:, STREAM_SLICES[stream]])


@pytest.mark.parametrize("method", ["slerp", "cubic"])
def test_where_two_anchors_share_a_frame_the_newer_one_is_the_pose_there_and_around(method: str) -> None:
    """A user keys frame 10 twice (the second pose meant to replace the first): the newer anchor is the pose on
    frame 10 bit for bit, and the slerp half-way to it from frame 0 (frame 5) is scipy's slerp to the newer pose."""

    rng = np.random.default_rng(7)
    start, older, newer = _pose(rng), _pose(rng), _pose(rng)
    anchors = [Anchor(0, start), Anchor(10, older), Anchor(10, newer)]
    assert anchors[2].id > anchors[1].id
    for listed in (anchors, anchors[::-1]):
        out = interpolate_between_anchors(11, AnchorSet(listed), method)
        np.testing.assert_array_equal(out[10], newer)
    if method == "slerp":
        ends = rotations.rot6d_to_matrix(np.stack([start, newer]).reshape(2, -1, 6).astype(np.float64))
        expected = np.stack([Slerp([0.0, 1.0], Rotation.from_matrix(ends[:, j]))(0.5).as_matrix()
                             for j in range(ends.shape[1])])
        got = rotations.rot6d_to_matrix(out[5].reshape(-1, 6).astype(np.float64))
        np.testing.assert_allclose(got, expected, atol=1e-5)


def test_keys_either_side_of_a_half_turn_meet_the_short_way() -> None:
    """Wrist keys at +170 and -170 degrees about one axis are 20 degrees apart through 180: half-way between them
    (by hand) the wrist is at 180 degrees, never swung back through 0 (the long way, 340 degrees)."""
    cols = STREAM_SLICES["right_hand"]
    joint = cols.start // 6
    poses = []
    for degrees in (170.0, -170.0):
        axis_angle = np.zeros((41, 3))
        axis_angle[joint] = np.radians(degrees) * np.array([0.0, 0.6, 0.8])
        poses.append(rotations.axis_angle_to_rot6d(axis_angle).reshape(-1).astype(np.float32))
    for method in ("slerp", "cubic"):
        out = interpolate_between_anchors(11, AnchorSet([Anchor(0, poses[0]), Anchor(10, poses[1])]), method)
        middle = rotations.rot6d_to_matrix(out[5].reshape(-1, 6)[joint].astype(np.float64))
        angle = np.degrees(np.arccos(np.clip((np.trace(middle) - 1.0) / 2.0, -1.0, 1.0)))
        assert angle == pytest.approx(180.0, abs=0.5), method
        steps = np.degrees(_angles_between(out)[:, joint])
        assert steps.sum() == pytest.approx(20.0, abs=0.5), method


def test_cubic_through_keys_at_constant_angular_speed_keeps_that_speed_to_the_last_key() -> None:
    """A wrist turning 30 degrees every 10 frames (keys at 0, 30, 60, 90 degrees about one axis): the cubic curve
    turns 3 degrees a frame throughout, the first and last stretches included (one-sided end tangents over the
    end key's own gap), to within 0.1 degree."""
    joint = STREAM_SLICES["right_hand"].start // 6
    poses = []
    for degrees in (0.0, 30.0, 60.0, 90.0):
        axis_angle = np.zeros((41, 3))
        axis_angle[joint] = [0.0, 0.0, np.radians(degrees)]
        poses.append(rotations.axis_angle_to_rot6d(axis_angle).reshape(-1).astype(np.float32))
    out = interpolate_between_anchors(31, AnchorSet(Anchor(f, p) for f, p in zip((0, 10, 20, 30), poses,
                                                                                   strict=True)), "cubic")
    steps = np.degrees(_angles_between(out)[:, joint])
    np.testing.assert_allclose(steps, 3.0, atol=0.1)


@pytest.mark.parametrize("seed", range(3))
def test_slerp_between_random_keys_is_scipys_slerp_on_every_frame(seed: int) -> None:
    """Five keys of random poses on random frames of a 60-frame clip, the right hand pinned by a sixth key of its
    own: every frame of every joint is scipy's Slerp between the stream's keys around it (held before the first
    and after the last), the keys themselves exactly."""

    rng = np.random.default_rng(seed)
    frames = np.sort(rng.choice(np.arange(3, 57), 5, replace=False))
    poses = [_pose(rng, 0.9) for _ in frames]
    hand_frame, hand_pose = int(rng.integers(0, 60)), _pose(rng, 0.9)
    anchors = [Anchor(int(f), p, frozenset({"body", "left_hand", "jaw"})) for f, p in zip(frames, poses, strict=True)]
    anchors.append(Anchor(hand_frame, hand_pose, frozenset({"right_hand"})))
    out = interpolate_between_anchors(60, AnchorSet(anchors), "slerp")
    got = rotations.rot6d_to_matrix(out.reshape(60, -1, 6).astype(np.float64))
    right = range(STREAM_SLICES["right_hand"].start // 6, STREAM_SLICES["right_hand"].stop // 6)
    for joint in range(got.shape[1]):
        if joint in right:  # one key: held everywhere
            expected = np.broadcast_to(rotations.rot6d_to_matrix(hand_pose.reshape(-1, 6)[joint].astype(np.float64)),
                                       (60, 3, 3))
        else:
            keys = Rotation.from_matrix(rotations.rot6d_to_matrix(
                np.stack(poses).reshape(len(frames), -1, 6)[:, joint].astype(np.float64)))
            expected = Slerp(frames.astype(float), keys)(np.clip(np.arange(60.0), frames[0], frames[-1])).as_matrix()
        np.testing.assert_allclose(got[:, joint], expected, atol=2e-5, err_msg=f"joint {joint}")


def _key_rotations(keys: np.ndarray) -> list[Rotation]:
    """(K, 6 J) key 6D values -> one scipy Rotation stack (K keys) per joint."""
    mats = rotations.rot6d_to_matrix(keys.reshape(len(keys), -1, 6).astype(np.float64))
    return [Rotation.from_matrix(mats[:, j]) for j in range(mats.shape[1])]


def _model_stream(frames: np.ndarray, keys: np.ndarray, n_frames: int, method: str,
                  tension: tuple[float, float]) -> np.ndarray:
    """(T, J, 3, 3) one stream's joints by the textbook definitions, scipy doing the rotation algebra.

    slerp: scipy's ``Slerp`` between the keys either side. cubic: a non-uniform Catmull-Rom (cubic Hermite) on key
    quaternions flipped key by key onto the previous key's hemisphere, tangents (q[k+1] - q[k-1]) / (t[k+1] -
    t[k-1]) inside, one-sided at the ends and scaled there by 1 - tension, evaluated by scipy's
    ``CubicHermiteSpline`` and normalised. Both hold the first / last key's pose before / after it."""
    times = np.clip(np.arange(n_frames, dtype=np.float64), frames[0], frames[-1])
    out = np.empty((n_frames, keys.shape[1] // 6, 3, 3))
    for j, keyed in enumerate(_key_rotations(keys)):
        if len(frames) == 1:
            out[:, j] = keyed.as_matrix()[0]
        elif method == "slerp":
            out[:, j] = Slerp(frames.astype(np.float64), keyed)(times).as_matrix()
        else:
            quats = keyed.as_quat()
            for k in range(1, len(quats)):
                if quats[k] @ quats[k - 1] < 0:
                    quats[k] = -quats[k]
            t = frames.astype(np.float64)
            slopes = np.empty_like(quats)
            slopes[0] = (quats[1] - quats[0]) / (t[1] - t[0]) * (1.0 - tension[0])
            slopes[-1] = (quats[-1] - quats[-2]) / (t[-1] - t[-2]) * (1.0 - tension[1])
            for k in range(1, len(quats) - 1):
                slopes[k] = (quats[k + 1] - quats[k - 1]) / (t[k + 1] - t[k - 1])
            out[:, j] = Rotation.from_quat(CubicHermiteSpline(t, quats, slopes)(times)).as_matrix()
    return out


def _assert_stream_is_the_model(got: np.ndarray, frames: np.ndarray, keys: np.ndarray, method: str,
                                tension: tuple[float, float] = (0.0, 0.0)) -> None:
    """``got`` (T, 6 J): the user's key values bit for bit on key frames, the model's rotations everywhere."""
    n_frames = len(got)
    if not len(frames):
        np.testing.assert_array_equal(got, np.tile(IDENTITY_6D, (n_frames, got.shape[1] // 6)))
        return
    np.testing.assert_array_equal(got[frames], keys)
    expected = _model_stream(frames, keys, n_frames, method, tension)
    mats = rotations.rot6d_to_matrix(got.reshape(n_frames, -1, 6).astype(np.float64))
    np.testing.assert_allclose(mats, expected, atol=3e-5)


@st.composite
def _clip_and_anchor_specs(draw: st.DrawFn) -> tuple[int, list[tuple[int, set[str]]]]:
    """A clip length and anchors (frame, streams), their frames often on the clip's first or last frame, just off
    it, or shared with an earlier anchor."""
    n_frames = draw(st.integers(1, 24))
    specs: list[tuple[int, set[str]]] = []
    for _ in range(draw(st.integers(0, 7))):
        edges = [-1, 0, n_frames - 1, n_frames] + [f for f, _ in specs]
        frame = draw(st.one_of(st.integers(0, n_frames - 1), st.sampled_from(edges)))
        specs.append((frame, draw(st.sets(st.sampled_from(STREAMS), min_size=1))))
    return n_frames, specs


@settings(max_examples=60, deadline=None, derandomize=True)
@given(clip=_clip_and_anchor_specs(), method=st.sampled_from(("slerp", "cubic")), order_seed=st.integers(0, 2**16))
def test_every_stream_follows_the_textbook_curve_through_its_own_newest_keys(
        clip: tuple[int, list[tuple[int, set[str]]]], method: str, order_seed: int) -> None:
    """What a user sees in the editor's fallback in-betweening: per stream (body, hands, jaw), the anchors pinning
    that stream on frames inside the clip are its keys; where several pin one frame the newest (highest id) one is
    the key. Key frames show the key pose bit for bit; every other frame is the slerp / Catmull-Rom (see
    ``_model_stream``) between the stream's keys, held before the first and after the last key; a stream with no
    key stays at rest. Anchors on the first and last frame, next to each other, on one frame, and off the clip
    (before 0, past the end) all come up. The anchors are given in a random order."""
    n_frames, specs = clip
    rng = np.random.default_rng(order_seed)
    anchors = [Anchor(frame, _pose(rng, 1.5), frozenset(streams)) for frame, streams in specs]
    shuffled = [anchors[i] for i in rng.permutation(len(anchors))]
    out = interpolate_between_anchors(n_frames, AnchorSet(shuffled), method)
    assert out.shape == (n_frames, 246) and out.dtype == np.float32
    for stream in STREAMS:
        cols = STREAM_SLICES[stream]
        newest: dict[int, Anchor] = {}
        for anchor in anchors:  # created in list order: a later one is newer
            if stream in anchor.streams and 0 <= anchor.frame < n_frames:
                newest[anchor.frame] = anchor
        frames = np.array(sorted(newest), dtype=np.int64)
        keys = np.array([newest[int(f)].pose[cols] for f in frames]).reshape(len(frames), cols.stop - cols.start)
        _assert_stream_is_the_model(out[:, cols], frames, keys, method)


@settings(max_examples=40, deadline=None, derandomize=True)
@given(n_frames=st.integers(2, 24), seed=st.integers(0, 2**16), method=st.sampled_from(("slerp", "cubic")),
       tension=st.tuples(st.sampled_from((0.0, -1.5, 0.5)), st.sampled_from((0.0, -0.75, 1.0))),
       density=st.sampled_from((0.1, 0.3, 0.7)))
def test_dense_keyframes_follow_the_textbook_curve_with_the_end_tension_per_stream(
        n_frames: int, seed: int, method: str, tension: tuple[float, float], density: float) -> None:
    """Training and the generator's base build the same in-between from dense (T, 246) keyframe arrays: a stream
    is keyed on a frame when the mask's first column of that stream is set (whatever its other columns say), and
    the cubic's first and last key tangents are scaled by 1 - tension (Kochanek-Bartels). Streams keyed on the
    same frames and streams keyed alone give the same curves (the model is computed per stream)."""
    rng = np.random.default_rng(seed)
    values = np.stack([_pose(rng, 1.5) for _ in range(n_frames)])
    keyed = rng.random((n_frames, len(STREAMS))) < density
    if rng.random() < 0.5:  # often every stream on the same frames, as anchors pinning all streams give
        keyed[:] = keyed[:, :1]
    mask = (rng.random(values.shape) < 0.5).astype(np.float32)  # noise in the columns that do not count
    for i, stream in enumerate(STREAMS):
        mask[:, STREAM_SLICES[stream].start] = keyed[:, i]
    out = interpolate_keyframes(values, mask, method, tension)
    for i, stream in enumerate(STREAMS):
        cols = STREAM_SLICES[stream]
        frames = np.flatnonzero(keyed[:, i])
        _assert_stream_is_the_model(out[:, cols], frames, values[frames][:, cols], method, tension)
