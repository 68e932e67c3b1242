"""PyAV decoding: exact random access by frame index, downscaling, and named errors (no MediaPipe needed)."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import frame_index_of, numbered_frames, write_frames_mp4

from signeditor.io.errors import FileFormatError
from signeditor.video.decode import FrameReader, iter_frames, probe_video


def test_frame_reader_returns_exactly_the_asked_frame(tmp_path: Path) -> None:
    video = write_frames_mp4(tmp_path / "n.mp4", numbered_frames(30))
    reader = FrameReader(video)
    try:
        assert (reader.n_frames, reader.fps) == (30, 25.0)
        for index in (0, 1, 2, 29, 11, 12, 13, 5, 24, 25):  # sequential, across keyframes, backwards
            assert frame_index_of(reader.frame(index)) == index
        with pytest.raises(IndexError):
            reader.frame(30)
    finally:
        reader.close()


def test_iter_frames_in_order_and_downscaled(tmp_path: Path) -> None:
    video = write_frames_mp4(tmp_path / "n.mp4", numbered_frames(12, (320, 240)))
    frames = list(iter_frames(video, max_side=160))
    assert [frame_index_of(f) for f in frames] == list(range(12))
    assert frames[0].shape == (120, 160, 3)
    info = probe_video(video)
    assert (info.width, info.height, info.n_frames) == (320, 240, 12)


def test_files_that_are_no_video_are_named_errors(tmp_path: Path) -> None:
    import av

    with pytest.raises(FileFormatError, match=r"missing\.mp4.*file not found"):
        probe_video(tmp_path / "missing.mp4")
    (tmp_path / "text.mp4").write_text("hello")
    with pytest.raises(FileFormatError, match=r"text\.mp4.*not a readable video"):
        FrameReader(tmp_path / "text.mp4")
    with av.open(str(tmp_path / "sound.wav"), "w") as container:  # a real media file without pictures
        stream = container.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame(format="s16", layout="mono", samples=800)
        frame.sample_rate = 8000
        for plane in frame.planes:
            plane.update(bytes(plane.buffer_size))
        for packet in stream.encode(frame):
            container.mux(packet)
    with pytest.raises(FileFormatError, match=r"sound\.wav.*no video stream"):
        list(iter_frames(tmp_path / "sound.wav"))
