"""Rare words in the missing-name rule (bot/search/rare.py): a word rare in English that the
corpus never uses makes the question absent, named ("The essays never mention phlogiston"),
even in lower case; an uncommon one is named when the question is refused anyway. A typo, an
ending, a derivation or the other spelling of a corpus word is not reported, nor a common
English word, nor a common word mistyped."""

from __future__ import annotations

import pytest

from bot.search.rare import RARE_BELOW, english_zipf, spellings, unused_words
from bot.search.retriever import Retriever
from tests.helpers.probe import python_output
from tests.helpers.retrievers import hashing_retriever

# A made-up history, none of it from the evaluation sets.
TEXT = (
    "Notes on the timber trade\n\n"
    "In 1920 the harbour organization of Umeå taxed every shipment of timber. The sanctions "
    "on pulp ended after a long negotiation with the mill owners.\n\n"
    "The guild asked for the denuclearization of the coast, and an astronomer measured the "
    "syzygy of the moons from the harbour wall.\n\n"
    "Each spring the guild floated logs down the river to the sawmills.\n"
)


@pytest.fixture(scope="module")
def notes(tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    return hashing_retriever(tmp_path_factory.mktemp("rare"), TEXT, "timber.txt")


@pytest.mark.parametrize(
    ("question", "missing"),
    [
        # A word rare in English that the text never uses, in lower case or first.
        ("What did the guild say about phlogiston?", ("phlogiston",)),
        ("what happened to the timber at the tskhinvali docks?", ("tskhinvali",)),
        ("Phlogiston: did the guild tax it?", ("Phlogiston",)),
        # Beside it, a typo of a text word ("sanctoins"), an ending or a derivation of one
        # ("negotiators", "syzygies"), the other spelling ("organisation",
        # "denuclearisation", "harbor") are the text's words, not missing.
        ("Did the sanctoins stop the phlogiston trade?", ("phlogiston",)),
        ("Did the negotiators talk about phlogiston?", ("phlogiston",)),
        ("Did the syzygies of the moons move the phlogiston?", ("phlogiston",)),
        ("Did the organisation at the harbor sell phlogiston?", ("phlogiston",)),
        ("Was denuclearisation of the coast about quincunx planting?", ("quincunx",)),
        # Common English words the text never uses are paraphrases, not topics.
        ("Why was taxing the phlogiston so pointless?", ("phlogiston",)),
        # A common word mistyped or run together is not a rare one.
        ("Was the phlogiston trade dificult?", ("phlogiston",)),
        ("Whatwas the price of phlogiston?", ("phlogiston",)),
        # English frequencies say nothing of another script's words.
        ("Did the guild sell phlogiston (燃素) or Umeå timber?", ("phlogiston",)),
    ],
)
def test_a_rare_word_the_text_never_uses_is_named(
    notes: Retriever, question: str, missing: tuple[str, ...]
) -> None:
    answer = notes.ask(question)
    assert answer.missing_terms == missing
    assert answer.verdict == "absent"
    assert answer.reason == "missing-terms"


def test_an_uncommon_word_is_named_only_when_the_question_is_refused(notes: Retriever) -> None:
    # "cryptocurrency" is as common in English as words readers paraphrase with ("roadmap"):
    # it decides nothing, but a refusal says why.
    assert RARE_BELOW <= english_zipf("cryptocurrency") < 3.5
    refused = notes.ask("What does the author say about cryptocurrency?")
    assert refused.verdict == "absent"
    assert refused.missing_terms == ("cryptocurrency",)
    answered = notes.ask("Why did the timber sanctions on pulp backfire after the negotiation?")
    assert answered.verdict != "absent"
    assert answered.missing_terms == ()


def test_the_rule_asks_the_corpus_through_its_lookups() -> None:
    corpus = {"organization", "harbour"}
    found = unused_words(
        "Did the organisation at the harbor trade kvass and timber?",
        knows=lambda token: token in corpus,
        close_to=lambda token: False,
    )
    assert [word for word, _ in found] == ["kvass"]
    assert all(zipf < RARE_BELOW for _, zipf in found)


@pytest.mark.parametrize(
    ("word", "other"),
    [
        ("denuclearisation", "denuclearization"),
        ("prioritize", "prioritise"),
        ("analysed", "analyzed"),
        ("colour", "color"),
        ("color", "colour"),
        ("centre", "center"),
        ("defense", "defence"),
        ("catalogue", "catalog"),
        ("travelled", "traveled"),
        ("traveling", "travelling"),
    ],
)
def test_spellings_cross_the_atlantic_both_ways(word: str, other: str) -> None:
    assert other in spellings(word)


def test_a_question_without_rare_words_never_loads_the_word_list() -> None:
    probe = (
        "import sys\n"
        "from bot.search.rare import unused_words\n"
        "print(unused_words('What did the guild tax?', lambda t: True, lambda t: False))\n"
        "print('wordfreq' in sys.modules)\n"
    )
    assert python_output(probe).split() == ["[]", "False"]
