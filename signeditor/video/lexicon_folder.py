"""A folder of sign videos or ``.pose`` files as a lexicon, in one step: one ``index.csv`` row per sign.

An organisation's own signs usually arrive as a folder of clips named after
the sign ("haus.mp4", "HOUSE1A.pose"). This turns such a folder into a
lexicon in the spoken-to-signed layout *in place*: ``.pose`` files are
referenced where they are (after a check that they read), videos go through
the editor's video import and leave ``<name>.pose`` beside them. Word and
gloss come from the file name. The index is written last and atomically, so
a cancelled or failed run leaves the folder as it was (keypoint files written
by the run are removed again); a clip that cannot be read is skipped and named
in the report, it never stops the others.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from signeditor.io.errors import FileFormatError
from signeditor.io.lexicon import INDEX_NAME, LexiconEntry, read_lexicon, write_lexicon
from signeditor.video.importer import DetectorFactory, ImportCancelled

VIDEO_SUFFIXES = (".mp4", ".mov", ".m4v", ".avi", ".mkv", ".webm", ".mpg", ".mpeg")
#: Trailing variant marks of corpus glosses ("HOUSE1A^", "PIZZA2") that are not part of the word.
_VARIANT = re.compile(r"(\d+[A-Za-z]?)?\^?$")
#: (files done, files in all, the file being worked on).
FolderProgressFn = Callable[[int, int, str], None]
StopFn = Callable[[], bool]


@dataclass(frozen=True)
class SignFile:
    """One sign of the folder: its clip (``.pose`` or video) and the names its file name gives."""

    path: Path
    words: str
    gloss: str

    @property
    def is_video(self) -> bool:
        return self.path.suffix.lower() in VIDEO_SUFFIXES


@dataclass
class FolderImportReport:
    """What the import wrote and what it had to leave out (file name: reason)."""

    index: Path
    entries: list[LexiconEntry] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)

    def summary(self) -> str:
        text = f"{len(self.entries)} signs in {self.index.parent.name} ({self.index})"
        if self.skipped:
            text += f"; {len(self.skipped)} skipped: " + "; ".join(self.skipped[:5])
            text += " …" if len(self.skipped) > 5 else ""
        return text


def names_from_file_name(path: Path) -> tuple[str, str]:
    """(words, gloss) a file name gives: "guten_tag.mp4" -> ("guten tag", "GUTEN-TAG"), "HOUSE1A^.pose" -> ("house",
    "HOUSE1A^"); the gloss keeps variant marks, the word drops them."""
    stem = path.stem.strip()
    words = " ".join(re.split(r"[_\s]+", _VARIANT.sub("", stem))).strip(" -").casefold() or stem.casefold()
    gloss = stem if stem.isupper() else re.sub(r"[_\s]+", "-", stem).upper()
    return words, gloss


def sign_files(folder: str | Path) -> list[SignFile]:
    """The folder's clips, one per name (a ``.pose`` wins over a video of the same name: it is what an earlier
    import of that video wrote), sorted by name."""
    folder = Path(folder)
    if not folder.is_dir():
        raise FileFormatError(folder, "not a folder, or it no longer exists")
    chosen: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        suffix = path.suffix.lower()
        if not path.is_file() or path.name.startswith(".") or suffix not in (".pose", *VIDEO_SUFFIXES):
            continue
        if suffix == ".pose" or path.stem not in chosen:
            chosen[path.stem] = path
    return [SignFile(path, *names_from_file_name(path)) for _stem, path in sorted(chosen.items())]


def import_sign_folder(folder: str | Path, spoken_language: str, signed_language: str, *,
                       progress: FolderProgressFn | None = None, should_stop: StopFn | None = None,
                       detector_factory: DetectorFactory | None = None) -> FolderImportReport:
    """Write ``folder/index.csv`` with one row per sign clip of ``folder``; returns the report.

    Rows of an existing index for other clips are kept; a clip's old row is
    replaced. Raises FileFormatError when the folder holds no sign clip or no
    clip could be read, ImportCancelled when ``should_stop`` says so (nothing
    is then left behind).
    """
    from signeditor.io.pose_reader import read_pose_keypoints
    from signeditor.video.importer import import_video

    folder = Path(folder)
    spoken_language, signed_language = spoken_language.strip(), signed_language.strip()
    if not spoken_language or not signed_language:
        raise ValueError("a lexicon needs both the spoken and the signed language")
    files = sign_files(folder)
    if not files:
        raise FileFormatError(folder, f"no sign clips (.pose or {', '.join(VIDEO_SUFFIXES)}) in the folder")
    report = FolderImportReport(folder / INDEX_NAME)
    written: list[Path] = []
    try:
        for done, sign in enumerate(files):
            if should_stop is not None and should_stop():
                raise ImportCancelled()
            if progress is not None:
                progress(done, len(files), sign.path.name)
            clip = sign.path
            try:
                if sign.is_video:
                    clip = sign.path.with_suffix(".pose")
                    frames = None if progress is None else (
                        lambda step, done=done, name=sign.path.name: progress(
                            done, len(files), f"{name}: frame {step.frame} of {step.total}"
                            if step.stage == "detecting" else f"{name}: fitting"))
                    import_video(sign.path, clip, progress=frames, should_stop=should_stop,
                                 detector_factory=detector_factory)
                    written.append(clip)
                else:
                    read_pose_keypoints(clip)  # unreadable clips are named now, not when a draft needs them
            except (FileFormatError, OSError) as exc:
                report.skipped.append(f"{sign.path.name}: {str(exc).removeprefix(str(sign.path)).lstrip(': ')}")
                continue
            report.entries.append(LexiconEntry(clip, spoken_language, signed_language, 0, 0, sign.words,
                                               sign.gloss, 0))
        if should_stop is not None and should_stop():
            raise ImportCancelled()
        if not report.entries:
            raise FileFormatError(folder, "none of its clips could be read: " + "; ".join(report.skipped[:5]))
        new_clips = {e.path.resolve() for e in report.entries}
        kept = [e for e in _existing_rows(folder) if e.path.resolve() not in new_clips]
        write_lexicon([*kept, *report.entries], folder)
    except BaseException:
        for path in written:  # a cancelled or failed run leaves the folder as it was
            path.unlink(missing_ok=True)
        raise
    if progress is not None:
        progress(len(files), len(files), "")
    return report


def _existing_rows(folder: Path) -> list[LexiconEntry]:
    if not (folder / INDEX_NAME).is_file():
        return []
    return read_lexicon(folder).entries
