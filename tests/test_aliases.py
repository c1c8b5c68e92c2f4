"""Alternative names in the missing-name rule: a reader's "America" is the essay's "U.S.",
"Pyongyang" its "North Korea"; names with no alternative the corpus uses stay missing."""

from __future__ import annotations

import pytest

from bot.search.aliases import ALIAS_GROUPS, alternatives, is_acronym
from bot.search.missing import missing_terms
from bot.search.retriever import Retriever
from tests.helpers.retrievers import hashing_retriever


@pytest.fixture(scope="module")
def essay(tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    return hashing_retriever(tmp_path_factory.mktemp("aliases-essay"))


@pytest.fixture(scope="module")
def pronouns(tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    # "us" and "un" only as ordinary words, never as the acronyms US and UN.
    text = (
        "A note on trade\n\n"
        "Let us consider the tariffs that were unknown to many of us last year.\n\n"
        "Trade between nations grew, and the ports of the north were busy all winter.\n"
    )
    return hashing_retriever(tmp_path_factory.mktemp("aliases-pronouns"), text)


def test_alternatives_are_symmetric_and_spelling_blind() -> None:
    assert "United States" in alternatives("America")
    assert "America" in alternatives("U.S.")  # "U.S." and "US" are one token
    assert "America" in alternatives("Americans")  # as the index stems it
    assert "North Korea" in alternatives("Pyongyang")
    assert "Pyongyang" in alternatives("North Korea")
    assert {"Russia", "Soviet Union"} <= set(alternatives("Moscow"))  # in two groups
    assert alternatives("Guam") == ()
    for group in ALIAS_GROUPS:
        for name in group:
            assert set(group) - {name} <= set(alternatives(name))


def test_acronyms() -> None:
    assert is_acronym("US") and is_acronym("U.S.") and is_acronym("USSR")
    assert not is_acronym("America") and not is_acronym("United States") and not is_acronym("X")


def test_a_name_is_mentioned_when_an_alternative_is() -> None:
    corpus = {"us", "north", "korea", "north_korea"}

    def mentions(name: str) -> bool:
        return name in {"US", "North Korea"}

    question = "Did America and Pyongyang talk in Tokyo?"
    assert missing_terms(question, corpus.__contains__) == ("America", "Pyongyang", "Tokyo")
    assert missing_terms(question, corpus.__contains__, mentions) == ("Tokyo",)


def test_the_essay_says_us_and_north_korea(essay: Retriever) -> None:
    ranker = essay._ranker
    assert ranker.words.mentions("US")  # written "U.S." and "U.S.-ROK"
    assert ranker.words.mentions("United States")
    assert ranker.words.mentions("North Korea")
    assert not ranker.words.mentions("Japan") and not ranker.words.mentions("USSR")
    answer = essay.ask("Was America partly responsible for the 1994 deal falling apart?")
    assert answer.missing_terms == ()
    assert essay.ask("What did the Americans propose?").missing_terms == ()
    # A capital stands for its country's government: the essay names China.
    assert essay.ask("What does Beijing want?").missing_terms == ()
    # Neither Japan nor any other name of it: still said.
    assert essay.ask("What does Tokyo think of the freeze?").missing_terms == ("Tokyo",)
    assert essay.ask("What did the Soviet Union do?").missing_terms == ("Soviet Union",)


def test_lower_case_words_do_not_stand_for_acronyms(pronouns: Retriever) -> None:
    ranker = pronouns._ranker
    assert not ranker.words.mentions("US")
    assert not ranker.words.mentions("North Korea")  # "north" alone, never the pair
    assert pronouns.ask("Did America raise tariffs?").missing_terms == ("America",)
    assert pronouns.ask("What did Pyongyang export?").missing_terms == ("Pyongyang",)
