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


@pytest.mark.slow
def test_the_video_frames_the_signer_from_the_hips_up(tmp_path: Path) -> None:
    """The front video shows the avatar from the hips up (issue #23: the whole figure was small, a face about 50
    pixels high in 640×480): the head starts near the top edge and is big; the hips reach the bottom edge."""
    from signeditor.render.avatars.catalog import DEFAULT_AVATAR, load_avatar

    motion = load_project(SAMPLE).motion.slice(0, 2)
    path = write_video(motion, tmp_path / "take.mp4", avatar=load_avatar(DEFAULT_AVATAR))
    frame = read_frames(path)[0][0].astype(int)
    height, width = frame.shape[:2]
    figure = np.abs(frame - frame[0, 0]).sum(axis=2) > 40
    rows = np.flatnonzero(figure.any(axis=1))
    top = rows[0]
    assert top < 0.12 * height, f"the head starts {top} pixels down"
    assert rows[-1] == height - 1, "the body goes on below the frame (hips up, not the whole figure)"
    head_width = figure[top: top + int(0.12 * height)].sum(axis=1).max()
    assert head_width > 0.12 * width, f"the head is {head_width} pixels wide"
