"""Flood limits and retries under every Bot API call: ``ResilientRateLimiter``.

A ``BaseRateLimiter`` (python-telegram-bot's extension point for it, wired in by
build_application), it sits under every Bot API call except getUpdates.  It keeps Telegram's
broadcast limits as exact sliding windows (30 messages in any second overall, 20 in any minute
per group, 1 in any second per private chat), a request counting from when it leaves until a
window after it completed, so that no span at the server can hold more, whatever the network
delay.  (PTB's AIORateLimiter is a leaky bucket that lets a full bucket's burst out on top of
the steady rate, i.e. up to twice the limit inside one window.)  It retries transient failures:

* 429 Too Many Requests: wait ``retry_after`` (that group only for a group chat, every chat
  otherwise), then send again; Telegram did not process the request.
* 5xx answers, refused or dropped connections (``NetworkError``): retry with exponential
  backoff for up to ``retry_for`` seconds in all (30 s by default, enough for the API to come
  back from a short outage).  A connection dropped after the request left is, in principle,
  ambiguous too; in practice it is a stale keep-alive connection or the API restarting, so it
  is retried (a rare duplicate rather than a lost answer).  A request that failed locally
  (e.g. a text that cannot be encoded) is not: it would fail the same way again.
* Timeouts: a request that timed out while connecting or waiting for a pooled connection was
  never sent, so it is retried.  A read or write timeout is ambiguous -- Telegram may have
  received the message and be about to deliver it -- so it is retried only for read-only or
  idempotent methods (get*, setMyCommands, setWebhook...).  A send that timed out is given up:
  the user may miss one answer (and is told something went wrong) but never gets it twice.
* Never retried: BadRequest, Forbidden, InvalidToken, Conflict -- retrying cannot help.

Doing this in the rate limiter rather than around each send keeps the handlers thin and
covers every call (sends, edits, callback answers, setMyCommands at start-up) in one place;
each retry takes a fresh flood-limit slot, so retries never break the limits either.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import time
import warnings
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from datetime import timedelta
from typing import Any

import httpx
from telegram.error import BadRequest, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import BaseRateLimiter

logger = logging.getLogger(__name__)

# Telegram's documented broadcast limits (https://core.telegram.org/bots/faq).
OVERALL_PER_SECOND = 30
GROUP_PER_MINUTE = 20
# "In a single chat, avoid sending more than one message per second": private chats are paced.
PRIVATE_PER_SECOND = 1
# Spare time added to each window (clocks and counting at Telegram are not ours).
WINDOW_MARGIN = 0.05
# Calls that can be repeated safely even if the first attempt may have been processed.
IDEMPOTENT_METHODS = frozenset(
    {
        "setMyCommands",
        "deleteMyCommands",
        "setWebhook",
        "deleteWebhook",
        "setChatMenuButton",
        "setMyDescription",
        "setMyShortDescription",
        "setMyName",
        "logOut",
        "close",
    }
)

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[None]]
ApiCall = Callable[..., Coroutine[Any, Any, bool | dict[str, Any] | list[dict[str, Any]]]]


class SlidingWindow:
    """At most ``limit`` requests in any ``period`` seconds, as the server can see them.

    A request counts from the moment it is sent until ``period`` seconds after it completed:
    the server received it somewhere in between, so however uneven the network delay, no
    ``period``-long span at the server ever holds more than ``limit`` of them.
    """

    POLL = 0.02  # how often to look again while the window is full of requests in flight

    def __init__(self, limit: int, period: float) -> None:
        self.limit = limit
        self.period = period
        self._requests: deque[list[float]] = deque()  # [sent, completed or inf]

    def wait_time(self, now: float) -> float:
        """Seconds until one more request fits (0 if it fits now)."""
        if self.limit <= 0:
            return 0.0
        self._prune(now)
        excess = len(self._requests) - self.limit
        if excess < 0:
            return 0.0
        frees = sorted(done + self.period for _, done in self._requests)[excess]
        return min(frees - now, self.POLL) if frees == math.inf else frees - now

    def _prune(self, now: float) -> None:
        # Completed requests leave in any order; the deque is short (at most `limit` + a few).
        if any(now - done >= self.period for _, done in self._requests):
            kept = [r for r in self._requests if now - r[1] < self.period]
            self._requests = deque(kept)

    def start(self, now: float) -> list[float]:
        request = [now, math.inf]
        if self.limit > 0:
            self._requests.append(request)
        return request

    @property
    def idle(self) -> bool:
        return not self._requests


def _complete(requests: list[list[float]], now: float) -> None:
    for request in requests:
        request[1] = now


def is_transient(error: Exception, endpoint: str) -> bool:
    """Whether sending the same request again is both useful and safe."""
    if isinstance(error, BadRequest) or not isinstance(error, NetworkError):
        return False
    cause = error.__cause__
    if cause is not None and not isinstance(cause, httpx.HTTPError | TelegramError):
        # A local failure ("Unknown error in HTTP implementation"), e.g. a text that cannot
        # be encoded: the same request would fail the same way.
        return False
    if isinstance(error, TimedOut):
        if isinstance(error.__cause__, httpx.ConnectTimeout | httpx.PoolTimeout):
            return True  # the request never left
        return endpoint.startswith("get") or endpoint in IDEMPOTENT_METHODS
    return True  # 5xx, connection refused or reset


def retry_after_seconds(error: RetryAfter) -> float:
    value = getattr(error, "_retry_after", None)
    if not isinstance(value, timedelta):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # PTB warns about int time periods
            value = error.retry_after
    return value.total_seconds() if isinstance(value, timedelta) else float(value)


class ResilientRateLimiter(BaseRateLimiter[int]):
    """Exact sliding-window flood limits plus bounded retries of transient failures.

    ``rate_limit_args`` (per call, PTB's ``rate_limit_args=``) overrides the number of 429
    retries for that call.
    """

    def __init__(
        self,
        overall_per_second: int = OVERALL_PER_SECOND,
        group_per_minute: int = GROUP_PER_MINUTE,
        *,
        private_per_second: int = PRIVATE_PER_SECOND,
        max_flood_retries: int = 5,
        retry_for: float = 30.0,
        first_backoff: float = 0.5,
        max_backoff: float = 4.0,
        margin: float = WINDOW_MARGIN,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.max_flood_retries = max_flood_retries
        self.retry_for = retry_for
        self.first_backoff = first_backoff
        self.max_backoff = max_backoff
        self._clock = clock
        self._sleep = sleep
        self._overall = SlidingWindow(overall_per_second, 1.0 + margin)
        self._group_limit = group_per_minute
        self._group_period = 60.0 + margin * 20
        self._private_limit = private_per_second
        self._private_period = 1.0 + margin
        self._groups: dict[int | str, SlidingWindow] = {}
        self._group_locks: dict[int | str, asyncio.Lock] = {}
        self._overall_lock = asyncio.Lock()
        self._paused_until = 0.0
        self._group_paused_until: dict[int | str, float] = {}
        self.retries = 0  # transient failures retried, for tests and logs
        self.flood_waits = 0  # 429 answers honoured

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release."""

    async def process_request(
        self,
        callback: ApiCall,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> bool | dict[str, Any] | list[dict[str, Any]]:
        chat_id = data.get("chat_id")
        group = _group_of(chat_id)
        chat = group if group is not None else _private_of(chat_id)
        flood_retries = rate_limit_args if rate_limit_args is not None else self.max_flood_retries
        deadline: float | None = None
        backoff = self.first_backoff
        attempt = 0
        while True:
            attempt += 1
            slots = await self._take_slot(chat_id is not None, group, chat)
            if deadline is None:
                # The retry budget starts when the request first leaves: waiting in a chat's
                # queue (pacing, flood windows) is not time the API was failing.
                deadline = self._clock() + self.retry_for
            try:
                try:
                    return await callback(*args, **kwargs)
                finally:
                    _complete(slots, self._clock())
            except RetryAfter as error:
                if flood_retries <= 0:
                    raise
                flood_retries -= 1
                self.flood_waits += 1
                wait = retry_after_seconds(error) + 0.1
                logger.warning("%s: flood limit hit, waiting %.1f s (%s)", endpoint, wait, error)
                self._pause(group, wait)
            except NetworkError as error:
                remaining = deadline - self._clock()
                if not is_transient(error, endpoint) or remaining <= 0:
                    raise
                delay = min(backoff * (1 + random.random() / 4), self.max_backoff, remaining)
                backoff = min(backoff * 2, self.max_backoff)
                self.retries += 1
                logger.warning(
                    "%s failed (attempt %d: %s); retrying in %.1f s",
                    endpoint,
                    attempt,
                    error,
                    delay,
                )
                await self._sleep(delay)

    def _pause(self, group: int | str | None, seconds: float) -> None:
        until = self._clock() + seconds
        if group is not None:
            self._group_paused_until[group] = max(self._group_paused_until.get(group, 0), until)
        else:
            self._paused_until = max(self._paused_until, until)

    async def _take_slot(
        self, counted: bool, group: int | str | None, chat: int | str | None = None
    ) -> list[list[float]]:
        """Wait for pauses and both windows (overall, and the group's or private chat's),
        then enter the request in each at one instant."""
        while (wait := self._paused_until - self._clock()) > 0:
            await self._sleep(wait)
        if not counted:
            return []
        if chat is None:
            async with self._overall_lock:
                await self._wait_window(self._overall)
                return [self._overall.start(self._clock())]
        async with self._group_lock(chat):
            while (
                group is not None
                and (wait := self._group_paused_until.get(group, 0) - self._clock()) > 0
            ):
                await self._sleep(wait)
            window = self._group_window(chat, private=group is None)
            await self._wait_window(window)
            async with self._overall_lock:
                await self._wait_window(self._overall)
                now = self._clock()
                return [self._overall.start(now), window.start(now)]

    async def _wait_window(self, window: SlidingWindow) -> None:
        while (wait := window.wait_time(self._clock())) > 0:
            await self._sleep(wait)

    def _group_lock(self, group: int | str) -> asyncio.Lock:
        lock = self._group_locks.get(group)
        if lock is None:
            lock = self._group_locks[group] = asyncio.Lock()
        return lock

    def _group_window(self, chat: int | str, private: bool = False) -> SlidingWindow:
        """The window of a group (or, `private`, of a private chat)."""
        window = self._groups.get(chat)
        if window is None:
            if len(self._groups) >= 1024:
                self._forget_quiet_groups()
            if private:
                window = SlidingWindow(self._private_limit, self._private_period)
            else:
                window = SlidingWindow(self._group_limit, self._group_period)
            self._groups[chat] = window
        return window

    def _forget_quiet_groups(self) -> None:
        """Keep memory bounded: drop the windows of groups with no send in the last minute."""
        now = self._clock()
        for key, window in list(self._groups.items()):
            window.wait_time(now)  # prunes old events
            if window.idle and not self._group_locks[key].locked():
                del self._groups[key], self._group_locks[key]
                self._group_paused_until.pop(key, None)


def _private_of(chat_id: object) -> int | None:
    """A private chat's id (users have positive ids), else None."""
    if isinstance(chat_id, str):
        with contextlib.suppress(ValueError):
            chat_id = int(chat_id)
    return chat_id if isinstance(chat_id, int) and chat_id > 0 else None


def _group_of(chat_id: object) -> int | str | None:
    """Group and channel chats have negative ids (or an @username); users positive ones."""
    if isinstance(chat_id, str):
        with contextlib.suppress(ValueError):
            chat_id = int(chat_id)
    if isinstance(chat_id, str) or (isinstance(chat_id, int) and chat_id < 0):
        return chat_id
    return None
