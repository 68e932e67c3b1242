"""Opening and exporting documents: the one path the CLI, batch jobs and the editor share (no Qt here).

Opening a motion file is more than reading it: a recording without anchors has nothing to edit, so FAST finds
its signs and they become onset/middle/offset anchors, and the take is kept as the project's recording. The
CLI used to skip this (its SignSparK exports had all-zero labels); both now call :func:`open_document`.
Long steps report progress and check ``should_stop`` between stages so the editor can run this on a worker
and cancel it.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from signeditor.core.motion import Motion
from signeditor.core.project import Project
from signeditor.io.errors import FileFormatError
from signeditor.io.formats import (
    clip_id_of,
    export_project,
    open_lmdb_clip,
    open_project,
    resolve_export_format,
)

if TYPE_CHECKING:
    from signeditor.core.anchors import AnchorSet
    from signeditor.core.segments import Segment
    from signeditor.drafts.pipeline import DraftBuilder
    from signeditor.ml.fast.api import Segmenter
    from signeditor.ml.fast_tracks.guided import GlossAligner

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
        return next((s.gloss for s in project.segments if s.start <= frame < s.end and s.gloss), "")

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

    Video formats are written by ``signeditor.render.video``, which registers them when imported; this layer is
    below render, so callers that export video (the CLI, the editor, batch) import it themselves.
    """
    fmt = resolve_export_format(path, format_name)
    path = export_project(project, path, fmt.name, **options)
    if fmt.name in SIGNSPARK_FORMATS:
        from signeditor.ml.signspark_keyframes import keyframe_file_path, write_keyframe_file

        write_keyframe_file(keyframe_file_path(path), {clip_id_of(path): project.anchors.frames})
    return path


# --------------------------------------------------------------------------- one file each: `signeditor segment`,
# `export` and `draft` and their `signeditor batch` tasks call these.


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
    return open_project(database_path(path)).motion


def segmentation_document(motion: Motion, segments: list[Segment], anchors: AnchorSet, source: str) -> dict:
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


def segment_file(source: Path, output: Path, segmenter: Segmenter | GlossAligner, policy: str, every: int,
                 glosses: list[str] | None = None) -> str:
    """Segment one recording and write JSON or ELAN by the output's suffix.

    With ``glosses``, ``segmenter`` is a gloss aligner: exactly that many signs, named by them."""
    from signeditor.core.keyframes import anchors_from_segments
    from signeditor.io.atomic import write_bytes_atomically

    motion = load_motion(source)
    if glosses is not None:
        from signeditor.core.gloss_alignment import GlossAlignmentError

        try:
            segments = segmenter.align(motion, glosses)
        except GlossAlignmentError as exc:
            raise FileFormatError(source, str(exc)) from exc
    else:
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


def export_target(source: Path, output_dir: Path, format_name: str) -> Path:
    """Where ``export`` writes ``source``: the output folder, its name without the format suffix, the new suffix."""
    from signeditor.io.formats import EXPORT_FORMATS, document_name

    return output_dir / f"{document_name(source)}{EXPORT_FORMATS[format_name].suffix}"


def export_file(source: Path, target: Path, format_name: str, options: dict[str, Any]) -> Path:
    """Export one file, opened as the editor opens it (FAST anchors; an LMDB's first clip). ``options`` is what
    every file of the export shares (the figure: ``render.avatars.catalog.export_options``)."""
    from signeditor.io.formats import EXPORT_FORMATS

    return export_document(open_document(source), target, EXPORT_FORMATS[format_name].name, **options)


#: Lexicon folders used when no --lexicon is given: this variable (os.pathsep-separated), else ./lexicon.
LEXICON_ENV = "SIGNEDITOR_LEXICONS"
DEFAULT_LEXICON = Path("lexicon")


def default_lexicon_folders() -> list[Path]:
    """The CLI has no Qt, so it cannot read the GUI's settings; the environment variable plays that role."""
    configured = [Path(p) for p in os.environ.get(LEXICON_ENV, "").split(os.pathsep) if p.strip()]
    return configured or ([DEFAULT_LEXICON] if (DEFAULT_LEXICON / "index.csv").is_file() else [])


def draft_builder(folders: list[Path], cache_dir: str | None, use_kf2p: bool,
                  letters_per_second: float) -> DraftBuilder:
    """The lexicon and models a draft needs, loaded once (per process for ``signeditor batch draft``).

    A bad folder is skipped with a warning, the others still serve; the bundled alphabets come after the
    user's folders. DraftError when no folder is usable.
    """
    from signeditor.drafts.pipeline import DraftBuilder, DraftSettings, load_draft_models
    from signeditor.drafts.plan import DraftError
    from signeditor.io.lexicon import read_usable_lexicons, with_bundled_lexicons

    lexicon, skipped = read_usable_lexicons(with_bundled_lexicons(folders))
    for warning in skipped:
        print(f"warning: {warning}", file=sys.stderr)
    if not len(lexicon):
        raise DraftError("no usable lexicon folder (give one with --lexicon DIR)")
    clips, generator, warnings = load_draft_models(cache_dir=cache_dir, use_kf2p=use_kf2p)
    return DraftBuilder(lexicon, clips, generator, DraftSettings(letters_per_second=letters_per_second),
                        generator_warning="; ".join(warnings))


def draft_to_file(builder: DraftBuilder, text: str, spoken: str, signed: str, output: Path,
                  format_name: str | None, *, nonmanuals: bool = False) -> str:
    """Build one draft and write it; warnings go to stderr."""
    result = builder.build(text, spoken, signed)
    for warning in result.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if nonmanuals:
        from signeditor.core.nonmanual import grammar_keys

        project = result.project
        project.face_keys = grammar_keys(text, project.segments, project.motion.n_frames, spoken)
    if format_name is None and output.suffix.lower() == ".signproj":
        from signeditor.io.project_file import save_project

        save_project(result.project, output)
    else:
        export_project(result.project, output, format_name)
    signs = " ".join(s.gloss for s in result.project.segments)
    return (f"{len(result.project.segments)} signs ({signs}), {result.project.motion.n_frames} frames, "
            f"{len(result.project.anchors)} anchors -> {output}")
