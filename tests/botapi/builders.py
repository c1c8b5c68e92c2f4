"""Builders for realistic incoming updates (without update_id; push_update assigns it).

Builders register what they create (chats, users, messages, open queries) so that
later bot calls referring to them behave like on Telegram.  Mixed into FakeBotApi.
"""

from __future__ import annotations

import re
from typing import Any

from .state import BotState, as_reply, now
from .telegram_html import utf16_len

__all__ = ["UpdateBuilders", "auto_entities"]

_COMMAND_RE = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?")
_MENTION_RE = re.compile(r"(?<![\w@/])@[A-Za-z0-9_]{4,32}")


def auto_entities(text: str) -> list[dict[str, Any]]:
    """bot_command and mention entities the Telegram client/server would attach."""
    entities: list[dict[str, Any]] = []
    for kind, pattern in (("bot_command", _COMMAND_RE), ("mention", _MENTION_RE)):
        for match in pattern.finditer(text):
            entities.append(
                {
                    "type": kind,
                    "offset": utf16_len(text[: match.start()]),
                    "length": utf16_len(match.group(0)),
                }
            )
    entities.sort(key=lambda e: e["offset"])
    return entities


class UpdateBuilders:
    _state: BotState

    # -- helpers ------------------------------------------------------------------------

    def _message(
        self,
        chat: dict[str, Any],
        user_id: int,
        extra: dict[str, Any],
        **content: Any,
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": self._state.next_message_id(chat["id"]),
            "from": self._state.user(user_id),
            "chat": chat,
            "date": now(),
        }
        message.update(content)
        reply = extra.pop("reply_to_message", None)
        if reply is not None:
            message["reply_to_message"] = self._resolve_reply(chat["id"], reply)
        message.update(extra)
        self._state.store(message)
        return message

    def _resolve_reply(self, chat_id: int, reply: int | dict[str, Any]) -> dict[str, Any]:
        if isinstance(reply, dict):
            return as_reply(reply)
        found = self._state.message(chat_id, reply)
        if found is None:
            raise ValueError(f"reply_to_message: no message {reply} in chat {chat_id}")
        return as_reply(found)

    def _text_content(self, text: str, entities: list[dict[str, Any]] | None) -> dict[str, Any]:
        content: dict[str, Any] = {"text": text}
        found = auto_entities(text) if entities is None else entities
        if found:
            content["entities"] = found
        return content

    # -- messages -----------------------------------------------------------------------

    def private_message(
        self, chat_id: int, text: str, user_id: int | None = None, **extra: Any
    ) -> dict[str, Any]:
        """A user's text message in their private chat with the bot (chat_id = user id)."""
        user_id = chat_id if user_id is None else user_id
        chat = self._state.chat(chat_id, "private")
        entities = extra.pop("entities", None)
        return {
            "message": self._message(chat, user_id, extra, **self._text_content(text, entities))
        }

    def group_message(
        self,
        chat_id: int,
        text: str,
        user_id: int,
        reply_to_message: int | dict[str, Any] | None = None,
        entities: list[dict[str, Any]] | None = None,
        *,
        chat_type: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """A text message in a group (negative chat_id); reply_to_message is a message
        id in that chat or a Message dict.  Commands and @mentions get entities."""
        chat = self._state.chat(chat_id, chat_type)
        if reply_to_message is not None:
            extra["reply_to_message"] = reply_to_message
        return {
            "message": self._message(chat, user_id, extra, **self._text_content(text, entities))
        }

    def edited_message(
        self, chat_id: int, message_id: int, text: str, **extra: Any
    ) -> dict[str, Any]:
        """The user edited one of their earlier text messages."""
        original = self._state.message(chat_id, message_id)
        if original is None:
            raise ValueError(f"edited_message: no message {message_id} in chat {chat_id}")
        original.pop("entities", None)
        original.update(self._text_content(text, extra.pop("entities", None)))
        original["edit_date"] = max(now(), original["date"])
        original.update(extra)
        self._state.store(original)
        return {"edited_message": original}

    def sticker_message(
        self, chat_id: int, user_id: int | None = None, emoji: str = "👍", **extra: Any
    ) -> dict[str, Any]:
        """A non-text message (sticker)."""
        user_id = chat_id if user_id is None else user_id
        sticker = {
            "file_id": f"CAACAgIAAxkBAAE{chat_id & 0xFFFF:04x}",
            "file_unique_id": "AgADsticker",
            "type": "regular",
            "width": 512,
            "height": 512,
            "is_animated": False,
            "is_video": False,
            "emoji": emoji,
        }
        return {
            "message": self._message(self._state.chat(chat_id), user_id, extra, sticker=sticker)
        }

    def photo_message(
        self,
        chat_id: int,
        user_id: int | None = None,
        caption: str | None = None,
        **extra: Any,
    ) -> dict[str, Any]:
        """A non-text message (photo, optionally captioned)."""
        user_id = chat_id if user_id is None else user_id
        photo = [
            {
                "file_id": "AgACAgIAAxkBAAEphoto_s",
                "file_unique_id": "AQADs",
                "width": 90,
                "height": 60,
                "file_size": 1200,
            },
            {
                "file_id": "AgACAgIAAxkBAAEphoto_m",
                "file_unique_id": "AQADm",
                "width": 800,
                "height": 533,
                "file_size": 45000,
            },
        ]
        content: dict[str, Any] = {"photo": photo}
        if caption is not None:
            content["caption"] = caption
        return {"message": self._message(self._state.chat(chat_id), user_id, extra, **content)}

    # -- queries ------------------------------------------------------------------------

    def callback_query(
        self, chat_id: int, message_id: int, data: str, user_id: int, **extra: Any
    ) -> dict[str, Any]:
        """A press on an inline button of a message the bot sent (the message is included,
        in its current, possibly edited, state)."""
        message = self._state.message(chat_id, message_id)
        if message is None or message.get("from", {}).get("id") != self._state.bot_user["id"]:
            raise ValueError(f"callback_query: the bot sent no message {message_id} in {chat_id}")
        query_id = self._state.new_query_id()
        self._state.callback_queries[query_id] = False
        query: dict[str, Any] = {
            "id": query_id,
            "from": self._state.user(user_id),
            "message": message,
            "chat_instance": str(abs(chat_id) * 7919 % 10**18),
            "data": data,
        }
        query.update(extra)
        return {"callback_query": query}

    def inline_query(
        self,
        user_id: int,
        query: str,
        offset: str = "",
        chat_type: str | None = "sender",
        **extra: Any,
    ) -> dict[str, Any]:
        query_id = self._state.new_query_id()
        self._state.inline_queries[query_id] = False
        body: dict[str, Any] = {
            "id": query_id,
            "from": self._state.user(user_id),
            "query": query,
            "offset": offset,
        }
        if chat_type is not None:
            body["chat_type"] = chat_type
        body.update(extra)
        return {"inline_query": body}

    def chosen_inline_result(
        self,
        user_id: int,
        result_id: str,
        query: str,
        inline_message_id: str | None = None,
    ) -> dict[str, Any]:
        body: dict[str, Any] = {
            "result_id": result_id,
            "from": self._state.user(user_id),
            "query": query,
        }
        if inline_message_id is not None:
            body["inline_message_id"] = inline_message_id
        return {"chosen_inline_result": body}

    def my_chat_member(
        self,
        chat_id: int,
        user_id: int,
        old_status: str = "left",
        new_status: str = "member",
        *,
        chat_type: str | None = None,
    ) -> dict[str, Any]:
        """The bot was added to / removed from a chat by user_id (statuses: left, member,
        kicked)."""
        bot = self._state.bot_sender

        def member(status: str) -> dict[str, Any]:
            if status not in ("left", "member", "kicked"):
                raise ValueError(f"my_chat_member: unsupported status {status!r}")
            body: dict[str, Any] = {"status": status, "user": bot}
            if status == "kicked":
                body["until_date"] = 0
            return body

        return {
            "my_chat_member": {
                "chat": self._state.chat(chat_id, chat_type),
                "from": self._state.user(user_id),
                "date": now(),
                "old_chat_member": member(old_status),
                "new_chat_member": member(new_status),
            }
        }
