"""A fake Telegram Bot API server for tests, spoken to over real HTTP on 127.0.0.1.

python-telegram-bot talks to it unchanged (``ApplicationBuilder().base_url(server.base_url)
.base_file_url(server.base_file_url)``), including real long polling of getUpdates.
Every request is checked against the Bot API spec and Telegram's documented limits;
every answer the fake builds is checked against the spec's return type.  Anything a
well-behaved bot would never trigger lands in ``server.violations``.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import json
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, NamedTuple

from aiohttp import web

from .builders import UpdateBuilders
from .faults import FaultPlan, FloodStats, FloodTracker
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
from .spec import BotApiSpec, MethodSpec, UploadedFile
from .state import BotState, as_reply, now

__all__ = ["Call", "FakeBotApi", "SentMessage"]

HOST = "127.0.0.1"
MAX_POLL_TIMEOUT = 60.0  # cap on getUpdates waits, so a stuck client can't hang a test
NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly "
    "the same as a current content and reply markup of the message"
)
QUERY_TOO_OLD = "query is too old and response timeout expired or query ID is invalid"
# Delivered only when asked for explicitly in allowed_updates (Telegram's default).
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

Handler = Callable[[dict[str, Any]], Awaitable[Any]]


class Call(NamedTuple):
    """One request: canonical method name, decoded params (raw ones if undecodable), answer."""

    method: str
    params: dict[str, Any]
    response: dict[str, Any]

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))


@dataclass
class SentMessage:
    """A successful sendMessage: what the bot asked for and the Message it got back."""

    params: dict[str, Any]
    message: dict[str, Any]

    @property
    def text(self) -> str:
        """Plain text after parse_mode parsing (what the user sees)."""
        return str(self.message["text"])

    @property
    def raw_text(self) -> str:
        """The text parameter as sent (e.g. with HTML tags)."""
        return str(self.params["text"])

    @property
    def chat_id(self) -> int:
        return int(self.message["chat"]["id"])

    @property
    def message_id(self) -> int:
        return int(self.message["message_id"])

    @property
    def parse_mode(self) -> str | None:
        return self.params.get("parse_mode")

    @property
    def reply_markup(self) -> dict[str, Any] | None:
        return self.params.get("reply_markup")

    @property
    def entities(self) -> list[dict[str, Any]]:
        return list(self.message.get("entities", []))

    @property
    def reply_to_message_id(self) -> int | None:
        reply = self.message.get("reply_to_message")
        return int(reply["message_id"]) if reply else None


class _Abort(Exception):
    """Drop the connection without answering (server going down)."""


class FakeBotApi(UpdateBuilders):
    """Fake Bot API.  Use ``async with FakeBotApi(token, spec) as server:``."""

    def __init__(
        self,
        token: str,
        spec: BotApiSpec,
        bot_username: str = "footnote_test_bot",
        bot_id: int = 7_000_000_001,
        *,
        bot_first_name: str = "Footnote",
        enforce_flood_limits: bool = False,
    ) -> None:
        self.token = token
        self.spec = spec
        self.enforce_flood_limits = enforce_flood_limits
        self.bot_user: dict[str, Any] = {
            "id": bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }
        self._state = BotState(self.bot_user)
        self.calls: list[Call] = []
        self.violations: list[str] = []
        self.dropped_updates: list[dict[str, Any]] = []  # filtered out by allowed_updates
        self.faults = FaultPlan()
        self._flood = FloodTracker()
        self._queue: list[dict[str, Any]] = []
        self._raw_update_ids: set[int] = set()
        self._next_update_id = 100_000_001
        self._allowed_updates: list[str] = []
        self._update_event = asyncio.Event()
        self._up_event = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None
        self._port = 0
        self._down = False
        self._restart_task: asyncio.Task[None] | None = None
        self._handlers: dict[str, Handler] = {
            "getMe": self._get_me,
            "getUpdates": self._get_updates,
            "deleteWebhook": self._delete_webhook,
            "setWebhook": self._set_webhook,
            "getWebhookInfo": self._get_webhook_info,
            "logOut": self._true,
            "close": self._true,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
            "editMessageReplyMarkup": self._edit_message_reply_markup,
            "deleteMessage": self._delete_message,
            "answerCallbackQuery": self._answer_callback_query,
            "answerInlineQuery": self._answer_inline_query,
            "setMyCommands": self._set_my_commands,
            "getMyCommands": self._get_my_commands,
            "deleteMyCommands": self._delete_my_commands,
            "sendChatAction": self._send_chat_action,
            "setChatMenuButton": self._set_chat_menu_button,
            "getChatMenuButton": self._get_chat_menu_button,
            "getChat": self._get_chat,
            "getFile": self._get_file,
        }

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=60 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        # handler_cancellation: a client that gives up on a long poll ends the handler too.
        # shutdown_timeout bounds stop() even if a handler is sleeping in an injected delay.
        self._runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0
        )
        await self._runner.setup()
        self._site = web.TCPSite(self._runner, HOST, 0)
        await self._site.start()
        self._port = self._site.port
        self._up_event.set()

    async def stop(self) -> None:
        if self._restart_task is not None:
            self._restart_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._restart_task
            self._restart_task = None
        self._down = True
        self._drop_connections()
        self._wake_pollers()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _drop_connections(self) -> None:
        # Closing the transports also cancels their handlers (handler_cancellation), so
        # pending long polls and injected delays end at once.
        server = self._runner.server if self._runner is not None else None
        if server is not None:
            for connection in server.connections:
                connection.force_close()

    async def __aenter__(self) -> FakeBotApi:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def base_url(self) -> str:
        """For ``Bot(base_url=...)`` / ``ApplicationBuilder().base_url(...)``."""
        return f"http://{HOST}:{self._port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://{HOST}:{self._port}/file/bot"

    async def go_down(self, seconds: float) -> None:
        """Refuse connections for ``seconds`` (listening socket closed, open connections
        dropped), then listen again on the same port.  Returns once the server is down."""
        if self._down or self._site is None or self._runner is None:
            raise RuntimeError("server is not up")
        self._down = True
        self._up_event.clear()
        await self._site.stop()
        self._site = None
        self._drop_connections()
        self._wake_pollers()
        self._restart_task = asyncio.create_task(self._come_back(seconds))

    async def _come_back(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        assert self._runner is not None
        site = web.TCPSite(self._runner, HOST, self._port)
        await site.start()
        self._site = site
        self._down = False
        self._up_event.set()

    async def wait_until_up(self, timeout: float = 10.0) -> None:
        await asyncio.wait_for(self._up_event.wait(), timeout)

    @property
    def is_up(self) -> bool:
        return not self._down and self._site is not None

    # -- test-facing configuration --------------------------------------------------------

    def fail_next(
        self,
        method: str,
        times: int = 1,
        error_code: int = 429,
        retry_after: int | None = 1,
        description: str | None = None,
    ) -> None:
        """Answer the next ``times`` valid calls of ``method`` with an error (default: 429 with
        parameters.retry_after, exactly like Telegram)."""
        self.faults.fail_next(method, times, error_code, retry_after, description)

    def answer_500(self, method: str, times: int = 1) -> None:
        self.faults.fail_next(method, times, 500, None, "Internal Server Error")

    def delay(self, method: str, seconds: float, times: int = 1) -> None:
        """Make the next ``times`` calls of ``method`` answer ``seconds`` late."""
        self.faults.delay(method, seconds, times)

    def register_chat(
        self,
        chat_id: int,
        chat_type: str | None = None,
        *,
        title: str | None = None,
        username: str | None = None,
    ) -> dict[str, Any]:
        """Make a chat known to the bot (e.g. a group it was added to earlier)."""
        return self._state.register_chat(chat_id, chat_type, title=title, username=username)

    def register_user(self, user_id: int, first_name: str | None = None, **kw: Any) -> None:
        self._state.register_user(user_id, first_name, **kw)

    def add_file(self, file_id: str, content: bytes, file_path: str | None = None) -> None:
        """Serve ``content`` for getFile(file_id) and its download under base_file_url."""
        self._state.files[file_id] = (file_path or f"documents/{file_id}", content)

    def message(self, chat_id: int, message_id: int) -> dict[str, Any] | None:
        """Current state of a stored message (after edits), or None if unknown/deleted."""
        return self._state.message(chat_id, message_id)

    # -- update injection -----------------------------------------------------------------

    def push_update(self, update: Mapping[str, Any]) -> int:
        """Queue an update for getUpdates; assigns update_id.  Raises ValueError if the update
        is not a valid Update per the spec (test helpers must not build impossible updates)."""
        body = {k: v for k, v in update.items() if k != "update_id"}
        candidate = {"update_id": self._next_update_id, **copy.deepcopy(body)}
        errors = self.spec.validate_type(candidate, "Update", "update")
        if errors:
            raise ValueError("invalid update: " + "; ".join(errors))
        return self._enqueue(candidate)

    def push_raw_update(self, update: Mapping[str, Any]) -> int:
        """Queue an update without validation (for malformed-update tests)."""
        body = {k: v for k, v in update.items() if k != "update_id"}
        update_id = self._enqueue({"update_id": self._next_update_id, **copy.deepcopy(body)})
        self._raw_update_ids.add(update_id)
        return update_id

    def _enqueue(self, update: dict[str, Any]) -> int:
        update_id = int(update["update_id"])
        self._next_update_id = update_id + 1
        kind = next((k for k in update if k != "update_id"), "")
        allowed = self._allowed_updates
        if (allowed and kind not in allowed) or (not allowed and kind in OPT_IN_UPDATES):
            self.dropped_updates.append(update)  # Telegram would never deliver it
        else:
            self._queue.append(update)
            self._wake_pollers()
        return update_id

    def _wake_pollers(self) -> None:
        self._update_event.set()
        self._update_event = asyncio.Event()

    @property
    def pending_updates(self) -> list[dict[str, Any]]:
        """Updates not yet confirmed by a getUpdates offset."""
        return list(self._queue)

    # -- recorded traffic ---------------------------------------------------------------

    def calls_of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method.lower() == method.lower()]

    def sent_messages(self, chat_id: int | None = None) -> list[SentMessage]:
        """Successful sendMessage calls, optionally only those to ``chat_id``."""
        sent = [SentMessage(c.params, c.response["result"]) for c in self._ok("sendMessage")]
        return [s for s in sent if chat_id is None or s.chat_id == chat_id]

    @property
    def edits(self) -> list[Call]:
        """Successful editMessageText / editMessageReplyMarkup calls."""
        names = ("editMessageText", "editMessageReplyMarkup")
        return [c for c in self.calls if c.method in names and c.ok]

    @property
    def callback_answers(self) -> list[dict[str, Any]]:
        return [c.params for c in self._ok("answerCallbackQuery")]

    @property
    def inline_answers(self) -> list[dict[str, Any]]:
        return [c.params for c in self._ok("answerInlineQuery")]

    @property
    def commands(self) -> list[dict[str, Any]]:
        """Commands currently set for the default scope and no language."""
        return self.get_commands()

    def get_commands(
        self, scope: Mapping[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]]:
        return copy.deepcopy(self._state.command_sets.get(_scope_key(scope, language_code), []))

    def _ok(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.ok]

    def flood_stats(self) -> FloodStats:
        return self._flood.stats()

    async def wait_for(
        self,
        predicate: Callable[[FakeBotApi], object],
        timeout: float = 10.0,
        interval: float = 0.02,
    ) -> None:
        """Poll until ``predicate(server)`` is truthy; TimeoutError with a summary otherwise."""
        deadline = time.monotonic() + timeout
        while not predicate(self):
            if time.monotonic() >= deadline:
                raise TimeoutError(f"condition not met within {timeout}s\n{self.summary()}")
            await asyncio.sleep(interval)

    def summary(self, last: int = 15) -> str:
        lines = [f"last {last} calls (of {len(self.calls)}):"]
        for call in self.calls[-last:]:
            outcome = "ok" if call.ok else call.response.get("description")
            params = {k: v for k, v in call.params.items() if k != "results"}
            lines.append(f"  {call.method} {json.dumps(params, default=str)[:160]} -> {outcome}")
        lines.append(f"pending updates: {len(self._queue)}; violations: {self.violations}")
        return "\n".join(lines)

    def assert_no_violations(self) -> None:
        assert not self.violations, "Bot API violations:\n" + "\n".join(self.violations)

    # -- HTTP -----------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if self._down:
            return _drop(request)
        name = request.match_info["method"]
        method = self.spec.find_method(name)
        canonical = method.name if method else name
        params: dict[str, Any] = {}
        try:
            if request.match_info["token"] != self.token:
                raise ApiError(401, "Unauthorized")
            if method is None:
                raise ApiError(404, "Not Found")
            raw, form = await _read_params(request)
            params = raw
            decoded, errors = self.spec.decode_params(method, raw, form=form)
            if errors:
                raise bad_request(f"{canonical}: " + "; ".join(errors))
            params = decoded
            pause = self.faults.take_delay(canonical)
            if pause:
                await asyncio.sleep(pause)
            failure = self.faults.take_failure(canonical)
            if failure is not None:
                raise failure
            result = await self._dispatch(method, params)
        except _Abort:
            return _drop(request)
        except ApiError as exc:
            body = exc.payload()
            if not exc.injected:
                self.violations.append(f"{canonical}: {exc.description}")
            self.calls.append(Call(canonical, params, body))
            return web.json_response(body, status=exc.code)
        self._check_response(method, params, result)
        body = {"ok": True, "result": result}
        self.calls.append(Call(canonical, params, body))
        return web.json_response(body)

    async def _dispatch(self, method: MethodSpec, params: dict[str, Any]) -> Any:
        handler = self._handlers.get(method.name)
        if handler is not None:
            return await handler(params)
        if method.returns == ("Boolean",):
            return True
        raise bad_request(f"method {method.name} is not supported by the fake Bot API server")

    def _check_response(self, method: MethodSpec, params: dict[str, Any], result: Any) -> None:
        if method.name == "getUpdates":
            checked = [u for u in result if u["update_id"] not in self._raw_update_ids]
            errors = self.spec.validate(checked, ["Array of Update"], "result")
        else:
            errors = self.spec.validate_result(method, result)
        self.violations.extend(f"response: {method.name}: {e}" for e in errors)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        wanted = request.match_info["path"]
        for path, content in self._state.files.values():
            if path == wanted:
                return web.Response(body=content)
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )

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
                raise _Abort
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
        check_reply_markup(markup)
        if "inline_message_id" in params:
            return True
        message = self._bot_message(params, "edit")
        check_reply_markup(markup, message["chat"]["type"])
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
        check_reply_markup(markup)
        if "inline_message_id" in params:
            return True
        message = self._bot_message(params, "edit")
        check_reply_markup(markup, message["chat"]["type"])
        if message.get("reply_markup") == markup:
            raise bad_request(NOT_MODIFIED)
        return self._store_edit(message, markup)

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
        key = _scope_key(params.get("scope"), params.get("language_code", ""))
        self._state.command_sets[key] = copy.deepcopy(params["commands"])
        return True

    async def _get_my_commands(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        return self.get_commands(params.get("scope"), params.get("language_code", ""))

    async def _delete_my_commands(self, params: dict[str, Any]) -> bool:
        key = _scope_key(params.get("scope"), params.get("language_code", ""))
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


def _scope_key(scope: Mapping[str, Any] | None, language_code: str) -> tuple[str, str]:
    if not scope or scope.get("type") == "default":
        return ("default", language_code)
    return (json.dumps(scope, sort_keys=True), language_code)


def _drop(request: web.Request) -> web.StreamResponse:
    """Close the connection without an answer, like a server that just went away."""
    transport = request.transport
    if transport is not None:
        transport.abort()
    return web.Response(status=503)


async def _read_params(request: web.Request) -> tuple[dict[str, Any], bool]:
    """Request parameters and whether they came form-encoded (all values strings)."""
    params: dict[str, Any] = {}
    _merge_unique(params, request.query.items())
    if request.method == "GET" or not request.can_read_body:
        return params, True
    content_type = request.content_type
    if content_type == "application/json":
        try:
            body = await request.json()
        except ValueError as exc:
            raise bad_request(f"can't parse JSON request body: {exc}") from exc
        if not isinstance(body, dict):
            raise bad_request("JSON request body must be an object")
        if request.query:
            raise bad_request("parameters in both the query string and a JSON body")
        return body, False
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        items: list[tuple[str, Any]] = []
        for key, value in form.items():
            if isinstance(value, web.FileField):
                items.append((key, UploadedFile(key, value.filename, value.file.read())))
            else:
                items.append((key, value))
        _merge_unique(params, items)
        return params, True
    if not await request.read():
        return params, True
    raise bad_request(f"unsupported Content-Type {content_type!r}")


def _merge_unique(params: dict[str, Any], items: Any) -> None:
    for key, value in items:
        if key in params:
            raise bad_request(f"parameter {key!r} is given more than once")
        params[key] = value
