"""Text-to-sign drafts: lexicon reading, planning, layout and transitions, CLI, on a self-made lexicon."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest
from conftest import SHARED_SIGNDATA
from draft_helpers import MiddleSegmenter, write_fixture_lexicon
from needs import missing

from signeditor.cli import main
from signeditor.drafts.clips import ClipLibrary
from signeditor.drafts.pipeline import DraftBuilder, DraftSettings
from signeditor.drafts.plan import DraftError, Planner, lexicon_hit_rate, number_words, spell, tokenize
from signeditor.io.errors import FileFormatError
from signeditor.io.lexicon import lexicon_from_bytes, read_lexicon, read_lexicons
from signeditor.io.project_file import load_project

HEADER = "path,spoken_language,signed_language,start,end,words,glosses,priority\n"


@pytest.fixture(scope="module")
def lexicon_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_fixture_lexicon(tmp_path_factory.mktemp("lexicon"))


@pytest.fixture(scope="module")
def builder(lexicon_dir: Path) -> DraftBuilder:
    settings = DraftSettings(low_pass_hz=0.0, join_low_pass_hz=0.0)  # raw layout: kept sign frames compare exactly
    return DraftBuilder(read_lexicon(lexicon_dir), ClipLibrary(MiddleSegmenter()), None, settings)


# --- lexicon ---------------------------------------------------------------------------------------------------


def test_lexicon_reads_quoted_fields_bom_and_ranks_by_priority(tmp_path: Path) -> None:
    data = ("\ufeff" + HEADER + 'a.pose,de,sgg,0,0,"Haus, groß",HAUS,3\n'
            "b.pose,de,sgg,100,900,haus,HAUS2,1\n\n").encode()
    lexicon = lexicon_from_bytes(data, tmp_path)
    assert [e.line for e in lexicon.entries] == [2, 3]
    assert lexicon.entries[0].words == "Haus, groß"
    best = lexicon.lookup("HAUS", "de", "sgg")  # gloss of the first, word of the second: lower priority wins
    assert best is not None and best.glosses == "HAUS2" and (best.start, best.end) == (100, 900)
    assert best.path == tmp_path / "b.pose"
    assert lexicon.lookup("haus", "de", "gsg") is None


@pytest.mark.parametrize(("body", "line", "words"), [
    ("path,words\n", 1, "lacks column"),
    (HEADER + "a.pose,de,sgg,0,0,x,X,high\n", 2, "integer"),
    (HEADER + "a.pose,de,sgg,0,0,x,X,0\nb.pose,de,sgg,0,0,y\n", 3, "expected 8 fields"),
    (HEADER + "a.pose,de,sgg,500,200,x,X,0\n", 2, "after 'start'"),
    (HEADER + "a.pose,,sgg,0,0,x,X,0\n", 2, "must not be empty"),
    (HEADER + "a.pose,de,sgg,0,0,,,0\n", 2, "needs 'words' or 'glosses'"),
    (HEADER + 'a.pose,de,sgg,0,0,"x,X,0\n', 2, "CSV"),
])
def test_bad_lexicon_rows_name_file_line_and_problem(tmp_path: Path, body: str, line: int, words: str) -> None:
    (tmp_path / "index.csv").write_text(body, encoding="utf-8")
    with pytest.raises(FileFormatError) as info:
        read_lexicon(tmp_path)
    assert info.value.path == tmp_path / "index.csv"
    assert f"line {line}" in info.value.problem and words in info.value.problem


def test_lexicon_rejects_non_utf8_and_missing_folder(tmp_path: Path) -> None:
    (tmp_path / "index.csv").write_bytes(HEADER.encode() + b"a.pose,de,sgg,0,0,\xff\xfe,X,0\n")
    with pytest.raises(FileFormatError, match="line 2: not UTF-8"):
        read_lexicon(tmp_path)
    with pytest.raises(FileFormatError, match="cannot read"):
        read_lexicon(tmp_path / "absent")


def test_several_folders_combine(lexicon_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "index.csv").write_text(HEADER + "mine.pose,de,sgg,0,0,pizza,PIZZA-MINE,-1\n", encoding="utf-8")
    combined = read_lexicons([lexicon_dir, tmp_path])
    assert combined.lookup("pizza", "de", "sgg").glosses == "PIZZA-MINE"  # the user's entry outranks
    assert read_lexicon(lexicon_dir).lookup("Pizza", "de", "sgg").glosses == "PIZZA"


# --- planning ------------------------------------------------------------------------------------------------


def test_tokenize_drops_punctuation_and_splits_digits() -> None:
    decomposed = "Zu\u0308rich"
    assert tokenize(f"Kinder, essen: 3 Pizzas! A3 {decomposed}?") == [
        "Kinder", "essen", "3", "Pizzas", "A", "3", "Zürich"]
    assert tokenize(" ...!? ") == []


def test_spell_prefers_longest_letters(lexicon_dir: Path) -> None:
    alphabet = read_lexicon(lexicon_dir).alphabet("de", "sgg")
    letters, missing = spell("Schatz", alphabet)
    assert [e.words for e in letters] == ["SCH", "A", "T", "Z"] and missing == []
    letters, missing = spell("Fuß", alphabet)  # case-folding spells ß as SS
    assert [e.words for e in letters] == ["S", "S"] and missing == ["F", "U"]


def test_plan_signs_known_words_and_fingerspells_the_rest(lexicon_dir: Path) -> None:
    planner = Planner(read_lexicon(lexicon_dir), "de", "sgg")
    plan = planner.plan("Kinder essen Pizza bei Oskar!")
    labels = [s.label for s in plan.signs]
    assert labels[:6] == ["KINDER", "ESSEN", "PIZZA", "fs-B", "fs-E", "fs-I"]
    # The alphabet has no K: the letters it has are spelled and the word is marked as a gap.
    assert labels[6:] == ["fs-O", "fs-S", "fs-A", "fs-R", "?Oskar"]
    assert any("'Oskar'" in w and "K" in w for w in plan.warnings)


def test_plan_reads_typed_glosses(tmp_path: Path) -> None:
    """Capitals are glosses: looked up among the signed language's glosses without variant marks, a hyphenated
    gloss by its parts, then as a word; a sentence in ordinary case is not."""
    rows = ["path,spoken_language,signed_language,start,end,words,glosses,priority",
            "a.pose,de,gsg,0,0,hallo,HALLO1A^,0", "b.pose,de,gsg,0,0,wie,WIE1^,0",
            "c.pose,de,gsg,0,0,gehen,GEHT1*,0", "d.pose,de,gsg,0,0,es,ES2^,0", "e.pose,de,gsg,0,0,dir,DU1^,0",
            "f.pose,de,gsg,0,0,Wiese,WIE3B,1"]
    (tmp_path / "index.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    planner = Planner(read_lexicon(tmp_path), "de", "gsg")
    plan = planner.plan("HALLO WIE GEHT-ES DIR")
    assert [s.label for s in plan.signs] == ["HALLO1A^", "WIE1^", "GEHT1*", "ES2^", "DU1^"]
    assert [s.label for s in planner.plan("Hallo wie").signs] == ["HALLO1A^", "WIE1^"]


def test_plan_splits_compounds_before_fingerspelling(lexicon_dir: Path) -> None:
    plan = Planner(read_lexicon(lexicon_dir), "de", "sgg").plan("Kinderpizza essen")
    assert [(s.label, s.word) for s in plan.signs] == [("KINDER", "Kinderpizza"), ("PIZZA", "Kinderpizza"),
                                                        ("ESSEN", "essen")]
    assert lexicon_hit_rate(read_lexicon(lexicon_dir), [("Kinderpizza essen", "de", "sgg")]) == 1.0


def test_a_comma_is_held(builder: DraftBuilder) -> None:
    """After a comma the signer holds the sign's last pose (pause_s) before moving to the next sign."""
    plain = builder.build("Kinder Pizza", "de", "sgg")
    paused = builder.build("Kinder, Pizza", "de", "sgg")
    assert [s.pause_after for s in paused.plan.signs] == [True, False]
    hold = round(builder.settings.pause_s * 25)
    (a, b), = plain.transitions
    (c, d), = paused.transitions
    assert (c - a, d - c) == (hold, b - a) and paused.project.motion.n_frames == plain.project.motion.n_frames + hold
    held = paused.project.motion.features[a - 1:c]
    np.testing.assert_array_equal(held, np.repeat(held[:1], len(held), axis=0))


def test_plan_numbers_use_digit_words(lexicon_dir: Path) -> None:
    plan = Planner(read_lexicon(lexicon_dir), "de", "sgg").plan("Pizza 3")
    assert [s.label for s in plan.signs] == ["PIZZA", "fs-R", "fs-E", "fs-I", "?drei"]  # no D in the alphabet


def test_digits_that_are_no_decimal_number_are_a_marked_gap_not_a_crash(lexicon_dir: Path) -> None:
    """A superscript or an Ethiopic numeral on its own is a "digit" to Python but no number int() reads: it is left
    as a marked gap (the alphabet has no such letter) and the rest is signed; an Arabic-Indic 3 is the number 3."""
    planner = Planner(read_lexicon(lexicon_dir), "de", "sgg")
    plan = planner.plan("Kinder ², Pizza ፫")
    assert [s.label for s in plan.signs] == ["KINDER", "?²", "PIZZA", "?፫"]
    assert any("'²'" in w for w in plan.warnings) and any("'፫'" in w for w in plan.warnings)
    assert [s.label for s in planner.plan("Pizza \u0663").signs] == ["PIZZA", "fs-R", "fs-E", "fs-I", "?drei"]
    assert number_words("²", "de") is None and number_words("\u0663", "de") == "drei"


def test_plan_errors_are_clear(lexicon_dir: Path) -> None:
    lexicon = read_lexicon(lexicon_dir)
    with pytest.raises(DraftError, match="no words"):
        Planner(lexicon, "de", "sgg").plan("  ?! ")
    with pytest.raises(DraftError, match="signed language 'xyz'"):
        Planner(lexicon, "de", "xyz").plan("Kinder")
    plan = Planner(lexicon, "fr", "sgg").plan("Kinder")  # alphabet of sgg is used, with a warning
    assert any("'fr'" in w for w in plan.warnings)


# --- pipeline ------------------------------------------------------------------------------------------------


def test_draft_lays_signs_in_order_keeps_sign_motion_and_fills_transitions(builder: DraftBuilder) -> None:
    result = builder.build("Kinder essen Pizza.", "de", "sgg")
    project = result.project
    signs = [s for s in project.segments if s.confidence > 0]
    assert [s.gloss for s in signs] == ["KINDER", "ESSEN", "PIZZA"]
    assert project.text == "Kinder essen Pizza." and project.signed_language == "sgg"
    # Anchors: onset, middle and offset of each sign, labelled with its gloss, posed as the motion is there.
    assert [a.label.split()[0] for a in project.anchors] == ["KINDER"] * 3 + ["ESSEN"] * 3 + ["PIZZA"] * 3
    for anchor in project.anchors:
        np.testing.assert_allclose(project.motion.features[anchor.frame], anchor.pose, atol=1e-6)
    # Inside signs the lexicon clips' motion is kept frame for frame; transitions are new and bounded in length.
    for s in signs:
        np.testing.assert_allclose(project.motion.features[s.start:s.end], result.layout.features[s.start:s.end],
                                   atol=1e-6)
    settings = builder.settings
    for (a, b), (prev, nxt) in zip(result.transitions, itertools.pairwise(signs), strict=True):
        assert (a, b) == (prev.end, nxt.start) and settings.min_gap <= b - a <= settings.max_gap
    assert result.warnings == []


def test_transitions_have_no_jumps(builder: DraftBuilder) -> None:
    motion = builder.build("Kinder Pizza", "de", "sgg").project.motion
    from signeditor.core.kinematics import forward_kinematics

    wrist = forward_kinematics(motion.features)[:, 13]  # R_Wrist
    step = np.linalg.norm(np.diff(wrist, axis=0), axis=-1)
    assert step.max() < 0.05  # metres per frame: nothing teleports at a join (1.25 m/s at 25 fps)


def test_joins_are_smoothed_and_sign_cores_kept(builder: DraftBuilder) -> None:
    """The join low-pass lowers the wrist's largest velocity change at every join and leaves every frame more
    than join_blend_frames away from a transition exactly as laid out."""
    from signeditor.core.kinematics import forward_kinematics

    raw = builder.build("Kinder essen Pizza", "de", "sgg")
    smooth_builder = DraftBuilder(builder.lexicon, builder.clips, None,
                                  DraftSettings(low_pass_hz=0.0, join_low_pass_hz=3.0, join_blend_frames=4))
    smooth = smooth_builder.build("Kinder essen Pizza", "de", "sgg")
    near = np.zeros(raw.project.motion.n_frames, bool)
    for a, b in raw.transitions:
        near[max(0, a - 4):b + 4] = True
        wrists = [forward_kinematics(r.project.motion.features[max(0, a - 6):b + 6])[:, 13] for r in (raw, smooth)]
        jumps = [np.linalg.norm(np.diff(w, n=2, axis=0), axis=-1).max() for w in wrists]
        assert jumps[1] < 0.8 * jumps[0], (a, b, jumps)
    np.testing.assert_array_equal(smooth.project.motion.features[~near], raw.project.motion.features[~near])


def test_unsignable_words_leave_a_marked_gap_and_the_rest_builds(builder: DraftBuilder) -> None:
    result = builder.build("Kinder Fuchs essen", "de", "sgg")
    glosses = [s.gloss for s in result.project.segments]
    assert glosses[0] == "KINDER" and glosses[-1] == "ESSEN"
    gap = next(s for s in result.project.segments if s.gloss == "?Fuchs")
    assert gap.confidence == 0.0 and gap.length == builder.settings.missing_word_frames
    assert any("Fuchs" in w for w in result.warnings)
    with pytest.raises(DraftError, match="no word of the text"):
        builder.build("Fff", "de", "sgg")


def test_missing_clip_file_becomes_a_gap(tmp_path: Path, lexicon_dir: Path) -> None:
    (tmp_path / "index.csv").write_text(HEADER + "gone.pose,de,sgg,0,0,kaputt,KAPUTT,0\n", encoding="utf-8")
    lexicon = read_lexicons([lexicon_dir, tmp_path])
    result = DraftBuilder(lexicon, ClipLibrary(MiddleSegmenter()), None).build("Kinder kaputt", "de", "sgg")
    assert [s.gloss for s in result.project.segments] == ["KINDER", "?kaputt"]
    assert any("gone.pose" in w for w in result.warnings)


def test_clip_cache_on_disk_is_reused(lexicon_dir: Path, tmp_path: Path) -> None:
    entry = read_lexicon(lexicon_dir).lookup("essen", "de", "sgg")
    first = ClipLibrary(MiddleSegmenter(), tmp_path).load(entry)
    assert len(list(tmp_path.glob("*.npz"))) == 1

    class Refuses:
        def segment(self, motion: object) -> list:
            raise AssertionError("the cache should have answered")

    again = ClipLibrary(Refuses(), tmp_path, segmenter_id="fast").load(entry)
    np.testing.assert_array_equal(first.motion.features, again.motion.features)
    assert again.sign_span == first.sign_span


# --- CLI -----------------------------------------------------------------------------------------------------


def test_cli_draft_writes_a_project_and_exports(lexicon_dir: Path, tmp_path: Path,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "draft.signproj"
    common = ["--spoken", "de", "--signed", "sgg", "--lexicon", str(lexicon_dir), "--no-kf2p",
              "--cache-dir", str(tmp_path / "cache")]
    assert main(["draft", "Kinder essen Pizza", *common, "-o", str(out)]) == 0
    project = load_project(out)
    assert [s.gloss for s in project.segments if s.confidence > 0] == ["KINDER", "ESSEN", "PIZZA"]
    assert len(project.anchors) >= 3
    eaf = tmp_path / "draft.eaf"
    assert main(["draft", "Kinder", *common, "-o", str(eaf)]) == 0
    assert "KINDER" in eaf.read_text(encoding="utf-8")
    assert main(["draft", "Kinder", *common[:2], "--signed", "xyz", *common[4:], "-o", str(out)]) == 2
    assert "signed language 'xyz'" in capsys.readouterr().err


def test_dev_lexicon_builder_copies_clips_and_indexes_them(lexicon_dir: Path, tmp_path: Path) -> None:
    from signeditor.data.dev_lexicon import build_dev_lexicon

    source = tmp_path / "signdata"
    (source / "dgs_isolated").mkdir(parents=True)
    (source / "dgs_isolated" / "HOUSE1A^.pose").write_bytes((lexicon_dir / "sgg" / "kinder.pose").read_bytes())
    (source / "dgs_isolated" / "sentence.pose").write_bytes(b"not a sign")
    index, count = build_dev_lexicon(source, tmp_path / "lexicon")
    lexicon = read_lexicon(tmp_path / "lexicon")
    assert count == 2 and index == tmp_path / "lexicon" / "index.csv"
    assert lexicon.lookup("Haus", "de", "gsg").glosses == "HOUSE1A^"
    assert lexicon.lookup("house", "en", "gsg").path.is_file()
    with pytest.raises(FileFormatError, match="no lexicon folders"):
        build_dev_lexicon(tmp_path / "lexicon", tmp_path / "other")


@pytest.mark.shared_data
def test_real_lexicon_draft_with_models(tmp_path: Path) -> None:
    if not SHARED_SIGNDATA.is_dir():
        missing(f"shared sign data not found at {SHARED_SIGNDATA}")
    from signeditor.data.dev_lexicon import build_dev_lexicon
    from signeditor.drafts.pipeline import load_draft_models

    build_dev_lexicon(SHARED_SIGNDATA, tmp_path / "lexicon")
    clips, generator, _warnings = load_draft_models(cache_dir=None)
    builder = DraftBuilder(read_lexicon(tmp_path / "lexicon"), clips, generator, DraftSettings())
    result = builder.build("Kleine Kinder essen Pizza in Zürich", "de", "sgg")
    glosses = [s.gloss for s in result.project.segments]
    assert glosses[:4] == ["Kleine", "Kinder", "Essen", "Pizza"]
    assert glosses[4:] == ["fs-I", "fs-N", "fs-Z", "fs-Ü", "fs-R", "fs-I", "fs-CH"]


def test_inflected_words_fall_back_to_their_stem_with_a_warning(lexicon_dir: Path) -> None:
    plan = Planner(read_lexicon(lexicon_dir), "de", "sgg", lemmatise=False).plan("Pizzas Kinder")
    assert [s.label for s in plan.signs] == ["PIZZA", "KINDER"]
    assert any("'Pizzas'" in w and "PIZZA" in w for w in plan.warnings)
    # Without lemmas (simplemma knows "Ess"), the stem "Es" is too short to trust.
    short = Planner(read_lexicon(lexicon_dir), "de", "sgg", lemmatise=False).plan("Ess")
    assert all(s.kind != "sign" for s in short.signs)


def test_words_are_looked_up_by_their_lemma(tmp_path: Path) -> None:
    (tmp_path / "index.csv").write_text(HEADER + "kind.pose,de,gsg,0,0,Kind,KIND,0\nhaus.pose,de,gsg,0,0,Haus,HAUS,0\n",
                                        encoding="utf-8")
    lexicon = read_lexicon(tmp_path)
    plan = Planner(lexicon, "de", "gsg").plan("Kinder Häuser")
    assert [s.label for s in plan.signs] == ["KIND", "HAUS"]
    without = Planner(lexicon, "de", "gsg", lemmatise=False).plan("Kinder Häuser")
    assert next(s.label for s in without.signs) == "KIND"  # by the "-er" ending
    assert "HAUS" not in [s.label for s in without.signs], "no ending turns Häuser into Haus: only the lemma does"
    sentences = [("Kinder Häuser", "de", "gsg"), ("Kind", "de", "gsg")]
    assert lexicon_hit_rate(lexicon, sentences, lemmatise=False) == pytest.approx(2 / 3)
    assert lexicon_hit_rate(lexicon, sentences) == pytest.approx(1.0)


def test_numbers_read_as_whole_numbers_per_language(tmp_path: Path) -> None:
    rows = ["zwoelf.pose,de,gsg,0,0,zwölf,ZWÖLF,0", "zwei.pose,de,gsg,0,0,zwei,ZWEI,0",
            "twenty.pose,en,ase,0,0,twenty,TWENTY,0", "one.pose,en,ase,0,0,one,ONE,0"]
    (tmp_path / "index.csv").write_text(HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    lexicon = read_lexicon(tmp_path)
    assert number_words("12", "de") == "zwölf" and number_words("007", "de") is None
    # A year or a price is one number up to nine digits; longer runs (phone numbers, codes) are read digit by digit.
    assert number_words("2024", "de") == "zweitausendvierundzwanzig"
    assert number_words("123456789", "en").startswith("one hundred and twenty-three million")
    assert number_words("1234567890", "de") is None
    assert [s.label for s in Planner(lexicon, "de", "gsg").plan("12").signs] == ["ZWÖLF"]
    assert [s.label for s in Planner(lexicon, "en", "ase").plan("21").signs] == ["TWENTY", "ONE"]
    assert [s.label for s in Planner(lexicon, "de", "gsg").plan("22").signs] == ["ZWEI", "ZWEI"]  # digit signs


def test_bundled_fingerspelling_lexicon_drafts_with_no_set_up(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    from signeditor.io.lexicon import bundled_lexicon_folders, with_bundled_lexicons

    bundled = bundled_lexicon_folders()
    assert bundled, "spoken-to-signed's fingerspelling alphabets ship as a dependency"
    assert with_bundled_lexicons([tmp_path])[0] == tmp_path, "the user's folders come first"
    plan = Planner(read_lexicons(bundled), "de", "gsg").plan("Hallo")
    assert [s.label for s in plan.signs] == ["fs-H", "fs-A", "fs-L", "fs-L", "fs-O"]
    monkeypatch.chdir(tmp_path)  # no ./lexicon here
    monkeypatch.delenv("SIGNEDITOR_LEXICONS", raising=False)
    out = tmp_path / "hallo.signproj"
    assert main(["draft", "Hallo", "--spoken", "de", "--signed", "gsg", "--no-kf2p", "--cache-dir",
                 str(tmp_path / "cache"), "-o", str(out)]) == 0
    project = load_project(out)
    assert [s.gloss for s in project.segments] == ["fs-H", "fs-A", "fs-L", "fs-L", "fs-O"]
    assert project.motion.n_frames > 25 and len(project.anchors) >= 5


@pytest.mark.parametrize(("word", "glosses"), [
    ("Haustür", ["HAUS", "TÜR"]),  # a three-letter last part ("Tür"), the shortest part a compound may have
    ("Kindertag", ["KIND", "TAG"]),  # three letters after the linking "er"
    ("Teehaus", ["TEE", "HAUS"]),  # a three-letter first part
])
def test_compound_parts_of_exactly_three_letters_are_signed(word: str, glosses: list[str]) -> None:
    """Parts of three letters are real words (Tür, Tag, Tee): a compound made of them is signed part by part,
    not fingerspelled letter by letter."""
    from signeditor.io.lexicon import Lexicon, LexiconEntry

    rows = [("haus", "HAUS"), ("tür", "TÜR"), ("kind", "KIND"), ("tag", "TAG"), ("tee", "TEE")]
    lexicon = Lexicon([LexiconEntry(Path(f"{g}.pose"), "de", "sgg", 0, 0, w, g) for w, g in rows])
    plan = Planner(lexicon, "de", "sgg", lemmatise=False).plan(word)
    assert [s.label for s in plan.signs] == glosses
    assert all(s.word == word for s in plan.signs)


def test_short_words_are_signs_never_letters_of_a_spelled_word() -> None:
    """A lexicon with the letters S, T, A, G, E, D, U, F, SCH and the words "Tag" and "du": fingerspelling "Stage"
    and "Duft" uses the five and four letters (never the signs TAG or DU as if they were letters), while "du" and
    "Tag" typed alone are their signs; SCH stays one letter ("Schaf": SCH A F)."""
    from signeditor.io.lexicon import Lexicon, LexiconEntry

    letters = ["S", "T", "A", "G", "E", "D", "U", "F", "SCH"]
    rows = [(c, c) for c in letters] + [("tag", "TAG"), ("du", "DU")]
    lexicon = Lexicon([LexiconEntry(Path(f"{g}.pose"), "de", "sgg", 0, 0, w, g) for w, g in rows])
    planner = Planner(lexicon, "de", "sgg", lemmatise=False)
    assert [s.label for s in planner.plan("Stage").signs] == ["fs-S", "fs-T", "fs-A", "fs-G", "fs-E"]
    assert [s.label for s in planner.plan("Duft").signs] == ["fs-D", "fs-U", "fs-F", "fs-T"]
    assert [s.label for s in planner.plan("Schaf").signs] == ["fs-SCH", "fs-A", "fs-F"]
    assert [(s.label, s.kind) for s in planner.plan("du Tag").signs] == [("DU", "sign"), ("TAG", "sign")]


@pytest.mark.parametrize(("text", "glosses"), [
    ("HALLO WIE GEHT-ES", True), ("I", False), ("A", False), ("I GO", True), ("Hallo wie", False), ("ICH 3", True),
])
def test_capitals_read_as_glosses_only_with_a_word_longer_than_a_letter(text: str, glosses: bool) -> None:
    """A lone capital ("I", "A") is a word or a letter to spell, not a gloss sentence; capitals with at least one
    word of two letters or more are glosses (digits do not count either way)."""
    from signeditor.drafts.plan import is_gloss_text

    assert is_gloss_text(text) is glosses


def test_a_draft_keeps_the_first_clips_lead_in_and_the_last_clips_lead_out_when_shorter_than_asked(
        builder: DraftBuilder) -> None:
    """The fixture clips hold 8 rest frames before and after their sign, fewer than lead_frames (10): the draft
    starts with all 8 (the first sign at frame 8) and ends with all 8 after the last sign."""
    assert builder.settings.lead_frames == 10
    project = builder.build("Kinder essen Pizza", "de", "sgg").project
    signs = [s for s in project.segments if s.confidence > 0]
    assert signs[0].start == 8 and project.motion.n_frames - signs[-1].end == 8


def test_a_spelled_word_after_a_sign_starts_with_a_full_transition_then_keeps_the_letter_pace(
        builder: DraftBuilder) -> None:
    """"Kinder Zorn" (Zorn fingerspelled Z O R N): moving from the sign KINDER to the first letter is an ordinary
    transition (longer than a letter step here), while the steps between letters keep the letter pace the user set
    (3 letters a second at 25 fps: about 8 frames a letter, 3 of them moving)."""
    result = builder.build("Kinder Zorn", "de", "sgg")
    assert [s.kind for s in result.plan.signs] == ["sign", "letter", "letter", "letter", "letter"]
    lengths = [b - a for a, b in result.transitions]
    assert lengths[1:] == [3, 3, 3] and lengths[0] > 3
