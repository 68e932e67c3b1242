"""The fitted face, rendered on the avatar and re-detected by MediaPipe, agrees with itself (needs [video], GL)."""

from __future__ import annotations

import json

import pytest

from tests.test_render_viewport import _display_env, _run

pytest.importorskip("mediapipe", reason="needs the [video] extra")
pytestmark = [pytest.mark.video, pytest.mark.slow]


def test_a_rendered_face_is_redetected_with_the_same_brows_and_mouth():
    env = _display_env()
    if env is None:
        pytest.skip("no X display (install Xvfb so pytest-xvfb starts one)")
    result = _run(["-m", "tests.face_redetect_probe"], env)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["frames_with_face"] == report["frames"], "MediaPipe finds the avatar's face in every frame"
    assert report["brow_correlation"] >= 0.8 and report["mouth_correlation"] >= 0.8, report


def test_video_import_fits_the_face_channel(tmp_path):
    """A video of the avatar (brows raised, later mouth open) imported through MediaPipe: the face channel follows."""
    import numpy as np

    import signeditor.render.video  # noqa: F401  (registers mp4, as the CLI and the editor do before exporting)
    from signeditor.app_services import export_document
    from signeditor.core.face import FACE_DIM, FACE_INDEX
    from signeditor.core.motion import Motion
    from signeditor.core.project import Project
    from signeditor.io.project_file import load_project
    from signeditor.paths import SAMPLE_PROJECT
    from signeditor.render.avatars.catalog import DEFAULT_AVATAR, load_avatar
    from signeditor.video.importer import import_video

    sample = load_project(SAMPLE_PROJECT).motion
    face = np.zeros((sample.n_frames, FACE_DIM), np.float32)
    face[15:35, FACE_INDEX["brow_raise_l"]] = face[15:35, FACE_INDEX["brow_raise_r"]] = 1.0
    face[55:75, FACE_INDEX["mouth_open"]] = 0.9
    video = export_document(Project(Motion(sample.fps, sample.features, face=face)), tmp_path / "face.mp4",
                            avatar=load_avatar(DEFAULT_AVATAR))
    result = import_video(video, tmp_path / "face.signproj")
    assert not result.turned, "MediaPipe sees the human avatar from the front"
    fitted = result.project.motion.face
    assert fitted is not None and len(fitted) == len(face)
    for name in ("brow_raise_l", "mouth_open"):
        assert np.corrcoef(face[:, FACE_INDEX[name]], fitted[:, FACE_INDEX[name]])[0, 1] >= 0.8, name
