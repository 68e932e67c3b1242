"""The 3D viewport: the skinned avatar in a vispy SceneCanvas embedded in Qt.

vispy draws with OpenGL through Qt's GL widget, so this needs a real display
(Xvfb in tests). Everything it shows is derived from a Motion frame through
:mod:`signeditor.render.avatar` and forward kinematics, so the viewport holds
no editing state of its own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from vispy import scene
from vispy.geometry import MeshData
from vispy.visuals.filters import ShadingFilter

from signeditor.core.kinematics import forward_kinematics
from signeditor.core.skeleton import PARENTS
from signeditor.render.avatar import Avatar, PosedMesh

#: Where the camera looks: roughly the signing space in front of the chest (metres).
_CENTER = (0.0, 0.12, 0.1)


@dataclass(frozen=True)
class CameraPreset:
    """A turntable view: azimuth and elevation in degrees, distance in metres."""

    azimuth: float
    elevation: float
    distance: float


#: With up="+y", vispy's turntable looks along (cos az, 0, -sin az): azimuth 90 puts the camera on +z, in front
#: of the signer; azimuth 0 on the signer's right; -90 behind the signer (their own view of their hands).
CAMERA_PRESETS: dict[str, CameraPreset] = {
    "front": CameraPreset(90.0, 5.0, 2.3),
    "side": CameraPreset(0.0, 5.0, 2.3),
    "signer": CameraPreset(-90.0, 20.0, 1.8),
    "three_quarter": CameraPreset(60.0, 12.0, 2.3),
}

_BACKGROUND = {"light": "#e8e8ec", "dark": "#26262b"}
_AVATAR_COLOR = (0.87, 0.70, 0.50, 1.0)
_GHOST_COLOR = (0.35, 0.55, 0.95, 0.25)


class Viewport:
    """Owns the canvas, the avatar mesh, the skeleton overlay and onion-skin ghosts."""

    def __init__(self, avatar: Avatar | None = None, size: tuple[int, int] = (640, 480), app: str = "pyside6") -> None:
        self.avatar = avatar or Avatar()
        # "pyside6" embeds in the editor; "egl" renders offscreen with no display (video export).
        self.canvas = scene.SceneCanvas(keys=None, app=app, size=size, bgcolor=_BACKGROUND["dark"], show=False)
        self.view = self.canvas.central_widget.add_view()
        self.view.camera = scene.TurntableCamera(fov=30.0, center=_CENTER, up="+y")
        rest = self.avatar.posed(np.tile(np.array([1, 0, 0, 0, 1, 0], np.float32), 41))
        self.mesh = scene.visuals.Mesh(
            vertices=rest.vertices, faces=rest.faces, color=_AVATAR_COLOR, parent=self.view.scene
        )
        self._shading = ShadingFilter(
            shading="smooth", shininess=30.0, ambient_light=(1, 1, 1, 0.35),
            diffuse_light=(1, 1, 1, 0.75), specular_light=(1, 1, 1, 0.15),
        )
        self.mesh.attach(self._shading)
        self._light_follows_camera()
        self.skeleton = scene.visuals.Line(
            pos=np.zeros((2, 3), np.float32), connect="segments", color=(0.1, 0.9, 0.3, 1.0), width=2.0,
            parent=self.view.scene,
        )
        self.skeleton.order = 10  # drawn last and without depth test, so the bones show through the mesh
        self.skeleton.set_gl_state(depth_test=False)
        self.skeleton.visible = False
        self.ghosts: list[scene.visuals.Mesh] = []
        self._ghost_poses: list[np.ndarray] = []
        self.onion_skin = False
        self._pose: np.ndarray | None = None
        self.set_camera_preset("front")
        self.view.camera.events.transform_change.connect(lambda _event: self._light_follows_camera())

    # --- public API -------------------------------------------------------------------------------------------
    @property
    def native(self) -> object:
        """The Qt widget to put into a layout."""
        return self.canvas.native

    def set_pose(self, pose_features: np.ndarray, cache_key: object = None) -> None:
        """Show one frame's pose (246,); ``cache_key`` lets the avatar reuse a skinned mesh."""
        self._pose = np.asarray(pose_features, dtype=np.float32)
        mesh = self.avatar.posed(self._pose, key=cache_key)
        self._set_mesh_data(self.mesh, mesh)
        if self.skeleton.visible:
            self._update_skeleton()
        self.canvas.update()

    def set_avatar(self, avatar: object) -> None:
        """Swap the figure (mannequin or the user's SMPL-X model); the mesh topology changes with it."""
        self.avatar = avatar
        pose = self._pose if self._pose is not None else np.tile(np.array([1, 0, 0, 0, 1, 0], np.float32), 41)
        mesh = self.avatar.posed(pose)
        self._set_mesh_data(self.mesh, mesh)
        self._refresh_ghosts()
        self.canvas.update()

    def set_skeleton_visible(self, visible: bool) -> None:
        self.skeleton.visible = visible
        if visible:
            self._update_skeleton()
        self.canvas.update()

    def set_ghost_poses(self, poses: list[np.ndarray]) -> None:
        """Semi-transparent poses (nearby anchors) drawn behind the avatar when onion skin is on."""
        self._ghost_poses = [np.asarray(p, dtype=np.float32) for p in poses]
        self._refresh_ghosts()

    def set_onion_skin(self, enabled: bool) -> None:
        self.onion_skin = enabled
        self._refresh_ghosts()

    def set_camera_preset(self, name: str) -> None:
        preset = CAMERA_PRESETS[name]
        camera = self.view.camera
        camera.azimuth = preset.azimuth
        camera.elevation = preset.elevation
        camera.distance = preset.distance
        camera.center = _CENTER
        self.canvas.update()

    def set_theme(self, theme: str) -> None:
        self.canvas.bgcolor = _BACKGROUND.get(theme, _BACKGROUND["dark"])
        self.canvas.update()

    def render_image(self) -> np.ndarray:
        """The current view as an (H, W, 4) uint8 RGBA image (screenshots, tests, benchmarks)."""
        return np.asarray(self.canvas.render())

    # --- internals --------------------------------------------------------------------------------------------
    @staticmethod
    def _set_mesh_data(visual: scene.visuals.Mesh, mesh: PosedMesh, color: tuple | None = None) -> None:
        """Hand vispy our normals too: its own per-draw normal computation costs more than skinning."""
        data = MeshData(vertices=mesh.vertices, faces=mesh.faces)
        data._vertex_normals = mesh.normals  # vispy has no public setter; this is the cache it reads first
        visual.set_data(meshdata=data, color=color or _AVATAR_COLOR)

    def _update_skeleton(self) -> None:
        if self._pose is None:
            return
        positions = forward_kinematics(self._pose[None])[0].astype(np.float32)
        pairs = [(j, p) for j, p in enumerate(PARENTS) if p >= 0]
        segments = np.empty((2 * len(pairs), 3), np.float32)
        for k, (j, p) in enumerate(pairs):
            segments[2 * k] = positions[p]
            segments[2 * k + 1] = positions[j]
        self.skeleton.set_data(pos=segments)

    def _refresh_ghosts(self) -> None:
        wanted = self._ghost_poses if self.onion_skin else []
        while len(self.ghosts) < len(wanted):
            ghost = scene.visuals.Mesh(color=_GHOST_COLOR, parent=self.view.scene)
            ghost.set_gl_state("translucent", depth_test=True, cull_face=False)
            ghost.order = 1
            self.ghosts.append(ghost)
        for ghost, pose in zip(self.ghosts, wanted, strict=False):
            self._set_mesh_data(ghost, self.avatar.posed(pose), _GHOST_COLOR)
            ghost.visible = True
        for ghost in self.ghosts[len(wanted):]:
            ghost.visible = False
        self.canvas.update()

    def _light_follows_camera(self) -> None:
        """Headlight from slightly above the camera, so the side of the hands facing the viewer is always lit."""
        camera = self.view.camera
        az = np.radians(camera.azimuth)
        el = np.radians(camera.elevation + 20.0)
        direction = np.array([np.cos(az) * np.cos(el), -np.sin(el), -np.sin(az) * np.cos(el)])
        self._shading.light_dir = tuple(direction)

