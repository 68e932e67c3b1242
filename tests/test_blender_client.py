"""Our exports opened by Blender 3.4 (a real client, headless): the joints it plays are our forward kinematics.

Blender converts axes on import, so joints are compared by their pairwise
distances (in metres) rather than coordinates: every frame, every pair of
shoulders, elbows, wrists and head within 1 mm. Skipped without ``blender``
on the PATH (CI installs it and must run these).
"""

from __future__ import annotations

import itertools
import json
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from needs import missing

from signeditor.core.kinematics import forward_kinematics
from signeditor.core.skeleton import JOINT_INDEX
from signeditor.io.formats import export_project
from signeditor.io.project_file import load_project

SAMPLE = Path(__file__).resolve().parents[1] / "resources" / "samples" / "sample.signproj"
PROBE = Path(__file__).resolve().parent / "blender_probe.py"
JOINTS = ("L_Shoulder", "R_Shoulder", "L_Elbow", "R_Elbow", "L_Wrist", "R_Wrist", "Head")

pytestmark = pytest.mark.slow


def blender_import(path: Path) -> dict:
    blender = shutil.which("blender")
    if blender is None:
        missing("blender is not installed (apt-get install blender python3-numpy)")
    out = path.with_suffix(".json")
    subprocess.run([blender, "-b", "--factory-startup", "--python", str(PROBE), "--", str(path), str(out)],
                   check=True, capture_output=True, timeout=240)
    return json.loads(out.read_text())


def pairwise(points: np.ndarray) -> np.ndarray:
    return np.array([np.linalg.norm(points[i] - points[j]) for i, j in itertools.combinations(range(len(points)), 2)])


@pytest.mark.parametrize("format_name, frame_offset, metres", [("bvh", 1, 0.01), ("glb", 0, 1.0)])
def test_blender_plays_our_joints(tmp_path: Path, format_name: str, frame_offset: int, metres: float) -> None:
    """BVH (centimetres) frames start at 1 in Blender; glTF (metres) key time 0 is frame 0."""
    project = load_project(SAMPLE)
    path = export_project(project, tmp_path / f"sample.{format_name}", format_name)
    found = blender_import(Path(path))
    fk = np.asarray(forward_kinematics(project.motion.features))
    frames = {int(f): joints for f, joints in found["bones"].items()}
    compared = 0
    for frame, joints in frames.items():
        t = frame - frame_offset
        if not 0 <= t < len(fk):
            continue
        ours = np.stack([fk[t, JOINT_INDEX[name]] for name in JOINTS])
        theirs = np.stack([np.asarray(joints[name]) for name in JOINTS]) * metres
        np.testing.assert_allclose(pairwise(theirs), pairwise(ours), atol=1e-3, err_msg=f"frame {t}")
        compared += 1
    assert compared >= len(fk) - 1


@pytest.mark.shared_data
def test_blender_plays_the_avatar_face(tmp_path: Path, shared_signdata: Path) -> None:
    """A GLB of the default avatar carries the fitted face as shape keys that move when Blender plays it."""
    from signeditor.app_services import open_document
    from signeditor.render.avatars.catalog import DEFAULT_AVATAR, load_avatar

    project = open_document(shared_signdata / "dgs_sentences" / "train_1_original.pose")
    path = export_project(project, tmp_path / "face.glb", "glb", avatar=load_avatar(DEFAULT_AVATAR))
    moving = {name: span for name, span in blender_import(Path(path))["shape_key_range"].items() if span > 0.05}
    assert any("MouthOpen" in name for name in moving), sorted(moving)
    assert len(moving) >= 5


@pytest.mark.shared_data
def test_blender_plays_the_face_of_a_cli_glb(tmp_path: Path, shared_signdata: Path) -> None:
    """`signeditor export X.pose -f glb`, no --avatar: the editor's default avatar, its face playing in Blender."""
    from signeditor.cli import main

    source = shared_signdata / "dgs_sentences" / "train_1_original.pose"
    assert main(["export", str(source), "-f", "glb", "-o", str(tmp_path)]) == 0
    keys = blender_import(tmp_path / "train_1_original.glb")["shape_key_range"]
    moving = {name: span for name, span in keys.items() if span > 0.05}
    assert any("MouthOpen" in name for name in moving), sorted(moving)
    assert len(moving) >= 5
