import zipfile
from pathlib import Path

import numpy as np
import pytest

from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.motion import Motion
from signeditor.core.project import Project
from signeditor.core.segments import Segment
from signeditor.io import atomic
from signeditor.io.errors import FileFormatError
from signeditor.io.project_file import load_project, project_to_bytes, save_project


def make_project() -> Project:
    rng = np.random.default_rng(0)
    motion = Motion.rest(30)
    motion.features[:, :6] += rng.normal(scale=0.1, size=(30, 6)).astype(np.float32)
    anchors = AnchorSet([Anchor(0, motion.features[0], label="HAUS onset"),
                         Anchor(12, motion.features[12], streams=frozenset({"right_hand"}))])
    return Project(motion, anchors, [Segment(0, 20, "HAUS", 0.9)], text="Haus", spoken_language="de",
                   signed_language="gsg", model_versions={"kf2p": "1"})


def test_round_trip_keeps_everything(tmp_path: Path) -> None:
    project = make_project()
    path = tmp_path / "p.signproj"
    save_project(project, path)
    loaded = load_project(path)
    np.testing.assert_array_equal(loaded.motion.features, project.motion.features)
    assert loaded.anchors.frames == [0, 12]
    assert [a.streams for a in loaded.anchors] == [a.streams for a in project.anchors]
    np.testing.assert_array_equal(loaded.anchors[1].pose, project.anchors[1].pose)
    assert loaded.segments == project.segments
    assert (loaded.text, loaded.signed_language, loaded.model_versions) == ("Haus", "gsg", {"kf2p": "1"})


@pytest.mark.parametrize("cut", [0, 10, 100, -20])
def test_truncated_file_gives_named_error(tmp_path: Path, cut: int) -> None:
    data = project_to_bytes(make_project())
    path = tmp_path / "broken.signproj"
    path.write_bytes(data[:cut])
    with pytest.raises(FileFormatError, match=r"broken\.signproj"):
        load_project(path)


def test_newer_format_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "future.signproj"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("project.json", '{"format": "signeditor-project", "format_version": 99}')
        zf.writestr("arrays.npz", b"")
    with pytest.raises(FileFormatError, match="newer"):
        load_project(path)


def test_pickled_arrays_are_refused(tmp_path: Path) -> None:
    import io
    buf = io.BytesIO()
    np.savez(buf, features=np.array([object()], dtype=object))
    path = tmp_path / "evil.signproj"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("project.json", '{"format": "signeditor-project", "format_version": 1, "fps": 25}')
        zf.writestr("arrays.npz", buf.getvalue())
    with pytest.raises(FileFormatError, match=r"evil\.signproj"):
        load_project(path)


def test_interrupted_save_leaves_old_file_intact(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "keep.signproj"
    save_project(make_project(), path)
    before = path.read_bytes()

    class Boom(Exception):
        pass

    real_fsync = atomic.os.fsync

    def failing_fsync(fd: int) -> None:
        raise Boom("disk full")

    monkeypatch.setattr(atomic.os, "fsync", failing_fsync)
    with pytest.raises(Boom):
        save_project(Project(Motion.rest(5)), path)
    monkeypatch.setattr(atomic.os, "fsync", real_fsync)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["keep.signproj"]


def test_a_recording_and_its_links_to_the_anchors_survive_a_save(tmp_path: Path) -> None:
    from conftest import recorded_project

    from signeditor.core.recording import edit_recording, recorded_frames

    project = recorded_project()
    middle = next(a for a in project.anchors if a.label == "HAUS middle")
    project.anchors = project.anchors.replaced(middle.moved_to(middle.frame + 5))
    project.recording = project.recording.with_captured(60, 70, False)
    path = tmp_path / "recorded.signproj"
    save_project(project, path)
    loaded = load_project(path)
    np.testing.assert_array_equal(loaded.recording.take.features, project.recording.take.features)
    np.testing.assert_array_equal(loaded.recording.captured, project.recording.captured)
    np.testing.assert_array_equal(edit_recording(loaded.recording, loaded.anchors).features,
                                  edit_recording(project.recording, project.anchors).features)
    with zipfile.ZipFile(path) as zf, zf.open("arrays.npz") as member:
        flags = np.load(member, allow_pickle=False)["frame_recorded"]
    np.testing.assert_array_equal(flags, recorded_frames(project.recording, project.anchors))
    assert not flags.all() and flags[:50].all()


def test_a_version_1_project_opens_as_generated_motion() -> None:
    sample = Path(__file__).resolve().parents[1] / "resources" / "samples" / "sample.signproj"
    with zipfile.ZipFile(sample) as zf:
        assert '"format_version": 1' in zf.read("project.json").decode()
    assert load_project(sample).recording is None


def _with_json(data: bytes, change) -> bytes:
    """The project's bytes with project.json changed by ``change(meta)`` (a file edited or damaged elsewhere)."""
    import io
    import json

    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            member = src.read(info.filename)
            if info.filename == "project.json":
                meta = json.loads(member)
                change(meta)
                member = json.dumps(meta).encode()
            dst.writestr(info, member)
    return out.getvalue()


@pytest.mark.parametrize(("frame", "sign_end", "refused"), [
    (29, 30, None),  # the clip's last frame and a sign ending with the clip: fine
    (30, 30, "anchor at frame 30 lies outside the clip's 30 frames"),
    (-1, 30, "anchor at frame -1 lies outside"),
    (29, 31, r"sign 0\.\.31 lies outside the clip's 30 frames"),
])
def test_anchors_and_signs_past_the_clips_end_are_refused_by_name(tmp_path: Path, frame: int, sign_end: int,
                                                                  refused: str | None) -> None:
    """A 30-frame clip: frames 0-29 exist. An anchor on frame 30 (one past the end) or a sign ending at 31 is a
    damaged file: refused with the file's name and the reason, never opened with an anchor nobody can reach."""
    def change(meta: dict) -> None:
        meta["anchors"][1]["frame"] = frame
        meta["segments"][0]["end"] = sign_end

    path = tmp_path / "edited.signproj"
    path.write_bytes(_with_json(project_to_bytes(make_project()), change))
    if refused is None:
        assert load_project(path).anchors.frames == [0, 29]
        return
    with pytest.raises(FileFormatError, match=rf"edited\.signproj.*{refused}"):
        load_project(path)
