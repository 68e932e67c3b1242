"""Run inside Blender (``blender -b --factory-startup --python tests/blender_probe.py -- FILE OUT.json``).

Imports a BVH or glTF/GLB export the way a user's Blender does and writes what
it finds: every armature bone's head position per frame (scene rate 25 fps, as
our clips), and how far each shape key's value moves over the animation.
"""

import builtins
import json
import sys

import numpy

numpy.bool = bool  # Blender 3.4's glTF importer still uses this alias, removed from numpy
_open = builtins.open
builtins.open = lambda f, mode="r", *a, **k: _open(f, mode.replace("U", ""), *a, **k)  # its BVH importer: 'rU'

import bpy  # noqa: E402

path, out = sys.argv[-2], sys.argv[-1]
bpy.ops.wm.read_factory_settings(use_empty=True)
scene = bpy.context.scene
scene.render.fps = 25
if path.endswith(".bvh"):
    bpy.ops.import_anim.bvh(filepath=path, update_scene_fps=False, update_scene_duration=True)
else:
    bpy.ops.import_scene.gltf(filepath=path)
armature = next(o for o in bpy.data.objects if o.type == "ARMATURE")
bones, keys = {}, {}
shaped = [o for o in bpy.data.objects if o.type == "MESH" and o.data.shape_keys]
for frame in range(scene.frame_start, scene.frame_end + 1):
    scene.frame_set(frame)
    bones[frame] = {b.name: list(armature.matrix_world @ b.head) for b in armature.pose.bones}
    for mesh in shaped:
        for block in mesh.data.shape_keys.key_blocks[1:]:
            keys.setdefault(block.name, []).append(block.value)
json.dump({"first_frame": scene.frame_start, "bones": bones,
           "shape_key_range": {name: max(v) - min(v) for name, v in keys.items()}}, _open(out, "w"))
