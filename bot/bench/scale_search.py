"""The scale run's search child: synthetic vectors searched by flat and IVF indexes (built by
bot.index.ann.build_faiss, as `footnote index` does): build time, peak RSS, single-query
search p50/p95 (one FAISS thread, as the Engine searches) and recall@10 against exact search."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.bench.memory import peak_rss_gib, reset_peak_rss
from bot.bench.scale_jobs import SearchJob, phase
from bot.bench.stats import summarize
from bot.bench.synth import DIMENSION, Mixture, exact_top

if TYPE_CHECKING:
    from numpy.typing import NDArray

GIB = 1024**3


def _timed_searches(index: Any, queries: NDArray[np.float32], k: int) -> tuple[list[float], Any]:
    seconds: list[float] = []
    rows = []
    for query in queries:
        started = time.perf_counter()
        _, found = index.search(query.reshape(1, -1), k)
        seconds.append(time.perf_counter() - started)
        rows.append(found[0])
    return seconds, np.array(rows)


def _recall(found: NDArray[np.int64], truth: NDArray[np.int64], k: int = 10) -> float:
    hits = [
        len(set(f[:k].tolist()) & set(t[:k].tolist())) / k
        for f, t in zip(found, truth, strict=True)
    ]
    return round(float(np.mean(hits)), 4)


def search_child(job: SearchJob) -> dict[str, Any]:
    import faiss

    from bot.index.ann import build_faiss, choose_faiss_type, ivf_params

    size, workdir = job.size, Path(job.workdir)
    result: dict[str, Any] = {"size": size, "dimension": DIMENSION}
    phase("vectors")
    mixture = Mixture()
    started = time.perf_counter()
    vectors = mixture.sample(size, seed=1)
    queries = mixture.sample(job.queries, seed=2)
    result["generate_seconds"] = round(time.perf_counter() - started, 2)
    phase("exact top-10")
    started = time.perf_counter()
    truth = exact_top(vectors, queries, 10)
    result["ground_truth_seconds"] = round(time.perf_counter() - started, 2)
    result["vectors_gib"] = round(vectors.nbytes / GIB, 3)
    chosen_type, chosen_params = choose_faiss_type(size)
    result["chosen_type"], result["chosen_params"] = chosen_type, chosen_params
    k = job.candidates
    indexes: list[dict[str, Any]] = []

    # Exact search.
    phase("flat")
    reset_peak_rss()
    started = time.perf_counter()
    flat = build_faiss(vectors, "flat", {})
    built = time.perf_counter() - started
    faiss.omp_set_num_threads(1)
    # A flat search of 1M vectors takes ~0.2 s: fewer queries keep the run short.
    flat_count = job.flat_queries or (job.queries if size <= 200_000 else 40)
    flat_queries = queries[:flat_count]
    seconds, found = _timed_searches(flat, flat_queries, k)
    entry: dict[str, Any] = {
        "type": "flat",
        "build_seconds": round(built, 2),
        "peak_rss_gib": peak_rss_gib(),
        "index_gib": round(size * DIMENSION * 4 / GIB, 3),
        "search": summarize(seconds),
        "recall_at_10": _recall(found, truth[: len(flat_queries)]),
    }
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    threaded, _ = _timed_searches(flat, flat_queries[: min(len(flat_queries), 30)], k)
    entry["search_default_threads"] = summarize(threaded)
    indexes.append(entry)
    if chosen_type == "flat":
        result["chosen"] = {**entry["search"], "recall_at_10": entry["recall_at_10"]}
    del flat

    # IVF at the chosen nlist (or the one ivf_params gives this size) and its neighbours.
    base = chosen_params.get("nlist") or ivf_params(size)["nlist"]
    nlists = job.nlists or sorted(
        {max(16, base // 2), base, *([base * 2] if size <= 200_000 else [])}
    )
    for nlist in nlists:
        if nlist * 39 > size:  # FAISS wants about 39 training points per list
            continue
        phase(f"ivf nlist={nlist}")
        reset_peak_rss()
        faiss.omp_set_num_threads(os.cpu_count() or 1)  # builds use every core
        started = time.perf_counter()
        ivf = build_faiss(vectors, "ivf", {"nlist": nlist, "nprobe": 1})
        built = time.perf_counter() - started
        faiss.omp_set_num_threads(1)
        sweep = []
        for nprobe in sorted({*job.nprobes, chosen_params.get("nprobe", 0)} - {0}):
            if nprobe > nlist:
                continue
            ivf.nprobe = nprobe
            seconds, found = _timed_searches(ivf, queries, k)
            point = {
                "nprobe": nprobe,
                **summarize(seconds),
                "recall_at_10": _recall(found, truth),
            }
            sweep.append(point)
            if chosen_type == "ivf" and chosen_params == {"nlist": nlist, "nprobe": nprobe}:
                result["chosen"] = point
                if job.save:
                    faiss.write_index(ivf, str(workdir / "index.faiss"))
        indexes.append(
            {
                "type": "ivf",
                "nlist": nlist,
                "build_seconds": round(built, 2),
                "peak_rss_gib": peak_rss_gib(),
                "index_gib": round((size * (DIMENSION * 4 + 8) + nlist * DIMENSION * 4) / GIB, 3),
                "sweep": sweep,
            }
        )
        del ivf
    result["indexes"] = indexes
    if job.save:
        phase("save vectors")
        np.save(workdir / "vectors.npy", vectors)
        np.save(workdir / "queries.npy", queries)
    result["peak_rss_gib"] = max(i["peak_rss_gib"] for i in indexes)
    return result
