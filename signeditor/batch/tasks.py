"""The batch task registry: what each ``signeditor batch TASK`` loads once per worker and runs per file.

A task is one ``BatchTask`` entry: where a file's output goes, what it loads
once per worker process (models, lexicons) and the per-file function of
``signeditor.app_services`` the single-file command also calls. Its command-line
options are the CLI's (``cli/batch.py``). Options travel to the workers as a
plain dict, so they pickle for Ray and for a process pool alike.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

Options = dict[str, Any]


class TaskUnavailableError(RuntimeError):
    """The task needs a feature or extra this installation does not have."""


@dataclass(frozen=True)
class BatchTask:
    name: str
    help: str
    #: Suffixes of the files a folder given as input is expanded to.
    suffixes: tuple[str, ...]
    #: (input, output folder, options) -> the output file.
    output_for: Callable[[Path, Path, Options], Path]
    #: options -> what the worker keeps for every file of this batch (loaded once per worker).
    load: Callable[[Options], Any]
    #: (loaded, input, output, options) -> one line saying what was written.
    run: Callable[[Any, Path, Path, Options], str]
    #: Raises TaskUnavailableError when the task cannot run here (checked before any worker starts).
    check_available: Callable[[], object] = lambda: None


# --------------------------------------------------------------------------- segment


def _segment_load(options: Options) -> Any:
    from signeditor.ml.fast.api import load_segmenter

    return load_segmenter(options["weights"])


def _segment_run(segmenter: Any, source: Path, output: Path, options: Options) -> str:
    from signeditor.app_services import segment_file

    return segment_file(source, output, segmenter, options["policy"], options["every"])


# --------------------------------------------------------------------------- export


def _export_load(options: Options) -> Any:
    from signeditor.render.avatars.catalog import export_options

    return export_options(options["format"], options["avatar"])


def _export_output(source: Path, folder: Path, options: Options) -> Path:
    import signeditor.render.video  # noqa: F401  (registers the mp4 and gif formats)
    from signeditor.app_services import export_target

    return export_target(source, folder, options["format"])


def _export_run(shared: Any, source: Path, output: Path, options: Options) -> str:
    import signeditor.render.video  # noqa: F401  (registers the mp4 and gif formats)
    from signeditor.app_services import export_file

    return f"wrote {export_file(source, output, options['format'], shared)}"


# --------------------------------------------------------------------------- draft


def _draft_load(options: Options) -> Any:
    from signeditor.app_services import default_lexicon_folders, draft_builder

    folders = [Path(p) for p in options["lexicon"]] if options["lexicon"] else default_lexicon_folders()
    return draft_builder(folders, options["cache_dir"], not options["no_kf2p"], options["letters_per_second"])


def _draft_run(builder: Any, source: Path, output: Path, options: Options) -> str:
    from signeditor.app_services import draft_to_file
    from signeditor.io.errors import FileFormatError

    try:
        text = source.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise FileFormatError(source, f"cannot read the text: {exc}") from exc
    if not text:
        raise FileFormatError(source, "the file holds no text to sign")
    return draft_to_file(builder, text, options["spoken"], options["signed"], output, None,
                         nonmanuals=options["nonmanuals"])


# --------------------------------------------------------------------------- import-video


def _video_available() -> None:
    from signeditor.video.holistic import video_import_available

    if not video_import_available():
        raise TaskUnavailableError("batch import-video needs the video extra (MediaPipe): "
                                   "pip install 'signeditor[video]'")


def _video_run(_: Any, source: Path, output: Path, options: Options) -> str:
    # MediaPipe's Holistic graph tracks the signer from frame to frame, so each video gets a fresh one
    # (as `signeditor import-video` does); there is nothing to keep between files.
    from signeditor.video.importer import import_video

    result = import_video(source, output)
    return f"wrote {result.project_path or result.pose_path}"


# --------------------------------------------------------------------------- the registry


def _suffix_output(source: Path, folder: Path, options: Options) -> Path:
    from signeditor.io.formats import document_name

    return folder / f"{document_name(source)}{options['suffix']}"


def _nothing(options: Options) -> None:
    return None


TASKS: dict[str, BatchTask] = {task.name: task for task in (
    BatchTask("segment", "find signs and keyframes in each recording with FAST (JSON or ELAN)",
              (".pose", ".signproj"), _suffix_output, _segment_load, _segment_run),
    BatchTask("import-video", "import each video as an anchored project (video extra)",
              (".mp4", ".mov", ".avi", ".mkv", ".webm", ".m4v"), _suffix_output, _nothing,
              _video_run, check_available=_video_available),
    BatchTask("export", "export each file to one format",
              (".signproj", ".pose", ".bvh", ".npz", ".glb", ".gltf"), _export_output,
              _export_load, _export_run),
    BatchTask("draft", "a draft from each text file (one sentence per file)",
              (".txt",), _suffix_output, _draft_load, _draft_run),
)}
