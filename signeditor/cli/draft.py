"""``signeditor draft "Kinder essen Pizza" --spoken de --signed sgg -o draft.signproj``: a signing draft from text."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from signeditor.drafts.pipeline import DraftBuilder

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


def run_draft(args: argparse.Namespace) -> int:
    import torch

    from signeditor.drafts.plan import DraftError

    torch.set_num_threads(max(1, args.threads))
    folders = [Path(p) for p in args.lexicon] if args.lexicon else default_lexicon_folders()
    try:
        builder = draft_builder(folders, args.cache_dir, not args.no_kf2p, args.letters_per_second)
        message = draft_to_file(builder, args.text, args.spoken, args.signed, Path(args.output), args.format,
                                nonmanuals=args.nonmanuals)
    except DraftError as exc:
        print(f"signeditor draft: {exc}", file=sys.stderr)
        return 2
    print(message)
    return 0


def draft_to_file(builder: DraftBuilder, text: str, spoken: str, signed: str, output: Path,
                  format_name: str | None, *, nonmanuals: bool = False) -> str:
    """Build one draft and write it (``signeditor batch draft`` calls this too); warnings go to stderr."""
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
        from signeditor.io.formats import export_project

        export_project(result.project, output, format_name)
    signs = " ".join(s.gloss for s in result.project.segments)
    return (f"{len(result.project.segments)} signs ({signs}), {result.project.motion.n_frames} frames, "
            f"{len(result.project.anchors)} anchors -> {output}")


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("draft", help="make an editable signing draft from text with a sign lexicon")
    parser.add_argument("text", help="the sentence to sign")
    parser.add_argument("-o", "--output", required=True,
                        help="OUT.signproj, or any export format by suffix (.bvh, .glb, .pose, .eaf, .mp4, ...)")
    parser.add_argument("-f", "--format", default=None, help="export format name, overriding the suffix")
    add_draft_options(parser)
    parser.add_argument("--threads", type=int, default=1, help="CPU threads for torch")
    parser.set_defaults(handler=run_draft)


def add_draft_options(parser: argparse.ArgumentParser) -> None:
    """Languages, lexicons, models and face presets (``signeditor batch draft`` takes the same)."""
    from signeditor.drafts.clips import default_cache_dir
    from signeditor.drafts.pipeline import DEFAULT_LETTERS_PER_SECOND

    parser.add_argument("--spoken", required=True, help="spoken language of the text (e.g. de, en)")
    parser.add_argument("--signed", required=True, help="signed language code (e.g. sgg, gsg, ase)")
    parser.add_argument("--lexicon", action="append", default=[],
                        help=f"lexicon folder with index.csv (repeatable; default ${LEXICON_ENV} or ./lexicon); "
                             "the fingerspelling alphabets installed with spoken-to-signed are always added last")
    parser.add_argument("--cache-dir", default=str(default_cache_dir()), help="cache of fitted lexicon clips")
    parser.add_argument("--letters-per-second", type=float, default=DEFAULT_LETTERS_PER_SECOND,
                        help="fingerspelling pace of words not in the lexicon (default %(default)s)")
    parser.add_argument("--no-kf2p", action="store_true", help="cubic interpolation instead of KF2P transitions")
    parser.add_argument("--nonmanuals", action="store_true",
                        help="mark questions (by the final '?') and negation words with face presets")
