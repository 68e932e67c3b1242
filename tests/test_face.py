"""The face channel: named parameters fitted from face landmarks, stored in motions, projects and anchors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.face import (
    FACE_DIM,
    FACE_INDEX,
    FACE_LANDMARKS,
    FACE_PARAMETERS,
    face_by_name,
    fit_face_parameters,
    interpolate_face,
)
from signeditor.core.motion import Motion, MotionError
from signeditor.core.project import Project
from signeditor.io.project_file import load_project, project_from_bytes, project_to_bytes
from signeditor.paths import SAMPLE_PROJECT
from signeditor.render.avatars.face_rig import FaceRig

#: A rough neutral face in metres (x the subject's left, y up), only the landmarks the fit reads.
_NEUTRAL = {
    "33": (-0.045, 0.0), "133": (-0.015, 0.0), "263": (0.045, 0.0), "362": (0.015, 0.0),
    "159": (-0.03, 0.006), "158": (-0.025, 0.006), "160": (-0.035, 0.006),
    "145": (-0.03, -0.004), "144": (-0.035, -0.004), "153": (-0.025, -0.004),
    "386": (0.03, 0.006), "385": (0.025, 0.006), "387": (0.035, 0.006),
    "374": (0.03, -0.004), "373": (0.035, -0.004), "380": (0.025, -0.004),
    "70": (-0.05, 0.02), "63": (-0.04, 0.025), "105": (-0.03, 0.027), "66": (-0.02, 0.025), "107": (-0.012, 0.022),
    "300": (0.05, 0.02), "293": (0.04, 0.025), "334": (0.03, 0.027), "296": (0.02, 0.025), "336": (0.012, 0.022),
    "13": (0.0, -0.062), "14": (0.0, -0.064), "0": (0.0, -0.055), "17": (0.0, -0.075),
    "61": (-0.025, -0.065), "291": (0.025, -0.065), "10": (0.0, 0.07), "152": (0.0, -0.11),
    "234": (-0.07, -0.02), "454": (0.07, -0.02),
}


def _track(n: int = 60) -> dict[str, np.ndarray]:
    """Neutral face, brows raised on frames 10-19, mouth open on 30-39, left eye closed on 45-49."""
    points = {k: np.tile([x, y, 0.0], (n, 1)) for k, (x, y) in _NEUTRAL.items()}
    for k in ("70", "63", "105", "66", "107", "300", "293", "334", "296", "336"):
        points[k][10:20, 1] += 0.008  # ~0.13 inter-ocular distances
    points["14"][30:40, 1] -= 0.025
    points["17"][30:40, 1] -= 0.025
    for k in ("386", "385", "387"):
        points[k][45:50, 1] -= 0.009
    return points


def _param(face: np.ndarray, name: str) -> np.ndarray:
    return face[:, FACE_INDEX[name]]


def test_fit_finds_raised_brows_open_mouth_and_a_blink():
    face = fit_face_parameters(_track())
    assert set(FACE_LANDMARKS) <= set(_NEUTRAL)
    assert face.shape == (60, FACE_DIM) and face.min() >= 0 and face.max() <= 1
    brows = 0.5 * (_param(face, "brow_raise_l") + _param(face, "brow_raise_r"))
    assert brows[12:18].min() > 0.5 and brows[:8].max() < 0.05 and brows[25:].max() < 0.05
    assert _param(face, "mouth_open")[32:38].min() > 0.5 and _param(face, "mouth_open")[:28].max() < 0.05
    assert _param(face, "eye_close_l")[46:49].min() > 0.8 and _param(face, "eye_close_r")[46:49].max() < 0.05
    assert _param(face, "brow_furrow_l").max() < 0.05


def test_fit_ignores_head_size_distance_and_tilt():
    face = fit_face_parameters(_track())
    angle = np.radians(20)
    roll = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]])
    moved = {k: 1.7 * v @ roll.T + [0.3, -0.2, 0.5] for k, v in _track().items()}
    assert np.abs(fit_face_parameters(moved) - face).max() < 0.02


def test_undetected_frames_get_the_neutral_face():
    observed = np.ones(60, bool)
    observed[30:40] = False
    face = fit_face_parameters(_track(), observed)
    assert not face[30:40].any() and _param(face, "brow_raise_l")[12:18].min() > 0.5


@pytest.mark.shared_data
def test_fitted_brows_and_mouth_follow_the_source_landmarks(shared_signdata):
    from signeditor.evaluation.face import face_fit_correlations

    paths = sorted((shared_signdata / "dgs_sentences").glob("*.pose"))
    paths += sorted((shared_signdata / "dsgs_isolated").glob("*.pose"))[:60]
    result = face_fit_correlations(paths)
    assert result["clips"] >= 60
    assert result["brow_correlation"] >= 0.8 and result["mouth_correlation"] >= 0.8, result


@pytest.mark.shared_data
def test_pose_import_fills_the_face_channel(shared_signdata):
    from signeditor.io.pose_import import motion_from_pose_file

    motion = motion_from_pose_file(shared_signdata / "dgs_sentences" / "train_11_original.pose")
    assert motion.face is not None and motion.face.shape == (motion.n_frames, FACE_DIM)
    assert _param(motion.face, "mouth_open").max() > 0.5, "this sentence has mouthing"


def test_motion_keeps_the_face_through_copy_slice_and_resampling():
    face = np.zeros((50, FACE_DIM), np.float32)
    face[20:30, FACE_INDEX["mouth_open"]] = 1.0
    motion = Motion.rest(50)
    motion.face = None
    with_face = Motion(25.0, motion.features, face=face)
    assert np.array_equal(with_face.copy().face, face)
    assert np.array_equal(with_face.slice(20, 30).face[:, FACE_INDEX["mouth_open"]], np.ones(10))
    assert with_face.resampled(50.0).face.shape == (100, FACE_DIM)
    with pytest.raises(MotionError, match="face channel"):
        Motion(25.0, motion.features, face=face[:, :3])


def test_projects_store_the_face_and_old_projects_still_open():
    old = load_project(SAMPLE_PROJECT)
    assert old.motion.face is None, "projects written before the face channel open without one"
    face = np.random.default_rng(0).uniform(0, 1, (old.motion.n_frames, FACE_DIM)).astype(np.float32)
    motion = Motion(old.motion.fps, old.motion.features, face=face)
    back = project_from_bytes(project_to_bytes(Project(motion, old.anchors)))
    assert np.allclose(back.motion.face, face) and back.anchors.frames == old.anchors.frames


def test_face_values_are_read_by_name():
    stored = np.array([[0.3, 0.9]], np.float32)
    face = face_by_name(stored, ["mouth_open", "a_parameter_from_the_future"])
    assert face[0, FACE_INDEX["mouth_open"]] == pytest.approx(0.3) and face.sum() == pytest.approx(0.3)
    assert np.array_equal(face_by_name(np.eye(FACE_DIM)[:2], list(FACE_PARAMETERS)), np.eye(FACE_DIM)[:2])


def test_face_keys_interpolate_smoothly_without_overshoot():
    values = np.zeros((3, FACE_DIM))
    values[1, FACE_INDEX["brow_raise_l"]] = 1.0
    dense = interpolate_face(np.array([0, 10, 12]), values, 20)
    brow = dense[:, FACE_INDEX["brow_raise_l"]]
    assert brow[10] == pytest.approx(1.0) and brow[0] == 0 and brow[15] == 0
    assert 0 < brow[5] < 1 and brow.max() <= 1.0 and brow.min() >= 0.0


def test_face_rigs_map_parameters_to_each_familys_morphs():
    valid = FaceRig(["h_expressions.LbrowUp_h", "h_expressions.LLbrowUp_h", "h_expressions.MouthOpen_h",
                     "h_expressions.ReyeClose_h", "t_MouthOpen_h"])
    face = np.zeros(FACE_DIM, np.float32)
    face[FACE_INDEX["brow_raise_l"]] = 1.0
    face[FACE_INDEX["mouth_open"]] = 0.5
    assert valid.families == ["VALID"]
    assert valid.weights(face) == pytest.approx({0: 1.0, 1: 0.6, 2: 0.5, 4: 0.5})
    arkit = FaceRig(["browOuterUpLeft", "browInnerUp", "jawOpen", "eyeBlinkLeft"])
    assert arkit.families == ["ARKit"] and arkit.weights(face) == pytest.approx({0: 1.0, 1: 0.5, 2: 0.5})
    vrm1 = {"VRMC_vrm": {"expressions": {"preset": {"blinkLeft": {"morphTargetBinds": [
        {"node": 7, "index": 1, "weight": 1.0}]}}}}}
    rig = FaceRig(["Face.a", "Face.blink"], vrm1, mesh_morphs={0: [0, 1]}, node_meshes={7: 0})
    blink = np.zeros(FACE_DIM, np.float32)
    blink[FACE_INDEX["eye_close_l"]] = 1.0
    assert rig.families == ["VRM expressions"] and rig.weights(blink) == {1: 1.0}
    assert FaceRig(["Key 1"]).notes, "an avatar without face morphs says so"


def test_shipped_avatar_reaches_every_face_parameter():
    from signeditor.render.avatars.catalog import DEFAULT_AVATAR, load_avatar

    avatar = load_avatar(DEFAULT_AVATAR)
    rig = avatar.face_rig
    morphed = {n for n in FACE_PARAMETERS if rig.matrix[:, FACE_INDEX[n]].any()}
    assert set(FACE_PARAMETERS) - morphed == {"gaze_left", "gaze_right", "gaze_up", "gaze_down"}
    assert avatar.retargeter.bones.eyes, "gaze turns its eye bones"


def test_vrm_expressions_drive_godette_blinks():
    path = Path(__file__).resolve().parents[1] / ".." / "shared" / "avatars" / "vrm" / "Godette_vrm_v4.vrm"
    if not path.exists():
        pytest.skip("shared avatars absent")
    from signeditor.render.avatars.gltf_avatar import GltfAvatar

    avatar = GltfAvatar(path)
    face = np.zeros(FACE_DIM, np.float32)
    face[FACE_INDEX["eye_close_r"]] = 1.0
    weights = avatar.face_rig.weights(face)
    assert weights == {4: 1.0}, "Blink_R is bound to the face mesh's morph 4 in the file"


def test_the_face_channel_follows_edits_of_a_recording_and_is_saved_with_it():
    from signeditor.core.recording import Recording, edit_recording

    face = np.zeros((60, FACE_DIM), np.float32)
    face[30, FACE_INDEX["mouth_open"]] = 1.0
    take = Motion(25.0, Motion.rest(60).features, face=face)
    anchors = AnchorSet([Anchor(10, take.features[10]), Anchor(30, take.features[30]), Anchor(50, take.features[50])])
    recording = Recording(take, anchors, np.ones(60, bool))
    moved = anchors.replaced(anchors[1].moved_to(35))
    edited = edit_recording(recording, moved)
    assert edited.face is not None and int(np.argmax(edited.face[:, FACE_INDEX["mouth_open"]])) == 35
    back = project_from_bytes(project_to_bytes(Project(edited, moved, recording=recording)))
    assert np.array_equal(back.recording.take.face, face)


def test_exported_pose_files_carry_the_face_and_reimport_with_it(tmp_path):
    """.pose export writes face landmarks from the face channel; importing the file fits the same face."""
    from signeditor.io.formats import export_project
    from signeditor.io.pose_import import motion_from_pose_file
    from tests.conftest import plausible_features

    n = 100
    face = np.zeros((n, FACE_DIM), np.float32)
    t = np.arange(n)
    raised = np.where(t < 57, np.clip(np.sin(t / 6.0), 0, 1) ** 2, 0.0)  # brows up twice, then furrowed (80-94)
    face[:, FACE_INDEX["brow_raise_l"]] = face[:, FACE_INDEX["brow_raise_r"]] = raised
    face[60:75, FACE_INDEX["mouth_open"]] = 0.7
    face[20:26, FACE_INDEX["eye_close_r"]] = 1.0
    face[80:95, FACE_INDEX["brow_furrow_l"]] = face[80:95, FACE_INDEX["brow_furrow_r"]] = 0.8
    motion = Motion(25.0, plausible_features(n, seed=1), face=face)
    path = export_project(Project(motion), tmp_path / "face.pose")
    back = motion_from_pose_file(path).face
    for name in ("brow_raise_l", "mouth_open", "eye_close_r", "brow_furrow_r"):
        original, fitted = face[:, FACE_INDEX[name]], back[:, FACE_INDEX[name]]
        assert np.corrcoef(original, fitted)[0, 1] > 0.9, name
        assert np.abs(fitted - original).mean() < 0.1, name


def test_gaze_turns_the_eye_bones_towards_the_signers_left():
    from signeditor.core.motion import identity_features
    from signeditor.render.avatars.catalog import DEFAULT_AVATAR, load_avatar
    from signeditor.render.avatars.face_rig import eye_gaze

    avatar = load_avatar(DEFAULT_AVATAR)
    retargeter = avatar.retargeter
    assert set(retargeter.bones.eyes) == {"L", "R"}
    pose = identity_features(1)
    eye = retargeter.bones.eyes["L"]
    straight = retargeter.world_transforms(pose)[0, eye, :3, :3]
    face = np.zeros(FACE_DIM, np.float32)
    face[FACE_INDEX["gaze_left"]] = 1.0
    turned = retargeter.world_transforms(pose, eye_gaze(face))[0, eye, :3, :3]
    forward = np.array([0.0, 0.0, 1.0])
    look = turned @ np.linalg.solve(straight, forward)  # the rest forward, carried by the eye's turn
    assert look[0] > np.sin(np.radians(20)) and abs(look[1]) < 0.05, "the eye turns towards +x, the signer's left"
    moved = avatar.posed(pose[0], face=face).vertices - avatar.posed(pose[0]).vertices
    assert np.abs(moved).max() > 1e-3, "the eyeballs (skinned to the eye bones) move"


def test_a_one_sided_smile_is_on_the_signers_own_side():
    """The subject's left mouth corner (mesh 291, at +x: the subject's left) raised 6 mm (0.1 inter-ocular
    distances) on frames 20-29 of a closed mouth: smile_l is full there, smile_r stays neutral; the right corner
    (61) mirrors it."""
    for corner, smiling, still in (("291", "smile_l", "smile_r"), ("61", "smile_r", "smile_l")):
        points = _track()
        for k in ("14", "17"):
            points[k][:, 1] = _NEUTRAL[k][1]
        points[corner][20:30, 1] += 0.006
        face = fit_face_parameters(points)
        assert _param(face, smiling)[22:28].min() > 0.9 and _param(face, smiling)[:18].max() < 0.05, corner
        assert _param(face, still).max() < 0.05, corner


def test_a_mouth_open_through_most_of_the_clip_still_rests_closed():
    """Mouthing through 40 of 60 frames: the lips' rest is closed (what the fewest-open frames show), so the 40
    open frames read open and the 20 closed ones neutral, not the other way round as a median rest would say."""
    points = _track()
    for k in ("14", "17"):
        points[k][:, 1] = _NEUTRAL[k][1]
        points[k][10:50, 1] -= 0.025
    mouth = _param(fit_face_parameters(points), "mouth_open")
    assert mouth[12:48].min() > 0.5 and mouth[:8].max() < 0.05 and mouth[52:].max() < 0.05


def test_where_two_face_keys_share_a_frame_the_newer_one_shows():
    """A brow key set twice on frame 20 (0.2, then changed to 0.9): the face shows 0.9 there, and half-way to the
    key at 30 (0.9 too) it holds 0.9, not a ramp up from the older 0.2."""
    from signeditor.core.nonmanual import FaceKey, face_with_keys, lane_values

    keys = [FaceKey(20, "Brows", lane_values("Brows", brow_raise_l=0.2)),
            FaceKey(20, "Brows", lane_values("Brows", brow_raise_l=0.9)),
            FaceKey(30, "Brows", lane_values("Brows", brow_raise_l=0.9))]
    for ordered in (keys, keys[::-1]):
        face = face_with_keys(None, ordered, 40)
        assert _param(face, "brow_raise_l")[20] == pytest.approx(0.9)
        assert _param(face, "brow_raise_l")[25] == pytest.approx(0.9)


def test_eyes_closed_through_most_of_the_clip_still_read_closed():
    """The left eye closed on 35 of 60 frames: open eyes are the widest lids the clip shows (a high percentile),
    so the 35 frames read closed and the other 25 open, not the other way round as a median rest would say."""
    points = _track()
    for k in ("386", "385", "387"):
        points[k][:, 1] = _NEUTRAL[k][1]
        points[k][20:55, 1] -= 0.009
    face = fit_face_parameters(points)
    closed = _param(face, "eye_close_l")
    assert closed[22:53].min() > 0.8 and closed[:18].max() < 0.05 and closed[57:].max() < 0.05


def test_a_still_face_with_landmark_jitter_reads_neutral():
    """A neutral face whose landmarks jitter by 0.3 mm (a tracker's noise on a still face, under the dead band of
    about half a millimetre at this face size): no parameter rises above 0.05."""
    rng = np.random.default_rng(0)
    points = {k: np.tile([x, y, 0.0], (60, 1)) + rng.normal(0.0, 0.0003, (60, 3)) for k, (x, y) in _NEUTRAL.items()}
    assert fit_face_parameters(points).max() < 0.05


def test_eye_closure_is_linear_from_four_fifths_open_to_one_fifth_open():
    """The lid gap as a share of the clip's open gap: 80 % or more reads 0 (open), 20 % or less reads 1 (closed),
    linear between: the left lid half closed (gap 5 mm of 10 mm) reads 0.5, at 35 % open 0.75."""
    for lowered, expected in ((0.005, 0.5), (0.0065, 0.75)):
        points = _track()
        for k in ("386", "385", "387"):
            points[k][:, 1] = _NEUTRAL[k][1]
            points[k][45:50, 1] -= lowered
        closed = _param(fit_face_parameters(points), "eye_close_l")
        np.testing.assert_allclose(closed[46:49], expected, atol=0.02)


def test_an_open_rounded_mouth_reads_oh_and_an_open_wide_one_aa():
    """Frames 30-39 of the track open the mouth; on a copy the lip corners also come 8 mm closer together
    (rounded lips). Open and rounded reads as the viseme "oh", open and not rounded as "aa"."""
    wide = fit_face_parameters(_track())
    points = _track()
    points["61"][30:40, 0] += 0.008
    points["291"][30:40, 0] -= 0.008
    rounded = fit_face_parameters(points)
    assert _param(rounded, "viseme_oh")[32:38].min() > 0.8 and _param(rounded, "viseme_aa")[32:38].max() < 0.05
    assert _param(wide, "viseme_aa")[32:38].min() > 0.8 and _param(wide, "viseme_oh")[32:38].max() < 0.05


# --- the whole fit against a frame-by-frame model ----------------------------------------------------------------

#: The mesh points the fit reads, by what they are (subject's left = +x in the face's own frame).
_EYE = {"r": ("33", "133", ("159", "158", "160"), ("145", "144", "153")),
        "l": ("263", "362", ("386", "385", "387"), ("374", "373", "380"))}
_BROW = {"r": ("70", "63", "105", "66", "107"), "l": ("300", "293", "334", "296", "336")}
#: Closed-form rules of the fit: (measure unit's full scale, dead band) in inter-ocular distances.
_UNIT = {"brow": (0.07, 0.008), "furrow_gap": (0.08, 0.01), "mouth": (0.30, 0.02), "corner": (0.06, 0.01),
         "width": (0.12, 0.02), "cheek": (0.10, 0.03)}


def _face_frame_track(rng: np.random.Generator, n: int) -> dict[str, np.ndarray]:
    """Landmarks (n, 2) in the face's own frame: eye centres at (-0.5, 0) and (0.5, 0), so the inter-ocular distance
    is 1 and heights are y. Each frame, with probability one half each, the brows rise or sink, a lid closes, the
    jaw drops, the corners rise or sink, the mouth widens or narrows and the cheeks puff; every point jitters."""
    base = {k: np.array(v) / 0.06 for k, v in _NEUTRAL.items()}
    pts = {k: np.tile(v, (n, 1)) + rng.normal(0.0, 0.004, (n, 2)) for k, v in base.items()}

    def event(scale: float, low: float = -1.0) -> np.ndarray:
        return np.where(rng.random(n) < 0.5, 0.0, rng.uniform(low, 1.0, n) * scale)

    for s, sign in (("r", -1.0), ("l", 1.0)):
        outer, inner, upper, lower = _EYE[s]
        wobble = rng.normal(0.0, 0.05, (n, 2))  # the corners move against each other: the eye centre stays put
        pts[outer] = np.array([sign * 0.75, 0.0]) + wobble
        pts[inner] = np.array([sign * 0.25, 0.0]) - wobble
        for k in _BROW[s]:
            pts[k][:, 1] += event(0.2)
        closing = event(0.2, 0.0)
        for k in upper:
            pts[k][:, 1] -= closing
        pts[lower[0]][:, 1] += event(0.1)
    jaw = event(0.8, 0.0)
    for k in ("14", "17"):
        pts[k][:, 1] -= jaw
    for k, sign in (("61", -1.0), ("291", 1.0)):
        pts[k][:, 1] += event(0.15)
        pts[k][:, 0] += sign * event(0.3)
    puff = event(0.2)
    pts["234"][:, 0] -= puff
    pts["454"][:, 0] += puff
    pts["10"][:, 0] += rng.normal(0.0, 0.3, n)  # forehead and chin off the face's midline: up is still y
    pts["152"][:, 0] += rng.normal(0.0, 0.3, n)
    return pts


def _model_measures(p: dict[str, np.ndarray], i: int) -> dict[str, float]:
    """Frame i's measures from face-frame points (inter-ocular distance 1, up = y)."""
    def mean(keys) -> np.ndarray:
        return sum(p[k][i] for k in keys) / len(keys)

    def dist(a: np.ndarray, b: np.ndarray) -> float:
        return float(np.hypot(*(a - b)))

    out = {}
    for s, centre in (("r", np.array([-0.5, 0.0])), ("l", np.array([0.5, 0.0]))):
        outer, inner, upper, lower = _EYE[s]
        out[f"brow_{s}"] = dist(mean(_BROW[s]), centre)
        out[f"lid_gap_{s}"] = float(mean(upper)[1] - mean(lower)[1]) / dist(p[outer][i], p[inner][i])
        out[f"lower_lid_{s}"] = float(mean(lower)[1])
        out[f"corner_{s}"] = float(p["61" if s == "r" else "291"][i][1] - 0.5 * (p["0"][i][1] + p["17"][i][1]))
        out[f"cheek_{s}"] = 0.5 * dist(p["234"][i], p["454"][i])
    out["brow_gap"] = dist(p["107"][i], p["336"][i])
    out["mouth_gap"] = dist(p["13"][i], p["14"][i])
    out["mouth_width"] = dist(p["61"][i], p["291"][i])
    return out


def _percentile(values: list[float], q: float) -> float:
    """Linear interpolation between the sorted values (numpy's default rule), written out."""
    ordered = sorted(values)
    position = q / 100.0 * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def _model_fit(p: dict[str, np.ndarray], seen: list[bool]) -> np.ndarray:
    """The face fit frame by frame: each detected frame's measures averaged with its detected neighbours (the ends
    count themselves twice; clips under 3 frames are not smoothed), the neutral level a percentile over detected
    frames, the jitter band removed, scaled, clipped to [0, 1]; visemes from the clipped mouth; lost frames 0."""
    n = len(seen)
    raw = [_model_measures(p, i) if seen[i] else None for i in range(n)]
    smooth: list[dict[str, float] | None] = []
    for i in range(n):
        if not seen[i]:
            smooth.append(None)
            continue
        window = [j for j in (max(i - 1, 0), i, min(i + 1, n - 1)) if seen[j]] if n >= 3 else [i]
        smooth.append({k: sum(raw[j][k] for j in window) / len(window) for k in raw[i]})
    detected = [m for m in smooth if m is not None]

    def rest(name: str, q: float = 50.0) -> float:
        return _percentile([m[name] for m in detected], q)

    def scaled(change: float, unit: str) -> float:
        full, dead = _UNIT[unit]
        return float(np.sign(change)) * max(abs(change) - dead, 0.0) / full

    def clip(v: float) -> float:
        return min(max(v, 0.0), 1.0)

    out = np.zeros((n, FACE_DIM))
    for i, m in enumerate(smooth):
        if m is None:
            continue
        row: dict[str, float] = {}
        gap = scaled(m["brow_gap"] - rest("brow_gap"), "furrow_gap")
        for s in "lr":
            brow = scaled(m[f"brow_{s}"] - rest(f"brow_{s}"), "brow")
            row[f"brow_raise_{s}"] = clip(brow)
            row[f"brow_furrow_{s}"] = clip(-(brow + gap) / 2)
            opened = m[f"lid_gap_{s}"] / max(rest(f"lid_gap_{s}", 75.0), 1e-6)
            row[f"eye_close_{s}"] = clip((0.8 - opened) / 0.6)
            row[f"squint_{s}"] = clip(scaled(m[f"lower_lid_{s}"] - rest(f"lower_lid_{s}"), "brow"))
            corner = scaled(m[f"corner_{s}"] - rest(f"corner_{s}"), "corner")
            row[f"smile_{s}"], row[f"frown_{s}"] = clip(corner), clip(-corner)
        width = scaled(m["mouth_width"] - rest("mouth_width"), "width")
        row["lip_stretch"], row["lip_pucker"] = clip(width), clip(-width)
        row["mouth_open"] = clip(scaled(m["mouth_gap"] - rest("mouth_gap", 10.0), "mouth"))
        cheeks = 0.5 * (m["cheek_l"] - rest("cheek_l") + m["cheek_r"] - rest("cheek_r"))
        row["cheek_puff"] = clip(scaled(cheeks, "cheek"))
        opened, wide, round_ = row["mouth_open"], row["lip_stretch"], row["lip_pucker"]
        row["viseme_aa"] = clip(opened * (1 - round_))
        row["viseme_oh"] = clip(2 * opened * round_)
        row["viseme_ou"] = clip((1 - opened) * round_)
        row["viseme_ee"] = clip((1 - opened) * wide)
        for name, value in row.items():
            out[i, FACE_INDEX[name]] = value
    return out


@settings(max_examples=40, deadline=None, derandomize=True)
@given(st.integers(0, 2**32 - 1), st.lists(st.booleans(), min_size=1, max_size=14), st.booleans(),
       st.sampled_from(["zeros", "random", "nan", "raised"]))
def test_the_fit_matches_a_frame_by_frame_model_whatever_the_lost_frames_hold(
        seed: int, lost: list[bool], all_detected: bool, lost_content: str) -> None:
    """A user imports a clip whose face the tracker sometimes lost. Against a model written frame by frame in the
    face's own frame (see _model_fit): every parameter on every frame, through a random per-frame head roll, scale
    and shift (image-plane only: depth is noise), with random expressions and jitter; lost frames (first, last,
    runs, all but one) show the neutral face, and what they hold (coinciding points, NaN, a raised-brow face, junk)
    changes nothing on the detected frames."""
    rng = np.random.default_rng(seed)
    n = len(lost)
    seen = [True] * n if all_detected else [not x for x in lost]
    face_frame = _face_frame_track(rng, n)
    angle, scale = rng.uniform(-0.6, 0.6, n), rng.uniform(0.02, 0.2, n)
    shift = rng.uniform(-1.0, 1.0, (n, 2))
    rot = np.stack([np.stack([np.cos(angle), -np.sin(angle)], -1), np.stack([np.sin(angle), np.cos(angle)], -1)], -2)
    points = {}
    for k, v in face_frame.items():
        image = scale[:, None] * np.einsum("tij,tj->ti", rot, v) + shift
        points[k] = np.concatenate([image, rng.normal(0.0, 1.0, (n, 1))], axis=1)
        for i in np.flatnonzero(~np.array(seen)):
            points[k][i] = {"zeros": np.zeros(3), "random": rng.normal(0.0, 5.0, 3), "nan": np.full(3, np.nan),
                            "raised": points[k][i] + (0.0, 0.05 if k in _BROW["l"] + _BROW["r"] else 0.0, 0.0)
                            }[lost_content]
    fitted = fit_face_parameters(points, None if all_detected else np.array(seen))
    assert fitted.shape == (n, FACE_DIM) and fitted.dtype == np.float32
    expected = np.zeros((n, FACE_DIM)) if not any(seen) else _model_fit(face_frame, seen)
    np.testing.assert_allclose(fitted, expected, atol=2e-5)


def test_the_fit_names_missing_landmarks_and_face_from_keypoints_needs_two_detected_frames():
    """A keypoint file without the face mesh, or with fewer than two detected face frames, gives no face (the
    motion keeps none); a missing landmark is named."""
    from signeditor.core.face import FACE_COMPONENT, face_from_keypoints

    points = _track(6)
    with pytest.raises(KeyError, match="336"):
        fit_face_parameters({k: v for k, v in points.items() if k != "336"})

    class Keypoints:
        def __init__(self, seen: np.ndarray, names: set[str]) -> None:
            self.seen, self.names, self.n_frames = seen, names, 6

        def has(self, *names: str) -> bool:
            return set(names) <= self.names

        def point(self, name: str) -> np.ndarray:
            return points[name.split(".", 1)[1]]

        def group_seen(self, names) -> np.ndarray:
            return self.seen

    every = {f"{FACE_COMPONENT}.{k}" for k in points}
    assert face_from_keypoints(Keypoints(np.ones(6, bool), every - {f"{FACE_COMPONENT}.13"})) is None
    assert face_from_keypoints(Keypoints(np.eye(6, dtype=bool)[2], every)) is None
    two = np.zeros(6, bool)
    two[[1, 4]] = True
    face = face_from_keypoints(Keypoints(two, every))
    assert face.shape == (6, FACE_DIM) and not face[[0, 2, 3, 5]].any()
