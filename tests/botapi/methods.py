"""The Bot API methods the fake answers, as Telegram would; mixed into FakeBotApi.

Each handler takes the decoded, spec-checked parameters and returns the method's result or
raises ApiError with Telegram's own description.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import time
from collections.abc import Mapping
from typing import Any

from .faults import FloodTracker
from .limits import (
    ApiError,
    bad_request,
    check_callback_answer,
    check_chat_action,
    check_commands,
    check_inline_results,
    check_reply_markup,
    check_text,
)
from .state import BotState, as_reply, now

__all__ = ["Abort", "BotApiMethods", "scope_key"]

MAX_POLL_TIMEOUT = 60.0  # cap on getUpdates waits, so a stuck client can't hang a test
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"


class Abort(Exception):
    """Drop the connection without answering (server going down)."""


class BotApiMethods:
    """Handlers of the Bot API methods over the fake's state (chats, messages, queue)."""

    bot_user: dict[str, Any]
    enforce_flood_limits: bool
    _state: BotState
    _flood: FloodTracker
    _queue: list[dict[str, Any]]
    _allowed_updates: list[str]
    _update_event: asyncio.Event
    _down: bool

    def get_commands(
        self, scope: Mapping[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]]:
        return copy.deepcopy(self._state.command_sets.get(scope_key(scope, language_code), []))

    # -- chats and messages ---------------------------------------------------------------

    def _chat(self, chat_ref: int | str) -> dict[str, Any]:
        chat = self._state.find_chat(chat_ref)
        if chat is not None:
            return copy.deepcopy(chat)
        if isinstance(chat_ref, int) and chat_ref > 0:
            raise ApiError(403, "Forbidden: bot can't initiate conversation with a user")
        raise bad_request("chat not found")

    def _bot_message(self, params: Mapping[str, Any], action: str) -> dict[str, Any]:
        if "chat_id" not in params:
            raise bad_request("chat_id is empty")
        if "message_id" not in params:
            raise bad_request("message identifier is not specified")
        chat = self._chat(params["chat_id"])
        message = self._state.message(chat["id"], params["message_id"])
        if message is None:
            raise bad_request(f"message to {action} not found")
        if message.get("from", {}).get("id") != self.bot_user["id"]:
            raise bad_request(f"message can't be {action}ed")
        return message

    # -- method handlers ----------------------------------------------------------------

    async def _true(self, params: dict[str, Any]) -> bool:
        return True

    async def _get_me(self, params: dict[str, Any]) -> dict[str, Any]:
        return copy.deepcopy(self.bot_user)

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        if self._state.webhook_url:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        if "allowed_updates" in params:
            self._allowed_updates = list(params["allowed_updates"])
        offset = params.get("offset")
        if offset is not None:
            if offset < 0:
                self._queue = self._queue[offset:]
            else:
                self._queue = [u for u in self._queue if u["update_id"] >= offset]
        limit = min(max(int(params.get("limit", 100)), 1), 100)
        timeout = min(max(float(params.get("timeout", 0)), 0.0), MAX_POLL_TIMEOUT)
        deadline = time.monotonic() + timeout
        while True:
            if self._down:
                raise Abort
            event = self._update_event
            if self._queue:
                return copy.deepcopy(self._queue[:limit])
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return []
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(event.wait(), remaining)

    async def _delete_webhook(self, params: dict[str, Any]) -> bool:
        self._state.webhook_url = ""
        if params.get("drop_pending_updates"):
            self._queue.clear()
        return True

    async def _set_webhook(self, params: dict[str, Any]) -> bool:
        self._state.webhook_url = params["url"]
        if params.get("drop_pending_updates"):
            self._queue.clear()
        return True

    async def _get_webhook_info(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "url": self._state.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue),
        }

    async def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params["chat_id"])
        parsed = check_text(
            params["text"], params.get("parse_mode"), entities=params.get("entities")
        )
        markup = params.get("reply_markup")
        check_reply_markup(markup, chat["type"])
        reply_to = self._reply_target(chat["id"], params.get("reply_parameters"))
        self._count_flood(chat)
        message: dict[str, Any] = {
            "message_id": self._state.next_message_id(chat["id"]),
            "from": self._state.bot_sender,
            "chat": chat,
            "date": now(),
        }
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        message["text"] = parsed.text
        if parsed.entities:
            message["entities"] = parsed.entities
        if "link_preview_options" in params:
            message["link_preview_options"] = params["link_preview_options"]
        if markup and "inline_keyboard" in markup:
            message["reply_markup"] = markup  # Telegram echoes only inline keyboards
        self._state.store(message)
        return message

    def _reply_target(self, chat_id: int, reply: Mapping[str, Any] | None) -> dict[str, Any] | None:
        if not reply:
            return None
        target_chat = self._chat(reply["chat_id"])["id"] if "chat_id" in reply else chat_id
        found = self._state.message(target_chat, reply["message_id"])
        if found is None:
            if reply.get("allow_sending_without_reply"):
                return None
            raise bad_request("message to be replied not found")
        return as_reply(found)

    def _count_flood(self, chat: Mapping[str, Any]) -> None:
        is_group = chat["type"] in ("group", "supergroup")
        moment = time.monotonic()
        if self.enforce_flood_limits:
            wait = self._flood.retry_after(chat["id"], is_group, moment)
            if wait is not None:
                raise ApiError(429, f"Too Many Requests: retry after {wait}", retry_after=wait)
        self._flood.record(chat["id"], is_group, moment)

    async def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        if "text" not in params:
            raise bad_request("text is empty (rich_message edits are not supported by the fake)")
        parsed = check_text(
            params["text"], params.get("parse_mode"), entities=params.get("entities")
        )
        markup = params.get("reply_markup")
        message = self._edit_target(params, markup)
        if message is None:
            return True
        if "text" not in message:
            raise bad_request("there is no text in the message to edit")
        same_text = message["text"] == parsed.text
        same_entities = message.get("entities", []) == parsed.entities
        if same_text and same_entities and message.get("reply_markup") == markup:
            raise bad_request(NOT_MODIFIED)
        message["text"] = parsed.text
        message.pop("entities", None)
        if parsed.entities:
            message["entities"] = parsed.entities
        return self._store_edit(message, markup)

    async def _edit_message_reply_markup(self, params: dict[str, Any]) -> dict[str, Any] | bool:
        markup = params.get("reply_markup")
        message = self._edit_target(params, markup)
        if message is None:
            return True
        if message.get("reply_markup") == markup:
            raise bad_request(NOT_MODIFIED)
        return self._store_edit(message, markup)

    def _edit_target(self, params: Mapping[str, Any], markup: Any) -> dict[str, Any] | None:
        """The bot's message an edit changes, its new markup checked for that chat; None for
        an inline message (sent by a user through the bot: the fake keeps no copy)."""
        check_reply_markup(markup)
        if "inline_message_id" in params:
            return None
        message = self._bot_message(params, "edit")
        check_reply_markup(markup, message["chat"]["type"])
        return message

    def _store_edit(self, message: dict[str, Any], markup: Any) -> dict[str, Any]:
        # An edit without reply_markup removes the inline keyboard, as on Telegram.
        message.pop("reply_markup", None)
        if markup:
            message["reply_markup"] = markup
        message["edit_date"] = max(now(), message["date"])
        self._state.store(message)
        return message

    async def _delete_message(self, params: dict[str, Any]) -> bool:
        chat = self._chat(params["chat_id"])
        key = (chat["id"], params["message_id"])
        if key not in self._state.messages:
            raise bad_request("message to delete not found")
        del self._state.messages[key]
        return True

    async def _answer_callback_query(self, params: dict[str, Any]) -> bool:
        query_id = params["callback_query_id"]
        if self._state.callback_queries.get(query_id, True):
            raise bad_request(QUERY_TOO_OLD)
        check_callback_answer(params.get("text"))
        self._state.callback_queries[query_id] = True
        return True

    async def _answer_inline_query(self, params: dict[str, Any]) -> bool:
        query_id = params["inline_query_id"]
        if self._state.inline_queries.get(query_id, True):
            raise bad_request(QUERY_TOO_OLD)
        check_inline_results(params["results"], params.get("next_offset"))
        self._state.inline_queries[query_id] = True
        return True

    async def _set_my_commands(self, params: dict[str, Any]) -> bool:
        check_commands(params["commands"])
        key = scope_key(params.get("scope"), params.get("language_code", ""))
        self._state.command_sets[key] = copy.deepcopy(params["commands"])
        return True

    async def _get_my_commands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self.get_commands(params.get("scope"), params.get("language_code", ""))

    async def _delete_my_commands(self, params: dict[str, Any]) -> bool:
        key = scope_key(params.get("scope"), params.get("language_code", ""))
        self._state.command_sets.pop(key, None)
        return True

    async def _send_chat_action(self, params: dict[str, Any]) -> bool:
        self._chat(params["chat_id"])
        check_chat_action(params["action"])
        return True

    async def _set_chat_menu_button(self, params: dict[str, Any]) -> bool:
        chat_id = params.get("chat_id")
        if chat_id is not None:
            self._chat(chat_id)
        self._state.menu_buttons[chat_id] = params.get("menu_button", {"type": "default"})
        return True

    async def _get_chat_menu_button(self, params: dict[str, Any]) -> dict[str, Any]:
        buttons = self._state.menu_buttons
        chosen = buttons.get(params.get("chat_id"), buttons.get(None, {"type": "default"}))
        return copy.deepcopy(chosen)

    async def _get_chat(self, params: dict[str, Any]) -> dict[str, Any]:
        chat = self._chat(params["chat_id"])
        chat.update(
            {
                "accent_color_id": 0,
                "max_reaction_count": 11,
                "accepted_gift_types": {
                    "unlimited_gifts": False,
                    "limited_gifts": False,
                    "unique_gifts": False,
                    "premium_subscription": False,
                    "gifts_from_channels": False,
                },
            }
        )
        return chat

    async def _get_file(self, params: dict[str, Any]) -> dict[str, Any]:
        entry = self._state.files.get(params["file_id"])
        if entry is None:
            raise bad_request("invalid file_id")
        path, content = entry
        return {
            "file_id": params["file_id"],
            "file_unique_id": f"u{abs(hash(params['file_id'])) % 10**10}",
            "file_size": len(content),
            "file_path": path,
        }


def scope_key(scope: Mapping[str, Any] | None, language_code: str) -> tuple[str, str]:
    if not scope or scope.get("type") == "default":
        return ("default", language_code)
    return (json.dumps(scope, sort_keys=True), language_code)
