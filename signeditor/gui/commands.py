"""Undoable edits. Every user change to the document is one of these on the QUndoStack.

All anchor edits reduce to "replace the anchor set" (and, when a sign's onset
or offset anchor moves, its bar with it): the command keeps the anchors and
motion from before, so undo restores the exact motion instantly, and redo asks
the regenerator for a new one. History texts name what changed in the user's
terms (the sign and the anchor's role), not ids.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from PySide6 import QtGui

from signeditor.core import rotations
from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.handshapes import Handshape, apply_handshape
from signeditor.core.motion import STREAM_SLICES, hand_pose_mirrored
from signeditor.core.recording import Recording, take_span
from signeditor.core.segments import Segment, segments_following
from signeditor.core.skeleton import ROTATING_JOINTS
from signeditor.gui.document import Document

#: QUndoCommand ids for merging consecutive slider steps into one undo entry.
_JOINT_EDIT_ID = 1001


#: Roles of the anchors FAST places on a sign (``keyframes.anchors_from_segments`` labels them "GLOSS role").
ANCHOR_ROLES: tuple[str, ...] = ("onset", "middle", "offset")


def describe_anchor(anchor: Anchor) -> str:
    """An anchor as the history names it: "'HAUS' onset anchor", "anchor 'HAUS frame 3'", "anchor at frame 12"."""
    label = anchor.label.strip()
    name, _, role = label.rpartition(" ")
    if name and role in ANCHOR_ROLES:
        return f"'{name}' {role} anchor"
    return f"anchor '{label}'" if label else f"anchor at frame {anchor.frame}"


def describe_anchors(anchors: list[Anchor]) -> str:
    return describe_anchor(anchors[0]) if len(anchors) == 1 else f"{len(anchors)} anchors"


class SetAnchorsCommand(QtGui.QUndoCommand):
    """Replace the document's anchors (and the signs, when given); undo restores both and the exact motion."""

    def __init__(self, document: Document, anchors: AnchorSet, text: str,
                 segments: list[Segment] | None = None) -> None:
        super().__init__(text)
        self.document = document
        self.before_anchors, self.before_motion = document.snapshot()
        self.after_anchors = anchors
        self.before_segments = list(document.project.segments)
        self.after_segments = None if segments is None else list(segments)

    def redo(self) -> None:
        if self.after_segments is not None:
            self.document.set_segments(self.after_segments)
        self.document.set_anchors(self.after_anchors)

    def undo(self) -> None:
        if self.after_segments is not None:
            self.document.set_segments(self.before_segments)
        self.document.set_anchors(self.before_anchors, motion=self.before_motion)


class SetRecordingCommand(QtGui.QUndoCommand):
    """Mark a span of the recording captured or generated; undo restores the flags and the exact motion."""

    def __init__(self, document: Document, recording: Recording, span: tuple[int, int], text: str) -> None:
        super().__init__(text)
        self.document = document
        self.before_recording, self.before_motion = document.recording, document.motion
        self.after_recording = recording
        self.span = span

    def redo(self) -> None:
        self.document.set_recording(self.after_recording, regenerate=self.span)

    def undo(self) -> None:
        self.document.set_recording(self.before_recording, motion=self.before_motion)


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
        what = describe_anchors([document.anchors.by_id(i) for i in ids])
        super().__init__(document, document.anchors.replaced(*edited), f"Rotate {joint} on {what}")
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
    """Move anchors in time; the signs they begin or end move their bars with them."""
    base, _ = document.snapshot()
    moved = [base.by_id(i) for i in anchor_ids]
    anchors = base.replaced(*(a.moved_to(a.frame + delta) for a in moved)).clamped(document.n_frames)
    moves = {a.frame: anchors.by_id(a.id).frame for a in moved}
    segments = segments_following(document.project.segments, moves, document.n_frames)
    text = f"Move {describe_anchors(moved)} by {delta:+d} frame{'' if abs(delta) == 1 else 's'}"
    return SetAnchorsCommand(document, anchors, text,
                             segments=None if segments == document.project.segments else segments)


def preview_move(document: Document, anchor_ids: tuple[int, ...], delta: int) -> AnchorSet:
    base, _ = document.snapshot()
    return base.replaced(*(base.by_id(i).moved_to(base.by_id(i).frame + delta) for i in anchor_ids))


def inserted_anchor_label(segments: list[Segment], frame: int) -> str:
    """A name for an anchor the user adds: the sign it falls in and where in it ("HAUS frame 3"), else the frame."""
    for index, segment in enumerate(sorted(segments, key=lambda s: s.start)):
        if segment.start <= frame < segment.end:
            return f"{segment.gloss or f'SIGN{index + 1}'} frame {frame - segment.start}"
    return f"frame {frame}"


def insert_anchor(document: Document, frame: int, pose: np.ndarray | None = None, label: str = "") -> SetAnchorsCommand:
    """Pin the pose at ``frame`` (the motion's own pose unless one is given, e.g. pasted), named after its sign."""
    pose = document.pose_at(frame) if pose is None else pose
    anchor = Anchor(frame, pose, label=label or inserted_anchor_label(document.project.segments, frame))
    command = SetAnchorsCommand(document, document.anchors.added(anchor), f"Insert {describe_anchor(anchor)}")
    command.anchor_id = anchor.id  # type: ignore[attr-defined]
    return command


def delete_anchors(document: Document, anchor_ids: tuple[int, ...]) -> SetAnchorsCommand:
    what = describe_anchors([document.anchors.by_id(i) for i in anchor_ids])
    return SetAnchorsCommand(document, document.anchors.removed(*anchor_ids), f"Delete {what}")


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
        segments[index] = segment.with_bounds(start, segment.end)
    else:
        end = max(min(frame, document.n_frames), segment.start + 1)
        segments[index] = segment.with_bounds(segment.start, end)
    return SetSegmentsCommand(document, segments, f"Move {segment.gloss or 'sign'} {side}")


def mark_recording_span(document: Document, lo: int, hi: int, captured: bool) -> SetRecordingCommand:
    """Regenerate frames [lo, hi) of a recording (``captured=False``) or bring the capture back there (True).

    The take itself never changes, so a regenerated span can always be
    compared with the capture and restored, and both are one undo step.
    """
    if document.recording is None:
        raise ValueError("this project has no recording: all of its motion is generated")
    take_lo, take_hi = take_span(document.recording, document.anchors, lo, hi)
    recording = document.recording.with_captured(take_lo, take_hi, captured)
    verb = "Restore recording" if captured else "Regenerate"
    return SetRecordingCommand(document, recording, (lo, hi), f"{verb} frames {lo}–{hi - 1}")


def selection_span(document: Document, anchor_ids: tuple[int, ...], frame: int) -> tuple[int, int]:
    """Frames [lo, hi) a span action works on: from the first to the last selected anchor; for one selected
    anchor (or none: the playhead's frame), the stretch between its neighbouring anchors (or the clip's ends)."""
    n = document.n_frames
    frames = sorted(document.anchors.by_id(i).frame for i in anchor_ids)
    if len(frames) >= 2 and frames[-1] > frames[0]:
        return frames[0], frames[-1] + 1
    centre = frames[0] if frames else frame
    before, after = document.anchors.neighbours(centre)
    return (0 if before is None else before), (n if after is None else after + 1)
