"""Synonyms in drafts: a lexicon folder's ``synonyms.csv`` names words its signs also stand for (issue #26)."""

from __future__ import annotations

from pathlib import Path

import pytest

from signeditor.drafts.plan import Planner, lexicon_hit_rate
from signeditor.io.errors import FileFormatError
from signeditor.io.lexicon import read_lexicon, read_lexicons
from signeditor.io.synonyms import read_thesaurus

INDEX = ["path,spoken_language,signed_language,start,end,words,glosses,priority",
         "auto.pose,de,gsg,0,0,Auto,AUTO1^,0", "fahren.pose,de,gsg,0,0,fahren,FAHREN1A^,0",
         "schnell.pose,de,gsg,0,0,schnell,SCHNELL1^,0", "haus.pose,de,gsg,0,0,Haus,HAUS1A^,0",
         "tuer.pose,de,gsg,0,0,Tür,TÜR1^,0", "car.pose,en,ase,0,0,motorcar,CAR,0"]
INDEX += [f"fs/{c}.pose,de,gsg,0,0,{c},{c},0" for c in "ABDEGHIKLNPRSTUWÄ"]


def lexicon_folder(folder: Path, synonyms: str | None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "index.csv").write_text("\n".join(INDEX) + "\n", encoding="utf-8")
    if synonyms is not None:
        (folder / "synonyms.csv").write_text(synonyms, encoding="utf-8")
    return folder


SYNONYMS = "spoken_language,words\nde,Auto|Wagen|PKW\nde,schnell|rasch|flott\nen,motorcar|automobile\nde,Gebäude|Haus\n"


def labels(folder: Path, text: str, **options: bool) -> list[str]:
    return [s.label for s in Planner(read_lexicon(folder), "de", "gsg", **options).plan(text).signs]


def test_a_word_without_a_sign_is_signed_by_its_synonym_before_it_is_fingerspelled(tmp_path: Path) -> None:
    folder = lexicon_folder(tmp_path / "lex", SYNONYMS)
    # By hand: Wagen -> AUTO (group 1), rasch -> SCHNELL (group 2), Gebäude -> HAUS (group 4, the word listed
    # first in its group); "fährt" reaches FAHREN by its lemma; "Der" and "zum" have nothing: spelled.
    plan = Planner(read_lexicon(folder), "de", "gsg").plan("Der Wagen fährt rasch zum Gebäude")
    assert [s.label for s in plan.signs if s.kind == "sign"] == ["AUTO1^", "FAHREN1A^", "SCHNELL1^", "HAUS1A^"]
    assert [s.word for s in plan.signs if s.kind == "sign"] == ["Wagen", "fährt", "rasch", "Gebäude"]
    assert any("'Wagen'" in w and "AUTO1^" in w and "synonym" in w for w in plan.warnings)
    # Without the table every one of them is fingerspelled (the planner's switch, as bench draft measures it).
    assert not any(label in labels(folder, "Wagen rasch Gebäude", synonyms=False)
                   for label in ("AUTO1^", "SCHNELL1^", "HAUS1A^"))
    text = [("Wagen rasch", "de", "gsg")]
    assert lexicon_hit_rate(read_lexicon(folder), text) == 1.0
    assert lexicon_hit_rate(read_lexicon(folder), text, synonyms=False) == 0.0


def test_synonyms_keep_their_language_and_a_word_with_its_own_sign_keeps_it(tmp_path: Path) -> None:
    folder = lexicon_folder(tmp_path / "lex", SYNONYMS + "de,Tür|Haus\n")
    # "Haus" has its own sign: the group Tür|Haus must not turn it into TÜR.
    assert labels(folder, "Haus") == ["HAUS1A^"]
    # "automobile" is an English synonym: a German draft does not use it.
    assert labels(folder, "Haus automobile")[0] == "HAUS1A^" and "CAR" not in labels(folder, "Haus automobile")
    english = Planner(read_lexicon(folder), "en", "ase").plan("automobile").signs
    assert [s.label for s in english] == ["CAR"]


def test_an_inflected_word_reaches_its_synonym_through_its_lemma(tmp_path: Path) -> None:
    folder = lexicon_folder(tmp_path / "lex", SYNONYMS)
    # "Wagens" (genitive) lemmatises to "Wagen", whose group holds "Auto".
    assert labels(folder, "des Wagens")[-1] == "AUTO1^"


def test_synonyms_of_several_folders_combine(tmp_path: Path) -> None:
    signs = lexicon_folder(tmp_path / "signs", None)
    words = tmp_path / "words"
    words.mkdir()
    (words / "index.csv").write_text(INDEX[0] + "\nx.pose,de,gsg,0,0,xylofon,XYLOFON,0\n", encoding="utf-8")
    (words / "synonyms.csv").write_text("spoken_language,words\nde,Auto|Karre\n", encoding="utf-8")
    lexicon = read_lexicons([signs, words])
    assert [s.label for s in Planner(lexicon, "de", "gsg").plan("Karre").signs] == ["AUTO1^"]


@pytest.mark.parametrize(("content", "line", "words"), [
    ("words\nAuto|Wagen\n", 1, "spoken_language"),
    ("spoken_language,words\nde,Auto|Wagen\nde,Auto\n", 3, "at least two different words"),
    ("spoken_language,words\nde,Auto|auto\n", 2, "at least two different words"),
    ("spoken_language,words\n,Auto|Wagen\n", 2, "empty 'spoken_language'"),
    ("spoken_language,words\nde,Auto|Wagen,extra\n", 2, "expected 2 fields"),
])
def test_a_bad_synonyms_table_is_named_with_its_line_and_problem_and_the_signs_still_serve(
        tmp_path: Path, content: str, line: int, words: str) -> None:
    folder = lexicon_folder(tmp_path / "lex", content)
    with pytest.raises(FileFormatError) as caught:
        read_thesaurus(folder)
    message = str(caught.value)
    assert "synonyms.csv" in message and f"line {line}" in message and words in message
    # The folder's signs still draft; the table is left out and the draft's warnings say why.
    plan = Planner(read_lexicon(folder), "de", "gsg").plan("Auto Wagen")
    assert plan.signs[0].label == "AUTO1^" and "AUTO1^" not in [s.label for s in plan.signs[1:]]
    assert any("synonyms.csv" in w and f"line {line}" in w and "not used" in w for w in plan.warnings)


def test_a_synonyms_table_that_is_not_text_is_refused(tmp_path: Path) -> None:
    folder = lexicon_folder(tmp_path / "lex", None)
    (folder / "synonyms.csv").write_bytes(b"spoken_language,words\nde,Auto|\xff\xfeWagen\n")
    with pytest.raises(FileFormatError, match=r"synonyms\.csv.*line 2: not UTF-8"):
        read_thesaurus(folder)
    assert read_lexicon(folder).thesaurus.groups == [] and read_lexicon(folder).problems
