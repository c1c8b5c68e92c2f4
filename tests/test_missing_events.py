"""Events written in lower case after a name the corpus uses ("the Riga grain crisis") are
judged as phrases by the missing-name rule (bot/search/events.py): absent when the corpus never
says the event, however often it says the name and the noun apart."""

from __future__ import annotations

import pytest

from bot.search.events import event_phrases
from bot.search.missing import salient_spans
from bot.search.retriever import Retriever
from tests.helpers.retrievers import hashing_retriever

# A made-up history, none of it from the evaluation sets: Riga, a grain crisis, the Riga trade
# talks and the Riga Accord are said; a Riga grain crisis never is, and no sentence holds Riga
# and a crisis. Narva and a summit share a sentence, as do Estonian and a summit.
TEXT = (
    "Notes on the grain trade\n\n"
    "In 1920 a grain crisis closed the ports of the north. Ships waited for the spring.\n\n"
    "The Riga trade talks of 1921 ended in the Riga Accord, which reopened the harbour to "
    "ships from Tallinn.\n\n"
    "Estonian merchants met at the summit in Narva that autumn.\n"
)


@pytest.fixture(scope="module")
def notes(tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    return hashing_retriever(tmp_path_factory.mktemp("events"), TEXT, "grain.txt")


@pytest.mark.parametrize(
    ("question", "missing"),
    [
        # The name and the noun are said apart, the event never is.
        ("Did the Riga grain crisis hurt trade?", ("Riga grain crisis",)),
        ("What ended the Tallinn dock war?", ("Tallinn dock war",)),
        # Said as written, or without the words between ("the Riga Accord").
        ("What came of the Riga trade talks?", ()),
        ("Who signed the Riga peace accord?", ()),
        # With a near-synonym of the noun, or apart in one sentence ("the summit in Narva").
        ("Who signed the Riga peace agreement?", ()),
        ("What came of the Narva trade summit?", ()),
        # An adjective of a people says whose the event is, as a paraphrase may.
        ("What ended the Estonian grain war?", ()),
        # A name the corpus never uses is itself the news.
        ("What was the Vilnius grain crisis?", ("Vilnius",)),
        # After an auxiliary the name may be a subject and the next word its verb.
        ("Did the Riga merchants want talks?", ()),
        ("Would the Riga exchange accept sanctions?", ()),
        # A noun after the event noun makes a longer name the rule does not judge.
        ("Who sat on the Riga grain crisis committee?", ()),
        # A year is judged alone ("the 1920 grain crisis" is a date and a crisis).
        ("Was the 1920 grain crisis long?", ()),
    ],
)
def test_lower_case_events(notes: Retriever, question: str, missing: tuple[str, ...]) -> None:
    assert notes.ask(question).missing_terms == missing


@pytest.mark.parametrize(
    ("question", "phrases"),
    [
        ("Was the Oslo fish summit useful?", [("Oslo fish summit", "Oslo")]),
        ("What about the Oslo war?", [("Oslo war", "Oslo")]),
        # Not after "the"; a possessive; an acronym alone; a plan, not an event.
        ("Did Oslo fish summits help?", []),
        ("What did the Oslo's fish summit do?", []),
        ("Did the UN impose sanctions?", []),
        ("Why did the Oslo plan fail?", []),
        # After "What is", a noun after the event noun makes a longer name; a question that
        # opens with "Was" may put an adjective there.
        ("What is the Oslo peace treaty idea?", []),
        ("Was the Oslo peace treaty fair?", [("Oslo peace treaty", "Oslo")]),
        # A participle or an adverb between is not part of an event's name.
        ("Is the Oslo-based summit team big?", []),
        ("Did the Oslo council quickly sign the treaty?", []),
    ],
)
def test_event_phrases(question: str, phrases: list[tuple[str, str]]) -> None:
    assert event_phrases(question, salient_spans(question)) == phrases
