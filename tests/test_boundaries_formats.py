"""Boundary cases of the file formats and metrics that a second round of planted bugs got past.

Each expectation is computed by hand or read back with the tool its users use (pympi for ELAN), never with the
code under test.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from signeditor.core.segmentation_metrics import match_segments
from signeditor.core.segments import Segment
from signeditor.io.elan import write_elan
from signeditor.io.lexicon import lexicon_from_bytes
from signeditor.io.safe_pickle import UnsafePickleError, loads_string_array


def test_a_match_needs_an_iou_of_at_least_one_half() -> None:
    """IoU by hand: (0,10) vs (0,21) is 10/21 = 0.476 (no match); (0,10) vs (0,20) is exactly 0.5 (a match)."""
    assert match_segments([Segment(0, 10)], [Segment(0, 21)]) == 0
    assert match_segments([Segment(0, 10)], [Segment(0, 20)]) == 1


def test_elan_times_are_rounded_to_the_nearest_millisecond(tmp_path: Path) -> None:
    """Frames 2 and 5 at 30 fps are 66.67 ms and 166.67 ms: pympi reads 67 and 167 back."""
    import pympi

    path = tmp_path / "signs.eaf"
    write_elan([Segment(2, 5, "HOUSE")], 30.0, path, 10)
    eaf = pympi.Elan.Eaf(str(path))
    assert [(start, end, value) for start, end, value, *_ in eaf.get_annotation_data_for_tier("Sign")] == [
        (67, 167, "HOUSE")]


def test_the_lowest_priority_entry_wins(tmp_path: Path) -> None:
    """Two clips for one word: the row with priority 0 is the sign used, whichever order the rows come in."""
    header = "path,spoken_language,signed_language,start,end,words,glosses,priority\n"
    rows = ["second.pose,de,gsg,0,0,Haus,HAUS2,1\n", "first.pose,de,gsg,0,0,Haus,HAUS1,0\n"]
    for order in (rows, rows[::-1]):
        lexicon = lexicon_from_bytes((header + "".join(order)).encode(), tmp_path)
        assert lexicon.lookup("haus", "de", "gsg").glosses == "HAUS1"


@pytest.mark.parametrize("intruder", [1, 2.5, None, b"bytes", ["a"]])
def test_a_string_array_holding_anything_but_strings_is_refused(intruder: object) -> None:
    """Object arrays of strings (SignSparK's text fields) are read; one element of another type refuses the whole
    array with the reason, so no non-string value reaches the record."""
    assert list(loads_string_array(pickle.dumps(np.array(["hallo", "welt"], dtype=object)))) == ["hallo", "welt"]
    mixed = np.empty(2, dtype=object)
    mixed[0], mixed[1] = "hallo", intruder
    with pytest.raises(UnsafePickleError, match="only strings"):
        loads_string_array(pickle.dumps(mixed))


def _eaf(tiers: dict[str, list[tuple[int | None, int | None, str]]]) -> str:
    """An ELAN 3.0 document written by hand (as other tools write them): each tier's annotations as (start ms,
    end ms, value), None for a time slot ELAN left unaligned. pympi refuses to make zero-length or untimed
    annotations itself, so they are spelled out here."""
    slots, annotations = [], {}
    for tier, rows in tiers.items():
        annotations[tier] = []
        for start, end, value in rows:
            refs = []
            for ms in (start, end):
                slot = f"ts{len(slots) + 1}"
                slots.append(f'<TIME_SLOT TIME_SLOT_ID="{slot}"' + ("" if ms is None else f' TIME_VALUE="{ms}"') + "/>")
                refs.append(slot)
            annotations[tier].append(
                f'<ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="a{len(slots) // 2}" TIME_SLOT_REF1="{refs[0]}" '
                f'TIME_SLOT_REF2="{refs[1]}"><ANNOTATION_VALUE>{value}</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION>'
                "</ANNOTATION>")
    body = "".join(f'<TIER LINGUISTIC_TYPE_REF="default-lt" TIER_ID="{tier}">{"".join(rows)}</TIER>'
                   for tier, rows in annotations.items())
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<ANNOTATION_DOCUMENT AUTHOR="" DATE="2024-01-01T00:00:00+00:00" '
            'FORMAT="3.0" VERSION="3.0" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xsi:noNamespaceSchemaLocation="http://www.mpi.nl/tools/elan/EAFv3.0.xsd">'
            '<HEADER MEDIA_FILE="" TIME_UNITS="milliseconds"/>'
            f'<TIME_ORDER>{"".join(slots)}</TIME_ORDER>{body}'
            '<LINGUISTIC_TYPE GRAPHIC_REFERENCES="false" LINGUISTIC_TYPE_ID="default-lt" TIME_ALIGNABLE="true"/>'
            "</ANNOTATION_DOCUMENT>\n")


def test_a_zero_length_annotation_is_the_one_frame_it_marks(tmp_path: Path) -> None:
    """A point annotation (start = end, as other tools and converted point tiers leave them) marks a sign at one
    moment: a translator expects that sign on the frame holding the moment, in its place among the others, never
    an empty or a dropped sign. At 25 fps, 400 ms is frame 10; 410 ms is still frame 10; 800-1000 ms is 20-25."""
    from signeditor.io.elan import read_elan, read_gloss_sequence

    path = tmp_path / "points.eaf"
    rows = [(800, 1000, "HAUS"), (400, 400, "ICH"), (1410, 1410, "FERTIG")]
    path.write_text(_eaf({"Sign": rows, "Gloss": rows}), encoding="utf-8")
    assert read_elan(path, 25.0) == [Segment(10, 11, "ICH"), Segment(20, 25, "HAUS"), Segment(35, 36, "FERTIG")]
    assert read_gloss_sequence(path) == ["ICH", "HAUS", "FERTIG"]


def test_an_annotation_without_a_time_is_refused_naming_the_file_and_the_annotation(tmp_path: Path) -> None:
    """An annotation on an unaligned time slot has no place on the clip: reading signs or glosses from it stops
    with an error that names the file and the annotation (not a TypeError from deep inside)."""
    from signeditor.io.elan import read_elan, read_gloss_sequence
    from signeditor.io.errors import FileFormatError

    path = tmp_path / "unaligned.eaf"
    rows = [(0, 400, "ICH"), (400, None, "HAUS")]
    path.write_text(_eaf({"Sign": rows, "Gloss": rows}), encoding="utf-8")
    for read in (lambda: read_elan(path, 25.0), lambda: read_gloss_sequence(path)):
        with pytest.raises(FileFormatError, match=r"unaligned\.eaf.*'HAUS'.*no time"):
            read()


def test_a_review_keeps_what_is_timed_and_a_point_status_marks_the_sign_it_falls_in(tmp_path: Path) -> None:
    """A reviewer's point annotation "approved" at 600 ms (frame 15) falls inside the second sign (frames 10-20):
    that sign is approved. A status on an unaligned slot cannot be placed: it is reported, the rest still merged."""
    from signeditor.io.elan import merge_elan_review

    path = tmp_path / "review.eaf"
    path.write_text(_eaf({"Status": [(600, 600, "approved"), (0, None, "needs work")]}), encoding="utf-8")
    signs = [Segment(0, 10, "ICH"), Segment(10, 20, "HAUS"), Segment(20, 30, "GEHEN")]
    merged, notes = merge_elan_review(signs, path, 25.0)
    assert [s.status for s in merged] == ["draft", "approved", "draft"]
    assert len(notes) == 1 and "no time" in notes[0]


@pytest.mark.parametrize("tier", ["GLOSS_DGS", "Glosse rechts", "gloss"])
def test_the_gloss_tier_is_found_whatever_its_names_case(tier: str, tmp_path: Path) -> None:
    """Annotators spell the gloss tier many ways ("GLOSS_DGS", "Glosse rechts"): without a tier named exactly
    "Gloss", the first tier whose name holds "gloss" in any case gives the sequence, in time order."""
    from signeditor.io.elan import read_gloss_sequence

    path = tmp_path / "glosses.eaf"
    path.write_text(_eaf({"Translation": [(0, 900, "Ich gehe nach Hause")],
                          tier: [(500, 900, "HAUS"), (0, 400, "ICH")]}), encoding="utf-8")
    assert read_gloss_sequence(path) == ["ICH", "HAUS"]


def test_at_equal_priority_the_entry_spelled_as_typed_wins(tmp_path: Path) -> None:
    """German capitalises nouns: "Essen" (the meal) and "essen" (to eat) are one term when matched but two signs.
    At equal priority the entry spelled exactly as typed is the sign used, whichever order the rows come in."""
    header = "path,spoken_language,signed_language,start,end,words,glosses,priority\n"
    rows = ["verb.pose,de,gsg,0,0,essen,ESSEN-VERB,0\n", "noun.pose,de,gsg,0,0,Essen,ESSEN-NOUN,0\n"]
    for order in (rows, rows[::-1]):
        lexicon = lexicon_from_bytes((header + "".join(order)).encode(), tmp_path)
        assert lexicon.lookup("Essen", "de", "gsg").glosses == "ESSEN-NOUN"
        assert lexicon.lookup("essen", "de", "gsg").glosses == "ESSEN-VERB"


def test_elan_export_leaves_out_signs_starting_at_the_clips_end_and_cuts_those_running_past(tmp_path: Path) -> None:
    """A 10-frame clip (0.4 s at 25 fps): a sign over frames 5-14 is cut at 400 ms, one starting on frame 10
    (after the last frame) is left out; read back with pympi."""
    import pympi

    path = tmp_path / "clipped.eaf"
    write_elan([Segment(0, 5, "ICH"), Segment(5, 15, "HAUS"), Segment(10, 12, "GEHEN")], 25.0, path, 10)
    annotations = pympi.Elan.Eaf(str(path)).get_annotation_data_for_tier("Sign")
    assert sorted((a[0], a[1], a[2]) for a in annotations) == [(0, 200, "ICH"), (200, 400, "HAUS")]


def test_review_comments_are_read_one_per_non_blank_line_trimmed(tmp_path: Path) -> None:
    """A reviewer's comment typed in ELAN with blank lines and stray spaces: each non-blank line is one comment,
    trimmed; blank lines are no comments."""
    from signeditor.io.elan import merge_elan_review

    path = tmp_path / "comments.eaf"
    path.write_text(_eaf({"Comments": [(0, 400, "too fast\n\n   check the hand  \n ")]}), encoding="utf-8")
    merged, notes = merge_elan_review([Segment(0, 10, "ICH")], path, 25.0)
    assert merged[0].comments == ("too fast", "check the hand") and notes == []


def test_unglossed_signs_are_numbered_in_time_order_whatever_order_they_come_in(tmp_path: Path) -> None:
    """Signs without glosses are named SIGN1, SIGN2, ... by their place in time, also when the list is not sorted
    (signs edited out of order): read back with pympi."""
    import pympi

    path = tmp_path / "numbered.eaf"
    write_elan([Segment(20, 30), Segment(0, 10), Segment(10, 20)], 25.0, path, 30)
    annotations = pympi.Elan.Eaf(str(path)).get_annotation_data_for_tier("Sign")
    assert sorted((a[0], a[2]) for a in annotations) == [(0, "SIGN1"), (400, "SIGN2"), (800, "SIGN3")]


def test_a_pickle_over_64_mib_is_refused_before_it_is_read() -> None:
    """Plain data, but 64 MiB and more (a metadata record is kilobytes): refused by its size, unread, so a
    hostile file cannot make the reader build a huge object; just under the limit is read."""
    from signeditor.io.safe_pickle import loads_plain_data

    huge = pickle.dumps(b"x" * (64 << 20), protocol=4)
    with pytest.raises(UnsafePickleError, match="implausibly large"):
        loads_plain_data(huge)
    assert loads_plain_data(pickle.dumps(b"x" * ((64 << 20) - 100), protocol=4)) == b"x" * ((64 << 20) - 100)


def test_an_annotation_read_back_covers_every_frame_it_touches(tmp_path: Path) -> None:
    """At 25 fps frame k lasts from 40 k to 40 k + 40 ms. An annotation from 430 to 790 ms touches frames 10 (400-440)
    to 19 (760-800): it is read as frames 10-19, start rounded down and end rounded up, never shaved."""
    from signeditor.io.elan import read_elan

    path = tmp_path / "midframe.eaf"
    path.write_text(_eaf({"Sign": [(430, 790, "HAUS"), (1000, 1030, "ICH")]}), encoding="utf-8")
    assert read_elan(path, 25.0) == [Segment(10, 20, "HAUS"), Segment(25, 26, "ICH")]


@pytest.mark.parametrize(("source", "target"), [
    ("take.signspark.npz", "take.bvh"),  # a two-part format suffix goes whole
    ("clip.v2.signproj", "clip.v2.bvh"),  # a dot inside the name stays
    ("take.pose", "take.bvh"),
    (".pose", ".pose.bvh"),  # a name that is only a suffix keeps it: never an output called ".bvh"
])
def test_an_export_is_named_after_the_document_without_its_format_suffix(source: str, target: str) -> None:
    from signeditor.app_services import export_target

    assert export_target(Path(source), Path("out"), "bvh") == Path("out") / target


def test_a_typed_gloss_finds_its_exact_gloss_before_a_corpus_variant(tmp_path: Path) -> None:
    """Glosses HAUS1A^ (a corpus variant, priority 0) and HAUS (priority 1): typing HAUS finds HAUS itself, typing
    HAUS1A^ finds the variant: a gloss's base form is only the fallback when no entry has the gloss itself."""
    header = "path,spoken_language,signed_language,start,end,words,glosses,priority\n"
    rows = "variant.pose,de,gsg,0,0,Haus,HAUS1A^,0\nplain.pose,de,gsg,0,0,Haus,HAUS,1\n"
    lexicon = lexicon_from_bytes((header + rows).encode(), tmp_path)
    assert lexicon.lookup_gloss("HAUS", "gsg").glosses == "HAUS"
    assert lexicon.lookup_gloss("HAUS1A^", "gsg").glosses == "HAUS1A^"


#: What a user's input may end in: every suffix the editor opens or exports, and the keyframe file's.
_KNOWN_SUFFIXES = [".signspark.npz", ".signproj", ".pose", ".bvh", ".glb", ".gltf", ".npz", ".lmdb", ".eaf", ".mp4",
                   ".gif", ".keyframes.pt"]


@settings(max_examples=150, deadline=None, derandomize=True)
@given(st.text("abXY01._- ", min_size=1, max_size=10), st.sampled_from(_KNOWN_SUFFIXES), st.booleans(),
       st.sampled_from(["bvh", "npz", "signspark", "lmdb", "pose"]))
def test_an_export_takes_the_name_with_its_whole_known_suffix_cut_in_any_case(
        base: str, suffix: str, shout: bool, format_name: str) -> None:
    """``export`` and ``batch`` name each output after its input: the input's name less its whole format suffix
    (the longest known one it ends in, in any letter case; a dot inside the name stays), then the format's suffix
    in the output folder. Two names that differ before the suffix never give one output name."""
    import signeditor.render.video  # noqa: F401  (registers mp4 and gif, as the export command does)
    from signeditor.app_services import export_target

    assume(base.strip(". ") == base and not any(base.lower().endswith(s) for s in _KNOWN_SUFFIXES)
           and not any((base + suffix).lower().endswith(s) and len(s) > len(suffix) for s in _KNOWN_SUFFIXES))
    name = base + (suffix.upper() if shout else suffix)
    wanted = {"bvh": ".bvh", "npz": ".npz", "signspark": ".signspark.npz", "lmdb": ".lmdb", "pose": ".pose"}
    assert export_target(Path("in") / name, Path("out"), format_name) == Path("out") / (base + wanted[format_name])
    assert export_target(Path(base + "1" + suffix), Path("out"), format_name) != export_target(
        Path(name), Path("out"), format_name)
