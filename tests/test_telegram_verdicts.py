"""The verdicts in Telegram: a reply and an inline card say "closest" when the quote may not
answer, and a question about a name the essay never mentions is refused by that name.

The essay here is ranked with thresholds that make every found answer "closest" (the fake
embedder's scores say nothing about quality; the wording is what is tested)."""

from __future__ import annotations

import pytest

from bot.render.reply import CLOSEST_LEAD
from bot.search.ranking import RetrievalConfig
from bot.search.thresholds import Thresholds
from tests.botapi.server import FakeBotApi
from tests.helpers.footnote_bot import (
    QUESTION,
    App,
    Essay,
    assert_clean,
    build_essay,
    button_data,
    say,
    say_unquoted,
)
from tests.test_telegram_buttons import USER, press
from tests.test_telegram_inline import inline

NEVER_MENTIONED = "What does the author say about Japan?"


@pytest.fixture(scope="module")
def essay(tmp_path_factory: pytest.TempPathFactory) -> Essay:
    built = build_essay(tmp_path_factory.mktemp("verdicts"))
    everything_closest = RetrievalConfig(thresholds=Thresholds(0.0, 99.0))
    return Essay(built.root, built.retriever.with_config(everything_closest))


async def test_a_closest_passage_is_said_to_maybe_not_answer(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    reply = await say(fake_botapi, app, QUESTION)
    assert reply.text.startswith(CLOSEST_LEAD)
    assert "<blockquote>" in reply.raw_text
    assert_clean(fake_botapi, caplog)


async def test_a_name_never_mentioned_is_named(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    reply = await say_unquoted(fake_botapi, app, NEVER_MENTIONED)
    assert "The essays never mention Japan." in reply.text
    assert_clean(fake_botapi, caplog)


async def test_inline_cards_carry_the_verdict(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    answer = await inline(fake_botapi, app, QUESTION)
    assert answer["results"]
    for card in answer["results"]:
        assert card["title"].startswith("Closest · ")
        assert card["input_message_content"]["message_text"].startswith(CLOSEST_LEAD)
    refused = await inline(fake_botapi, app, NEVER_MENTIONED)
    assert refused["results"] == []
    assert refused["button"]["text"] == "Never mentions Japan — open Footnote"
    assert_clean(fake_botapi, caplog)


async def test_paging_keeps_the_closest_caution(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    """Next and Previous edit the message in place: every page of a "closest" answer still
    says it may not answer, not only the first one."""
    first = await say(fake_botapi, app, QUESTION, USER)
    assert first.text.startswith(CLOSEST_LEAD)
    nxt = await press(fake_botapi, app, USER, first.message_id, button_data(first)["Next ▶"])
    assert nxt.text.startswith(CLOSEST_LEAD), nxt.text
    assert nxt.text != first.text
    back = await press(
        fake_botapi, app, USER, first.message_id, button_data(nxt.message)["◀ Previous"]
    )
    assert back.text == first.text
    assert_clean(fake_botapi, caplog)
