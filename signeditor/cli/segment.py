"""``signeditor segment INPUT -o OUT.json|OUT.eaf``: find signs in a recording and propose keyframes."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING

from signeditor.core.keyframes import POLICIES, anchors_from_segments
from signeditor.core.motion import Motion
from signeditor.io.atomic import write_bytes_atomically

if TYPE_CHECKING:
    from signeditor.ml.fast.api import Segmenter


def load_motion(path: Path) -> Motion:
    """A motion from a .pose recording (fitted by IK), a .signproj project, or any motion file the editor opens
    (an LMDB database's first clip; ``db.lmdb/data.mdb`` names the database)."""
    suffix = path.suffix.lower()
    if suffix == ".pose":
        from signeditor.io.pose_import import motion_from_pose_file

        return motion_from_pose_file(path)
    if suffix == ".signproj":
        from signeditor.io.project_file import load_project

        return load_project(path).motion
    from signeditor.app_services import database_path
    from signeditor.io.formats import open_project

    return open_project(database_path(path)).motion


def segmentation_document(motion: Motion, segments: list, anchors: object, source: str) -> dict:
    return {
        "source": source,
        "fps": motion.fps,
        "n_frames": motion.n_frames,
        "segments": [
            {"start": s.start, "end": s.end, "gloss": s.gloss, "confidence": round(float(s.confidence), 4)}
            for s in segments
        ],
        "keyframes": [{"frame": a.frame, "label": a.label} for a in anchors],
    }


def segment_file(source: Path, output: Path, segmenter: Segmenter, policy: str, every: int) -> str:
    """Segment one recording and write JSON or ELAN by the output's suffix (``signeditor batch`` calls this too)."""
    motion = load_motion(source)
    segments = segmenter.segment(motion)
    anchors = anchors_from_segments(motion, segments, policy=policy, every=every)
    if output.suffix.lower() == ".eaf":
        from signeditor.io.elan import write_elan

        write_elan(segments, motion.fps, output, motion.n_frames)
    else:
        document = segmentation_document(motion, segments, anchors, str(source))
        text = json.dumps(document, indent=1)
        write_bytes_atomically(output, text.encode("utf-8"))
    return f"{len(segments)} signs, {len(anchors)} keyframes -> {output}"


def run_segment(args: argparse.Namespace) -> int:
    from signeditor.ml.fast.api import load_segmenter

    segmenter = load_segmenter(args.weights)
    print(segment_file(Path(args.input), Path(args.output), segmenter, args.policy, args.every))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("segment", help="find signs in a recording with FAST; write JSON or ELAN")
    parser.add_argument("input", help=".pose recording, .signproj project, or another motion file the editor "
                        "opens (.bvh, .npz, .signspark.npz, .lmdb: its first clip)")
    parser.add_argument("-o", "--output", required=True, help="OUT.json (segments + keyframes) or OUT.eaf (ELAN)")
    add_segment_options(parser)
    parser.set_defaults(handler=run_segment)


def add_segment_options(parser: argparse.ArgumentParser) -> None:
    """The model and keyframe options (``signeditor batch segment`` takes the same)."""
    parser.add_argument("--weights", default=None, help="FAST checkpoint (default: models/fast/fast.pt)")
    parser.add_argument("--policy", choices=POLICIES, default="onset_middle_offset", help="keyframe policy")
    parser.add_argument("--every", type=int, default=8, help="spacing for the every_n policy")
