"""Inspector: the selected anchor's joints and three rotation sliders.

Sliders show XYZ Euler angles (degrees) of the joint's local rotation, which
is what a user can reason about; each change becomes an undoable command
(consecutive steps on one joint merge into a single undo entry).
"""

from __future__ import annotations

import numpy as np
from PySide6 import QtCore, QtWidgets

from signeditor.core import rotations
from signeditor.core.skeleton import ROTATING_JOINTS


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
    """Emits ``rotation_edited(joint, matrix)``; the main window turns it into a command on the selected anchor."""

    rotation_edited = QtCore.Signal(str, object)

    def __init__(self, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QtWidgets.QVBoxLayout(self)
        self.title = QtWidgets.QLabel("No anchor selected")
        layout.addWidget(self.title)
        self.joints = QtWidgets.QListWidget()
        self.joints.addItems(list(ROTATING_JOINTS))
        self.joints.setCurrentRow(ROTATING_JOINTS.index("R_Wrist"))
        layout.addWidget(self.joints, 1)
        form = QtWidgets.QFormLayout()
        self.sliders: list[QtWidgets.QSlider] = []
        for axis in "XYZ":
            slider = QtWidgets.QSlider(QtCore.Qt.Orientation.Horizontal)
            slider.setRange(-180, 180)
            slider.valueChanged.connect(self._on_slider)
            form.addRow(f"{axis} (°)", slider)
            self.sliders.append(slider)
        layout.addLayout(form)
        self._pose: np.ndarray | None = None
        self._updating = False
        self.joints.currentRowChanged.connect(lambda _row: self._refresh_sliders())
        self.set_pose(None)

    @property
    def joint(self) -> str:
        return ROTATING_JOINTS[max(self.joints.currentRow(), 0)]

    def set_pose(self, pose: np.ndarray | None, title: str = "") -> None:
        """Show an anchor's pose (246,), or nothing when no single anchor is selected."""
        self._pose = None if pose is None else np.asarray(pose, dtype=np.float32)
        self.title.setText(title or ("No anchor selected" if pose is None else "Anchor"))
        for slider in self.sliders:
            slider.setEnabled(pose is not None)
        self._refresh_sliders()

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
