"""The per-user rate limit on questions: how many a user may ask, and the check.

Every question costs a search (and usually a model call), and every button press or /sections
walks the index, so each user may make at most ``FOOTNOTE_RATE_LIMIT`` of them in any
``FOOTNOTE_RATE_WINDOW`` seconds.  The check runs once, before any handler (handlers.rate_limit,
in handler group -1): an update over the limit gets the polite RATE_LIMITED notice (a toast
for a press) and goes no further.  What counts is bot/telegram/questions.costs_work; /help,
/start and inline queries (which have their own debounce) do not.
"""

from __future__ import annotations

import time
from collections import deque

from telegram import Bot, Update

from bot.telegram.questions import costs_work

RATE_LIMITED = "You're asking faster than I can quote. Give me a few seconds, then ask again."


class RateLimiter:
    """At most `limit` events per `window` seconds per key (sliding window, in memory)."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._events: dict[int, deque[float]] = {}

    def allow(self, key: int, now: float | None = None) -> bool:
        if self.limit <= 0:
            return True
        now = time.monotonic() if now is None else now
        events = self._events.setdefault(key, deque())
        while events and now - events[0] >= self.window:
            events.popleft()
        if len(events) >= self.limit:
            return False
        events.append(now)
        if len(self._events) > 10_000:  # forget idle users so memory stays bounded
            for idle in [k for k, v in self._events.items() if not v or now - v[-1] >= self.window]:
                del self._events[idle]
        return True


def over_limit(update: Update, bot: Bot, limiter: RateLimiter) -> bool:
    """Whether ``update`` asks a question its asker may not ask now (asking counts)."""
    user = update.effective_user
    return user is not None and costs_work(update, bot) and not limiter.allow(user.id)
