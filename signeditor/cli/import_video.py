"""``signeditor import-video VIDEO -o OUT.signproj|OUT.pose``: a signing video to editable, anchored motion."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from signeditor.io.errors import FileFormatError


def register(commands: argparse._SubParsersAction) -> None:
    parser = commands.add_parser(
        "import-video", help="find the signer in a video (MediaPipe Holistic) and write .pose or .signproj")
    parser.add_argument("video", type=Path, help="any video FFmpeg reads (.mp4, .mov, .webm, ...)")
    parser.add_argument("-o", "--output", required=True, type=Path,
                        help="OUT.pose (keypoints), or OUT.signproj (project; its keypoints go to OUT.pose beside it)")
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    parser.set_defaults(handler=run_import)


def run_import(args: argparse.Namespace) -> int:
    from signeditor.video.holistic import VideoExtraMissing
    from signeditor.video.importer import ImportProgress, import_video

    def show(p: ImportProgress) -> None:
        if p.stage == "fitting":
            print("\rfitting motion and finding signs…" + " " * 30, file=sys.stderr, flush=True)
        elif p.frame % 10 == 0 or p.frame == p.total:
            left = f", {p.seconds_left:.0f} s left" if p.seconds_left is not None else ""
            print(f"\rframe {p.frame}/{p.total} ({p.frames_per_s:.1f} frames/s{left})", end="", file=sys.stderr,
                  flush=True)

    try:
        result = import_video(args.video, args.output, progress=None if args.quiet else show)
    except VideoExtraMissing as exc:
        raise FileFormatError(args.video, str(exc)) from exc
    for warning in result.warnings():
        print(f"warning: {warning}", file=sys.stderr)
    project = result.project
    print(f"wrote {result.project_path or result.pose_path}: {project.motion.n_frames} frames, "
          f"{len(project.segments)} signs, {len(project.anchors)} anchors "
          f"({result.info.n_frames / max(result.detect_s, 1e-9):.1f} frames/s detection, {result.total_s:.1f} s)")
    return 0
