"""Model-based undo on a bare Document: random edits, undos and redos against a plain list model of the stack.

The model knows only what the editor promises: each edit is one undo step, except consecutive rotations of
the same joint on the same anchors (slider steps), which merge; an undo restores the state from before the
step exactly (anchors with their ids, frames and poses, the signs, the motion bit for bit) and a redo the
state after it. A synchronous hold regenerator (tests/gui_helpers.py) rewrites the motion after every edit, so
the motion is part of what must come back.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

import numpy as np
import pytest
from gui_helpers import HoldRegenerate, raised_arm_pose, regenerating_document, undo_or_redo

from signeditor.core import rotations
from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.motion import Motion
from signeditor.core.project import Project
from signeditor.core.segments import Segment
from signeditor.gui import commands
from signeditor.gui.document import Document

JOINTS = ("R_Wrist", "L_Wrist", "R_Elbow")
N_FRAMES = 60


def _state(doc: Document) -> tuple:
    """Everything an undo must restore, as plain comparable values."""
    anchors = tuple((a.id, a.frame, a.label, tuple(sorted(a.streams)), a.pose.tobytes()) for a in doc.anchors)
    segments = tuple((s.start, s.end, s.gloss) for s in doc.project.segments)
    return anchors, segments, doc.motion.features.tobytes()


@pytest.fixture
def document(qapp) -> Document:
    motion = Motion.rest(N_FRAMES)
    anchors = AnchorSet([Anchor(10, motion.features[10], label="A onset"), Anchor(30, raised_arm_pose()),
                         Anchor(50, motion.features[50], label="B offset")])
    project = Project(HoldRegenerate()(motion, anchors, None), anchors)
    project.segments = [Segment(10, 30, "A"), Segment(30, 51, "B")]
    return regenerating_document(project)[0]


@dataclass
class _Step:
    merge_key: tuple | None  # (anchor ids, joint) for a joint rotation, else None
    before: tuple
    after: tuple


def _random_edit(doc: Document, rng: random.Random, last_key: tuple | None):
    """A command, and its merge key (rotations only). Rotations often repeat the last one's joint and anchor."""
    ids = [a.id for a in doc.anchors]
    kind = rng.choice(["rotate", "rotate", "rotate", "move", "insert", "delete"])
    if kind == "rotate":
        if last_key is not None and rng.random() < 0.5 and all(i in ids for i in last_key[0]):
            anchor_ids, joint = last_key
        else:
            anchor_ids = (rng.choice(ids),) if rng.random() < 0.8 else tuple(sorted(rng.sample(ids, min(2, len(ids)))))
            joint = rng.choice(JOINTS)
        matrix = rotations.axis_angle_to_matrix(np.array([rng.uniform(-1, 1) for _ in range(3)]))
        return commands.EditJointRotationCommand(doc, anchor_ids, joint, matrix), (anchor_ids, joint)
    if kind == "move":
        return commands.move_anchors(doc, (rng.choice(ids),), rng.choice([-3, -1, 1, 2, 5])), None
    if kind == "delete" and len(ids) > 1:
        return commands.delete_anchors(doc, (rng.choice(ids),)), None
    # A click on the timeline may land past either end of the clip: the document keeps the anchor on it.
    frame = rng.choice([f for f in range(-3, N_FRAMES + 3) if f not in doc.anchors.frames])
    return commands.insert_anchor(doc, frame), None


@pytest.mark.parametrize("seed", range(25))
def test_random_edits_undo_and_redo_exactly_and_only_same_joint_steps_merge(document: Document, seed: int):
    rng = random.Random(seed)
    doc, stack = document, document.undo_stack
    steps: list[_Step] = []  # the model: the stack's commands
    index = 0  # the model's stack index
    for _ in range(40):
        action = rng.choice(["edit"] * 4 + ["undo", "undo", "redo", "redo"])
        if action in ("undo", "redo"):
            index = undo_or_redo(action, doc, steps, index, _state)
        else:
            top = steps[index - 1] if index > 0 else None
            before = _state(doc)
            command, key = _random_edit(doc, rng, top.merge_key if top else None)
            stack.push(command)
            del steps[index:]
            if key is not None and top is not None and top.merge_key == key:
                top.after = _state(doc)  # a slider step of the same joint: one undo step with the one before
            else:
                steps.append(_Step(key, before, _state(doc)))
                index += 1
        assert (stack.count(), stack.index()) == (len(steps), index)
        assert all(0 <= a.frame < N_FRAMES for a in doc.anchors), "an edit moved an anchor off the clip"
    while index > 0:  # unwinding everything restores each earlier state in turn
        stack.undo()
        index -= 1
        assert _state(doc) == steps[index].before


def test_rotating_two_different_joints_is_two_undo_steps(document: Document):
    doc = document
    anchor = doc.anchors[1].id
    start = _state(doc)
    turn = rotations.axis_angle_to_matrix(np.array([0.3, 0.0, 0.0]))
    doc.undo_stack.push(commands.EditJointRotationCommand(doc, anchor, "R_Wrist", turn))
    after_right = _state(doc)
    doc.undo_stack.push(commands.EditJointRotationCommand(doc, anchor, "L_Wrist", turn))
    assert doc.undo_stack.count() == 2
    doc.undo_stack.undo()
    assert _state(doc) == after_right, "one undo takes back the left wrist only"
    doc.undo_stack.undo()
    assert _state(doc) == start


@pytest.mark.parametrize(("label", "delta", "bounds"), [
    ("A onset", 2, [(12, 30), (30, 51)]),  # the onset anchor moves its sign's start
    ("B offset", -4, [(10, 30), (30, 47)]),  # the offset anchor (last frame 50) moves its sign's end
    ("B offset", 20, [(10, 30), (30, 60)]),  # ...never past the clip's end: the anchor stops on the last frame
])
def test_moving_an_onset_or_offset_anchor_moves_its_sign_in_one_undo_step(document: Document, label: str,
                                                                         delta: int, bounds: list):
    doc = document
    start = _state(doc)
    anchor = next(a for a in doc.anchors if a.label == label)
    doc.undo_stack.push(commands.move_anchors(doc, (anchor.id,), delta))
    assert [(s.start, s.end) for s in doc.project.segments] == bounds
    assert doc.anchors.by_id(anchor.id).frame == min(anchor.frame + delta, N_FRAMES - 1)
    doc.undo_stack.undo()
    assert _state(doc) == start


@pytest.mark.parametrize("delta", [10**6, -(10**6)])
def test_anchors_moved_past_either_end_stop_at_the_clip(document: Document, delta: int) -> None:
    """A move (drag or key) far past the clip lands on its first or last frame, in one undo step."""
    middle = next(a for a in document.anchors if a.frame == 30)
    document.undo_stack.push(commands.move_anchors(document, (middle.id,), delta))
    moved = next(a for a in document.anchors if a.id == middle.id)
    assert moved.frame == (N_FRAMES - 1 if delta > 0 else 0)
    document.undo_stack.undo()
    assert next(a for a in document.anchors if a.id == middle.id).frame == 30


@pytest.mark.parametrize(("frame", "label"), [
    (0, "HAUS frame 0"), (9, "HAUS frame 9"), (10, "SIGN2 frame 0"), (19, "SIGN2 frame 9"), (20, "frame 20"),
])
def test_an_inserted_anchor_is_named_after_the_sign_whose_frames_hold_it(frame: int, label: str) -> None:
    """HAUS on frames 0-9 and an unglossed sign on 10-19, back to back: an anchor on frame 10 belongs to the second
    sign (its frame 0), one on frame 20 to none."""
    from signeditor.core.segments import Segment
    from signeditor.gui.commands import inserted_anchor_label

    assert inserted_anchor_label([Segment(10, 20), Segment(0, 10, "HAUS")], frame) == label


@pytest.mark.parametrize(("side", "frame", "bounds"), [
    ("end", N_FRAMES + 7, (30, N_FRAMES)),  # dragged past the clip's end: B ends with the clip (its last frame in)
    ("end", N_FRAMES, (30, N_FRAMES)),
    ("end", 20, (30, 31)),  # dragged before its start: one frame long
    ("start", -5, (0, 51)),
    ("start", 60, (50, 51)),
])
def test_dragging_a_signs_edge_stops_at_the_clip_and_keeps_a_frame(document: Document, side: str, frame: int,
                                                                  bounds: tuple[int, int]) -> None:
    """Sign B (frames 30-50) edge-dragged: the end may reach the clip's end (B then holds its last frame), the start
    the clip's first frame; neither passes the other, so B keeps at least one frame. One undo step restores B."""
    from signeditor.gui.commands import move_segment_boundary

    document.undo_stack.push(move_segment_boundary(document, 1, side, frame))
    moved = document.project.segments[1]
    assert (moved.start, moved.end) == bounds
    document.undo_stack.undo()
    assert (document.project.segments[1].start, document.project.segments[1].end) == (30, 51)


@pytest.mark.parametrize("source", ["left_hand", "right_hand"])
def test_mirroring_a_hand_copies_it_onto_the_other_hand_reflected_and_leaves_it(document: Document,
                                                                              source: str) -> None:
    """Mirror the left hand: the right hand takes the left's joint rotations reflected through the body's midplane
    (x -> -x: R -> M R M with M = diag(-1, 1, 1), by hand), the left hand is unchanged; one undo restores both."""
    from signeditor.core.motion import STREAM_SLICES
    from signeditor.gui.commands import mirror_hand

    target = "right_hand" if source == "left_hand" else "left_hand"
    anchor = document.anchors[1]  # frame 30, a raised arm with a hand pose of its own
    rng = np.random.default_rng(3)
    pose = anchor.pose.copy()
    joints = (STREAM_SLICES[source].stop - STREAM_SLICES[source].start) // 6
    pose[STREAM_SLICES[source]] = rotations.axis_angle_to_rot6d(rng.normal(0, 0.5, (joints, 3))).reshape(-1)
    document.undo_stack.push(commands.SetAnchorsCommand(document, document.anchors.replaced(anchor.with_pose(pose)),
                                                        "pose"))
    before = document.anchors.by_id(anchor.id).pose.copy()
    document.undo_stack.push(mirror_hand(document, (anchor.id,), source))
    after = document.anchors.by_id(anchor.id).pose
    reflect = np.diag([-1.0, 1.0, 1.0])
    source_rotations = rotations.rot6d_to_matrix(before[STREAM_SLICES[source]].reshape(-1, 6).astype(np.float64))
    np.testing.assert_allclose(rotations.rot6d_to_matrix(after[STREAM_SLICES[target]].reshape(-1, 6)
                                                         .astype(np.float64)),
                               reflect @ source_rotations @ reflect, atol=1e-5)
    np.testing.assert_array_equal(after[STREAM_SLICES[source]], before[STREAM_SLICES[source]])
    document.undo_stack.undo()
    np.testing.assert_array_equal(document.anchors.by_id(anchor.id).pose, before)


@pytest.mark.parametrize(("hand", "pinned"), [("right", {"right_hand"}), ("left", {"left_hand"}),
                                              ("both", {"left_hand", "right_hand"})])
def test_a_handshape_set_on_a_body_only_anchor_pins_the_hand_it_shapes(document: Document, hand: str,
                                                                       pinned: set[str]) -> None:
    """An anchor pinning only the body gets the letter B on a hand: that hand's stream is pinned too (else the
    shape would be carried without shaping the motion), the other hand's is not; one undo restores the anchor."""
    from signeditor.core.handshapes import load_handshape_library
    from signeditor.gui.commands import apply_handshape_to_anchors

    anchor = document.anchors[0]
    body_only = replace(anchor, streams=frozenset({"body"}))
    document.undo_stack.push(commands.SetAnchorsCommand(document, document.anchors.replaced(body_only), "streams"))
    document.undo_stack.push(apply_handshape_to_anchors(document, (anchor.id,),
                                                        load_handshape_library().get("ase", "B"), hand))
    assert set(document.anchors.by_id(anchor.id).streams) == {"body"} | pinned
    document.undo_stack.undo()
    assert document.anchors.by_id(anchor.id).streams == frozenset({"body"})


@pytest.mark.parametrize(("selected", "playhead", "span"), [
    ((10, 50), 0, (10, 51)),  # two selected anchors: from the first to the last, both included
    ((30,), 0, (10, 51)),  # one: between its neighbours, both included
    ((), 5, (0, 11)),  # none: the stretch around the playhead, from the clip's start to the next anchor
    ((), 55, (50, 60)),  # ... or from the last anchor to the clip's end
])
def test_a_span_action_works_on_the_frames_between_the_chosen_anchors(document: Document, selected: tuple[int, ...],
                                                                      playhead: int, span: tuple[int, int]) -> None:
    """Anchors on frames 10, 30 and 50 of 60 (written out by hand)."""
    from signeditor.gui.commands import selection_span

    ids = tuple(a.id for a in document.anchors if a.frame in selected)
    assert selection_span(document, ids, playhead) == span
