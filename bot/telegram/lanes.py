"""Fair scheduling of updates: ``FairUpdateProcessor``, an inline lane beside the chat lane.

A ``BaseUpdateProcessor`` (python-telegram-bot's extension point for concurrent updates,
wired in by build_application), it gives inline queries their own small concurrency lane, so
a flood of inline queries (a client sends one per keystroke) cannot occupy every slot while
chat questions wait.  An inline query that a newer one from the same user has superseded by
the time it gets a lane is skipped outright, and when too many inline queries are already
waiting, new ones are dropped (Telegram simply shows no results).
"""

from __future__ import annotations

import asyncio
import inspect
from collections import deque
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor


class FairUpdateProcessor(BaseUpdateProcessor):
    """Separate concurrency lanes for chat updates and inline queries.

    Inline queries run at most ``inline_lanes`` at a time.  Each user has at most one inline
    query waiting for a lane: a newer one from the same user replaces it, and the older one
    is skipped at once (clients send a query per keystroke; only the last one matters).  At
    most ``inline_backlog`` users wait; beyond that new inline queries are dropped.  So
    waiting inline queries stay few, and PTB's own semaphore (``max_concurrent_updates``,
    sized above both lanes) never makes a chat update wait behind them.
    """

    def __init__(
        self, chat_lanes: int = 64, inline_lanes: int = 16, inline_backlog: int = 256
    ) -> None:
        super().__init__(chat_lanes + inline_lanes + inline_backlog + 1)
        self.chat_lanes = chat_lanes
        self.inline_lanes = inline_lanes
        self.inline_backlog = inline_backlog
        self._chat = asyncio.Semaphore(chat_lanes)
        self._inline_running = 0
        self._inline_queue: deque[tuple[int, asyncio.Future[bool]]] = deque()
        self._inline_waiting: dict[int, asyncio.Future[bool]] = {}  # user -> ticket
        self.inline_skipped = 0  # superseded or over the backlog, for tests and logs

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        if not isinstance(update, Update) or update.inline_query is None:
            async with self._chat:
                await coroutine
            return
        user = update.inline_query.from_user.id
        older = self._inline_waiting.pop(user, None)
        if older is not None and not older.done():
            older.set_result(False)  # the user has typed on since
        if len(self._inline_waiting) >= self.inline_backlog:
            self._skip(coroutine)
            return
        ticket: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._inline_waiting[user] = ticket
        self._inline_queue.append((user, ticket))
        self._dispatch_inline()
        try:
            go = await ticket
        except asyncio.CancelledError:
            if ticket.done() and not ticket.cancelled() and ticket.result():
                self._inline_done()
            elif self._inline_waiting.get(user) is ticket:
                del self._inline_waiting[user]
            self._skip(coroutine)
            raise
        if not go:
            self._skip(coroutine)
            return
        try:
            await coroutine
        finally:
            self._inline_done()

    def _dispatch_inline(self) -> None:
        queue = self._inline_queue
        while self._inline_running < self.inline_lanes and queue:
            user, ticket = queue.popleft()
            if ticket.done():
                continue  # superseded
            if self._inline_waiting.get(user) is ticket:
                del self._inline_waiting[user]
            self._inline_running += 1
            ticket.set_result(True)
        if len(queue) > 4 * (self.inline_backlog + 1):  # drop superseded tickets
            self._inline_queue = deque(item for item in queue if not item[1].done())

    def _inline_done(self) -> None:
        self._inline_running -= 1
        self._dispatch_inline()

    def _skip(self, coroutine: Awaitable[Any]) -> None:
        self.inline_skipped += 1
        if inspect.iscoroutine(coroutine):
            coroutine.close()
