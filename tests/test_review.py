"""Review sign by sign: status and comments saved in the project, and the ELAN round trip (pympi reads it back)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pympi
import pytest

from signeditor.core.motion import Motion
from signeditor.core.project import Project, ReferenceVideo
from signeditor.core.segments import APPROVED, DRAFT, NEEDS_WORK, Segment, parse_review_status
from signeditor.io.elan import COMMENTS_TIER, STATUS_TIER, merge_elan_review, read_elan
from signeditor.io.errors import FileFormatError
from signeditor.io.formats import export_project
from signeditor.io.project_file import load_project, save_project


def reviewed_project() -> Project:
    segments = [Segment(5, 20, "HAUS", status=APPROVED), Segment(25, 40, "KIND", status=NEEDS_WORK,
                                                                  comments=("handshape too open", "faster")),
                Segment(45, 60, "ESSEN")]
    return Project(Motion.rest(75), segments=segments,
                   reference_video=ReferenceVideo("/videos/take 1.mp4", 0.4, "/videos/take 1.pose"))


def test_status_spellings() -> None:
    assert parse_review_status(" Needs_Work ") == NEEDS_WORK and parse_review_status("APPROVED") == APPROVED
    assert parse_review_status("done") is None
    with pytest.raises(ValueError, match="unknown review status"):
        Segment(0, 3, status="done")
    moved = Segment(0, 3, status=APPROVED, comments=("ok",)).with_bounds(1, 5)
    assert (moved.status, moved.comments) == (APPROVED, ("ok",))


def test_project_keeps_review_and_reference_video(tmp_path: Path) -> None:
    save_project(reviewed_project(), tmp_path / "p.signproj")
    loaded = load_project(tmp_path / "p.signproj")
    assert [(s.status, s.comments) for s in loaded.segments] == [
        (APPROVED, ()), (NEEDS_WORK, ("handshape too open", "faster")), (DRAFT, ())]
    assert loaded.reference_video == ReferenceVideo("/videos/take 1.mp4", 0.4, "/videos/take 1.pose")
    with zipfile.ZipFile(tmp_path / "p.signproj") as zf:  # the path only: the video is never copied in
        assert zf.namelist() == ["project.json", "arrays.npz"]


def test_bad_review_fields_are_named_errors(tmp_path: Path) -> None:
    save_project(reviewed_project(), tmp_path / "p.signproj")
    with zipfile.ZipFile(tmp_path / "p.signproj") as zf:
        meta, arrays = zf.read("project.json").decode(), zf.read("arrays.npz")
    for bad in (meta.replace('"needs work"', '"sort of"'), meta.replace('"offset_s": 0.4', '"offset_s": NaN')):
        with zipfile.ZipFile(tmp_path / "bad.signproj", "w") as zf:
            zf.writestr("project.json", bad)
            zf.writestr("arrays.npz", arrays)
        with pytest.raises(FileFormatError, match=r"bad\.signproj.*inconsistent"):
            load_project(tmp_path / "bad.signproj")


def test_elan_export_writes_sign_status_and_comment_tiers(tmp_path: Path) -> None:
    path = export_project(reviewed_project(), tmp_path / "review.eaf")
    eaf = pympi.Elan.Eaf(str(path))
    status = sorted(eaf.get_annotation_data_for_tier(STATUS_TIER))
    assert [(a[0], a[1], a[2]) for a in status] == [(200, 800, APPROVED), (1000, 1600, NEEDS_WORK),
                                                    (1800, 2400, DRAFT)]
    comments = eaf.get_annotation_data_for_tier(COMMENTS_TIER)
    assert [(a[0], a[2]) for a in comments] == [(1000, "handshape too open\nfaster")]
    media = eaf.media_descriptors[0]
    assert media["MEDIA_URL"].endswith("take%201.mp4") or media["MEDIA_URL"].endswith("take 1.mp4")
    assert int(media["TIME_ORIGIN"]) == 400
    assert [s.gloss for s in read_elan(path, 25.0)] == ["HAUS", "KIND", "ESSEN"]


def test_reviewer_edits_in_elan_merge_back(tmp_path: Path) -> None:
    project = reviewed_project()
    path = export_project(project, tmp_path / "review.eaf")
    eaf = pympi.Elan.Eaf(str(path))  # the reviewer, in ELAN: approves KIND, comments on ESSEN, nudges its span
    eaf.remove_annotation(STATUS_TIER, 1200)
    eaf.add_annotation(STATUS_TIER, 1000, 1600, "Approved")
    eaf.remove_annotation(STATUS_TIER, 2000)
    eaf.add_annotation(STATUS_TIER, 1760, 2440, "needs work")
    eaf.add_annotation(COMMENTS_TIER, 1760, 2440, "mouthing missing")
    eaf.add_annotation(STATUS_TIER, 2600, 2900, "approved")  # over no sign
    eaf.to_file(str(path))
    merged, notes = merge_elan_review(project.segments, path, 25.0)
    assert [(s.gloss, s.status, s.comments) for s in merged] == [
        ("HAUS", APPROVED, ()), ("KIND", APPROVED, ("handshape too open", "faster")),
        ("ESSEN", NEEDS_WORK, ("mouthing missing",))]
    assert [(s.start, s.end) for s in merged] == [(s.start, s.end) for s in project.segments]
    assert len(notes) == 1 and "matches no sign" in notes[0]


def test_merge_refuses_files_without_review_tiers(tmp_path: Path) -> None:
    from signeditor.io.elan import write_elan

    eaf = pympi.Elan.Eaf(author="someone")
    eaf.add_tier("Gloss")
    eaf.to_file(str(tmp_path / "plain.eaf"))
    with pytest.raises(FileFormatError, match=r"plain\.eaf.*no 'Status' or 'Comments' tier"):
        merge_elan_review([Segment(0, 5)], tmp_path / "plain.eaf", 25.0)
    (tmp_path / "junk.eaf").write_text("<not elan")
    with pytest.raises(FileFormatError, match="not a readable ELAN file"):
        merge_elan_review([Segment(0, 5)], tmp_path / "junk.eaf", 25.0)
    write_elan([Segment(0, 5)], 25.0, tmp_path / "ok.eaf")
    assert merge_elan_review([Segment(0, 5)], tmp_path / "ok.eaf", 25.0) == ([Segment(0, 5)], [])
