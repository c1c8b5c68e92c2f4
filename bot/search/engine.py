"""The asynchronous answering service: batched, cached query embedding in front of a Retriever.

Concurrent questions (many chats, inline typing) are embedded together, one model call at a
time: a question that arrives while the model is busy joins the next call, so a burst of
questions costs a few batched calls instead of one call each, and a lone question never
waits for a timer.  An idle engine can also hold its first question up to `batch_wait`
seconds for company (0 by default: `footnote bench` measured the wait as pure latency, since
the questions of one burst reach the engine within the same turn of the event loop and share
the call anyway -- see docs/performance.md).

Repeated questions are answered from an LRU cache of query vectors, and a question that is
already being embedded for another chat shares that embedding instead of queueing again.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bot.index.embedding import encode_with_tokens
from bot.index.tokens import TokenMatrix
from bot.search.answer import DEFAULT_RESULTS, Answer
from bot.search.library import Library
from bot.search.ranking import RetrievalConfig
from bot.search.retriever import Retriever
from bot.text import question_key

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Encoded = tuple[NDArray[np.float32], TokenMatrix | None]


@dataclass
class EngineStats:
    questions: int = 0
    cache_hits: int = 0
    model_calls: int = 0
    embedded: int = 0
    # Questions that shared an embedding already queued or running for another chat.
    joined: int = 0
    largest_batch: int = 0


_worker_state = threading.local()


def _single_threaded_search() -> None:
    """One OpenMP thread for FAISS in this worker thread (a per-thread setting in OpenMP).

    A single query gains nothing from FAISS's threads, and on a busy machine their barriers
    made a flat search of 30k-100k vectors 4-6x slower (docs/performance.md); concurrency
    comes from answering several questions at once instead.
    """
    if getattr(_worker_state, "faiss_threads_set", False):
        return
    _worker_state.faiss_threads_set = True
    with contextlib.suppress(ImportError):
        import faiss

        faiss.omp_set_num_threads(1)


def _ask_in_worker(
    retriever: Retriever,
    question: str,
    k: int,
    vector: NDArray[np.float32] | None,
    tokens: TokenMatrix | None = None,
) -> Answer:
    if vector is not None:
        _single_threaded_search()
    return retriever.ask(question, k, vector, tokens)


class Engine:
    def __init__(
        self,
        retriever: Retriever,
        batch_wait: float = 0.0,
        max_batch: int = 32,
        cache_size: int = 2048,
    ) -> None:
        self.retriever = retriever
        self.batch_wait = batch_wait
        self.max_batch = max(1, max_batch)
        self.cache_size = cache_size
        self.stats = EngineStats()
        # Each question's vector and token embeddings (one forward pass gives both).
        self._cache: OrderedDict[str, Encoded] = OrderedDict()
        # Questions waiting for the model, in arrival order, and the future each one resolves.
        self._pending: list[tuple[str, str]] = []
        self._waiting: dict[str, asyncio.Future[Encoded]] = {}
        self._worker: asyncio.Task[None] | None = None
        self._full: asyncio.Event | None = None

    @property
    def library(self) -> Library:
        """The read-only library of the index in service."""
        return self.retriever.library

    @property
    def config(self) -> RetrievalConfig:
        """How the index in service is searched (a reload keeps it)."""
        return self.retriever.config

    def swap(self, retriever: Retriever) -> None:
        """Serve from a new index from now on (questions in flight finish on the old one)."""
        if retriever.embedder.name != self.retriever.embedder.name:
            self._cache.clear()
        self.retriever = retriever

    def clear_cache(self) -> None:
        """Forget every cached query vector (benchmarks use it to measure cold questions)."""
        self._cache.clear()

    async def embed(self, text: str) -> NDArray[np.float32]:
        return (await self.encode(text))[0]

    async def encode(self, text: str) -> Encoded:
        """The question's vector and token embeddings, batched with other chats' and cached."""
        key = question_key(text)
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            self.stats.cache_hits += 1
            return cached
        future = self._waiting.get(key)
        if future is not None:
            self.stats.joined += 1
        else:
            future = asyncio.get_running_loop().create_future()
            self._waiting[key] = future
            self._pending.append((key, text))
            if self._full is not None and len(self._pending) >= self.max_batch:
                self._full.set()
            if self._worker is None or self._worker.done():
                self._worker = asyncio.get_running_loop().create_task(self._drain())
        # shield: a cancelled handler must not cancel the embedding other chats share.
        return await asyncio.shield(future)

    async def _drain(self) -> None:
        """Embed the waiting questions, one model call (of up to max_batch) at a time."""
        if self.batch_wait > 0 and len(self._pending) < self.max_batch:
            self._full = asyncio.Event()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._full.wait(), self.batch_wait)
            self._full = None
        else:
            # Let the rest of a burst (queued in this same turn of the loop) join the call.
            await asyncio.sleep(0)
        while self._pending:
            batch = self._pending[: self.max_batch]
            del self._pending[: self.max_batch]
            await self._run_batch(batch)

    async def _run_batch(self, batch: list[tuple[str, str]]) -> None:
        embedder = self.retriever.embedder
        self.stats.model_calls += 1
        self.stats.embedded += len(batch)
        self.stats.largest_batch = max(self.stats.largest_batch, len(batch))
        try:
            vectors, tokens = await asyncio.to_thread(
                encode_with_tokens, embedder, [text for _, text in batch]
            )
        except Exception as exc:
            for key, _ in batch:
                future = self._waiting.pop(key, None)
                if future is not None and not future.done():
                    future.set_exception(exc)
                    future.exception()  # retrieved: no warning when nobody waits any more
            return
        same_model = self.retriever.embedder.name == embedder.name
        for row, (key, _) in enumerate(batch):
            vector: Encoded = (vectors[row], tokens[row] if tokens else None)
            if same_model:
                self._remember(key, vector)
            future = self._waiting.pop(key, None)
            if future is not None and not future.done():
                future.set_result(vector)

    def _remember(self, key: str, vector: Encoded) -> None:
        if self.cache_size <= 0:
            return
        self._cache[key] = vector
        self._cache.move_to_end(key)
        while len(self._cache) > self.cache_size:
            self._cache.popitem(last=False)

    async def ask(self, question: str, k: int = DEFAULT_RESULTS) -> Answer:
        self.stats.questions += 1
        retriever = self.retriever
        if not retriever.needs_vector(question):
            return await asyncio.to_thread(retriever.ask, question, k)
        vector, tokens = await self.encode(question)
        return await asyncio.to_thread(_ask_in_worker, retriever, question, k, vector, tokens)

    async def cite(self, phrase: str, k: int = DEFAULT_RESULTS) -> Answer:
        return await asyncio.to_thread(self.retriever.cite, phrase, k)

    async def cite_or_ask(self, text: str, k: int = DEFAULT_RESULTS) -> Answer:
        answer = await self.cite(text, k)
        return answer if answer.found else await self.ask(text, k)
