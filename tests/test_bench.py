"""`footnote bench` runs on a tiny configuration, the engine batches and caches, and the
commands that need no model never import torch."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.bench.startup import heavy_imports
from bot.bench.stats import percentile, summarize
from bot.cli import main
from bot.config import DEFAULT_MODEL
from bot.errors import BenchError
from bot.index.ann import EXACT_SEARCH_LIMIT, choose_faiss_type
from bot.index.build import build_index
from bot.index.embedding import HashingEmbedder
from bot.search.engine import Engine
from bot.search.retriever import Retriever, open_retriever

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"
TINY = [
    "bench",
    "--corpus",
    str(CORPUS),
    "--model",
    "fake:hashing",
    "--rounds",
    "1",
    "--warmup",
    "0",
    "--burst",
    "6",
    "--burst-trials",
    "1",
    "--keystroke-ms",
    "5",
    "--inline-text",
    "Why sanctions?",
]


def test_bench_prints_its_summary(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(TINY) == 0
    out = capsys.readouterr().out
    assert "floor: model encode + raw FAISS search" in out
    assert "whole answer path" in out
    assert "lexical baseline: BM25" in out
    assert "questions at once" in out
    assert "Inline typing" in out
    assert "Targets:" in out


def test_bench_json_summary(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_file = tmp_path / "bench.json"
    assert main([*TINY, "--json", "--out", str(out_file)]) == 0
    results = json.loads(capsys.readouterr().out)
    assert results == json.loads(out_file.read_text(encoding="utf-8"))
    latency = results["latency"]
    assert latency["questions"] == 66  # every question of the evaluation file
    for variant in ("floor", "answer_engine", "answer_retriever", "bm25"):
        assert latency["variants"][variant]["n"] == 66
        assert latency["variants"][variant]["p50_ms"] <= latency["variants"][variant]["p95_ms"]
    assert latency["ratios_to_floor"]["floor"] == {"p50": 1.0, "p95": 1.0}
    burst = results["burst"]["engines"]
    assert burst["batched"]["model_calls_per_burst"] == 1
    assert burst["one_by_one"]["model_calls_per_burst"] == 6
    assert results["inline"]["runs"]
    assert results["machine"]["nproc"] >= 1
    assert all({"target", "goal", "value", "met"} <= set(t) for t in results["targets"])


def test_bench_scale_tiny(capsys: pytest.CaptureFixture[str]) -> None:
    args = [*TINY, "--burst", "0", "--keystroke-ms", "", "--json"]
    args += ["--scale", "1500", "--embed-sample", "40", "--scale-queries", "20"]
    assert main(args) == 0
    scale = json.loads(capsys.readouterr().out)["scale"]
    assert scale["embedding"]["embedded"] == 40, scale["embedding"]
    (search,) = scale["search"]
    assert "error" not in search, search
    assert search["indexes"][0]["type"] == "flat"
    assert search["indexes"][0]["recall_at_10"] == 1.0
    (text,) = scale["text"]
    assert "error" not in text, text
    assert text["passages"] == 1500
    assert text["answer"]["n"] > 0


def test_bench_rejects_bad_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([*TINY, "--rounds", "0"]) == 1
    assert "--rounds" in capsys.readouterr().err
    assert main([*TINY, "--scale", "ten"]) == 1


def test_statistics() -> None:
    assert percentile([1.0, 2.0, 3.0, 4.0, 5.0], 50) == 3.0
    assert percentile([1.0, 2.0], 95) == pytest.approx(float(np.percentile([1.0, 2.0], 95)))
    summary = summarize([0.001, 0.002, 0.003])
    assert summary["n"] == 3
    assert summary["p50_ms"] == 2.0


def test_choose_faiss_type_curve() -> None:
    assert choose_faiss_type(EXACT_SEARCH_LIMIT) == ("flat", {})
    kind, params = choose_faiss_type(EXACT_SEARCH_LIMIT + 1)
    assert kind == "ivf"
    assert params["nprobe"] <= params["nlist"]
    kind, params = choose_faiss_type(1_000_000)
    # At least ~39 training points per list (FAISS warns below) and a probe count that kept
    # recall@10 >= 0.95 in docs/performance.md.
    assert 1_000_000 // params["nlist"] >= 39
    assert params["nprobe"] * 64 >= params["nlist"]


# -- start-up: no torch for commands that need no model ---------------------------------


@pytest.fixture
def default_model_index(tmp_path: Path) -> Path:
    """An index that claims the default model, built without it (hashing, 384 dimensions):
    commands see it as up to date, so any torch import would be theirs."""
    index = tmp_path / "index"
    build_index(CORPUS, index, HashingEmbedder(dimension=384, name=DEFAULT_MODEL))
    return index


def test_sections_and_cite_never_import_torch(default_model_index: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FOOTNOTE_", "TELEGRAM_"))}
    env.update({"FOOTNOTE_CORPUS": str(CORPUS), "FOOTNOTE_INDEX": str(default_model_index)})
    manifest = (default_model_index / "manifest.json").read_text(encoding="utf-8")
    # cwd: a directory without a .env that could name another model.
    assert heavy_imports(["sections"], env, cwd=tmp_path) == []
    assert heavy_imports(["cite", "two unfortunate myths"], env, cwd=tmp_path) == []
    # Nothing was rebuilt (a rebuild would have needed the model).
    assert (default_model_index / "manifest.json").read_text(encoding="utf-8") == manifest


def test_heavy_imports_reports_failures(tmp_path: Path) -> None:
    env = dict(os.environ, FOOTNOTE_CORPUS=str(tmp_path / "missing"))
    env["FOOTNOTE_INDEX"] = str(tmp_path / "index")
    with pytest.raises(BenchError):
        heavy_imports(["sections"], env)


# -- the engine --------------------------------------------------------------------------


class CountingEmbedder(HashingEmbedder):
    """The hashing embedder, slowed down and counting its calls."""

    def __init__(self, delay: float = 0.01) -> None:
        super().__init__(name="fake:hashing")
        self.delay = delay
        self.batches: list[list[str]] = []
        self.threads: set[int] = set()
        self.fail = False

    def encode(self, texts: list[str], batch_size: int = 64) -> Any:
        self.batches.append(list(texts))
        self.threads.add(threading.get_ident())
        time.sleep(self.delay)
        if self.fail:
            raise RuntimeError("model failed")
        return super().encode(texts, batch_size)


@pytest.fixture(scope="module")
def fake_retriever(tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    index = tmp_path_factory.mktemp("engine") / "index"
    retriever, _ = open_retriever(CORPUS, index, "fake:hashing")
    return retriever


def _engine(retriever: Retriever, embedder: CountingEmbedder, **knobs: Any) -> Engine:
    return Engine(Retriever(retriever.store, embedder, retriever.config), **knobs)


QUESTIONS = [f"What does the essay say about sanctions, part {n}?" for n in range(20)]


async def test_engine_embeds_a_burst_in_one_call(fake_retriever: Retriever) -> None:
    embedder = CountingEmbedder()
    engine = _engine(fake_retriever, embedder)
    answers = await asyncio.gather(*(engine.ask(q) for q in QUESTIONS))
    assert [a.query for a in answers] == QUESTIONS
    assert len(embedder.batches) == 1
    assert engine.stats.model_calls == 1
    assert engine.stats.largest_batch == 20


async def test_engine_batches_questions_that_arrive_while_the_model_runs(
    fake_retriever: Retriever,
) -> None:
    embedder = CountingEmbedder(delay=0.05)
    engine = _engine(fake_retriever, embedder)
    first = asyncio.create_task(engine.ask(QUESTIONS[0]))
    await asyncio.sleep(0.01)  # the model is busy with the first question
    rest = await asyncio.gather(*(engine.ask(q) for q in QUESTIONS[1:6]))
    await first
    assert [len(b) for b in embedder.batches] == [1, 5]
    assert len(rest) == 5


async def test_engine_max_batch_one_answers_one_by_one(fake_retriever: Retriever) -> None:
    embedder = CountingEmbedder()
    engine = _engine(fake_retriever, embedder, batch_wait=0.0, max_batch=1)
    await asyncio.gather(*(engine.ask(q) for q in QUESTIONS[:5]))
    assert [len(b) for b in embedder.batches] == [1] * 5


async def test_engine_batch_wait_holds_an_idle_engine_briefly(fake_retriever: Retriever) -> None:
    embedder = CountingEmbedder(delay=0.0)
    engine = _engine(fake_retriever, embedder, batch_wait=0.05)
    first = asyncio.create_task(engine.ask(QUESTIONS[0]))
    await asyncio.sleep(0.01)
    await asyncio.gather(first, engine.ask(QUESTIONS[1]))
    assert [len(b) for b in embedder.batches] == [2]


async def test_engine_caches_and_shares_repeated_questions(fake_retriever: Retriever) -> None:
    embedder = CountingEmbedder()
    engine = _engine(fake_retriever, embedder)
    await asyncio.gather(engine.ask("Why sanctions?"), engine.ask("why   SANCTIONS?"))
    assert embedder.batches == [["Why sanctions?"]]
    await engine.ask("Why sanctions?")
    assert len(embedder.batches) == 1
    assert engine.stats.cache_hits == 1
    engine.clear_cache()
    await engine.ask("Why sanctions?")
    assert len(embedder.batches) == 2


async def test_engine_without_cache_still_answers(fake_retriever: Retriever) -> None:
    embedder = CountingEmbedder()
    engine = _engine(fake_retriever, embedder, cache_size=0)
    await engine.ask("Why sanctions?")
    await engine.ask("Why sanctions?")
    assert len(embedder.batches) == 2


async def test_engine_model_failure_reaches_every_waiter(fake_retriever: Retriever) -> None:
    embedder = CountingEmbedder()
    embedder.fail = True
    engine = _engine(fake_retriever, embedder)
    results = await asyncio.gather(*(engine.ask(q) for q in QUESTIONS[:3]), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    embedder.fail = False
    assert (await engine.ask(QUESTIONS[0])).query == QUESTIONS[0]


async def test_engine_cancelled_question_does_not_cancel_the_shared_one(
    fake_retriever: Retriever,
) -> None:
    embedder = CountingEmbedder(delay=0.05)
    engine = _engine(fake_retriever, embedder)
    impatient = asyncio.create_task(engine.ask("Why sanctions?"))
    patient = asyncio.create_task(engine.ask("Why sanctions?"))
    await asyncio.sleep(0.01)
    impatient.cancel()
    assert (await patient).query == "Why sanctions?"
    assert engine.stats.joined == 1


@pytest.mark.skipif(sys.platform != "linux", reason="reads /proc")
def test_peak_rss_reset() -> None:
    from bot.bench.memory import peak_rss_gib, reset_peak_rss, rss_gib

    reset_peak_rss()
    assert peak_rss_gib() >= rss_gib() > 0


async def test_engine_lone_question_failures(fake_retriever: Retriever) -> None:
    embedder = CountingEmbedder(delay=0.0)
    embedder.fail = True
    engine = _engine(fake_retriever, embedder)
    with pytest.raises(RuntimeError, match="model failed"):
        await engine.ask("Why sanctions?")
    embedder.fail = False

    class Broken(Retriever):
        def ask(
            self, query: str, k: int = 3, query_vector: Any = None, query_tokens: Any = None
        ) -> Any:
            raise ValueError("retrieval failed")

    engine.retriever = Broken(fake_retriever.store, embedder, fake_retriever.config)
    with pytest.raises(ValueError, match="retrieval failed"):
        await engine.ask("Why sanctions?")
    # The embedding itself succeeded and was kept.
    assert engine._cache
    engine.retriever = Retriever(fake_retriever.store, embedder, fake_retriever.config)
    assert (await engine.ask("Why sanctions?")).query == "Why sanctions?"
    assert engine.stats.cache_hits == 1
