"""The open document: a Project plus the current motion, with Qt signals and an undo stack.

Widgets read from it and commands write to it; nothing else mutates the
project. Anchor sets are immutable, so every state the undo stack needs is a
cheap reference, and the regenerator can work on a snapshot in its thread.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6 import QtCore, QtGui

from signeditor.core.anchors import AnchorSet
from signeditor.core.motion import Motion
from signeditor.core.nonmanual import FaceKey
from signeditor.core.project import Project, ReferenceVideo
from signeditor.core.recording import Recording, edit_recording, recorded_frames, recorded_streams
from signeditor.core.segments import Segment


def dirty_range(before: AnchorSet, after: AnchorSet, n_frames: int) -> tuple[int, int]:
    """The frames [lo, hi) whose motion depends on the anchors that differ between two sets.

    A changed anchor influences the motion up to its neighbours in both sets,
    so regeneration can be windowed to that span instead of the whole clip.
    """
    old = {a.id: a for a in before}
    new = {a.id: a for a in after}
    changed_frames: list[int] = []
    for anchor_id in old.keys() | new.keys():
        a, b = old.get(anchor_id), new.get(anchor_id)
        if a is None or b is None or a.frame != b.frame or a.streams != b.streams or not np.array_equal(a.pose, b.pose):
            changed_frames += [x.frame for x in (a, b) if x is not None]
    if not changed_frames:
        return (0, 0)
    lo_frame, hi_frame = min(changed_frames), max(changed_frames)
    lows, highs = [], []
    for anchors in (before, after):
        below, _ = anchors.neighbours(lo_frame)
        _, above = anchors.neighbours(hi_frame)
        lows.append(0 if below is None else below)
        highs.append(n_frames if above is None else above + 1)
    return (max(0, min(lows)), min(n_frames, max(highs)))


class Document(QtCore.QObject):
    """Project + undo stack + playhead; emits what changed so views refresh only what they must."""

    anchors_changed = QtCore.Signal()
    motion_changed = QtCore.Signal()
    segments_changed = QtCore.Signal()
    face_keys_changed = QtCore.Signal()
    frame_changed = QtCore.Signal(int)
    path_changed = QtCore.Signal(str)
    reference_changed = QtCore.Signal()
    #: (lo, hi, urgent): frames to regenerate after an anchor edit; urgent for a committed edit (no debounce),
    #: not for drag previews, which arrive in bursts.
    regeneration_needed = QtCore.Signal(int, int, bool)
    #: (motion, anchors) after a sign-level edit replaced the content, maybe with a new length: the motion
    #: follows these anchors except in the window then asked for (the regenerator records that basis).
    content_replaced = QtCore.Signal(object, object)

    def __init__(self, project: Project, path: str | Path | None = None, parent: QtCore.QObject | None = None) -> None:
        super().__init__(parent)
        self.project = project
        self.path: Path | None = None if path is None else Path(path)
        self.undo_stack = QtGui.QUndoStack(self)
        self.frame = 0
        #: Bumped on every motion change, so caches keyed on it (skinned meshes) never go stale.
        self.motion_version = 0
        self._preview_base: tuple[AnchorSet, Motion] | None = None
        self._recording_view: tuple[AnchorSet, Recording, Motion] | None = None

    # --- reading ---------------------------------------------------------------------------------------------
    @property
    def motion(self) -> Motion:
        return self.project.motion

    @property
    def anchors(self) -> AnchorSet:
        return self.project.anchors

    @property
    def n_frames(self) -> int:
        return self.project.motion.n_frames

    @property
    def recording(self) -> Recording | None:
        return self.project.recording

    def recorded_frames(self) -> np.ndarray:
        """Per frame: True where the motion is the (edited) capture, False where it is generated."""
        if self.recording is None:
            return np.zeros(self.n_frames, dtype=bool)
        return recorded_frames(self.recording, self.anchors)

    def not_captured_streams(self) -> np.ndarray | None:
        """Per frame and stream (``STREAMS`` order): True where that stream is generated, not the capture (None
        without a recording): what the timeline shades on each stream's row."""
        return None if self.recording is None else ~recorded_streams(self.recording, self.anchors)

    def recording_motion(self) -> Motion | None:
        """The capture edited to follow the current anchors on every frame (to compare a regenerated span with)."""
        recording = self.recording
        if recording is None:
            return None
        cached = self._recording_view
        if cached is None or cached[0] is not self.anchors or cached[1] is not recording:
            cached = self._recording_view = (self.anchors, recording, edit_recording(recording, self.anchors))
        return cached[2]

    def pose_at(self, frame: int) -> np.ndarray:
        frame = min(max(int(frame), 0), self.n_frames - 1)
        return self.project.motion.features[frame].copy()

    def snapshot(self) -> tuple[AnchorSet, Motion]:
        """The committed state (before any drag preview): what an undo command restores."""
        if self._preview_base is not None:
            return self._preview_base
        return self.project.anchors, self.project.motion

    def is_modified(self) -> bool:
        return not self.undo_stack.isClean()

    # --- writing (commands and the regenerator only) ---------------------------------------------------------
    def set_anchors(self, anchors: AnchorSet, motion: Motion | None = None) -> None:
        """Replace the anchors; with ``motion`` the exact stored motion is restored (undo), else it is regenerated."""
        before = self._preview_base[0] if self._preview_base is not None else self.project.anchors
        self._preview_base = None
        self.project.anchors = anchors.clamped(self.n_frames)
        self.anchors_changed.emit()
        if motion is not None:
            self.set_motion(motion)
            self.regeneration_needed.emit(0, 0, True)  # supersedes anything in flight
        else:
            lo, hi = dirty_range(before, self.project.anchors, self.n_frames)
            if hi > lo:
                self.regeneration_needed.emit(lo, hi, True)

    def preview_anchors(self, anchors: AnchorSet) -> None:
        """Show a transient anchor set while dragging; the committed state is kept for the undo command."""
        if self._preview_base is None:
            self._preview_base = (self.project.anchors, self.project.motion)
        previous = self.project.anchors
        self.project.anchors = anchors.clamped(self.n_frames)
        self.anchors_changed.emit()
        lo, hi = dirty_range(previous, self.project.anchors, self.n_frames)
        if hi > lo:
            self.regeneration_needed.emit(lo, hi, False)

    def cancel_preview(self) -> None:
        if self._preview_base is not None:
            anchors, motion = self._preview_base
            self._preview_base = None
            self.project.anchors = anchors
            self.anchors_changed.emit()
            self.set_motion(motion)
            self.regeneration_needed.emit(0, 0, True)

    def set_recording(self, recording: Recording, motion: Motion | None = None,
                      regenerate: tuple[int, int] = (0, 0)) -> None:
        """Replace the recording (its captured flags); with ``motion`` restore that exact motion (undo),
        else regenerate frames ``regenerate`` [lo, hi)."""
        self.project.recording = recording
        if motion is not None:
            self.set_motion(motion)
            self.regeneration_needed.emit(0, 0, True)
        elif regenerate[1] > regenerate[0]:
            self.regeneration_needed.emit(regenerate[0], regenerate[1], True)

    def set_motion(self, motion: Motion) -> None:
        if motion.n_frames != self.n_frames:
            raise ValueError(f"regenerated motion has {motion.n_frames} frames, the document {self.n_frames}")
        self.project.motion = motion
        self.motion_version += 1
        self.motion_changed.emit()

    def set_face_keys(self, keys: tuple[FaceKey, ...]) -> None:
        """Replace the non-manual keys; the shown face changes, so meshes cached for the motion are stale."""
        self.project.face_keys = tuple(k.moved_to(min(max(k.frame, 0), self.n_frames - 1)) for k in keys)
        self.motion_version += 1
        self.face_keys_changed.emit()
        self.motion_changed.emit()

    def set_segments(self, segments: list[Segment]) -> None:
        self.project.segments = list(segments)
        self.segments_changed.emit()

    def set_reference_video(self, reference: ReferenceVideo | None) -> None:
        self.project.reference_video = reference
        self.reference_changed.emit()

    def set_frame(self, frame: int) -> None:
        frame = min(max(int(frame), 0), self.n_frames - 1)
        if frame != self.frame:
            self.frame = frame
            self.frame_changed.emit(frame)

    def replace_project(self, project: Project) -> None:
        """Swap the whole content (its length may change); only for undo commands, which keep the old one."""
        self._preview_base = None
        self.project = project
        self.frame = min(self.frame, project.motion.n_frames - 1)
        self.motion_version += 1

    def set_path(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path_changed.emit(str(self.path))

    def set_content(self, motion: Motion, anchors: AnchorSet, segments: list[Segment],
                    recording: Recording | None, regenerate: tuple[int, int] = (0, 0)) -> None:
        """Replace motion, anchors, signs and recording at once (sign-level edits; the length may change).

        ``regenerate`` is the one window whose motion is only a first guess (the
        transitions around the edit); (0, 0) restores an exact state (undo).
        """
        self._preview_base = None
        self.project.recording = recording
        self.project.motion = motion
        self.project.anchors = anchors.clamped(motion.n_frames)
        self.project.segments = list(segments)
        self.motion_version += 1
        clamped = self.frame >= motion.n_frames
        self.frame = min(self.frame, motion.n_frames - 1)  # before any view reads the pose there
        self.content_replaced.emit(motion, self.project.anchors)
        self.regeneration_needed.emit(0, 0, True)  # drops anything in flight for the old content
        self.anchors_changed.emit()
        self.segments_changed.emit()
        self.motion_changed.emit()
        if clamped:
            self.frame_changed.emit(self.frame)
        lo, hi = max(0, regenerate[0]), min(motion.n_frames, regenerate[1])
        if hi > lo:
            self.regeneration_needed.emit(lo, hi, True)
