"""Inspector: the selected anchors' joints in a translator's terms, and the handshape library.

Joints are listed by body part, hand and finger with plain names; each has three
controls (curl / spread / twist for fingers, see :mod:`signeditor.gui.joint_controls`)
within the joint's limits, each a slider with a number field beside it. Each change
becomes an undoable command (consecutive steps on one joint merge into a single undo
entry). With several anchors selected, the controls show the first one and an edit
sets the same rotation on all of them. The handshape library (the fingerspelling
alphabet of the chosen signed language) sets a whole hand at once.
"""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtGui, QtWidgets

from signeditor.core import rotations
from signeditor.core.handshapes import HandshapeLibrary, language_name, load_handshape_library
from signeditor.core.skeleton import ROTATING_JOINTS
from signeditor.gui.joint_controls import JointControls, angles_of, groups, joint_controls, rotation_of
from signeditor.io.errors import FileFormatError

#: Hand choices of the handshape panel: (label, target passed to core.handshapes.apply_handshape).
HAND_CHOICES: tuple[tuple[str, str], ...] = (("Right hand", "right"), ("Left hand (mirrored)", "left"),
                                             ("Both hands", "both"))
#: Rows of letters the handshape grid shows without scrolling.
HANDSHAPE_ROWS = 4
_JOINT_ROLE = QtCore.Qt.ItemDataRole.UserRole


class Inspector(QtWidgets.QWidget):
    """Emits ``rotation_edited(joint, matrix)`` and ``handshape_applied(handshape, hand)``; the main window turns
    them into commands on the selected anchors."""

    rotation_edited = QtCore.Signal(str, object)
    handshape_applied = QtCore.Signal(object, str)
    #: The joint the sliders edit, or None when no anchor is shown (the viewport marks it).
    joint_focus_changed = QtCore.Signal(object)

    def __init__(self, parent: QtWidgets.QWidget | None = None, library: HandshapeLibrary | None = None) -> None:
        super().__init__(parent)
        self._pose: np.ndarray | None = None
        self._updating = False
        # Two tabs (joint rotation, handshapes), so the dock needs little height and the timeline keeps its room.
        layout = QtWidgets.QVBoxLayout(self)
        self.title = QtWidgets.QLabel("No anchor selected")
        layout.addWidget(self.title)
        self.tabs = QtWidgets.QTabWidget()
        layout.addWidget(self.tabs, 1)
        rotate = QtWidgets.QWidget()
        rotate_layout = QtWidgets.QVBoxLayout(rotate)
        rotate_layout.setContentsMargins(4, 4, 4, 4)
        self.joints = QtWidgets.QTreeWidget()
        self.joints.setHeaderHidden(True)
        self.joints.setMinimumHeight(60)
        self._joint_items: dict[str, QtWidgets.QTreeWidgetItem] = {}
        for group, members in groups().items():
            group_item = QtWidgets.QTreeWidgetItem(self.joints, [group])
            group_item.setFlags(group_item.flags() & ~QtCore.Qt.ItemFlag.ItemIsSelectable)
            parents: dict[str, QtWidgets.QTreeWidgetItem] = {}
            for controls in members:
                parent = group_item
                if "," in controls.label:  # "Index finger, base joint": one branch per finger
                    finger, level = controls.label.split(", ")
                    parent = parents.get(finger) or QtWidgets.QTreeWidgetItem(group_item, [finger])
                    parent.setFlags(parent.flags() & ~QtCore.Qt.ItemFlag.ItemIsSelectable)
                    parents[finger] = parent
                    name = level.capitalize()
                else:
                    name = controls.label
                item = QtWidgets.QTreeWidgetItem(parent, [name])
                item.setData(0, _JOINT_ROLE, controls.joint)
                item.setToolTip(0, f"{controls.group}: {controls.label} ({controls.joint})")
                self._joint_items[controls.joint] = item
            group_item.setExpanded(group in ("Right arm", "Right hand"))
        rotate_layout.addWidget(self.joints, 1)
        form = QtWidgets.QGridLayout()
        self.control_labels: list[QtWidgets.QLabel] = []
        self.sliders: list[QtWidgets.QSlider] = []
        self.spin_boxes: list[QtWidgets.QSpinBox] = []
        for row in range(3):
            label = QtWidgets.QLabel()
            slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
            spin = QtWidgets.QSpinBox()
            spin.setKeyboardTracking(False)  # typing "45" edits once, at Enter, not at "4" and then "45"
            spin.installEventFilter(self)  # Ctrl+Z there is the document's undo (see eventFilter)
            slider.valueChanged.connect(spin.setValue)
            spin.valueChanged.connect(slider.setValue)
            slider.valueChanged.connect(self._on_control)
            form.addWidget(label, row, 0)
            form.addWidget(slider, row, 1)
            form.addWidget(spin, row, 2)
            self.control_labels.append(label)
            self.sliders.append(slider)
            self.spin_boxes.append(spin)
        rotate_layout.addLayout(form)
        self.tabs.addTab(rotate, "Rotate joint")
        self.tabs.addTab(self._handshape_panel(library), "Handshapes")
        self._joint = "R_Wrist"
        self.joints.currentItemChanged.connect(self._on_joint_item)
        self.select_joint(self._joint)
        self.set_pose(None)

    def eventFilter(self, watched: QtCore.QObject, event: QtCore.QEvent) -> bool:
        """Undo/Redo pressed in a number field undo the document's last edit, not the field's typing.

        A line edit claims those keys first (a shortcut override); refusing the override here lets the window's
        Undo and Redo shortcuts have them, as everywhere else in the editor.
        """
        keys = QtGui.QKeySequence.StandardKey
        if (event.type() == QtCore.QEvent.Type.ShortcutOverride and isinstance(event, QtGui.QKeyEvent)
                and (event.matches(keys.Undo) or event.matches(keys.Redo))):
            event.ignore()
            return True
        return super().eventFilter(watched, event)

    @property
    def joint(self) -> str:
        """The joint the controls edit (its skeleton name)."""
        return self._joint

    @property
    def controls(self) -> JointControls:
        return joint_controls()[self._joint]

    def select_joint(self, joint: str) -> None:
        """Show ``joint``'s controls (e.g. after it was picked in the viewport)."""
        item = self._joint_items[joint]
        parent = item.parent()
        while parent is not None:
            parent.setExpanded(True)
            parent = parent.parent()
        self.joints.setCurrentItem(item)
        self.joints.scrollToItem(item)
        self.tabs.setCurrentIndex(0)

    def _on_joint_item(self, item: QtWidgets.QTreeWidgetItem | None, _previous: object) -> None:
        joint = item.data(0, _JOINT_ROLE) if item is not None else None
        if joint is None:  # a group or finger heading: keep editing the joint shown
            return
        self._joint = str(joint)
        self._refresh_sliders()
        self._emit_joint_focus()

    def set_pose(self, pose: np.ndarray | None, title: str = "") -> None:
        """Show an anchor's pose (246,) (the first selected one), or nothing when no anchor is selected."""
        self._pose = None if pose is None else np.asarray(pose, dtype=np.float32)
        self.title.setText(title or ("No anchor selected" if pose is None else "Anchor"))
        self._update_apply_enabled()
        self._refresh_sliders()
        self._emit_joint_focus()

    def _emit_joint_focus(self) -> None:
        self.joint_focus_changed.emit(None if self._pose is None else self.joint)

    # --- handshapes ------------------------------------------------------------------------------------------
    def _handshape_panel(self, library: HandshapeLibrary | None) -> QtWidgets.QWidget:
        box = QtWidgets.QWidget()
        box.setToolTip("Fingerspelling handshapes of the chosen signed language; double-click one to apply it")
        form = QtWidgets.QFormLayout(box)
        form.setContentsMargins(4, 4, 4, 4)
        self.handshape_language = QtWidgets.QComboBox()
        self.handshape_language.setSizeAdjustPolicy(QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.handshape_hand = QtWidgets.QComboBox()
        for label, target in HAND_CHOICES:
            self.handshape_hand.addItem(label, target)
        self.handshape_list = QtWidgets.QListWidget()
        self.handshape_list.setViewMode(QtWidgets.QListView.ViewMode.IconMode)  # letters as a compact grid
        self.handshape_list.setResizeMode(QtWidgets.QListView.ResizeMode.Adjust)
        self.handshape_list.setGridSize(QtCore.QSize(44, 28))
        self.handshape_list.setMinimumHeight(HANDSHAPE_ROWS * 28 + 2 * self.handshape_list.frameWidth() + 4)
        self.handshape_apply = QtWidgets.QPushButton("Apply handshape")
        form.addRow("Language", self.handshape_language)
        form.addRow("Hand", self.handshape_hand)
        form.addRow(self.handshape_list)
        # Labels above their fields, so the full language name fits even in a narrow dock.
        form.setRowWrapPolicy(QtWidgets.QFormLayout.RowWrapPolicy.WrapAllRows)
        form.addRow(self.handshape_apply)
        try:
            self.library: HandshapeLibrary | None = library or load_handshape_library()
        except FileFormatError as exc:  # the editor works without it; say why the panel is empty
            self.library = None
            box.setToolTip(f"Handshape library unavailable: {exc}")
        for code in self.library.languages if self.library is not None else []:
            self.handshape_language.addItem(f"{language_name(code)} ({code})", code)
        self.handshape_language.currentIndexChanged.connect(lambda _i: self._fill_handshapes())
        self.handshape_list.currentRowChanged.connect(lambda _row: self._update_apply_enabled())
        self.handshape_list.itemDoubleClicked.connect(lambda _item: self.apply_selected_handshape())
        self.handshape_apply.clicked.connect(self.apply_selected_handshape)
        self._fill_handshapes()
        box.setEnabled(self.library is not None)
        return box

    def set_signed_language(self, code: str) -> bool:
        """Show the alphabet of ``code`` (e.g. the project's signed language); False if the library lacks it."""
        index = self.handshape_language.findData(code)
        if index >= 0:
            self.handshape_language.setCurrentIndex(index)
        return index >= 0

    def set_hand(self, target: str) -> None:
        self.handshape_hand.setCurrentIndex(max(self.handshape_hand.findData(target), 0))

    def select_handshape(self, letter: str) -> bool:
        items = [self.handshape_list.item(i) for i in range(self.handshape_list.count())]
        for row, item in enumerate(items):
            if item.data(QtCore.Qt.ItemDataRole.UserRole) == letter:
                self.handshape_list.setCurrentRow(row)
                return True
        return False

    def apply_selected_handshape(self) -> None:
        item = self.handshape_list.currentItem()
        if item is None or self.library is None or self._pose is None:
            return
        handshape = self.library.get(self.handshape_language.currentData(), item.data(QtCore.Qt.ItemDataRole.UserRole))
        self.handshape_applied.emit(handshape, self.handshape_hand.currentData())

    def _fill_handshapes(self) -> None:
        self.handshape_list.clear()
        code = self.handshape_language.currentData()
        if self.library is None or code is None:
            return
        for handshape in self.library.for_language(code):
            item = QtWidgets.QListWidgetItem(handshape.letter + ("²" if handshape.two_handed else ""))
            item.setData(QtCore.Qt.ItemDataRole.UserRole, handshape.letter)
            item.setToolTip(f"{handshape.label} — {language_name(code)}, from {handshape.clips} clip(s)")
            self.handshape_list.addItem(item)
        self._update_apply_enabled()

    def _update_apply_enabled(self) -> None:
        self.handshape_apply.setEnabled(self._pose is not None and self.handshape_list.currentItem() is not None)

    def _refresh_sliders(self) -> None:
        """Names, limits and values of the joint's controls; without an anchor they are cleared and disabled."""
        controls = self.controls
        enabled = self._pose is not None
        angles = np.zeros(3)
        if enabled:
            j = ROTATING_JOINTS.index(self._joint)
            angles = angles_of(controls, rotations.rot6d_to_matrix(self._pose[6 * j : 6 * j + 6]))
        self._updating = True
        for k, (label, slider, spin) in enumerate(zip(self.control_labels, self.sliders, self.spin_boxes,
                                                      strict=True)):
            lo, hi = controls.limits[k]
            value = round(float(angles[k]))
            # A pose beyond the limits (imported motion) widens the range rather than being clamped by a look.
            lo, hi = min(round(lo), value), max(round(hi), value)
            label.setText(controls.names[k])
            label.setEnabled(enabled)
            for widget in (slider, spin):
                widget.setRange(lo, hi)
                widget.setValue(value if enabled else max(lo, min(0, hi)))
                widget.setEnabled(enabled)
                widget.setToolTip(f"{controls.names[k]} of the {controls.label.lower()}: {lo}° to {hi}°")
            spin.setSuffix("°" if enabled else "")
            if not enabled:
                spin.clear()  # an empty field, not a stale number
        self._updating = False

    def _on_control(self) -> None:
        if self._updating or self._pose is None:
            return
        angles = np.array([s.value() for s in self.sliders], dtype=np.float64)
        self.rotation_edited.emit(self._joint, rotation_of(self.controls, angles))
