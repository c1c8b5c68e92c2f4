"""A sliding-window rate limiter, shared by the front ends (Telegram users, web clients).

Shared rather than owned by bot/telegram/: the web reader (bot/web/) limits its search
endpoints per client address with the same rule, and one front end must not import another
(nor load python-telegram-bot to serve a web page).  Pure standard library.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Hashable

# Beyond this many keys, idle ones are forgotten so memory stays bounded.
MAX_KEYS = 10_000


class RateLimiter:
    """At most `limit` events per `window` seconds per key (sliding window, in memory);
    a limit of 0 or less allows everything."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._events: dict[Hashable, deque[float]] = {}

    def allow(self, key: Hashable, now: float | None = None) -> bool:
        if self.limit <= 0:
            return True
        now = time.monotonic() if now is None else now
        events = self._events.setdefault(key, deque())
        while events and now - events[0] >= self.window:
            events.popleft()
        if len(events) >= self.limit:
            return False
        events.append(now)
        if len(self._events) > MAX_KEYS:  # forget idle keys so memory stays bounded
            for idle in [k for k, v in self._events.items() if not v or now - v[-1] >= self.window]:
                del self._events[idle]
        return True

    def retry_after(self, key: Hashable, now: float | None = None) -> float:
        """Seconds until `key` may make another request (0 if it may now)."""
        events = self._events.get(key)
        if self.limit <= 0 or not events or len(events) < self.limit:
            return 0.0
        now = time.monotonic() if now is None else now
        return max(0.0, events[0] + self.window - now)
