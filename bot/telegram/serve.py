"""Running the Telegram bot: long polling or a webhook, with SIGHUP reloading the index.

Either way the process stops cleanly on SIGTERM or SIGINT: it stops taking updates, answers
every update it has already taken, and (polling) confirms them to Telegram, so a restart
neither loses nor repeats an update.  Transient Bot API failures are retried underneath every
call (bot/telegram/flood.py); while the API is unreachable, polling backs off and tries again.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from telegram.error import InvalidToken
from telegram.ext import Application

from bot.config import Settings
from bot.errors import ConfigError
from bot.search.engine import Engine
from bot.search.retriever import Retriever, open_retriever
from bot.telegram.app import ALLOWED_UPDATES, build_application
from bot.telegram.state import bot_state

logger = logging.getLogger(__name__)


def prepare(
    settings: Settings, make_engine: Callable[[Retriever], Engine] = Engine
) -> Application[Any, Any, Any, Any, Any, Any]:
    """Open (rebuilding if needed) the index, load the model, build the application.

    ``make_engine`` makes the engine that answers from the index (the benchmark's child
    process passes one that times each question, with its own batching and cache knobs).
    """
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
    retriever.embed(["warm-up"])  # load the model before the first question arrives
    application = build_application(settings, make_engine(retriever))
    bot_state(application).reload_on_sighup = True
    return application


def serve(settings: Settings, webhook_url: str | None = None) -> None:
    application = prepare(settings)
    try:
        if webhook_url:
            from bot.telegram.webhook import run_webhook

            asyncio.run(run_webhook(application, settings, webhook_url))
        else:
            application.run_polling(allowed_updates=ALLOWED_UPDATES)
    except InvalidToken:
        # PTB's message quotes the token itself; this one goes to the terminal and journal.
        raise ConfigError(
            "TELEGRAM_BOT_TOKEN was rejected by Telegram (revoked, or mistyped?)"
        ) from None
    logger.info("stopped")
