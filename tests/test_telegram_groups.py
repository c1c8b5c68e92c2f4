"""Footnote in group chats: silent unless addressed, answers threaded to the asker."""

from __future__ import annotations

import pytest

from bot.telegram.limits import RATE_LIMITED
from tests.botapi.server import FakeBotApi, SentMessage
from tests.helpers.footnote_bot import (
    BOT_USERNAME,
    DOCUMENT,
    DUAL_TRACK,
    MISQUOTE,
    QUESTION,
    App,
    Essay,
    assert_clean,
    capture_logs,
    exchange,
    footnote,
    the_reply,
)

GROUP = -100777
SUPERGROUP = -1001234567890
ALICE = 5001
BOB = 5002


@pytest.fixture
def bot_chats() -> list[tuple[int, str, str | None]]:
    return [(GROUP, "group", "Readers"), (SUPERGROUP, "supergroup", "Big readers")]


async def answered(
    server: FakeBotApi, app: App, text: str, user: int = ALICE, chat: int = GROUP, **kw: object
) -> tuple[SentMessage, int]:
    """A group message that gets exactly one answer, threaded to it."""
    update = server.group_message(chat, text, user, **kw)  # type: ignore[arg-type]
    reply = the_reply(await exchange(server, app, update), chat)
    asked = update["message"]["message_id"]
    assert reply.reply_to_message_id == asked, "answers in groups are threaded to the asker"
    return reply, asked


async def test_chatter_is_ignored(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    for text in (
        QUESTION,
        "I think the dual track proposal is naive",
        "@someone_else what is the double suspension?",
        "/ask@other_bot what is the double suspension?",
        "email me at footnote_test_bot@example.com",
    ):
        sent = await exchange(fake_botapi, app, fake_botapi.group_message(GROUP, text, ALICE))
        assert sent == [], text
    # A reply to another person is chatter too.
    first = fake_botapi.group_message(GROUP, "what is the double suspension?", ALICE)
    await exchange(fake_botapi, app, first)
    reply = fake_botapi.group_message(
        GROUP, "no idea", BOB, reply_to_message=first["message"]["message_id"]
    )
    assert await exchange(fake_botapi, app, reply) == []
    assert fake_botapi.sent_messages() == []
    assert_clean(fake_botapi, caplog)


@pytest.mark.parametrize("chat", [GROUP, SUPERGROUP])
async def test_ask_command_addressed_to_the_bot(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture, chat: int
) -> None:
    reply, _ = await answered(fake_botapi, app, f"/ask@{BOT_USERNAME} {QUESTION}", chat=chat)
    assert "double suspension" in reply.text
    assert f"{DOCUMENT} › {DUAL_TRACK} · ¶1" in reply.text
    assert reply.reply_markup
    plain, _ = await answered(fake_botapi, app, f"/ask {QUESTION}", chat=chat)
    assert plain.text == reply.text
    usage, _ = await answered(fake_botapi, app, f"/ask@{BOT_USERNAME}", chat=chat)
    assert usage.text.startswith("Usage: /ask")
    assert_clean(fake_botapi, caplog)


async def test_a_reply_to_the_bot_is_a_question(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    first, _ = await answered(fake_botapi, app, "/sections")
    follow_up, _ = await answered(
        fake_botapi, app, QUESTION, user=BOB, reply_to_message=first.message_id
    )
    assert "double suspension" in follow_up.text
    assert_clean(fake_botapi, caplog)


@pytest.mark.parametrize(
    "text",
    [
        f"@{BOT_USERNAME} {QUESTION}",
        f"{QUESTION} @{BOT_USERNAME}",
        f"@{BOT_USERNAME}, {QUESTION}",
        f"Hey @{BOT_USERNAME.upper()}: {QUESTION}",
    ],
)
async def test_a_mention_is_a_question(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture, text: str
) -> None:
    reply, _ = await answered(fake_botapi, app, text)
    assert "double suspension" in reply.text
    assert "<blockquote>" in reply.raw_text
    assert_clean(fake_botapi, caplog)


async def test_a_bare_mention_asks_for_a_question(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    reply, _ = await answered(fake_botapi, app, f"@{BOT_USERNAME}")
    assert reply.text == f"Ask me something after @{BOT_USERNAME}."
    assert_clean(fake_botapi, caplog)


async def test_cite_as_a_reply_finds_what_a_message_quotes(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    quoting = fake_botapi.group_message(GROUP, f"As the essay says, {MISQUOTE}.", BOB)
    assert await exchange(fake_botapi, app, quoting) == []
    reply, _ = await answered(
        fake_botapi, app, f"/cite@{BOT_USERNAME}", reply_to_message=quoting["message"]["message_id"]
    )
    assert "nobody knows how to “collapse” a regime" in reply.text
    assert f"{DOCUMENT} › opening · ¶3" in reply.text
    assert any(e["type"] == "bold" for e in reply.entities)
    assert_clean(fake_botapi, caplog)


async def test_cite_as_a_reply_to_a_paraphrase(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    paraphrase = fake_botapi.group_message(
        GROUP, "China wants Pyongyang to freeze missile tests while the US halts exercises", BOB
    )
    await exchange(fake_botapi, app, paraphrase)
    reply, _ = await answered(
        fake_botapi, app, "/cite", reply_to_message=paraphrase["message"]["message_id"]
    )
    assert "<blockquote>" in reply.raw_text
    assert DUAL_TRACK in reply.text
    assert_clean(fake_botapi, caplog)


async def test_cite_with_a_phrase_in_a_group(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    reply, _ = await answered(fake_botapi, app, f"/cite {MISQUOTE}")
    assert "nobody knows how to “collapse” a regime" in reply.text
    usage, _ = await answered(fake_botapi, app, "/cite")
    assert usage.text.startswith("Usage: /cite")
    assert_clean(fake_botapi, caplog)


async def test_stickers_and_photos_in_groups_get_nothing(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    assert await exchange(fake_botapi, app, fake_botapi.sticker_message(GROUP, ALICE)) == []
    photo = fake_botapi.photo_message(GROUP, ALICE, caption=f"@{BOT_USERNAME} look")
    assert await exchange(fake_botapi, app, photo) == []
    assert_clean(fake_botapi, caplog)


async def test_being_added_to_a_group_is_not_answered(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    bot = fake_botapi.bot_user
    joined = fake_botapi.group_message(GROUP, "", ALICE)["message"]
    joined.pop("text")
    joined.pop("entities", None)
    joined["new_chat_members"] = [{k: bot[k] for k in ("id", "is_bot", "first_name", "username")}]
    assert await exchange(fake_botapi, app, {"message": joined}) == []
    private = fake_botapi.private_message(ALICE, "")["message"]
    private.pop("text")
    private["pinned_message"] = {"message_id": 1, "date": 0, "chat": private["chat"]}
    assert await exchange(fake_botapi, app, {"message": private}) == []
    assert_clean(fake_botapi, caplog)


async def test_edits_in_groups_are_ignored(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    _, asked = await answered(fake_botapi, app, f"/ask {QUESTION}")
    edit = fake_botapi.edited_message(GROUP, asked, "/ask what is the dual track?")
    assert await exchange(fake_botapi, app, edit) == []
    assert_clean(fake_botapi, caplog)


async def test_group_commands_for_other_bots_are_ignored(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    for command in ("/help@other_bot", "/sections@other_bot", "/start@other_bot"):
        update = fake_botapi.group_message(GROUP, command, ALICE)
        assert await exchange(fake_botapi, app, update) == []
    reply, _ = await answered(fake_botapi, app, f"/help@{BOT_USERNAME}")
    assert "/ask <question>" in reply.text
    assert_clean(fake_botapi, caplog)


async def test_an_answer_still_arrives_if_the_question_was_deleted(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    update = fake_botapi.group_message(GROUP, f"/ask {QUESTION}", ALICE)
    asked = update["message"]["message_id"]
    # The asker deletes the message before the bot answers (the fake forgets it).
    del fake_botapi._state.messages[(GROUP, asked)]
    reply = the_reply(await exchange(fake_botapi, app, update), GROUP)
    assert "double suspension" in reply.text
    assert reply.reply_to_message_id is None
    parameters = fake_botapi.calls_of("sendMessage")[-1].params["reply_parameters"]
    assert parameters["message_id"] == asked
    assert parameters["allow_sending_without_reply"] is True
    assert_clean(fake_botapi, caplog)


async def test_the_rate_limit_counts_each_kind_of_question_and_nothing_else(
    fake_botapi: FakeBotApi, essay: Essay, caplog: pytest.LogCaptureFixture
) -> None:
    capture_logs(caplog)
    fake_botapi.register_chat(GROUP, "group", title="Readers")
    async with footnote(fake_botapi, essay, user_rate_limit=5) as app:
        quoting = fake_botapi.group_message(GROUP, f"As the essay says, {MISQUOTE}.", BOB)
        await exchange(fake_botapi, app, quoting)
        # Not questions, so not counted: usage notes, help, a bare mention...
        for text in ("/ask", "/cite", "/help", f"@{BOT_USERNAME}"):
            await answered(fake_botapi, app, text)
        # ...chatter, and a question for another bot.
        for text in (QUESTION, f"/ask@other_bot {QUESTION}"):
            update = fake_botapi.group_message(GROUP, text, ALICE)
            assert await exchange(fake_botapi, app, update) == []
        # The contents walk the index: counted like a question.
        contents, _ = await answered(fake_botapi, app, "/sections")
        assert "<blockquote>" not in contents.raw_text and contents.text != RATE_LIMITED
        # Four questions, asked four ways: all answered.
        asked = [
            await answered(fake_botapi, app, f"/ask {QUESTION}"),
            await answered(fake_botapi, app, f"/cite {MISQUOTE}"),
            await answered(
                fake_botapi, app, "/cite", reply_to_message=quoting["message"]["message_id"]
            ),
            await answered(fake_botapi, app, f"@{BOT_USERNAME} {QUESTION}"),
        ]
        assert all("<blockquote>" in reply.raw_text for reply, _ in asked)
        # The sixth, a reply to the bot, is over the limit: a notice, threaded to it.
        to_bot = asked[0][0].message_id
        over, _ = await answered(fake_botapi, app, QUESTION, reply_to_message=to_bot)
        assert over.text == RATE_LIMITED
        # The limit is per user.
        bob, _ = await answered(fake_botapi, app, f"/ask {QUESTION}", user=BOB)
        assert "<blockquote>" in bob.raw_text
        # Still no answer to chatter, nor a notice.
        chatter = fake_botapi.group_message(GROUP, "hm", ALICE)
        assert await exchange(fake_botapi, app, chatter) == []
    assert_clean(fake_botapi, caplog)
