"""What the fake Telegram remembers: users, chats, messages and open queries."""

from __future__ import annotations

import copy
import itertools
import time
from typing import Any

__all__ = ["BotState", "as_reply", "now"]

# Chat ids below this are supergroups/channels ("-100..." prefix), like real Telegram.
_SUPERGROUP_ID_BOUND = -1_000_000_000_000


def now() -> int:
    return int(time.time())


class BotState:
    def __init__(self, bot_user: dict[str, Any]) -> None:
        self.bot_user = bot_user
        self.users: dict[int, dict[str, Any]] = {}
        self.chats: dict[int, dict[str, Any]] = {}
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}
        self._last_message_id: dict[int, int] = {}
        # query id -> answered?
        self.callback_queries: dict[str, bool] = {}
        self.inline_queries: dict[str, bool] = {}
        self._query_ids = itertools.count(4_000_000_000_000_000_001)
        # (scope JSON, language_code) -> list of BotCommand dicts
        self.command_sets: dict[tuple[str, str], list[dict[str, Any]]] = {}
        self.menu_buttons: dict[int | None, dict[str, Any]] = {}
        self.webhook_url = ""
        # file_id -> (file_path, content), served under base_file_url
        self.files: dict[str, tuple[str, bytes]] = {}

    @property
    def bot_sender(self) -> dict[str, Any]:
        """The bot as it appears in Message.from (no getMe-only capability flags)."""
        keys = ("id", "is_bot", "first_name", "username")
        return {k: self.bot_user[k] for k in keys if k in self.bot_user}

    def register_user(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        username: str | None = None,
        last_name: str | None = None,
        language_code: str | None = "en",
        is_bot: bool = False,
    ) -> dict[str, Any]:
        user: dict[str, Any] = {
            "id": user_id,
            "is_bot": is_bot,
            "first_name": first_name or f"User{user_id}",
        }
        if last_name:
            user["last_name"] = last_name
        user["username"] = username or f"user{user_id}"
        if language_code:
            user["language_code"] = language_code
        self.users[user_id] = user
        return user

    def user(self, user_id: int) -> dict[str, Any]:
        return copy.deepcopy(self.users.get(user_id) or self.register_user(user_id))

    def register_chat(
        self,
        chat_id: int,
        chat_type: str | None = None,
        *,
        title: str | None = None,
        username: str | None = None,
    ) -> dict[str, Any]:
        """Make a chat known (the bot may then send to it).  Type defaults from the id sign."""
        if chat_type is None:
            if chat_id > 0:
                chat_type = "private"
            elif chat_id <= _SUPERGROUP_ID_BOUND:
                chat_type = "supergroup"
            else:
                chat_type = "group"
        chat: dict[str, Any] = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            user = self.user(chat_id)
            chat["first_name"] = user["first_name"]
            if "username" in user:
                chat["username"] = user["username"]
        else:
            chat["title"] = title or f"Test {chat_type} {chat_id}"
            if username:
                chat["username"] = username
        self.chats[chat_id] = chat
        return chat

    def chat(self, chat_id: int, chat_type: str | None = None) -> dict[str, Any]:
        existing = self.chats.get(chat_id)
        if existing is None or (chat_type is not None and existing["type"] != chat_type):
            existing = self.register_chat(chat_id, chat_type)
        return copy.deepcopy(existing)

    def find_chat(self, chat_ref: int | str) -> dict[str, Any] | None:
        if isinstance(chat_ref, str):
            name = chat_ref.removeprefix("@").lower()
            for chat in self.chats.values():
                if str(chat.get("username", "")).lower() == name:
                    return chat
            return None
        return self.chats.get(chat_ref)

    def next_message_id(self, chat_id: int) -> int:
        value = self._last_message_id.get(chat_id, 0) + 1
        self._last_message_id[chat_id] = value
        return value

    def store(self, message: dict[str, Any]) -> None:
        self.messages[(message["chat"]["id"], message["message_id"])] = copy.deepcopy(message)

    def message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        found = self.messages.get((chat_id, message_id))
        return copy.deepcopy(found) if found is not None else None

    def new_query_id(self) -> str:
        return str(next(self._query_ids))


def as_reply(message: dict[str, Any]) -> dict[str, Any]:
    """A message as it appears in reply_to_message: Telegram omits nested replies."""
    reply = copy.deepcopy(message)
    reply.pop("reply_to_message", None)
    return reply
