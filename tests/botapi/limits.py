"""Telegram limits that the spec only states in prose, as pure checks.

Each check raises ApiError carrying the HTTP status and the description the real
Bot API would send (where known; extra detail in parentheses is the fake's own).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

from .telegram_html import (
    CAPTION_LIMIT,
    MESSAGE_TEXT_LIMIT,
    ParsedText,
    TelegramHtmlError,
    parse_text,
    utf16_len,
)

__all__ = [
    "ApiError",
    "check_callback_answer",
    "check_chat_action",
    "check_commands",
    "check_inline_results",
    "check_reply_markup",
    "check_text",
]

CALLBACK_DATA_MAX_BYTES = 64
CALLBACK_ANSWER_MAX = 200
INLINE_RESULTS_MAX = 50
INLINE_RESULT_ID_MAX_BYTES = 64
INLINE_NEXT_OFFSET_MAX_BYTES = 64
INLINE_KEYBOARD_MAX_BUTTONS = 100
COMMANDS_MAX = 100
COMMAND_RE = re.compile(r"[a-z0-9_]{1,32}")
COMMAND_DESCRIPTION_MAX = 256
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
# Exactly one of these must be set on an inline keyboard button.
BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)


class ApiError(Exception):
    """An error answer: {"ok": false, "error_code": code, "description": description}."""

    def __init__(
        self,
        code: int,
        description: str,
        *,
        retry_after: int | None = None,
        injected: bool = False,
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after
        # Injected faults are test scenery, not bot misbehaviour: not recorded as violations.
        self.injected = injected

    def payload(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.retry_after is not None:
            body["parameters"] = {"retry_after": self.retry_after}
        return body


def bad_request(detail: str) -> ApiError:
    return ApiError(400, f"Bad Request: {detail}")


def check_text(
    text: str,
    parse_mode: str | None,
    *,
    entities: Sequence[Mapping[str, Any]] | None = None,
    caption: bool = False,
) -> ParsedText:
    """Parse ``text`` like Telegram and enforce 1-4096 (or 0-1024 for captions) UTF-16 units."""
    try:
        parsed = parse_text(text, None if entities else parse_mode)
    except TelegramHtmlError as exc:
        raise bad_request(str(exc)) from exc
    if entities:
        parsed = ParsedText(parsed.text, [dict(e) for e in entities])
    length = utf16_len(parsed.text)
    if caption:
        if length > CAPTION_LIMIT:
            raise bad_request(f"message caption is too long ({length} > {CAPTION_LIMIT})")
        return parsed
    if not parsed.text.strip():
        raise bad_request("message text is empty")
    if length > MESSAGE_TEXT_LIMIT:
        raise bad_request(
            f"message is too long ({length} UTF-16 units after entities parsing, "
            f"max {MESSAGE_TEXT_LIMIT})"
        )
    return parsed


def check_reply_markup(
    markup: Mapping[str, Any] | None, chat_type: str | None = None, inline: bool = False
) -> None:
    """Button text, exactly one action per inline button, callback_data 1-64 bytes, URLs
    http(s) or tg, web_app buttons (HTTPS) only in private chats, never in inline results."""
    if not markup:
        return
    rows = markup.get("inline_keyboard")
    if rows is None:
        for row in markup.get("keyboard", []):
            for button in row:
                text = button if isinstance(button, str) else button.get("text", "")
                if not text:
                    raise bad_request("keyboard button text must be non-empty")
        return
    count = 0
    for row in rows:
        for button in row:
            count += 1
            _check_inline_button(button, chat_type, inline)
    if count > INLINE_KEYBOARD_MAX_BUTTONS:
        raise bad_request(f"REPLY_MARKUP_TOO_LONG ({count} buttons)")


def _valid_button_url(url: str) -> bool:
    parsed = urlsplit(url)
    return parsed.scheme in ("http", "https", "tg") and bool(parsed.netloc or parsed.path)


def _check_inline_button(
    button: Mapping[str, Any], chat_type: str | None = None, inline: bool = False
) -> None:
    if not button.get("text"):
        raise bad_request("can't parse inline keyboard button: Text must be non-empty")
    actions = [name for name in BUTTON_ACTIONS if name in button]
    if len(actions) != 1:
        raise bad_request(
            "can't parse inline keyboard button: exactly one of the optional fields must be "
            f"used, got {actions or 'none'} (text-only buttons are unallowed)"
        )
    url = button.get("url")
    if url is not None and not _valid_button_url(str(url)):
        raise bad_request(f"BUTTON_URL_INVALID ({url!r})")
    web_app = button.get("web_app")
    if web_app is not None:
        if inline or (chat_type is not None and chat_type != "private"):
            raise bad_request("BUTTON_TYPE_INVALID (web_app buttons only work in private chats)")
        web_url = str(web_app.get("url", "")) if isinstance(web_app, Mapping) else ""
        if not web_url.startswith("https://") or not _valid_button_url(web_url):
            raise bad_request(f"BUTTON_URL_INVALID (a Web App URL must be HTTPS: {web_url!r})")
    data = button.get("callback_data")
    if data is not None:
        size = len(str(data).encode("utf-8"))
        if not 1 <= size <= CALLBACK_DATA_MAX_BYTES:
            raise bad_request(
                f"BUTTON_DATA_INVALID (callback_data is {size} bytes, "
                f"must be 1-{CALLBACK_DATA_MAX_BYTES})"
            )


def check_callback_answer(text: str | None) -> None:
    if text is not None and utf16_len(text) > CALLBACK_ANSWER_MAX:
        raise bad_request(
            f"MESSAGE_TOO_LONG (callback answer is {utf16_len(text)} characters, "
            f"max {CALLBACK_ANSWER_MAX})"
        )


def check_chat_action(action: str) -> None:
    if action not in CHAT_ACTIONS:
        raise bad_request("wrong parameter action in request")


def check_commands(commands: Sequence[Mapping[str, Any]]) -> None:
    if len(commands) > COMMANDS_MAX:
        raise bad_request(f"BOT_COMMANDS_TOO_MUCH ({len(commands)} > {COMMANDS_MAX})")
    seen: set[str] = set()
    for item in commands:
        command = str(item.get("command", ""))
        if not COMMAND_RE.fullmatch(command):
            raise bad_request(
                f"BOT_COMMAND_INVALID ({command!r}: 1-32 characters of a-z, 0-9 and _)"
            )
        if command in seen:
            raise bad_request(f"BOT_COMMAND_INVALID (duplicate command {command!r})")
        seen.add(command)
        description = str(item.get("description", ""))
        if not 1 <= utf16_len(description) <= COMMAND_DESCRIPTION_MAX:
            raise bad_request(
                f"BOT_COMMAND_DESCRIPTION_INVALID (description of {command!r} must be "
                f"1-{COMMAND_DESCRIPTION_MAX} characters)"
            )


def check_inline_results(
    results: Sequence[Mapping[str, Any]], next_offset: str | None = None
) -> None:
    """At most 50 results, unique 1-64 byte ids, valid message texts/captions and keyboards."""
    if len(results) > INLINE_RESULTS_MAX:
        raise bad_request(f"RESULTS_TOO_MUCH ({len(results)} > {INLINE_RESULTS_MAX})")
    if next_offset is not None and len(next_offset.encode()) > INLINE_NEXT_OFFSET_MAX_BYTES:
        raise bad_request("NEXT_OFFSET_INVALID (next_offset longer than 64 bytes)")
    seen: set[str] = set()
    for result in results:
        result_id = str(result.get("id", ""))
        if not 1 <= len(result_id.encode("utf-8")) <= INLINE_RESULT_ID_MAX_BYTES:
            raise bad_request(f"RESULT_ID_INVALID ({result_id!r} must be 1-64 bytes)")
        if result_id in seen:
            raise bad_request(f"RESULT_ID_DUPLICATE ({result_id!r})")
        seen.add(result_id)
        content = result.get("input_message_content")
        if isinstance(content, Mapping) and "message_text" in content:
            check_text(
                str(content["message_text"]),
                content.get("parse_mode"),
                entities=content.get("entities"),
            )
        if "caption" in result:
            check_text(
                str(result["caption"]),
                result.get("parse_mode"),
                entities=result.get("caption_entities"),
                caption=True,
            )
        check_reply_markup(result.get("reply_markup"), inline=True)
