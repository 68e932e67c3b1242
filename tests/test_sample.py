from pathlib import Path

import numpy as np

from signeditor.core.kinematics import forward_kinematics
from signeditor.core.skeleton import JOINT_INDEX
from signeditor.io.project_file import load_project

SAMPLE = Path(__file__).resolve().parents[1] / "resources" / "samples" / "sample.signproj"


def test_bundled_sample_is_a_consistent_project() -> None:
    project = load_project(SAMPLE)
    motion = project.motion
    assert motion.n_frames == 100 and motion.fps == 25.0
    assert len(project.anchors) >= 6 and project.segments
    for anchor in project.anchors:  # the dense motion passes through every anchor
        np.testing.assert_allclose(motion.features[anchor.frame], anchor.pose, atol=1e-4)
    wrist = forward_kinematics(motion.features)[:, JOINT_INDEX["R_Wrist"]]
    # The right hand rises into the signing space (above the hip, in front of the body) and returns.
    assert wrist[:, 1].max() > -0.1 > wrist[0, 1]
    assert wrist[:, 2].max() > 0.1
    np.testing.assert_allclose(wrist[0], wrist[-1], atol=1e-6)
