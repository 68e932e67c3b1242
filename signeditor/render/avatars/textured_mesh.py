"""The skinned-mesh visual with a base colour texture (glTF avatars): same buffers and lighting, texture lookup.

It reuses :class:`SkinnedMeshVisual` (one index buffer, positions and normals overwritten in place) and only
swaps the colour for a texture fetch at the vertex's UV in the avatar's atlas.
"""

from __future__ import annotations

import numpy as np
from vispy import gloo, scene

from signeditor.render.mesh_visual import _FRAGMENT_SHADER, _VERTEX_SHADER, SkinnedMeshVisual

_COLOR_LINE = "vec4 base = $color;"
if _COLOR_LINE not in _FRAGMENT_SHADER or "v_normal = $normal;" not in _VERTEX_SHADER:
    raise ImportError("mesh_visual's shaders changed: update the textured variant")


class TexturedMeshVisual(SkinnedMeshVisual):
    """Fixed faces and UVs, per-frame vertices and normals, colour from a texture."""

    vertex_shader = _VERTEX_SHADER.replace("varying vec3 v_normal;", "varying vec3 v_normal;\nvarying vec2 v_uv;") \
        .replace("v_normal = $normal;", "v_normal = $normal;\n    v_uv = $texcoord;")
    fragment_shader = _FRAGMENT_SHADER.replace("varying vec3 v_normal;", "varying vec3 v_normal;\nvarying vec2 v_uv;") \
        .replace(_COLOR_LINE, "vec4 base = vec4(texture2D($texture, v_uv).rgb, 1.0);")

    def __init__(self, uv: np.ndarray, texture: np.ndarray, cull_back_faces: bool = False, **kwargs: object) -> None:
        self._uv_buffer = gloo.VertexBuffer(np.ascontiguousarray(uv, dtype=np.float32))
        self._texture = gloo.Texture2D(np.ascontiguousarray(texture), interpolation="linear", wrapping="clamp_to_edge")
        super().__init__(**kwargs)
        self.shared_program.vert["texcoord"] = self._uv_buffer
        self.shared_program.frag["texture"] = self._texture
        # Avatar parts (hair cards, eyelashes) may be single sheets: both sides are drawn unless the avatar is closed.
        self.set_gl_state("opaque", depth_test=True, cull_face=cull_back_faces)

    def set_color(self, color: tuple[float, float, float, float]) -> None:
        """The texture gives the colour; the base class's colour uniform is unused here."""


TexturedMesh = scene.visuals.create_visual_node(TexturedMeshVisual)
