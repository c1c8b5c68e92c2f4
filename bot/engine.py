"""The asynchronous answering service: batched, cached query embedding in front of a Retriever.

Concurrent questions (many chats, inline typing) are embedded together: the first question
waits at most `batch_wait` seconds for company, so one model call serves a whole burst.
"""

from __future__ import annotations

import asyncio
import time
import unicodedata
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bot.retrieval import Answer, Retriever

if TYPE_CHECKING:
    from numpy.typing import NDArray


def cache_key(text: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


@dataclass
class EngineStats:
    questions: int = 0
    cache_hits: int = 0
    model_calls: int = 0
    embedded: int = 0


class Engine:
    def __init__(
        self,
        retriever: Retriever,
        batch_wait: float = 0.004,
        max_batch: int = 32,
        cache_size: int = 2048,
    ) -> None:
        self.retriever = retriever
        self.batch_wait = batch_wait
        self.max_batch = max_batch
        self.cache_size = cache_size
        self.stats = EngineStats()
        self._cache: OrderedDict[str, NDArray[np.float32]] = OrderedDict()
        self._pending: list[tuple[str, asyncio.Future[NDArray[np.float32]]]] = []
        self._flush_task: asyncio.Task[None] | None = None

    def swap(self, retriever: Retriever) -> None:
        """Serve from a new index from now on (questions in flight finish on the old one)."""
        if retriever.embedder.name != self.retriever.embedder.name:
            self._cache.clear()
        self.retriever = retriever

    async def embed(self, text: str) -> NDArray[np.float32]:
        key = cache_key(text)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            self.stats.cache_hits += 1
            return cached
        future: asyncio.Future[NDArray[np.float32]] = asyncio.get_running_loop().create_future()
        self._pending.append((text, future))
        if len(self._pending) >= self.max_batch:
            self._start_flush(now=True)
        elif self._flush_task is None or self._flush_task.done():
            self._start_flush(now=False)
        vector = await future
        self._remember(key, vector)
        return vector

    def _start_flush(self, now: bool) -> None:
        batch, self._pending = self._pending, []
        if now:
            asyncio.get_running_loop().create_task(self._run_batch(batch))
            return
        self._pending = batch
        self._flush_task = asyncio.get_running_loop().create_task(self._flush_later())

    async def _flush_later(self) -> None:
        await asyncio.sleep(self.batch_wait)
        batch, self._pending = self._pending, []
        if batch:
            await self._run_batch(batch)

    async def _run_batch(
        self, batch: list[tuple[str, asyncio.Future[NDArray[np.float32]]]]
    ) -> None:
        texts = list(dict.fromkeys(text for text, _ in batch))
        self.stats.model_calls += 1
        self.stats.embedded += len(texts)
        try:
            vectors = await asyncio.to_thread(self.retriever.embedder.encode, texts)
        except Exception as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        row_of = {text: row for row, text in enumerate(texts)}
        for text, future in batch:
            if not future.done():
                future.set_result(vectors[row_of[text]])

    def _remember(self, key: str, vector: NDArray[np.float32]) -> None:
        self._cache[key] = vector
        self._cache.move_to_end(key)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    async def ask(self, question: str, k: int = 4) -> Answer:
        self.stats.questions += 1
        retriever = self.retriever
        if retriever.config.mode == "lexical" or not question.strip():
            return await asyncio.to_thread(retriever.ask, question, k)
        vector = await self.embed(question)
        return await asyncio.to_thread(retriever.ask, question, k, vector)

    async def cite(self, phrase: str, k: int = 4) -> Answer:
        return await asyncio.to_thread(self.retriever.cite, phrase, k)

    async def cite_or_ask(self, text: str, k: int = 4) -> Answer:
        answer = await self.cite(text, k)
        return answer if answer.found else await self.ask(text, k)


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
