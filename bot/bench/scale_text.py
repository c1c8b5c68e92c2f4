"""The scale run's text and embedding children.

* text -- a synthetic corpus of exactly N passages written by the build's own `write_index`
  (the synthetic vectors given in place of a model's) and opened the way the bot opens an
  index (`load_index`: columns, BM25 postings and vectors memory-mapped), then a Retriever;
  then BM25 alone, dense search alone and the whole answer path (Retriever.ask with the query
  vector given + answer_reply), p50/p95, and a profile of where the answer path's time goes.
* embed -- real-model embedding throughput on a synthetic corpus of 10k passages (a sample
  is embedded and the rate extrapolated, when it is smaller).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.bench.memory import peak_rss_gib, reset_peak_rss, rss_gib
from bot.bench.scale_jobs import EmbedJob, TextJob, phase
from bot.bench.stats import summarize
from bot.bench.synth import DIMENSION, Mixture, seed_text, synthetic_documents
from bot.errors import BenchError

if TYPE_CHECKING:
    from numpy.typing import NDArray

EMBED_CORPUS = 10_000


def text_child(job: TextJob) -> dict[str, Any]:
    import gc

    from bot.index.build import write_index
    from bot.index.embedding import HashingEmbedder
    from bot.index.lexical import index_terms
    from bot.index.passages import cut_corpus
    from bot.index.store import load_index
    from bot.render.reply import answer_reply
    from bot.search.retriever import Retriever

    size, workdir = job.size, Path(job.workdir)
    questions: list[str] = json.loads(Path(job.questions).read_text(encoding="utf-8"))
    result: dict[str, Any] = {"size": size}
    phase("generate text")
    started = time.perf_counter()
    documents = synthetic_documents(size, seed_text(Path(job.corpus)))
    result["generate_seconds"] = round(time.perf_counter() - started, 2)
    phase("cut passages")
    started = time.perf_counter()
    paragraphs, passages = cut_corpus(documents)
    result["cut_seconds"] = round(time.perf_counter() - started, 2)
    result["passages"], result["paragraphs"] = len(passages), len(paragraphs)
    result["mean_passage_chars"] = round(sum(len(p.text) for p in passages) / len(passages), 1)
    phase("vectors")
    if (workdir / "vectors.npy").is_file():
        vectors = np.load(workdir / "vectors.npy", mmap_mode="r")
        queries = np.load(workdir / "queries.npy")
    else:
        mixture = Mixture()
        vectors = mixture.sample(len(passages), seed=1)
        queries = mixture.sample(len(questions), seed=2)
    if len(vectors) != len(passages):
        raise BenchError(f"{len(vectors)} vectors for {len(passages)} passages")
    phase("write the index (write_index)")
    started = time.perf_counter()
    index_dir = workdir / "footnote-index"
    given = GivenVectors({p.text: row for row, p in enumerate(passages)}, vectors)
    manifest, _ = write_index(index_dir, documents, [], "synthetic", given, allow_large=True)
    result["write_seconds"] = round(time.perf_counter() - started, 2)
    manifest_type, params = manifest.faiss_type, manifest.faiss_params
    del documents, paragraphs, passages, vectors, given, manifest
    gc.collect()
    result["rss_before_load_gib"] = rss_gib()
    phase("load: load_index")
    reset_peak_rss()
    started = time.perf_counter()
    store = load_index(index_dir)
    result["store_seconds"] = round(time.perf_counter() - started, 2)
    phase("load: Retriever")
    started = time.perf_counter()
    retriever = Retriever(store, HashingEmbedder(DIMENSION))
    result["retriever_seconds"] = round(time.perf_counter() - started, 2)
    phase("load: FAISS")
    started = time.perf_counter()
    store.faiss_index  # noqa: B018 - a flat index is built on first use
    result["faiss_load_seconds"] = round(time.perf_counter() - started, 2)
    result["load_peak_rss_gib"] = peak_rss_gib()
    result["rss_after_load_gib"] = rss_gib()
    result["faiss_type"], result["faiss_params"] = manifest_type, params
    phase("answer")
    import faiss

    faiss.omp_set_num_threads(1)
    candidates = retriever.config.candidates
    timings: dict[str, list[float]] = {"bm25": [], "dense": [], "answer": []}
    for round_no in range(job.rounds + 1):
        for number, question in enumerate(questions):
            vector = np.ascontiguousarray(queries[number % len(queries)], dtype=np.float32)
            started = time.perf_counter()
            store.bm25.top(index_terms(question), candidates)
            bm25 = time.perf_counter() - started
            started = time.perf_counter()
            store.search_dense(vector, candidates)
            dense = time.perf_counter() - started
            started = time.perf_counter()
            answer_reply(retriever.ask(question, 4, vector))
            answer = time.perf_counter() - started
            if round_no:
                timings["bm25"].append(bm25)
                timings["dense"].append(dense)
                timings["answer"].append(answer)
    result.update({name: summarize(values) for name, values in timings.items()})
    result["answer_profile"] = _profile_answers(retriever, questions, queries)
    result["peak_rss_gib"] = peak_rss_gib()
    return result


def _profile_answers(
    retriever: Any, questions: Sequence[str], queries: NDArray[np.float32]
) -> list[dict[str, Any]]:
    """Where the answer path spends its time: the costliest functions of one profiled round
    (cumulative ms per question)."""
    import cProfile
    import pstats

    from bot.render.reply import answer_reply

    profiler = cProfile.Profile()
    profiler.enable()
    for number, question in enumerate(questions):
        vector = np.ascontiguousarray(queries[number % len(queries)], dtype=np.float32)
        answer_reply(retriever.ask(question, 4, vector))
    profiler.disable()
    profile: Any = pstats.Stats(profiler)
    rows = []
    for (filename, line, function), (_, calls, _, cumulative, _) in profile.stats.items():
        if "/bot/" not in filename and not function.startswith(("<built-in", "<method")):
            continue
        rows.append(
            {
                "function": f"{Path(filename).name}:{line}({function})",
                "calls_per_question": round(calls / len(questions), 1),
                "ms_per_question": round(cumulative * 1000 / len(questions), 3),
            }
        )
    rows.sort(key=lambda r: -r["ms_per_question"])
    return rows[:12]


def embed_child(job: EmbedJob) -> dict[str, Any]:
    from bot.index.build import embed_passages
    from bot.index.embedding import make_embedder
    from bot.index.passages import cut_corpus

    documents = synthetic_documents(EMBED_CORPUS, seed_text(Path(job.corpus)))
    _, passages = cut_corpus(documents)
    sample = passages if job.sample <= 0 else passages[:: max(1, len(passages) // job.sample)]
    sample = sample[: job.sample] if job.sample > 0 else sample
    embedder = make_embedder(job.model)
    phase("load model")
    started = time.perf_counter()
    embedder.encode(["warm-up"])
    loaded = time.perf_counter() - started
    phase("embed")
    started = time.perf_counter()
    embed_passages(sample, embedder)
    seconds = time.perf_counter() - started
    rate = len(sample) / seconds
    return {
        "model": job.model,
        "corpus_passages": len(passages),
        "embedded": len(sample),
        "extrapolated": len(sample) < len(passages),
        "mean_chars": round(sum(len(p.text) for p in sample) / len(sample), 1),
        "model_load_seconds": round(loaded, 2),
        "torch_threads": _torch_threads(),
        "seconds": round(seconds, 2),
        "passages_per_second": round(rate, 1),
        "estimated_seconds": {
            str(n): round(n / rate, 1) for n in (EMBED_CORPUS, 100_000, 1_000_000)
        },
        "peak_rss_gib": peak_rss_gib(),
    }


def _torch_threads() -> int | None:
    if "torch" not in sys.modules:
        return None
    import torch

    return int(torch.get_num_threads())


class GivenVectors:
    """An Embedder whose vectors are given (the synthetic mixture's), looked up by text: the
    scale run builds with the build's own code, minus a model that would need hours."""

    name = "synthetic"
    dimension = DIMENSION

    def __init__(self, rows: dict[str, int], vectors: NDArray[np.float32]) -> None:
        self._rows = rows
        self._vectors = vectors

    def encode(self, texts: list[str], batch_size: int = 64) -> NDArray[np.float32]:
        rows = [self._rows[text] for text in texts]
        return np.asarray(self._vectors[rows], dtype=np.float32).reshape(len(rows), DIMENSION)
