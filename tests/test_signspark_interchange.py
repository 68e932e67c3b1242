"""SignSparK interchange: their loader derives our keyframes; one open path for the CLI and the editor; LMDB.

SignSparK's loader (``signspark/pose_datasets_lmdb.py``) picks keyframes in one of two ways, described here from
its documented behaviour: mode 3 splits the per-frame labels into runs of non-zero frames and keeps each run's
first, middle and last frame; mode 999 reads ``torch.load(custom_keyframe_file)[split][clip_id]``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from signeditor.app_services import export_document, open_document
from signeditor.cli import main
from signeditor.core.anchors import AnchorSet
from signeditor.core.keyframes import anchors_from_segments
from signeditor.core.project import Project
from signeditor.core.segments import Segment
from signeditor.io.formats import open_project
from signeditor.io.project_file import load_project
from signeditor.io.signspark import read_signspark_lmdb, read_signspark_record

SAMPLE = Path(__file__).resolve().parents[1] / "resources" / "samples" / "sample.signproj"


def runs_of_signing(labels: np.ndarray) -> list[tuple[int, int]]:
    """Mode 3's segment bounds: maximal runs of non-zero labels, (first, last) inclusive."""
    signing = np.concatenate([[False], np.asarray(labels) != 0, [False]])
    edges = np.flatnonzero(np.diff(signing.astype(int)))
    return [(int(a), int(b) - 1) for a, b in zip(edges[0::2], edges[1::2], strict=True)]


def mode3_keyframes(labels: np.ndarray) -> list[int]:
    return sorted({f for a, b in runs_of_signing(labels) for f in (a, (a + b) // 2, b)})


def mode999_keyframes(keyframe_file: Path, split: str, clip_id: str) -> list[int]:
    return sorted(set(torch.load(keyframe_file, weights_only=True)[split][clip_id]))


def back_to_back_project() -> Project:
    """Four signs, the middle two with no rest frame between them (a sign start right after in-sign frames)."""
    motion = load_project(SAMPLE).motion
    segments = [Segment(5, 15, "A"), Segment(20, 30, "B"), Segment(30, 41, "C"), Segment(50, 60, "D")]
    return Project(motion, anchors_from_segments(motion, segments), segments=segments, signed_language="gsg",
                   text="A B C D")


@pytest.mark.parametrize("suffix", [".signspark.npz", ".lmdb"])
def test_signspark_loader_derives_our_keyframes_for_back_to_back_signs(tmp_path: Path, suffix: str) -> None:
    project = back_to_back_project()
    ours = project.anchors.frames
    assert len(ours) == 12
    path = export_document(project, tmp_path / f"sentence{suffix}")
    record = read_signspark_record(path) if suffix != ".lmdb" else read_signspark_lmdb(path)[0]
    # Labels alone cannot say where B ends and C begins (that is why the keyframe file exists) ...
    assert len(mode3_keyframes(record.segment)) == 9
    # ... but the labels keep the sign starts (2) for readers that honour them, and the keyframe file beside the
    # export gives their mode 999 exactly our anchors, whatever split folder the clip is put in.
    assert np.flatnonzero(record.segment == 2).tolist() == [5, 20, 30, 50]
    keyframe_file = tmp_path / "sentence.keyframes.pt"
    for split in ("train", "dev", "test"):
        assert mode999_keyframes(keyframe_file, split, "sentence") == ours


def test_keyframe_file_follows_edited_anchors(tmp_path: Path) -> None:
    project = back_to_back_project()
    moved = project.anchors[3].moved_to(22)
    project.anchors = project.anchors.replaced(moved)
    export_document(project, tmp_path / "take.signspark.npz")
    assert 22 in mode999_keyframes(tmp_path / "take.keyframes.pt", "train", "take")


class FakeSegmenter:
    """Stands in for FAST: two known signs, so the test knows what the open must produce."""

    calls = 0

    def segment(self, motion: object) -> list[Segment]:
        FakeSegmenter.calls += 1
        return [Segment(2, 7, confidence=0.9), Segment(7, 12, confidence=0.8)]


def test_cli_export_of_a_pose_runs_fast_like_the_editor(make_pose_file, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """`export X.pose -f signspark` opens the file the editor's way: FAST's signs become labels and anchors."""
    from signeditor.gui import main_window

    assert main_window.load_document_file is open_document  # one open path for both
    monkeypatch.setattr("signeditor.ml.fast.api.load_segmenter", lambda *a, **k: FakeSegmenter())
    pose_path, _ = make_pose_file("take.pose", n_frames=16)
    out = tmp_path / "out"
    assert main(["export", str(pose_path), "-f", "signspark", "-o", str(out), "--signed-language", "gsg"]) == 0
    record = read_signspark_record(out / "take.signspark.npz")
    assert record.segment.tolist() == [0, 0, 2, 1, 1, 1, 1, 2, 1, 1, 1, 1, 0, 0, 0, 0]
    assert record.language == "gsg"
    assert mode999_keyframes(out / "take.keyframes.pt", "train", "take") == [2, 4, 6, 7, 9, 11]


def test_open_document_reports_progress_and_can_be_cancelled(make_pose_file,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from signeditor.app_services import OpenCancelled

    monkeypatch.setattr("signeditor.ml.fast.api.load_segmenter", lambda *a, **k: FakeSegmenter())
    pose_path, _ = make_pose_file("take.pose", n_frames=16)
    stages: list[tuple[str, float]] = []
    project = open_document(pose_path, progress=lambda stage, fraction: stages.append((stage, fraction)))
    assert next(s for s, _ in stages) == "reading" and stages[-1] == ("done", 1.0)
    assert any("FAST" in s for s, _ in stages) and len(project.anchors) == 6
    FakeSegmenter.calls = 0
    before = len(stages)
    with pytest.raises(OpenCancelled):  # Cancel pressed while the file is being read
        open_document(pose_path, should_stop=lambda: len(stages) > before,
                      progress=lambda stage, fraction: stages.append((stage, fraction)))
    assert FakeSegmenter.calls == 0, "cancelled before FAST ran"


def test_lmdb_export_then_open_in_cli_and_editor(tmp_path: Path, make_window, qtbot) -> None:
    source = load_project(SAMPLE)
    assert main(["export", str(SAMPLE), "-f", "lmdb", "-o", str(tmp_path / "db")]) == 0
    database = tmp_path / "db" / "sample.lmdb"
    records = read_signspark_lmdb(database)
    assert [r.clip_id for r in records] == ["sample"]
    np.testing.assert_allclose(records[0].motion.features, source.motion.features, atol=1e-6)
    assert not list((tmp_path / "db").glob(".sample.lmdb.*")), "no staging folder left behind"
    # The CLI opens the database (every clip) ...
    assert main(["export", str(database), "-f", "bvh", "-o", str(tmp_path / "bvh")]) == 0
    assert (tmp_path / "bvh" / "sample.bvh").exists()
    # ... and so does the editor, with the signs and text of the record.
    reopened = open_project(database)
    assert [s.gloss for s in reopened.segments] == [s.gloss for s in source.segments]
    win = make_window()
    assert win.open_file(database)
    assert win.document.n_frames == source.motion.n_frames
    assert isinstance(win.document.project.anchors, AnchorSet) and len(win.document.project.anchors) > 0


def test_open_lmdb_names_a_missing_clip(tmp_path: Path) -> None:
    from signeditor.io.errors import FileFormatError

    export_document(load_project(SAMPLE), tmp_path / "one.lmdb")
    with pytest.raises(FileFormatError, match="no clip 'other'"):
        open_project(tmp_path / "one.lmdb", clip="other")


@pytest.mark.shared_data
def test_continuous_sentence_keeps_every_keyframe(shared_signdata: Path, tmp_path: Path) -> None:
    """On a real continuous sentence (8 signs, 24 anchors; labels alone give their mode 3 only 15 keyframes
    with the shipped FAST) the keyframe file holds every anchor."""
    clip = shared_signdata / "dgs_sentences" / "train_11_original.pose"
    project = open_document(clip)
    export_document(project, tmp_path / "train_11.lmdb")
    ours = project.anchors.frames
    assert len(ours) == 3 * len(project.segments)
    assert mode999_keyframes(tmp_path / "train_11.keyframes.pt", "test", "train_11") == ours


def test_reopened_keyframes_are_labelled_by_the_sign_they_lie_in(tmp_path: Path) -> None:
    """Back-to-back signs HAUS [0, 10), BAUM [10, 20), GEHEN [20, 30) exported with their onset and offset anchors
    and opened again: the anchor on frame 10 is BAUM's onset (not HAUS's, whose span ends before it), and each
    anchor carries the gloss of the sign it lies in."""
    motion = load_project(SAMPLE).motion
    assert motion.n_frames >= 30
    segments = [Segment(0, 10, "HAUS"), Segment(10, 20, "BAUM"), Segment(20, 30, "GEHEN")]
    anchors = anchors_from_segments(motion, segments, "onset_offset")
    export_document(Project(motion, anchors, segments), tmp_path / "take.signspark.npz")
    reopened = open_document(tmp_path / "take.signspark.npz")
    assert [(a.frame, a.label) for a in reopened.anchors] == [
        (0, "HAUS"), (9, "HAUS"), (10, "BAUM"), (19, "BAUM"), (20, "GEHEN"), (29, "GEHEN")]
