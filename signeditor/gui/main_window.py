"""The editor window: viewport, timeline, inspector and history around one Document.

The window wires signals to commands and owns the app-level concerns
(files, settings, playback, autosave/recovery); editing logic lives in
commands.py and regeneration in regeneration.py.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from signeditor.app_services import open_document as load_document_file  # noqa: F401  (the old name, still used)
from signeditor.core.anchors import Anchor
from signeditor.core.handshapes import Handshape
from signeditor.core.motion import Motion
from signeditor.core.project import Project
from signeditor.core.recording import recorded_streams
from signeditor.core.sign_names import anchor_caption, has_gloss, sign_labels
from signeditor.drafts.pipeline import DRAFT_SOURCE
from signeditor.errors import FileFormatError
from signeditor.gui import commands
from signeditor.gui.document import Document
from signeditor.gui.export_actions import Exporter
from signeditor.gui.file_actions import FileActions
from signeditor.gui.file_jobs import FileJobs
from signeditor.gui.inspector import Inspector
from signeditor.gui.regeneration import ModelRegenerate, RegenerateFn, Regenerator
from signeditor.gui.theme import apply_theme
from signeditor.gui.timeline import TimelineWidget, wrist_speeds
from signeditor.gui.window_frame import WindowFrame
from signeditor.gui.worker_thread import install_gui_thread_collector
from signeditor.io.formats import EXPORT_FORMATS
from signeditor.render.video import ReferenceFrames

if TYPE_CHECKING:
    from signeditor.gui.avatar_loading import AvatarLoader
    from signeditor.render.avatars.catalog import Figure

logger = logging.getLogger(__name__)

AUTOSAVE_MS = 30_000
SPEEDS = (0.25, 0.5, 1.0, 1.5, 2.0)
RECOVERY_NAME = "recovery.signproj"


def recovery_path() -> Path:
    """Where autosave writes: the per-user app data folder (never next to the user's file)."""
    base = QtCore.QStandardPaths.writableLocation(QtCore.QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".signeditor") / RECOVERY_NAME


class MainWindow(FileActions, WindowFrame, QtWidgets.QMainWindow):
    """Implements :class:`~signeditor.gui.window_api.EditorWindow`, the API its helpers use."""

    #: A new Document is shown (open, import, draft, recovery): docks that follow the document re-bind.
    document_replaced = QtCore.Signal(object)

    def __init__(self, project: Project | None = None, path: str | Path | None = None, *,
                 regenerate: RegenerateFn | None = None, settings: QtCore.QSettings | None = None,
                 with_viewport: bool = True, confirm_close: bool = True) -> None:
        super().__init__()
        self._init_frame()
        install_gui_thread_collector()
        self.setObjectName("SignEditorMainWindow")
        self.settings = settings or QtCore.QSettings("SignEditor", "SignEditor")
        self.confirm_close = confirm_close
        # One model for the window's life: opening another file must not load (and warm up) KF2P again.
        self._regenerate_fn = regenerate or ModelRegenerate()
        self.clipboard_pose: np.ndarray | None = None
        self.playback_speed = 1.0
        self.document: Document | None = None
        self.regenerator: Regenerator | None = None
        #: Hook for a reference video (see render.video.ReferenceFrames): when set, video export can show it
        #: beside the avatar.
        self.reference_frames: ReferenceFrames | None = None
        self.exporter = Exporter(self)
        self.file_jobs = FileJobs(self)  # opening (IK, FAST) and exports run on its worker, never on this thread
        for shutdown in (self.exporter.shutdown, self.file_jobs.shutdown, self._shut_down_regenerator):
            self.register_shutdown(shutdown)

        self.viewport = None
        #: Loads the remembered avatar off the GUI thread at start-up (gui/avatar_loading.py); None until needed.
        self.avatar_loader: AvatarLoader | None = None
        if with_viewport:
            from signeditor.render.viewport import Viewport

            self.viewport = Viewport()
            self.setCentralWidget(self.viewport.native)
        else:
            placeholder = QtWidgets.QLabel("3D viewport disabled")
            placeholder.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
            self.setCentralWidget(placeholder)

        self.timeline = TimelineWidget()
        self.inspector = Inspector()
        if self.viewport is not None:  # clicking a joint in the viewport selects it in the inspector, which marks it
            self.viewport.joint_pick_callbacks.append(self.inspector.select_joint)
            self.inspector.joint_focus_changed.connect(self.viewport.set_highlighted_joint)
        self.history = QtWidgets.QUndoView()
        self.add_dock("timeline", "Timeline", self.timeline, QtCore.Qt.DockWidgetArea.BottomDockWidgetArea,
                      scroll=False)
        self.add_dock("inspector", "Inspector", self.inspector)
        self.add_dock("history", "History", self.history, scroll=False)  # a list view: it scrolls by itself
        self.status_regen = QtWidgets.QLabel("")
        self.status_frame = QtWidgets.QLabel("")
        self.statusBar().addPermanentWidget(self.status_regen)
        self.statusBar().addPermanentWidget(self.status_frame)

        self.play_timer = QtCore.QTimer(self)
        self._play_origin: tuple[int, QtCore.QElapsedTimer] = (0, QtCore.QElapsedTimer())
        self.play_timer.timeout.connect(self._advance_playback)
        self._curves_timer = QtCore.QTimer(self)
        self._curves_timer.setSingleShot(True)
        self._curves_timer.setInterval(0)
        self._curves_timer.timeout.connect(self._update_curves)
        self.autosave_timer = QtCore.QTimer(self)
        self.autosave_timer.setInterval(AUTOSAVE_MS)
        self.autosave_timer.timeout.connect(self.autosave)
        self.autosave_timer.start()

        self._create_actions()
        self._create_menus()
        self._connect_timeline()
        self.set_project(project or Project(Motion.rest(100)), path)
        self._add_draft_panel()
        self._add_video_review()
        from signeditor.gui.sign_actions import SignEditing

        self.sign_editing = SignEditing(self)  # Sign menu, Sign library dock, sign and lane gestures (issue #16)
        from signeditor.gui.gloss_alignment import GlossAlignment

        self.gloss_alignment = GlossAlignment(self)  # Edit > Align glosses… (issue #24)
        self.register_shutdown(self.gloss_alignment.shutdown)
        self._add_nonmanual_panel()
        self._restore_settings()

    # --- setup -------------------------------------------------------------------------------------------------
    def _create_actions(self) -> None:
        keys = QtGui.QKeySequence.StandardKey
        act = functools.partial(self.add_action, None)  # listed in menus below
        self.actions: dict[str, QtGui.QAction] = {
            "open": act("&Open…", self.open_dialog, keys.Open),
            "save": act("&Save", self.save, keys.Save),
            "save_as": act("Save &As…", self.save_as_dialog, keys.SaveAs),
            "quit": act("&Quit", self.close, keys.Quit),
            "insert": act("&Insert anchor at playhead", self.insert_anchor_at_playhead, "I"),
            "delete": act("&Delete anchors", self.delete_selected, keys.Delete),
            # Keys for what dragging markers does (issue #23: every drag has a keyboard and menu way).
            "nudge_earlier": act("Move anchors one frame earlier", lambda: self.nudge_selected(-1), ","),
            "nudge_later": act("Move anchors one frame later", lambda: self.nudge_selected(1), "."),
            "select_all": act("Select all anchors", lambda: self.timeline.select([a.id for a in self.document.anchors]),
                              keys.SelectAll),
            "zoom_in": act("Zoom timeline in", lambda: self.timeline.zoom(0.5), keys.ZoomIn),
            "zoom_out": act("Zoom timeline out", lambda: self.timeline.zoom(2.0), keys.ZoomOut),
            "copy": act("&Copy pose", self.copy_pose, keys.Copy),
            "paste": act("&Paste pose", self.paste_pose, keys.Paste),
            "mirror_lr": act("Mirror left hand → right", lambda: self.mirror("left_hand"), "Ctrl+M"),
            "mirror_rl": act("Mirror right hand → left", lambda: self.mirror("right_hand"), "Ctrl+Shift+M"),
            "regenerate_span": act("Re&generate span", lambda: self.mark_recording_span(False)),
            "restore_span": act("Restore &recording in span", lambda: self.mark_recording_span(True)),
            "compare_recording": act("Compare with recording", self._compare_with_recording, checkable=True),
            "skeleton": act("Show &skeleton", self._set_skeleton, "K", checkable=True),
            "onion": act("&Onion skin", self._set_onion, "O", checkable=True),
            "dark": act("&Dark theme", self._set_dark, checkable=True),
            "play": act("&Play/Pause", self.toggle_playback, "Space"),
            "loop": act("&Loop", lambda _on: None, "L", checkable=True),
            "next": act("Next frame", lambda: self.step(1), "Right"),
            "prev": act("Previous frame", lambda: self.step(-1), "Left"),
            "start": act("Go to start", lambda: self.seek(0), "Home"),
            "end": act("Go to end", lambda: self.seek(10**9), "End"),
        }
        self.actions["loop"].setChecked(True)
        self.camera_actions = {
            name: act(f"{label} view", lambda _=False, n=name: self.set_camera(n), key)
            for name, label, key in (("front", "&Front", "1"), ("side", "&Side", "2"),
                                     ("signer", "S&igner's", "3"), ("three_quarter", "&Three-quarter", "4"))
        }
        self.speed_group = QtGui.QActionGroup(self)
        self.speed_actions = {}
        for speed in SPEEDS:
            action = QtGui.QAction(f"{speed:g}×", self, checkable=True)
            action.setChecked(speed == 1.0)
            action.triggered.connect(lambda _=False, s=speed: self.set_speed(s))
            self.speed_group.addAction(action)
            self.speed_actions[speed] = action

    def _create_menus(self) -> None:
        file_menu = self.add_menu("file", "&File")
        file_menu.addActions([self.actions["open"]])
        self.recent_menu = file_menu.addMenu("Open &Recent")
        file_menu.addActions([self.actions["save"], self.actions["save_as"]])
        self.add_menu_section("file_import", "file")  # Import video…, Attach reference video… (video_review)
        export_menu = file_menu.addMenu("&Export")
        for fmt in EXPORT_FORMATS.values():
            action = export_menu.addAction(f"{fmt.description} ({fmt.suffix})…")
            action.triggered.connect(lambda _=False, name=fmt.name: self.export_dialog(name))
        file_menu.addSeparator()
        file_menu.addAction(self.actions["quit"])
        edit = self.add_menu("edit", "&Edit")
        self.undo_action = QtGui.QAction("&Undo", self)
        self.undo_action.setShortcut(QtGui.QKeySequence.StandardKey.Undo)
        self.undo_action.triggered.connect(lambda: self.document.undo_stack.undo())
        self.redo_action = QtGui.QAction("&Redo", self)
        self.redo_action.setShortcut(QtGui.QKeySequence.StandardKey.Redo)
        self.redo_action.triggered.connect(lambda: self.document.undo_stack.redo())
        edit.addActions([self.undo_action, self.redo_action])
        edit.addSeparator()
        edit.addActions([self.actions[k] for k in ("insert", "delete", "select_all", "nudge_earlier", "nudge_later",
                                                   "copy", "paste", "mirror_lr", "mirror_rl")])
        edit.addSeparator()
        edit.addActions([self.actions[k] for k in ("regenerate_span", "restore_span", "compare_recording")])
        view = self.add_menu("view", "&View")
        view.addActions(list(self.camera_actions.values()))
        view.addSeparator()
        view.addActions([self.actions[k] for k in ("skeleton", "onion", "dark", "zoom_in", "zoom_out")])
        self._add_avatar_menu(view.addMenu("&Avatar"))
        view.addSeparator()
        for dock in self.docks.values():
            view.addAction(dock.toggleViewAction())
        playback = self.add_menu("playback", "&Playback")
        playback.addActions([self.actions[k] for k in ("play", "loop", "prev", "next", "start", "end")])
        speed_menu = playback.addMenu("&Speed")
        speed_menu.addActions(list(self.speed_actions.values()))
        toolbar = self.addToolBar("Main")
        toolbar.setObjectName("toolbar_main")
        toolbar.addActions([self.actions["open"], self.actions["save"], self.undo_action, self.redo_action])
        toolbar.addSeparator()
        toolbar.addActions([self.actions["insert"], self.actions["delete"], self.actions["play"],
                            self.actions["loop"], self.actions["skeleton"], self.actions["onion"]])
        self.addActions([self.undo_action, self.redo_action])

    def _connect_timeline(self) -> None:
        self.timeline.anchor_moved.connect(self._on_anchor_moved)
        self.timeline.anchor_drag_preview.connect(self._on_anchor_drag_preview)
        self.timeline.anchor_drag_cancelled.connect(lambda: self.document.cancel_preview())
        self.timeline.anchor_insert_requested.connect(self.insert_anchor_at)
        self.timeline.playhead_moved.connect(self.seek)
        self.timeline.selection_changed.connect(lambda _ids: self._refresh_inspector())
        self.timeline.segment_boundary_moved.connect(
            lambda i, side, frame: self.push(commands.move_segment_boundary(self.document, i, side, frame)))
        self.inspector.rotation_edited.connect(self._on_rotation_edited)
        self.inspector.handshape_applied.connect(self._on_handshape_applied)

    # --- drafts from text (issue #6) -------------------------------------------------------------------------------
    def _add_draft_panel(self) -> None:
        """The "Draft from text" dock, tabbed with the history; a finished draft opens as the document and plays."""
        from signeditor.gui.draft_panel import DraftPanel

        self.draft_panel = DraftPanel(self.settings, parent=self)
        self.add_dock("draft", "Draft from text", self.draft_panel, tab_with="history")
        self.register_shutdown(self.draft_panel.shutdown)
        self.draft_panel.draft_ready.connect(self.open_draft)
        self.draft_panel.show_project(self.document.project)

    def _add_video_review(self) -> None:
        """File > Import video…, reference video and sign review (issue #14): their own module, their own docks."""
        from signeditor.gui.video_review import install

        self.video_review = install(self)
        self.document_replaced.connect(self.video_review.bind)

    def _add_nonmanual_panel(self) -> None:
        """The "Non-manuals" dock (Brows, Eyes, Mouth lanes and presets), tabbed with the inspector."""
        from signeditor.gui.nonmanual_panel import NonManualPanel

        self.nonmanual_panel = NonManualPanel(self)
        self.add_dock("nonmanual", "Non-manuals", self.nonmanual_panel, tab_with="inspector")
        self.docks["inspector"].raise_()
        self.nonmanual_panel.command_ready.connect(self.push)
        self.nonmanual_panel.link_time_axis(self.timeline.track_box)
        self.nonmanual_panel.set_document(self.document)
        self.timeline.selection_changed.connect(self._span_from_selected_anchors)

    def _span_from_selected_anchors(self, ids: tuple[int, ...]) -> None:
        frames = [a.frame for a in self.document.anchors if a.id in set(ids)]
        if len(frames) >= 2:
            self.nonmanual_panel.set_span(min(frames), max(frames))

    def open_draft(self, project: Project, warnings: list[str] | None = None) -> bool:
        """Show a text draft and play it at once.

        Over a draft, the new one replaces it as one undoable step (no "save changes?" question: Undo brings the
        edited draft back); over anything else it opens as a new, unsaved project (asking first if needed).
        """
        if self.document.project.source == DRAFT_SOURCE:
            from signeditor.gui.draft_actions import ReplaceDraftCommand

            self.push(ReplaceDraftCommand(self, self.document.project, project))
        elif self.maybe_save():
            self.set_project(project)
        else:
            return False
        self.say("Draft ready, playing" + (": " + "; ".join(warnings) if warnings else ""), 8000)
        self.seek(0)
        if not self.play_timer.isActive():
            self.toggle_playback()
        return True

    # --- document ------------------------------------------------------------------------------------------------
    def set_project(self, project: Project, path: str | Path | None = None) -> None:
        if self.document is not None:
            self.document.deleteLater()  # its undo stack and clip go with it
        self.document = Document(project, path, self)
        doc = self.document
        doc.anchors_changed.connect(self._on_anchors_changed)
        doc.motion_changed.connect(self._on_motion_changed)
        doc.segments_changed.connect(self._on_segments_changed)
        doc.frame_changed.connect(self._on_frame_changed)
        doc.content_replaced.connect(self._on_content_replaced)
        doc.undo_stack.cleanChanged.connect(self.update_title)
        doc.undo_stack.canUndoChanged.connect(self.undo_action.setEnabled)
        doc.undo_stack.canRedoChanged.connect(self.redo_action.setEnabled)
        self.undo_action.setEnabled(False)
        self.redo_action.setEnabled(False)
        self.history.setStack(doc.undo_stack)
        self._show_document()

    def replace_project(self, project: Project) -> None:
        """Swap the document's content, keeping its undo history (a regenerated draft and its undo)."""
        self.document.replace_project(project)
        self._show_document()

    def _show_document(self) -> None:
        """A fresh regenerator for the document's content, and every view showing it."""
        if self.regenerator is not None:
            self.regenerator.shutdown()
            self.regenerator.deleteLater()
        doc = self.document
        self.statusBar().clearMessage()  # "Exported …" and the like belonged to the previous project
        self.regenerator = Regenerator(doc, self._regenerate_fn, parent=self)
        self.regenerator.status.connect(self.status_regen.setText)
        self.regenerator.model_problem.connect(self._show_model_problem)
        self.status_regen.setText(f"regeneration: {self.regenerator.backend}")
        self.timeline.set_clip(doc.n_frames, doc.motion.fps)
        self._on_segments_changed()
        self.inspector.set_signed_language(doc.project.signed_language)
        if getattr(self, "draft_panel", None) is not None:
            self.draft_panel.show_project(doc.project)
        if getattr(self, "nonmanual_panel", None) is not None:
            self.nonmanual_panel.set_document(doc)
        self._on_anchors_changed()
        self._on_motion_changed()
        self._on_frame_changed(doc.frame)
        self.document_replaced.emit(doc)
        self.update_title()

    def _shut_down_regenerator(self) -> None:
        if self.regenerator is not None:
            self.regenerator.shutdown()

    def _show_model_problem(self, message: str) -> None:
        """Say once, without blocking, that the model is unusable and interpolation is used instead."""
        self.status_regen.setToolTip(message)
        if getattr(self, "model_problem_box", None) is not None:
            return
        self.model_problem_box = QtWidgets.QMessageBox(QtWidgets.QMessageBox.Icon.Warning, "Model unavailable",
                                                       message, QtWidgets.QMessageBox.StandardButton.Ok, self)
        self.model_problem_box.setModal(False)
        self.model_problem_box.show()

    def push(self, command: QtGui.QUndoCommand) -> None:
        self.document.undo_stack.push(command)

    def _on_content_replaced(self, motion: Motion, _anchors: object) -> None:
        """A sign edit may change the clip's length: the timeline's range follows."""
        self.timeline.set_clip(motion.n_frames, motion.fps)

    def _on_segments_changed(self) -> None:
        """Bars named by gloss, else numbered with the hand shape and place that tell them apart (issue #23)."""
        doc = self.document
        segments = doc.project.segments
        labels = sign_labels(segments, doc.motion.features, self.inspector.library, doc.project.signed_language)
        shown = (self.timeline.segments, self.timeline.sign_names)
        self.timeline.set_segments(segments, labels)
        renamed = (self.timeline.segments, self.timeline.sign_names) != shown
        if renamed and set(self.timeline.selected_ids) <= {a.id for a in doc.anchors}:  # not mid-way a new project
            self._refresh_inspector()  # its title names the anchor's sign as the bars do

    def update_title(self, _clean: bool = False) -> None:
        name = self.document.path.name if self.document.path else "untitled"
        self.setWindowTitle(f"{name}[*] — SignEditor")
        self.setWindowModified(self.document.is_modified())

    # --- edits -------------------------------------------------------------------------------------------------
    def _on_anchor_moved(self, ids: tuple[int, ...], delta: int) -> None:
        self.push(commands.move_anchors(self.document, tuple(ids), delta))

    def _on_anchor_drag_preview(self, ids: tuple[int, ...], delta: int) -> None:
        self.document.preview_anchors(commands.preview_move(self.document, tuple(ids), delta))

    def insert_anchor_at(self, frame: int) -> None:
        """Insert an anchor and select it (the playhead goes to it), so the next edit applies to it."""
        command = commands.insert_anchor(self.document, frame)
        self.push(command)
        self.timeline.select([command.anchor_id])
        self.seek(frame)

    def mark_recording_span(self, captured: bool) -> None:
        """Regenerate the selected span of a recording, or bring the capture back there (see selection_span)."""
        if self.document.recording is None:
            self.say("This project has no recording: all of its motion is generated, so there is no capture to "
                     "restore or regenerate.", 8000)
            return
        lo, hi = commands.selection_span(self.document, self.timeline.selected_ids, self.document.frame)
        if not captured and not self._may_regenerate_captured(lo, hi):
            return
        self.push(commands.mark_recording_span(self.document, lo, hi, captured))

    # --- never replace captured motion silently (issue 23) ----------------------------------------------------
    def _may_regenerate_captured(self, lo: int, hi: int) -> bool:
        """Ask before generated motion replaces captured frames; moving anchors time-warps the capture instead."""
        captured = int(recorded_streams(self.document.recording, self.document.anchors)[lo:hi].any(axis=1).sum())
        if captured == 0:
            return True
        answer = QtWidgets.QMessageBox.question(
            self, "Regenerate captured motion?",
            f"Frames {lo}–{hi - 1} hold {captured} captured frame{'s' if captured != 1 else ''} of the signer. "
            "Regenerating replaces them with generated motion (the capture stays in the project: "
            "Edit > Restore recording in span brings it back).\n\nTo change the timing or a pose and keep the "
            "capture, move or edit the anchors instead: the recording is time-warped and displaced, "
            "not regenerated.",
            QtWidgets.QMessageBox.StandardButton.Yes | QtWidgets.QMessageBox.StandardButton.Cancel,
            QtWidgets.QMessageBox.StandardButton.Cancel)
        return answer == QtWidgets.QMessageBox.StandardButton.Yes

    def _compare_with_recording(self, on: bool) -> None:
        """Show the capture instead of the edited motion; say so when there is no recording to compare with."""
        if on and self.document.recording is None:
            self.actions["compare_recording"].setChecked(False)
            self.say("This project has no recording to compare with: all of its motion is generated.", 8000)
        self.show_current_frame()

    def insert_anchor_at_playhead(self) -> None:
        self.insert_anchor_at(self.document.frame)

    def delete_selected(self) -> None:
        ids = self.timeline.selected_ids
        if ids:
            self.push(commands.delete_anchors(self.document, ids))

    def nudge_selected(self, delta: int) -> None:
        """Move the selected anchors ``delta`` frames, as dragging them does (kept inside the clip)."""
        ids = self.timeline.selected_ids
        frames = [self.document.anchors.by_id(i).frame for i in ids]
        if ids and min(frames) + delta >= 0 and max(frames) + delta < self.document.n_frames:
            self.push(commands.move_anchors(self.document, ids, delta))
            self.seek(self.document.frame + delta)

    def copy_pose(self) -> None:
        ids = self.timeline.selected_ids
        self.clipboard_pose = (self.document.anchors.by_id(ids[0]).pose.copy() if ids
                               else self.document.pose_at(self.document.frame))
        self.say("Pose copied: Paste (Ctrl+V) puts it on the selected anchors.", 4000)

    def paste_pose(self) -> None:
        if self.clipboard_pose is None:
            return
        ids = self.timeline.selected_ids
        if ids:
            self.push(commands.paste_pose(self.document, ids, self.clipboard_pose))
        else:
            self.push(commands.insert_anchor(self.document, self.document.frame, self.clipboard_pose))

    def mirror(self, source: str) -> None:
        ids = self.timeline.selected_ids
        if ids:
            self.push(commands.mirror_hand(self.document, ids, source))

    def _shown_anchor_id(self) -> int | None:
        """The anchor the inspector shows without a selection: the one at the shown frame, if any."""
        return next((a.id for a in self.document.anchors if a.frame == self.document.frame), None)

    def _edit_inspected(self, make: Callable[[tuple[int, ...]], QtGui.QUndoCommand]) -> None:
        """An inspector edit applies to the selected anchors, else to the shown frame's anchor; on a frame without
        one, an anchor is inserted there first (one undo step with the edit) and selected."""
        ids = tuple(self.timeline.selected_ids)
        shown = self._shown_anchor_id()
        if ids or shown is not None:
            self.push(make(ids or (shown,)))
            return
        stack = self.document.undo_stack
        insert = commands.insert_anchor(self.document, self.document.frame)
        stack.beginMacro("Insert anchor and edit it")
        self.push(insert)
        self.push(make((insert.anchor_id,)))
        stack.endMacro()
        self.timeline.select([insert.anchor_id])

    def _on_rotation_edited(self, joint: str, matrix: np.ndarray) -> None:
        self._edit_inspected(lambda ids: commands.EditJointRotationCommand(self.document, ids, joint, matrix))

    def _on_handshape_applied(self, handshape: Handshape, hand: str) -> None:
        self._edit_inspected(lambda ids: commands.apply_handshape_to_anchors(self.document, ids, handshape, hand))

    # --- views -------------------------------------------------------------------------------------------------
    def _on_anchors_changed(self) -> None:
        self.timeline.set_anchors(self.document.anchors)
        self._refresh_inspector()
        self._refresh_ghosts()

    def _on_motion_changed(self) -> None:
        """Show the new pose at once; the curve lane (FK over the whole clip) follows on the next idle turn."""
        self.show_current_frame()
        self._curves_timer.start()
        self.timeline.set_not_captured(self.document.not_captured_streams())

    def _update_curves(self) -> None:
        doc = self.document
        right, left = wrist_speeds(doc.motion.features, doc.motion.fps)
        self.timeline.set_speed_curves(right, left)
        if not all(has_gloss(s) for s in doc.project.segments):  # names from the pose may change with it
            self._on_segments_changed()

    def _on_frame_changed(self, frame: int) -> None:
        self.timeline.set_playhead(frame)
        self.show_current_frame()
        self._refresh_ghosts()
        if not self.timeline.selected_ids and not self.play_timer.isActive():
            self._refresh_inspector()  # it shows the frame's pose: follow the playhead (not while playing)

    def show_current_frame(self) -> None:
        doc = self.document
        self.status_frame.setText(f"frame {doc.frame} / {doc.n_frames - 1}  ({doc.frame / doc.motion.fps:.2f} s)")
        recording = doc.recording_motion() if self.actions["compare_recording"].isChecked() else None
        if self.viewport is not None and recording is not None:  # the capture where a span was regenerated
            self.viewport.set_pose(recording.features[doc.frame])
        elif self.viewport is not None:
            keys = doc.project.face_keys
            face = doc.project.face_at(doc.frame) if doc.motion.face is not None or keys else None
            pose = doc.project.pose_shown_at(doc.frame) if keys else doc.motion.features[doc.frame]
            self.viewport.set_pose(pose, cache_key=(id(doc), doc.motion_version, doc.frame), face=face)

    def _refresh_inspector(self) -> None:
        ids = self.timeline.selected_ids
        if len(ids) == 1:
            anchor = self.document.anchors.by_id(ids[0])
            self.inspector.set_pose(anchor.pose, self._anchor_title(anchor))
        elif ids:  # edits apply to all of them; the sliders show the first
            anchor = self.document.anchors.by_id(ids[0])
            self.inspector.set_pose(anchor.pose, f"{len(ids)} anchors (showing frame {anchor.frame})")
        elif (shown := self._shown_anchor_id()) is not None:  # no selection: the inspector follows the frame
            anchor = self.document.anchors.by_id(shown)
            self.inspector.set_pose(anchor.pose, self._anchor_title(anchor))
        else:
            frame = self.document.frame
            self.inspector.set_pose(self.document.pose_at(frame), f"Frame {frame}: no anchor (an edit adds one)")

    def _anchor_title(self, anchor: Anchor) -> str:
        """"Anchor at frame 0 · 2 · C-hand, chest · onset": its sign named as the timeline's bar names it."""
        caption = anchor_caption(anchor.label, anchor.frame, self.timeline.segments, self.timeline.sign_names)
        return " · ".join(part for part in (f"Anchor at frame {anchor.frame}", caption) if part)

    def _refresh_ghosts(self) -> None:
        if self.viewport is None or not self.viewport.onion_skin:
            return
        before, after = self.document.anchors.neighbours(self.document.frame)
        poses = [a.pose for a in self.document.anchors if a.frame in (before, after)]
        self.viewport.set_ghost_poses(poses)

    def set_camera(self, name: str) -> None:
        if self.viewport is not None:
            self.viewport.set_camera_preset(name)

    def _set_skeleton(self, on: bool) -> None:
        if self.viewport is not None:
            self.viewport.set_skeleton_visible(on)

    def _set_onion(self, on: bool) -> None:
        if self.viewport is not None:
            self.viewport.set_onion_skin(on)
            self._refresh_ghosts()

    def _set_dark(self, on: bool) -> None:
        apply_theme("dark" if on else "light")
        self.timeline.set_theme("dark" if on else "light")
        if self.viewport is not None:
            self.viewport.set_theme("dark" if on else "light")
        self.settings.setValue("theme", "dark" if on else "light")

    # --- playback ------------------------------------------------------------------------------------------------
    def seek(self, frame: int) -> None:
        self.document.set_frame(frame)

    def step(self, delta: int) -> None:
        self.play_timer.stop()
        self.seek(self.document.frame + delta)

    def set_speed(self, speed: float) -> None:
        self.playback_speed = speed
        if self.play_timer.isActive():
            self._play_origin = (self.document.frame, QtCore.QElapsedTimer())
            self._play_origin[1].start()
            self.play_timer.start(self._frame_interval_ms())

    def _frame_interval_ms(self) -> int:
        return max(1, round(1000.0 / (self.document.motion.fps * self.playback_speed)))

    def toggle_playback(self) -> None:
        if self.play_timer.isActive():
            self.play_timer.stop()
            self._refresh_inspector()  # it did not follow the frames while playing
            return
        if self.document.frame >= self.document.n_frames - 1:
            self.seek(0)
        clock = QtCore.QElapsedTimer()
        clock.start()
        self._play_origin = (self.document.frame, clock)
        self.play_timer.start(self._frame_interval_ms())

    def _advance_playback(self) -> None:
        """Frame from the wall clock, not a tick count: when drawing is slower than the clip, frames are
        skipped and the clip still plays at its real speed."""
        start_frame, clock = self._play_origin
        elapsed_frames = clock.elapsed() / 1000.0 * self.document.motion.fps * self.playback_speed
        frame = start_frame + int(elapsed_frames)
        n = self.document.n_frames
        if frame >= n:
            if not self.actions["loop"].isChecked():
                self.play_timer.stop()
                self.seek(n - 1)
                return
            frame %= n
        self.seek(frame)

    # --- avatar ------------------------------------------------------------------------------------------------
    def _add_avatar_menu(self, menu: QtWidgets.QMenu) -> None:
        from signeditor.render.avatars.catalog import MANNEQUIN, describe, shipped_avatars

        menu.addAction("&Mannequin", lambda: self.use_avatar(MANNEQUIN))
        for name in shipped_avatars():
            menu.addAction(describe(f"shipped:{name}"), lambda n=name: self.use_avatar(f"shipped:{n}"))
        menu.addSeparator()
        menu.addAction("Avatar &file (.vrm, .glb)…", self.avatar_file_dialog)
        menu.addAction("&SMPL-X model file…", self.smplx_dialog)

    def use_avatar(self, choice: str, quiet: bool = False) -> bool:
        """Show a figure (see render.avatars.catalog: mannequin, shipped, file, smplx); the choice is remembered.

        ``quiet`` (the remembered choice at start-up) reports a failure in the status bar instead of a dialog.
        """
        if self.viewport is None:
            return False
        from signeditor.render.avatars.catalog import load_avatar

        if self.avatar_loader is not None:
            self.avatar_loader.cancel()  # this choice supersedes one still loading
        try:
            avatar = load_avatar(choice)
        except FileFormatError as exc:
            self._avatar_unavailable(choice, str(exc), quiet)
            return False
        self._show_avatar(choice, avatar)
        return True

    def use_avatar_in_background(self, choice: str) -> None:
        """Keep the current figure (the mannequin at start-up) as a placeholder while ``choice`` loads on a worker."""
        if self.viewport is None:
            return
        if self.avatar_loader is None:
            from signeditor.gui.avatar_loading import AvatarLoader

            self.avatar_loader = AvatarLoader(self._show_avatar, self._avatar_failed_in_background, self)
            self.register_shutdown(self.avatar_loader.shutdown)
        self.avatar_loader.request(choice)

    def _avatar_failed_in_background(self, choice: str, problem: str) -> None:
        self._avatar_unavailable(choice, problem, quiet=True)
        from signeditor.render.avatars.catalog import MANNEQUIN

        self.settings.setValue("avatar/choice", MANNEQUIN)

    def _avatar_unavailable(self, choice: str, problem: str, quiet: bool) -> None:
        from signeditor.render.avatars.catalog import describe

        if quiet:
            logger.warning("avatar %s unavailable: %s", choice, problem)
            self.say(f"Cannot use {describe(choice)}: {problem}", 10000)
        else:
            QtWidgets.QMessageBox.critical(self, f"Cannot use {describe(choice)}", problem)

    def _show_avatar(self, choice: str, avatar: Figure) -> None:
        from signeditor.render.avatars.catalog import describe

        self.viewport.set_avatar(avatar)
        self.settings.setValue("avatar/choice", choice)
        notes = "; ".join(getattr(avatar, "notes", []))
        self.say(f"Avatar: {describe(choice)}" + (f" ({notes})" if notes else ""), 10000)
        self.seek(self.document.frame if self.document is not None else 0)

    def use_avatar_model(self, smplx_path: str | Path | None) -> bool:
        """The user's own SMPL-X mesh, or the mannequin when ``None``."""
        return self.use_avatar(f"smplx:{smplx_path}" if smplx_path else "mannequin")

    def avatar_file_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Avatar (VRM or glTF with a humanoid rig)", "",
                                                        "Avatars (*.vrm *.glb *.gltf)")
        if path:
            self.use_avatar(f"file:{path}")

    def smplx_dialog(self) -> None:
        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "SMPL-X model (your own download)", "",
                                                        "SMPL-X model (*.npz)")
        if path:
            self.use_avatar_model(path)

    # --- files (open/save/export/recent/autosave/recovery: gui/file_actions.py) ----------------------------------
    def recovery_file(self) -> Path:
        """Where autosave writes (a method, so tests can redirect ``recovery_path`` in this module)."""
        return recovery_path()


    # --- settings ----------------------------------------------------------------------------------------------
    def _restore_settings(self) -> None:
        geometry = self.settings.value("geometry")
        if geometry is not None and self.restoreGeometry(geometry):
            self.keep_on_screen_when_shown()
        else:
            self.fit_to_screen()
        state = self.settings.value("window_state")
        if state is not None:
            self.restoreState(state)
        theme = str(self.settings.value("theme", "dark"))
        self.actions["dark"].setChecked(theme == "dark")
        self._set_dark(theme == "dark")
        self._rebuild_recent_menu()
        if self.viewport is not None:
            from signeditor.render.avatars.catalog import DEFAULT_AVATAR, MANNEQUIN

            legacy = str(self.settings.value("avatar/smplx_path", "") or "")
            choice = str(self.settings.value("avatar/choice", f"smplx:{legacy}" if legacy else DEFAULT_AVATAR))
            if choice != MANNEQUIN:
                self.use_avatar_in_background(choice)

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:
        if not self.maybe_save():
            event.ignore()
            return
        self.play_timer.stop()
        self.autosave_timer.stop()
        self.settings.setValue("geometry", self.saveGeometry())
        self.settings.setValue("window_state", self.saveState())
        self.settings.sync()
        self.shut_down_helpers()
        recovery_path().unlink(missing_ok=True)  # a clean close: nothing to recover next time
        event.accept()
