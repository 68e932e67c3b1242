"""Every sign edit against a list model of the timeline written here (Hypothesis over random layouts).

What a translator expects of each edit, frame by frame, stated without the code under test:

- **move**: the sign and its own anchors (those on its frames, start <= frame < end) go ``delta`` frames, or as
  far as they can without overlapping another sign or leaving the clip (found by stepping one frame at a time);
  its frames are copied to the new place bit for bit, every other frame, anchor, face row and "filled" flag stays.
- **stretch**: the sign gets ``max(2, length)`` frames whose time runs evenly from its first to its last frame
  (rows blended linearly, then made rotations again: Gram-Schmidt of the two stored rows); its anchors go to the
  proportional frame (exact fractions; either neighbour on an exact half); everything after it moves by the
  difference.
- **delete** (close the gap): the sign's frames become ``bridge_frames`` join frames (none at the clip's ends),
  an nlerp of the joints' quaternions on the shorter arc from the frame before to the frame after it; what follows
  moves up. (leave a hold): its frames hold the pose of the frame before it, pinned by "hold" anchors on its first
  and last frame (one for a one-frame sign).
- **insert / replace / duplicate**: the template's frames (bit for bit) with join frames before and after (only
  where the clip has frames on that side), its anchors laid with fresh ids, what follows moves by the block's length;
  a replaced sign's own anchors go.
- New frames are not "filled"; where frames are cut or laid, the face and expression rows blend linearly from the
  row before to the row after (rows k/(n+1)); a laid template with a face keeps its face; a stretched sign's face
  and expression rows are its own, retimed like its poses.
- The regeneration window runs from the last anchor before the edited span to the first anchor at or after its end
  (inclusive), not counting the edited sign's own anchors (or the hold or laid ones); the clip's ends otherwise.
- ``retimed`` sends a key before the cut to itself, one after it with the frames that follow, one inside it to the
  proportional frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from signeditor.core import rotations
from signeditor.core.anchors import ALL_STREAMS, Anchor, AnchorSet
from signeditor.core.face import FACE_DIM
from signeditor.core.motion import Motion
from signeditor.core.segments import APPROVED, NEEDS_WORK, Segment
from signeditor.core.sign_edits import (
    SignEdit,
    SignTemplate,
    TimelineState,
    delete_sign,
    duplicate_sign,
    insert_sign,
    insertion_frame,
    move_sign,
    replace_sign,
    sign_at,
    stretch_sign,
)

N_JOINTS = 41


def _features(n_frames: int, rng: np.random.Generator) -> np.ndarray:
    """Valid rotations, a different pose on every frame (so a frame copied to the wrong place shows)."""
    noisy = Motion.rest(n_frames).features + rng.normal(0, 0.3, (n_frames, 6 * N_JOINTS))
    return rotations.orthonormalize_rot6d(noisy.reshape(n_frames, -1, 6)).reshape(n_frames, -1).astype(np.float32)


@st.composite
def timelines(draw: st.DrawFn) -> TimelineState:
    """1-4 signs of 1-6 frames, mostly back to back, sometimes on the clip's first or last frame; anchors on
    sign boundaries, inside signs and on free frames (some pin only one stream); a face channel and filled flags
    half the time."""
    n_signs = draw(st.integers(1, 4))
    gaps = [draw(st.sampled_from([0, 0, 1, 2])) for _ in range(n_signs + 1)]
    lengths = [draw(st.integers(1, 6)) for _ in range(n_signs)]
    statuses = [draw(st.sampled_from(["draft", NEEDS_WORK, APPROVED])) for _ in range(n_signs)]
    segments, frame = [], gaps[0]
    for k, (length, gap) in enumerate(zip(lengths, gaps[1:], strict=True)):
        segments.append(Segment(frame, frame + length, f"S{k}", confidence=0.5 + k / 10, status=statuses[k],
                                comments=(f"c{k}",)))
        frame += length + gap
    n_frames = max(frame, 2)
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    features = _features(n_frames, rng)
    frames = draw(st.lists(st.integers(0, n_frames - 1), max_size=8))
    frames += [f for s in segments for f in (s.start, s.end - 1, s.end, s.start - 1) if draw(st.booleans())]
    anchors = []
    for f in sorted({f for f in frames if 0 <= f < n_frames}):
        streams = draw(st.sampled_from([ALL_STREAMS, ALL_STREAMS, frozenset({"right_hand"})]))
        anchors.append(Anchor(f, features[f], streams, label=f"a{f}"))
    face = expression = filled = None
    if draw(st.booleans()):
        face = rng.uniform(0, 1, (n_frames, FACE_DIM)).astype(np.float32)
        expression = rng.normal(0, 1, (n_frames, 3)).astype(np.float32)
        filled = rng.uniform(0, 1, n_frames) < 0.3
    return TimelineState(Motion(25.0, features, expression, filled, face), AnchorSet(anchors), tuple(segments))


def _template(data: st.DataObject, with_face: bool) -> SignTemplate:
    length = data.draw(st.integers(1, 5), "template length")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**16), "template seed"))
    features = _features(length, rng)
    frames = sorted(set(data.draw(st.lists(st.integers(0, length - 1), max_size=3), "template anchors")))
    anchors = tuple(Anchor(f, features[f], frozenset({"body"}) if f % 2 else ALL_STREAMS, label=f"t{f}")
                    for f in frames)
    face = rng.uniform(0, 1, (length, FACE_DIM)).astype(np.float32) if with_face else None
    return SignTemplate("NEW", features, anchors, face=face)


# --- the model -----------------------------------------------------------------------------------------------------
def _gram_schmidt(rows: np.ndarray) -> np.ndarray:
    """(..., 6) two matrix rows each -> the orthonormal frame's two rows, in float64."""
    a, b = rows[..., :3], rows[..., 3:]
    a = a / np.linalg.norm(a, axis=-1, keepdims=True)
    b = b - np.sum(a * b, axis=-1, keepdims=True) * a
    return np.concatenate([a, b / np.linalg.norm(b, axis=-1, keepdims=True)], axis=-1)


def _lerp_pose(x: np.ndarray, y: np.ndarray, w: Fraction) -> np.ndarray:
    blended = (1 - float(w)) * x.astype(np.float64) + float(w) * y.astype(np.float64)
    return _gram_schmidt(blended.reshape(N_JOINTS, 6)).reshape(-1)


def _quats(pose: np.ndarray) -> np.ndarray:
    rows = _gram_schmidt(pose.astype(np.float64).reshape(N_JOINTS, 6))
    matrices = np.stack([rows[:, :3], rows[:, 3:], np.cross(rows[:, :3], rows[:, 3:])], axis=1)
    return Rotation.from_matrix(matrices).as_quat()


def _nlerp_pose(x: np.ndarray, y: np.ndarray, u: Fraction) -> np.ndarray:
    """Per joint: the quaternions lerped on the shorter arc and normalised, as the two matrix rows."""
    qx, qy = _quats(x), _quats(y)
    qy = np.where(np.sum(qx * qy, axis=-1, keepdims=True) < 0, -qy, qy)
    q = (1 - float(u)) * qx + float(u) * qy
    matrices = Rotation.from_quat(q / np.linalg.norm(q, axis=-1, keepdims=True)).as_matrix()
    return matrices[:, :2, :].reshape(-1)


@dataclass
class Model:
    """The expected timeline: per new frame where its pose and face come from, the anchors, the signs."""

    poses: list[tuple]  # ("old", i) exact | ("template", k) exact | ("near", pose) within float
    face: list[tuple]  # ("old", i) | ("blend", i, j, w): rows i and j of the old values | ("template", k)
    filled: list[bool | int]  # True/False, or the old frame whose flag it keeps
    kept: dict[int, int]  # old anchor id -> new frame
    laid: list[tuple[int, np.ndarray, frozenset, str]]  # frame, pose, streams, label of anchors with new ids
    segments: list[tuple]  # (start, end, gloss, status, comments, confidence) in order
    span: tuple[int, int]  # the edited frames after the edit, for the regeneration window
    excluded: set[int] = field(default_factory=set)  # old anchor ids that do not bound the window
    sign: tuple[int, str] | None = None  # start and gloss of the edited sign after the edit
    cut: tuple[int, int, int] | None = None
    expression: list[tuple] | None = None  # like ``face`` (None: the same), where a laid face differs


def _fields(s: Segment, start: int, end: int) -> tuple:
    return (start, end, s.gloss, s.status, s.comments, s.confidence)


def _spliced(n: int, start: int, stop: int, block: list[tuple]) -> tuple[list, list, list]:
    """Frames [start, stop) of n become ``block``: poses, face rows (a linear blend between the rows on either
    side, the other side's row at a clip end) and filled flags (laid frames are not filled)."""
    length = len(block)
    before = start - 1 if start > 0 else (stop if stop < n else n - 1)
    after = stop if stop < n else before
    poses = [("old", i) for i in range(start)] + block + [("old", i) for i in range(stop, n)]
    face = ([("old", i) for i in range(start)]
            + [("blend", before, after, Fraction(k, length + 1)) for k in range(1, length + 1)]
            + [("old", i) for i in range(stop, n)])
    filled = list(range(start)) + [False] * length + list(range(stop, n))
    return poses, face, filled


def _own(state: TimelineState, segment: Segment) -> list[Anchor]:
    return [a for a in state.anchors if segment.start <= a.frame < segment.end]


def _proportional(offset: int, old_length: int, new_length: int) -> Fraction:
    return Fraction(offset * (new_length - 1), max(old_length - 1, 1))


def model_move(state: TimelineState, index: int, delta: int) -> Model:
    n, segment = state.n_frames, state.segments[index]
    others = [s for i, s in enumerate(state.segments) if i != index]

    def fits(d: int) -> bool:
        lo, hi = segment.start + d, segment.end + d
        return lo >= 0 and hi <= n and all(s.end <= lo or s.start >= hi for s in others)

    d, step = 0, 1 if delta > 0 else -1
    while d != delta and fits(d + step):
        d += step
    poses = [("old", i) for i in range(n)]
    for k in range(segment.length):
        poses[segment.start + d + k] = ("old", segment.start + k)
    own = {a.id for a in _own(state, segment)}
    kept = {a.id: a.frame + (d if a.id in own else 0) for a in state.anchors}
    segments = sorted([_fields(s, s.start, s.end) for s in others]
                      + [_fields(segment, segment.start + d, segment.end + d)])
    span = (min(segment.start, segment.start + d), max(segment.end, segment.end + d))
    return Model(poses, [("old", i) for i in range(n)], list(range(n)), kept, [], segments, span, own,
                 (segment.start + d, segment.gloss))


def model_stretch(state: TimelineState, index: int, length: int) -> Model:
    n, segment = state.n_frames, state.segments[index]
    new_length, old_length = max(2, length), segment.length
    delta = new_length - old_length
    sign = state.motion.features[segment.start:segment.end]
    block = []
    for k in range(new_length):
        if new_length == old_length:
            block.append(("old", segment.start + k))
            continue
        t = _proportional(k, new_length, old_length)  # frame k of the new sign shows time t of the old one
        lo = int(t)
        hi = min(lo + 1, old_length - 1)
        block.append(("near", _lerp_pose(sign[lo], sign[hi], t - lo)))
    poses, face, filled = _spliced(n, segment.start, segment.end, block)
    for k in range(new_length):  # the sign's face and expression rows are retimed with it (its mouthing kept)
        t = _proportional(k, new_length, old_length)
        lo = int(t)
        face[segment.start + k] = ("blend", segment.start + lo, segment.start + min(lo + 1, old_length - 1), t - lo)
    own = {a.id for a in _own(state, segment)}
    kept = {}
    for a in state.anchors:
        if a.id in own:
            kept[a.id] = segment.start + _proportional(a.frame - segment.start, old_length, new_length)
        else:
            kept[a.id] = a.frame + (delta if a.frame >= segment.end else 0)
    segments = sorted(_fields(s, s.start + (delta if s.start >= segment.end else 0),
                              s.end + (delta if s.start >= segment.end else 0)) if s is not segment
                      else _fields(s, s.start, s.start + new_length) for s in state.segments)
    return Model(poses, face, filled, kept, [], segments, (segment.start, segment.start + new_length), own,
                 (segment.start, segment.gloss), (segment.start, segment.end, new_length))


def model_delete(state: TimelineState, index: int, close_gap: bool, bridge_frames: int) -> Model:
    n, segment = state.n_frames, state.segments[index]
    features = state.motion.features
    own = {a.id for a in _own(state, segment)}
    others = [s for s in state.segments if s is not segment]
    if close_gap and segment.length < n:
        inside = segment.start > 0 and segment.end < n
        count = bridge_frames if inside else 0
        # A bridge has something on both sides (inside); at a clip end there is none, so the side is irrelevant.
        before = features[segment.start - 1] if inside else None
        after = features[segment.end] if inside else None
        block = [("near", _nlerp_pose(before, after, Fraction(k, count + 1))) for k in range(1, count + 1)]
        poses, face, filled = _spliced(n, segment.start, segment.end, block)
        delta = count - segment.length
        kept = {a.id: a.frame + (delta if a.frame >= segment.end else 0) for a in state.anchors if a.id not in own}
        segments = [_fields(s, s.start + (delta if s.start >= segment.end else 0),
                            s.end + (delta if s.start >= segment.end else 0)) for s in others]
        return Model(poses, face, filled, kept, [], segments, (segment.start, segment.start + count),
                     cut=(segment.start, segment.end, count))
    held = max(segment.start - 1, 0)
    poses = [("old", held) if segment.start <= i < segment.end else ("old", i) for i in range(n)]
    kept = {a.id: a.frame for a in state.anchors if a.id not in own}
    laid = [(f, features[held], ALL_STREAMS, "hold") for f in sorted({segment.start, segment.end - 1})]
    return Model(poses, [("old", i) for i in range(n)], list(range(n)), kept, laid,
                 [_fields(s, s.start, s.end) for s in others], (segment.start, segment.end))


def model_lay(state: TimelineState, start: int, stop: int, template: SignTemplate, gap_before: int,
              gap_after: int, replaced: Segment | None) -> Model:
    """Frames [start, stop) (empty for an insert) become join frames, the template and join frames."""
    n, features = state.n_frames, state.motion.features
    gap_before = gap_before if start > 0 else 0
    gap_after = gap_after if stop < n else 0
    block = [("near", _nlerp_pose(features[start - 1], template.features[0], Fraction(k, gap_before + 1)))
             for k in range(1, gap_before + 1)]
    block += [("template", k) for k in range(template.length)]
    block += [("near", _nlerp_pose(template.features[-1], features[stop % n], Fraction(k, gap_after + 1)))
              for k in range(1, gap_after + 1)]
    poses, face, filled = _spliced(n, start, stop, block)
    first = start + gap_before
    expression = list(face)  # a template has no expression: its rows stay the blend
    if template.face is not None and state.motion.face is not None:
        face[first:first + template.length] = [("template", k) for k in range(template.length)]
    delta = len(block) - (stop - start)
    own = set() if replaced is None else {a.id for a in _own(state, replaced)}
    kept = {a.id: a.frame + (delta if a.frame >= stop else 0) for a in state.anchors if a.id not in own}
    laid = [(first + a.frame, a.pose, a.streams, a.label) for a in template.anchors]
    segments = sorted([_fields(s, s.start + (delta if s.start >= stop else 0),
                               s.end + (delta if s.start >= stop else 0))
                       for s in state.segments if s is not replaced]
                      + [(first, first + template.length, template.gloss, "draft", (), 1.0)])
    return Model(poses, face, filled, kept, laid, segments, (start, start + len(block)), set(),
                 (first, template.gloss), (start, stop, len(block)), expression)


# --- checking an edit against the model ----------------------------------------------------------------------------
def _check(state: TimelineState, edit: SignEdit, model: Model, template: SignTemplate | None = None) -> None:
    new, old = edit.state, state.motion
    assert new.n_frames == len(model.poses)
    for f, source in enumerate(model.poses):
        if source[0] == "old":
            np.testing.assert_array_equal(new.motion.features[f], old.features[source[1]], err_msg=f"frame {f}")
        elif source[0] == "template":
            np.testing.assert_array_equal(new.motion.features[f], template.features[source[1]], err_msg=f"frame {f}")
        else:
            np.testing.assert_allclose(new.motion.features[f], source[1], atol=2e-5, err_msg=f"frame {f}")
    np.testing.assert_array_equal(new.motion.filled, [old.filled[x] if not isinstance(x, bool) else x
                                                      for x in model.filled])
    for name in ("face", "expression"):
        values, got = getattr(old, name), getattr(new.motion, name)
        if values is None:
            assert got is None, name
            continue
        for f, source in enumerate(model.face if name == "face" else model.expression or model.face):
            if source[0] == "old":
                np.testing.assert_array_equal(got[f], values[source[1]], err_msg=f"{name} {f}")
            elif source[0] == "template":
                np.testing.assert_array_equal(got[f], template.face[source[1]], err_msg=f"{name} {f}")
            else:
                _, i, j, w = source
                expected = (1 - float(w)) * values[i].astype(np.float64) + float(w) * values[j].astype(np.float64)
                np.testing.assert_allclose(got[f], expected, atol=1e-6, err_msg=f"{name} {f}")
    # Anchors: the kept ones keep id, pose, streams and label; the laid ones are new.
    old_by_id = {a.id: a for a in state.anchors}
    got_kept = {a.id: a for a in new.anchors if a.id in old_by_id}
    assert set(got_kept) == set(model.kept)
    for anchor_id, frame in model.kept.items():
        anchor, before = got_kept[anchor_id], old_by_id[anchor_id]
        if isinstance(frame, Fraction) and frame.denominator == 2:
            assert anchor.frame in (int(frame), int(frame) + 1), (before.frame, frame)
        else:
            assert anchor.frame == round(frame), (before.frame, frame, anchor.frame)
        assert (anchor.streams, anchor.label) == (before.streams, before.label)
        np.testing.assert_array_equal(anchor.pose, before.pose)
    fresh = sorted((a for a in new.anchors if a.id not in old_by_id), key=lambda a: (a.frame, a.label))
    laid = sorted(model.laid, key=lambda x: (x[0], x[3]))
    assert [(a.frame, a.streams, a.label) for a in fresh] == [(f, s, label) for f, _, s, label in laid]
    for anchor, (_, pose, _, _) in zip(fresh, laid, strict=True):
        np.testing.assert_array_equal(anchor.pose, pose)
    assert len({a.id for a in new.anchors}) == len(new.anchors)
    assert [_fields(s, s.start, s.end) for s in new.segments] == model.segments
    # The sign edited, by its place in the new order of signs.
    if model.sign is None:
        assert edit.sign is None
    else:
        assert (new.segments[edit.sign].start, new.segments[edit.sign].gloss) == model.sign
    assert edit.cut == model.cut
    _check_window(new, edit, model, {a.id for a in fresh if a.label == "hold" or template is not None})
    _check_retimed(state, edit, model)


def _check_window(new: TimelineState, edit: SignEdit, model: Model, fresh: set[int]) -> None:
    """Scan outwards from the edited span for the nearest anchor that bounds it, frame by frame."""
    lo, hi = model.span
    bounding = {a.frame for a in new.anchors if a.id not in model.excluded and a.id not in fresh}
    start = next((f for f in range(lo - 1, -1, -1) if f in bounding), 0)
    stop = next((f + 1 for f in range(hi, new.n_frames) if f in bounding), new.n_frames)
    assert edit.regenerate == (start, stop)


def _check_retimed(state: TimelineState, edit: SignEdit, model: Model) -> None:
    for frame in range(state.n_frames + 2):
        if model.cut is None:
            assert edit.retimed(frame) == frame
            continue
        start, stop, length = model.cut
        if frame < start:
            expected = Fraction(frame)
        elif frame >= stop:
            expected = Fraction(frame + length - (stop - start))
        else:
            expected = start + min(max(_proportional(frame - start, stop - start, length), Fraction(0)),
                                   max(length - 1, 0))
        got = edit.retimed(frame)
        if expected.denominator == 2:
            assert got in (int(expected), int(expected) + 1), (frame, expected, got)
        else:
            assert got == round(expected), (frame, expected, got)


_SETTINGS = settings(max_examples=120, deadline=None, derandomize=True)


@_SETTINGS
@given(timelines(), st.data())
def test_moving_a_sign_matches_the_list_model(state: TimelineState, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(state.segments) - 1), "index")
    delta = data.draw(st.integers(-7, 7), "delta")
    _check(state, move_sign(state, index, delta), model_move(state, index, delta))


@_SETTINGS
@given(timelines(), st.data())
def test_stretching_a_sign_matches_the_list_model(state: TimelineState, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(state.segments) - 1), "index")
    length = data.draw(st.integers(0, 11), "length")
    _check(state, stretch_sign(state, index, length), model_stretch(state, index, length))


@_SETTINGS
@given(timelines(), st.data())
def test_deleting_a_sign_matches_the_list_model(state: TimelineState, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(state.segments) - 1), "index")
    close_gap = data.draw(st.booleans(), "close gap")
    bridge_frames = data.draw(st.integers(0, 3), "bridge frames")
    _check(state, delete_sign(state, index, close_gap, bridge_frames),
           model_delete(state, index, close_gap, bridge_frames))


@_SETTINGS
@given(timelines(), st.data())
def test_inserting_replacing_and_duplicating_a_sign_match_the_list_model(state: TimelineState,
                                                                         data: st.DataObject) -> None:
    kind = data.draw(st.sampled_from(["insert", "replace", "duplicate"]), "kind")
    gap_before, gap_after = data.draw(st.integers(0, 2), "gap before"), data.draw(st.integers(0, 2), "gap after")
    if kind == "duplicate":
        index = data.draw(st.integers(0, len(state.segments) - 1), "index")
        segment = state.segments[index]
        own = _own(state, segment)
        face = None if state.motion.face is None else state.motion.face[segment.start:segment.end]
        template = SignTemplate(segment.gloss, state.motion.features[segment.start:segment.end],
                                tuple(Anchor(a.frame - segment.start, a.pose, a.streams, a.label) for a in own),
                                face=face)
        edit = duplicate_sign(state, index, gap_before)
        model = model_lay(state, segment.end, segment.end, template, gap_before, 0, None)
    elif kind == "insert":
        template = _template(data, data.draw(st.booleans(), "template face"))
        at = data.draw(st.integers(0, state.n_frames), "at")
        if sign_at(state.segments, at) is not None and state.segments[sign_at(state.segments, at)].start != at:
            at = insertion_frame(state.segments, at, state.n_frames)
        edit = insert_sign(state, at, template, gap_before, gap_after)
        model = model_lay(state, at, at, template, gap_before, gap_after, None)
    else:
        template = _template(data, data.draw(st.booleans(), "template face"))
        index = data.draw(st.integers(0, len(state.segments) - 1), "index")
        segment = state.segments[index]
        edit = replace_sign(state, index, template, gap_before, gap_after)
        model = model_lay(state, segment.start, segment.end, template, gap_before, gap_after, segment)
    _check(state, edit, model, template)


def test_a_drop_lands_on_its_frame_after_the_sign_under_it_or_at_the_clips_end() -> None:
    """``sign_at`` and ``insertion_frame`` against a per-frame list of which sign covers each frame, on back-to-back
    signs, a sign on frame 0 and one on the clip's last frame."""
    layouts = [[(0, 2), (2, 5), (7, 10)], [(1, 2), (2, 3)], [(0, 10)], [(3, 4), (6, 8)]]
    for spans in layouts:
        segments = [Segment(a, b) for a, b in spans]
        n = 10
        cover = [next((k for k, (a, b) in enumerate(spans) if a <= f < b), None) for f in range(n)]
        for frame in range(-3, n + 4):
            expected_sign = cover[frame] if 0 <= frame < n else None
            assert sign_at(segments, frame) == expected_sign, (spans, frame)
            expected = spans[expected_sign][1] if expected_sign is not None else min(max(frame, 0), n)
            assert insertion_frame(segments, frame, n) == expected, (spans, frame)

