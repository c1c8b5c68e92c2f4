"""`footnote bench --scale 10000,100000,1000000`: how Footnote grows with the collection.

Three kinds of measurement, each in its own child process (so peak memory is the child's own,
read from /proc/self/status; the parent kills a child whose RSS passes a ceiling):

* embed -- real-model embedding throughput on a synthetic corpus of 10k passages (a sample of
  `--embed-sample` passages is embedded and the rate extrapolated, when it is smaller).
* search -- synthetic vectors (384 dimensions, like all-MiniLM-L6-v2): a Gaussian mixture
  around 4096 centroids, themselves grouped under 64 topics, with Zipf-distributed cluster
  sizes, plus noise, L2-normalised; queries are fresh draws from the same mixture.  For flat
  and IVF indexes (built by bot.index.build_faiss, as `footnote index` does): build time, peak
  RSS, single-query search p50/p95 (one FAISS thread, as the Engine searches) and recall@10
  against exact search.
* text -- a synthetic corpus of exactly N passages (sentences drawn from a Zipf vocabulary seeded
  with the shipped corpus's words) loaded the way the bot loads an index: IndexStore (BM25 is
  built here, at every start-up), Retriever, the FAISS index the search child wrote and the
  vectors memory-mapped; then BM25 alone, dense search alone and the whole answer path
  (Retriever.ask with the query vector given + answer_reply), p50/p95.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

import numpy as np

from bot.bench.core import summarize, table
from bot.errors import BenchError

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from bot.bench.core import BenchOptions
    from bot.corpus import Document

DIMENSION = 384  # all-MiniLM-L6-v2
CENTROIDS = 4096
TOPICS = 64
NOISE = 1.5  # noise norm relative to a centroid: within-cluster cosine about 0.3
EMBED_CORPUS = 10_000
CHILD_TIMEOUT = 1800.0
RESULT = "@@scale-result "
PHASE = "@@scale-phase "
GIB = 1024**3


# -- memory ----------------------------------------------------------------------------------


def _status_kib(field: str, pid: int | str = "self") -> int:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def peak_rss_gib() -> float:
    """This process's peak RSS (VmHWM) since start or the last reset_peak_rss()."""
    kib = _status_kib("VmHWM")
    if not kib:
        import resource

        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(kib / 1024**2, 3)


def rss_gib() -> float:
    return round(_status_kib("VmRSS") / 1024**2, 3)


def reset_peak_rss() -> None:
    """Linux: writing 5 to clear_refs resets VmHWM to the current RSS."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def _phase(name: str) -> None:
    print(PHASE + name, flush=True)


# -- synthetic vectors -----------------------------------------------------------------------


def _normalise(rows: NDArray[np.float32]) -> NDArray[np.float32]:
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return rows


class Mixture:
    """A two-level Gaussian mixture on the unit sphere (see the module docstring)."""

    def __init__(self, dimension: int = DIMENSION, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.dimension = dimension
        topics = _normalise(rng.standard_normal((TOPICS, dimension)).astype(np.float32))
        spread = _normalise(rng.standard_normal((CENTROIDS, dimension)).astype(np.float32))
        self.centroids = _normalise(topics[rng.integers(TOPICS, size=CENTROIDS)] + 0.6 * spread)
        weights = 1.0 / np.arange(1, CENTROIDS + 1) ** 0.5
        self.weights = weights / weights.sum()

    def sample(self, count: int, seed: int, chunk: int = 100_000) -> NDArray[np.float32]:
        rng = np.random.default_rng(seed)
        out = np.empty((count, self.dimension), dtype=np.float32)
        scale = NOISE / math.sqrt(self.dimension)
        for begin in range(0, count, chunk):
            size = min(chunk, count - begin)
            which = rng.choice(CENTROIDS, size=size, p=self.weights)
            noise = rng.standard_normal((size, self.dimension), dtype=np.float32) * scale
            out[begin : begin + size] = self.centroids[which] + noise
            _normalise(out[begin : begin + size])
        return out


def exact_top(
    vectors: NDArray[np.float32], queries: NDArray[np.float32], k: int, chunk: int = 131_072
) -> NDArray[np.int64]:
    """Exact inner-product top-k by blocked matrix products (no second copy of `vectors`)."""
    best_scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_rows = np.zeros((len(queries), k), dtype=np.int64)
    for begin in range(0, len(vectors), chunk):
        scores = queries @ vectors[begin : begin + chunk].T
        take = min(k, scores.shape[1])
        part = np.argpartition(-scores, take - 1, axis=1)[:, :take]
        merged_scores = np.hstack([best_scores, np.take_along_axis(scores, part, axis=1)])
        merged_rows = np.hstack([best_rows, part + begin])
        order = np.argsort(-merged_scores, axis=1)[:, :k]
        best_scores = np.take_along_axis(merged_scores, order, axis=1)
        best_rows = np.take_along_axis(merged_rows, order, axis=1)
    return best_rows


# -- synthetic text --------------------------------------------------------------------------


_SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in ("a", "e", "i", "o", "u", "ai", "ou")]


def _vocabulary(seed_words: Sequence[str], size: int, rng: np.random.Generator) -> list[str]:
    words = list(dict.fromkeys(w for w in seed_words if w.isalpha()))
    seen = set(words)
    while len(words) < size:
        word = "".join(rng.choice(_SYLLABLES, size=int(rng.integers(2, 5))))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words[:size] if len(words) > size else words


def _english_words() -> list[str]:
    """Whole words of the bundled model's WordPiece vocabulary (one token each, so synthetic
    passages cost the model what English text of the same length costs); [] without it."""
    try:
        from bot.index.embedding import bundled_model_dir

        lines = (bundled_model_dir() / "vocab.txt").read_text(encoding="utf-8").splitlines()
    except Exception:
        return []
    return [w for w in lines if len(w) > 1 and w.isascii() and w.isalpha()]


def _windows(sentences: int) -> int:
    return 1 if sentences == 1 else 3 * sentences - 3


def synthetic_documents(passages: int, seed_text: str, seed: int = 0) -> list[Document]:
    """Documents that cut into exactly `passages` passages (sentence windows)."""
    import re

    from bot.corpus import Document, Paragraph, Section
    from bot.index.sentences import split_sentences

    rng = np.random.default_rng(seed)
    frequency: dict[str, int] = {}
    for word in re.findall(r"[^\W\d_]+", seed_text):
        frequency[word.lower()] = frequency.get(word.lower(), 0) + 1
    seeds = sorted(frequency, key=lambda w: -frequency[w]) + _english_words()
    expected_words = passages * 9  # about 2.6 passages per sentence, 24 words per sentence
    vocabulary = _vocabulary(seeds, max(len(seeds), int(30 * math.sqrt(expected_words))), rng)
    ranks = np.arange(1, len(vocabulary) + 1, dtype=np.float64)
    zipf = 1.0 / ranks**1.05
    zipf /= zipf.sum()

    remaining = passages
    plans: list[int] = []  # sentences per paragraph
    while remaining > 0:
        sentences = int(rng.integers(2, 9))
        while sentences > 1 and _windows(sentences) > remaining:
            sentences -= 1
        plans.append(sentences)
        remaining -= _windows(sentences)
    cdf = np.cumsum(zipf)
    # Every word drawn up front (24 per sentence on average, and some to spare for retries).
    pool: list[str] = [
        vocabulary[i] for i in np.searchsorted(cdf[:-1], rng.random(sum(plans) * 26 + 64))
    ]
    cursor = 0

    def sentence(length: int) -> str:
        nonlocal cursor
        if cursor + length > len(pool):
            cursor = 0
        words = pool[cursor : cursor + length]
        cursor += length
        return words[0].capitalize() + " " + " ".join(words[1:]) + "."

    documents: list[Document] = []
    per_document, per_section = 200, 10
    for doc_no, first in enumerate(range(0, len(plans), per_document)):
        title = f"Synthetic essay {doc_no + 1}"
        text_parts = [title, ""]
        offset = len(title) + 2
        sections: list[Section] = []
        doc_plans = plans[first : first + per_document]
        for section_start in range(0, len(doc_plans), per_section):
            heading = f"Part {section_start // per_section + 1}"
            text_parts += [heading, ""]
            offset += len(heading) + 2
            paragraphs: list[Paragraph] = []
            for sentences in doc_plans[section_start : section_start + per_section]:
                lengths = rng.integers(10, 39, size=sentences)
                body = " ".join(sentence(int(n)) for n in lengths)
                for _ in range(10):  # a sentence ending in "mr." would not end there
                    if len(split_sentences(body)) == sentences:
                        break
                    body = " ".join(sentence(int(n)) for n in lengths)
                else:
                    body = " ".join(f"The {n} matters." for n in range(sentences))
                paragraphs.append(Paragraph(body, offset, offset + len(body)))
                text_parts += [body, ""]
                offset += len(body) + 2
            sections.append(Section(heading, tuple(paragraphs)))
        documents.append(
            Document(
                doc_id=f"synthetic-{doc_no + 1}",
                path=f"synthetic-{doc_no + 1}.txt",
                title=title,
                sections=tuple(sections),
                text="\n".join(text_parts),
                content_hash="0" * 64,
            )
        )
    return documents


def _seed_text(corpus_dir: Path) -> str:
    texts = []
    with contextlib.suppress(OSError):
        for path in sorted(corpus_dir.rglob("*")):
            if path.is_file() and path.suffix.lower() in {".txt", ".md", ".markdown"}:
                texts.append(path.read_text(encoding="utf-8", errors="replace"))
    return "\n".join(texts) or "the essay of the author about the crisis and the talks"


# -- children --------------------------------------------------------------------------------


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


def search_child(args: argparse.Namespace) -> dict[str, Any]:
    import faiss

    from bot.index.ann import build_faiss, choose_faiss_type, ivf_params

    size, workdir = args.size, Path(args.workdir)
    result: dict[str, Any] = {"size": size, "dimension": DIMENSION}
    _phase("vectors")
    mixture = Mixture()
    started = time.perf_counter()
    vectors = mixture.sample(size, seed=1)
    queries = mixture.sample(args.queries, seed=2)
    result["generate_seconds"] = round(time.perf_counter() - started, 2)
    _phase("exact top-10")
    started = time.perf_counter()
    truth = exact_top(vectors, queries, 10)
    result["ground_truth_seconds"] = round(time.perf_counter() - started, 2)
    result["vectors_gib"] = round(vectors.nbytes / GIB, 3)
    chosen_type, chosen_params = choose_faiss_type(size)
    result["chosen_type"], result["chosen_params"] = chosen_type, chosen_params
    k = args.candidates
    indexes: list[dict[str, Any]] = []

    # Exact search.
    _phase("flat")
    reset_peak_rss()
    started = time.perf_counter()
    flat = build_faiss(vectors, "flat", {})
    built = time.perf_counter() - started
    faiss.omp_set_num_threads(1)
    flat_queries = queries[: args.flat_queries]
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
    nlists = args.nlists or sorted(
        {max(16, base // 2), base, *([base * 2] if size <= 200_000 else [])}
    )
    for nlist in nlists:
        if nlist * 39 > size:  # FAISS wants about 39 training points per list
            continue
        _phase(f"ivf nlist={nlist}")
        reset_peak_rss()
        faiss.omp_set_num_threads(os.cpu_count() or 1)  # builds use every core
        started = time.perf_counter()
        ivf = build_faiss(vectors, "ivf", {"nlist": nlist, "nprobe": 1})
        built = time.perf_counter() - started
        faiss.omp_set_num_threads(1)
        sweep = []
        for nprobe in sorted({*args.nprobes, chosen_params.get("nprobe", 0)} - {0}):
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
                if args.save:
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
    if args.save:
        _phase("save vectors")
        np.save(workdir / "vectors.npy", vectors)
        np.save(workdir / "queries.npy", queries)
    result["peak_rss_gib"] = max(i["peak_rss_gib"] for i in indexes)
    return result


def text_child(args: argparse.Namespace) -> dict[str, Any]:
    from bot.index.ann import build_faiss
    from bot.index.embedding import HashingEmbedder
    from bot.index.lexical import index_terms
    from bot.index.manifest import Manifest, describe_documents
    from bot.index.passages import cut_corpus
    from bot.index.store import IndexStore
    from bot.render.reply import answer_reply
    from bot.search.retriever import Retriever

    size, workdir = args.size, Path(args.workdir)
    questions: list[str] = json.loads(Path(args.questions).read_text(encoding="utf-8"))
    result: dict[str, Any] = {"size": size}
    _phase("generate text")
    started = time.perf_counter()
    documents = synthetic_documents(size, _seed_text(Path(args.corpus)))
    result["generate_seconds"] = round(time.perf_counter() - started, 2)
    _phase("cut passages")
    started = time.perf_counter()
    paragraphs, passages = cut_corpus(documents)
    result["cut_seconds"] = round(time.perf_counter() - started, 2)
    result["passages"], result["paragraphs"] = len(passages), len(paragraphs)
    result["mean_passage_chars"] = round(sum(len(p.text) for p in passages) / len(passages), 1)
    _phase("vectors")
    faiss_index: Any = None
    manifest_type: str = "flat"
    params: dict[str, int] = {}
    if (workdir / "vectors.npy").is_file():
        vectors = np.load(workdir / "vectors.npy", mmap_mode="r")
        queries = np.load(workdir / "queries.npy")
        if (workdir / "index.faiss").is_file():
            import faiss

            faiss_index = faiss.read_index(str(workdir / "index.faiss"))
            from bot.index.ann import choose_faiss_type

            manifest_type, params = choose_faiss_type(size)
            faiss_index.nprobe = params.get("nprobe", 1)
    else:
        mixture = Mixture()
        vectors = mixture.sample(len(passages), seed=1)
        queries = mixture.sample(len(questions), seed=2)
        from bot.index.ann import choose_faiss_type

        manifest_type, params = choose_faiss_type(size)
        if manifest_type != "flat":
            faiss_index = build_faiss(vectors, manifest_type, params)
    if len(vectors) != len(passages):
        raise BenchError(f"{len(vectors)} vectors for {len(passages)} passages")
    infos = describe_documents(documents, passages)
    manifest = Manifest(
        model="synthetic",
        dimension=DIMENSION,
        passage_count=len(passages),
        paragraph_count=len(paragraphs),
        corpus_hash="synthetic",
        built_at="",
        faiss_type=manifest_type,
        faiss_params=params,
        files={},
        documents=infos,
    )
    del documents
    result["rss_before_load_gib"] = rss_gib()
    _phase("load: IndexStore (BM25)")
    reset_peak_rss()
    started = time.perf_counter()
    store = IndexStore(manifest, passages, paragraphs, vectors, faiss_index)
    result["store_seconds"] = round(time.perf_counter() - started, 2)
    _phase("load: Retriever")
    started = time.perf_counter()
    retriever = Retriever(store, HashingEmbedder(DIMENSION))
    result["retriever_seconds"] = round(time.perf_counter() - started, 2)
    _phase("load: FAISS")
    started = time.perf_counter()
    store.faiss_index  # noqa: B018 - a flat index is built on first use
    result["faiss_load_seconds"] = round(time.perf_counter() - started, 2)
    result["load_peak_rss_gib"] = peak_rss_gib()
    result["rss_after_load_gib"] = rss_gib()
    result["faiss_type"], result["faiss_params"] = manifest_type, params
    _phase("answer")
    import faiss

    faiss.omp_set_num_threads(1)
    candidates = retriever.config.candidates
    timings: dict[str, list[float]] = {"bm25": [], "dense": [], "answer": []}
    for round_no in range(args.rounds + 1):
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


def embed_child(args: argparse.Namespace) -> dict[str, Any]:
    from bot.index.build import embed_passages
    from bot.index.embedding import make_embedder
    from bot.index.passages import cut_corpus

    documents = synthetic_documents(EMBED_CORPUS, _seed_text(Path(args.corpus)))
    _, passages = cut_corpus(documents)
    sample = passages if args.sample <= 0 else passages[:: max(1, len(passages) // args.sample)]
    sample = sample[: args.sample] if args.sample > 0 else sample
    embedder = make_embedder(args.model)
    _phase("load model")
    started = time.perf_counter()
    embedder.encode(["warm-up"])
    loaded = time.perf_counter() - started
    _phase("embed")
    started = time.perf_counter()
    embed_passages(sample, embedder)
    seconds = time.perf_counter() - started
    rate = len(sample) / seconds
    return {
        "model": args.model,
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


# -- the parent ------------------------------------------------------------------------------


def memory_ceiling_gib() -> float:
    """Kill a child above this RSS: 75% of the memory available now, at most 16 GiB."""
    available = _status_kib("MemAvailable") or 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                available = int(line.split()[1])
    return round(min(16.0, 0.75 * available / 1024**2), 1) if available else 16.0


def run_child(
    kind: str, arguments: Sequence[str], log: TextIO, env: dict[str, str] | None = None
) -> dict[str, Any]:
    """Run `python -m bot.bench.scale KIND ...`; its result, or an error entry."""
    ceiling = memory_ceiling_gib()
    command = [sys.executable, "-m", "bot.bench.scale", kind, *arguments]
    started = time.monotonic()
    peak = 0.0
    phase = "start"
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(
            command, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env
        )
        reason = ""
        try:
            while process.poll() is None:
                rss = _status_kib("VmRSS", process.pid) / 1024**2
                peak = max(peak, rss)
                if rss > ceiling:
                    reason = f"RSS passed the {ceiling} GiB ceiling"
                elif time.monotonic() - started > CHILD_TIMEOUT:
                    reason = f"took longer than {CHILD_TIMEOUT:.0f} s"
                if reason:
                    process.kill()
                    break
                time.sleep(0.2)
        finally:
            if process.poll() is None:
                process.kill()
            process.wait(30)
        out.seek(0)
        lines = out.read().decode(errors="replace").splitlines()
        err.seek(0)
        errors = err.read().decode(errors="replace")
    for line in lines:
        if line.startswith(PHASE):
            phase = line[len(PHASE) :]
            log.write(f"    {kind}: {phase}\n")
    for line in reversed(lines):
        if line.startswith(RESULT):
            data: dict[str, Any] = json.loads(line[len(RESULT) :])
            data["wall_seconds"] = round(time.monotonic() - started, 1)
            return data
    return {
        "error": reason or f"exited with {process.returncode}: {errors.strip()[-800:]}",
        "phase": phase,
        "observed_rss_gib": round(peak, 2),
        "wall_seconds": round(time.monotonic() - started, 1),
    }


def run_scale(options: BenchOptions, questions: Sequence[str], log: TextIO) -> dict[str, Any]:
    results: dict[str, Any] = {
        "sizes": list(options.scale),
        "vectors": f"synthetic: {CENTROIDS}-centroid mixture under {TOPICS} topics, noise "
        f"{NOISE}, {DIMENSION} dimensions, normalised; queries from the same mixture",
        "memory_ceiling_gib": memory_ceiling_gib(),
        "search": [],
        "text": [],
    }
    corpus = str(options.corpus_dir.resolve())
    if options.embed_sample >= 0:
        log.write(f"scale: embedding throughput ({options.model}) ...\n")
        env = dict(os.environ)
        if options.torch_threads:
            env["OMP_NUM_THREADS"] = str(options.torch_threads)
        results["embedding"] = run_child(
            "embed",
            ["--model", options.model, "--sample", str(options.embed_sample), "--corpus", corpus],
            log,
            env,
        )
    with tempfile.TemporaryDirectory(prefix="footnote-scale-") as tmp:
        questions_file = Path(tmp) / "questions.json"
        questions_file.write_text(json.dumps(list(questions)), encoding="utf-8")
        for size in options.scale:
            if size < 100:
                continue
            workdir = Path(tmp) / str(size)
            workdir.mkdir()
            log.write(f"scale: {size} passages, search ...\n")
            search = run_child(
                "search",
                [
                    "--size",
                    str(size),
                    "--workdir",
                    str(workdir),
                    "--queries",
                    str(options.scale_queries),
                    "--save",
                ],
                log,
            )
            results["search"].append({"size": size, **search})
            log.write(f"scale: {size} passages, text + answer path ...\n")
            text = run_child(
                "text",
                [
                    "--size",
                    str(size),
                    "--workdir",
                    str(workdir),
                    "--questions",
                    str(questions_file),
                    "--corpus",
                    corpus,
                ],
                log,
            )
            results["text"].append({"size": size, **text})
            for leftover in workdir.iterdir():
                leftover.unlink()
    return results


def format_scale(scale: dict[str, Any]) -> str:
    out: list[str] = []
    embedding = scale.get("embedding")
    if embedding:
        if "error" in embedding:
            out.append(f"\nEmbedding throughput: failed ({embedding['error']})")
        else:
            note = " (sample, extrapolated)" if embedding["extrapolated"] else ""
            estimates = ", ".join(
                f"{int(n):,} in {s / 60:.1f} min" for n, s in embedding["estimated_seconds"].items()
            )
            out.append(
                f"\nEmbedding ({embedding['model']}): {embedding['embedded']} of "
                f"{embedding['corpus_passages']} synthetic passages{note} at "
                f"{embedding['passages_per_second']:.0f} passages/s; {estimates}"
            )
    out.append(f"\nSearch on synthetic vectors ({scale['vectors']}):")
    rows = []
    for entry in scale.get("search", []):
        if "error" in entry:
            rows.append([entry["size"], "error", entry["error"][:60], "", "", "", "", ""])
            continue
        for index in entry["indexes"]:
            if index["type"] == "flat":
                rows.append(
                    [
                        entry["size"],
                        "flat",
                        "-",
                        index["build_seconds"],
                        index["peak_rss_gib"],
                        index["search"]["p50_ms"],
                        index["search"]["p95_ms"],
                        index["recall_at_10"],
                    ]
                )
                continue
            for point in index["sweep"]:
                chosen = entry.get("chosen_params") == {
                    "nlist": index["nlist"],
                    "nprobe": point["nprobe"],
                }
                rows.append(
                    [
                        entry["size"],
                        f"ivf{index['nlist']}" + (" *" if chosen else ""),
                        point["nprobe"],
                        index["build_seconds"],
                        index["peak_rss_gib"],
                        point["p50_ms"],
                        point["p95_ms"],
                        point["recall_at_10"],
                    ]
                )
    out.append(
        table(
            rows,
            [
                "passages",
                "index",
                "nprobe",
                "build s",
                "peak RSS GiB",
                "p50 ms",
                "p95 ms",
                "recall@10",
            ],
        )
    )
    out.append("(* = what choose_faiss_type picks for that size)")
    text_rows = []
    for entry in scale.get("text", []):
        if "error" in entry:
            text_rows.append(
                [
                    entry["size"],
                    f"error in {entry.get('phase')}: {entry['error'][:60]}",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                ]
            )
            continue
        text_rows.append(
            [
                entry["size"],
                entry["faiss_type"],
                entry["store_seconds"],
                entry["retriever_seconds"],
                entry["load_peak_rss_gib"],
                f"{entry['bm25']['p50_ms']:.2f}/{entry['bm25']['p95_ms']:.2f}",
                f"{entry['dense']['p50_ms']:.2f}/{entry['dense']['p95_ms']:.2f}",
                f"{entry['answer']['p50_ms']:.2f}/{entry['answer']['p95_ms']:.2f}",
            ]
        )
    largest = max(
        (e for e in scale.get("text", []) if e.get("answer_profile")),
        key=lambda e: int(e["size"]),
        default=None,
    )
    if text_rows:
        out.append("\nLoading and answering at scale (synthetic corpus; vector given):")
        out.append(
            table(
                text_rows,
                [
                    "passages",
                    "faiss",
                    "store+BM25 s",
                    "retriever s",
                    "load peak GiB",
                    "BM25 p50/p95",
                    "dense p50/p95",
                    "answer p50/p95",
                ],
            )
        )
    if largest is not None:
        out.append(f"\nWhere the answer path's time goes at {largest['size']:,} passages:")
        out.append(
            table(
                [
                    [r["function"], r["calls_per_question"], r["ms_per_question"]]
                    for r in largest["answer_profile"]
                ],
                ["function (cumulative)", "calls/question", "ms/question"],
            )
        )
    return "\n".join(out)


def _child_main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.bench.scale")
    sub = parser.add_subparsers(dest="kind", required=True)
    search = sub.add_parser("search")
    search.add_argument("--size", type=int, required=True)
    search.add_argument("--workdir", required=True)
    search.add_argument("--queries", type=int, default=200)
    search.add_argument("--flat-queries", type=int, default=0)
    search.add_argument("--candidates", type=int, default=48)
    search.add_argument("--nlists", type=lambda s: [int(x) for x in s.split(",")], default=None)
    search.add_argument(
        "--nprobes", type=lambda s: [int(x) for x in s.split(",")], default=[4, 8, 16, 32, 64]
    )
    search.add_argument("--save", action="store_true")
    text = sub.add_parser("text")
    text.add_argument("--size", type=int, required=True)
    text.add_argument("--workdir", required=True)
    text.add_argument("--questions", required=True)
    text.add_argument("--corpus", required=True)
    text.add_argument("--rounds", type=int, default=3)
    embed = sub.add_parser("embed")
    embed.add_argument("--model", required=True)
    embed.add_argument("--sample", type=int, default=2000)
    embed.add_argument("--corpus", required=True)
    args = parser.parse_args(argv)
    if args.kind == "search":
        if not args.flat_queries:
            # A flat search of 1M vectors takes ~0.2 s: fewer queries keep the run short.
            args.flat_queries = args.queries if args.size <= 200_000 else 40
        result = search_child(args)
    elif args.kind == "text":
        result = text_child(args)
    else:
        result = embed_child(args)
    print(RESULT + json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
