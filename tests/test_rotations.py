import numpy as np
import pytest
from scipy.spatial.transform import Rotation, Slerp

from signeditor.core import rotations as R


@pytest.fixture
def random_rotations() -> Rotation:
    rng = np.random.default_rng(0)
    rots = Rotation.random(500, random_state=1)
    # Include the awkward cases: identity, half turns and tiny angles.
    special = Rotation.from_rotvec(
        np.concatenate([np.zeros((1, 3)), np.eye(3) * np.pi, rng.normal(size=(3, 3)) * 1e-9])
    )
    return Rotation.concatenate([rots, special])


def test_axis_angle_to_matrix_matches_scipy(random_rotations: Rotation) -> None:
    np.testing.assert_allclose(R.axis_angle_to_matrix(random_rotations.as_rotvec()), random_rotations.as_matrix(),
                               atol=1e-9)


def test_matrix_to_quaternion_matches_scipy_up_to_sign(random_rotations: Rotation) -> None:
    ours = R.matrix_to_quaternion(random_rotations.as_matrix())
    theirs = random_rotations.as_quat()
    same = np.minimum(np.abs(ours - theirs).max(axis=1), np.abs(ours + theirs).max(axis=1))
    assert same.max() < 1e-7


def test_quaternion_to_matrix_matches_scipy(random_rotations: Rotation) -> None:
    np.testing.assert_allclose(R.quaternion_to_matrix(random_rotations.as_quat()), random_rotations.as_matrix(),
                               atol=1e-9)


def test_matrix_to_axis_angle_round_trips_through_scipy(random_rotations: Rotation) -> None:
    aa = R.matrix_to_axis_angle(random_rotations.as_matrix())
    np.testing.assert_allclose(Rotation.from_rotvec(aa).as_matrix(), random_rotations.as_matrix(), atol=1e-7)
    np.testing.assert_allclose(R.axis_angle_to_quaternion(aa), R.matrix_to_quaternion(random_rotations.as_matrix()),
                               atol=1e-7)


def test_rot6d_round_trip_and_projection(random_rotations: Rotation) -> None:
    mats = random_rotations.as_matrix()
    six = R.matrix_to_rot6d(mats)
    assert six.shape == (len(mats), 6)
    np.testing.assert_allclose(six[:, :3], mats[:, 0, :])  # first row stored first (SignSparK layout)
    np.testing.assert_allclose(R.rot6d_to_matrix(six), mats, atol=1e-9)
    noisy = six + np.random.default_rng(3).normal(scale=0.05, size=six.shape)
    projected = R.rot6d_to_matrix(noisy)
    np.testing.assert_allclose(projected @ np.swapaxes(projected, -1, -2), np.broadcast_to(np.eye(3), mats.shape),
                               atol=1e-6)
    np.testing.assert_allclose(np.linalg.det(projected), 1.0, atol=1e-6)


def test_rotation_between_maps_directions_including_opposite() -> None:
    rng = np.random.default_rng(5)
    a = rng.normal(size=(200, 3))
    b = rng.normal(size=(200, 3))
    b[0] = -a[0]
    b[1] = a[1] * 3.0
    rot = R.rotation_between(a, b)
    mapped = np.einsum("nij,nj->ni", rot, a / np.linalg.norm(a, axis=1, keepdims=True))
    np.testing.assert_allclose(mapped, b / np.linalg.norm(b, axis=1, keepdims=True), atol=1e-7)
    np.testing.assert_allclose(np.linalg.det(rot), 1.0, atol=1e-9)


def test_frame_from_vectors_gives_full_rotation_between_frames() -> None:
    truth = Rotation.random(50, random_state=7).as_matrix()
    primary = np.array([1.0, 0.2, 0.0])
    secondary = np.array([0.1, 1.0, 0.3])
    rest = R.frame_from_vectors(primary, secondary)
    seen = R.frame_from_vectors(truth @ primary, truth @ secondary)
    np.testing.assert_allclose(seen @ rest.T, truth, atol=1e-9)


def test_quaternion_to_axis_angle_matches_scipy_for_either_sign_of_the_quaternion(random_rotations: Rotation) -> None:
    """q and -q are one rotation: both give scipy's rotation vector (angle at most a half turn)."""
    quat = random_rotations.as_quat()
    expected = random_rotations.as_rotvec()
    half_turn = np.isclose(np.linalg.norm(expected, axis=1), np.pi)  # +-axis: both are right
    for q in (quat, -quat):
        ours = R.quaternion_to_axis_angle(q)
        np.testing.assert_allclose(ours[~half_turn], expected[~half_turn], rtol=1e-7, atol=1e-13)  # tiny turns too
        np.testing.assert_allclose(Rotation.from_rotvec(ours).as_matrix(), random_rotations.as_matrix(), atol=1e-9)


def test_slerp_matches_scipy_along_the_shorter_arc(random_rotations: Rotation) -> None:
    """Between pairs of random rotations (their relative turn short of a half turn), at random weights."""
    a, b = random_rotations[:250], random_rotations[250:500]
    relative = np.linalg.norm((a.inv() * b).as_rotvec(), axis=1)
    keep = relative < np.pi - 1e-3
    weight = np.random.default_rng(2).uniform(0.0, 1.0, 250)
    ours = R.slerp_matrices(a.as_matrix(), b.as_matrix(), weight)
    for k in np.flatnonzero(keep):
        pair = Rotation.concatenate([a[k], b[k]])
        expected = Slerp([0.0, 1.0], pair)([weight[k]]).as_matrix()[0]
        np.testing.assert_allclose(ours[k], expected, atol=1e-9)
