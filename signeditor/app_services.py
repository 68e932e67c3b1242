"""Opening and exporting documents: the one path the CLI and the editor share (no Qt here).

Opening a motion file is more than reading it: a recording without anchors has nothing to edit, so FAST finds
its signs and they become onset/middle/offset anchors, and the take is kept as the project's recording. The
CLI used to skip this (its SignSparK exports had all-zero labels); both now call :func:`open_document`.
Long steps report progress and check ``should_stop`` between stages so the editor can run this on a worker
and cancel it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from signeditor.core.project import Project
from signeditor.io.formats import (
    clip_id_of,
    export_project,
    open_lmdb_clip,
    open_project,
    resolve_export_format,
)

logger = logging.getLogger(__name__)

#: ``progress(stage, fraction)``: what is being done and how far along the whole open is (0..1).
ProgressFn = Callable[[str, float], None]
StopFn = Callable[[], bool]
#: Formats whose files SignSparK's loader reads; they get a keyframe file beside them (see ml.signspark_keyframes).
SIGNSPARK_FORMATS = frozenset({"signspark", "lmdb"})


class OpenCancelled(Exception):
    """The user cancelled an open between two stages; nothing was changed."""


def _no_progress(_stage: str, _fraction: float) -> None:
    return None


def _never() -> bool:
    return False


def open_document(path: str | Path, *, clip: str | None = None, progress: ProgressFn | None = None,
                  should_stop: StopFn | None = None) -> Project:
    """Open a project, or import any motion file as a new one, its signs found by FAST and anchored."""
    report = progress or _no_progress
    stop = should_stop or _never

    def checkpoint(stage: str, fraction: float) -> None:
        if stop():
            raise OpenCancelled(str(path))
        report(stage, fraction)

    checkpoint("reading", 0.0)
    path = database_path(Path(path))
    if path.name.lower().endswith(".lmdb"):
        project, clip_id = open_lmdb_clip(path, clip)
    else:
        project, clip_id = open_project(path, clip=clip), clip_id_of(path)
    return complete_import(with_stored_keyframes(project, path, clip_id), path, checkpoint)


def database_path(path: Path) -> Path:
    """``db.lmdb/data.mdb`` (the file a dialog can pick inside an LMDB database folder) -> ``db.lmdb``."""
    if path.name == "data.mdb" and path.parent.name.lower().endswith(".lmdb"):
        return path.parent
    return path


def with_stored_keyframes(project: Project, path: Path, clip_id: str) -> Project:
    """A SignSparK export re-opened gets back the anchors we exported (its keyframe file's frames, see
    :func:`~signeditor.ml.signspark_keyframes.stored_keyframes`), not anchors re-derived from its labels."""
    if not path.name.lower().endswith((".lmdb", ".signspark.npz")) or len(project.anchors):
        return project
    from signeditor.ml.signspark_keyframes import stored_keyframes

    frames = stored_keyframes(path, clip_id)
    if not frames or max(frames) >= project.motion.n_frames or min(frames) < 0:
        return project
    from signeditor.core.anchors import Anchor, AnchorSet

    def label(frame: int) -> str:
        return next((s.gloss for s in project.segments if s.start <= frame <= s.end and s.gloss), "")

    project.anchors = AnchorSet(Anchor(f, project.motion.features[f], label=label(f)) for f in frames)
    return project


def complete_import(project: Project, path: str | Path, checkpoint: ProgressFn | None = None) -> Project:
    """What opening adds to a file's own content: FAST's signs as anchors when it has none, and the recording.

    ``checkpoint(stage, fraction)`` reports progress and may raise to stop between stages.
    """
    from signeditor.core.keyframes import anchors_from_segments

    checkpoint = checkpoint or _no_progress
    if len(project.anchors) == 0:
        if not project.segments:
            checkpoint("finding signs (FAST)", 0.6)
            try:
                from signeditor.ml.fast.api import load_segmenter

                project.segments = load_segmenter().segment(project.motion)
            except Exception as exc:  # a broken model must not stop the import: the user can anchor by hand
                logger.warning("FAST could not segment %s: %s", path, exc)
        checkpoint("placing anchors", 0.9)
        project.anchors = anchors_from_segments(project.motion, project.segments)
    if project.recording is None and Path(path).suffix.lower() != ".signproj":
        from signeditor.core.recording import Recording

        project.recording = Recording.of(project.motion, project.anchors)  # edits warp it, never replace it
    checkpoint("done", 1.0)
    return project


def export_document(project: Project, path: str | Path, format_name: str | None = None,
                    **options: object) -> Path:
    """Write ``project``; SignSparK formats also get ``<name>.keyframes.pt`` with the anchors' frames.

    Video formats are written by ``signeditor.render.video`` (io may not import render), which registers them
    when imported: importing it here makes every format available whoever calls first, whatever was imported.
    """
    import signeditor.render.video  # noqa: F401  (registers the mp4 and gif formats)

    fmt = resolve_export_format(path, format_name)
    path = export_project(project, path, fmt.name, **options)
    if fmt.name in SIGNSPARK_FORMATS:
        from signeditor.ml.signspark_keyframes import keyframe_file_path, write_keyframe_file

        write_keyframe_file(keyframe_file_path(path), {clip_id_of(path): project.anchors.frames})
    return path
