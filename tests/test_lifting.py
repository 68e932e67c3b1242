"""Depth lifting: 3D from flat keypoints, checked against motions whose 3D is known from outside the code.

Ground truth never comes from the lifting or the IK themselves: motions are
posed by forward kinematics from known rotations (the bundled sample, a KF2P
output), or are MediaPipe's own world landmarks; they are written with flat
depth, imported, and compared in 3D.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from conftest import anatomical_elbow_axis, plausible_features, reduced_holistic_points, write_pose

from signeditor.core import rotations
from signeditor.core.body_volume import body_penetration, shoulder_plane_z
from signeditor.core.ik import FINGER_POINTS, fit_motion, reprojection_errors, rest_pose_features
from signeditor.core.kinematics import forward_kinematics
from signeditor.core.lifting import DETECTOR_DEPTH, LIFTED, WORLD_LANDMARKS, lift_depth
from signeditor.core.plausibility import plausibility
from signeditor.core.skeleton import JOINT_INDEX, ROTATING_JOINTS, signing_skeleton
from signeditor.io.pose_reader import keypoints_from_arrays, read_pose_keypoints

SAMPLE = Path(__file__).resolve().parents[1] / "resources" / "samples" / "sample.signproj"
SHOULDER_WIDTH = signing_skeleton().shoulder_width()
ARM = ("POSE_LANDMARKS.LEFT_SHOULDER", "POSE_LANDMARKS.RIGHT_SHOULDER", "POSE_LANDMARKS.RIGHT_ELBOW",
       "POSE_LANDMARKS.RIGHT_WRIST")


def _wrist_errors(fitted: np.ndarray, truth: np.ndarray) -> np.ndarray:
    """3D distance of both wrists, in shoulder widths, per frame."""
    joints = [JOINT_INDEX["L_Wrist"], JOINT_INDEX["R_Wrist"]]
    return np.linalg.norm(fitted[:, joints] - truth[:, joints], axis=-1).ravel() / SHOULDER_WIDTH


def _flat_round_trip(features: np.ndarray, tmp_path: Path) -> tuple[np.ndarray, np.ndarray, object]:
    """(fitted FK positions, true FK positions, keypoints) of ``features`` written with flat depth and imported."""
    path = write_pose(tmp_path / "flat.pose", reduced_holistic_points(features), flat_depth=True)
    keypoints = read_pose_keypoints(path)
    fitted = np.asarray(forward_kinematics(fit_motion(keypoints).features))
    return fitted, np.asarray(forward_kinematics(features)), keypoints


def _arm(frames: int, elbow: np.ndarray, wrist: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A right arm (skeleton lengths) with the given elbow and wrist offsets (T, 3) from shoulder and elbow."""
    rest = signing_skeleton().rest_positions()
    shoulders = np.stack([rest[JOINT_INDEX["L_Shoulder"]], rest[JOINT_INDEX["R_Shoulder"]]])
    positions = np.zeros((frames, 4, 3))
    positions[:, :2] = shoulders
    positions[:, 2] = shoulders[1] + elbow
    positions[:, 3] = positions[:, 2] + wrist
    return positions, np.ones((frames, 4), dtype=bool)


def _scaled(direction: np.ndarray, joint: str) -> np.ndarray:
    skeleton = signing_skeleton()
    length = np.linalg.norm(skeleton.offsets[skeleton.index(joint)])
    return length * direction / np.linalg.norm(direction, axis=-1, keepdims=True)


def test_flexing_the_fixture_elbow_moves_the_forearm_forward() -> None:
    """The oracle behind the fixtures' elbows: flexing about their axis bends a T-pose forearm to the front."""
    features = np.tile(np.array([1.0, 0, 0, 0, 1.0, 0], dtype=np.float32), (1, len(ROTATING_JOINTS)))
    for side in "LR":
        j = ROTATING_JOINTS.index(f"{side}_Elbow")
        features[0, 6 * j:6 * j + 6] = rotations.matrix_to_rot6d(
            rotations.axis_angle_to_matrix(anatomical_elbow_axis(side) * np.pi / 2))
    positions = forward_kinematics(features)[0]
    for side in "LR":
        forearm = positions[JOINT_INDEX[f"{side}_Wrist"]] - positions[JOINT_INDEX[f"{side}_Elbow"]]
        assert forearm[2] / np.linalg.norm(forearm) > 0.95, side


def test_a_forearm_pointing_at_the_camera_is_lifted_in_front() -> None:
    """Upper arm hanging, forearm reaching forward and inwards: depth from foreshortening, in front of the body."""
    frames = 30
    t = np.linspace(0, 1, frames)[:, None]
    elbow = _scaled(np.broadcast_to([-0.15, -1.0, 0.0], (frames, 3)), "R_Elbow")
    wrist = _scaled(np.concatenate([0.3 + 0.1 * t, 0.3 * t, np.full_like(t, 0.9)], axis=1), "R_Wrist")
    truth, observed = _arm(frames, elbow, wrist)
    flat = truth.copy()
    flat[..., 2] = truth[:, :1, 2]
    report = lift_depth(ARM, flat, observed)
    assert report.arms == {"R": LIFTED} and report.path == LIFTED
    np.testing.assert_allclose(flat[..., :2], truth[..., :2])  # only depth changes
    np.testing.assert_allclose(flat[:, 3, 2], truth[:, 3, 2], atol=0.02)
    np.testing.assert_allclose(flat[:, 2, 2], truth[:, 2, 2], atol=0.02)
    assert report.sign_changes["R"] == 0


def test_no_depth_sign_flips_while_a_bone_is_clearly_foreshortened() -> None:
    """Image noise must not flip a forearm between front and back frame to frame."""
    frames = 80
    rng = np.random.default_rng(3)
    elbow = _scaled(np.broadcast_to([-0.2, -1.0, 0.0], (frames, 3)), "R_Elbow")
    wrist = _scaled(np.column_stack([0.2 + 0.03 * rng.normal(size=frames), 0.5 + 0.03 * rng.normal(size=frames),
                                     np.full(frames, 0.8)]), "R_Wrist")
    positions, observed = _arm(frames, elbow, wrist)
    positions[..., 2] = 0.0
    report = lift_depth(ARM, positions, observed)
    forearm_depth = positions[:, 3, 2] - positions[:, 2, 2]
    assert np.all(forearm_depth > 0.1)
    assert report.sign_changes["R"] == 0


def test_a_hand_on_the_chest_is_moved_out_of_the_body() -> None:
    """Flat keypoints of a hand touching the chest land inside the torso; lifting puts them in front of it, with
    a centimetre to spare (so tracker jitter does not put it back in: 9 mm back, it is still outside)."""
    names = (*ARM[:2], "RIGHT_HAND_LANDMARKS.WRIST", "RIGHT_HAND_LANDMARKS.MIDDLE_FINGER_MCP")
    rest = signing_skeleton().rest_positions()
    positions = np.zeros((5, 4, 3))
    positions[:, 0], positions[:, 1] = rest[JOINT_INDEX["L_Shoulder"]], rest[JOINT_INDEX["R_Shoulder"]]
    positions[:, 2] = [0.02, -0.08, 0.0]
    positions[:, 3] = [0.06, -0.05, 0.0]
    before = positions.copy()
    assert body_penetration(before[:, 2:]).max() > 0.05
    report = lift_depth(names, positions, np.ones((5, 4), dtype=bool))
    assert body_penetration(positions[:, 2:]).max() < 0.005
    assert body_penetration(positions[:, 2:] - [0.0, 0.0, 0.009]).max() == 0.0
    np.testing.assert_allclose(positions[..., :2], before[..., :2])
    assert report.frames_pushed_out == 5


def test_known_depth_round_trip_of_the_bundled_sample(tmp_path: Path) -> None:
    """Hand-authored signing, projected flat and lifted: wrists back where they were, none behind the body."""
    from signeditor.io.project_file import load_project

    fitted, truth, keypoints = _flat_round_trip(load_project(SAMPLE).motion.features, tmp_path)
    errors = _wrist_errors(fitted, truth)
    assert np.median(errors) <= 0.10
    assert plausibility(fitted).behind_body_rate <= 0.01
    mirrored = truth.copy()
    mirrored[..., 2] = 2 * shoulder_plane_z() - truth[..., 2]
    assert np.median(_wrist_errors(mirrored, truth)) > 0.5  # a mirrored depth would fail the bound above
    assert keypoints.lifting.path == LIFTED
    reprojection = reprojection_errors(keypoints, fitted)
    assert np.median(reprojection) <= 0.03 and np.percentile(reprojection, 95) <= 0.08


def test_known_depth_round_trip_of_generated_motion(tmp_path: Path) -> None:
    """KF2P's own output (a different motion family) survives the flat round trip too."""
    from signeditor.io.project_file import load_project
    from signeditor.ml.kf2p.api import load_generator

    project = load_project(SAMPLE)
    generated = load_generator().regenerate_between_anchors(project.motion, project.anchors)
    fitted, truth, _ = _flat_round_trip(generated.features, tmp_path)
    assert np.median(_wrist_errors(fitted, truth)) <= 0.10
    assert plausibility(fitted).behind_body_rate <= 0.01


def test_real_depth_is_kept_and_rotations_come_back(make_pose_file) -> None:
    """A file with true depth takes the real-depth path; shoulders and elbows (the hinge) are recovered.

    A flipped elbow hinge in the IK fits the same positions with the upper arm
    turned ~180 degrees, which this comparison of rotations catches.
    """
    path, truth = make_pose_file(n_frames=20, seed=5)
    keypoints = read_pose_keypoints(path)
    assert keypoints.lifting.path == DETECTOR_DEPTH
    features = fit_motion(keypoints).features
    n = len(features)
    fitted_local = rotations.rot6d_to_matrix(features.reshape(n, -1, 6))
    true_local = rotations.rot6d_to_matrix(truth.reshape(n, -1, 6))
    for joint in ("L_Shoulder", "R_Shoulder", "L_Elbow", "R_Elbow"):
        i = ROTATING_JOINTS.index(joint)
        relative = np.swapaxes(true_local[:, i], -1, -2) @ fitted_local[:, i]
        angles = np.degrees(np.linalg.norm(rotations.matrix_to_axis_angle(relative), axis=-1))
        assert np.median(angles) < 10.0, joint


def test_rest_pose_is_plausible() -> None:
    """The pose given to limbs never seen is itself inside every plausibility bound."""
    result = plausibility(forward_kinematics(rest_pose_features()[None]))
    assert result.inside_body_frames == 0 and result.limit_violations == 0


@pytest.mark.shared_data
def test_world_landmarks_known_depth(shared_signdata: Path) -> None:
    """MediaPipe's world landmarks carry real depth: flattened and lifted, the arms come back in 3D."""
    from pose_format import Pose

    errors, signs_right, signs_total = [], 0, 0
    for path in sorted((shared_signdata / "dgs_isolated").glob("*.pose")):
        pose = Pose.read(path.read_bytes())
        data, confidence = np.ma.getdata(pose.body.data)[:, 0].astype(float), np.asarray(pose.body.confidence)[:, 0]
        offset, columns = 0, {}
        for component in pose.header.components:
            if component.name == "POSE_WORLD_LANDMARKS":
                columns = {p: offset + i for i, p in enumerate(component.points)}
            offset += len(component.points)
        if not columns:
            continue
        names = tuple(f"POSE_LANDMARKS.{s}_{j}" for s in ("LEFT", "RIGHT") for j in ("SHOULDER", "ELBOW", "WRIST"))
        cols = [columns[n.split(".")[1]] for n in names]
        size = pose.header.dimensions
        # pose-format stores world x, y multiplied by the image size and z in metres; to skeleton axes.
        world = np.stack([data[:, cols, 0] / size.width, -data[:, cols, 1] / size.height, -data[:, cols, 2]], -1)
        observed = confidence[:, cols] > 0
        truth = keypoints_from_arrays(names, world, observed, 50, path, lift=False)
        flat = world.copy()
        flat[..., 2] = 0.0
        lifted = keypoints_from_arrays(names, flat, observed, 50, path)
        for side in ("LEFT", "RIGHT"):
            wrist, shoulder = f"POSE_LANDMARKS.{side}_WRIST", f"POSE_LANDMARKS.{side}_SHOULDER"
            seen = truth.seen(wrist)
            t, lifted_rel = (k.point(wrist) - k.point(shoulder) for k in (truth, lifted))
            # One camera for both: the image-plane scale may differ (the truth is scaled by its 3D arm length).
            scale = np.sum(t[seen, :2] * lifted_rel[seen, :2]) / np.sum(t[seen, :2] ** 2)
            errors.append(np.linalg.norm(scale * t - lifted_rel, axis=-1)[seen] / SHOULDER_WIDTH)
            elbow = f"POSE_LANDMARKS.{side}_ELBOW"
            true_dz = truth.point(wrist)[:, 2] - truth.point(elbow)[:, 2]
            clear = seen & (np.abs(true_dz) > 0.05)
            lifted_dz = lifted.point(wrist)[:, 2] - lifted.point(elbow)[:, 2]
            signs_right += int(np.sum(np.sign(lifted_dz[clear]) == np.sign(true_dz[clear])))
            signs_total += int(clear.sum())
    assert signs_total > 500 and signs_right / signs_total >= 0.97
    # Target 0.10; the rest is bone length (the world landmarks' own forearms vary ~5% within a clip).
    assert np.median(np.concatenate(errors)) <= 0.15


@pytest.mark.shared_data
def test_world_landmarks_are_used_when_present(shared_signdata: Path) -> None:
    keypoints = read_pose_keypoints(shared_signdata / "dgs_isolated" / "HOUSE1A^.pose")
    assert keypoints.lifting.path == WORLD_LANDMARKS
    assert "world_landmarks" in keypoints.lifting.summary()


@pytest.mark.shared_data
def test_continuous_signing_no_longer_reaches_backwards(shared_signdata: Path) -> None:
    """The DGS sentence whose side view once showed the arms reaching backwards while signing in front."""
    keypoints = read_pose_keypoints(shared_signdata / "dgs_sentences" / "train_1_original.pose")
    positions = np.asarray(forward_kinematics(fit_motion(keypoints).features))
    result = plausibility(positions)
    assert result.raised_wrist_frames > 10
    assert result.behind_body_rate <= 0.03 and result.inside_body_rate <= 0.01
    reprojection = reprojection_errors(keypoints, positions)
    assert np.median(reprojection) <= 0.03 and np.percentile(reprojection, 95) <= 0.08


def test_finger_depth_signs_come_from_each_bone_of_a_hand_model_right_in_sign_only(tmp_path: Path) -> None:
    """The hand landmark model's depth relative to the wrist is right in sign but not in size: here each frame's
    hand depth is scaled by 0.3 or 2.5 at random. The fingers are lifted bone by bone (depth size from the bone's
    length, sign from that bone's own depth change): every finger bone points where the known motion's does."""
    from conftest import plausible_features

    from signeditor.core.skeleton import FINGERS

    n = 40
    features = plausible_features(n, seed=4)  # bent fingers
    components = reduced_holistic_points(features)
    factor = np.random.default_rng(1).choice([0.3, 2.5], n)
    for name in ("LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS"):
        points, positions = components[name]
        positions = positions.copy()
        wrist = positions[:, :1, 2]
        positions[..., 2] = wrist + (positions[..., 2] - wrist) * factor[:, None]
        components[name] = (points, positions)
    fitted = forward_kinematics(fit_motion(read_pose_keypoints(write_pose(tmp_path / "hand.pose", components)))
                                .features)
    truth = forward_kinematics(features)
    angles = []
    for side in "LR":
        for finger in FINGERS:
            chain = [f"{side}_{finger}{k}" for k in (1, 2, 3)] + [f"{side}_{finger}Tip"]
            for a, b in itertools.pairwise(chain):
                u = fitted[:, JOINT_INDEX[b]] - fitted[:, JOINT_INDEX[a]]
                v = truth[:, JOINT_INDEX[b]] - truth[:, JOINT_INDEX[a]]
                cosine = np.sum(u * v, -1) / np.linalg.norm(u, axis=-1) / np.linalg.norm(v, axis=-1)
                angles.append(np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0))))
    every = np.concatenate(angles)
    assert np.percentile(every, 90) < 1.0 and every.max() < 5.0


@pytest.mark.parametrize(("elbow", "wrist"), [
    # "What?" with palms up: elbows hang at the sides a little behind the shoulders, forearms out and a little forward.
    ([-0.15, -0.95, -0.3], [-0.95, -0.15, 0.25]),
    # A hand raised forward above the head: upper arm and forearm both reach forward and up.
    ([0.0, 0.7, 0.7], [0.2, 0.4, 0.9]),
], ids=["low-elbow-behind", "raised-in-front"])
def test_reaching_behind_costs_little_low_down_and_much_when_raised(elbow: list[float], wrist: list[float]) -> None:
    """Below the chest an elbow slightly behind the shoulders is ordinary (a shrug), above it a hand behind the
    shoulders is a reach backwards: the true pose (built here in 3D, lifted from its flat projection) comes back
    with both bones on their true side of the image plane, elbow behind in the shrug, everything in front raised."""
    frames = 10
    elbows = _scaled(np.broadcast_to(elbow, (frames, 3)), "R_Elbow")
    wrists = _scaled(np.broadcast_to(wrist, (frames, 3)), "R_Wrist")
    truth, observed = _arm(frames, elbows, wrists)
    flat = truth.copy()
    flat[..., 2] = truth[:, :1, 2]
    assert lift_depth(ARM, flat, observed).arms == {"R": LIFTED}
    np.testing.assert_allclose(flat[:, 2:], truth[:, 2:], atol=0.01)


def _flat_points(features: np.ndarray) -> tuple[tuple[str, ...], np.ndarray]:
    """Body and hand point names and skeleton-frame positions (T, K, 3) of a motion, depth flattened to 0."""
    names, columns = [], []
    for component, (points, positions) in reduced_holistic_points(features).items():
        if component != "FACE_LANDMARKS":
            names += [f"{component}.{p}" for p in points]
            columns.append(positions)
    flat = np.concatenate(columns, axis=1).astype(np.float64)
    flat[..., 2] = 0.0
    return tuple(names), flat


def _mirrored_name(name: str) -> str:
    return name.replace("LEFT", "\0").replace("RIGHT", "LEFT").replace("\0", "RIGHT")


@pytest.mark.parametrize(("seed", "size"), [(0, 1.0), (4, 1.12), (8, 1.25)])
def test_flat_depth_lifting_keeps_the_image_gives_bones_their_length_and_mirrors_with_the_signer(
        seed: int, size: float) -> None:
    """Depth rebuilt from a flat (z = 0) clip of both arms and hands, against what a user can check by hand:
    - the image (x, y) of every point is left exactly as it was;
    - every arm and finger bone is as long in 3D as the signer's bone (the skeleton's, or the longest the image
      shows it, its 97th percentile), or its image length where the image shows it longer; only an elbow that
      would be inside the body is then moved forward, out of it by 1 cm (the wrist keeps its depth);
    - a finger bone whose input depth is flat comes out with its tip further from the camera or level (the hand
      model's sign, 0 counts as +);
    - the mirror image of the clip (x negated, left and right names swapped) lifts to the mirror image of the
      result: no side is treated differently (depths equal to 1e-9).
    ``size``: the signer's bones against the skeleton's (a bigger signer: the image shows bones longer)."""
    names, flat = _flat_points(plausible_features(14, seed=seed))
    flat *= size
    observed = np.ones(flat.shape[:2], bool)
    lifted = flat.copy()
    report = lift_depth(names, lifted, observed)
    assert report.frames_pushed_out == 0, "the case keeps the hands clear of the body"
    np.testing.assert_array_equal(lifted[..., :2], flat[..., :2])
    skeleton = signing_skeleton()
    index = {n: i for i, n in enumerate(names)}

    def signer_length(parent: str, child: str, joint: str) -> tuple[np.ndarray, np.ndarray]:
        """(the bone's 3D length per frame as the image and the signer's bone make it, image length)."""
        planar = np.linalg.norm(flat[:, index[child], :2] - flat[:, index[parent], :2], axis=-1)
        signer = max(float(np.linalg.norm(skeleton.offsets[skeleton.index(joint)])), np.percentile(planar, 97.0))
        return np.maximum(signer, planar), planar

    for side, word in (("L", "LEFT"), ("R", "RIGHT")):
        shoulder, elbow, wrist = (index[f"POSE_LANDMARKS.{word}_{j}"] for j in ("SHOULDER", "ELBOW", "WRIST"))
        upper, upper_planar = signer_length(names[shoulder], names[elbow], f"{side}_Elbow")
        fore, fore_planar = signer_length(names[elbow], names[wrist], f"{side}_Wrist")
        upper_depth, fore_depth = np.sqrt(upper**2 - upper_planar**2), np.sqrt(fore**2 - fore_planar**2)
        for t in range(len(flat)):
            placed = []
            for sign in (1.0, -1.0):  # the elbow in front of or behind the shoulder, then out of the body
                before = lifted[t, shoulder].copy()
                before[:2] = lifted[t, elbow, :2]
                before[2] += sign * upper_depth[t]
                inside = float(body_penetration(before))
                pushed = before[2] + (inside + 0.01 if inside > 1e-4 else 0.0)
                placed.append((abs(lifted[t, elbow, 2] - pushed) < 1e-9, before[2]))
            assert any(ok for ok, _ in placed), f"{word} elbow frame {t}"
            elbow_before = next(z for ok, z in placed if ok)
            assert abs(lifted[t, wrist, 2] - elbow_before) == pytest.approx(fore_depth[t], abs=1e-9), (word, t)
        hand = f"{word}_HAND_LANDMARKS"
        for finger, points in FINGER_POINTS.items():
            chain = [f"{hand}.WRIST"] + [f"{hand}.{p}" for p in points]
            joints = [f"{side}_{finger}{k}" for k in (1, 2, 3)] + [f"{side}_{finger}Tip"]
            for k in range(4):
                length, _ = signer_length(chain[k], chain[k + 1], joints[k])
                delta = lifted[:, index[chain[k + 1]]] - lifted[:, index[chain[k]]]
                np.testing.assert_allclose(np.linalg.norm(delta, axis=-1), length, rtol=1e-9, atol=1e-9,
                                           err_msg=f"{chain[k]} -> {chain[k + 1]}")
                assert (delta[:, 2] >= 0).all(), f"{chain[k]} -> {chain[k + 1]}"
    mirrored_names = tuple(_mirrored_name(n) for n in names)
    mirrored = flat * [-1.0, 1.0, 1.0]
    lift_depth(mirrored_names, mirrored, observed)
    mirrored_index = {n: i for i, n in enumerate(mirrored_names)}
    for name, i in index.items():
        np.testing.assert_allclose(mirrored[:, mirrored_index[_mirrored_name(name)], 2], lifted[:, i, 2], atol=1e-9,
                                   err_msg=name)
