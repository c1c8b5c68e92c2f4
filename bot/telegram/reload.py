"""Hot reload: /reload (administrators) and SIGHUP rebuild the index if the corpus changed,
then swap it in; questions are answered from the previous index meanwhile."""

from __future__ import annotations

import asyncio
import html
import logging
import signal
from functools import partial
from typing import Any

from telegram import Update
from telegram.ext import Application

from bot.render.reply import Reply, text_reply
from bot.render.terminal import build_summary
from bot.search.retriever import open_retriever
from bot.telegram.send import send
from bot.telegram.state import Context, bot_state

logger = logging.getLogger(__name__)

# Skipped files (and documents with something left out) listed by name in a reload summary;
# a corpus may have thousands.
MAX_SKIPPED_SHOWN = 20


async def reload_command(update: Update, context: Context) -> None:
    """Rebuild the index in the background and swap it in (admins only)."""
    message = update.effective_message
    user = update.effective_user
    if message is None:
        return
    if user is None or user.id not in context.bot_data.settings.admin_ids:
        await send(message, Reply("Only the bot's administrators can reload the index."))
        return
    await send(message, Reply("Reloading the index; questions are still answered meanwhile."))
    try:
        summary = await reload_index(context.application)
    except Exception as exc:
        logger.exception("reload failed")
        await send(message, Reply(f"Reload failed: {html.escape(str(exc))}"))
        return
    await send(message, text_reply(summary))


async def reload_index(application: Application[Any, Any, Any, Any, Any, Any]) -> str:
    """Rebuild if the corpus changed, then swap the new index in atomically."""
    state = bot_state(application)
    settings, engine = state.settings, state.engine
    async with state.reload_lock:
        retriever, report = await asyncio.to_thread(
            partial(
                open_retriever,
                settings.corpus_dir,
                settings.index_dir,
                settings.model,
                config=engine.config,
                follow_links=settings.follow_links,
                keep_previous=False,  # the engine keeps serving the old index; say it failed
            )
        )
        engine.swap(retriever)
    return build_summary(report, most=MAX_SKIPPED_SHOWN)


def reload_on_sighup(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """From now on, SIGHUP reloads the index in the background (call it in the event loop)."""
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGHUP, _reload_in_background, application)


def _reload_in_background(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    async def reload() -> None:
        try:
            logger.info("SIGHUP: %s", await reload_index(application))
        except Exception:
            logger.exception("SIGHUP reload failed; still serving the previous index")

    application.create_task(reload())
