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
from types import TracebackType
from typing import Any

from aiohttp import web

from .builders import UpdateBuilders
from .faults import FaultPlan, FloodStats, FloodTracker
from .limits import ApiError, bad_request
from .methods import Abort, BotApiMethods
from .spec import BotApiSpec, MethodSpec, UploadedFile
from .state import BotState
from .traffic import Call, RecordedTraffic, SentMessage

__all__ = ["Call", "FakeBotApi", "SentMessage"]

HOST = "127.0.0.1"
# Delivered only when asked for explicitly in allowed_updates (Telegram's default).
OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})

Handler = Callable[[dict[str, Any]], Awaitable[Any]]


class FakeBotApi(UpdateBuilders, BotApiMethods, RecordedTraffic):
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

    @property
    def commands(self) -> list[dict[str, Any]]:
        """Commands currently set for the default scope and no language."""
        return self.get_commands()

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
        except Abort:
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
