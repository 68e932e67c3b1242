"""Video import: our own rendered motion back through MediaPipe, bad input, cancelling, the command line.

No real signer's video can be used here, so the ground truth is the bundled
sample rendered with our own exporter. The mannequin has no face, so
MediaPipe takes it to be seen from behind: the importer turns it around, and
what comes back is the motion's mirror image (left and right exchanged).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mediapipe", reason="needs the [video] extra")

from conftest import write_frames_mp4
from pose_format import Pose

from signeditor.cli import main
from signeditor.io.errors import FileFormatError
from signeditor.io.project_file import load_project
from signeditor.video.importer import ImportCancelled, import_video
from signeditor.video.roundtrip import arm_errors, mirrored_motion

pytestmark = [pytest.mark.video, pytest.mark.slow]


@pytest.fixture(scope="module")
def imported(rendered_sample: tuple[Path, object], tmp_path_factory: pytest.TempPathFactory) -> object:
    video, _ = rendered_sample
    seen = []
    result = import_video(video, tmp_path_factory.mktemp("import") / "take.signproj", progress=seen.append)
    result.progress_seen = seen
    return result


def test_round_trip_recovers_the_rendered_arm_motion(rendered_sample: tuple[Path, object], imported: object) -> None:
    """Regression guard at today's figure (0.19 shoulder widths, arm depth from bone lengths)."""
    _, motion = rendered_sample
    assert imported.turned  # the faceless mannequin: taken from behind, turned around
    errors = arm_errors(mirrored_motion(motion), imported.project.motion)
    assert np.median(errors) <= 0.25, f"median wrist/elbow error {np.median(errors):.3f} shoulder widths"
    # and the comparison can fail: the unmirrored motion is far off
    assert np.median(arm_errors(motion, imported.project.motion)) > 0.3


@pytest.mark.xfail(strict=True, reason="0.19 with the depth lifting of issue #12 (0.17 without world-landmark "
                                        "evidence): depth still dominates on our faceless mannequin, which "
                                        "MediaPipe takes as seen from behind")
def test_round_trip_meets_the_target(rendered_sample: tuple[Path, object], imported: object) -> None:
    errors = arm_errors(mirrored_motion(rendered_sample[1]), imported.project.motion)
    assert np.median(errors) <= 0.15, f"median wrist/elbow error {np.median(errors):.3f} shoulder widths"


def test_import_writes_full_holistic_pose_with_world_landmarks_and_an_anchored_project(imported: object) -> None:
    pose = Pose.read(imported.pose_path.read_bytes())
    names = [c.name for c in pose.header.components]
    assert names == ["POSE_LANDMARKS", "FACE_LANDMARKS", "LEFT_HAND_LANDMARKS", "RIGHT_HAND_LANDMARKS",
                     "POSE_WORLD_LANDMARKS"]
    assert pose.body.data.shape == (100, 1, 576, 3) and pose.body.fps == 25
    assert (pose.header.dimensions.width, pose.header.dimensions.height) == (640, 480)
    world = np.ma.getdata(pose.body.data)[:, 0, -33:]
    assert np.ptp(world[:, 15, 2]) > 0.05  # the wrist's world depth moves (metres): real depth is kept
    project = load_project(imported.project_path)
    assert project.motion.n_frames == 100 and len(project.anchors) > 0 and project.segments
    assert Path(project.reference_video.path) == imported.info.path
    assert project.reference_video.keypoints == ""  # turned around: no overlay in the video's pixels


def test_progress_reports_rate_and_time_left(imported: object) -> None:
    detecting = [p for p in imported.progress_seen if p.stage == "detecting"]
    assert [p.frame for p in detecting] == list(range(1, 101))
    assert all(p.frames_per_s > 0 and p.seconds_left is not None for p in detecting)
    assert detecting[-1].seconds_left == 0 and imported.progress_seen[-1].stage == "fitting"


def test_person_leaving_the_frame_is_filled_and_flagged(rendered_sample: tuple[Path, object],
                                                         tmp_path: Path) -> None:
    import av

    video, _ = rendered_sample
    with av.open(str(video)) as container:
        frames = [f.to_ndarray(format="rgb24") for f in container.decode(video=0)][:50]
    background = frames[0][0, 0]
    for frame in frames[20:32]:  # the signer steps out
        frame[:] = background
    result = import_video(write_frames_mp4(tmp_path / "gap.mp4", frames), tmp_path / "gap.signproj")
    assert len(result.gaps) == 1
    start, end = result.gaps[0]
    assert abs(start - 20) <= 2 and abs(end - 32) <= 2
    filled = result.project.motion.filled
    outside = np.r_[filled[: start - 2], filled[end + 2 :]]
    assert filled[start:end].all() and outside.mean() < 0.5  # elsewhere only brief hand drop-outs are filled
    assert any("no person detected" in w for w in result.warnings())


def test_no_person_is_a_clear_error_and_writes_nothing(tmp_path: Path) -> None:
    frames = [np.full((240, 320, 3), 200, np.uint8) for _ in range(10)]
    video = write_frames_mp4(tmp_path / "empty.mp4", frames)
    with pytest.raises(FileFormatError, match=r"empty\.mp4.*no person detected"):
        import_video(video, tmp_path / "out.signproj")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.mp4"]


@pytest.mark.parametrize("damage", ["not a video", "truncated"])
def test_bad_files_are_clear_errors_and_write_nothing(rendered_sample: tuple[Path, object], tmp_path: Path,
                                                      damage: str) -> None:
    video = tmp_path / "bad.mp4"
    data = rendered_sample[0].read_bytes()
    video.write_bytes(b"just some text\n" * 50 if damage == "not a video" else data[: len(data) // 2])
    with pytest.raises(FileFormatError, match=r"bad\.mp4.*(not a readable video|truncated|damaged)"):
        import_video(video, tmp_path / "out.signproj")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.mp4"]


def test_cancel_stops_between_frames_and_writes_nothing(rendered_sample: tuple[Path, object],
                                                        tmp_path: Path) -> None:
    progress = []
    with pytest.raises(ImportCancelled):
        import_video(rendered_sample[0], tmp_path / "out.signproj", progress=progress.append,
                     should_stop=lambda: len(progress) >= 5)
    assert len(progress) == 5 and not list(tmp_path.iterdir())


def test_command_line_writes_a_project_with_its_reference_video(rendered_sample: tuple[Path, object],
                                                                tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["import-video", str(rendered_sample[0]), "-o", str(tmp_path / "take.pose"), "--quiet"]) == 0
    assert "take.pose" in capsys.readouterr().out
    assert Pose.read((tmp_path / "take.pose").read_bytes()).body.data.shape[0] == 100
    assert main(["import-video", str(tmp_path / "take.pose"), "-o", str(tmp_path / "x.signproj")]) == 2
    assert "not a readable video" in capsys.readouterr().err
