import numpy as np
import pytest
from scipy.spatial.transform import Rotation

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
