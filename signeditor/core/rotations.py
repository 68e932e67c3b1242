"""Rotation conversions between 6D, matrix, axis-angle and quaternion forms.

All functions are vectorised over leading dimensions. The 6D form is the first
two *rows* of the rotation matrix (the convention of PyTorch3D and of
SignSparK's records), so records convert without loss. Quaternions are
scalar-last ``(x, y, z, w)``, the order scipy and glTF use.
"""

from __future__ import annotations

import numpy as np

_EPS = 1e-8



def unit_vectors(v: np.ndarray) -> np.ndarray:
    """``v`` scaled to length 1 along its last axis (zero vectors stay zero)."""
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)

def rot6d_to_matrix(rot6d: np.ndarray) -> np.ndarray:
    """Gram-Schmidt the two stored rows back into an orthonormal matrix.

    Works for any 6-vector, not only exact ones, which is what makes 6D a
    good network output: every prediction maps to a valid rotation.
    """
    rot6d = np.asarray(rot6d, dtype=np.result_type(np.asarray(rot6d).dtype, np.float32))
    return np.swapaxes(frame_from_vectors(rot6d[..., 0:3], rot6d[..., 3:6]), -1, -2)


def matrix_to_rot6d(matrix: np.ndarray) -> np.ndarray:
    matrix = np.asarray(matrix)
    return matrix[..., :2, :].reshape(*matrix.shape[:-2], 6).copy()


def axis_angle_to_matrix(axis_angle: np.ndarray) -> np.ndarray:
    """Rodrigues' formula, with a Taylor form near zero so gradients-free code stays exact."""
    aa = np.asarray(axis_angle, dtype=np.float64)
    angle = np.linalg.norm(aa, axis=-1, keepdims=True)
    small = angle < 1e-6
    safe = np.where(small, 1.0, angle)
    axis = aa / safe
    x, y, z = axis[..., 0], axis[..., 1], axis[..., 2]
    zeros = np.zeros_like(x)
    k = np.stack([zeros, -z, y, z, zeros, -x, -y, x, zeros], axis=-1).reshape(*aa.shape[:-1], 3, 3)
    s = np.sin(angle)[..., None]
    c = np.cos(angle)[..., None]
    eye = np.broadcast_to(np.eye(3), k.shape)
    rot = eye + s * k + (1.0 - c) * (k @ k)
    # First-order expansion for tiny angles: R = I + [aa]x.
    xa, ya, za = aa[..., 0], aa[..., 1], aa[..., 2]
    ka = np.stack([zeros, -za, ya, za, zeros, -xa, -ya, xa, zeros], axis=-1).reshape(k.shape)
    return np.where(small[..., None], eye + ka, rot)


def matrix_to_quaternion(matrix: np.ndarray) -> np.ndarray:
    """Shepperd's method: pick the numerically largest component per matrix."""
    m = np.asarray(matrix, dtype=np.float64)
    m00, m11, m22 = m[..., 0, 0], m[..., 1, 1], m[..., 2, 2]
    trace = m00 + m11 + m22
    candidates = np.stack([trace, m00, m11, m22], axis=-1)
    choice = np.argmax(candidates, axis=-1)
    q = np.empty((*m.shape[:-2], 4))
    # w largest
    s = np.sqrt(np.maximum(1.0 + trace, _EPS)) * 2.0
    qw = np.stack([(m[..., 2, 1] - m[..., 1, 2]) / s, (m[..., 0, 2] - m[..., 2, 0]) / s,
                   (m[..., 1, 0] - m[..., 0, 1]) / s, 0.25 * s], axis=-1)
    s = np.sqrt(np.maximum(1.0 + m00 - m11 - m22, _EPS)) * 2.0
    qx = np.stack([0.25 * s, (m[..., 0, 1] + m[..., 1, 0]) / s, (m[..., 0, 2] + m[..., 2, 0]) / s,
                   (m[..., 2, 1] - m[..., 1, 2]) / s], axis=-1)
    s = np.sqrt(np.maximum(1.0 - m00 + m11 - m22, _EPS)) * 2.0
    qy = np.stack([(m[..., 0, 1] + m[..., 1, 0]) / s, 0.25 * s, (m[..., 1, 2] + m[..., 2, 1]) / s,
                   (m[..., 0, 2] - m[..., 2, 0]) / s], axis=-1)
    s = np.sqrt(np.maximum(1.0 - m00 - m11 + m22, _EPS)) * 2.0
    qz = np.stack([(m[..., 0, 2] + m[..., 2, 0]) / s, (m[..., 1, 2] + m[..., 2, 1]) / s, 0.25 * s,
                   (m[..., 1, 0] - m[..., 0, 1]) / s], axis=-1)
    q = np.select([choice[..., None] == 0, choice[..., None] == 1, choice[..., None] == 2], [qw, qx, qy], qz)
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    # Canonical sign (w >= 0) so equal rotations give equal quaternions.
    return np.where(q[..., 3:4] < 0, -q, q)


def quaternion_to_matrix(quat: np.ndarray) -> np.ndarray:
    q = np.asarray(quat, dtype=np.float64)
    q = q / np.maximum(np.linalg.norm(q, axis=-1, keepdims=True), _EPS)
    x, y, z, w = q[..., 0], q[..., 1], q[..., 2], q[..., 3]
    return np.stack([
        1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
        2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
        2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y),
    ], axis=-1).reshape(*q.shape[:-1], 3, 3)


def quaternion_to_rot6d(quat: np.ndarray) -> np.ndarray:
    """``matrix_to_rot6d(quaternion_to_matrix(quat))``, the same numbers, without building the third row."""
    x, y, z, w = unit_quaternion_components(np.asarray(quat, dtype=np.float64))
    return np.stack([
        1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w),
        2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w),
    ], axis=-1)


def unit_quaternion_components(quat: np.ndarray, eps: float = _EPS) -> tuple[np.ndarray, ...]:
    """The four components of ``quat / max(|quat|, eps)``: the same numbers as dividing by ``np.linalg.norm`` (its
    sum over four squares runs in the same order), without the small reductions that dominate on short clips."""
    q0, q1, q2, q3 = quat[..., 0], quat[..., 1], quat[..., 2], quat[..., 3]
    length = np.maximum(np.sqrt(q0 * q0 + q1 * q1 + q2 * q2 + q3 * q3), eps)
    return q0 / length, q1 / length, q2 / length, q3 / length


def quaternion_to_axis_angle(quat: np.ndarray) -> np.ndarray:
    q = np.asarray(quat, dtype=np.float64)
    q = np.where(q[..., 3:4] < 0, -q, q)
    xyz = q[..., :3]
    sin_half = np.linalg.norm(xyz, axis=-1, keepdims=True)
    angle = 2.0 * np.arctan2(sin_half, q[..., 3:4])
    scale = np.where(sin_half < 1e-8, 2.0, angle / np.maximum(sin_half, 1e-12))
    return xyz * scale


def axis_angle_to_quaternion(axis_angle: np.ndarray) -> np.ndarray:
    aa = np.asarray(axis_angle, dtype=np.float64)
    angle = np.linalg.norm(aa, axis=-1, keepdims=True)
    half = 0.5 * angle
    scale = np.where(angle < 1e-8, 0.5, np.sin(half) / np.maximum(angle, 1e-12))
    return np.concatenate([aa * scale, np.cos(half)], axis=-1)


def matrix_to_axis_angle(matrix: np.ndarray) -> np.ndarray:
    return quaternion_to_axis_angle(matrix_to_quaternion(matrix))


def rot6d_to_axis_angle(rot6d: np.ndarray) -> np.ndarray:
    return matrix_to_axis_angle(rot6d_to_matrix(rot6d))


def axis_angle_to_rot6d(axis_angle: np.ndarray) -> np.ndarray:
    return matrix_to_rot6d(axis_angle_to_matrix(axis_angle))


def rotation_between(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Smallest rotation taking direction ``a`` onto direction ``b`` (batched).

    The swing-only rotation is what bone-direction IK needs: it changes the
    bone's direction without adding twist about it.
    """
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    a = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), _EPS)
    b = b / np.maximum(np.linalg.norm(b, axis=-1, keepdims=True), _EPS)
    v = np.cross(a, b)
    c = np.sum(a * b, axis=-1)
    # Opposite vectors: rotate pi about any axis orthogonal to a.
    helper = np.where(np.abs(a[..., 0:1]) < 0.9, np.array([1.0, 0, 0]), np.array([0, 1.0, 0]))
    ortho = np.cross(a, helper)
    ortho /= np.maximum(np.linalg.norm(ortho, axis=-1, keepdims=True), _EPS)
    opposite = c < -1 + 1e-9
    zeros = np.zeros_like(c)
    k = np.stack([zeros, -v[..., 2], v[..., 1], v[..., 2], zeros, -v[..., 0], -v[..., 1], v[..., 0], zeros],
                 axis=-1).reshape(*v.shape[:-1], 3, 3)
    factor = (1.0 / np.maximum(1.0 + c, 1e-9))[..., None, None]
    rot = np.eye(3) + k + (k @ k) * factor
    flip = axis_angle_to_matrix(ortho * np.pi)
    return np.where(opposite[..., None, None], flip, rot)


def frame_from_vectors(primary: np.ndarray, secondary: np.ndarray) -> np.ndarray:
    """Orthonormal frame with columns (primary, secondary', primary x secondary').

    ``secondary`` need only be roughly orthogonal to ``primary``; it is
    projected. Two such frames, one at rest and one observed, give a full
    rotation including twist (used for the palm and the head).
    """
    x0, x1, x2, y0, y1, y2 = _gram_schmidt(np.asarray(primary), np.asarray(secondary))
    z0, z1, z2 = x1 * y2 - x2 * y1, x2 * y0 - x0 * y2, x0 * y1 - x1 * y0  # x cross y
    return np.stack([x0, y0, z0, x1, y1, z1, x2, y2, z2], axis=-1).reshape(*y0.shape, 3, 3)


def _gram_schmidt(primary: np.ndarray, secondary: np.ndarray) -> tuple[np.ndarray, ...]:
    """Components of ``primary`` normalised and of ``secondary`` made orthogonal to it and normalised.

    Written over named components rather than reductions of length 3: the same numbers (tests compare them with
    ``np.linalg.norm``/``np.cross``), 5x faster on the small arrays forward kinematics and the generator use.
    """
    p0, p1, p2 = primary[..., 0], primary[..., 1], primary[..., 2]
    s0, s1, s2 = secondary[..., 0], secondary[..., 1], secondary[..., 2]
    length = np.maximum(np.sqrt(p0 * p0 + p1 * p1 + p2 * p2), _EPS)
    x0, x1, x2 = p0 / length, p1 / length, p2 / length
    along = s0 * x0 + s1 * x1 + s2 * x2
    y0, y1, y2 = s0 - along * x0, s1 - along * x1, s2 - along * x2
    length = np.maximum(np.sqrt(y0 * y0 + y1 * y1 + y2 * y2), _EPS)
    return x0, x1, x2, y0 / length, y1 / length, y2 / length


def orthonormalize_rot6d(rot6d: np.ndarray) -> np.ndarray:
    """Project arbitrary 6-vectors (e.g. after linear blending) onto valid rotations.

    The same numbers as ``matrix_to_rot6d(rot6d_to_matrix(rot6d))``: the two stored rows are the Gram-Schmidt frame's
    first two vectors, so the third (a cross product) is never built (the generator calls this on every frame).
    """
    rot6d = np.asarray(rot6d, dtype=np.result_type(np.asarray(rot6d).dtype, np.float32))
    return np.stack(_gram_schmidt(rot6d[..., 0:3], rot6d[..., 3:6]), axis=-1)


def relative_rotation_power(matrix: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """``matrix`` raised to the power ``weight`` (exp(w log R)): a fraction of a rotation, about the same axis."""
    axis_angle = matrix_to_axis_angle(matrix)
    return axis_angle_to_matrix(axis_angle * np.asarray(weight, dtype=np.float64)[..., None])


def slerp_matrices(a: np.ndarray, b: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Geodesic interpolation between rotation matrices (batched): ``a`` at weight 0, ``b`` at 1, constant speed.

    Blending matrices or 6D vectors linearly shrinks and skews them between
    keys; this moves along the shortest arc, which is what resampling captured
    rotations in time needs.
    """
    a = np.asarray(a, dtype=np.float64)
    return a @ relative_rotation_power(np.swapaxes(a, -1, -2) @ np.asarray(b, dtype=np.float64), weight)
