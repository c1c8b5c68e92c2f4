"""Running the Telegram bot: long polling or a webhook, with SIGHUP reloading the index."""

from __future__ import annotations

import logging
from urllib.parse import urlparse

from bot.config import Settings
from bot.engine import Engine
from bot.retrieval import open_retriever
from bot.telegram_bot import ALLOWED_UPDATES, build_application

logger = logging.getLogger(__name__)


def serve(settings: Settings, webhook_url: str | None = None) -> None:
    retriever, report = open_retriever(settings.corpus_dir, settings.index_dir, settings.model)
    state = f"rebuilt ({report.reason})" if report.rebuilt else "up to date"
    logger.info("index %s: %d documents, %d passages", state, report.documents, report.passages)
    for problem in report.problems:
        logger.warning("skipped %s: %s", problem.path, problem.reason)
    retriever.embed(["warm-up"])  # load the model before the first question arrives
    application = build_application(settings, Engine(retriever))
    application.bot_data["reload_on_sighup"] = True
    if webhook_url:
        application.run_webhook(
            listen=settings.webhook_listen,
            port=settings.webhook_port,
            url_path=urlparse(webhook_url).path.lstrip("/"),
            webhook_url=webhook_url,
            secret_token=settings.webhook_secret,
            allowed_updates=ALLOWED_UPDATES,
        )
    else:
        application.run_polling(allowed_updates=ALLOWED_UPDATES)
