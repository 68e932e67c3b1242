"""The stitched-transition detector against hand-built joins and a natural recording."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from signeditor.core.stitching import find_linear_runs, gloss_spans_from_runs, stitched_frame_mask


def _natural_piece(rng: np.random.Generator, n_frames: int, n_points: int) -> np.ndarray:
    """Smooth random motion plus tracker-like noise, in pixels (what a real sign span looks like)."""
    t = np.arange(n_frames)[:, None, None]
    phase = rng.uniform(0, 2 * np.pi, (1, n_points, 3))
    centre = rng.uniform(200, 800, (1, n_points, 3))
    return centre + 40 * np.sin(0.2 * t + phase) + rng.normal(0, 0.5, (n_frames, n_points, 3))


def _stitch(pieces: list[np.ndarray], gaps: list[int]) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Join pieces with ``gap`` inserted frames each, on the straight line from one piece's last
    frame to the next piece's first, at constant speed; return the clip and the inserted runs."""
    frames = [pieces[0]]
    runs = []
    cursor = len(pieces[0])
    for gap, piece in zip(gaps, pieces[1:], strict=True):
        a, b = frames[-1][-1], piece[0]
        weights = (np.arange(1, gap + 1) / (gap + 1))[:, None, None]
        frames.append(a[None] + weights * (b - a)[None])
        runs.append((cursor, cursor + gap))
        frames.append(piece)
        cursor += gap + len(piece)
    return np.concatenate(frames).astype(np.float32), runs


def test_finds_the_inserted_runs_of_a_stitched_clip_and_the_glosses_between_them() -> None:
    rng = np.random.default_rng(3)
    pieces = [_natural_piece(rng, n, 30) for n in (12, 7, 20, 9)]
    clip, expected = _stitch(pieces, [3, 5, 8])
    runs = find_linear_runs(clip)
    assert runs == expected
    mask = stitched_frame_mask(len(clip), runs)
    assert mask.sum() == 3 + 5 + 8
    assert not mask[:12].any() and mask[12:15].all()
    spans = gloss_spans_from_runs(len(clip), runs, 4)
    assert spans is not None
    assert [stop - start for start, stop in spans] == [12, 7, 20, 9]
    assert gloss_spans_from_runs(len(clip), runs, 5) is None


def test_missing_points_do_not_hide_a_run_and_holds_are_not_runs() -> None:
    rng = np.random.default_rng(4)
    clip, expected = _stitch([_natural_piece(rng, 10, 8), _natural_piece(rng, 10, 8)], [4])
    valid = np.ones(clip.shape[:2], dtype=bool)
    clip[11, 2] = 0.0  # a lost detection inside the transition, zeroed
    valid[12, 5] = False  # and one with confidence 0
    clip[12, 5] = 12345.0
    assert find_linear_runs(clip, valid) == expected
    frozen = np.concatenate([_natural_piece(rng, 10, 8), np.repeat(_natural_piece(rng, 1, 8), 6, axis=0)])
    assert find_linear_runs(frozen) == []


def test_a_natural_recording_has_no_linear_runs(shared_signdata: Path) -> None:
    from pose_format import Pose

    files = sorted((shared_signdata / "how2sign_sentences").glob("*.pose"))[:3]
    assert files
    for path in files:
        body = Pose.read(path.read_bytes()).body
        points = np.asarray(body.data[:, 0].data)
        valid = np.asarray(body.confidence[:, 0]) > 0
        assert find_linear_runs(points, valid) == [], path.name
    stitched = Pose.read((shared_signdata / "dgs_sentences" / "train_12_original.pose").read_bytes()).body
    runs = find_linear_runs(np.asarray(stitched.data[:, 0].data), np.asarray(stitched.confidence[:, 0]) > 0)
    assert len(runs) == 13


def test_a_one_frame_gloss_between_two_transitions_is_still_a_gloss() -> None:
    """A gloss cut to a single frame (a quick point) between two inserted transitions, and one on the clip's
    first frame: each one-frame piece is a gloss span of its own, so the sentence keeps its gloss count."""
    rng = np.random.default_rng(5)
    pieces = [_natural_piece(rng, n, 12) for n in (12, 1, 9)]
    clip, expected = _stitch(pieces, [3, 4])
    runs = find_linear_runs(clip)
    assert runs == expected == [(12, 15), (16, 20)]
    assert gloss_spans_from_runs(len(clip), runs, 3) == [(0, 12), (15, 16), (20, 29)]
    assert gloss_spans_from_runs(20, [(1, 5), (6, 9)], 3) == [(0, 1), (5, 6), (9, 20)]


def test_a_validity_mask_of_the_wrong_shape_is_refused() -> None:
    """A mask for one frame (or one point) would broadcast over the clip and silently mark the wrong points: a
    mask must have one flag per frame and point."""
    points = np.zeros((10, 4, 3))
    for shape in ((1, 4), (10, 1), (4,)):
        with pytest.raises(ValueError, match="valid must be"):
            find_linear_runs(points, np.ones(shape, bool))


def test_keypoints_without_depth_are_points_not_missing_ones() -> None:
    """2D keypoints (z written as 0, as most files without depth are) are measurements: a point is missing only
    when all its coordinates are 0, so the inserted runs of a flat clip are found like those of a 3D one."""
    rng = np.random.default_rng(6)
    pieces = [_natural_piece(rng, n, 10) for n in (12, 9, 14)]
    for piece in pieces:
        piece[..., 2] = 0.0
    clip, expected = _stitch(pieces, [4, 6])
    assert find_linear_runs(clip) == expected


@settings(max_examples=60, deadline=None, derandomize=True)
@example(0, [(1, 0, False)], 2, 0, 1, "none")  # a 3-frame clip whose middle frame is an inserted one
@given(st.integers(0, 2**32 - 1),
       st.lists(st.tuples(st.integers(1, 7), st.integers(0, 6), st.booleans()), min_size=1, max_size=5),
       st.integers(0, 5), st.integers(0, 5), st.integers(1, 4),
       st.sampled_from(["none", "zero", "nan", "flag", "flat"]))
def test_runs_are_exactly_the_inserted_frames_with_both_neighbours_and_the_glosses_lie_between(
        seed: int, layout: list[tuple[int, int, bool]], lead: int, tail: int, min_len: int, missing: str) -> None:
    """A stitched sentence built here: natural pieces (some one frame long, some frozen holds) joined by straight
    constant-speed transitions of 0-6 inserted frames, the clip possibly opening and ending inside a transition,
    with a few points lost (zeroed, NaN, or flagged invalid and holding junk), or without depth. Against a
    frame-by-frame model: a frame is linear exactly when it is an inserted frame whose neighbours are both in the
    clip (the real frames a transition joins lie on its line but are not its middle); runs are the maximal
    stretches of linear frames at least min_len long; the mask marks their frames; the gloss spans are the maximal
    stretches of the other frames, given only when their count is the one asked for."""
    rng = np.random.default_rng(seed)
    n_points = 6
    pieces = []
    for length, _, frozen in layout:
        piece = _natural_piece(rng, length, n_points)
        pieces.append(np.repeat(piece[:1], length, axis=0) if frozen and length > 1 else piece)
    frames, inserted = [], []

    def join(a: np.ndarray, b: np.ndarray, gap: int) -> None:
        for k in range(1, gap + 1):
            frames.append(a + k / (gap + 1) * (b - a))
            inserted.append(True)

    join(rng.uniform(200, 800, (n_points, 3)), pieces[0][0], lead)
    for i, piece in enumerate(pieces):
        if i:
            join(pieces[i - 1][-1], piece[0], layout[i][1])
        frames += list(piece)
        inserted += [False] * len(piece)
    join(pieces[-1][-1], rng.uniform(200, 800, (n_points, 3)), tail)
    clip = np.array(frames, np.float32)
    n = len(clip)
    valid = None
    lost = rng.random((n, n_points)) < 0.08
    if missing == "zero":
        clip[lost] = 0.0
    elif missing == "nan":
        clip[lost] = np.nan
    elif missing == "flag":
        clip[lost] = rng.uniform(-1e6, 1e6, (int(lost.sum()), 3))  # what a point flagged lost holds is junk
        valid = ~lost
    elif missing == "flat":
        clip[..., 2] = 0.0  # no depth: still points
    linear = [inserted[t] and 0 < t < n - 1 for t in range(n)]

    def stretches(flags: list[bool]) -> list[tuple[int, int]]:
        out, t = [], 0
        while t < n:
            if flags[t]:
                stop = t
                while stop < n and flags[stop]:
                    stop += 1
                out.append((t, stop))
                t = stop
            else:
                t += 1
        return out

    runs = [(a, b) for a, b in stretches(linear) if b - a >= min_len]
    assert find_linear_runs(clip, valid, min_len=min_len) == runs
    marked = [any(a <= t < b for a, b in runs) for t in range(n)]
    assert stitched_frame_mask(n, runs).tolist() == marked
    glosses = stretches([not m for m in marked])
    assert gloss_spans_from_runs(n, runs, len(glosses)) == glosses
    assert gloss_spans_from_runs(n, runs, len(glosses) + 1) is None


@settings(max_examples=80, deadline=None, derandomize=True)
@given(st.integers(0, 12), st.lists(st.tuples(st.integers(-3, 14), st.integers(0, 5)), max_size=3), st.data())
def test_the_mask_and_gloss_spans_take_runs_in_any_order_touching_overlapping_or_past_the_clip(
        n: int, outside: list[tuple[int, int]], data: st.DataObject) -> None:
    """Runs handed in any order, touching, overlapping or nested: the mask marks the frames of the clip some run
    covers (runs reaching past either end of the clip are cut to it); the gloss spans are the clip's uncovered
    stretches in order."""
    runs = []
    for _ in range(data.draw(st.integers(0, 4)) if n else 0):
        start = data.draw(st.integers(0, n - 1))
        runs.append((start, data.draw(st.integers(start + 1, n))))
    covered = [any(a <= t < b for a, b in runs) for t in range(n)]
    spans = []
    for t in range(n):
        if not covered[t]:
            if spans and spans[-1][1] == t:
                spans[-1] = (spans[-1][0], t + 1)
            else:
                spans.append((t, t + 1))
    assert gloss_spans_from_runs(n, runs, len(spans)) == spans
    assert stitched_frame_mask(n, runs).tolist() == covered
    past = [(a, a + length) for a, length in outside]
    assert stitched_frame_mask(n, past).tolist() == [any(a <= t < b for a, b in past) for t in range(n)]
