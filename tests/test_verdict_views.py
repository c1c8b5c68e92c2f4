"""Every view shows the verdict: the JSON contract, Telegram replies, the terminal (fake
embedder; the wording and the fields are what is tested)."""

from __future__ import annotations

import io
import json

import pytest

from bot.chat import chat_loop
from bot.render.callbacks import decode
from bot.render.contract import answer_json
from bot.render.presses import render_press
from bot.render.reply import (
    CLOSEST_LEAD,
    Reply,
    answer_reply,
    inline_refusal,
    never_mentioned,
    plain_text,
)
from bot.render.terminal import answer_text
from bot.search.answer import Answer
from bot.search.ranking import RetrievalConfig
from bot.search.retriever import Retriever
from bot.search.thresholds import Thresholds
from tests.helpers.footnote_bot import QUESTION, Essay, build_essay


@pytest.fixture(scope="module")
def retriever(tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    essay: Essay = build_essay(tmp_path_factory.mktemp("views"))
    return essay.retriever


@pytest.fixture(scope="module")
def closest(retriever: Retriever) -> Answer:
    ranked = retriever.with_config(RetrievalConfig(thresholds=Thresholds(0.0, 99.0)))
    answer = ranked.ask(QUESTION)
    assert answer.verdict == "closest"
    return answer


def test_json_contract_gains_verdict_and_missing_terms(
    retriever: Retriever, closest: Answer
) -> None:
    absent = answer_json(retriever.ask("What did Donald Trump say?"))
    assert list(absent) == ["query", "found", "results", "verdict", "missing_terms"]
    assert absent["verdict"] == "absent" and absent["found"] is False
    assert absent["missing_terms"] == ["Donald Trump"]
    near = answer_json(closest)
    assert near["verdict"] == "closest" and near["found"] is True
    assert near["missing_terms"] == []
    json.dumps(near)  # plain data


def test_replies_say_the_verdict(retriever: Retriever, closest: Answer) -> None:
    assert plain_text(answer_reply(closest).html).startswith(CLOSEST_LEAD)
    answered = retriever.with_config(RetrievalConfig(thresholds=Thresholds(0.0, 0.0)))
    assert not plain_text(answer_reply(answered.ask(QUESTION)).html).startswith(CLOSEST_LEAD)
    refusal = answer_reply(retriever.ask("Did Kim Jong Il approve it?"))
    assert plain_text(refusal.html).startswith("The essays never mention Kim Jong Il.")
    assert refusal.buttons  # the nearest sections are still offered


def _page(retriever: Retriever, reply: Reply, label: str) -> Reply:
    data = next(b.callback_data for row in reply.buttons for b in row if b.text == label)
    paged = render_press(retriever.library, decode(data))
    assert paged is not None
    return paged


def test_paging_keeps_the_verdict(retriever: Retriever, closest: Answer) -> None:
    first = answer_reply(closest)
    second = _page(retriever, first, "Next ▶")
    assert plain_text(second.html).startswith(CLOSEST_LEAD)
    assert second.html != first.html  # another result, the same caution
    assert _page(retriever, second, "◀ Previous").html == first.html
    answered = retriever.with_config(RetrievalConfig(thresholds=Thresholds(0.0, 0.0)))
    answer = answer_reply(answered.ask(QUESTION))
    assert not plain_text(_page(retriever, answer, "Next ▶").html).startswith(CLOSEST_LEAD)


def test_never_mentioned_lists_at_most_three_names() -> None:
    assert never_mentioned(["Japan"]) == "The essays never mention Japan."
    assert never_mentioned(["Japan", "Russia"]) == "The essays never mention Japan or Russia."
    many = never_mentioned(["A1", "B2", "C3", "D4"])
    assert many == "The essays never mention A1, B2 or C3."


def test_inline_refusal_fits_telegram() -> None:
    long_name = "Q" * 200
    assert len(inline_refusal(Answer("q", False, missing_terms=(long_name,)))) <= 64
    assert inline_refusal(Answer("q", False)) == "Not in the essay — open Footnote"


def test_terminal_shows_the_verdict(retriever: Retriever, closest: Answer) -> None:
    out = io.StringIO()
    assert CLOSEST_LEAD in answer_text(closest, out)
    assert "The essays never mention Japan." in answer_text(retriever.ask("What about Japan?"), out)


def test_chat_shows_the_verdict(retriever: Retriever) -> None:
    out = io.StringIO()
    chat_loop(retriever, io.StringIO("What does the essay say about Guam?\n/quit\n"), out)
    assert "The essays never mention Guam." in out.getvalue()
