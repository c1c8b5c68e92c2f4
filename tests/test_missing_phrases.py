"""Names of several words are judged as phrases by the missing-name rule: a name is absent
when the corpus never says it, even when each of its words occurs somewhere (a shared family
name, a last word used in another sense, a word the endings rule takes for another)."""

from __future__ import annotations

import pytest

from bot.search.missing import missing_terms, phrase_pattern
from bot.search.retriever import Retriever
from tests.helpers.retrievers import hashing_retriever

# A made-up history: "Lars Erik Holm" has a brother "Lars Ove Holm" the text never names; the
# "Baltic Grain Exchange" exists, the "Grain Council" never does although both words occur;
# "Northern Federation" is never said although "northern" and "federal" are.
TEXT = (
    "Notes on the grain trade\n\n"
    "In 1911 Lars Erik Holm founded the Baltic Grain Exchange in Riga. The exchange's "
    "council met weekly in the northern warehouse.\n\n"
    "Holm's federal permits expired after the Riga Accord was signed. The Tallinn-Riga "
    "railway carried most of the grain to the coast.\n\n"
    "Later the Maritime Bank of Latvia financed the harbour, with Annual Reviews of trade "
    "published by the Port Authority.\n"
)


@pytest.fixture(scope="module")
def notes(tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    return hashing_retriever(tmp_path_factory.mktemp("phrases"), TEXT, "grain.txt")


@pytest.mark.parametrize(
    ("question", "missing"),
    [
        # Every word occurs, the name never does.
        ("What did Lars Ove Holm sell?", ("Lars Ove Holm",)),
        ("Who sat on the Grain Council?", ("Grain Council",)),
        ("Was the Northern Federation involved?", ("Northern Federation",)),
        # The last word occurs ("exchange"), the first never does.
        ("What happened at the Vilnius Exchange?", ("Vilnius Exchange",)),
        # Said, possibly with a middle name, an ending, a hyphen or a possessive.
        ("When did Lars Holm found the exchange?", ()),
        ("Who founded the Baltic Grain Exchange?", ()),
        ("What did Holm's Baltic Grain Exchange trade?", ()),
        ("Which line did the Tallinn Riga railway serve?", ()),
        ("What did the Annual Review say?", ()),
        ("Who ran the Port Authority's reviews?", ()),
        ("What did the Maritime Bank fund?", ()),
        # A quoted name at the start, its article capitalised.
        ('What did "The Riga Accord" change?', ()),
        # A number inside a name is judged alone: the text puts 1911 elsewhere.
        ("What did the 1911 Baltic Grain Exchange trade?", ()),
        ("What did the 1912 Baltic Grain Exchange trade?", ("1912",)),
        # Neither the year nor the name: named whole, as the question says it.
        ("What did the 1912 Vilnius Exchange trade?", ("1912 Vilnius Exchange",)),
    ],
)
def test_names_of_several_words_are_judged_as_phrases(
    notes: Retriever, question: str, missing: tuple[str, ...]
) -> None:
    assert notes.ask(question).missing_terms == missing


def test_without_the_text_all_words_of_a_name_are_needed() -> None:
    words = {"erik", "holm", "grain", "exchange"}
    assert missing_terms("Did Erik Holm trade?", words.__contains__) == ()
    assert missing_terms("Did Erik Ove Holm trade?", words.__contains__) == ("Erik Ove Holm",)


@pytest.mark.parametrize(
    ("name", "text", "said"),
    [
        ("Lars Holm", "as Lars Erik Holm wrote", True),
        ("Lars Holm", "Lars, and later Holm", False),
        ("Grain Council", "the grain councils", True),
        ("Grain Council", "the grain trade's council", False),
        ("Tallinn Riga", "the Tallinn-Riga line", True),
        ("Port Authority", "the Port Authority's", True),
        ("Northern Federation", "the northern federal office", False),
    ],
)
def test_phrase_pattern(name: str, text: str, said: bool) -> None:
    assert bool(phrase_pattern(name).search(text)) is said


def test_a_short_name_is_not_the_start_of_a_longer_word(notes: Retriever) -> None:
    # "Ri" begins "Riga", "Ove" nothing, "Hol" begins "Holm": two or three letters must be a
    # word of the text; four may take an ending ("Holm" and "Holm's").
    ranker = notes._ranker
    assert not ranker.words.knows("ri") and not ranker.words.knows("hol")
    assert ranker.words.knows("holm") and ranker.words.knows("riga")
    assert notes.ask("What did Ri sell?").missing_terms == ("Ri",)
