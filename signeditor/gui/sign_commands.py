"""Undoable sign-level and per-lane edits: each user gesture is one QUndoCommand.

Sign edits may change the clip's length, so they replace the document's
whole content (motion, anchors, signs); undo restores the exact content from
before, redo lays the edit again and regenerates only the window around it.
Per-lane edits touch the anchors of one stream (right hand, left hand, body,
face) and reuse the ordinary anchor command.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from PySide6 import QtGui

from signeditor.core import sign_edits
from signeditor.core.anchors import Anchor
from signeditor.core.motion import STREAM_SLICES
from signeditor.core.sign_edits import SignEdit, SignTemplate, TimelineState
from signeditor.drafts.pipeline import DraftSettings, transition_frames
from signeditor.gui.commands import SetAnchorsCommand
from signeditor.gui.document import Document

LANE_NAMES: dict[str, str] = {"right_hand": "right hand", "left_hand": "left hand", "body": "body", "jaw": "face"}


class SignEditCommand(QtGui.QUndoCommand):
    """Replace the document's content by a sign edit's result; undo restores the exact content from before."""

    def __init__(self, document: Document, edit: SignEdit, text: str) -> None:
        super().__init__(text)
        self.document = document
        self.before = state_of(document)
        self.edit = edit
        # Non-manual keys stay with the signing they belong to: those after the edit move with it.
        self.before_face_keys = document.project.face_keys
        self.after_face_keys = tuple(k.moved_to(edit.retimed(k.frame)) for k in self.before_face_keys)

    def redo(self) -> None:
        state = self.edit.state  # on a recording the edit was made to the take too (core.recording_layout)
        self.document.set_content(state.motion, state.anchors, list(state.segments), state.recording,
                                  self.edit.regenerate)
        if self.after_face_keys != self.before_face_keys:
            self.document.set_face_keys(self.after_face_keys)

    def undo(self) -> None:
        state = self.before
        self.document.set_content(state.motion, state.anchors, list(state.segments), state.recording)
        if self.after_face_keys != self.before_face_keys:
            self.document.set_face_keys(self.before_face_keys)


def state_of(document: Document) -> TimelineState:
    """The committed content (a drag preview is not a state to return to)."""
    anchors, motion = document.snapshot()
    return TimelineState(motion, anchors, tuple(sorted(document.project.segments, key=lambda s: s.start)),
                         document.recording)


def _name(state: TimelineState, index: int) -> str:
    return state.segments[index].gloss or f"sign {index + 1}"


def _gap(end_pose: np.ndarray, start_pose: np.ndarray, fps: float) -> int:
    """Transition length between two poses, as drafts lay them (hand travel over a signing speed)."""
    return transition_frames(end_pose, start_pose, DraftSettings(), fps)


# --- sign edits -------------------------------------------------------------------------------------------------
def move_sign(document: Document, index: int, delta: int) -> SignEditCommand:
    state = state_of(document)
    edit = sign_edits.move_sign(state, index, delta)
    moved = edit.state.segments[edit.sign].start - state.segments[index].start
    how = " (time-warp: the capture is kept)" if state.recording is not None else ""
    return SignEditCommand(document, edit, f"Move sign {_name(state, index)} by {moved:+d}{how}")


def stretch_sign(document: Document, index: int, length: int) -> SignEditCommand:
    state = state_of(document)
    old = state.segments[index].length
    edit = sign_edits.stretch_sign(state, index, length)
    verb = "Stretch" if length >= old else "Compress"
    return SignEditCommand(document, edit, f"{verb} sign {_name(state, index)} to {max(2, length)} frames")


def delete_sign(document: Document, index: int, close_gap: bool) -> SignEditCommand:
    """Remove a sign; on a recording closing the gap generates new transition frames, never captured ones."""
    state = state_of(document)
    how = "close gap" if close_gap else "leave hold"
    bridge = 0
    segment, features = state.segments[index], state.motion.features
    if close_gap and state.recording is not None and segment.start > 0 and segment.end < state.n_frames:
        bridge = _gap(features[segment.start - 1], features[segment.end], state.motion.fps)
    return SignEditCommand(document, sign_edits.delete_sign(state, index, close_gap, bridge),
                           f"Delete sign {_name(state, index)} ({how})")


def duplicate_sign(document: Document, index: int) -> SignEditCommand:
    state = state_of(document)
    segment = state.segments[index]
    features = state.motion.features
    gap = _gap(features[segment.end - 1], features[segment.start], state.motion.fps)
    return SignEditCommand(document, sign_edits.duplicate_sign(state, index, gap),
                           f"Duplicate sign {_name(state, index)}")


def insert_sign(document: Document, frame: int, template: SignTemplate) -> SignEditCommand:
    """Lay a lexicon sign at ``frame`` (after the sign there, if any) with transitions sized by hand travel."""
    state = state_of(document)
    at = sign_edits.insertion_frame(state.segments, frame, state.n_frames)
    features, fps = state.motion.features, state.motion.fps
    before = _gap(features[at - 1], template.features[0], fps) if at > 0 else 0
    after = _gap(template.features[-1], features[at], fps) if at < state.n_frames else 0
    edit = sign_edits.insert_sign(state, at, template, before, after)
    return SignEditCommand(document, edit, f"Insert sign {template.gloss} at {at}")


def replace_sign(document: Document, index: int, template: SignTemplate) -> SignEditCommand:
    """Swap a sign for a library one; on a recording with transitions sized by hand travel (new frames: the
    captured frames around it stay the capture)."""
    state = state_of(document)
    before = after = 0
    if state.recording is not None:
        segment, features, fps = state.segments[index], state.motion.features, state.motion.fps
        before = _gap(features[segment.start - 1], template.features[0], fps) if segment.start > 0 else 0
        after = _gap(template.features[-1], features[segment.end], fps) if segment.end < state.n_frames else 0
    return SignEditCommand(document, sign_edits.replace_sign(state, index, template, before, after),
                           f"Replace sign {_name(state, index)} by {template.gloss}")


# --- per-lane edits ---------------------------------------------------------------------------------------------
def insert_lane_anchor(document: Document, frame: int, stream: str) -> SetAnchorsCommand:
    """Pin one lane only (e.g. the right hand) at ``frame``, with the pose the motion has there."""
    anchor = Anchor(frame, document.pose_at(frame), streams=frozenset({stream}))
    command = SetAnchorsCommand(document, document.anchors.added(anchor),
                                f"Insert {LANE_NAMES[stream]} anchor at {frame}")
    command.anchor_id = anchor.id  # type: ignore[attr-defined]
    return command


def move_lane_anchor(document: Document, anchor_id: int, stream: str, delta: int) -> SetAnchorsCommand:
    """Move one lane of an anchor: the anchor keeps its other lanes, this lane becomes its own anchor."""
    base, _ = document.snapshot()
    anchor = base.by_id(anchor_id)
    frame = min(max(anchor.frame + delta, 0), document.n_frames - 1)
    text = f"Move {LANE_NAMES[stream]} anchor by {frame - anchor.frame:+d}"
    if anchor.streams == frozenset({stream}):
        return SetAnchorsCommand(document, base.replaced(anchor.moved_to(frame)), text)
    rest = replace(anchor, streams=anchor.streams - {stream})
    lane = Anchor(frame, anchor.pose, frozenset({stream}), anchor.label)
    return SetAnchorsCommand(document, base.replaced(rest).added(lane), text)


def paste_hand(document: Document, anchor_ids: tuple[int, ...], stream: str, values: np.ndarray) -> SetAnchorsCommand:
    """Put a copied hand pose (one stream's values) on the same hand of each anchor, pinning that hand there."""
    cols = STREAM_SLICES[stream]
    edited = []
    for anchor_id in anchor_ids:
        anchor = document.anchors.by_id(anchor_id)
        pose = anchor.pose.copy()
        pose[cols] = values
        edited.append(replace(anchor.with_pose(pose), streams=anchor.streams | {stream}))
    noun = "" if len(anchor_ids) == 1 else f" on {len(anchor_ids)} anchors"
    return SetAnchorsCommand(document, document.anchors.replaced(*edited), f"Paste {LANE_NAMES[stream]}{noun}")
