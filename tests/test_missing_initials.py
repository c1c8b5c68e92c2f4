"""Names written with initials or after hyphenated parties, in the missing-name rule: the full
stop after an initial is part of the name, not a sentence end ("P.J. Aaltonen", "Karl T.
Berg"), and a name the text lacks is reported with the hyphenated parties written before it
("the EU-Norway Whaling Board"), as the question wrote it."""

from __future__ import annotations

import pytest

from bot.search.missing import phrase_pattern, salient_runs
from bot.search.retriever import Retriever
from tests.helpers.retrievers import hashing_retriever

# A made-up history, none of it from the evaluation sets.
TEXT = (
    "Notes on the herring trade\n\n"
    "In 1902 P.J. Aaltonen opened the Vaasa Herring Exchange. His partner Karl T. Berg "
    "kept the books and sold salt to the U.K. mills.\n\n"
    "Later the exchange traded with the EU-Norway Fisheries Board, whose clerks came from "
    "Bergen.\n"
)


@pytest.fixture(scope="module")
def notes(tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    return hashing_retriever(tmp_path_factory.mktemp("initials"), TEXT, "herring.txt")


@pytest.mark.parametrize(
    ("question", "runs"),
    [
        ("What did P.J. Aaltonen open?", ["P.J. Aaltonen"]),
        ("What did P. J. Aaltonen's partner sell?", ["P. J. Aaltonen"]),
        ("Did Karl T. Berg keep the books?", ["Karl T. Berg"]),
        # A hyphenated word stays whole, full stops and all.
        ("Was the U.K.-born clerk paid by Anna P. Berg?", ["U.K.-born", "Anna P. Berg"]),
        # A full stop after a word of several letters still ends a sentence.
        ("I read about Berg. Where did he sail?", ["Berg"]),
    ],
)
def test_initials_stay_in_the_name(question: str, runs: list[str]) -> None:
    assert salient_runs(question) == runs


@pytest.mark.parametrize(
    ("question", "missing"),
    [
        # Said, with the initials as the text writes them or spaced.
        ("What did P.J. Aaltonen open?", ()),
        ("What did P. J. Aaltonen open?", ()),
        ("Did Karl T. Berg keep the books?", ()),
        # Never said: the whole name as written, its possessive dropped.
        ("Did R.T. Aaltonen's firm trade herring?", ("R.T. Aaltonen",)),
        ("Did Karl W. Berg keep the books?", ("Karl W. Berg",)),
        ("What did E. M. Lund write?", ("E. M. Lund",)),
        # Hyphenated parties before a name: said, or the name with its parties.
        ("What did the EU-Norway Fisheries Board decide?", ()),
        ("What did the EU-Norway Whaling Board decide?", ("EU-Norway Whaling Board",)),
        # A party the text lacks before a name it says is reported alone.
        ("Did the EU-Iceland Fisheries Board meet?", ("Iceland",)),
    ],
)
def test_names_with_initials_and_parties(
    notes: Retriever, question: str, missing: tuple[str, ...]
) -> None:
    assert notes.ask(question).missing_terms == missing


@pytest.mark.parametrize(
    ("name", "text", "said"),
    [
        ("P.J. Aaltonen", "as P.J. Aaltonen wrote", True),
        ("P. J. Aaltonen", "as P.J. Aaltonen wrote", True),
        ("P.J. Aaltonen", "as P. J. Aaltonen wrote", True),
        ("Karl Berg", "Karl T. Berg kept", True),
        # A full stop after a word of several letters is a sentence end.
        ("Karl Berg", "sold to Karl. Berg kept", False),
    ],
)
def test_phrase_pattern_reads_initials(name: str, text: str, said: bool) -> None:
    assert bool(phrase_pattern(name).search(text)) is said
