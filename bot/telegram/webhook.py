"""Webhook mode: a small aiohttp server in front of the application's update queue.

PTB's own run_webhook (tornado) checks the secret token but cannot serve anything else, and a
deployment behind a load balancer needs a health endpoint.  So Footnote serves:

* ``POST <path of the webhook URL>``: an update from Telegram.  The
  ``X-Telegram-Bot-Api-Secret-Token`` header must match the configured secret (compared in
  constant time), otherwise 403 and nothing is read.  The update goes to
  ``application.update_queue`` (as in PTB's customwebhookbot example); the 200 answer tells
  Telegram it was delivered.  While the bot is stopping, updates are refused with 503, so
  Telegram keeps them and delivers them again to this or another replica.
* ``GET /healthz``: 200 with the index in service (documents, passages, model, build time)
  and the uptime, or 503 while starting or stopping.
* With ``FOOTNOTE_PUBLIC_URL`` set, the web reader's pages (bot/web/server.py), installed
  beside these two routes by ``mount``; the webhook route and its secret check stay as they are.

Stopping (SIGTERM/SIGINT) closes the listener first, then lets the application handle every
update it has accepted, so a restart loses nothing.  The webhook itself stays set: Telegram
holds new updates and retries until a replica answers again.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import signal
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot.config import Settings
from bot.errors import ConfigError
from bot.telegram.app import ALLOWED_UPDATES
from bot.telegram.polling import scrub_surrogates, unparsable_update
from bot.telegram.state import BotState

logger = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
HEALTH_PATH = "/healthz"
MAX_UPDATE_BYTES = 1 << 20  # updates are a few KiB; anything this large is not from Telegram
# A connection that has not sent a whole request by then is closed (aiohttp's keep-alive timer
# also runs from the moment a connection opens), and a body must arrive within BODY_TIMEOUT:
# a slow or stalled client cannot hold connections open indefinitely.
HEADER_TIMEOUT = 15.0
BODY_TIMEOUT = 15.0

App = Application[Any, Any, Any, Any, Any, Any]


def health(application: App, started: float) -> tuple[int, dict[str, Any]]:
    """HTTP status and body for /healthz."""
    body: dict[str, Any] = {"uptime_seconds": round(time.monotonic() - started, 1)}
    state = application.bot_data
    if not (isinstance(state, BotState) and state.attached):
        body.update(status="no index", index={"loaded": False})
        return 503, body
    library = state.engine.library
    manifest = library.manifest
    body["index"] = {
        "loaded": True,
        "documents": len(library.documents),
        "passages": manifest.passage_count,
        "model": manifest.model,
        "built_at": manifest.built_at,
    }
    body["pending_updates"] = application.update_queue.qsize()
    if not application.running:
        body["status"] = "not running"
        return 503, body
    body["status"] = "ok"
    return 200, body


class WebhookServer:
    """Receives updates for ``application`` over HTTP; start() and stop() around its life."""

    def __init__(
        self,
        application: App,
        *,
        secret: str,
        path: str = "/telegram",
        listen: str = "127.0.0.1",
        port: int = 8443,
        mount: Callable[[web.Application], None] | None = None,
    ) -> None:
        if not secret:
            raise ConfigError("webhook mode needs a secret token (FOOTNOTE_WEBHOOK_SECRET)")
        self.application = application
        self.path = "/" + path.lstrip("/")
        if self.path == HEALTH_PATH:
            raise ConfigError(f"the webhook URL path cannot be {HEALTH_PATH}")
        self.listen = listen
        self.port = port
        self._secret = secret.encode("utf-8")
        self._started = time.monotonic()
        self._runner: web.AppRunner | None = None
        self._accepting = False
        self.received = 0
        self.refused = 0
        self._mount = mount

    def web_app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_UPDATE_BYTES)
        app.router.add_post(self.path, self._receive)
        app.router.add_get(HEALTH_PATH, self._health)
        if self._mount is not None:
            self._mount(app)
        return app

    async def start(self) -> None:
        """Listen (port 0 picks a free port; self.port tells which)."""
        self._runner = web.AppRunner(
            self.web_app(),
            access_log=None,
            shutdown_timeout=5.0,
            keepalive_timeout=HEADER_TIMEOUT,
            # After an early answer (408, 413) aiohttp drains the unread body; not for long.
            lingering_time=2.0,
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.listen, self.port)
        await site.start()
        server = getattr(site, "_server", None)
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.port = int(sockets[0].getsockname()[1])
        self._accepting = True
        logger.info("webhook server listening on %s:%d%s", self.listen, self.port, self.path)

    async def stop(self) -> None:
        self._accepting = False
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    def _authorized(self, request: web.Request) -> bool:
        given = request.headers.get(SECRET_HEADER, "").encode("utf-8", "replace")
        return hmac.compare_digest(given, self._secret)

    async def _receive(self, request: web.Request) -> web.Response:
        if not self._authorized(request):
            self.refused += 1
            logger.warning("webhook request without the right secret token from %s", request.remote)
            return web.Response(status=403, text="Forbidden")
        if not self._accepting or not self.application.running:
            return web.Response(status=503, text="Shutting down")
        try:
            body = await asyncio.wait_for(request.read(), BODY_TIMEOUT)
            data = json.loads(body)
        except TimeoutError:
            return web.Response(status=408, text="Body too slow", headers={"Connection": "close"})
        # RecursionError: JSON nested thousands deep, which no update is.
        except (ValueError, RecursionError):
            return web.Response(status=400, text="Body is not JSON")
        data, _ = scrub_surrogates(data)
        problem = unparsable_update(data)
        if problem is not None:
            # Answering 4xx/5xx would make Telegram send it again and again; drop it instead.
            update_id = data.get("update_id") if isinstance(data, dict) else None
            logger.warning("dropped unparsable update %s: %s", update_id, problem)
            return web.Response(status=200)
        update = Update.de_json(data, self.application.bot)
        self.received += 1
        await self.application.update_queue.put(update)
        return web.Response(status=200)

    async def _health(self, request: web.Request) -> web.Response:
        status, body = health(self.application, self._started)
        return web.json_response(body, status=status)


async def run_webhook(
    application: App,
    settings: Settings,
    webhook_url: str,
    mount: Callable[[web.Application], None] | None = None,
) -> None:
    """Run the bot on a webhook until SIGTERM or SIGINT, then stop without losing updates;
    ``mount`` adds routes (the web reader) to the same server."""
    if not settings.webhook_secret:
        raise ConfigError("webhook mode needs a secret token (FOOTNOTE_WEBHOOK_SECRET)")
    server = WebhookServer(
        application,
        secret=settings.webhook_secret,
        path=urlparse(webhook_url).path or "/",
        listen=settings.webhook_listen,
        port=settings.webhook_port,
        mount=mount,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    stop_signals = (signal.SIGTERM, signal.SIGINT)
    for sig in stop_signals:
        loop.add_signal_handler(sig, stop.set)
    await application.initialize()
    try:
        if application.post_init is not None:
            await application.post_init(application)
        await application.start()
        await server.start()  # listen before telling Telegram where to send
        await application.bot.set_webhook(
            url=webhook_url,
            secret_token=settings.webhook_secret,
            allowed_updates=ALLOWED_UPDATES,
        )
        logger.info("webhook set; serving until SIGTERM")
        await stop.wait()
        logger.info("stopping: no new updates; finishing the ones accepted")
    finally:
        await server.stop()
        if application.running:
            await application.stop()
        if application.post_stop is not None:
            await application.post_stop(application)
        await application.shutdown()
        if application.post_shutdown is not None:
            await application.post_shutdown(application)
        for sig in stop_signals:
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(sig)
