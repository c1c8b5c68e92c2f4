"""What the handlers share, typed: ``context.bot_data`` is a BotState, not a dict of strings.

python-telegram-bot creates bot_data when the application is built, from
``ContextTypes(bot_data=BotState)`` (CONTEXT_TYPES) and without arguments; build_application
then attaches the engine and the settings.  Handlers take ``context: Context`` and read
``context.bot_data.engine`` and the like; code that holds the application instead (reload,
the webhook's health check, tests) reaches the same object with ``bot_state(application)``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot

from bot.config import Settings
from bot.render.reply import Reply
from bot.search.engine import Engine
from bot.telegram.inline import InlineDebounce
from bot.telegram.limits import RateLimiter

# Question messages whose answer is remembered (so that an edited question edits its answer).
ANSWER_MEMORY = 4096


class BotState:
    """The engine and settings, and what handlers remember between updates."""

    def __init__(self) -> None:
        self._engine: Engine | None = None
        self._settings: Settings | None = None
        self.limiter = RateLimiter(0, 0.0)  # no limit until attach() applies the settings
        self.inline = InlineDebounce()
        # Per message, the reply its buttons last showed: a double tap must not edit twice.
        self.shown: dict[tuple[int, int], Reply] = {}
        # Per question message (chat, message id), the id of the message that answered it and
        # a hash of the reply it got: the most recent ANSWER_MEMORY of them (remember_answer).
        self.answers: dict[tuple[int, int], tuple[int, int]] = {}
        self.reload_lock = asyncio.Lock()  # one index rebuild at a time (/reload, SIGHUP)
        self.reload_on_sighup = False  # `footnote run` sets it; post_init installs the handler

    def attach(self, engine: Engine, settings: Settings) -> None:
        """Answer with ``engine`` under ``settings`` (build_application does this once)."""
        self._engine = engine
        self._settings = settings
        self.limiter = RateLimiter(settings.user_rate_limit, settings.user_rate_window)

    def remember_answer(
        self, chat_id: int, question_id: int, answer_id: int, reply: Reply | None = None
    ) -> None:
        key = (chat_id, question_id)
        self.answers.pop(key, None)
        self.answers[key] = (answer_id, hash(reply))
        while len(self.answers) > ANSWER_MEMORY:
            del self.answers[next(iter(self.answers))]

    @property
    def reader_url(self) -> str | None:
        """The web reader's public root, when links to it go with answers."""
        return self.settings.reader_url if self._settings is not None else None

    @property
    def attached(self) -> bool:
        return self._engine is not None and self._settings is not None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise RuntimeError("no engine: build_application attaches one")
        return self._engine

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            raise RuntimeError("no settings: build_application attaches them")
        return self._settings


Context = CallbackContext[ExtBot[Any], dict[Any, Any], dict[Any, Any], BotState]
CONTEXT_TYPES = ContextTypes(bot_data=BotState)


def bot_state(application: Application[Any, Any, Any, Any, Any, Any]) -> BotState:
    """The state of an application made by build_application."""
    state = application.bot_data
    if not isinstance(state, BotState):
        raise TypeError(f"bot_data is a {type(state).__name__}, not a BotState")
    return state
