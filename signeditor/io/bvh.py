"""BVH motion files: SMPL-X joint names, the mannequin's rest offsets, ZXY Euler channels.

BVH is what Blender, MotionBuilder and most retargeting tools read. Offsets
are written in centimetres (the common BVH unit); the root carries position
channels, every other joint three rotation channels in Z, X, Y order, which
means ``R = Rz @ Rx @ Ry`` in the parent's frame.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from signeditor.core import rotations
from signeditor.core.kinematics import local_matrices
from signeditor.core.motion import Motion, MotionError
from signeditor.core.skeleton import ROTATING_JOINTS, Skeleton, signing_skeleton
from signeditor.io.atomic import atomic_writer
from signeditor.io.errors import FileFormatError, read_file_bytes

CM_PER_M = 100.0
_ROTATION_CHANNELS = ("Zrotation", "Xrotation", "Yrotation")


def write_bvh(motion: Motion, path: str | Path, skeleton: Skeleton | None = None) -> None:
    """Write every skeleton joint; joints without children end in an ``End Site``."""
    skeleton = skeleton or signing_skeleton()
    children: dict[int, list[int]] = {i: [] for i in range(len(skeleton.names))}
    for j, p in enumerate(skeleton.parents):
        if p >= 0:
            children[p].append(j)
    # Tips are not rotating joints: they become the End Sites of the third phalanges.
    tips = {j for j, n in enumerate(skeleton.names) if n.endswith("Tip")}
    order: list[int] = []
    lines: list[str] = ["HIERARCHY"]

    def emit(j: int, depth: int) -> None:
        pad = "\t" * depth
        off = skeleton.offsets[j] * CM_PER_M
        kind = "ROOT" if skeleton.parents[j] < 0 else "JOINT"
        lines.append(f"{pad}{kind} {skeleton.names[j]}")
        lines.append(f"{pad}{{")
        lines.append(f"{pad}\tOFFSET {off[0]:.6f} {off[1]:.6f} {off[2]:.6f}")
        channels = _ROTATION_CHANNELS
        if kind == "ROOT":
            channels = ("Xposition", "Yposition", "Zposition", *_ROTATION_CHANNELS)
        lines.append(f"{pad}\tCHANNELS {len(channels)} {' '.join(channels)}")
        order.append(j)
        kids = [c for c in children[j] if c not in tips]
        for c in kids:
            emit(c, depth + 1)
        if not kids:
            tip = [c for c in children[j] if c in tips]
            end = skeleton.offsets[tip[0]] * CM_PER_M if tip else np.array([0.0, 2.0, 0.0])
            lines.append(f"{pad}\tEnd Site")
            lines.append(f"{pad}\t{{")
            lines.append(f"{pad}\t\tOFFSET {end[0]:.6f} {end[1]:.6f} {end[2]:.6f}")
            lines.append(f"{pad}\t}}")
        lines.append(f"{pad}}}")

    emit(0, 0)
    local = local_matrices(motion.features, len(skeleton.names))
    eulers = Rotation.from_matrix(local[:, order].reshape(-1, 3, 3)).as_euler("ZXY", degrees=True)
    eulers = eulers.reshape(motion.n_frames, len(order) * 3)
    root = np.tile(skeleton.offsets[0] * CM_PER_M, (motion.n_frames, 1))
    frames = np.concatenate([root, eulers], axis=1)
    lines += ["MOTION", f"Frames: {motion.n_frames}", f"Frame Time: {1.0 / motion.fps:.8f}"]
    lines += [" ".join(f"{v:.5f}" for v in row) for row in frames]
    with atomic_writer(path) as handle:
        handle.write(("\n".join(lines) + "\n").encode("ascii"))


@dataclass
class BvhJoint:
    name: str
    parent: int
    offset: np.ndarray
    channels: list[str]


@dataclass
class BvhClip:
    """A parsed BVH file: joints in file order, per-frame channel values, frame time."""

    joints: list[BvhJoint]
    frames: np.ndarray  # (T, total channels)
    frame_time: float

    def local_rotations(self) -> np.ndarray:
        """Per-frame local rotation matrices (T, J, 3, 3) from each joint's Euler channels."""
        n = self.frames.shape[0]
        result = np.broadcast_to(np.eye(3), (n, len(self.joints), 3, 3)).copy()
        col = 0
        for j, joint in enumerate(self.joints):
            rot_axes = [c[0].upper() for c in joint.channels if c.lower().endswith("rotation")]
            rot_cols = [col + i for i, c in enumerate(joint.channels) if c.lower().endswith("rotation")]
            if rot_axes:
                euler = Rotation.from_euler("".join(rot_axes), self.frames[:, rot_cols], degrees=True)
                result[:, j] = euler.as_matrix()
            col += len(joint.channels)
        return result


def parse_bvh(path: str | Path) -> BvhClip:
    path = Path(path)
    try:
        text = read_file_bytes(path).decode("ascii")
    except UnicodeDecodeError as exc:
        raise FileFormatError(path, "not a text BVH file (non-ASCII bytes)") from exc
    tokens = re.findall(r"[^\s]+", text)
    joints: list[BvhJoint] = []
    stack: list[int] = []
    i = 0

    def need(k: int) -> list[str]:
        if i + k > len(tokens):
            raise FileFormatError(path, "file ends inside the HIERARCHY section (truncated)")
        return tokens[i:i + k]

    try:
        if not tokens or tokens[0] != "HIERARCHY":
            raise FileFormatError(path, "does not start with HIERARCHY: not a BVH file")
        i = 1
        pending_end = False
        while i < len(tokens) and tokens[i] != "MOTION":
            tok = tokens[i]
            if tok in ("ROOT", "JOINT"):
                name = need(2)[1]
                joints.append(BvhJoint(name, stack[-1] if stack else -1, np.zeros(3), []))
                i += 2
            elif tok == "End":
                pending_end = True
                i += 2
            elif tok == "{":
                stack.append(-2 if pending_end else len(joints) - 1)
                pending_end = False
                i += 1
            elif tok == "}":
                if not stack:
                    raise FileFormatError(path, "unbalanced braces in HIERARCHY")
                stack.pop()
                i += 1
            elif tok == "OFFSET":
                values = [float(v) for v in need(4)[1:]]
                if stack and stack[-1] >= 0:
                    joints[stack[-1]].offset = np.array(values)
                i += 4
            elif tok == "CHANNELS":
                count = int(need(2)[1])
                if not stack or stack[-1] < 0 or count < 0:
                    raise FileFormatError(path, "CHANNELS outside a joint, or a negative channel count")
                channels = need(2 + count)[2:]
                unknown = [c for c in channels if c[:1].upper() not in "XYZ" or c[1:].lower() not in
                           ("rotation", "position") or len(c) < 2]
                if unknown:
                    raise FileFormatError(path, f"unknown channel name {unknown[0]!r}")
                axes = [c[0].upper() for c in channels if c.lower().endswith("rotation")]
                if len(axes) > 3 or any(a == b for a, b in itertools.pairwise(axes)):
                    raise FileFormatError(path, f"rotation channels {' '.join(channels)} are not a valid Euler order")
                joints[stack[-1]].channels = channels
                i += 2 + count
            else:
                raise FileFormatError(path, f"unexpected token {tok!r} in HIERARCHY")
        # End Site braces push -2; children of real joints must name a real parent.
        for joint in joints:
            if joint.parent == -2:
                raise FileFormatError(path, "a joint is declared inside an End Site")
        if i >= len(tokens) or not joints:
            raise FileFormatError(path, "no MOTION section or no joints")
        header = tokens[i:i + 6]
        if len(header) < 6 or header[1] != "Frames:" or header[3:5] != ["Frame", "Time:"]:
            raise FileFormatError(path, "malformed MOTION header (expected 'Frames: N' and 'Frame Time: T')")
        n_frames, frame_time = int(header[2]), float(header[5])
        values = np.array(tokens[i + 6:], dtype=np.float64)
    except ValueError as exc:
        raise FileFormatError(path, f"a number could not be read ({exc})") from exc
    n_channels = sum(len(j.channels) for j in joints)
    if n_frames <= 0:
        raise FileFormatError(path, "the file holds zero frames")
    if not (0 < frame_time < 10) or not np.isfinite(frame_time):
        raise FileFormatError(path, f"implausible frame time {frame_time}")
    if values.size < n_frames * n_channels:
        raise FileFormatError(path, f"expected {n_frames} frames of {n_channels} values, found {values.size} values"
                              " (truncated)")
    frames = values[: n_frames * n_channels].reshape(n_frames, n_channels)
    if not np.all(np.isfinite(frames)):
        raise FileFormatError(path, "motion values contain NaN or infinite numbers")
    return BvhClip(joints, frames, frame_time)


def read_bvh(path: str | Path) -> Motion:
    """Read a BVH with SMPL-X joint names (as this module writes) into a motion.

    Rigs with other names (Mixamo) go through the retargeting importer.
    """
    clip = parse_bvh(path)
    names = [j.name for j in clip.joints]
    missing = [n for n in ROTATING_JOINTS if n not in names and n != "Jaw"]
    if missing:
        raise FileFormatError(path, f"not an SMPL-X-named skeleton (missing joints such as {missing[:3]})")
    local = clip.local_rotations()
    identity = np.broadcast_to(np.eye(3), (local.shape[0], 3, 3))
    mats = np.stack([local[:, names.index(n)] if n in names else identity for n in ROTATING_JOINTS], axis=1)
    features = rotations.matrix_to_rot6d(mats).reshape(local.shape[0], -1)
    try:
        return Motion(1.0 / clip.frame_time, features)
    except MotionError as exc:
        raise FileFormatError(path, str(exc)) from exc


__all__ = ["BvhClip", "parse_bvh", "read_bvh", "write_bvh"]
