"""A tiny self-made sign lexicon for draft tests: synthetic signs written as real ``.pose`` files.

Each clip is rest -> a distinct held pose -> rest, exported through the
MediaPipe writer, so the tests exercise the whole path (index, pose reading,
IK, layout) with known sign content and without the research data.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from signeditor.core import rotations
from signeditor.core.anchors import Anchor, AnchorSet
from signeditor.core.interpolation import interpolate_between_anchors
from signeditor.core.motion import Motion, identity_features
from signeditor.core.segments import Segment
from signeditor.core.skeleton import ROTATING_JOINTS
from signeditor.io.pose_export import write_pose

#: (file, spoken, signed, words, glosses, priority) of the fixture lexicon.
SIGNS: tuple[tuple[str, str, str, str, str, int], ...] = (
    ("sgg/kinder.pose", "de", "sgg", "kinder", "KINDER", 0),
    ("sgg/essen.pose", "de", "sgg", "essen", "ESSEN", 0),
    ("sgg/pizza.pose", "de", "sgg", "pizza", "PIZZA", 0),
    ("sgg/pizza_alt.pose", "de", "sgg", "pizza", "PIZZA2", 5),
)
LETTERS: tuple[str, ...] = ("A", "B", "C", "E", "I", "N", "O", "R", "S", "SCH", "T", "Z", "Ü")


def sign_motion(seed: int, n_frames: int = 30, fps: float = 25.0) -> Motion:
    """Rest, then a held pose of the right arm and hand from frame 8 to n-8, then rest again."""
    rng = np.random.default_rng(seed)
    pose = identity_features(1)[0].copy()
    for name in ("R_Shoulder", "R_Elbow", "R_Wrist", "R_Index1", "R_Middle1", "R_Thumb1"):
        j = ROTATING_JOINTS.index(name)
        axis_angle = rng.normal(0.0, 0.5, 3)
        pose[6 * j : 6 * j + 6] = rotations.axis_angle_to_rot6d(axis_angle[None])[0]
    rest = identity_features(1)[0]
    keys = [(0, rest), (8, pose), (n_frames - 9, pose), (n_frames - 1, rest)]
    features = interpolate_between_anchors(n_frames, AnchorSet(Anchor(f, p) for f, p in keys), "cubic")
    return Motion(fps, features)


def write_fixture_lexicon(folder: Path, with_letters: bool = True) -> Path:
    """Write ``folder/index.csv`` and its clips; returns the folder."""
    rows = ["path,spoken_language,signed_language,start,end,words,glosses,priority"]
    for seed, (path, spoken, signed, words, glosses, priority) in enumerate(SIGNS):
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        write_pose(sign_motion(seed), folder / path)
        rows.append(f"{path},{spoken},{signed},0,0,{words},{glosses},{priority}")
    if with_letters:
        for k, letter in enumerate(LETTERS):
            path = f"fs/sgg_{k}.pose"
            (folder / path).parent.mkdir(parents=True, exist_ok=True)
            write_pose(sign_motion(100 + k, n_frames=20), folder / path)
            rows.append(f"{path},de,sgg,0,0,{letter},{letter},0")
    (folder / "index.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return folder


class MiddleSegmenter:
    """Stands in for FAST: the held part of every fixture clip is its one sign."""

    def segment(self, motion: Motion) -> list[Segment]:
        if motion.n_frames <= 16:  # a sign saved from the timeline: no rest around it
            return [Segment(0, motion.n_frames)]
        return [Segment(8, motion.n_frames - 8)]
