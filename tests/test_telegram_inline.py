"""Inline mode: "@footnote_test_bot question" offers quote cards to share in any chat."""

from __future__ import annotations

from typing import Any

import pytest

from bot.telegram.inline import INLINE_HELP, INLINE_RESULTS
from tests.botapi.server import FakeBotApi
from tests.botapi.telegram_html import parse_telegram_html
from tests.helpers.footnote_bot import (
    DOCUMENT,
    DUAL_TRACK,
    MISQUOTE,
    OFF_TOPIC,
    QUESTION,
    App,
    Essay,
    assert_clean,
    capture_logs,
    footnote,
    settle,
)

USER = 77001


async def inline(server: FakeBotApi, app: App, query: str, user: int = USER) -> dict[str, Any]:
    """The one answer to an inline query."""
    update = server.inline_query(user, query)
    before = len(server.inline_answers)
    server.push_update(update)
    await settle(server, app)
    answers = server.inline_answers[before:]
    assert len(answers) == 1, answers
    assert answers[0]["inline_query_id"] == update["inline_query"]["id"]
    assert server.sent_messages() == []  # inline mode never writes to a chat itself
    return answers[0]


async def test_a_question_offers_several_quote_cards(
    fake_botapi: FakeBotApi, app: App, essay: Essay, caplog: pytest.LogCaptureFixture
) -> None:
    answer = await inline(fake_botapi, app, QUESTION)
    results = answer["results"]
    assert 2 <= len(results) <= INLINE_RESULTS
    assert len({r["id"] for r in results}) == len(results)
    sections = {s.title or "opening" for s in essay.retriever.library.sections()}
    for result in results:
        assert result["type"] == "article"
        assert 1 <= len(result["id"].encode()) <= 64
        section, _, paragraph = result["title"].partition(" · ¶")
        assert section in sections and paragraph.isdigit()
        content = result["input_message_content"]
        assert content["parse_mode"] == "HTML"
        shown = parse_telegram_html(content["message_text"])
        quote = shown.split("\n")[0]
        assert result["description"].rstrip("…") in quote
        assert f"{DOCUMENT} › {section} · ¶{paragraph}" in shown
        assert content["message_text"].startswith("<blockquote>")
    first = results[0]
    assert first["title"] == f"{DUAL_TRACK} · ¶1"
    assert "double suspension" in first["description"]
    assert "button" not in answer
    assert_clean(fake_botapi, caplog)


async def test_a_pasted_misquote_is_found_first(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    answer = await inline(fake_botapi, app, MISQUOTE)
    first = answer["results"][0]
    assert first["title"] == "opening · ¶3"
    assert "nobody knows how to “collapse” a regime" in first["description"]
    assert "<b>" in first["input_message_content"]["message_text"]
    assert_clean(fake_botapi, caplog)


@pytest.mark.parametrize("query", ["", "  ", "ab", "😀"])
async def test_a_very_short_query_gets_a_hint(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture, query: str
) -> None:
    answer = await inline(fake_botapi, app, query)
    assert answer["results"] == []
    assert answer["button"]["start_parameter"] == INLINE_HELP
    assert answer["button"]["text"]
    assert_clean(fake_botapi, caplog)


async def test_nothing_found_gets_a_button_to_the_bot(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    answer = await inline(fake_botapi, app, OFF_TOPIC)
    assert answer["results"] == []
    assert answer["button"]["start_parameter"] == INLINE_HELP
    assert "Not in the essay" in answer["button"]["text"]
    assert_clean(fake_botapi, caplog)


async def test_hostile_queries_are_answered_validly(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    for query in ('<b>"double suspension"</b> & <i>', "&amp; </blockquote>", "😀" * 120):
        await inline(fake_botapi, app, query)
    assert_clean(fake_botapi, caplog)


async def test_typing_fast_answers_only_the_latest_query(
    fake_botapi: FakeBotApi, essay: Essay, caplog: pytest.LogCaptureFixture
) -> None:
    capture_logs(caplog)
    async with footnote(fake_botapi, essay, inline_debounce=0.3) as application:
        updates = [
            fake_botapi.inline_query(USER, text)
            for text in ("dou", "double sus", "double suspension")
        ]
        other = fake_botapi.inline_query(USER + 1, "dual track proposal")
        for update in [*updates, other]:
            fake_botapi.push_update(update)
        await settle(fake_botapi, application)
    answered = {a["inline_query_id"] for a in fake_botapi.inline_answers}
    assert answered == {updates[-1]["inline_query"]["id"], other["inline_query"]["id"]}
    assert_clean(fake_botapi, caplog)


async def test_inline_results_open_in_private_via_the_deep_link(
    fake_botapi: FakeBotApi, app: App, essay: Essay, caplog: pytest.LogCaptureFixture
) -> None:
    """The hint's start parameter is a welcome, not a "no longer here" notice."""
    answer = await inline(fake_botapi, app, "ab")
    fake_botapi.push_update(
        fake_botapi.private_message(USER, f"/start {answer['button']['start_parameter']}")
    )
    await settle(fake_botapi, app)
    [welcome] = fake_botapi.sent_messages(USER)
    assert welcome.text.startswith("Footnote quotes the essay")
    assert_clean(fake_botapi, caplog)
