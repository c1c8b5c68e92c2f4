"""Running the Telegram bot: long polling or a webhook, with SIGHUP reloading the index.

The web reader (bot/web/) runs beside it when it is on (FOOTNOTE_WEB_READER): on the webhook
server when FOOTNOTE_PUBLIC_URL is set, on FOOTNOTE_WEB_PORT in polling mode; it answers from
the same engine, so a reload reaches it too.  Where it is, is logged at start-up.

Either way the process stops cleanly on SIGTERM or SIGINT: it stops taking updates, answers
every update it has already taken, and (polling) confirms them to Telegram, so a restart
neither loses nor repeats an update.  Transient Bot API failures are retried underneath every
call (bot/telegram/flood.py); while the API is unreachable, polling backs off and tries again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from telegram.error import InvalidToken
from telegram.ext import Application

from bot.config import Settings
from bot.errors import ConfigError
from bot.index.threads import limit_threads
from bot.search.engine import Engine
from bot.search.retriever import Retriever, open_retriever
from bot.telegram.app import ALLOWED_UPDATES, build_application
from bot.telegram.state import bot_state

if TYPE_CHECKING:
    from bot.web.server import Reader

logger = logging.getLogger(__name__)
App = Application[Any, Any, Any, Any, Any, Any]


def prepare(
    settings: Settings, make_engine: Callable[[Retriever], Engine] = Engine
) -> Application[Any, Any, Any, Any, Any, Any]:
    """Open (rebuilding if needed) the index, load the model, build the application.

    ``make_engine`` makes the engine that answers from the index (the benchmark's child
    process passes one that times each question, with its own batching and cache knobs).
    """
    limit_threads(settings.serving_threads)
    retriever, report = open_retriever(
        settings.corpus_dir,
        settings.index_dir,
        settings.model,
        follow_links=settings.follow_links,
        on_wait=lambda holder: logger.info("waiting for another index build (%s)", holder),
    )
    state = f"rebuilt ({report.reason})" if report.rebuilt else "up to date"
    logger.info("index %s: %d documents, %d passages", state, report.documents, report.passages)
    if report.warning:
        logger.warning("%s", report.warning)
    for problem in report.problems:
        logger.warning("skipped %s: %s", problem.path, problem.reason)
    retriever.warm_up()  # load the model and word list before the first question arrives
    application = build_application(settings, make_engine(retriever))
    bot_state(application).reload_on_sighup = True
    return application


def _reader(application: App) -> Reader:
    from bot.web.server import Reader

    state = bot_state(application)
    return Reader(lambda: state.engine, state.settings)


def _reader_beside_polling(application: App, settings: Settings) -> None:
    """Serve the reader on FOOTNOTE_WEB_PORT for as long as polling runs."""
    from bot.web.serve import ReaderServer

    assert settings.web_port is not None
    server = ReaderServer(_reader(application), settings.web_listen, settings.web_port)
    previous_init, previous_shutdown = application.post_init, application.post_shutdown

    async def post_init(app: App) -> None:
        if previous_init is not None:
            await previous_init(app)
        await server.start()
        public = f", public at {settings.public_url}/" if settings.public_url else ""
        logger.info("web reader listening on %s%s", server.url, public)

    async def post_shutdown(app: App) -> None:
        await server.stop()
        if previous_shutdown is not None:
            await previous_shutdown(app)

    application.post_init = post_init
    application.post_shutdown = post_shutdown


def serve(settings: Settings, webhook_url: str | None = None) -> None:
    application = prepare(settings)
    try:
        if webhook_url:
            from bot.telegram.webhook import run_webhook

            mount = None
            if settings.reader_url:
                mount = _reader(application).install
                logger.info(
                    "web reader at %s/ (served on the webhook server, %s:%d)",
                    settings.reader_url,
                    settings.webhook_listen,
                    settings.webhook_port,
                )
            asyncio.run(run_webhook(application, settings, webhook_url, mount))
        else:
            if settings.web_reader and settings.web_port is not None:
                _reader_beside_polling(application, settings)
            elif settings.reader_url:
                logger.warning(
                    "answers link to the web reader at %s/, which this process does not serve "
                    "(set FOOTNOTE_WEB_PORT, or run footnote web)",
                    settings.reader_url,
                )
            elif settings.web_reader:
                logger.info("web reader not served: set FOOTNOTE_WEB_PORT, or run footnote web")
            application.run_polling(allowed_updates=ALLOWED_UPDATES)
    except InvalidToken:
        # PTB's message quotes the token itself; this one goes to the terminal and journal.
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN was rejected by Telegram (revoked, or mistyped?)"
        ) from None
    logger.info("stopped")
