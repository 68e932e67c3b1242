"""Exact sign spans of a stitched sentence file (dgs_sentences): the pieces between its inserted transitions.

The raw keypoints are read (not the gap-filled ones: filling interpolates
linearly, which would look like a transition) and ``core.stitching`` finds
the straight-line runs; the spans between them are the glosses in order
when their count matches the metadata, else None (the caller falls back).
"""

from __future__ import annotations

from pathlib import Path

from signeditor.core.segments import Segment
from signeditor.core.stitching import find_linear_runs, gloss_spans_from_runs
from signeditor.data.sources import read_raw_pose_points


def stitched_gloss_segments(path: Path, glosses: list[str], fps: float, n_frames: int) -> list[Segment] | None:
    """The glosses' spans in frames at ``fps`` (a clip of ``n_frames``), or None when the transitions found
    do not give exactly one span per gloss."""
    raw = read_raw_pose_points(path)
    spans = gloss_spans_from_runs(len(raw.points), find_linear_runs(raw.points, raw.valid), len(glosses))
    if spans is None:
        return None
    ratio = fps / raw.fps
    segments = []
    for gloss, (start, stop) in zip(glosses, spans, strict=True):
        a = min(round(start * ratio), n_frames - 1)
        segments.append(Segment(a, max(min(round(stop * ratio), n_frames), a + 1), gloss))
    return segments
