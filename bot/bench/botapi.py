"""The benchmark's own Bot API server: aiohttp on 127.0.0.1, just what the bot calls.

python-telegram-bot talks to it unchanged when the bot's TELEGRAM_API_BASE_URL (Settings'
telegram_base_url) is `server.base_url`.  It serves the methods the measured flows use --
getMe, deleteWebhook, setWebhook, setMyCommands, getUpdates (long polling, offsets), sendMessage,
editMessageText, answerCallbackQuery, answerInlineQuery, sendChatAction -- and answers anything
else with 404, noted in `server.unsupported`.  It checks nothing else: it is a stand-in for
Telegram's speed (instant), not for its rules (the test suite's fake, tests/botapi, is that).

Arrivals are observed through a public hook: `server.listeners` are called with the method
and its parameters as each request arrives; `Recorder` is the listener the benchmark uses.
Every wait is bounded: long polls by MAX_POLL_SECONDS, Recorder.until by its timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import socket
import time
from collections.abc import Callable
from types import TracebackType
from typing import Any

from aiohttp import web

from bot.errors import BenchError

HOST = "127.0.0.1"
MAX_POLL_SECONDS = 30.0
STOP_SECONDS = 1.0
# Form-encoded parameters arrive JSON-encoded, except these, which are plain strings.
_PLAIN_STRINGS = frozenset(
    {"text", "parse_mode", "callback_query_id", "inline_query_id", "url", "secret_token"}
)

Listener = Callable[[str, dict[str, Any]], None]


class BenchBotApi:
    """``async with BenchBotApi(token) as server:`` -- serves one bot on a free port."""

    def __init__(self, token: str, username: str = "footnote_bench_bot") -> None:
        self.token = token
        self.bot_user: dict[str, Any] = {
            "id": 7_000_000_001,
            "is_bot": True,
            "first_name": "Footnote",
            "username": username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
        }
        self.listeners: list[Listener] = []
        self.unsupported: list[str] = []
        self._queue: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._arrived = asyncio.Event()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._port = 0
        self._methods: dict[str, Callable[[dict[str, Any]], Any]] = {
            "getMe": lambda _: self.bot_user,
            "getUpdates": self._get_updates,
            "deleteWebhook": lambda _: True,
            "setWebhook": lambda _: True,
            "setMyCommands": lambda _: True,
            "deleteMyCommands": lambda _: True,
            "sendChatAction": lambda _: True,
            "answerCallbackQuery": lambda _: True,
            "answerInlineQuery": lambda _: True,
            "sendMessage": self._send_message,
            "editMessageText": self._edit_message_text,
        }

    # -- life ---------------------------------------------------------------------------------

    async def start(self) -> None:
        app = web.Application(client_max_size=1 << 20)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        # handler_cancellation: a client that gives up on a long poll ends its handler too.
        self._runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=STOP_SECONDS
        )
        await self._runner.setup()
        listening = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listening.bind((HOST, 0))  # a free port, known before the site starts
        self._port = int(listening.getsockname()[1])
        await web.SockSite(self._runner, listening).start()

    async def stop(self) -> None:
        self._closing = True
        self._wake_pollers()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> BenchBotApi:
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
        """What the bot's TELEGRAM_API_BASE_URL should be."""
        return f"http://{HOST}:{self._port}"

    # -- updates --------------------------------------------------------------------------------

    def push_update(self, update: dict[str, Any]) -> int:
        """Queue an update (``{"message": ...}`` and the like) for getUpdates."""
        update_id = next(self._update_ids)
        self._queue.append({"update_id": update_id, **update})
        self._wake_pollers()
        return update_id

    def update(self, body: dict[str, Any]) -> dict[str, Any]:
        """An update with its id, for delivery by another route (a webhook POST)."""
        return {"update_id": next(self._update_ids), **body}

    @staticmethod
    def user(user_id: int) -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": f"User {user_id}"}

    def private_message(self, chat_id: int, text: str) -> dict[str, Any]:
        """A user's text in their private chat with the bot (chat id = user id); a leading
        /command gets its bot_command entity, as Telegram marks it."""
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "from": self.user(chat_id),
            "chat": {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"},
            "date": int(time.time()),
            "text": text,
        }
        if text.startswith("/"):
            length = len(text.split()[0])
            message["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        return {"message": message}

    def bot_message(self, chat_id: int, text: str, reply_markup: Any = None) -> dict[str, Any]:
        """A message the bot sent earlier into a private chat (what a button press carries)."""
        message: dict[str, Any] = {
            "message_id": next(self._message_ids),
            "from": self.bot_user,
            "chat": {"id": chat_id, "type": "private", "first_name": f"User {chat_id}"},
            "date": int(time.time()),
            "text": text,
        }
        if reply_markup is not None:
            message["reply_markup"] = reply_markup
        return message

    def callback_query(self, message: dict[str, Any], data: str) -> dict[str, Any]:
        """A press on a button of `message` (one the bot sent) by the chat's user."""
        chat_id = int(message["chat"]["id"])
        query = {
            "id": str(next(self._query_ids)),
            "from": self.user(chat_id),
            "message": message,
            "chat_instance": str(chat_id),
            "data": data,
        }
        return {"callback_query": query}

    def _wake_pollers(self) -> None:
        self._arrived.set()
        self._arrived = asyncio.Event()

    # -- HTTP -----------------------------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        params = await _read_params(request)
        for listener in self.listeners:
            listener(method, params)
        handler = self._methods.get(method)
        if handler is None:
            self.unsupported.append(method)
            return _error(404, "Not Found")
        try:
            result = handler(params)
            if asyncio.iscoroutine(result):
                result = await result
        except (KeyError, TypeError, ValueError) as exc:
            self.unsupported.append(f"{method}: {exc}")
            return _error(400, f"Bad Request: {exc}")
        return web.json_response({"ok": True, "result": result})

    async def _get_updates(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        offset = params.get("offset")
        if isinstance(offset, int) and offset > 0:
            self._queue = [u for u in self._queue if u["update_id"] >= offset]
        limit = min(max(int(params.get("limit", 100)), 1), 100)
        timeout = min(max(float(params.get("timeout", 0)), 0.0), MAX_POLL_SECONDS)
        deadline = time.monotonic() + timeout
        while not self._closing:
            if self._queue:
                return self._queue[:limit]
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._arrived.wait(), remaining)
        return []

    def _send_message(self, params: dict[str, Any]) -> dict[str, Any]:
        return self.bot_message(int(params["chat_id"]), str(params["text"]))

    def _edit_message_text(self, params: dict[str, Any]) -> dict[str, Any]:
        message = self.bot_message(int(params["chat_id"]), str(params["text"]))
        message["message_id"] = int(params["message_id"])
        return message


def _error(code: int, description: str) -> web.Response:
    body = {"ok": False, "error_code": code, "description": description}
    return web.json_response(body, status=code)


async def _read_params(request: web.Request) -> dict[str, Any]:
    if request.content_type == "application/json":
        with contextlib.suppress(ValueError):
            body = await request.json()
            if isinstance(body, dict):
                return body
        return {}
    form = await request.post() if request.can_read_body else {}
    params: dict[str, Any] = {}
    for key, value in [*request.query.items(), *form.items()]:
        if not isinstance(value, str) or key in _PLAIN_STRINGS:
            params[key] = value
            continue
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    return params


class Recorder:
    """A listener that timestamps (time.perf_counter) what the benchmark waits for: each
    getUpdates, and per chat the bot's first reply (sendMessage or editMessageText)."""

    REPLIES = frozenset({"sendMessage", "editMessageText"})

    def __init__(self, server: BenchBotApi) -> None:
        self.answered: dict[int, float] = {}
        self.polls: list[float] = []
        self.calls: dict[str, int] = {}
        self._changed = asyncio.Event()
        server.listeners.append(self.on_request)

    def on_request(self, method: str, params: dict[str, Any]) -> None:
        arrived = time.perf_counter()
        self.calls[method] = self.calls.get(method, 0) + 1
        if method == "getUpdates":
            self.polls.append(arrived)
        elif method in self.REPLIES:
            with contextlib.suppress(KeyError, TypeError, ValueError):
                self.answered.setdefault(int(params["chat_id"]), arrived)
        self._changed.set()

    async def until(self, done: Callable[[], bool], timeout: float, what: str) -> None:
        """Wait until `done()`; BenchError after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not done():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BenchError(f"timed out after {timeout:.0f} s waiting for {what}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.5))
