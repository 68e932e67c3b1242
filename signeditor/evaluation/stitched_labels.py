"""Exact sign spans of a stitched sentence file (dgs_sentences): the pieces between its inserted transitions.

The raw keypoints are read (not the gap-filled ones: filling interpolates
linearly, which would look like a transition) and ``core.stitching`` finds
the straight-line runs; the spans between them are the glosses in order
when their count matches the metadata, else None (the caller falls back).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from signeditor.core.segments import Segment
from signeditor.core.stitching import find_linear_runs, gloss_spans_from_runs
from signeditor.io.errors import FileFormatError


def raw_pose_points(path: Path) -> tuple[np.ndarray, np.ndarray, float]:
    """(T, P, 3) points of the first person, (T, P) validity and the frame rate, as stored."""
    from pose_format import Pose

    try:
        pose = Pose.read(path.read_bytes())
        data = np.asarray(np.ma.getdata(pose.body.data)[:, 0], dtype=np.float64)
        valid = ~np.ma.getmaskarray(pose.body.data)[:, 0].any(axis=-1) & (np.asarray(pose.body.confidence)[:, 0] > 0)
        fps = float(pose.body.fps)
    except Exception as exc:  # pose-format raises many types on malformed input
        raise FileFormatError(path, f"not a readable .pose file ({type(exc).__name__}: {exc})") from exc
    return data, valid, fps


def stitched_gloss_segments(path: Path, glosses: list[str], fps: float, n_frames: int) -> list[Segment] | None:
    """The glosses' spans in frames at ``fps`` (a clip of ``n_frames``), or None when the transitions found
    do not give exactly one span per gloss."""
    points, valid, file_fps = raw_pose_points(path)
    spans = gloss_spans_from_runs(len(points), find_linear_runs(points, valid), len(glosses))
    if spans is None:
        return None
    ratio = fps / file_fps
    segments = []
    for gloss, (start, stop) in zip(glosses, spans, strict=True):
        a = min(round(start * ratio), n_frames - 1)
        segments.append(Segment(a, max(min(round(stop * ratio), n_frames), a + 1), gloss))
    return segments
