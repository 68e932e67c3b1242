"""Undoable edits. Every user change to the document is one of these on the QUndoStack.

All anchor edits reduce to "replace the anchor set": the command keeps the
anchors and motion from before, so undo restores the exact motion instantly,
and redo asks the regenerator for a new one.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from PySide6 import QtGui

from signeditor.core import rotations
from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.handshapes import Handshape, apply_handshape
from signeditor.core.motion import STREAM_SLICES, hand_pose_mirrored
from signeditor.core.segments import Segment
from signeditor.core.skeleton import ROTATING_JOINTS
from signeditor.gui.document import Document

#: QUndoCommand ids for merging consecutive slider steps into one undo entry.
_JOINT_EDIT_ID = 1001


class SetAnchorsCommand(QtGui.QUndoCommand):
    """Replace the document's anchors; undo restores the anchors and the exact motion from before."""

    def __init__(self, document: Document, anchors: AnchorSet, text: str) -> None:
        super().__init__(text)
        self.document = document
        self.before_anchors, self.before_motion = document.snapshot()
        self.after_anchors = anchors

    def redo(self) -> None:
        self.document.set_anchors(self.after_anchors)

    def undo(self) -> None:
        self.document.set_anchors(self.before_anchors, motion=self.before_motion)


class EditJointRotationCommand(SetAnchorsCommand):
    """Set one joint's local rotation in the pose of one or several anchors (the same rotation in each);
    consecutive slider steps on the same joint of the same anchors merge."""

    def __init__(self, document: Document, anchor_ids: int | tuple[int, ...], joint: str, matrix: np.ndarray) -> None:
        ids = (anchor_ids,) if isinstance(anchor_ids, int) else tuple(anchor_ids)
        j = ROTATING_JOINTS.index(joint)
        rot6d = rotations.matrix_to_rot6d(np.asarray(matrix, dtype=np.float64))
        edited = []
        for anchor_id in ids:
            anchor = document.anchors.by_id(anchor_id)
            pose = anchor.pose.copy()
            pose[6 * j : 6 * j + 6] = rot6d
            edited.append(anchor.with_pose(pose))
        noun = "" if len(ids) == 1 else f" on {len(ids)} anchors"
        super().__init__(document, document.anchors.replaced(*edited), f"Rotate {joint}{noun}")
        self.key = (ids, joint)

    def id(self) -> int:
        return _JOINT_EDIT_ID

    def mergeWith(self, other: QtGui.QUndoCommand) -> bool:
        if not isinstance(other, EditJointRotationCommand) or other.key != self.key:
            return False
        self.after_anchors = other.after_anchors
        return True


class SetSegmentsCommand(QtGui.QUndoCommand):
    def __init__(self, document: Document, segments: list[Segment], text: str) -> None:
        super().__init__(text)
        self.document = document
        self.before = list(document.project.segments)
        self.after = list(segments)

    def redo(self) -> None:
        self.document.set_segments(self.after)

    def undo(self) -> None:
        self.document.set_segments(self.before)


# --- command factories (what the menu actions and timeline signals call) ------------------------------------------
def move_anchors(document: Document, anchor_ids: tuple[int, ...], delta: int) -> SetAnchorsCommand:
    base, _ = document.snapshot()
    moved = [base.by_id(i) for i in anchor_ids]
    anchors = base.replaced(*(a.moved_to(a.frame + delta) for a in moved))
    noun = "anchor" if len(moved) == 1 else f"{len(moved)} anchors"
    return SetAnchorsCommand(document, anchors, f"Move {noun} by {delta:+d}")


def preview_move(document: Document, anchor_ids: tuple[int, ...], delta: int) -> AnchorSet:
    base, _ = document.snapshot()
    return base.replaced(*(base.by_id(i).moved_to(base.by_id(i).frame + delta) for i in anchor_ids))


def insert_anchor(document: Document, frame: int, pose: np.ndarray | None = None, label: str = "") -> SetAnchorsCommand:
    """Pin the pose at ``frame`` (the motion's own pose unless one is given, e.g. pasted)."""
    pose = document.pose_at(frame) if pose is None else pose
    anchor = Anchor(frame, pose, label=label)
    command = SetAnchorsCommand(document, document.anchors.added(anchor), f"Insert anchor at {frame}")
    command.anchor_id = anchor.id  # type: ignore[attr-defined]
    return command


def delete_anchors(document: Document, anchor_ids: tuple[int, ...]) -> SetAnchorsCommand:
    noun = "anchor" if len(anchor_ids) == 1 else f"{len(anchor_ids)} anchors"
    return SetAnchorsCommand(document, document.anchors.removed(*anchor_ids), f"Delete {noun}")


def paste_pose(document: Document, anchor_ids: tuple[int, ...], pose: np.ndarray) -> SetAnchorsCommand:
    anchors = document.anchors.replaced(*(document.anchors.by_id(i).with_pose(pose) for i in anchor_ids))
    return SetAnchorsCommand(document, anchors, "Paste pose")


def mirror_hand(document: Document, anchor_ids: tuple[int, ...], source: str) -> SetAnchorsCommand:
    """Copy ``source`` hand ("left_hand"|"right_hand") onto the other hand, mirrored, at each anchor."""
    target = "right_hand" if source == "left_hand" else "left_hand"
    edited = []
    for anchor_id in anchor_ids:
        anchor = document.anchors.by_id(anchor_id)
        pose = anchor.pose.copy()
        pose[STREAM_SLICES[target]] = hand_pose_mirrored(pose[STREAM_SLICES[source]])
        edited.append(anchor.with_pose(pose))
    side = "left" if source == "left_hand" else "right"
    return SetAnchorsCommand(document, document.anchors.replaced(*edited), f"Mirror {side} hand")


def apply_handshape_to_anchors(document: Document, anchor_ids: tuple[int, ...], handshape: Handshape,
                               hand: str) -> SetAnchorsCommand:
    """Set a library handshape on ``hand`` ("right", "left" mirrored, or "both") of each anchor, as one undo step."""
    # The edited hand must be pinned, or the anchor would carry the new shape without constraining the motion.
    streams = {"right": {"right_hand"}, "left": {"left_hand"}, "both": {"right_hand", "left_hand"}}[hand]
    edited = []
    for anchor_id in anchor_ids:
        anchor = document.anchors.by_id(anchor_id)
        edited.append(replace(anchor.with_pose(apply_handshape(anchor.pose, handshape, hand)),
                              streams=anchor.streams | streams))
    where = {"right": "right hand", "left": "left hand", "both": "both hands"}[hand]
    noun = "" if len(anchor_ids) == 1 else f", {len(anchor_ids)} anchors"
    text = f"Handshape {handshape.letter} ({handshape.language}) on {where}{noun}"
    return SetAnchorsCommand(document, document.anchors.replaced(*edited), text)


def move_segment_boundary(document: Document, index: int, side: str, frame: int) -> SetSegmentsCommand:
    """Move a sign's start or end, keeping it at least one frame long and inside the clip."""
    segments = list(document.project.segments)
    segment = segments[index]
    if side == "start":
        start = min(max(frame, 0), segment.end - 1)
        segments[index] = Segment(start, segment.end, segment.gloss, segment.confidence)
    else:
        end = max(min(frame, document.n_frames), segment.start + 1)
        segments[index] = Segment(segment.start, end, segment.gloss, segment.confidence)
    return SetSegmentsCommand(document, segments, f"Move {segment.gloss or 'sign'} {side}")
