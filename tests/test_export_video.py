"""MP4/GIF export rendered offscreen (EGL, no display) and read back with PyAV."""

from pathlib import Path

import av
import numpy as np
import pytest

from signeditor.io.project_file import load_project
from signeditor.render.video import write_video

SAMPLE = Path(__file__).resolve().parents[1] / "resources" / "samples" / "sample.signproj"


def read_frames(path: Path) -> tuple[list[np.ndarray], float]:
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        rate = float(stream.average_rate or stream.guessed_rate)
        return [f.to_ndarray(format="rgb24") for f in container.decode(stream)], rate


@pytest.mark.slow
@pytest.mark.parametrize("suffix", [".mp4", ".gif"])
def test_video_export_shows_the_moving_avatar(tmp_path: Path, suffix: str) -> None:
    motion = load_project(SAMPLE).motion.slice(0, 20)
    seen: list[int] = []
    path = write_video(motion, tmp_path / f"take{suffix}", size=(160, 120), progress=lambda i, n: seen.append(i))
    assert seen[-1] == 20
    frames, rate = read_frames(path)
    assert len(frames) == 20 and frames[0].shape == (120, 160, 3)
    assert rate == pytest.approx(25.0, rel=0.05)
    background = frames[0][0, 0].astype(int)
    avatar = np.abs(frames[0].astype(int) - background).sum(axis=2) > 40
    assert 0.02 < avatar.mean() < 0.8  # the figure is there and does not fill the frame
    assert np.abs(frames[-1].astype(int) - frames[0].astype(int)).mean() > 0.5  # the arm moved


@pytest.mark.slow
def test_side_by_side_doubles_the_width(tmp_path: Path) -> None:
    motion = load_project(SAMPLE).motion.slice(0, 5)
    path = write_video(motion, tmp_path / "both.mp4", size=(160, 120), compare=motion.slice(0, 3))
    frames, _ = read_frames(path)
    assert frames[0].shape == (120, 320, 3)
    np.testing.assert_allclose(frames[0][:, :160].mean(), frames[0][:, 160:].mean(), atol=3)
