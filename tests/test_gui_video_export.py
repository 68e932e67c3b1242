"""Video export from the real editor window with its GL viewport open (issue #19), read back with PyAV."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "resources" / "samples" / "sample.signproj"


def read_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(container.streams.video[0])]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, Path]:
    if not os.environ.get("DISPLAY") or not SAMPLE.exists():
        pytest.skip("needs an X display (Xvfb, started by pytest-xvfb) and the bundled sample")
    out = tmp_path_factory.mktemp("export")
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
    env.update(QT_QPA_PLATFORM="xcb", PYTHONPATH=os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]))
    result = subprocess.run([sys.executable, "-m", "tests.export_probe", str(out), str(SAMPLE)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=240)
    if result.returncode != 0 and "Could not load the Qt platform plugin" in result.stderr:
        pytest.skip("Qt's xcb plugin cannot load: apt-get install -y libxcb-cursor0 libxkbcommon-x11-0")
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1]), out


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".mp4", ".gif"])
def test_video_export_with_the_viewport_open_shows_the_moving_avatar(report: tuple[dict, Path], suffix: str) -> None:
    data, out = report
    assert data["errors"] == [], "export failed inside the editor"
    frames = read_frames(out / f"take{suffix}")
    assert len(frames) == data[suffix]["frames_rendered"] == 100  # the whole sample, at its own 25 fps
    assert frames[0].shape == (480, 640, 3)
    background = frames[0][2, 2].astype(int)
    figure = np.abs(frames[0].astype(int) - background).sum(-1) > 40
    assert 0.03 < figure.mean() < 0.8, "the avatar is drawn, not a blank or black frame"
    moved = max(np.abs(f.astype(int) - frames[0].astype(int)).sum(-1).__gt__(40).mean() for f in frames[::10])
    assert moved > 0.01, "the avatar moves during the video"
    assert data[suffix]["status"] == f"Exported {out / f'take{suffix}'}"
    assert data["viewport_still_draws"] > 5, "the editor's own viewport still draws after the export"


@pytest.mark.slow
def test_export_suggests_the_project_name_next_to_it(report: tuple[dict, Path]) -> None:
    data, _ = report
    assert data["suggested"][:2] == [str(SAMPLE.with_suffix(".mp4")), str(SAMPLE.with_suffix(".gif"))]
    assert data["reference_option_enabled"] is False, "no reference video: side by side is offered disabled"


@pytest.mark.slow
def test_cancel_stops_the_export_and_leaves_no_file(report: tuple[dict, Path]) -> None:
    data, _ = report
    cancelled = data["cancelled"]
    assert 3 <= cancelled["frames_rendered"] < cancelled["total"]
    assert cancelled["files_left"] == [], "neither the video nor its temporary file is left"
    assert cancelled["status"] == "video export cancelled"


@pytest.mark.slow
def test_signers_view_is_lit_and_shows_the_hands(report: tuple[dict, Path]) -> None:
    """Over the shoulder: the figure as bright as from the front, and the hands not hidden by the body."""
    views = report[0]["views"]
    assert views["signer"]["figure_brightness"] > 0.8 * views["front"]["figure_brightness"]
    assert views["signer"]["hand_pixels"] > 0.5 * views["front"]["hand_pixels"] > 100


class RedReference:
    """A stand-in reference video: 320x240 red frames for its first second."""

    def frame_at(self, seconds: float) -> np.ndarray | None:
        if seconds >= 1.0:
            return None
        frame = np.zeros((240, 320, 3), np.uint8)
        frame[..., 0] = 220
        return frame


@pytest.mark.slow
def test_reference_video_plays_beside_the_avatar(qtbot, make_window, tmp_path: Path) -> None:
    """The hook for a reference video: the options dialog offers it, and the export shows it on the left."""
    from gui_helpers import small_project

    from signeditor.gui.video_export import VideoOptionsDialog
    from signeditor.render.video import VideoOptions

    win = make_window(small_project()[0])
    win.reference_frames = RedReference()
    dialog = VideoOptionsDialog(25.0, win.reference_frames is not None, win)
    assert dialog.side_by_side.isEnabled() and dialog.options().side_by_side
    job = win.exporter.export_video(tmp_path / "both.mp4", VideoOptions(size=(160, 120), side_by_side=True))
    qtbot.waitUntil(lambda: not job.running, timeout=60000)
    frames = read_frames(tmp_path / "both.mp4")
    assert len(frames) == 60 and frames[0].shape == (120, 320, 3)
    left, right = frames[0][:, :160].astype(int), frames[0][:, 160:].astype(int)
    assert left[..., 0].mean() > 150 > left[..., 1].mean() + 100, "the reference (red) on the left"
    assert np.abs(right - right[2, 2]).sum(-1).__gt__(40).mean() > 0.02, "the avatar on the right"
    assert frames[-1][:, :160].mean() < 20, "black once the reference has ended"
