"""Fault injection (errors, slow answers) and flood-limit measurement for the fake server."""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections import defaultdict, deque
from dataclasses import dataclass, field

from .limits import ApiError

__all__ = ["FaultPlan", "FloodStats", "FloodTracker"]

_DEFAULT_DESCRIPTIONS = {
    400: "Bad Request: injected error",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running",
    500: "Internal Server Error",
    502: "Bad Gateway",
}

# Telegram's documented broadcast limits (https://core.telegram.org/bots/faq).
OVERALL_PER_SECOND = 30
GROUP_PER_MINUTE = 20


class FaultPlan:
    """Per-method queues of injected failures and delays (method names case-insensitive)."""

    def __init__(self) -> None:
        self._failures: dict[str, deque[ApiError]] = defaultdict(deque)
        self._delays: dict[str, deque[float]] = defaultdict(deque)

    def fail_next(
        self,
        method: str,
        times: int = 1,
        error_code: int = 429,
        retry_after: int | None = 1,
        description: str | None = None,
    ) -> None:
        if error_code == 429:
            text = description or (
                f"Too Many Requests: retry after {retry_after}"
                if retry_after is not None
                else "Too Many Requests"
            )
            after = retry_after
        else:
            text = description or _DEFAULT_DESCRIPTIONS.get(error_code, f"Error {error_code}")
            after = None  # Telegram only sends retry_after with 429
        for _ in range(times):
            self._failures[method.lower()].append(
                ApiError(error_code, text, retry_after=after, injected=True)
            )

    def delay(self, method: str, seconds: float, times: int = 1) -> None:
        self._delays[method.lower()].extend([seconds] * times)

    def take_failure(self, method: str) -> ApiError | None:
        queue = self._failures.get(method.lower())
        return queue.popleft() if queue else None

    def take_delay(self, method: str) -> float:
        queue = self._delays.get(method.lower())
        return queue.popleft() if queue else 0.0

    def pending(self) -> dict[str, int]:
        return {m: len(q) for m, q in self._failures.items() if q}


@dataclass
class FloodStats:
    """Peak sendMessage rates seen so far."""

    max_per_second_overall: int = 0
    max_per_second_per_chat: int = 0
    max_per_minute_per_group: int = 0
    per_minute_by_group: dict[int, int] = field(default_factory=dict)
    total: int = 0


def _max_in_window(times: list[float], window: float) -> int:
    """Most events inside any half-open window of ``window`` seconds (times sorted)."""
    best = 0
    start = 0
    for end, moment in enumerate(times):
        while moment - times[start] >= window:
            start += 1
        best = max(best, end - start + 1)
    return best


class FloodTracker:
    def __init__(self) -> None:
        self._overall: list[float] = []
        self._by_chat: dict[int, list[float]] = defaultdict(list)
        self._groups: set[int] = set()

    def record(self, chat_id: int, is_group: bool, moment: float) -> None:
        self._overall.append(moment)
        self._by_chat[chat_id].append(moment)
        if is_group:
            self._groups.add(chat_id)

    def retry_after(self, chat_id: int, is_group: bool, moment: float) -> int | None:
        """Seconds to wait if one more message now would break Telegram's limits, else None."""
        waits: list[float] = []
        recent = self._overall[bisect_right(self._overall, moment - 1.0) :]
        if len(recent) >= OVERALL_PER_SECOND:
            waits.append(recent[-OVERALL_PER_SECOND] + 1.0 - moment)
        if is_group:
            times = self._by_chat.get(chat_id, [])
            window = times[bisect_left(times, moment - 60.0) :]
            if len(window) >= GROUP_PER_MINUTE:
                waits.append(window[-GROUP_PER_MINUTE] + 60.0 - moment)
        if not waits:
            return None
        return max(1, math.ceil(max(waits)))

    def stats(self) -> FloodStats:
        per_group = {
            chat: _max_in_window(self._by_chat[chat], 60.0) for chat in sorted(self._groups)
        }
        per_chat = [_max_in_window(t, 1.0) for t in self._by_chat.values()]
        return FloodStats(
            max_per_second_overall=_max_in_window(self._overall, 1.0),
            max_per_second_per_chat=max(per_chat, default=0),
            max_per_minute_per_group=max(per_group.values(), default=0),
            per_minute_by_group=per_group,
            total=len(self._overall),
        )
