"""The 3D viewport: the skinned avatar in a vispy SceneCanvas embedded in Qt.

vispy draws with OpenGL through Qt's GL widget, so this needs a real display
(Xvfb in tests). Everything it shows is derived from a Motion frame through
:mod:`signeditor.render.avatars.mannequin` and forward kinematics, so the viewport holds
no editing state of its own.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from vispy import scene

from signeditor.core.kinematics import forward_kinematics
from signeditor.core.skeleton import JOINT_INDEX, PARENTS, ROTATING_JOINTS
from signeditor.render.avatars.mannequin import Avatar, PosedMesh
from signeditor.render.mesh_visual import SkinnedMesh

#: Where the camera looks: roughly the signing space in front of the chest (metres).
_CENTER = (0.0, 0.12, 0.1)


@dataclass(frozen=True)
class CameraPreset:
    """A turntable view: azimuth and elevation in degrees, distance in metres."""

    azimuth: float
    elevation: float
    distance: float
    #: The point looked at (metres); the signing space in front of the chest by default.
    center: tuple[float, float, float] = _CENTER


#: With up="+y", vispy's turntable looks along (cos az, 0, -sin az): azimuth 90 puts the camera on +z, in front
#: of the signer; azimuth 0 on the signer's right; -90 behind the signer. The signer's view looks over the right
#: shoulder (behind, to the right and above) down at the hands in front of the chest, so the body does not hide them.
CAMERA_PRESETS: dict[str, CameraPreset] = {
    "front": CameraPreset(90.0, 5.0, 2.3),
    "side": CameraPreset(0.0, 5.0, 2.3),
    "signer": CameraPreset(-60.0, 30.0, 1.5, (0.0, 0.05, 0.25)),
    "three_quarter": CameraPreset(60.0, 12.0, 2.3),
    #: Exported videos: the signer from the hips (y about -0.42 m) to just above the head (0.45 m), as sign
    #: language video is filmed, so the face and hands are big enough to read (the front view shows the whole
    #: figure small: a face about 50 pixels high in 640×480).
    "front_hips_up": CameraPreset(90.0, 2.0, 1.9, (0.0, -0.03, 0.05)),
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
        self.mesh = self._figure_visual(self.avatar.posed(np.tile(np.array([1, 0, 0, 0, 1, 0], np.float32), 41)))
        self.skeleton = scene.visuals.Line(
            pos=np.zeros((2, 3), np.float32), connect="segments", color=(0.1, 0.9, 0.3, 1.0), width=2.0,
            parent=self.view.scene,
        )
        self.skeleton.order = 10  # drawn last and without depth test, so the bones show through the mesh
        self.skeleton.set_gl_state(depth_test=False)
        self.skeleton.visible = False
        self.joint_marker = scene.visuals.Markers(parent=self.view.scene)
        self.joint_marker.order = 11  # over the mesh and the bones, like the skeleton overlay
        self.joint_marker.set_gl_state("translucent", depth_test=False)
        self.joint_marker.visible = False
        self._highlighted_joint: str | None = None
        self.ghosts: list[SkinnedMesh] = []
        self._ghost_poses: list[np.ndarray] = []
        self._ghost_shown: list[np.ndarray] = []  # what each ghost mesh currently holds
        self.onion_skin = False
        self._pose: np.ndarray | None = None
        self.set_camera_preset("front")
        self._light_follows_camera()
        self.view.camera.events.transform_change.connect(lambda _event: self._light_follows_camera())
        #: Called with a joint name when the user clicks on (near) a joint; a drag still orbits the camera.
        self.joint_pick_callbacks: list[Callable[[str], None]] = []
        self._press_pos: np.ndarray | None = None
        self.canvas.events.mouse_press.connect(self._on_mouse_press)
        self.canvas.events.mouse_release.connect(self._on_mouse_release)

    # --- public API -------------------------------------------------------------------------------------------
    @property
    def native(self) -> object:
        """The Qt widget to put into a layout."""
        return self.canvas.native

    def set_pose(self, pose_features: np.ndarray, cache_key: object = None, face: np.ndarray | None = None) -> None:
        """Show one frame's pose (246,) and face (core.face parameters, shown by avatars with face morphs);
        ``cache_key`` lets the avatar reuse a skinned mesh."""
        self._pose = np.asarray(pose_features, dtype=np.float32)
        if getattr(self.avatar, "has_face", False):
            mesh = self.avatar.posed(self._pose, key=cache_key, face=face)
        else:
            mesh = self.avatar.posed(self._pose, key=cache_key)
        self.mesh.set_mesh(mesh.vertices, mesh.faces, mesh.normals)
        if self.skeleton.visible:
            self._update_skeleton()
        if self._highlighted_joint is not None:
            self._update_joint_marker()
        self.canvas.update()

    def set_highlighted_joint(self, joint: str | None) -> None:
        """Mark the joint the inspector edits (None: no mark)."""
        if joint == self._highlighted_joint:
            return  # the inspector re-announces its joint on every anchor edit: no repaint for nothing
        self._highlighted_joint = joint
        self.joint_marker.visible = joint is not None
        if joint is not None:
            self._update_joint_marker()
        self.canvas.update()

    def set_avatar(self, avatar: object) -> None:
        """Swap the figure (mannequin or the user's SMPL-X model); the mesh topology changes with it."""
        self.avatar = avatar
        pose = self._pose if self._pose is not None else np.tile(np.array([1, 0, 0, 0, 1, 0], np.float32), 41)
        self.mesh.parent = None
        self.mesh = self._figure_visual(self.avatar.posed(pose))
        self._light_follows_camera()
        self._ghost_shown = []  # the new figure re-skins its ghosts too
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
        camera.center = preset.center
        self._light_follows_camera()  # at once: the camera's own event comes only with the next draw
        self.canvas.update()

    def set_theme(self, theme: str) -> None:
        self.canvas.bgcolor = _BACKGROUND.get(theme, _BACKGROUND["dark"])
        self.canvas.update()

    def joint_screen_positions(self) -> dict[str, np.ndarray]:
        """Where each rotating joint of the current pose is drawn, in canvas pixels (x right, y down)."""
        if self._pose is None:
            return {}
        positions = forward_kinematics(self._pose[None])[0]
        points = np.array([positions[JOINT_INDEX[name]] for name in ROTATING_JOINTS])
        mapped = np.asarray(self.mesh.get_transform("visual", "canvas").map(points))
        pixels = mapped[:, :2] / mapped[:, 3:4]
        return dict(zip(ROTATING_JOINTS, pixels, strict=True))

    def joint_at(self, x: float, y: float, radius_px: float = 16.0) -> str | None:
        """The rotating joint drawn nearest to canvas pixel (x, y), if one is within ``radius_px``."""
        best, best_distance = None, radius_px
        for name, pixel in self.joint_screen_positions().items():
            distance = float(np.hypot(pixel[0] - x, pixel[1] - y))
            if distance <= best_distance:
                best, best_distance = name, distance
        return best

    def render_image(self) -> np.ndarray:
        """The current view as an (H, W, 4) uint8 RGBA image (screenshots, tests, benchmarks)."""
        return np.asarray(self.canvas.render())

    # --- internals --------------------------------------------------------------------------------------------
    def _figure_visual(self, rest: PosedMesh) -> SkinnedMesh:
        """The avatar's mesh visual: textured for glTF avatars (they carry UVs and a texture), else one colour."""
        uv, texture = getattr(self.avatar, "uv", None), getattr(self.avatar, "texture", None)
        if uv is not None and texture is not None:
            from signeditor.render.avatars.textured_mesh import TexturedMesh

            return TexturedMesh(uv, texture, getattr(self.avatar, "cull_back_faces", False), vertices=rest.vertices,
                                faces=rest.faces, normals=rest.normals, parent=self.view.scene)
        return SkinnedMesh(rest.vertices, rest.faces, rest.normals, color=_AVATAR_COLOR, parent=self.view.scene)

    def _on_mouse_press(self, event: object) -> None:
        self._press_pos = np.asarray(event.pos, dtype=float) if event.button == 1 else None

    def _on_mouse_release(self, event: object) -> None:
        """A click (press and release at the same spot) picks a joint; a drag was a camera orbit."""
        pressed, self._press_pos = self._press_pos, None
        if pressed is None or event.button != 1 or np.hypot(*(np.asarray(event.pos) - pressed)) > 4.0:
            return
        joint = self.joint_at(*event.pos)
        if joint is not None:
            for callback in self.joint_pick_callbacks:
                callback(joint)

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

    def _update_joint_marker(self) -> None:
        if self._pose is None or self._highlighted_joint is None:
            return
        position = forward_kinematics(self._pose[None])[0][JOINT_INDEX[self._highlighted_joint]]
        self.joint_marker.set_data(pos=position[None].astype(np.float32), size=12, face_color=(1.0, 0.8, 0.1, 0.9),
                                   edge_color=(0.1, 0.1, 0.1, 1.0), edge_width=1.5)

    def _refresh_ghosts(self) -> None:
        wanted = self._ghost_poses if self.onion_skin else []
        while len(self.ghosts) < len(wanted):
            ghost = SkinnedMesh(color=_GHOST_COLOR, parent=self.view.scene)
            ghost.set_gl_state("translucent", depth_test=True, cull_face=True)
            ghost.order = 1
            self.ghosts.append(ghost)
            self._light_follows_camera()
        for k, (ghost, pose) in enumerate(zip(self.ghosts, wanted, strict=False)):
            shown = self._ghost_shown[k] if k < len(self._ghost_shown) else None
            if shown is None or not np.array_equal(shown, pose):  # frame steps keep the same neighbours: no re-skin
                posed: PosedMesh = self.avatar.posed(pose)
                ghost.set_mesh(posed.vertices, posed.faces, posed.normals)
            ghost.visible = True
        self._ghost_shown = [np.array(p, copy=True) for p in wanted]
        for ghost in self.ghosts[len(wanted):]:
            ghost.visible = False
        self.canvas.update()

    def _light_follows_camera(self) -> None:
        """Headlight from slightly above the camera, so the side of the hands facing the viewer is always lit."""
        camera = self.view.camera
        az = np.radians(camera.azimuth)
        light = self._into_scene(az, np.radians(camera.elevation + 20.0))
        view = self._into_scene(az, np.radians(camera.elevation))
        for visual in (self.mesh, *self.ghosts):
            visual.set_lighting(light, view)

    @staticmethod
    def _into_scene(azimuth: float, elevation: float) -> tuple[float, float, float]:
        """Direction from a point at (azimuth, elevation) on the turntable towards its centre."""
        return (float(np.cos(azimuth) * np.cos(elevation)), float(-np.sin(elevation)),
                float(-np.sin(azimuth) * np.cos(elevation)))

