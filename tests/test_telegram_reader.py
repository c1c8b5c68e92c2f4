"""Telegram and the web reader: "Read in context" links (a Mini App in private chats), edited
questions that edit their answer, /ask by reply, the way back from an empty section, private
chats paced to ~1 message per second, and TELEGRAM_API_BASE_URL in both forms.

All against the spec-checking fake Bot API, which refuses invalid URLs and web_app buttons
outside private chats (tests/botapi/limits.py).
"""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from bot.render.callbacks import encode_section
from bot.render.reply import CONTENTS, READ_IN_CONTEXT
from bot.telegram.app import ALLOWED_UPDATES
from bot.telegram.flood import ResilientRateLimiter
from bot.telegram.state import ANSWER_MEMORY, BotState, bot_state
from tests.botapi.server import FakeBotApi, SentMessage
from tests.helpers.essay import ESSAY_ID
from tests.helpers.footnote_bot import (
    BOT_USERNAME,
    EMPTY_SECTION_QUESTION,
    MISQUOTE,
    QUESTION,
    App,
    Essay,
    assert_clean,
    button_data,
    capture_logs,
    exchange,
    footnote,
    settle,
    the_reply,
)

USER = 4242
ALICE = 501
BOB = 502
GROUP = -100777
PUBLIC = "https://reader.example.org"


@pytest.fixture
def bot_chats() -> list[tuple[int, str, str | None]]:
    return [(GROUP, "group", "Readers")]


@pytest_asyncio.fixture
async def linked(
    fake_botapi: FakeBotApi,
    essay: Essay,
    caplog: pytest.LogCaptureFixture,
    bot_chats: list[tuple[int, str, str | None]],
) -> AsyncIterator[App]:
    """The bot with the web reader's public URL set."""
    capture_logs(caplog)
    for chat_id, kind, title in bot_chats:
        fake_botapi.register_chat(chat_id, kind, title=title)
    async with footnote(fake_botapi, essay, public_url=PUBLIC) as application:
        yield application
    assert_clean(fake_botapi, caplog)


def _links(markup: dict[str, Any] | None) -> list[dict[str, Any]]:
    rows = (markup or {}).get("inline_keyboard", [])
    return [b for row in rows for b in row if "url" in b or "web_app" in b]


def _passage_id(sent: SentMessage) -> str:
    """The passage a reply shows, from its "¶ Full paragraph" button (p:<id>)."""
    return button_data(sent)["¶ Full paragraph"].removeprefix("p:")


async def test_private_answers_open_their_passage_as_a_mini_app(
    fake_botapi: FakeBotApi, linked: App
) -> None:
    reply = the_reply(
        await exchange(fake_botapi, linked, fake_botapi.private_message(USER, QUESTION)), USER
    )
    [link] = _links(reply.reply_markup)
    assert link == {
        "text": READ_IN_CONTEXT,
        "web_app": {"url": f"{PUBLIC}/p/{_passage_id(reply)}"},
    }
    # A press (next result, full paragraph) keeps the link, for the passage it now shows.
    fake_botapi.push_update(
        fake_botapi.callback_query(
            USER, reply.message_id, button_data(reply)["¶ Full paragraph"], USER
        )
    )
    await settle(fake_botapi, linked)
    edited = fake_botapi.message(USER, reply.message_id)
    assert edited is not None
    assert _links(edited.get("reply_markup"))[0]["web_app"]["url"].startswith(f"{PUBLIC}/p/")


async def test_group_answers_link_with_a_plain_url(fake_botapi: FakeBotApi, linked: App) -> None:
    ask = fake_botapi.group_message(GROUP, f"/ask@{BOT_USERNAME} {QUESTION}", ALICE)
    reply = the_reply(await exchange(fake_botapi, linked, ask), GROUP)
    [link] = _links(reply.reply_markup)
    assert link == {"text": READ_IN_CONTEXT, "url": f"{PUBLIC}/p/{_passage_id(reply)}"}


async def test_inline_cards_link_with_a_plain_url(fake_botapi: FakeBotApi, linked: App) -> None:
    fake_botapi.push_update(fake_botapi.inline_query(USER, QUESTION))
    await settle(fake_botapi, linked)
    [answer] = fake_botapi.inline_answers
    results = answer["results"]
    assert results
    for result in results:
        [link] = _links(result["reply_markup"])
        assert link["url"] == f"{PUBLIC}/p/{result['id'].split('-', 1)[1]}"


async def test_without_a_public_url_nothing_links(fake_botapi: FakeBotApi, app: App) -> None:
    reply = the_reply(
        await exchange(fake_botapi, app, fake_botapi.private_message(USER, QUESTION)), USER
    )
    assert _links(reply.reply_markup) == []


async def test_an_edited_question_edits_its_answer(fake_botapi: FakeBotApi, app: App) -> None:
    assert "edited_message" in ALLOWED_UPDATES
    question = fake_botapi.private_message(USER, "hello")
    first = the_reply(await exchange(fake_botapi, app, question), USER)
    assert "isn't in the essay" in first.text
    edit = fake_botapi.edited_message(USER, question["message"]["message_id"], QUESTION)
    assert await exchange(fake_botapi, app, edit) == []  # no second answer...
    answer = fake_botapi.message(USER, first.message_id)
    assert answer is not None and "double suspension" in answer["text"]  # ...the first, edited
    assert button_data(answer)  # with the buttons of the new answer
    # The same wording again changes nothing (and is no error).
    again = fake_botapi.edited_message(USER, question["message"]["message_id"], QUESTION)
    assert await exchange(fake_botapi, app, again) == []


async def test_edited_commands_and_group_questions_edit_their_answers(
    fake_botapi: FakeBotApi, app: App
) -> None:
    ask = fake_botapi.group_message(GROUP, f"/ask@{BOT_USERNAME} hello", ALICE)
    first = the_reply(await exchange(fake_botapi, app, ask), GROUP)
    edit = fake_botapi.edited_message(
        GROUP, ask["message"]["message_id"], f"/ask@{BOT_USERNAME} {QUESTION}"
    )
    assert await exchange(fake_botapi, app, edit) == []
    answer = fake_botapi.message(GROUP, first.message_id)
    assert answer is not None and "double suspension" in answer["text"]
    # Chatter that was never answered stays unanswered when edited.
    chatter = fake_botapi.group_message(GROUP, "nice weather", BOB)
    assert await exchange(fake_botapi, app, chatter) == []
    edited = fake_botapi.edited_message(GROUP, chatter["message"]["message_id"], QUESTION)
    assert await exchange(fake_botapi, app, edited) == []
    assert fake_botapi.calls_of("editMessageText")[-1].params["message_id"] == first.message_id


def test_answers_are_remembered_within_bounded_memory() -> None:
    state = BotState()
    for number in range(ANSWER_MEMORY + 10):
        state.remember_answer(USER, number, number + 1)
    assert len(state.answers) == ANSWER_MEMORY
    assert (USER, 0) not in state.answers
    assert state.answers[(USER, ANSWER_MEMORY + 9)][0] == ANSWER_MEMORY + 10


async def test_ask_by_reply_checks_a_members_claim(fake_botapi: FakeBotApi, app: App) -> None:
    claim = fake_botapi.group_message(GROUP, MISQUOTE, BOB)
    assert await exchange(fake_botapi, app, claim) == []
    ask = fake_botapi.group_message(
        GROUP, f"/ask@{BOT_USERNAME}", ALICE, reply_to_message=claim["message"]["message_id"]
    )
    reply = the_reply(await exchange(fake_botapi, app, ask), GROUP)
    assert "nobody knows how to" in reply.text
    assert reply.reply_to_message_id == ask["message"]["message_id"]
    usage = fake_botapi.group_message(GROUP, f"/ask@{BOT_USERNAME}", ALICE)
    assert "Usage: /ask" in the_reply(await exchange(fake_botapi, app, usage), GROUP).text


async def test_an_empty_section_leads_back_to_the_contents(
    fake_botapi: FakeBotApi, app: App
) -> None:
    question = fake_botapi.private_message(USER, EMPTY_SECTION_QUESTION)
    reply = the_reply(await exchange(fake_botapi, app, question), USER)
    assert button_data(reply)[CONTENTS] == "c"
    # The section view of that empty section has the button too; pressing it shows the contents.
    section = encode_section(ESSAY_ID, 2)
    fake_botapi.push_update(fake_botapi.callback_query(USER, reply.message_id, section, USER))
    await settle(fake_botapi, app)
    shown = fake_botapi.message(USER, reply.message_id)
    assert shown is not None and "no text in this copy" in shown["text"]
    assert button_data(shown) == {CONTENTS: "c"}
    fake_botapi.push_update(fake_botapi.callback_query(USER, reply.message_id, "c", USER))
    await settle(fake_botapi, app)
    contents = fake_botapi.message(USER, reply.message_id)
    assert contents is not None and "Cooperation Spiral Solution" in contents["text"]
    assert "China’s Dual Track Solution" in contents["text"]


async def test_private_chats_are_paced_to_one_message_a_second() -> None:
    limiter = ResilientRateLimiter()
    sent: list[tuple[int, float]] = []

    async def call(chat_id: int) -> bool:
        sent.append((chat_id, time.monotonic()))
        return True

    start = time.monotonic()
    await asyncio.gather(
        *(
            limiter.process_request(call, (chat,), {}, "sendMessage", {"chat_id": chat}, None)
            for chat in (USER, USER, USER, ALICE, BOB)
        )
    )
    mine = [moment for chat, moment in sent if chat == USER]
    others = [moment - start for chat, moment in sent if chat != USER]
    assert len(mine) == 3
    assert all(b - a >= 1.0 for a, b in itertools.pairwise(mine))
    assert max(others) < 0.5  # other chats do not wait for this one


@pytest.mark.parametrize("suffix", ["", "/", "/bot", "/bot/"])
async def test_the_api_base_url_may_be_a_root_or_the_bot_form(
    fake_botapi: FakeBotApi, essay: Essay, suffix: str
) -> None:
    root = fake_botapi.base_url.removesuffix("/bot")
    async with footnote(fake_botapi, essay, telegram_base_url=root + suffix) as application:
        reply = the_reply(
            await exchange(fake_botapi, application, fake_botapi.private_message(USER, QUESTION)),
            USER,
        )
        assert "double suspension" in reply.text
        assert bot_state(application).reader_url is None
    assert fake_botapi.violations == []
