"""The GL viewport renders the avatar under a real X server (Xvfb), in a subprocess on the xcb platform."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "tests" / "_output"


def _display_env() -> dict[str, str] | None:
    """An environment with a real display: pytest-xvfb's, an existing one, or None."""
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env["QT_QPA_PLATFORM"] = "xcb"
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    if os.environ.get("DISPLAY"):
        return env
    return None


def _run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    """Run a child on the xcb platform; skip (saying which package) when Qt cannot open the display at all."""
    result = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    if result.returncode != 0 and "Could not load the Qt platform plugin" in result.stderr:
        pytest.skip("Qt's xcb plugin cannot load: apt-get install -y libxcb-cursor0 libxkbcommon-x11-0")
    return result


def test_viewport_draws_the_avatar_and_follows_the_pose(tmp_path):
    env = _display_env()
    if env is None:
        reason = "no X display: install Xvfb (apt-get install -y xvfb libgl1-mesa-dri) so pytest-xvfb starts one"
        if shutil.which("Xvfb") is None:
            pytest.skip(reason)
        pytest.skip("Xvfb is installed but no DISPLAY is set (was pytest run with --no-xvfb?)")
    result = _run(["-m", "tests.viewport_probe", str(OUTPUT)], env)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["shape"][:2] == [240, 320]
    assert 0.03 < report["rest_avatar_fraction"] < 0.9, "the avatar covers part of the frame, not none or all"
    assert report["changed_fraction"] > 0.005, "changing the pose changes the picture"
    assert report["overlay_changed_fraction"] > 0.001 and report["green_pixels"] > 20, "skeleton overlay is drawn"
    assert (OUTPUT / "viewport_posed.png").stat().st_size > 1000
    assert report["picked"] == ["R_Wrist"], "a click on the wrist picks it; a drag (camera orbit) picks nothing"
    assert report["avatar_at_picked_wrist"] > 0.3, "the picked spot is on the drawn avatar"


def test_gui_command_opens_the_sample_and_draws_a_frame(tmp_path):
    """What `make run` does, headless: `signeditor gui resources/samples/sample.signproj` starts and draws."""
    env = _display_env()
    sample = ROOT / "resources" / "samples" / "sample.signproj"
    if env is None:
        pytest.skip("no X display (install Xvfb so pytest-xvfb starts one)")
    if not sample.exists():
        pytest.skip("the bundled sample has not been made yet")
    env.update({"XDG_CONFIG_HOME": str(tmp_path / "config"), "XDG_DATA_HOME": str(tmp_path / "data")})
    result = _run(["-m", "signeditor", "gui", str(sample), "--no-recovery", "--exit-when-ready"], env)
    assert result.returncode == 0, result.stderr[-3000:]
    assert (tmp_path / "config" / "SignEditor" / "SignEditor.conf").exists(), "settings were written on close"


def test_window_view_options_change_the_picture(tmp_path):
    """Camera presets, onion skin, skeleton and theme all reach the GL viewport of the real window."""
    env = _display_env()
    sample = ROOT / "resources" / "samples" / "sample.signproj"
    if env is None or not sample.exists():
        pytest.skip("needs an X display (Xvfb) and the bundled sample")
    result = _run(["-m", "tests.viewport_probe", str(OUTPUT), str(sample)], env)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert all(report["camera_differs"][n] > 0.02 for n in ("side", "signer", "three_quarter"))
    assert report["ghosts_visible"] == 2 and report["onion_changed"] > 0.005
    assert report["light_changed"] > 0.3, "the light theme repaints the background"
    assert report["inspector_joint_after_pick"] == "L_Elbow", "a click on a joint selects it in the inspector"
    assert report["marker_pixels_added"] > 20, "the viewport marks the inspector's joint"
