"""Boundary cases of the file formats and metrics that a second round of planted bugs got past.

Each expectation is computed by hand or read back with the tool its users use (pympi for ELAN), never with the
code under test.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pytest

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
