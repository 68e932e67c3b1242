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
