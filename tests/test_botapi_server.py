"""Tests of the fake Telegram Bot API server (tests/botapi) itself."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio
from telegram import (
    Bot,
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InputTextMessageContent,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter
from telegram.ext import ContextTypes, MessageHandler, filters

from tests.botapi.fixtures import TEST_TOKEN, application_builder, polling
from tests.botapi.server import FakeBotApi
from tests.botapi.spec import (
    BotApiSpec,
    BotApiSpecNotFoundError,
    load_spec,
)
from tests.botapi.telegram_html import (
    TelegramHtmlError,
    parse_telegram_html,
    parse_telegram_html_entities,
    text_length_after_parsing,
    utf16_len,
)

USER = 424242
GROUP = -100555
KEYBOARD = InlineKeyboardMarkup([[InlineKeyboardButton("More", callback_data="more:1")]])


@pytest_asyncio.fixture
async def bot(fake_botapi: FakeBotApi) -> AsyncIterator[Bot]:
    fake_botapi.register_chat(USER)
    fake_botapi.register_chat(GROUP, "group", title="Readers")
    async with Bot(
        TEST_TOKEN, base_url=fake_botapi.base_url, base_file_url=fake_botapi.base_file_url
    ) as client:
        yield client


async def raw_post(server: FakeBotApi, method: str, **kwargs: Any) -> tuple[int, dict[str, Any]]:
    """POST without PTB, to control the exact encoding."""
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{server.base_url}{TEST_TOKEN}/{method}", **kwargs) as response,
    ):
        return response.status, await response.json()


# -- telegram_html ------------------------------------------------------------------------


def test_html_valid_nesting_and_entities() -> None:
    parsed = parse_telegram_html_entities(
        'Hi <b>bold <i>both</i></b> <a href="https://e.x/?a=1&amp;b=2">link</a> 😀<u>u</u>'
    )
    assert parsed.text == "Hi bold both link 😀u"
    kinds = {(e["type"], e["offset"], e["length"]) for e in parsed.entities}
    assert ("bold", 3, 9) in kinds
    assert ("italic", 8, 4) in kinds
    assert ("underline", 20, 1) in kinds  # the emoji counts 2 UTF-16 units
    link = next(e for e in parsed.entities if e["type"] == "text_link")
    assert link["url"] == "https://e.x/?a=1&b=2"


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("<b><i>x</b></i>", "Unmatched end tag"),
        ("<b>x", "Can't find end tag"),
        ("x</b>", "Unexpected end tag"),
        ("<div>x</div>", 'Unsupported start tag "div"'),
        ("fish & chips", "'&'"),
        ("1 < 2", "'<'"),
        ("&nbsp;", "Unsupported HTML entity"),
        ('<span class="x">s</span>', "tg-spoiler"),
        ("<code><b>x</b></code>", "can't be nested"),
        ("<blockquote><blockquote>q</blockquote></blockquote>", "can't be nested"),
        ("<b", "Unclosed start tag"),
    ],
)
def test_html_invalid(source: str, message: str) -> None:
    with pytest.raises(TelegramHtmlError, match="can't parse entities") as caught:
        parse_telegram_html(source)
    assert message in str(caught.value)


def test_html_error_offsets_are_utf8_bytes() -> None:
    with pytest.raises(TelegramHtmlError, match="byte offset 3"):
        parse_telegram_html("é <x>")


def test_html_entities_and_special_tags() -> None:
    assert (
        parse_telegram_html("a &amp; b &lt;c&gt; &quot;q&quot; &#65;&#x42; >")
        == 'a & b <c> "q" AB >'
    )
    parsed = parse_telegram_html_entities(
        "<blockquote expandable>long</blockquote><tg-spoiler>s</tg-spoiler>"
        '<span class="tg-spoiler">t</span><pre><code class="language-python">x = 1</code></pre>'
        '<tg-emoji emoji-id="5368324170671202286">👍</tg-emoji>'
    )
    assert parsed.text == "longstx = 1👍"
    types = [e["type"] for e in parsed.entities]
    assert types == ["expandable_blockquote", "spoiler", "spoiler", "pre", "custom_emoji"]
    assert parsed.entities[3]["language"] == "python"


def test_utf16_counting() -> None:
    assert utf16_len("abc") == 3
    assert utf16_len("é") == 1
    assert utf16_len("😀") == 2
    assert text_length_after_parsing("<b>😀</b> &amp;") == 4
    assert text_length_after_parsing("<b>x</b>", None) == 8


# -- spec ------------------------------------------------------------------------------------


def test_spec_missing_file_is_reported_clearly(tmp_path: Path) -> None:
    with pytest.raises(BotApiSpecNotFoundError, match=r"\.\./shared is absent"):
        load_spec(tmp_path / "api.json")


def test_spec_validates_objects_unions_and_subtypes(botapi_spec: BotApiSpec) -> None:
    message = {"message_id": 1, "date": 1, "text": "hi"}  # chat missing
    errors = botapi_spec.validate_type(message, "Message")
    assert any("missing required field 'chat'" in e for e in errors)
    article = {
        "type": "article",
        "id": "1",
        "title": "t",
        "input_message_content": {"message_text": "x"},
    }
    assert botapi_spec.validate_type(article, "InlineQueryResult") == []
    assert botapi_spec.validate_type({**article, "type": "bogus"}, "InlineQueryResult")
    assert botapi_spec.validate_type({**article, "colour": 1}, "InlineQueryResult")
    assert botapi_spec.validate([5], ["Integer", "String"], "chat_id")
    assert botapi_spec.validate("@chan", ["Integer", "String"], "chat_id") == []


def test_spec_form_decoding(botapi_spec: BotApiSpec) -> None:
    method = botapi_spec.methods["sendMessage"]
    markup = json.dumps({"inline_keyboard": [[{"text": "a", "callback_data": "b"}]]})
    params, errors = botapi_spec.decode_params(
        method,
        {"chat_id": "-100", "text": "123", "disable_notification": "true", "reply_markup": markup},
        form=True,
    )
    assert errors == []
    assert params["chat_id"] == -100
    assert params["text"] == "123"
    assert params["disable_notification"] is True
    assert params["reply_markup"]["inline_keyboard"][0][0]["text"] == "a"
    _, errors = botapi_spec.decode_params(
        method, {"chat_id": "1", "text": "x", "disable_notification": "maybe"}, form=True
    )
    assert errors and "disable_notification" in errors[0]
    _, errors = botapi_spec.decode_params(method, {"chat_id": "1"}, form=True)
    assert errors == ["parameter 'text' is required"]


# -- PTB Bot against the server -------------------------------------------------------------


async def test_get_me(bot: Bot, fake_botapi: FakeBotApi) -> None:
    me = await bot.get_me()
    assert me.is_bot and me.username == "footnote_test_bot"
    assert me.supports_inline_queries and me.can_join_groups
    assert fake_botapi.violations == []


async def test_send_valid_html(bot: Bot, fake_botapi: FakeBotApi) -> None:
    sent = await bot.send_message(
        USER, "<b>Quote</b> &amp; more", parse_mode=ParseMode.HTML, reply_markup=KEYBOARD
    )
    assert sent.text == "Quote & more"
    assert sent.entities[0].type == "bold"
    assert sent.chat.type == "private"
    assert sent.reply_markup == KEYBOARD
    [record] = fake_botapi.sent_messages(USER)
    assert record.raw_text == "<b>Quote</b> &amp; more"
    assert record.text == "Quote & more"
    assert fake_botapi.violations == []


@pytest.mark.parametrize(
    ("text", "parse_mode", "error"),
    [
        ("<b>x", ParseMode.HTML, "can't parse entities"),
        ("x" * 4097, None, "message is too long"),
        ("😀" * 2049, None, "message is too long"),
        ("<b>" + "x" * 4097 + "</b>", ParseMode.HTML, "message is too long"),
        (" \n ", None, "message text is empty"),
    ],
)
async def test_send_rejects_bad_text(
    bot: Bot, fake_botapi: FakeBotApi, text: str, parse_mode: str | None, error: str
) -> None:
    with pytest.raises(BadRequest, match=r"(?i)" + error):
        await bot.send_message(USER, text, parse_mode=parse_mode)
    assert len(fake_botapi.violations) == 1


async def test_send_limits_inclusive(bot: Bot, fake_botapi: FakeBotApi) -> None:
    await bot.send_message(USER, "x" * 4096)
    await bot.send_message(USER, "😀" * 2048)
    await bot.send_message(USER, "<i>" + "x" * 4096 + "</i>", parse_mode=ParseMode.HTML)
    await bot.send_message(
        USER,
        "ok",
        reply_markup=InlineKeyboardMarkup([[InlineKeyboardButton("b", callback_data="é" * 32)]]),
    )
    assert fake_botapi.violations == []


async def test_rejects_bad_requests(bot: Bot, fake_botapi: FakeBotApi) -> None:
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("b", callback_data="x" * 65)]])
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(USER, "hi", reply_markup=too_long)
    with pytest.raises(BadRequest, match=r"(?i)unknown parameter 'colour'"):
        await bot.send_message(USER, "hi", api_kwargs={"colour": "red"})
    with pytest.raises(BadRequest, match=r"(?i)message_thread_id: expected Integer"):
        await bot.send_message(USER, "hi", message_thread_id="abc")  # type: ignore[arg-type]
    with pytest.raises(BadRequest, match=r"(?i)reply_markup.*inline_keyboard\[0\]\[0\]"):
        await bot.send_message(
            USER, "hi", api_kwargs={"reply_markup": {"inline_keyboard": [[{"txt": "a"}]]}}
        )
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(-1_999, "hi")
    with pytest.raises(Forbidden, match="can't initiate conversation"):
        await bot.send_message(999_999, "hi")
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await bot.send_message(USER, "hi", reply_parameters=ReplyParameters(12345))
    assert len(fake_botapi.violations) == 7


async def test_wrong_token_and_unknown_method(fake_botapi: FakeBotApi) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("1:wrong", base_url=fake_botapi.base_url):
            pass
    status, body = await raw_post(fake_botapi, "sendPigeon", data={"a": "b"})
    assert status == 404
    assert body == {"ok": False, "error_code": 404, "description": "Not Found"}
    assert len(fake_botapi.violations) == 2


async def test_json_and_form_bodies(fake_botapi: FakeBotApi) -> None:
    fake_botapi.register_chat(USER)
    markup = {"inline_keyboard": [[{"text": "a", "callback_data": "b"}]]}
    status, body = await raw_post(
        fake_botapi, "sendMessage", json={"chat_id": USER, "text": "json", "reply_markup": markup}
    )
    assert status == 200 and body["result"]["reply_markup"] == markup
    status, body = await raw_post(
        fake_botapi,
        "sendmessage",  # method names are case-insensitive on Telegram
        data={"chat_id": str(USER), "text": "form", "reply_markup": json.dumps(markup)},
    )
    assert status == 200 and body["result"]["message_id"] == 2
    status, body = await raw_post(
        fake_botapi, "sendMessage", json={"chat_id": USER, "text": "x", "protect_content": "yes"}
    )
    assert status == 400 and body["description"].startswith("Bad Request: sendMessage:")
    assert body["ok"] is False and body["error_code"] == 400


async def test_edits(bot: Bot, fake_botapi: FakeBotApi) -> None:
    sent = await bot.send_message(USER, "<b>v1</b>", parse_mode="HTML", reply_markup=KEYBOARD)
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text(
            "<b>v1</b>", USER, sent.message_id, parse_mode="HTML", reply_markup=KEYBOARD
        )
    edited = await bot.edit_message_text("<b>v2</b>", USER, sent.message_id, parse_mode="HTML")
    assert isinstance(edited, Message)
    assert edited.message_id == sent.message_id and edited.text == "v2"
    stored = fake_botapi.message(USER, sent.message_id)
    assert stored is not None and stored["text"] == "v2"
    stored = fake_botapi.message(USER, sent.message_id) or {}
    assert stored["text"] == "v2" and "reply_markup" not in stored  # no markup = removed
    await bot.edit_message_reply_markup(USER, sent.message_id, reply_markup=KEYBOARD)
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("x", USER, 999)
    assert len(fake_botapi.edits) == 2
    assert await bot.delete_message(USER, sent.message_id)
    with pytest.raises(BadRequest, match=r"(?i)message to delete not found"):
        await bot.delete_message(USER, sent.message_id)
    assert [v.split(":")[0] for v in fake_botapi.violations] == [
        "editMessageText",
        "editMessageText",
        "deleteMessage",
    ]


async def test_queries(bot: Bot, fake_botapi: FakeBotApi) -> None:
    sent = await bot.send_message(USER, "pick", reply_markup=KEYBOARD)
    update = fake_botapi.callback_query(USER, sent.message_id, "more:1", USER)
    query_id = update["callback_query"]["id"]
    fake_botapi.push_update(update)
    with pytest.raises(BadRequest, match=r"(?i)MESSAGE_TOO_LONG"):
        await bot.answer_callback_query(query_id, text="x" * 201)
    assert await bot.answer_callback_query(query_id, text="ok")
    with pytest.raises(BadRequest, match=r"(?i)query is too old"):
        await bot.answer_callback_query(query_id)
    assert fake_botapi.callback_answers == [{"callback_query_id": query_id, "text": "ok"}]

    inline_id = fake_botapi.inline_query(USER, "essay")["inline_query"]["id"]

    def article(result_id: str, text: str = "<b>quote</b>") -> InlineQueryResultArticle:
        return InlineQueryResultArticle(
            result_id, "Title", InputTextMessageContent(text, parse_mode="HTML")
        )

    with pytest.raises(BadRequest, match=r"(?i)RESULTS_TOO_MUCH"):
        await bot.answer_inline_query(inline_id, [article(str(i)) for i in range(51)])
    with pytest.raises(BadRequest, match=r"(?i)RESULT_ID_DUPLICATE"):
        await bot.answer_inline_query(inline_id, [article("a"), article("a")])
    with pytest.raises(BadRequest, match=r"(?i)RESULT_ID_INVALID"):
        await bot.answer_inline_query(inline_id, [article("x" * 65)])
    with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
        await bot.answer_inline_query(inline_id, [article("a", "<i>x")])
    assert await bot.answer_inline_query(inline_id, [article(str(i)) for i in range(50)])
    assert len(fake_botapi.inline_answers[0]["results"]) == 50
    assert len(fake_botapi.violations) == 6


async def test_commands_and_misc_methods(bot: Bot, fake_botapi: FakeBotApi) -> None:
    commands = [BotCommand("ask", "Ask about the essay"), BotCommand("help", "How to use")]
    assert await bot.set_my_commands(commands)
    assert await bot.get_my_commands() == tuple(commands)
    assert fake_botapi.commands == [c.to_dict() for c in commands]
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Ask", "x")])
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMANDS_TOO_MUCH"):
        await bot.set_my_commands([BotCommand(f"c{i}", "d") for i in range(101)])
    with pytest.raises(BadRequest, match=r"(?i)DESCRIPTION_INVALID"):
        await bot.set_my_commands([BotCommand("ask", "d" * 257)])
    assert await bot.delete_my_commands()
    assert await bot.send_chat_action(GROUP, "typing")
    assert await bot.set_chat_menu_button()
    chat = await bot.get_chat(GROUP)
    assert chat.type == "group" and chat.title == "Readers"
    assert await bot.delete_webhook(drop_pending_updates=True)
    assert (await bot.get_webhook_info()).url == ""
    assert await bot.set_my_description("Quotes essays")  # generic Boolean method
    assert await bot.log_out()
    assert len(fake_botapi.violations) == 3
    with pytest.raises(BadRequest, match=r"(?i)not supported by the fake"):
        await bot.send_dice(USER)


async def test_response_validation_catches_broken_results(
    bot: Bot, fake_botapi: FakeBotApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken_get_chat(params: dict[str, Any]) -> dict[str, Any]:
        return {"id": GROUP, "title": "no type"}

    monkeypatch.setitem(fake_botapi._handlers, "getChat", broken_get_chat)
    status, _ = await raw_post(fake_botapi, "getChat", data={"chat_id": str(GROUP)})
    assert status == 200
    assert any(v.startswith("response: getChat:") and "'type'" in v for v in fake_botapi.violations)


# -- updates and long polling ---------------------------------------------------------------


async def test_push_update_validation(fake_botapi: FakeBotApi, botapi_spec: BotApiSpec) -> None:
    with pytest.raises(ValueError, match="invalid update"):
        fake_botapi.push_update({"message": {"message_id": 1, "text": "no chat or date"}})
    fake_botapi.push_raw_update({"message": {"message_id": 1, "text": "malformed"}})
    update = fake_botapi.group_message(GROUP, "/ask@footnote_test_bot what is it?", USER)
    entities = update["message"]["entities"]
    assert entities == [{"type": "bot_command", "offset": 0, "length": 22}]
    mention = fake_botapi.group_message(GROUP, "hey @footnote_test_bot", USER)
    assert mention["message"]["entities"][0] == {"type": "mention", "offset": 4, "length": 18}
    for built in (
        update,
        fake_botapi.private_message(USER, "hello"),
        fake_botapi.edited_message(USER, 1, "hello again"),
        fake_botapi.group_message(GROUP, "a reply", USER, reply_to_message=1),
        fake_botapi.sticker_message(USER),
        fake_botapi.photo_message(GROUP, USER, caption="pic"),
        fake_botapi.inline_query(USER, "q"),
        fake_botapi.chosen_inline_result(USER, "r1", "q"),
        fake_botapi.my_chat_member(GROUP, USER),
    ):
        fake_botapi.push_update(built)
    status, body = await raw_post(fake_botapi, "getUpdates", data={"timeout": "0"})
    assert status == 200 and len(body["result"]) == 10
    assert fake_botapi.violations == []  # the raw update is exempt from response checks


async def test_get_updates_long_polling(fake_botapi: FakeBotApi) -> None:
    start = time.monotonic()
    _, body = await raw_post(fake_botapi, "getUpdates", data={"timeout": "1"})
    assert body["result"] == [] and time.monotonic() - start >= 0.9

    async def push_later() -> None:
        await asyncio.sleep(0.2)
        fake_botapi.push_update(fake_botapi.private_message(USER, "late"))

    task = asyncio.create_task(push_later())
    start = time.monotonic()
    _, body = await raw_post(fake_botapi, "getUpdates", data={"timeout": "5"})
    await task
    assert time.monotonic() - start < 2
    [update] = body["result"]
    fake_botapi.push_update(fake_botapi.private_message(USER, "second"))
    _, body = await raw_post(
        fake_botapi, "getUpdates", data={"offset": str(update["update_id"] + 1), "limit": "5"}
    )
    assert [u["message"]["text"] for u in body["result"]] == ["second"]
    assert len(fake_botapi.pending_updates) == 1


async def test_application_long_polling_round_trip(fake_botapi: FakeBotApi) -> None:
    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text(
            f"<i>{update.effective_message.text}</i>", parse_mode="HTML"
        )

    application = application_builder(fake_botapi).build()
    application.add_handler(MessageHandler(filters.TEXT, echo))
    async with polling(application):
        fake_botapi.push_update(fake_botapi.private_message(USER, "ping"))
        fake_botapi.push_update(fake_botapi.group_message(GROUP, "pong", USER))
        await fake_botapi.wait_for(lambda s: len(s.sent_messages()) == 2, timeout=5)
    [reply] = fake_botapi.sent_messages(USER)
    assert reply.text == "ping" and reply.entities[0]["type"] == "italic"
    assert reply.reply_to_message_id is None  # PTB quotes only outside private chats
    [group_reply] = fake_botapi.sent_messages(GROUP)
    assert group_reply.text == "pong" and group_reply.reply_to_message_id == 1
    assert fake_botapi.violations == []


# -- fault injection --------------------------------------------------------------------------


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_retry_after_and_500(bot: Bot, fake_botapi: FakeBotApi) -> None:
    fake_botapi.fail_next("sendMessage", 1, retry_after=3)
    with pytest.raises(RetryAfter, match="Retry in 3"):
        await bot.send_message(USER, "hi")
    assert fake_botapi.calls[-1].response == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }
    fake_botapi.answer_500("sendMessage")
    with pytest.raises(NetworkError):
        await bot.send_message(USER, "hi")
    await bot.send_message(USER, "hi")
    fake_botapi.delay("getMe", 0.3)
    start = time.monotonic()
    await bot.get_me()
    assert time.monotonic() - start >= 0.3
    assert fake_botapi.violations == []  # injected faults are not the bot's fault


async def test_go_down_and_back(bot: Bot, fake_botapi: FakeBotApi) -> None:
    port = fake_botapi.port
    await bot.get_me()  # leaves a keep-alive connection that must be dropped too
    await fake_botapi.go_down(0.5)
    with pytest.raises(NetworkError):
        await bot.get_me()
    await fake_botapi.wait_until_up(timeout=5)
    assert fake_botapi.port == port
    assert (await bot.get_me()).username == "footnote_test_bot"


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_flood_measurement_and_enforcement(
    bot: Bot, fake_botapi: FakeBotApi, botapi_spec: BotApiSpec
) -> None:
    for i in range(5):
        await bot.send_message(GROUP, f"m{i}")
    stats = fake_botapi.flood_stats()
    assert stats.max_per_second_overall == 5
    assert stats.max_per_minute_per_group == 5
    async with FakeBotApi(TEST_TOKEN, botapi_spec, enforce_flood_limits=True) as strict:
        strict.register_chat(GROUP, "group")
        async with Bot(TEST_TOKEN, base_url=strict.base_url) as strict_bot:
            for i in range(20):
                await strict_bot.send_message(GROUP, f"m{i}")
            with pytest.raises(RetryAfter):
                await strict_bot.send_message(GROUP, "one too many")
        assert strict.violations and "Too Many Requests" in strict.violations[0]
