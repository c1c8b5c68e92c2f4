"""Names a reader shortens or writes in several parts, in the missing-name rule: initials of a
name the text spells out ("AML" for "Anna Maria Lindqvist", "GBM" for "Guild of Baltic
Merchants") and compass points abbreviated ("SW" for "Southwest") are mentioned; a name of
several parts joined by a possessive, "of", "for" or "and" that the text never uses is reported
whole, as the question wrote it, and so is one joined by "of" or "for" with a part new."""

from __future__ import annotations

import pytest

from bot.search.aliases import spelled_out
from bot.search.missing import salient_names
from bot.search.retriever import Retriever
from tests.helpers.retrievers import hashing_retriever

# A made-up history, none of it from the evaluation sets.
TEXT = (
    "Notes on the timber trade\n\n"
    "In 1920 Anna Maria Lindqvist founded the Southwest Timber Guild in Umeå. The guild's "
    "members floated logs down the river every spring.\n\n"
    "Lindqvist later sold her mill to the Northeast Paper Company, which shipped pulp to "
    "Hamburg until the war. The GDR and the FRG both bought pulp.\n\n"
    "The Guild of Baltic Merchants and the Carters' League of Umeå carried the paper.\n"
)


@pytest.fixture(scope="module")
def notes(tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    return hashing_retriever(tmp_path_factory.mktemp("shortened"), TEXT, "timber.txt")


@pytest.mark.parametrize(
    ("question", "missing"),
    [
        # Initials of a name the text spells out.
        ("When did AML found the guild?", ()),
        ("What did NPC ship?", ()),
        # Initials skip "of" and keep a possessive's word.
        ("Who founded the GBM?", ()),
        ("Was the CLU a union?", ()),
        # Initials of nothing in the text.
        ("When did BKX found the guild?", ("BKX",)),
        # Compass points abbreviated.
        ("Who joined the SW Timber Guild?", ()),
        ("Where did the NE Paper Company ship pulp?", ()),
        ("Who ran the NW Paper Company?", ("NW Paper Company",)),
        # Parts joined by a possessive, "of" or "and", none of them used: named whole.
        ("How large was the Ostrava Farmer's Union?", ("Ostrava Farmer's Union",)),
        ("What did the Ministry of Forestry decide?", ("Ministry of Forestry",)),
        ("What did the Lake and River Shipping Council do?", ("Lake and River Shipping Council",)),
        # A year after "of" is a date, not part of the name.
        ("What did the Timber Guild of 1921 sell?", ("1921",)),
        ("Was the Great Flood of 1921 bad?", ("Great Flood", "1921")),
        # Acronyms joined by a hyphen name the parties, judged alone; a name the text lacks
        # is reported with the parties written before it, whole as the question wrote it.
        ("What did the GDR-FRG Pulp Accord say?", ("GDR-FRG Pulp Accord",)),
        ("What did the GDR-FRG Timber Guild do?", ()),
        ("What did the USSR-GDR Pulp Accord say?", ("USSR-GDR Pulp Accord",)),
        ("What did the USSR-GDR Timber Guild do?", ("USSR",)),
        # An acronym is a title or a party, not part of the name after "of".
        ("Who is the CFO of Ostrava Timber?", ("CFO", "Ostrava Timber")),
        # Two names side by side stay two, and so do names placed one on or in another.
        ("Did Oslo and Bergen buy pulp?", ("Oslo", "Bergen")),
        ("Was Lindqvist on Gotland?", ("Gotland",)),
        # A part new to the text: the name as written, a closing possessive dropped.
        ("What did the Timber Guild of Riga sell?", ("Timber Guild of Riga",)),
        ("What was the Ministry of Forestry's budget?", ("Ministry of Forestry",)),
        ("Who ran the Umeå Institute for Forestry?", ("Umeå Institute for Forestry",)),
        ("Who led the Southwest Timber Guild's Council?", ("Southwest Timber Guild's Council",)),
        # A part the text uses is not reported; the part it lacks is.
        ("What did Lindqvist's Harbour Board build?", ("Harbour Board",)),
        ("Did Hamburg and Rotterdam Shipping buy pulp?", ("Rotterdam Shipping",)),
    ],
)
def test_shortened_and_compound_names(
    notes: Retriever, question: str, missing: tuple[str, ...]
) -> None:
    assert notes.ask(question).missing_terms == missing


def test_salient_names_keep_the_written_form() -> None:
    assert salient_names("Is the Bank of Latvia's Audit Office open?") == [
        ("Bank of Latvia's Audit Office", ["Bank", "Latvia", "Audit Office"])
    ]
    assert salient_names("Did Oslo and Bergen agree?") == [
        ("Oslo", ["Oslo"]),
        ("Bergen", ["Bergen"]),
    ]


def test_spelled_out_compass_points() -> None:
    assert spelled_out("SE Europe") == (
        "Southeast Europe",
        "South East Europe",
        "South-East Europe",
    )
    assert spelled_out("Europe") == ()
