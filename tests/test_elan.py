"""ELAN export and import against pympi, an independent reader of the format, over random sign layouts."""

from __future__ import annotations

import tempfile
from fractions import Fraction
from pathlib import Path

import pympi
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from signeditor.core.segments import REVIEW_STATUSES, Segment
from signeditor.io.elan import (
    COMMENTS_TIER,
    GLOSS_TIER,
    NONMANUAL_TIER,
    SIGN_TIER,
    STATUS_TIER,
    merge_elan_review,
    read_elan,
    read_gloss_sequence,
    write_elan,
)
from signeditor.io.errors import FileFormatError

FRAME_RATES = (24.0, 25.0, 29.97, 30.0, 50.0, 59.94, 60.0)


def _ms(frame: int, fps: float) -> int:
    """A frame's start time in whole milliseconds, the nearest one (exact arithmetic; no ties at these rates)."""
    return round(Fraction(frame) * 1000 / Fraction(fps))


@st.composite
def sign_layouts(draw: st.DrawFn) -> list[Segment]:
    """Signs back to back or apart (one frame long too), some glossed, with review states, in any order."""
    signs, frame = [], draw(st.integers(0, 3))
    for _ in range(draw(st.integers(0, 6))):
        frame += draw(st.sampled_from([0, 0, 1, 4]))
        length = draw(st.integers(1, 8))
        gloss = draw(st.sampled_from(["", "HAUS", "ICH", "GEHEN", "ÜBER-MORGEN"]))
        comments = draw(st.lists(st.sampled_from(["zu schnell", "check the hand", "ok?"]), max_size=2))
        signs.append(Segment(frame, frame + length, gloss, status=draw(st.sampled_from(REVIEW_STATUSES)),
                             comments=tuple(comments)))
        frame += length
    return draw(st.permutations(signs))


@settings(max_examples=40, deadline=None, derandomize=True)
@example([Segment(0, 4, "ICH"), Segment(4, 6, "HAUS")], 25.0, 2, [], None, 0.0)  # a sign starting on the clip's end
@example([Segment(k, k + 1, status=status) for k, status in enumerate(REVIEW_STATUSES[::-1])], 30.0, None, [],
         None, 0.0)  # one-frame signs back to back at 30 fps: 33 ms is frame 1
@given(sign_layouts(), st.sampled_from(FRAME_RATES), st.one_of(st.none(), st.integers(0, 6)),
       st.lists(st.tuples(st.integers(0, 30), st.integers(2, 10), st.sampled_from(["topic", "negation"])),
                max_size=2),
       st.sampled_from([None, "clip.mp4", "Clip.MOV", "take.mkv", "take.webm", "avchd.mts"]),
       st.sampled_from([0.0, 1.25]))
def test_every_sign_lands_on_its_frames_in_elan_and_back(
        signs: list[Segment], fps: float, cut: int | None, spans: list[tuple[int, int, str]],
        media: str | None, offset: float) -> None:
    """A user exports signs to ELAN, reviews there and reads the file back. Read with pympi: the Sign tier holds
    each sign starting before the clip's end (cut at it) on its frames' start times (nearest millisecond), named
    by its gloss or SIGN<n> by its place in time; the Gloss tier (only when some sign has a gloss) the glossed
    ones; Status and Comments each sign's review; the Non-manual tier each span; the media and its time origin
    are linked; no stray "default" tier. Read back by the editor: the same signs on the same frames at every
    frame rate (back-to-back signs stay back to back), the glosses in time order, the review merged onto signs
    that lost theirs. A phone's .mov, a .mkv, .webm or .mts reference video is linked as a video."""
    last = max((s.end for s in signs), default=1)
    n_frames = None if cut is None else max(last - cut, 1)  # the clip ends inside, on or after the last signs
    clip_end = 10**6 if n_frames is None else n_frames
    kept = sorted((s.with_bounds(s.start, min(s.end, clip_end)) for s in signs if s.start < clip_end),
                  key=lambda s: s.start)
    names = [s.gloss or f"SIGN{i + 1}" for i, s in enumerate(kept)]
    nonmanual = [(a, a + length, label) for a, length, label in spans]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "signs.eaf"
        write_elan(signs, fps, path, n_frames, media=media, media_offset_s=offset, nonmanual=nonmanual)
        eaf = pympi.Elan.Eaf(str(path))

        def tier(name: str) -> list[tuple[int, int, str]]:
            return sorted((a[0], a[1], a[2]) for a in eaf.get_annotation_data_for_tier(name))

        glossed = [s for s in kept if s.gloss]
        expected_tiers = {SIGN_TIER, STATUS_TIER, COMMENTS_TIER} | ({GLOSS_TIER} if glossed else set()) \
            | ({NONMANUAL_TIER} if nonmanual else set())
        assert set(eaf.get_tier_names()) == expected_tiers
        times = [(_ms(s.start, fps), _ms(s.end, fps)) for s in kept]
        assert tier(SIGN_TIER) == sorted((a, b, name) for (a, b), name in zip(times, names, strict=True))
        if glossed:
            assert tier(GLOSS_TIER) == sorted((a, b, s.gloss) for (a, b), s in zip(times, kept, strict=True)
                                              if s.gloss)
        assert tier(STATUS_TIER) == sorted((a, b, s.status) for (a, b), s in zip(times, kept, strict=True))
        assert tier(COMMENTS_TIER) == sorted((a, b, "\n".join(s.comments))
                                             for (a, b), s in zip(times, kept, strict=True) if s.comments)
        if nonmanual:
            assert tier(NONMANUAL_TIER) == sorted((_ms(a, fps), _ms(b, fps), label) for a, b, label in nonmanual)
        linked = eaf.media_descriptors
        assert [d["MEDIA_URL"].rsplit("/", 1)[-1] for d in linked] == ([media] if media else [])
        if media:
            assert linked[0]["MIME_TYPE"].startswith("video/"), "ELAN opens it as a video whatever its suffix"
            assert linked[0].get("TIME_ORIGIN") == (str(round(offset * 1000)) if offset else None)

        back = read_elan(path, fps)
        assert [(s.start, s.end, s.gloss) for s in back] == [(s.start, s.end, n) for s, n in zip(kept, names,
                                                                                                strict=True)]
        if glossed:
            assert read_gloss_sequence(path) == [s.gloss for s in glossed]
        else:
            with pytest.raises(FileFormatError, match="no gloss tier"):
                read_gloss_sequence(path)
        plain = [Segment(s.start, s.end, s.gloss) for s in kept]
        merged, notes = merge_elan_review(plain, path, fps)
        assert notes == []
        assert [(s.status, s.comments) for s in merged] == [(s.status, s.comments) for s in kept]


def test_unreadable_elan_files_are_refused_naming_the_file(tmp_path: Path) -> None:
    """A missing file, one that is no ELAN XML, and one without the asked-for tier: each a FileFormatError that
    names the file and says what is wrong (for the tier, which tiers there are)."""
    junk = tmp_path / "junk.eaf"
    junk.write_text("<ANNOTATION_DOCUMENT><unclosed>", encoding="utf-8")
    plain = tmp_path / "plain.eaf"
    write_elan([Segment(0, 5, "ICH")], 25.0, plain)
    for path, tier, message in ((tmp_path / "gone.eaf", SIGN_TIER, "gone.eaf.*file not found"),
                                (junk, SIGN_TIER, "junk.eaf.*not a readable ELAN file"),
                                (plain, "Hand", "plain.eaf.*no tier 'Hand'.*'Sign'")):
        with pytest.raises(FileFormatError, match=message):
            read_elan(path, 25.0, tier)
    assert read_elan(plain, 25.0) == [Segment(0, 5, "ICH")]


def _hand_made(path: Path, tiers: dict[str, list[tuple[int, int, str]]]) -> Path:
    """An ELAN file as another tool writes it (pympi), annotations added in the order given."""
    eaf = pympi.Elan.Eaf(author="another tool")
    for name, rows in tiers.items():
        eaf.add_tier(name)
        for start, end, value in rows:
            eaf.add_annotation(name, start, end, value)
    eaf.to_file(str(path))
    return path


def test_hand_made_files_read_in_time_order_skip_blank_glosses_and_match_a_nudged_review(tmp_path: Path) -> None:
    """Annotators' files: annotations entered out of time order are read in time order; a blank gloss annotation is
    no gloss; a status nudged so that it covers exactly half of a sign (frames 5-15 over the sign 0-10 at 25 fps)
    still reviews that sign, one covering less than half (frames 6-16) reviews none and says so."""
    path = _hand_made(tmp_path / "hand.eaf", {"Sign": [(400, 800, "HAUS"), (0, 400, "ICH")],
                                              "Gloss": [(400, 800, "HAUS"), (800, 900, "  "), (0, 400, "ICH")]})
    assert read_elan(path, 25.0) == [Segment(0, 10, "ICH"), Segment(10, 20, "HAUS")]
    assert read_gloss_sequence(path) == ["ICH", "HAUS"]
    signs = [Segment(0, 10, "ICH"), Segment(20, 30, "HAUS")]
    half = _hand_made(tmp_path / "half.eaf", {"Status": [(200, 600, "approved")]})
    merged, notes = merge_elan_review(signs, half, 25.0)
    assert [s.status for s in merged] == ["approved", "draft"] and notes == []
    less = _hand_made(tmp_path / "less.eaf", {"Status": [(240, 640, "approved")]})
    merged, notes = merge_elan_review(signs, less, 25.0)
    assert [s.status for s in merged] == ["draft", "draft"] and len(notes) == 1 and "matches no sign" in notes[0]
