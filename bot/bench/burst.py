"""Many questions at once (20 by default) through the batched Engine, against the same
questions answered one by one and against an unbatched engine (batch_wait=0, max_batch=1)."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot.bench.stats import ratio, summarize, table
from bot.bench.workload import RESULTS_PER_QUESTION
from bot.errors import BenchError

if TYPE_CHECKING:
    from bot.search.retriever import Retriever


async def bench_burst(
    retriever: Retriever, questions: Sequence[str], size: int, trials: int
) -> dict[str, Any]:
    """`size` different questions arriving at once, answered (with the reply formatted) by:
    one_by_one -- one after the other (an unbatched engine, each awaited before the next);
    unbatched  -- all at once through an engine with batch_wait=0, max_batch=1;
    batched    -- all at once through the default Engine;
    batched_wait_4ms -- the same, holding an idle engine's first question up to 4 ms."""
    from bot.render.reply import answer_reply
    from bot.search.engine import Engine

    if len(set(questions)) < size:
        raise BenchError(f"--burst {size} needs {size} different questions")
    burst = list(dict.fromkeys(questions))[:size]
    k = RESULTS_PER_QUESTION
    engines: dict[str, Engine] = {
        "one_by_one": Engine(retriever, batch_wait=0.0, max_batch=1),
        "unbatched": Engine(retriever, batch_wait=0.0, max_batch=1),
        "batched": Engine(retriever),
        "batched_wait_4ms": Engine(retriever, batch_wait=0.004),
    }
    seconds: dict[str, list[float]] = {name: [] for name in engines}
    latencies: dict[str, list[float]] = {name: [] for name in engines}
    calls: dict[str, list[int]] = {name: [] for name in engines}

    async def one(engine: Engine, question: str, started: float) -> float:
        answer_reply(await engine.ask(question, k))
        return time.perf_counter() - started

    for trial in range(trials + 1):  # trial 0 warms up
        names = list(engines)
        offset = trial % len(names)
        for name in names[offset:] + names[:offset]:
            engine = engines[name]
            engine.clear_cache()
            before = engine.stats.model_calls
            started = time.perf_counter()
            if name == "one_by_one":
                done = [await one(engine, q, started) for q in burst]
            else:
                done = list(await asyncio.gather(*(one(engine, q, started) for q in burst)))
            elapsed = time.perf_counter() - started
            if trial:
                seconds[name].append(elapsed)
                latencies[name].extend(done)
                calls[name].append(engine.stats.model_calls - before)
    results: dict[str, Any] = {}
    for name in engines:
        answers_per_second = [size / s for s in seconds[name]]
        results[name] = {
            "burst_seconds": summarize(seconds[name]),
            "answers_per_second": round(statistics.median(answers_per_second), 2),
            "latency": summarize(latencies[name]),
            "model_calls_per_burst": statistics.median(calls[name]),
        }
    base = results["one_by_one"]["answers_per_second"]
    return {
        "size": size,
        "trials": trials,
        "engines": results,
        "speedup_vs_one_by_one": {
            name: ratio(r["answers_per_second"], base) for name, r in results.items()
        },
        "speedup_vs_unbatched": {
            name: ratio(r["answers_per_second"], results["unbatched"]["answers_per_second"])
            for name, r in results.items()
        },
    }


def format_burst(burst: dict[str, Any]) -> str:
    out = [f"\n{burst['size']} questions at once ({burst['trials']} trials):"]
    rows = []
    for name, r in burst["engines"].items():
        rows.append(
            [
                name,
                f"{r['answers_per_second']:.1f}",
                f"{r['latency']['p50_ms']:.1f}",
                f"{r['latency']['p95_ms']:.1f}",
                r["model_calls_per_burst"],
                f"{burst['speedup_vs_one_by_one'][name]:.2f}x",
            ]
        )
    out.append(
        table(rows, ["engine", "answers/s", "p50 ms", "p95 ms", "model calls", "vs one by one"])
    )
    return "\n".join(out)
