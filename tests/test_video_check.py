"""A video is checked before any long work (issue #23): an unreadable file fails at once, before the detector
loads or a save location is asked for; a truncated one is imported as far as it goes, saying how much is missing."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("mediapipe", reason="the holistic layout comes from pose-format's MediaPipe module")

from conftest import numbered_frames
from pose_format import Pose

from signeditor.io.errors import FileFormatError
from signeditor.video.decode import check_video
from signeditor.video.importer import import_video

#: MediaPipe pose landmark -> (x, y) pixels of a signer facing the camera in a 160×120 frame (their left on the right).
BODY = {11: (100, 40), 12: (60, 40), 13: (106, 66), 14: (54, 66), 15: (110, 90), 16: (50, 90), 23: (92, 110),
        24: (68, 110)}


class StandingSigner:
    """Finds the same signer in every frame (body only), instantly: the file handling is what is tested."""

    created = 0

    def __init__(self, width: int, height: int) -> None:
        from signeditor.video.holistic import holistic_header

        StandingSigner.created += 1
        self.n_points = holistic_header(width, height).total_points()

    def detect(self, rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        points, confidence = np.zeros((self.n_points, 3)), np.zeros(self.n_points)
        for index, (x, y) in BODY.items():
            points[index, :2] = x, y
            confidence[index] = 1.0
        return points, confidence

    def close(self) -> None:
        pass


def faststart_mp4(path: Path, n_frames: int) -> Path:
    """An MP4 with its index first (as web videos are), so a cut-off copy still plays up to the cut."""
    import av

    with av.open(str(path), mode="w", options={"movflags": "+faststart"}) as container:
        stream = container.add_stream("libx264", rate=25)
        stream.pix_fmt, stream.width, stream.height = "yuv420p", 160, 120
        stream.options = {"g": "12"}
        for image in (numbered_frames(30, (160, 120)) * (n_frames // 30 + 1))[:n_frames]:
            for packet in stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


@pytest.fixture
def truncated_video(tmp_path: Path) -> Path:
    whole = faststart_mp4(tmp_path / "whole.mp4", 120)
    cut = tmp_path / "cut.mp4"
    cut.write_bytes(whole.read_bytes()[: int(whole.stat().st_size * 0.6)])
    whole.unlink()
    return cut


def test_a_truncated_video_keeps_its_good_frames_and_says_how_many(truncated_video: Path) -> None:
    check = check_video(truncated_video)
    assert check.truncated and 20 < check.readable_frames < 100 and check.info.n_frames == 120
    result = import_video(truncated_video, truncated_video.with_suffix(".pose"), detector_factory=StandingSigner)
    kept = Pose.read(result.pose_path.read_bytes()).body.data.shape[0]
    import av

    decodable = 0
    with av.open(str(truncated_video)) as container:  # the oracle: every frame FFmpeg decodes before the damage
        try:
            for _frame in container.decode(video=0):
                decodable += 1
        except av.error.InvalidDataError:
            pass
    assert kept == decodable and result.project.motion.n_frames == kept
    assert f"only {kept} of its 120 frames could be read; those were imported" in "; ".join(result.warnings())


def test_an_unreadable_video_fails_at_once_before_the_detector_loads(tmp_path: Path) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"x" * 5000)
    StandingSigner.created = 0
    began = time.perf_counter()
    with pytest.raises(FileFormatError, match=r"junk\.mp4"):
        import_video(junk, tmp_path / "out.pose", detector_factory=StandingSigner)
    assert StandingSigner.created == 0 and time.perf_counter() - began < 2.0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["junk.mp4"]


def test_import_video_checks_the_file_before_asking_where_to_save(qtbot, make_window, truncated_video: Path,
                                                                  tmp_path: Path, monkeypatch) -> None:
    from PySide6 import QtWidgets

    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"just some text\n" * 50)
    asked: list[str] = []
    chosen = {"video": str(junk)}
    monkeypatch.setattr(QtWidgets.QFileDialog, "getOpenFileName", lambda *a, **k: (chosen["video"], ""))
    monkeypatch.setattr(QtWidgets.QFileDialog, "getSaveFileName",
                        lambda *a, **k: asked.append("save") or (str(tmp_path / "take.signproj"), ""))
    monkeypatch.setattr(QtWidgets.QMessageBox, "critical", lambda _w, _t, text: asked.append(f"error: {text}"))
    monkeypatch.setattr(QtWidgets.QMessageBox, "question",
                        lambda _w, _t, text, *a: asked.append(f"question: {text}") or QtWidgets.QMessageBox.No)
    window = make_window()
    window.video_review.actions["import_video"].trigger()  # File > Import video…
    assert len(asked) == 1 and asked[0].startswith("error: ") and "junk.mp4" in asked[0], asked

    asked.clear()
    chosen["video"] = str(truncated_video)
    window.video_review.actions["import_video"].trigger()
    assert len(asked) == 1 and "only" in asked[0] and "of its 120 frames" in asked[0], "asked first, not saved"
    window.close()
