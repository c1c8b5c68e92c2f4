"""Footnote on Telegram, end to end: the real build_application over HTTP to the fake Bot API.

Private chats and commands, start-up, non-text messages, failures of Telegram and of the
engine, bursts from many chats, and the token's absence from every log line.  Groups,
buttons and inline mode have their own files (tests/test_telegram_*.py).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from bot.config import Settings
from bot.search.engine import Engine
from bot.telegram.app import ALLOWED_UPDATES, build_application
from bot.telegram.handlers import COMMANDS, SOMETHING_WRONG
from bot.telegram.limits import RATE_LIMITED
from bot.telegram.state import bot_state
from tests.botapi.fixtures import TEST_TOKEN, application_builder
from tests.botapi.server import FakeBotApi, SentMessage
from tests.helpers.footnote_bot import (
    DOCUMENT,
    DUAL_TRACK,
    EMPTY_SECTION_QUESTION,
    MISQUOTE,
    OFF_TOPIC,
    QUESTION,
    USER,
    App,
    Essay,
    assert_clean,
    build_essay,
    button_data,
    capture_logs,
    exchange,
    footnote,
    running,
    say,
    say_unquoted,
    settings_for,
    settle,
    the_reply,
)


def entity_types(sent: SentMessage) -> set[str]:
    return {e["type"] for e in sent.entities}


# -- start-up ---------------------------------------------------------------------------------


async def test_start_up_registers_the_commands(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    calls = fake_botapi.calls_of("setMyCommands")
    assert len(calls) == 1 and calls[0].ok
    assert [c["command"] for c in fake_botapi.commands] == [name for name, _, _ in COMMANDS]
    assert all(c["description"] for c in fake_botapi.commands)
    # Long polling asks for exactly the update kinds the handlers serve.
    await fake_botapi.wait_for(lambda s: s.calls_of("getUpdates"), timeout=5)
    polls = fake_botapi.calls_of("getUpdates")
    assert polls[0].params.get("allowed_updates") == ALLOWED_UPDATES
    assert app.bot.username == "footnote_test_bot"
    assert_clean(fake_botapi, caplog)


@pytest.mark.parametrize("use_builder", [False, True])
async def test_both_ways_of_pointing_at_the_server_compose(
    fake_botapi: FakeBotApi,
    essay: Essay,
    caplog: pytest.LogCaptureFixture,
    use_builder: bool,
) -> None:
    """Settings.telegram_base_url (the server root) or a pre-configured builder."""
    capture_logs(caplog)
    settings = settings_for(fake_botapi, essay.root)
    builder = None
    if use_builder:
        settings = settings_for(fake_botapi, essay.root, telegram_base_url=None)
        builder = application_builder(fake_botapi)
    application = build_application(settings, Engine(essay.retriever), builder)
    assert application.bot.base_url == f"{fake_botapi.base_url}{TEST_TOKEN}"
    assert application.bot.base_file_url == f"{fake_botapi.base_file_url}{TEST_TOKEN}"
    async with running(application):
        reply = await say(fake_botapi, application, QUESTION)
    assert "<blockquote>" in reply.raw_text
    assert_clean(fake_botapi, caplog)


def test_a_trailing_slash_on_the_base_url_is_tolerated(tmp_path: Path) -> None:
    settings = Settings(telegram_token=TEST_TOKEN, telegram_base_url="http://127.0.0.1:1/")
    application = build_application(settings, Engine(build_essay(tmp_path).retriever))
    assert application.bot.base_url == f"http://127.0.0.1:1/bot{TEST_TOKEN}"


# -- questions in a private chat ----------------------------------------------------------


async def test_question_is_answered_once_with_quote_citation_and_buttons(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    reply = await say(fake_botapi, app, QUESTION)
    assert reply.raw_text.startswith("<blockquote>")
    assert "blockquote" in entity_types(reply)
    assert "double suspension" in reply.text
    assert f"{DOCUMENT} › {DUAL_TRACK} · ¶1" in reply.text
    assert reply.parse_mode == "HTML"
    assert reply.reply_to_message_id is None  # private chats are not threaded
    buttons = button_data(reply)
    assert {"Next ▶", "¶ Full paragraph", "§ Section"} <= set(buttons)
    assert reply.message.get("link_preview_options", {}).get("is_disabled") is True
    assert_clean(fake_botapi, caplog)


async def test_off_topic_question_offers_sections(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    reply = await say_unquoted(fake_botapi, app, OFF_TOPIC)
    assert "isn't in the essay" in reply.text
    buttons = button_data(reply)
    assert buttons and all(text.startswith("§ ") for text in buttons)
    assert f"§ {DUAL_TRACK}" in buttons
    assert_clean(fake_botapi, caplog)


async def test_question_about_the_empty_section_says_it_has_no_text(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    reply = await say_unquoted(fake_botapi, app, EMPTY_SECTION_QUESTION)
    assert "Cooperation Spiral Solution" in reply.text
    assert "no text" in reply.text
    assert_clean(fake_botapi, caplog)


async def test_a_pasted_misquote_finds_its_passage(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    reply = await say(fake_botapi, app, MISQUOTE)
    assert "nobody knows how to “collapse” a regime" in reply.text
    assert f"{DOCUMENT} › opening · ¶3" in reply.text
    assert_clean(fake_botapi, caplog)


async def test_hostile_question_text_is_escaped(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    for text in ('<b>"double suspension"</b> & <i>', "&amp; </blockquote> 1 < 2", "😀" * 2000):
        reply = await say(fake_botapi, app, text)
        assert reply.text.strip()
    assert_clean(fake_botapi, caplog)


async def test_questions_beyond_the_rate_limit_get_a_notice(
    fake_botapi: FakeBotApi, essay: Essay, caplog: pytest.LogCaptureFixture
) -> None:
    capture_logs(caplog)
    async with footnote(fake_botapi, essay, user_rate_limit=2) as application:
        first = await say(fake_botapi, application, QUESTION)
        second = await say(fake_botapi, application, "dual track proposal")
        third = await say(fake_botapi, application, QUESTION)
        elsewhere = await say(fake_botapi, application, QUESTION, chat_id=USER + 1)
    assert "<blockquote>" in first.raw_text and "<blockquote>" in second.raw_text
    assert third.text == RATE_LIMITED
    assert "<blockquote>" in elsewhere.raw_text  # the limit is per user
    assert_clean(fake_botapi, caplog)


# -- commands -------------------------------------------------------------------------------


def assert_lists_every_command(text: str) -> None:
    for name, args, _ in COMMANDS:
        assert f"/{name} {args}".rstrip() in text, name


async def test_start_without_payload_welcomes_with_help(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    reply = await say(fake_botapi, app, "/start")
    assert reply.text.startswith("Footnote quotes the essay")
    assert "@footnote_test_bot" in reply.text
    assert_lists_every_command(reply.text)
    assert_clean(fake_botapi, caplog)


async def test_start_with_a_passage_id_opens_that_passage(
    fake_botapi: FakeBotApi, app: App, essay: Essay, caplog: pytest.LogCaptureFixture
) -> None:
    hit = essay.retriever.ask(QUESTION, 1).hits[0]
    reply = await say(fake_botapi, app, f"/start {hit.passage.id}")
    assert reply.text.startswith(hit.quote)
    assert f"{DOCUMENT} › {DUAL_TRACK} · ¶{hit.passage.paragraph_no}" in reply.text
    assert set(button_data(reply)) == {"¶ Full paragraph", "§ Section"}
    assert_clean(fake_botapi, caplog)


@pytest.mark.parametrize("payload", ["0123456789ab", "bogus", "<b>x</b>", "a" * 64])
async def test_start_with_a_bogus_id_explains_once(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture, payload: str
) -> None:
    reply = await say(fake_botapi, app, f"/start {payload}")
    assert "no longer here" in reply.text
    assert_lists_every_command(reply.text)
    assert_clean(fake_botapi, caplog)


async def test_start_from_the_inline_hint_just_welcomes(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    reply = await say(fake_botapi, app, "/start inline-help")
    assert reply.text.startswith("Footnote quotes the essay")
    assert "no longer here" not in reply.text
    assert_clean(fake_botapi, caplog)


async def test_help_lists_every_command(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    reply = await say(fake_botapi, app, "/help")
    assert_lists_every_command(reply.text)
    assert "/reload" not in reply.text  # admin-only, not advertised
    assert_clean(fake_botapi, caplog)


async def test_ask_with_and_without_a_question(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    usage = await say(fake_botapi, app, "/ask")
    assert usage.text.startswith("Usage: /ask <question>")
    answer = await say(fake_botapi, app, f"/ask {QUESTION}")
    assert "double suspension" in answer.text
    assert f"{DOCUMENT} › {DUAL_TRACK}" in answer.text
    assert_clean(fake_botapi, caplog)


async def test_cite_a_phrase_and_cite_without_one(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    usage = await say(fake_botapi, app, "/cite")
    assert usage.text.startswith("Usage: /cite <phrase>")
    found = await say(fake_botapi, app, f"/cite {MISQUOTE}")
    assert "nobody knows how to “collapse” a regime" in found.text
    assert f"{DOCUMENT} › opening · ¶3" in found.text
    bold = [e for e in found.entities if e["type"] == "bold"]
    assert bold, "the cited phrase is highlighted"
    missing = await say(fake_botapi, app, "/cite purple elephants dancing on the moon")
    assert "can't find" in missing.text
    assert "purple elephants dancing on the moon" in missing.text
    assert_clean(fake_botapi, caplog)


async def test_sections_shows_the_contents_with_buttons(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    reply = await say(fake_botapi, app, "/sections")
    assert DOCUMENT in reply.text
    assert "• opening (3 ¶)" in reply.text
    assert f"• {DUAL_TRACK} (1 ¶)" in reply.text
    assert "• Cooperation Spiral Solution (no text in this copy)" in reply.text
    assert list(button_data(reply)) == [
        "§ opening",
        f"§ {DUAL_TRACK}",
        "§ Cooperation Spiral Solution",
    ]
    assert_clean(fake_botapi, caplog)


async def test_about_describes_the_corpus(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    reply = await say(fake_botapi, app, "/about")
    assert DOCUMENT in reply.text
    assert "3 sections, 1 without text" in reply.text
    assert "4-ways-out-of-the-korean-crisis.txt" in reply.text
    assert "59 quotable passages" in reply.text
    assert_clean(fake_botapi, caplog)


async def test_reload_is_refused_to_strangers(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    reply = await say(fake_botapi, app, "/reload")
    assert "administrators" in reply.text
    assert_clean(fake_botapi, caplog)


async def test_unknown_commands_are_ignored(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    sent = await exchange(fake_botapi, app, fake_botapi.private_message(USER, "/frobnicate x"))
    assert sent == []
    assert_clean(fake_botapi, caplog)


# -- what is not a question ---------------------------------------------------------------


async def test_edited_questions_are_not_answered_twice(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    update = fake_botapi.private_message(USER, QUESTION)
    first = the_reply(await exchange(fake_botapi, app, update), USER)
    edit = fake_botapi.edited_message(USER, update["message"]["message_id"], "dual track")
    assert await exchange(fake_botapi, app, edit) == []  # the answer is edited instead
    # (tests/test_telegram_reader.py checks what the edit shows)
    assert fake_botapi.calls_of("editMessageText")[-1].params["message_id"] == first.message_id
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert_clean(fake_botapi, caplog)


async def test_stickers_and_photos_get_a_hint_in_private(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    sticker = the_reply(await exchange(fake_botapi, app, fake_botapi.sticker_message(USER)), USER)
    assert "only read text" in sticker.text
    photo = fake_botapi.photo_message(USER, caption="What is this?")
    assert "only read text" in the_reply(await exchange(fake_botapi, app, photo), USER).text
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert_clean(fake_botapi, caplog)


# -- reliability ------------------------------------------------------------------------------


async def test_flood_wait_on_send_still_answers_exactly_once(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    fake_botapi.fail_next("sendMessage", times=2, error_code=429, retry_after=1)
    reply = await say(fake_botapi, app, QUESTION)
    assert "double suspension" in reply.text
    attempts = fake_botapi.calls_of("sendMessage")
    assert [c.ok for c in attempts] == [False, False, True]
    assert all(c.params["text"] == reply.raw_text for c in attempts)
    assert_clean(fake_botapi, caplog)


async def test_a_burst_from_many_chats_is_answered_completely(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    questions = [QUESTION, "dual track proposal", OFF_TOPIC, "the first phase", "sanctions"]
    chats = {1000 + i: questions[i % len(questions)] for i in range(30)}
    for chat_id, text in chats.items():
        fake_botapi.push_update(fake_botapi.private_message(chat_id, text))
    await settle(fake_botapi, app, timeout=30)
    sent = fake_botapi.sent_messages()
    assert sorted(m.chat_id for m in sent) == sorted(chats)  # each chat exactly once
    for message in sent:
        asked = chats[message.chat_id]
        if asked == OFF_TOPIC:
            assert "isn't in the essay" in message.text
        else:
            assert "<blockquote>" in message.raw_text
    engine: Engine = bot_state(app).engine
    # Phrases found verbatim ("dual track proposal") are answered by citation lookup without
    # the model; every other question is embedded, batched and cached.
    assert 0 < engine.stats.questions <= len(chats)
    assert engine.stats.model_calls <= len(questions)
    assert_clean(fake_botapi, caplog)


async def test_a_failing_handler_tells_the_user_and_logs_the_error(
    fake_botapi: FakeBotApi,
    app: App,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("the index caught fire")

    monkeypatch.setattr(bot_state(app).engine, "ask", broken)
    reply = await say(fake_botapi, app, QUESTION)
    assert reply.text == SOMETHING_WRONG
    assert reply.parse_mode is None
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1
    assert "error while handling Update" in errors[0].getMessage()
    assert f"in chat {USER}" in errors[0].getMessage()
    assert errors[0].exc_info and "the index caught fire" in str(errors[0].exc_info[1])
    # The bot keeps serving afterwards.
    monkeypatch.undo()
    assert "<blockquote>" in (await say(fake_botapi, app, QUESTION)).raw_text
    assert_clean(fake_botapi, caplog)


async def test_telegram_refusing_the_error_notice_is_only_logged(
    fake_botapi: FakeBotApi,
    app: App,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("boom")

    monkeypatch.setattr(bot_state(app).engine, "ask", broken)
    fake_botapi.fail_next(
        "sendMessage",
        times=1,
        error_code=403,
        retry_after=None,
        description="Forbidden: bot was blocked by the user",
    )
    assert await exchange(fake_botapi, app, fake_botapi.private_message(USER, QUESTION)) == []
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("could not tell the user" in w for w in warnings)
    assert_clean(fake_botapi, caplog)


async def test_the_token_never_reaches_the_logs(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    fake_botapi.fail_next("sendMessage", times=1, error_code=429, retry_after=1)
    await say(fake_botapi, app, QUESTION)
    fake_botapi.answer_500("sendMessage")
    await exchange(fake_botapi, app, fake_botapi.private_message(USER, "/help"))
    assert caplog.records, "logging was captured"
    assert_clean(fake_botapi, caplog)
