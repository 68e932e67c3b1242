"""The take's own layout edits (``spliced_recording``, ``stretched_recording``) against a list model of take frames.

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

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from signeditor.core import rotations
from signeditor.core.anchors import ALL_STREAMS, Anchor, AnchorSet
from signeditor.core.face import FACE_DIM
from signeditor.core.motion import STREAMS, Motion
from signeditor.core.recording import Recording
from signeditor.core.recording_layout import spliced_recording, stretched_recording

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
    extra = Anchor(draw(st.integers(0, n - 1)), features[0], label="new")  # added in the clip only
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
