"""Shared pytest fixtures: the optional real sign data, and writers of self-made ``.pose`` files.

The writers turn skeleton-frame joint positions (from forward kinematics of a
known motion) into MediaPipe-layout ``.pose`` files, so import and IK tests
know the exact answer without needing any real data.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from needs import missing

from signeditor.core import rotations
from signeditor.core.kinematics import forward_kinematics
from signeditor.core.skeleton import JOINT_INDEX

SHARED_SIGNDATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "signdata"

HAND_POINTS = (
    "WRIST", "THUMB_CMC", "THUMB_MCP", "THUMB_IP", "THUMB_TIP",
    "INDEX_FINGER_MCP", "INDEX_FINGER_PIP", "INDEX_FINGER_DIP", "INDEX_FINGER_TIP",
    "MIDDLE_FINGER_MCP", "MIDDLE_FINGER_PIP", "MIDDLE_FINGER_DIP", "MIDDLE_FINGER_TIP",
    "RING_FINGER_MCP", "RING_FINGER_PIP", "RING_FINGER_DIP", "RING_FINGER_TIP",
    "PINKY_MCP", "PINKY_PIP", "PINKY_DIP", "PINKY_TIP",
)
#: MediaPipe hand point -> skeleton joint (without the side prefix).
HAND_JOINT_FOR_POINT = dict(zip(HAND_POINTS, (
    "Wrist", "Thumb1", "Thumb2", "Thumb3", "ThumbTip",
    "Index1", "Index2", "Index3", "IndexTip", "Middle1", "Middle2", "Middle3", "MiddleTip",
    "Ring1", "Ring2", "Ring3", "RingTip", "Pinky1", "Pinky2", "Pinky3", "PinkyTip",
), strict=True))
BODY_POINTS = ("LEFT_SHOULDER", "RIGHT_SHOULDER", "LEFT_ELBOW", "RIGHT_ELBOW", "LEFT_WRIST", "RIGHT_WRIST",
               "LEFT_HIP", "RIGHT_HIP")
#: Face points the IK uses (eye corners, chin, inner lips) with head-frame offsets (metres), then filler points
#: so the layout has the reduced holistic's 128 face points.
FACE_OFFSETS: dict[str, tuple[float, float, float]] = {
    "33": (-0.045, 0.03, 0.09), "263": (0.045, 0.03, 0.09), "152": (0.0, -0.09, 0.09),
    "13": (0.0, -0.045, 0.1), "14": (0.0, -0.05, 0.1),
}
FACE_POINTS = tuple(FACE_OFFSETS) + tuple(str(i) for i in range(300, 300 + 128 - len(FACE_OFFSETS)))
#: Image mapping used by the writers: pixels per metre and where the skeleton origin lands.
PIXELS_PER_METRE, IMAGE_WIDTH, IMAGE_HEIGHT, DEPTH = 800.0, 640, 480, 640


@pytest.fixture
def shared_signdata() -> Path:
    """The real sign data folder, or skip the test when this checkout has none."""
    if not (SHARED_SIGNDATA / "README.md").exists():
        missing(f"shared sign data not found at {SHARED_SIGNDATA}")
    return SHARED_SIGNDATA


def skeleton_to_image(points: np.ndarray, depth_is_zero: bool = False, flat_depth: bool = False) -> np.ndarray:
    """Skeleton frame (x signer's left, y up, z forward) -> MediaPipe image axes (x right, y down, z away).

    ``flat_depth`` writes z = 0 everywhere: what most real files look like (the depth must be recovered).
    """
    image = np.empty_like(points)
    image[..., 0] = points[..., 0] * PIXELS_PER_METRE + IMAGE_WIDTH / 2
    image[..., 1] = -points[..., 1] * PIXELS_PER_METRE + IMAGE_HEIGHT / 2
    image[..., 2] = 0.0 if flat_depth else -points[..., 2] * PIXELS_PER_METRE
    if depth_is_zero:
        image[..., 2] /= IMAGE_WIDTH
    return image


def reduced_holistic_points(features: np.ndarray) -> dict[str, tuple[tuple[str, ...], np.ndarray]]:
    """Component -> (point names, skeleton-frame positions (T, P, 3)) of a motion, in the 178-point layout."""
    positions, world = forward_kinematics(features, with_rotations=True)
    n = positions.shape[0]
    body = np.stack([positions[:, JOINT_INDEX[name]] for name in (
        "L_Shoulder", "R_Shoulder", "L_Elbow", "R_Elbow", "L_Wrist", "R_Wrist")], axis=1)
    hips = np.broadcast_to(np.array([[0.12, -0.45, 0.0], [-0.12, -0.45, 0.0]]), (n, 2, 3))
    head, head_rot = positions[:, JOINT_INDEX["Head"]], world[:, JOINT_INDEX["Head"]]
    filler = np.random.default_rng(7).normal(scale=0.04, size=(len(FACE_POINTS) - len(FACE_OFFSETS), 3))
    offsets = np.concatenate([np.array(list(FACE_OFFSETS.values())), filler])
    face = head[:, None] + np.einsum("tij,pj->tpi", head_rot, offsets)
    hands = {
        side: np.stack([positions[:, JOINT_INDEX[f"{side}_{HAND_JOINT_FOR_POINT[p]}"]] for p in HAND_POINTS], axis=1)
        for side in "LR"
    }
    return {
        "POSE_LANDMARKS": (BODY_POINTS, np.concatenate([body, hips], axis=1)),
        "FACE_LANDMARKS": (FACE_POINTS, face),
        "LEFT_HAND_LANDMARKS": (HAND_POINTS, hands["L"]),
        "RIGHT_HAND_LANDMARKS": (HAND_POINTS, hands["R"]),
    }


def write_pose(
    path: Path, components: dict[str, tuple[tuple[str, ...], np.ndarray]], fps: float = 25.0,
    confidence: dict[str, np.ndarray] | None = None, depth_is_zero: bool = False, flat_depth: bool = False,
    header_depth: int | None = None,
) -> Path:
    """Write skeleton-frame component positions as a MediaPipe-style .pose file (confidence 0 = missing).

    ``header_depth`` overrides the depth the header declares (a file whose z is normalised like MediaPipe's while
    its header claims a depth, as some converters write)."""
    from pose_format import Pose
    from pose_format.numpy import NumPyPoseBody
    from pose_format.pose_header import PoseHeader, PoseHeaderComponent, PoseHeaderDimensions

    header_components, data, conf = [], [], []
    for name, (points, positions) in components.items():
        header_components.append(PoseHeaderComponent(name, list(points), [], [], "XYZC"))
        data.append(skeleton_to_image(np.asarray(positions, dtype=np.float64), depth_is_zero, flat_depth))
        c = np.ones(positions.shape[:2]) if confidence is None or name not in confidence else confidence[name]
        conf.append(c)
    values = np.concatenate(data, axis=1)[:, None].astype(np.float32)
    confidences = np.concatenate(conf, axis=1)[:, None].astype(np.float32)
    mask = np.repeat((confidences == 0)[..., None], 3, axis=-1)
    depth = (0 if depth_is_zero else DEPTH) if header_depth is None else header_depth
    dimensions = PoseHeaderDimensions(IMAGE_WIDTH, IMAGE_HEIGHT, depth)
    body = NumPyPoseBody(fps, np.ma.masked_array(values, mask=mask), confidences)
    pose = Pose(PoseHeader(0.1, dimensions, header_components), body)
    with path.open("wb") as handle:
        pose.write(handle)
    return path


def anatomical_elbow_axis(side: str) -> np.ndarray:
    """The elbow's flexion axis, stated here independently of the IK: flexing swings the forearm forward.

    In the T-pose the upper arm points sideways (+x for the left arm); a
    human elbow bends the forearm towards the front (+z), so the axis is
    ``upper x forward``. ``test_lifting`` checks the consequence (the wrist
    moves forward) rather than trusting this formula.
    """
    from signeditor.core.skeleton import signing_skeleton

    skeleton = signing_skeleton()
    upper = skeleton.offsets[skeleton.index(f"{side}_Elbow")]
    axis = np.cross(upper / np.linalg.norm(upper), np.array([0.0, 0.0, 1.0]))
    return axis / np.linalg.norm(axis)


def plausible_features(n_frames: int, seed: int = 0) -> np.ndarray:
    """A known signing-like motion whose rotations IK can recover exactly.

    Arms hang and move; elbows are pure hinges bent 30-110 degrees (so the
    elbow plane defines the upper-arm twist); fingers and thumbs are pure
    swings (no twist about the bone, which bone directions cannot show);
    wrists and head turn freely; collars, neck and jaw stay at rest.
    """
    from signeditor.core.ik import rest_pose_features
    from signeditor.core.skeleton import ROTATING_JOINTS, signing_skeleton

    rng = np.random.default_rng(seed)
    skeleton = signing_skeleton()
    local = rotations.rot6d_to_matrix(np.tile(rest_pose_features(), (n_frames, 1)).reshape(n_frames, -1, 6))
    local = local.astype(np.float64)
    t = np.linspace(0, 1, n_frames)[:, None]

    def smooth_axis_angle(scale: float) -> np.ndarray:
        start, end = rng.normal(scale=scale, size=(2, 3))
        return start * (1 - t) + end * t

    for side in "LR":
        j = ROTATING_JOINTS.index
        shoulder_jitter = rotations.axis_angle_to_matrix(smooth_axis_angle(0.35))
        local[:, j(f"{side}_Shoulder")] = shoulder_jitter @ local[:, j(f"{side}_Shoulder")]
        bend = np.radians(rng.uniform(30, 110)) * (1 - t) + np.radians(rng.uniform(30, 110)) * t
        local[:, j(f"{side}_Elbow")] = rotations.axis_angle_to_matrix(anatomical_elbow_axis(side) * bend)
        local[:, j(f"{side}_Wrist")] = rotations.axis_angle_to_matrix(smooth_axis_angle(0.5))
        for finger in ("Index", "Middle", "Pinky", "Ring", "Thumb"):
            for level in (1, 2, 3):
                child = f"{side}_{finger}{level + 1}" if level < 3 else f"{side}_{finger}Tip"
                bone = skeleton.offsets[skeleton.index(child)]
                axis = np.cross(bone, rng.normal(size=3))
                axis /= np.linalg.norm(axis)
                angle = rng.uniform(0.0, 1.2) * (1 - t) + rng.uniform(0.0, 1.2) * t
                local[:, j(f"{side}_{finger}{level}")] = rotations.axis_angle_to_matrix(axis * angle)
    local[:, ROTATING_JOINTS.index("Head")] = rotations.axis_angle_to_matrix(smooth_axis_angle(0.25))
    return rotations.matrix_to_rot6d(local).reshape(n_frames, -1).astype(np.float32)


def recorded_features(n_frames: int = 150, seed: int = 3) -> np.ndarray:
    """A captured-looking motion: ``plausible_features`` plus a quick wobble of the right arm (the detail a
    capture has and regeneration between anchors would lose)."""
    from signeditor.core.skeleton import ROTATING_JOINTS

    features = plausible_features(n_frames, seed)
    local = rotations.rot6d_to_matrix(features.reshape(n_frames, -1, 6).astype(np.float64))
    t = np.arange(n_frames) / 25.0
    wobble = np.stack([0.12 * np.sin(2 * np.pi * 1.7 * t), 0.08 * np.cos(2 * np.pi * 2.3 * t),
                       0.05 * np.sin(2 * np.pi * 3.1 * t)], axis=-1)
    for joint, scale in (("R_Shoulder", 1.0), ("R_Elbow", 0.8), ("R_Wrist", 1.5)):
        j = ROTATING_JOINTS.index(joint)
        local[:, j] = rotations.axis_angle_to_matrix(wobble * scale) @ local[:, j]
    return rotations.matrix_to_rot6d(local).reshape(n_frames, -1).astype(np.float32)


def recorded_project(n_frames: int = 150) -> object:
    """An imported recording: two signs, FAST-style onset/middle/offset anchors, the take kept as the recording."""
    from signeditor.core.keyframes import anchors_from_segments
    from signeditor.core.motion import Motion
    from signeditor.core.project import Project
    from signeditor.core.recording import Recording
    from signeditor.core.segments import Segment

    motion = Motion(25.0, recorded_features(n_frames))
    segments = [Segment(10, 71, "HAUS"), Segment(80, 141, "BAUM")]
    anchors = anchors_from_segments(motion, segments)
    return Project(motion, anchors, segments, recording=Recording.of(motion, anchors))


#: Frames [start, stop) where :func:`captured_project`'s left hand was not detected (its arm was).
LEFT_HAND_GAP = (30, 40)


def captured_project(n_frames: int = 150) -> object:
    """:func:`recorded_project` as a video import gives it: a face channel (mouthing that changes every frame)
    and the left hand lost over ``LEFT_HAND_GAP`` while the body was tracked (only that stream not captured)."""
    from dataclasses import replace

    from signeditor.core.face import FACE_DIM
    from signeditor.core.motion import STREAMS
    from signeditor.core.recording import Recording

    project = recorded_project(n_frames)
    stream_filled = np.zeros((n_frames, len(STREAMS)), bool)
    stream_filled[slice(*LEFT_HAND_GAP), STREAMS.index("left_hand")] = True
    face = np.random.default_rng(5).uniform(0.0, 1.0, (n_frames, FACE_DIM)).astype(np.float32)
    project.motion = replace(project.motion, face=face, filled=stream_filled.any(axis=1), stream_filled=stream_filled)
    project.recording = Recording.of(project.motion, project.anchors)
    return project


@pytest.fixture
def make_pose_file(tmp_path: Path) -> Callable[..., tuple[Path, np.ndarray]]:
    """Factory: write a reduced-holistic .pose of a known motion; returns (path, true features)."""

    def make(name: str = "clip.pose", n_frames: int = 16, seed: int = 0, fps: float = 25.0,
             confidence: dict[str, np.ndarray] | None = None, depth_is_zero: bool = False,
             folder: Path | None = None, flat_depth: bool = False,
             features: np.ndarray | None = None) -> tuple[Path, np.ndarray]:
        features = plausible_features(n_frames, seed) if features is None else features
        path = (folder or tmp_path) / name
        path.parent.mkdir(parents=True, exist_ok=True)
        write_pose(path, reduced_holistic_points(features), fps, confidence, depth_is_zero, flat_depth)
        return path, features

    return make


def pytest_configure(config: pytest.Config) -> None:
    """Qt's test mode: settings and the autosave recovery file go to a test location, so closing a test window
    never deletes a developer's real recovery file or reads their settings."""
    from PySide6 import QtCore

    QtCore.QStandardPaths.setTestModeEnabled(True)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    """Print pytest-randomly's seed at the end, also under ``-q`` (which hides its header line), so a failure that
    depends on the order can be repeated with ``--randomly-seed=N``."""
    if config.pluginmanager.hasplugin("randomly") and config.getoption("randomly_reorganize", True):
        seed = config.getoption("randomly_seed")
        terminalreporter.write_line(f"test order: pytest-randomly seed {seed} (repeat: --randomly-seed={seed})")


@pytest.fixture(autouse=True)
def no_modal_dialogs(monkeypatch: pytest.MonkeyPatch) -> None:
    """A modal dialog waits for a click no test gives, so the run would hang: fail at once and say which.

    A test that expects a dialog replaces the function itself (its monkeypatch wins, being applied later).
    """
    from PySide6 import QtWidgets

    def refuse(name: str) -> object:
        def dialog(*args: object, **kwargs: object) -> object:
            raise AssertionError(f"unexpected modal dialog in a test: {name}{args[1:3]}")
        return dialog

    for name in ("question", "critical", "warning", "information"):
        monkeypatch.setattr(QtWidgets.QMessageBox, name, refuse(f"QMessageBox.{name}"))
    for name in ("getOpenFileName", "getSaveFileName", "getExistingDirectory"):
        monkeypatch.setattr(QtWidgets.QFileDialog, name, refuse(f"QFileDialog.{name}"))


@pytest.fixture(autouse=True)
def no_worker_thread_left_running(request: pytest.FixtureRequest) -> object:
    """A test must not leave a worker thread running (a window not closed, a regenerator not shut down): it would
    keep working into the next test and, at exit, crash Qt. Torn down after qtbot has closed the test's widgets."""
    yield
    if "qtbot" not in request.fixturenames:
        return
    from signeditor.gui.worker_thread import running_worker_threads

    leaked = running_worker_threads()
    assert not leaked, f"worker threads still running after the test: {leaked}"


@pytest.fixture
def fixture_lexicon(tmp_path: Path) -> Path:
    """The small self-made sign lexicon of tests/draft_helpers.py (signs and a fingerspelling alphabet)."""
    from draft_helpers import write_fixture_lexicon

    return write_fixture_lexicon(tmp_path / "lexicon")


@pytest.fixture
def make_window(qtbot: object, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., object]:
    """Factory: a shown main window without the GL viewport, its settings (``tmp_path / "settings.ini"``, which a
    test may fill first, shared by every window of the test) and recovery file private to the test, a fake instant
    regenerator (tests/gui_helpers.py; or the one given, None for the window's own KF2P; as ``win.fake``) and no
    "save changes?" question unless asked for."""
    from gui_helpers import HoldRegenerate
    from PySide6 import QtCore

    from signeditor.gui.main_window import MainWindow

    monkeypatch.setattr("signeditor.gui.main_window.recovery_path", lambda: tmp_path / "recovery.signproj")
    hold = object()

    def make(project: object = None, confirm_close: bool = False, regenerate: object = hold,
             show: bool = True) -> MainWindow:
        settings = QtCore.QSettings(str(tmp_path / "settings.ini"), QtCore.QSettings.Format.IniFormat)
        regenerate = HoldRegenerate() if regenerate is hold else regenerate
        win = MainWindow(project, regenerate=regenerate, settings=settings, with_viewport=False,
                         confirm_close=confirm_close)
        win.fake = regenerate
        qtbot.addWidget(win)
        if show:
            win.show()
        return win

    return make


@pytest.fixture
def make_draft_window(qtbot: object, make_window: Callable[..., object],
                      monkeypatch: pytest.MonkeyPatch) -> Callable[..., object]:
    """Factory: :func:`make_window` whose draft panel uses the given lexicon folders and fast stand-in models;
    waits until the lexicon has been read. Only those folders: the bundled alphabets would fill in the letters
    the fixture lexicon lacks on purpose."""
    monkeypatch.setattr("signeditor.io.lexicon.bundled_lexicon_folders", lambda: [])
    from draft_helpers import MiddleSegmenter

    from signeditor.drafts.clips import ClipLibrary
    from signeditor.drafts.pipeline import DraftBuilder
    from signeditor.io.lexicon import read_lexicons

    def make(folders: list[Path], confirm_close: bool = False, wait_for_languages: bool = True) -> object:
        win = make_window(confirm_close=confirm_close)
        win.draft_panel.worker.factory = lambda usable: DraftBuilder(read_lexicons(usable),
                                                                     ClipLibrary(MiddleSegmenter()), None)
        win.draft_panel.set_folders(folders)
        win.docks["draft"].raise_()  # tabbed behind the history: bring it to the front, as a user would
        if wait_for_languages:
            qtbot.waitUntil(lambda: win.draft_panel.spoken.count() > 0, timeout=5000)
        return win

    return make


# --- videos (video import, reference dock) ---------------------------------------------------------------------
SAMPLE_PROJECT = Path(__file__).resolve().parents[1] / "resources" / "samples" / "sample.signproj"


def write_frames_mp4(path: Path, frames: list[np.ndarray], fps: int = 25) -> Path:
    """Encode (H, W, 3) uint8 frames as H.264 with a keyframe every 12 frames (so seeking must decode forward)."""
    import av

    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.pix_fmt = "yuv420p"
        stream.width, stream.height = frames[0].shape[1], frames[0].shape[0]
        stream.options = {"crf": "18", "g": "12"}
        for image in frames:
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def numbered_frames(n: int, size: tuple[int, int] = (64, 48)) -> list[np.ndarray]:
    """Frames whose index can be read back from the picture: frame i is filled with grey level 8 * i."""
    return [np.full((size[1], size[0], 3), 8 * i, np.uint8) for i in range(n)]


def frame_index_of(image: np.ndarray) -> int:
    """Inverse of :func:`numbered_frames` (robust to compression noise)."""
    return round(float(np.median(image[..., :3])) / 8.0)


@pytest.fixture(scope="session")
def rendered_sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    """The bundled sample's motion rendered by our own video exporter (640×480 MP4), and that motion."""
    from signeditor.io.project_file import load_project
    from signeditor.render.video import write_video

    motion = load_project(SAMPLE_PROJECT).motion
    path = tmp_path_factory.mktemp("video") / "sample.mp4"
    write_video(motion, path, size=(640, 480))
    return path, motion


@pytest.fixture(scope="module")
def local_ray() -> object:
    """One local Ray instance (2 CPUs) shared by a module's tests: starting Ray takes seconds.

    Not kept for the session: Ray's driver runs gc.collect() on a thread of its own (PythonGCThread), which
    must not collect the Qt objects of the GUI tests that run later (a full run once hung in processEvents).
    """
    ray = pytest.importorskip("ray", reason="the [cluster] extra (Ray) is not installed")
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    yield ray
    if started:
        ray.shutdown()
