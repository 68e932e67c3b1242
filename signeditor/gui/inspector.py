"""Inspector: the selected anchors' joints, three rotation sliders and the handshape library.

Sliders show XYZ Euler angles (degrees) of the joint's local rotation, which
is what a user can reason about; each change becomes an undoable command
(consecutive steps on one joint merge into a single undo entry). With several
anchors selected, the sliders show the first one and an edit sets the same
rotation on all of them. The handshape library (the fingerspelling alphabet of
the chosen signed language) sets a whole hand at once.
"""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtWidgets

from signeditor.core import rotations
from signeditor.core.handshapes import HandshapeLibrary, language_name, load_handshape_library
from signeditor.core.skeleton import ROTATING_JOINTS
from signeditor.io.errors import FileFormatError

#: Hand choices of the handshape panel: (label, target passed to core.handshapes.apply_handshape).
HAND_CHOICES: tuple[tuple[str, str], ...] = (("Right hand", "right"), ("Left hand (mirrored)", "left"),
                                             ("Both hands", "both"))


def euler_xyz_to_matrix(degrees: np.ndarray) -> np.ndarray:
    """R = Rz @ Ry @ Rx (extrinsic x, then y, then z)."""
    x, y, z = np.radians(np.asarray(degrees, dtype=np.float64))
    rx = np.array([[1, 0, 0], [0, np.cos(x), -np.sin(x)], [0, np.sin(x), np.cos(x)]])
    ry = np.array([[np.cos(y), 0, np.sin(y)], [0, 1, 0], [-np.sin(y), 0, np.cos(y)]])
    rz = np.array([[np.cos(z), -np.sin(z), 0], [np.sin(z), np.cos(z), 0], [0, 0, 1]])
    return rz @ ry @ rx


def matrix_to_euler_xyz(matrix: np.ndarray) -> np.ndarray:
    """Inverse of :func:`euler_xyz_to_matrix` (degrees; y clamped at the gimbal poles)."""
    m = np.asarray(matrix, dtype=np.float64)
    y = np.arcsin(np.clip(-m[2, 0], -1.0, 1.0))
    if abs(m[2, 0]) < 0.999999:
        x = np.arctan2(m[2, 1], m[2, 2])
        z = np.arctan2(m[1, 0], m[0, 0])
    else:
        x = np.arctan2(-m[1, 2], m[1, 1])
        z = 0.0
    return np.degrees([x, y, z])


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
        self.joints = QtWidgets.QListWidget()
        self.joints.addItems(list(ROTATING_JOINTS))
        self.joints.setCurrentRow(ROTATING_JOINTS.index("R_Wrist"))
        self.joints.setMinimumHeight(60)
        rotate_layout.addWidget(self.joints, 1)
        form = QtWidgets.QFormLayout()
        self.sliders: list[QtWidgets.QSlider] = []
        for axis in "XYZ":
            slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
            slider.setRange(-180, 180)
            slider.valueChanged.connect(self._on_slider)
            form.addRow(f"{axis} (°)", slider)
            self.sliders.append(slider)
        rotate_layout.addLayout(form)
        self.tabs.addTab(rotate, "Rotate joint")
        self.tabs.addTab(self._handshape_panel(library), "Handshapes")
        self.joints.currentRowChanged.connect(lambda _row: self._refresh_sliders())
        self.joints.currentRowChanged.connect(lambda _row: self._emit_joint_focus())
        self.set_pose(None)

    @property
    def joint(self) -> str:
        return ROTATING_JOINTS[max(self.joints.currentRow(), 0)]

    def select_joint(self, joint: str) -> None:
        """Show ``joint``'s sliders (e.g. after it was picked in the viewport)."""
        self.joints.setCurrentRow(ROTATING_JOINTS.index(joint))
        self.tabs.setCurrentIndex(0)

    def set_pose(self, pose: np.ndarray | None, title: str = "") -> None:
        """Show an anchor's pose (246,) (the first selected one), or nothing when no anchor is selected."""
        self._pose = None if pose is None else np.asarray(pose, dtype=np.float32)
        self.title.setText(title or ("No anchor selected" if pose is None else "Anchor"))
        for slider in self.sliders:
            slider.setEnabled(pose is not None)
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
        self.handshape_language.setSizeAdjustPolicy(
            QtWidgets.QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.handshape_language.setMinimumContentsLength(12)
        self.handshape_hand = QtWidgets.QComboBox()
        for label, target in HAND_CHOICES:
            self.handshape_hand.addItem(label, target)
        self.handshape_list = QtWidgets.QListWidget()
        self.handshape_list.setViewMode(QtWidgets.QListView.ViewMode.IconMode)  # letters as a compact grid
        self.handshape_list.setResizeMode(QtWidgets.QListView.ResizeMode.Adjust)
        self.handshape_list.setGridSize(QtCore.QSize(44, 28))
        self.handshape_list.setMinimumHeight(60)
        self.handshape_apply = QtWidgets.QPushButton("Apply handshape")
        form.addRow("Language", self.handshape_language)
        form.addRow("Hand", self.handshape_hand)
        form.addRow(self.handshape_list)
        form.setRowWrapPolicy(QtWidgets.QFormLayout.RowWrapPolicy.DontWrapRows)
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
        if self._pose is None:
            return
        j = ROTATING_JOINTS.index(self.joint)
        angles = matrix_to_euler_xyz(rotations.rot6d_to_matrix(self._pose[6 * j : 6 * j + 6]))
        self._updating = True
        for slider, angle in zip(self.sliders, angles, strict=True):
            slider.setValue(round(float(angle)))
        self._updating = False

    def _on_slider(self) -> None:
        if self._updating or self._pose is None:
            return
        angles = np.array([s.value() for s in self.sliders], dtype=np.float64)
        self.rotation_edited.emit(self.joint, euler_xyz_to_matrix(angles))
