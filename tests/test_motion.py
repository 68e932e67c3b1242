import numpy as np
import pytest
from scipy.spatial.transform import Rotation

from signeditor.core import rotations
from signeditor.core.kinematics import forward_kinematics
from signeditor.core.motion import FEATURE_DIM, STREAM_SLICES, Motion, MotionError, mirror_features
from signeditor.core.skeleton import JOINT_INDEX, JOINT_NAMES, ROTATING_JOINTS, mirror_name, signing_skeleton


def random_motion(n: int = 20, seed: int = 0, scale: float = 0.6) -> Motion:
    rng = np.random.default_rng(seed)
    aa = rng.normal(scale=scale, size=(n, len(ROTATING_JOINTS), 3))
    return Motion(25.0, rotations.axis_angle_to_rot6d(aa).reshape(n, FEATURE_DIM))


def test_stream_layout_matches_signspark() -> None:
    assert {k: s.stop - s.start for k, s in STREAM_SLICES.items()} == {
        "body": 60, "left_hand": 90, "right_hand": 90, "jaw": 6}
    assert FEATURE_DIM == 246


def test_motion_rejects_bad_arrays() -> None:
    with pytest.raises(MotionError, match="246"):
        Motion(25.0, np.zeros((4, 10)))
    bad = Motion.rest(3).features
    bad[1, 0] = np.nan
    with pytest.raises(MotionError, match="NaN"):
        Motion(25.0, bad)
    with pytest.raises(MotionError, match="fps"):
        Motion(0.0, Motion.rest(3).features)


def test_rest_pose_forward_kinematics_is_skeleton_rest() -> None:
    positions = forward_kinematics(Motion.rest(2).features)
    np.testing.assert_allclose(positions[1], signing_skeleton().rest_positions(), atol=1e-12)
    # The signer's left wrist is on +x.
    assert positions[0, JOINT_INDEX["L_Wrist"], 0] > 0.5 > -0.5 > positions[0, JOINT_INDEX["R_Wrist"], 0]


def test_forward_kinematics_matches_rotation_composition() -> None:
    motion = random_motion(3)
    positions, world = forward_kinematics(motion.features, with_rotations=True)
    skel = signing_skeleton()
    # Elbow-to-wrist bone = world rotation of the elbow applied to the rest offset.
    e, w = JOINT_INDEX["R_Elbow"], JOINT_INDEX["R_Wrist"]
    np.testing.assert_allclose(positions[:, w] - positions[:, e], world[:, e] @ skel.offsets[w], atol=1e-9)
    # Bone lengths never change.
    lengths = np.linalg.norm(positions[:, w] - positions[:, e], axis=1)
    np.testing.assert_allclose(lengths, np.linalg.norm(skel.offsets[w]), atol=1e-6)


def test_mirroring_reflects_positions_and_is_an_involution() -> None:
    motion = random_motion(5, seed=2)
    mirrored = mirror_features(motion.features)
    np.testing.assert_allclose(mirror_features(mirrored), motion.features, atol=1e-5)
    pos = forward_kinematics(motion.features)
    pos_m = forward_kinematics(mirrored)
    perm = [JOINT_NAMES.index(mirror_name(n)) for n in JOINT_NAMES]
    reflected = pos[:, perm] * np.array([-1.0, 1.0, 1.0])
    np.testing.assert_allclose(pos_m, reflected, atol=1e-5)


def test_resampling_keeps_duration_and_rotations() -> None:
    aa = np.zeros((50, len(ROTATING_JOINTS), 3))
    aa[:, 6, 2] = np.linspace(0.0, 1.0, 50)  # a steady elbow rotation
    motion = Motion(50.0, rotations.axis_angle_to_rot6d(aa).reshape(50, -1))
    half = motion.resampled(25.0)
    assert half.n_frames == 25 and half.fps == 25.0
    angle = Rotation.from_matrix(half.matrices()[:, 6].astype(np.float64)).as_rotvec()[:, 2]
    np.testing.assert_allclose(angle, np.linspace(0.0, 1.0, 50)[::2], atol=1e-3)


def test_resampling_flags_each_new_frame_from_the_nearest_old_frame() -> None:
    """Hand lost on frames 9-18 of a 25 fps clip, resampled to 20 fps: new frame k shows old frame 1.25 k, so
    frames 7-14 are flagged (8.75 is nearest 9, 17.5 rounds to 18) and frame 15 (18.75, nearest 19) is not."""
    from signeditor.core.motion import STREAMS

    stream_filled = np.zeros((40, len(STREAMS)), bool)
    stream_filled[9:19, STREAMS.index("left_hand")] = True
    motion = Motion(25.0, Motion.rest(40).features, filled=stream_filled.any(axis=1), stream_filled=stream_filled)
    slower = motion.resampled(20.0)
    assert np.flatnonzero(slower.filled).tolist() == list(range(7, 15))
    assert np.flatnonzero(slower.filled_by_stream()[:, STREAMS.index("left_hand")]).tolist() == list(range(7, 15))
