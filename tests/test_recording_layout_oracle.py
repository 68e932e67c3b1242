"""The take's own layout edits (``spliced_recording``, ``stretched_recording``) against a list model of take frames,
and what a recording shows and regenerates (``with_captured``, ``regenerate_keeping_recording``) per frame and stream.

On a recording nobody has time-warped (every anchor the take knows sits where the take has it), clip frame f is
take frame f, so a sign edit on clip frames [start, stop) must make the same edit to the take, frame for frame:

- **splice** (delete, insert, replace, duplicate): take frames [start, stop) become the block (not filled, not
  captured unless the block says so, its per-stream "not seen" flags the opposite of its captured flags); face and
  expression rows there blend linearly from the kept row before to the kept row after (rows k/(n+1)), except the
  laid face rows given; take anchors inside the cut or dropped go, those after it move by the length change, the
  laid ones join at their clip frames; every other frame, flag and anchor stays bit for bit.
- **stretch**: take frames [start, stop) are resampled to ``length`` frames whose times run evenly from the first
  to the last (exact fractions): whole times copy the take frame bit for bit, others slerp per joint (scipy) and
  blend the face linearly; flags come from the nearest take frame (either on an exact half); take anchors inside go
  to the proportional frame, those after move by the change.

The clip's length after the edit is the old one plus the change.
"""

from __future__ import annotations

from fractions import Fraction
from itertools import pairwise

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from signeditor.core import rotations
from signeditor.core.anchors import ALL_STREAMS, Anchor, AnchorSet
from signeditor.core.face import FACE_DIM
from signeditor.core.motion import STREAM_SLICES, STREAMS, Motion
from signeditor.core.recording import (
    Recording,
    edit_recording,
    frame_runs,
    recorded_frames,
    recorded_streams,
    regenerate_keeping_recording,
)
from signeditor.core.recording_layout import spliced_recording, stretched_recording
from signeditor.core.segments import Segment
from signeditor.core.sign_edits import (
    SignTemplate,
    TimelineState,
    delete_sign,
    duplicate_sign,
    insert_sign,
    replace_sign,
)

N_JOINTS = 41
N_STREAMS = len(STREAMS)


def _features(n_frames: int, rng: np.random.Generator) -> np.ndarray:
    if n_frames == 0:
        return np.zeros((0, 6 * N_JOINTS), np.float32)
    noisy = Motion.rest(n_frames).features + rng.normal(0, 0.3, (n_frames, 6 * N_JOINTS))
    return rotations.orthonormalize_rot6d(noisy.reshape(n_frames, -1, 6)).reshape(n_frames, -1).astype(np.float32)


@st.composite
def recordings(draw: st.DrawFn) -> tuple[Recording, AnchorSet]:
    """A take of 2-12 frames shown unwarped; random captured, filled and per-stream flags, sometimes a face; take
    anchors the clip also has (same frames), one the clip lost and one the take never had."""
    n = draw(st.integers(2, 12))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    features = _features(n, rng)
    with_face = draw(st.booleans())
    face = rng.uniform(0, 1, (n, FACE_DIM)).astype(np.float32) if with_face else None
    expression = rng.normal(0, 1, (n, 3)).astype(np.float32) if with_face else None
    stream_filled = rng.uniform(0, 1, (n, N_STREAMS)) < 0.3 if draw(st.booleans()) else None
    filled = rng.uniform(0, 1, n) < 0.3
    take = Motion(25.0, features, expression, filled, face, stream_filled)
    frames = sorted(set(draw(st.lists(st.integers(0, n - 1), max_size=6))))
    shared = [Anchor(f, features[f], label=f"a{f}") for f in frames]
    lost = Anchor(draw(st.integers(0, n - 1)), features[0], label="lost")  # deleted in the clip, kept in the take
    at = draw(st.integers(0, n - 1))
    extra = Anchor(at, features[at], label="new")  # added in the clip only, with the pose shown there
    captured = rng.uniform(0, 1, (n, N_STREAMS)) < 0.7
    recording = Recording(take, AnchorSet([*shared, lost]), captured, draw(st.sampled_from([None, n])))
    return recording, AnchorSet([*shared, extra])


def _blend(values: np.ndarray | None, start: int, stop: int, length: int) -> list | None:
    """Rows of ``values`` after [start, stop) became ``length`` rows: (i,) kept, (i, j, w) blended."""
    if values is None:
        return None
    n = len(values)
    before = start - 1 if start > 0 else (stop if stop < n else n - 1)
    after = stop if stop < n else before
    return ([(i,) for i in range(start)] + [(before, after, Fraction(k, length + 1)) for k in range(1, length + 1)]
            + [(i,) for i in range(stop, n)])


def _check_rows(got: np.ndarray | None, values: np.ndarray | None, rows: list | None, name: str) -> None:
    if values is None:
        assert got is None, name
        return
    assert len(got) == len(rows), name
    for f, row in enumerate(rows):
        if isinstance(row, np.ndarray):
            np.testing.assert_array_equal(got[f], row, err_msg=f"{name} {f}")
        elif len(row) == 1:
            np.testing.assert_array_equal(got[f], values[row[0]], err_msg=f"{name} {f}")
        else:
            i, j, w = row
            expected = (1 - float(w)) * values[i].astype(np.float64) + float(w) * values[j].astype(np.float64)
            np.testing.assert_allclose(got[f], expected, atol=1e-6, err_msg=f"{name} {f}")


def _check_anchors(got: AnchorSet, expected: dict[int, Fraction | int], recording: Recording,
                   laid: list[Anchor] | None = None) -> None:
    old = {a.id: a for a in recording.anchors}
    by_id = {a.id: a for a in got}
    assert set(by_id) == set(expected) | {a.id for a in laid or []}
    for anchor_id, frame in expected.items():
        anchor = by_id[anchor_id]
        frame = Fraction(frame)
        allowed = {int(frame), int(frame) + 1} if frame.denominator == 2 else {round(frame)}
        assert anchor.frame in allowed, (old[anchor_id].frame, frame, anchor.frame)
        assert (anchor.label, anchor.streams) == (old[anchor_id].label, old[anchor_id].streams)
        np.testing.assert_array_equal(anchor.pose, old[anchor_id].pose)


@settings(max_examples=150, deadline=None, derandomize=True)
@given(recordings(), st.data())
def test_a_splice_lays_the_block_into_the_take_frame_for_frame(case: tuple[Recording, AnchorSet],
                                                              data: st.DataObject) -> None:
    recording, anchors = case
    take, n = recording.take, recording.n_frames
    start = data.draw(st.integers(0, n), "start")
    stop = data.draw(st.integers(start, n), "stop")
    length = data.draw(st.integers(0 if 0 < stop - start < n else 1, 4), "length")  # a clip keeps a frame
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), "seed"))
    block = _features(length, rng)
    block_captured = rng.uniform(0, 1, (length, N_STREAMS)) < 0.5 if data.draw(st.booleans(), "copied") else None
    laid_offsets = sorted(set(data.draw(st.lists(st.integers(0, max(length - 1, 0)), max_size=2), "laid")))
    laid = [Anchor(start + k, block[k], frozenset({"body"}), label=f"laid{k}") for k in laid_offsets if length]
    drop = data.draw(st.sets(st.sampled_from([a.id for a in recording.anchors])), "drop")
    block_face = None
    if length and take.face is not None and data.draw(st.sampled_from([True, True, False]), "laid face"):
        at = data.draw(st.integers(0, length - 1), "face at")
        block_face = (at, rng.uniform(0, 1, (data.draw(st.integers(1, length - at), "face rows"), FACE_DIM)))

    after = spliced_recording(recording, anchors, start, stop, block, laid, drop, block_captured, block_face)

    delta = length - (stop - start)
    poses = [(i,) for i in range(start)] + list(block) + [(i,) for i in range(stop, n)]
    _check_rows(after.take.features, take.features, poses, "pose")
    _check_rows(after.take.expression, take.expression, _blend(take.expression, start, stop, length), "expression")
    face = _blend(take.face, start, stop, length)
    if face is not None and block_face is not None:
        at, rows = block_face
        face[start + at:start + at + len(rows)] = list(rows.astype(np.float32))
    _check_rows(after.take.face, take.face, face, "face")
    laid_captured = np.zeros((length, N_STREAMS), bool) if block_captured is None else block_captured
    np.testing.assert_array_equal(after.take.filled, [*take.filled[:start], *[False] * length, *take.filled[stop:]])
    unseen = take.filled_by_stream()
    np.testing.assert_array_equal(after.take.filled_by_stream().reshape(-1, N_STREAMS),
                                  np.concatenate([unseen[:start], ~laid_captured, unseen[stop:]]))
    np.testing.assert_array_equal(after.captured.reshape(-1, N_STREAMS),
                                  np.concatenate([recording.captured[:start], laid_captured,
                                                  recording.captured[stop:]]))
    expected = {a.id: a.frame + (delta if a.frame >= stop else 0) for a in recording.anchors
                if a.id not in drop and not start <= a.frame < stop}
    _check_anchors(after.anchors, expected, recording, laid)
    for anchor in laid:
        placed = after.anchors.by_id(anchor.id)
        assert (placed.frame, placed.streams, placed.label) == (anchor.frame, anchor.streams, anchor.label)
        np.testing.assert_array_equal(placed.pose, anchor.pose)
    assert after.n_frames == n + delta
    assert after.take.fps == take.fps


def _rotations(pose: np.ndarray) -> Rotation:
    rows = pose.reshape(N_JOINTS, 6).astype(np.float64)
    x = rows[:, :3] / np.linalg.norm(rows[:, :3], axis=-1, keepdims=True)
    y = rows[:, 3:] - np.sum(x * rows[:, 3:], axis=-1, keepdims=True) * x
    y /= np.linalg.norm(y, axis=-1, keepdims=True)
    return Rotation.from_matrix(np.stack([x, y, np.cross(x, y)], axis=1))


def _slerp_pose(a: np.ndarray, b: np.ndarray, w: Fraction) -> np.ndarray:
    """Per joint, the geodesic from pose a to pose b at weight w (a * exp(w log(a^-1 b)), scipy), as the matrices'
    two stored rows."""
    ra, rb = _rotations(a), _rotations(b)
    return (ra * Rotation.from_rotvec((ra.inv() * rb).as_rotvec() * float(w))).as_matrix()[:, :2].reshape(-1)


@settings(max_examples=120, deadline=None, derandomize=True)
@given(recordings(), st.data())
def test_a_stretch_resamples_the_take_evenly_and_retimes_its_anchors(case: tuple[Recording, AnchorSet],
                                                                    data: st.DataObject) -> None:
    recording, anchors = case
    take, n = recording.take, recording.n_frames
    start = data.draw(st.integers(0, n - 1), "start")
    stop = data.draw(st.integers(start + 1, n), "stop")
    length = data.draw(st.integers(2, 9), "length")

    after = stretched_recording(recording, anchors, start, stop, length)

    times = [start + Fraction(k * (stop - 1 - start), length - 1) for k in range(length)]
    nearest = []
    for t in times:
        lo = int(t)
        nearest.append((lo, lo + 1) if t - lo == Fraction(1, 2) else ((lo,) if t - lo < Fraction(1, 2) else (lo + 1,)))
    got = after.take.features
    assert len(got) == n + length - (stop - start)
    np.testing.assert_array_equal(got[:start], take.features[:start])
    np.testing.assert_array_equal(got[start + length:], take.features[stop:])
    for k, t in enumerate(times):
        lo = int(t)
        if t == lo:
            np.testing.assert_array_equal(got[start + k], take.features[lo], err_msg=f"whole take frame {t}")
        else:
            np.testing.assert_allclose(got[start + k], _slerp_pose(take.features[lo], take.features[lo + 1], t - lo),
                                       atol=2e-5, err_msg=f"take time {t}")
    for name in ("face", "expression"):
        values = getattr(take, name)
        rows = None if values is None else ([(i,) for i in range(start)]
                                            + [(int(t),) if t == int(t) else (int(t), int(t) + 1, t - int(t))
                                               for t in times] + [(i,) for i in range(stop, n)])
        _check_rows(getattr(after.take, name), values, rows, name)
    flags = {"filled": (after.take.filled, take.filled), "unseen": (after.take.filled_by_stream(),
                                                                     take.filled_by_stream()),
             "captured": (after.captured, recording.captured)}
    for name, (new, old) in flags.items():
        np.testing.assert_array_equal(new[:start], old[:start], err_msg=name)
        np.testing.assert_array_equal(new[start + length:], old[stop:], err_msg=name)
        for k, choices in enumerate(nearest):
            assert any(np.array_equal(new[start + k], old[c]) for c in choices), (name, times[k])
    delta = length - (stop - start)
    expected = {a.id: (start + Fraction((a.frame - start) * (length - 1), max(stop - start - 1, 1))
                       if start <= a.frame < stop else a.frame + (delta if a.frame >= stop else 0))
                for a in recording.anchors}
    _check_anchors(after.anchors, expected, recording)
    assert after.n_frames == n + delta
    assert {a.streams for a in after.anchors} <= {ALL_STREAMS}


# --- recording.py: flags, following the capture, regenerating around it ----------------------------------------------
@settings(max_examples=60, deadline=None, derandomize=True)
@given(recordings(), st.data())
def test_the_capture_shows_where_captured_and_only_the_rest_is_generated_inside_the_range(
        case: tuple[Recording, AnchorSet], data: st.DataObject) -> None:
    """An unwarped, unedited recording over a generated motion, frame by frame and stream by stream (list model):

    - ``with_captured`` sets take frames [lo, hi) (clipped to the take) of the chosen streams to what the importer
      saw there when restoring, to False when marking them for generation; nothing else changes.
    - ``frame_runs`` lists every run of True; ``recorded_frames`` is True where every stream is captured.
    - ``regenerate_keeping_recording`` shows the take bit for bit on every captured frame and stream, asks the
      generator once per run of frames missing any stream, clipped to the range, and keeps its output only for the
      missing streams; the rest of the motion stays. Filled: the take's where every stream is captured, False where
      generated, the motion's elsewhere; the face and expression follow the take.
    """
    recording, anchors = case
    take, n = recording.take, recording.n_frames
    lo, hi = data.draw(st.integers(-2, n + 1), "lo"), data.draw(st.integers(-2, n + 2), "hi")
    restore = data.draw(st.booleans(), "restore")
    streams = tuple(data.draw(st.sets(st.sampled_from(STREAMS), min_size=1), "streams"))
    changed = recording.with_captured(lo, hi, restore, streams)
    expected = recording.captured.copy()
    unseen = take.filled_by_stream()
    for f in range(max(lo, 0), min(max(hi, 0), n)):
        for s in streams:
            expected[f, STREAMS.index(s)] = restore and not unseen[f, STREAMS.index(s)]
    np.testing.assert_array_equal(changed.captured, expected)
    assert changed.take is recording.take and changed.anchors is recording.anchors

    flags = changed.captured
    every = [bool(flags[f].all()) for f in range(n)]
    np.testing.assert_array_equal(recorded_streams(changed, anchors), flags)
    np.testing.assert_array_equal(recorded_frames(changed, anchors), every)
    missing = [not e for e in every]
    runs = [(a, b) for a in range(n) for b in range(a + 1, n + 1)
            if all(missing[a:b]) and (a == 0 or not missing[a - 1]) and (b == n or not missing[b])]
    assert frame_runs(np.array(missing)) == runs

    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), "motion seed"))
    motion = Motion(25.0, _features(n, rng), None, rng.uniform(0, 1, n) < 0.5)
    frame_range = data.draw(st.one_of(st.none(), st.tuples(st.integers(0, n), st.integers(0, n))), "range")
    markers = _features(len(runs) + 1, rng)
    calls: list[tuple[int, int]] = []

    def generate(shown: Motion, given_anchors: AnchorSet, span: tuple[int, int]) -> Motion:
        assert given_anchors is anchors
        out = shown.copy()
        out.features[:] = markers[len(calls)]  # every frame: only the span's missing streams may be taken
        calls.append(span)
        return out

    result = regenerate_keeping_recording(changed, motion, anchors, frame_range, generate)
    r_lo, r_hi = frame_range or (0, n)
    spans = [(max(a, r_lo), min(b, r_hi)) for a, b in runs if max(a, r_lo) < min(b, r_hi)]
    assert calls == spans
    for f in range(n):
        span = next((k for k, (a, b) in enumerate(spans) if a <= f < b), None)
        for s, stream in enumerate(STREAMS):
            cols = STREAM_SLICES[stream]
            if flags[f, s]:
                source = take.features[f, cols]
            elif span is not None:
                source = markers[span][cols]
            else:
                source = motion.features[f, cols]
            np.testing.assert_array_equal(result.features[f, cols], source, err_msg=f"frame {f} {stream}")
        expected_filled = take.filled[f] if every[f] else (False if span is not None else motion.filled[f])
        assert result.filled[f] == expected_filled, f
    for name in ("face", "expression"):
        if getattr(take, name) is None:
            assert getattr(result, name) is None
        else:
            np.testing.assert_array_equal(getattr(result, name), getattr(take, name))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(recordings(), st.data())
def test_a_sign_edit_on_a_recording_keeps_every_frame_outside_the_cut_with_its_flags(
        case: tuple[Recording, AnchorSet], data: st.DataObject) -> None:
    """Delete (either way), insert, replace or duplicate a sign on an unwarped recording: every clip frame outside
    the frames the edit cut or laid shows the frame it showed before (shifted by the change in length) bit for bit,
    with the same per-stream captured flags and face row."""
    recording, anchors = case
    n = recording.n_frames
    bounds = sorted(set(data.draw(st.lists(st.integers(0, n), min_size=2, max_size=4), "bounds")))
    if len(bounds) < 2:
        return
    segments = tuple(Segment(a, b, f"S{a}") for a, b in pairwise(bounds))  # back to back
    shown = edit_recording(recording, anchors)
    state = TimelineState(shown, anchors, segments, recording)
    flags = recorded_streams(recording, anchors)
    index = data.draw(st.integers(0, len(segments) - 1), "index")
    kind = data.draw(st.sampled_from(["delete", "hold", "insert", "replace", "duplicate"]), "kind")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), "seed"))
    features = _features(data.draw(st.integers(1, 4), "template length"), rng)
    template = SignTemplate("NEW", features, (Anchor(0, features[0], label="NEW onset"),))
    gap = data.draw(st.integers(0, 2), "gap")
    if kind in ("delete", "hold"):
        edit = delete_sign(state, index, kind == "delete", gap)
    elif kind == "insert":
        edit = insert_sign(state, segments[index].start, template, gap, gap)
    elif kind == "replace":
        edit = replace_sign(state, index, template, gap, gap)
    else:
        edit = duplicate_sign(state, index, gap)
    new = edit.state
    start, stop, length = edit.cut or (segments[index].start, segments[index].end, segments[index].length)
    new_flags = recorded_streams(new.recording, new.anchors)
    assert new.recording.n_frames == new.n_frames
    for f in [*range(start), *range(start + length, new.n_frames)]:
        old = f if f < start else f - length + (stop - start)
        np.testing.assert_array_equal(new.motion.features[f], shown.features[old], err_msg=f"{kind} frame {f}")
        np.testing.assert_array_equal(new_flags[f], flags[old], err_msg=f"{kind} flags {f}")
        if shown.face is not None:
            np.testing.assert_array_equal(new.motion.face[f], shown.face[old], err_msg=f"{kind} face {f}")
