"""The reader on its own listening socket: `footnote web`, and beside the bot in polling mode."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable

from aiohttp import web

from bot.config import Settings
from bot.errors import ConfigError
from bot.web.server import Reader

# As the webhook server: a client that has not sent its request by then is cut off.
HEADER_TIMEOUT = 15.0


class ReaderServer:
    """The reader on its own listening socket; start() and stop() around its life."""

    def __init__(self, reader: Reader, host: str, port: int) -> None:
        self.reader = reader
        self.host = host
        self.port = port
        self._runner: web.AppRunner | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/"

    async def start(self) -> None:
        """Listen (port 0 picks a free port; self.port tells which)."""
        self._runner = web.AppRunner(
            self.reader.web_app(),
            access_log=None,  # the log would hold every reader's questions
            shutdown_timeout=5.0,
            keepalive_timeout=HEADER_TIMEOUT,
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:
            await self.stop()
            raise ConfigError(
                f"the web reader cannot listen on {self.host}:{self.port} "
                f"({exc.strerror or exc}); set FOOTNOTE_WEB_PORT or --port"
            ) from None
        sockets = getattr(getattr(site, "_server", None), "sockets", None) or []
        if sockets:
            self.port = int(sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


def require_reader(settings: Settings) -> None:
    if not settings.web_reader:
        raise ConfigError("the web reader is turned off (FOOTNOTE_WEB_READER=0)")


async def serve_until_stopped(server: ReaderServer, announce: Callable[[str], None]) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    stop_signals = (signal.SIGTERM, signal.SIGINT)
    for sig in stop_signals:
        loop.add_signal_handler(sig, stop.set)
    try:
        await server.start()
        announce(server.url)
        await stop.wait()
    finally:
        await server.stop()
        for sig in stop_signals:
            with contextlib.suppress(Exception):
                loop.remove_signal_handler(sig)
