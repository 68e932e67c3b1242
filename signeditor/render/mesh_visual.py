"""A lit, indexed triangle mesh whose vertices change every frame (the skinned avatar and its ghosts).

vispy's general ``Mesh`` visual re-indexes the mesh by faces on every update (each of the ~48k triangles
gets its own three vertices, so the GPU shades 6x more vertices), rebuilds and recompiles its shader on
every ``set_data`` and recomputes normals we already have; under llvmpipe that was most of the frame time.
This visual keeps one index buffer for the fixed topology and only overwrites the position and normal
buffers in place, with one shader compiled once, and culls back faces. The lighting is vispy's Blinn-Phong
with a headlight.
"""

from __future__ import annotations

import numpy as np
from vispy import gloo, scene
from vispy.visuals import Visual

_VERTEX_SHADER = """
varying vec3 v_normal;

void main() {
    v_normal = $normal;
    gl_Position = $transform(vec4($position, 1.0));
}
"""

# Light and view directions are in the scene frame (the avatar is placed directly in the scene); both point
# from the eye/light into the scene. Faces seen from behind flip their normal, as vispy's shading does.
_FRAGMENT_SHADER = """
varying vec3 v_normal;

void main() {
    vec3 normal = normalize(gl_FrontFacing ? v_normal : -v_normal);
    vec3 light = normalize($light_dir);
    vec3 view = normalize($view_dir);
    float diffuse = max(dot(-light, normal), 0.0);
    float specular = 0.0;
    if (diffuse > 0.0) {
        vec3 halfway = -normalize(light + view);
        specular = pow(clamp(dot(halfway, normal), 0.0, 1.0), $shininess);
    }
    vec4 base = $color;
    vec3 rgb = base.rgb * ($ambient + diffuse * $diffuse) + specular * $specular;
    gl_FragColor = vec4(rgb, base.a);
}
"""


class SkinnedMeshVisual(Visual):
    """Fixed faces, per-frame vertices and normals, one colour, headlight shading."""

    vertex_shader = _VERTEX_SHADER
    fragment_shader = _FRAGMENT_SHADER

    def __init__(self, vertices: np.ndarray | None = None, faces: np.ndarray | None = None,
                 normals: np.ndarray | None = None, color: tuple[float, float, float, float] = (1, 1, 1, 1),
                 ambient: float = 0.35, diffuse: float = 0.75, specular: float = 0.15, shininess: float = 30.0) -> None:
        super().__init__(vcode=self.vertex_shader, fcode=self.fragment_shader)
        self._positions = gloo.VertexBuffer(np.zeros((1, 3), np.float32))
        self._normals = gloo.VertexBuffer(np.zeros((1, 3), np.float32))
        self._faces: np.ndarray | None = None
        self._n_vertices = 0
        self._vertices: np.ndarray | None = None
        self.shared_program.vert["position"] = self._positions
        self.shared_program.vert["normal"] = self._normals
        frag = self.shared_program.frag
        frag["ambient"] = float(ambient)
        frag["diffuse"] = float(diffuse)
        frag["specular"] = float(specular)
        frag["shininess"] = float(shininess)
        frag["light_dir"] = (0.0, -0.3, -1.0)
        frag["view_dir"] = (0.0, 0.0, -1.0)
        self.set_color(color)
        self._draw_mode = "triangles"
        # The avatars are closed meshes wound counter-clockwise outwards: culling back faces halves llvmpipe's
        # triangle work and hides the insides of parts that poke through each other at the joints.
        self.set_gl_state("opaque", depth_test=True, cull_face=True)
        if vertices is not None and faces is not None and normals is not None:
            self.set_mesh(vertices, faces, normals)

    def set_mesh(self, vertices: np.ndarray, faces: np.ndarray, normals: np.ndarray) -> None:
        """Upload a pose; the index buffer is only rebuilt when the topology changes (another avatar)."""
        vertices = np.ascontiguousarray(vertices, dtype=np.float32)
        normals = np.ascontiguousarray(normals, dtype=np.float32)
        if vertices.shape != normals.shape or vertices.ndim != 2 or vertices.shape[1] != 3:
            raise ValueError(f"vertices {vertices.shape} and normals {normals.shape} must both be (V, 3)")
        if self._faces is None or (faces is not self._faces and not np.array_equal(faces, self._faces)):
            self._faces = faces
            self._index_buffer = gloo.IndexBuffer(np.ascontiguousarray(faces, dtype=np.uint32))
        if len(vertices) == self._n_vertices:
            self._positions.set_subdata(vertices)  # in place: no reallocation of the GL buffer per frame
            self._normals.set_subdata(normals)
        else:
            self._positions.set_data(vertices)
            self._normals.set_data(normals)
            self._n_vertices = len(vertices)
        self._vertices = vertices  # bounds are computed from it only if vispy asks (camera auto-range)
        self.update()

    def set_color(self, color: tuple[float, float, float, float]) -> None:
        self.shared_program.frag["color"] = tuple(float(c) for c in color)
        self.update()

    def set_lighting(self, light_dir: tuple[float, float, float], view_dir: tuple[float, float, float]) -> None:
        """Directions in the scene frame, pointing from the light / the eye into the scene."""
        self.shared_program.frag["light_dir"] = tuple(float(c) for c in light_dir)
        self.shared_program.frag["view_dir"] = tuple(float(c) for c in view_dir)
        self.update()

    def _prepare_transforms(self, view: object) -> None:
        view.view_program.vert["transform"] = view.get_transform()

    def _prepare_draw(self, view: object) -> bool | None:
        if self._index_buffer is None or self._n_vertices == 0:
            return False
        return None

    def _compute_bounds(self, axis: int, view: object) -> tuple[float, float] | None:
        if self._vertices is None:
            return None
        column = self._vertices[:, axis]
        return float(column.min()), float(column.max())


SkinnedMesh = scene.visuals.create_visual_node(SkinnedMeshVisual)
