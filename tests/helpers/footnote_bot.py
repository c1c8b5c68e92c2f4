"""Running the real Footnote application (build_application) against the fake Bot API.

The index is built with the fake hashing embedder (milliseconds), so end-to-end tests
exercise every handler, button and error path without loading a model.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import Application

from bot.config import Settings
from bot.search.engine import Engine
from bot.search.retriever import Retriever, open_retriever
from bot.telegram.app import ALLOWED_UPDATES, build_application
from bot.telegram.state import bot_state
from tests.botapi.fixtures import TEST_TOKEN
from tests.botapi.server import FakeBotApi, SentMessage
from tests.helpers.essay import copy_essay

BOT_USERNAME = "footnote_test_bot"
DOCUMENT = "4 Ways out of the Korean Crisis"
DUAL_TRACK = "China’s Dual Track Solution"
EMPTY_SECTION = "Cooperation Spiral Solution"
# Questions the fake hashing embedder answers (or refuses) deterministically.
QUESTION = "What is the double suspension?"
OFF_TOPIC = "hello"
EMPTY_SECTION_QUESTION = "What is the cooperation spiral?"
# Part of a sentence of the essay ("But the core problem is actually that nobody knows how
# to “collapse” a regime possessing nuclear weapons."), as a reader would misquote it.
MISQUOTE = "the core problem is actualy that nobody knows how to collapse a regime"
USER = 424242  # who talks to the bot in private (say); a private chat's id is its user's

App = Application[Any, Any, Any, Any, Any, Any]


@dataclass(frozen=True)
class Essay:
    """A copy of the shipped essay in `root`/corpus, indexed in `root`/index."""

    root: Path
    retriever: Retriever


def build_essay(root: Path) -> Essay:
    """Index a copy of the shipped essay with the fake embedder (a few milliseconds)."""
    retriever, _ = open_retriever(copy_essay(root / "corpus"), root / "index", "fake:hashing")
    return Essay(root, retriever)


def settings_for(server: FakeBotApi, root: Path, **overrides: Any) -> Settings:
    """Settings as a deployment would have them, pointed at the fake server's root URL."""
    values: dict[str, Any] = {
        "corpus_dir": root / "corpus",
        "index_dir": root / "index",
        "model": "fake:hashing",
        "telegram_token": TEST_TOKEN,
        # The root, as TELEGRAM_API_BASE_URL would hold it: build_application adds /bot.
        "telegram_base_url": server.base_url.removesuffix("/bot"),
    }
    values.update(overrides)
    return Settings(**values)


@asynccontextmanager
async def running(application: App) -> AsyncIterator[App]:
    """Start `application` the way run_polling does (post_init included), on the test loop."""
    await application.initialize()
    if application.post_init is not None:
        await application.post_init(application)
    assert application.updater is not None
    await application.updater.start_polling(
        poll_interval=0, timeout=1, allowed_updates=ALLOWED_UPDATES
    )
    await application.start()
    try:
        yield application
    finally:
        if application.updater.running:
            await application.updater.stop()
        if application.running:
            await application.stop()
        await application.shutdown()


@asynccontextmanager
async def footnote(
    server: FakeBotApi,
    essay: Essay,
    *,
    inline_debounce: float = 0.0,
    **settings: Any,
) -> AsyncIterator[App]:
    """The real application (build_application) running against `server`."""
    application = build_application(
        settings_for(server, essay.root, **settings), Engine(essay.retriever)
    )
    bot_state(application).inline.delay = inline_debounce
    async with running(application):
        yield application


async def settle(server: FakeBotApi, application: App, timeout: float = 15.0) -> None:
    """Wait until every update pushed so far has been fetched and completely handled."""
    await server.wait_for(lambda s: not s.pending_updates, timeout=timeout)
    # The poller queues updates before it confirms them; task_done() follows the handler.
    await asyncio.wait_for(application.update_queue.join(), timeout)


async def exchange(
    server: FakeBotApi, application: App, update: dict[str, Any]
) -> list[SentMessage]:
    """Push `update`, let the bot handle it, and return the messages it sent meanwhile."""
    before = len(server.sent_messages())
    server.push_update(update)
    await settle(server, application)
    return server.sent_messages()[before:]


def the_reply(sent: list[SentMessage], chat_id: int) -> SentMessage:
    """The one message sent, asserting it went to `chat_id`."""
    assert len(sent) == 1, [m.text[:80] for m in sent]
    assert sent[0].chat_id == chat_id
    return sent[0]


async def say(server: FakeBotApi, app: App, text: str, chat_id: int = USER) -> SentMessage:
    """A private message, answered by exactly one message in the same chat."""
    return the_reply(await exchange(server, app, server.private_message(chat_id, text)), chat_id)


async def say_unquoted(server: FakeBotApi, app: App, text: str) -> SentMessage:
    """`say`, for a question answered without a quote (off topic, an empty section, a name the
    essay never mentions): the reply must hold none."""
    reply = await say(server, app, text)
    assert "<blockquote>" not in reply.raw_text, reply.raw_text
    return reply


def button_data(sent: SentMessage | dict[str, Any]) -> dict[str, str]:
    """Button text -> callback data of a sent message (or a stored message dict)."""
    markup = sent.reply_markup if isinstance(sent, SentMessage) else sent.get("reply_markup")
    rows = (markup or {}).get("inline_keyboard", [])
    return {b["text"]: b["callback_data"] for row in rows for b in row if "callback_data" in b}


def assert_clean(server: FakeBotApi, caplog: pytest.LogCaptureFixture) -> None:
    """No Bot API violation, and the token never reached a log record."""
    assert server.violations == [], server.summary()
    # The application is built while fixtures are set up: those records count too.
    records = [r for when in ("setup", "call") for r in caplog.get_records(when)]
    for record in records:
        text = record.getMessage() + (record.exc_text or "")
        if record.exc_info and record.exc_info[1] is not None:
            text += logging.Formatter().formatException(record.exc_info)
        assert TEST_TOKEN not in text, f"token leaked in log record from {record.name}"
        assert TEST_TOKEN.split(":")[1] not in text


def capture_logs(caplog: pytest.LogCaptureFixture) -> None:
    """Capture everything at DEBUG, with httpx at WARNING as bot.cli.configure_logging sets it."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.WARNING, logger="httpx")
