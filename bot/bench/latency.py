"""Latency of one question: the floor (the model's `encode` of the question plus one raw FAISS
search), the whole answer path (retrieval, quote choice and the Telegram reply, through the
Retriever and through the Engine), and BM25 alone; medians, p95 and ratios to the floor.

Each question runs every variant, in a fresh random order; warm-up rounds first, then
`--rounds` rounds over every question.
"""

from __future__ import annotations

import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from bot.bench.stats import ratio, summarize, table
from bot.bench.workload import RESULTS_PER_QUESTION, faiss_single_thread

if TYPE_CHECKING:
    from bot.search.retriever import Retriever

LATENCY_VARIANTS = (
    "floor",
    "answer_engine",
    "answer_retriever",
    "answer_engine_cached",
    "retrieval_only",
    "bm25",
    "lexical_answer",
)
LATENCY_LABELS = {
    "floor": "floor: model encode + raw FAISS search",
    "answer_engine": "whole answer path, Engine (cold cache) + reply",
    "answer_retriever": "whole answer path, Retriever.ask + reply",
    "answer_engine_cached": "whole answer path, Engine (cached question)",
    "retrieval_only": "retrieval + quote + reply, vector given",
    "bm25": "lexical baseline: BM25 top-k alone",
    "lexical_answer": "lexical-only answer path + reply",
}


async def bench_latency(
    retriever: Retriever, questions: Sequence[str], rounds: int, warmup: int
) -> dict[str, Any]:
    from bot.index.lexical import index_terms
    from bot.render.reply import answer_reply
    from bot.search.engine import Engine
    from bot.search.retriever import Retriever

    store, embedder = retriever.store, retriever.embedder
    candidates = retriever.config.candidates
    dense = retriever.config.mode != "lexical"
    faiss_single_thread()
    index = store.faiss_index
    lexical = Retriever(store, embedder, replace(retriever.config, mode="lexical"))
    engine = Engine(retriever)
    k = RESULTS_PER_QUESTION

    async def floor(question: str) -> float:
        started = time.perf_counter()
        vector = embedder.encode([question])
        index.search(vector, min(candidates, len(store.passages)))
        return time.perf_counter() - started

    async def answer_engine(question: str) -> float:
        engine.clear_cache()
        started = time.perf_counter()
        answer_reply(await engine.ask(question, k))
        return time.perf_counter() - started

    async def answer_engine_cached(question: str) -> float:
        if dense:
            await engine.embed(question)  # make sure it is cached (untimed)
        started = time.perf_counter()
        answer_reply(await engine.ask(question, k))
        return time.perf_counter() - started

    async def answer_retriever(question: str) -> float:
        started = time.perf_counter()
        answer_reply(retriever.ask(question, k))
        return time.perf_counter() - started

    async def retrieval_only(question: str) -> float:
        vectors, tokens = retriever.encode([question]) if dense else (None, None)
        started = time.perf_counter()
        vector = vectors[0] if vectors is not None else None
        answer_reply(retriever.ask(question, k, vector, tokens[0] if tokens else None))
        return time.perf_counter() - started

    async def bm25(question: str) -> float:
        started = time.perf_counter()
        store.bm25.top(index_terms(question), candidates)
        return time.perf_counter() - started

    async def lexical_answer(question: str) -> float:
        started = time.perf_counter()
        answer_reply(lexical.ask(question, k))
        return time.perf_counter() - started

    measures: dict[str, Callable[[str], Awaitable[float]]] = {
        "floor": floor,
        "answer_engine": answer_engine,
        "answer_retriever": answer_retriever,
        "answer_engine_cached": answer_engine_cached,
        "retrieval_only": retrieval_only,
        "bm25": bm25,
        "lexical_answer": lexical_answer,
    }
    samples: dict[str, list[float]] = {name: [] for name in measures}
    names = list(measures)
    shuffler = random.Random(0)
    for round_no in range(warmup + rounds):
        for question in questions:
            # A fresh random order per question: no variant always runs first, or always
            # right after another (a fixed rotation measurably favoured some neighbours).
            shuffler.shuffle(names)
            for name in names:
                seconds = await measures[name](question)
                if round_no >= warmup:
                    samples[name].append(seconds)
    summary = {name: summarize(values) for name, values in samples.items()}
    floor_summary = summary["floor"]
    ratios = {
        name: {
            "p50": ratio(s["p50_ms"], floor_summary["p50_ms"]),
            "p95": ratio(s["p95_ms"], floor_summary["p95_ms"]),
        }
        for name, s in summary.items()
    }
    return {
        "questions": len(questions),
        "rounds": rounds,
        "warmup_rounds": warmup,
        "passages": len(store.passages),
        "faiss_type": store.manifest.faiss_type,
        "candidates": candidates,
        "variants": summary,
        "ratios_to_floor": ratios,
        "engine_stats": vars(engine.stats),
    }


def format_latency(latency: dict[str, Any]) -> str:
    out = [
        f"\nPer question ({latency['questions']} questions x {latency['rounds']} rounds, "
        f"after {latency['warmup_rounds']} warm-up; FAISS {latency['faiss_type']}):"
    ]
    rows = []
    for name in LATENCY_VARIANTS:
        s = latency["variants"][name]
        r = latency["ratios_to_floor"][name]
        rows.append(
            [
                LATENCY_LABELS[name],
                f"{s['p50_ms']:.2f}",
                f"{s['p95_ms']:.2f}",
                f"{r['p50']:.2f}x",
                f"{r['p95']:.2f}x",
            ]
        )
    out.append(table(rows, ["", "p50 ms", "p95 ms", "p50/floor", "p95/floor"]))
    return "\n".join(out)
