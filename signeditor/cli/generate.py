"""``signeditor generate INPUT -o OUT``: regenerate a sequence from its anchors with KF2P and save a project."""

from __future__ import annotations

import argparse
from pathlib import Path

from signeditor.core.anchors import AnchorSet
from signeditor.core.project import Project
from signeditor.io.errors import FileFormatError
from signeditor.io.project_file import PROJECT_SUFFIX, load_project, save_project


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("generate", help="regenerate motion from anchors with KF2P; writes .signproj")
    parser.add_argument("input", type=Path, help=".signproj project, or a .pose clip (FAST places the anchors)")
    parser.add_argument("-o", "--out", type=Path, required=True, help="output .signproj")
    parser.add_argument("--steps", type=int, default=None, help="sampler steps (default: the model's)")
    parser.add_argument("--seed", type=int, default=0, help="a new seed gives a variation")
    parser.add_argument("--text", default=None, help="sentence / glosses to condition on (default: the project's)")
    parser.add_argument("--guidance", type=float, default=1.0)
    parser.add_argument("--weights", type=Path, default=None)
    parser.set_defaults(handler=run)


def _project_from_pose(path: Path) -> Project:
    """A project from a .pose clip: fitted motion, FAST segments and onset/middle/offset anchors."""
    from signeditor.core.keyframes import anchors_from_segments
    from signeditor.io.pose_import import motion_from_pose_file
    from signeditor.ml.fast.api import load_segmenter

    motion = motion_from_pose_file(path)
    segments = load_segmenter().segment(motion)
    return Project(motion=motion, anchors=anchors_from_segments(motion, segments), segments=segments,
                   source=str(path))


def run(args: argparse.Namespace) -> int:
    from signeditor.ml.kf2p.api import load_generator

    if args.input.suffix == PROJECT_SUFFIX:
        project = load_project(args.input)
    elif args.input.suffix == ".pose":
        project = _project_from_pose(args.input)
    else:
        raise FileFormatError(args.input, f"expected a {PROJECT_SUFFIX} project or a .pose clip")
    if len(project.anchors) == 0:
        raise FileFormatError(args.input, "has no anchors to generate from")
    generator = load_generator(args.weights)
    text = project.text if args.text is None else args.text
    project.motion = generator.regenerate_between_anchors(
        project.motion, AnchorSet(project.anchors), steps=args.steps, seed=args.seed, text=text,
        signed_language=project.signed_language, guidance=args.guidance)
    project.text = text
    project.model_versions = {**project.model_versions, "kf2p": generator.version}
    out = args.out if args.out.suffix == PROJECT_SUFFIX else args.out.with_suffix(PROJECT_SUFFIX)
    save_project(project, out)
    print(f"wrote {out} ({project.motion.n_frames} frames, {len(project.anchors)} anchors)")
    return 0
