"""Model-based undo for sign-level and per-lane commands (``gui/sign_commands``) on a bare Document.

Random sign edits (move, stretch, delete either way, duplicate, insert, replace) and lane edits (insert, move a
lane of an anchor, paste a hand), undos and redos, against a plain list model of the stack. What the editor
promises, stated without the code under test:

- every command is one undo step (none merge); undo restores the state from before it exactly (motion bit for
  bit, anchors with ids, frames, streams and poses, the signs, the non-manual keys), redo the state after it;
- a sign edit lays the edit's anchors and signs and regenerates the window it names; outside that window the
  motion is the edit's, bit for bit;
- a non-manual key keeps its frame before the edited frames, moves with what follows them by the change in
  length, and stays inside the clip;
- a lane anchor pins only its lane: inserting one adds an anchor on that stream with the motion's pose there;
  moving a lane of a multi-lane anchor leaves the anchor with its other lanes where it was and adds the lane,
  same pose and label, at the new frame (clipped to the clip); a paste puts the values on that hand and pins it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import numpy as np
import pytest
from gui_helpers import regenerating_document, undo_or_redo

from signeditor.core import rotations
from signeditor.core.anchors import ALL_STREAMS, Anchor, AnchorSet
from signeditor.core.motion import STREAM_SLICES, Motion
from signeditor.core.nonmanual import LANES, FaceKey
from signeditor.core.project import Project
from signeditor.core.segments import Segment
from signeditor.core.sign_edits import SignTemplate
from signeditor.gui import sign_commands
from signeditor.gui.document import Document

N_FRAMES = 40


def _features(n: int, seed: int) -> np.ndarray:
    noisy = Motion.rest(n).features + np.random.default_rng(seed).normal(0, 0.3, (n, Motion.rest(1).features.size))
    return rotations.orthonormalize_rot6d(noisy.reshape(n, -1, 6)).reshape(n, -1).astype(np.float32)


def _state(doc: Document) -> tuple:
    anchors = tuple((a.id, a.frame, a.label, tuple(sorted(a.streams)), a.pose.tobytes()) for a in doc.anchors)
    segments = tuple((s.start, s.end, s.gloss, s.status) for s in doc.project.segments)
    keys = tuple((k.id, k.frame, k.lane, k.values.tobytes()) for k in doc.project.face_keys)
    return anchors, segments, keys, doc.motion.features.tobytes(), doc.motion.filled.tobytes()


@pytest.fixture
def document(qapp) -> Document:
    """Back-to-back signs A [4, 10), B [10, 16), then C [20, 27) and D [34, 40) (on the clip's last frame), anchors
    on their first and last frames (B's onset on A's end), a body-only anchor in a gap; non-manual keys before, on
    and after the signs' edges and on the clip's last frame."""
    features = _features(N_FRAMES, 1)
    motion = Motion(25.0, features)
    segments = [Segment(4, 10, "A"), Segment(10, 16, "B"), Segment(20, 27, "C"), Segment(34, 40, "D")]
    anchors = [Anchor(f, features[f], label=f"{s.gloss} {role}") for s in segments
               for f, role in ((s.start, "onset"), (s.end - 1, "offset"))]
    anchors.append(Anchor(18, features[18], frozenset({"body"}), label="gap"))
    project = Project(motion, AnchorSet(anchors))
    project.segments = segments
    project.face_keys = tuple(FaceKey(f, "Brows", np.full(len(LANES["Brows"]), f / N_FRAMES, np.float32))
                              for f in (0, 4, 9, 10, 15, 16, 20, 26, 27, 39))
    doc, regenerate = regenerating_document(project)
    doc.test_regenerator = regenerate  # type: ignore[attr-defined]  (its calls: which windows were regenerated)
    return doc


@dataclass
class _Step:
    before: tuple
    after: tuple


def _template(rng: random.Random) -> SignTemplate:
    length = rng.randint(1, 5)
    features = _features(length, rng.randint(0, 999))
    return SignTemplate("NEW", features, (Anchor(0, features[0], label="NEW onset"),))


def _check_sign_edit(doc: Document, command: sign_commands.SignEditCommand, keys_before: tuple) -> None:
    edit = command.edit
    new = edit.state
    assert [(a.id, a.frame, a.streams) for a in doc.anchors] == [(a.id, a.frame, a.streams) for a in new.anchors]
    assert doc.project.segments == list(new.segments)
    lo, hi = edit.regenerate
    lo, hi = max(lo, 0), min(hi, new.n_frames)
    if hi > lo:
        assert doc.test_regenerator.calls[-1] == (lo, hi), "the edit's window is regenerated"
    outside = [f for f in range(new.n_frames) if not lo <= f < hi]
    np.testing.assert_array_equal(doc.motion.features[outside], new.motion.features[outside])
    n_before = len(command.before.motion.features)
    for old, key in zip(keys_before, doc.project.face_keys, strict=True):
        assert key.id == old.id
        if edit.cut is None:
            expected = {old.frame}
        else:
            start, stop, length = edit.cut
            if old.frame < start:
                expected = {old.frame}
            elif old.frame >= stop:
                expected = {old.frame + length - (stop - start)}
            else:  # inside the edited frames: somewhere in what they became
                expected = set(range(start, start + max(length, 1)))
        expected = {min(max(f, 0), new.n_frames - 1) for f in expected}
        assert key.frame in expected, (old.frame, edit.cut, key.frame, n_before)


def _check_lane_edit(doc: Document, kind: str, before: AnchorSet, motion: Motion, args: tuple) -> None:
    old = {a.id: a for a in before}
    new = {a.id: a for a in doc.anchors}
    added = [new[i] for i in new if i not in old]
    if kind == "lane insert":
        frame, stream = args
        (anchor,) = added
        assert (anchor.frame, anchor.streams) == (frame, frozenset({stream}))
        np.testing.assert_array_equal(anchor.pose, motion.features[frame])
        assert set(old) <= set(new)
    elif kind == "lane move":
        anchor_id, stream, delta = args
        source = old[anchor_id]
        frame = min(max(source.frame + delta, 0), motion.n_frames - 1)
        if source.streams == frozenset({stream}):
            assert not added and new[anchor_id].frame == frame
        else:
            (lane,) = added
            assert (lane.frame, lane.streams, lane.label) == (frame, frozenset({stream}), source.label)
            np.testing.assert_array_equal(lane.pose, source.pose)
            kept = new[anchor_id]
            assert (kept.frame, kept.streams) == (source.frame, source.streams - {stream})
            np.testing.assert_array_equal(kept.pose, source.pose)
        assert all(new[i].frame == a.frame and new[i].streams == a.streams for i, a in old.items() if i != anchor_id)
    else:
        anchor_ids, stream, values = args
        assert not added
        for i, a in old.items():
            if i in anchor_ids:
                pose = a.pose.copy()
                pose[STREAM_SLICES[stream]] = values
                np.testing.assert_array_equal(new[i].pose, pose)
                assert new[i].streams == a.streams | {stream}
            else:
                np.testing.assert_array_equal(new[i].pose, a.pose)
                assert new[i].streams == a.streams


def _random_command(doc: Document, rng: random.Random):
    n_signs = len(doc.project.segments)
    kinds = ["lane insert", "lane move", "paste"] + (["move", "stretch", "delete", "duplicate", "replace"]
                                                     if n_signs else []) + ["insert"] * (doc.n_frames < 70)
    kind = rng.choice(kinds)
    index = rng.randrange(n_signs) if n_signs else 0
    if kind == "move":
        return kind, sign_commands.move_sign(doc, index, rng.choice([-4, -1, 1, 3, 9])), ()
    if kind == "stretch":
        return kind, sign_commands.stretch_sign(doc, index, rng.randint(0, 9)), ()
    if kind == "delete":
        return kind, sign_commands.delete_sign(doc, index, rng.random() < 0.5), ()
    if kind == "duplicate":
        return kind, sign_commands.duplicate_sign(doc, index), ()
    if kind == "replace":
        return kind, sign_commands.replace_sign(doc, index, _template(rng)), ()
    if kind == "insert":
        return kind, sign_commands.insert_sign(doc, rng.randint(-2, doc.n_frames + 2), _template(rng)), ()
    stream = rng.choice(sorted(ALL_STREAMS))
    if kind == "lane insert":
        frame = rng.randrange(doc.n_frames)
        return kind, sign_commands.insert_lane_anchor(doc, frame, stream), (frame, stream)
    anchor_id = rng.choice([a.id for a in doc.anchors])
    if kind == "lane move":
        delta = rng.choice([-50, -2, 1, 3, 50])
        return kind, sign_commands.move_lane_anchor(doc, anchor_id, stream, delta), (anchor_id, stream, delta)
    stream = rng.choice(["left_hand", "right_hand"])
    values = _features(1, rng.randint(0, 999))[0, STREAM_SLICES[stream]]
    return kind, sign_commands.paste_hand(doc, (anchor_id,), stream, values), ((anchor_id,), stream, values)


@pytest.mark.parametrize("seed", range(12))
def test_sign_and_lane_commands_undo_and_redo_exactly_and_do_what_they_say(document: Document, seed: int) -> None:
    rng = random.Random(seed)
    doc, stack = document, document.undo_stack
    steps: list[_Step] = []
    index = 0
    for _ in range(24):
        action = rng.choice(["edit"] * 4 + ["undo", "undo", "redo"])
        if action in ("undo", "redo"):
            index = undo_or_redo(action, doc, steps, index, _state)
        else:
            before, anchors, motion, keys = _state(doc), doc.anchors, doc.motion.copy(), doc.project.face_keys
            kind, command, args = _random_command(doc, rng)
            stack.push(command)
            if isinstance(command, sign_commands.SignEditCommand):
                _check_sign_edit(doc, command, keys)
            else:
                _check_lane_edit(doc, kind, anchors, motion, args)
                assert doc.project.face_keys == keys
            del steps[index:]
            steps.append(_Step(before, _state(doc)))
            index += 1
        assert (stack.count(), stack.index()) == (len(steps), index)
    while index > 0:
        stack.undo()
        index -= 1
        assert _state(doc) == steps[index].before
