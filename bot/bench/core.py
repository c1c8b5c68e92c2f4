"""`footnote bench`: how fast Footnote answers, measured side by side on the same questions.

Sections (docs/performance.md has the figures and the command behind each table):

* latency -- per question, interleaved: the floor (the model's `encode` of the question plus
  one raw FAISS search), the whole answer path (retrieval, quote choice and the Telegram reply,
  through the Retriever and through the Engine), and BM25 alone; medians, p95 and ratios to
  the floor.  Warm-up rounds first, then `--rounds` rounds over every question.
* burst -- N questions at once (20 by default) through the batched Engine, against the same
  questions answered one by one and against an unbatched engine (batch_wait=0, max_batch=1).
* inline -- typing a sentence into inline mode: keystrokes sent, model calls made, through the
  real inline handler with and without its per-user debounce.
* startup (--startup) -- `footnote --help`, `sections` and `cite` timed as subprocesses, and a
  check that `sections`/`cite` never import torch or sentence_transformers.
* e2e (--e2e) -- through the repo's test Bot API server (bot/bench_e2e.py).
* scale (--scale N,...) -- synthetic corpora and vectors (bot/bench_scale.py).

Everything heavy is imported lazily: `footnote --help` must not pay for this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.errors import BenchError
from bot.evals import KOREAN_CRISIS_QUESTIONS

if TYPE_CHECKING:
    from bot.search.retriever import Retriever

INLINE_TEXT = "What is the dual track proposal?"
RESULTS_PER_QUESTION = 4  # what the bot asks for (telegram_bot.RESULTS_PER_QUESTION)


@dataclass
class BenchOptions:
    corpus_dir: Path
    index_dir: Path | None
    model: str
    questions_file: Path
    rounds: int = 5
    warmup: int = 1
    burst: int = 20
    burst_trials: int = 5
    inline: bool = True
    inline_text: str = INLINE_TEXT
    keystroke_ms: tuple[int, ...] = (120, 250)
    startup: bool = False
    startup_runs: int = 5
    e2e: bool = False
    chats: tuple[int, ...] = (1, 20, 100)
    e2e_rounds: int = 5
    first_answer_runs: int = 3
    scale: tuple[int, ...] = ()
    embed_sample: int = 2000
    scale_queries: int = 200
    torch_threads: int | None = None
    json: bool = False
    out: Path | None = None


# -- statistics ------------------------------------------------------------------------------


def percentile(samples: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (numpy's default), without importing numpy."""
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    position = (len(ordered) - 1) * q / 100.0
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def summarize(seconds: Sequence[float]) -> dict[str, float]:
    """Milliseconds: count, median, p95, mean, min, max."""
    ms = [s * 1000.0 for s in seconds]
    if not ms:
        return {"n": 0}
    return {
        "n": len(ms),
        "p50_ms": round(statistics.median(ms), 3),
        "p95_ms": round(percentile(ms, 95), 3),
        "mean_ms": round(statistics.fmean(ms), 3),
        "min_ms": round(min(ms), 3),
        "max_ms": round(max(ms), 3),
    }


def ratio(value: float, floor: float) -> float:
    return round(value / floor, 3) if floor > 0 else float("nan")


# -- the machine -----------------------------------------------------------------------------


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def _ram_gib() -> float:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    return float("nan")


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def load_average() -> list[float]:
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return []


def machine_info() -> dict[str, Any]:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count() or 0
    return {
        "nproc": usable,
        "cpu": _cpu_model(),
        "ram_gib": _ram_gib(),
        "os": platform.platform(),
        "python": platform.python_version(),
        "torch": _version("torch"),
        "faiss": _version("faiss-cpu"),
        "numpy": _version("numpy"),
        "sentence_transformers": _version("sentence-transformers"),
        "python_telegram_bot": _version("python-telegram-bot"),
        "load_average_start": load_average(),
    }


# -- set-up ----------------------------------------------------------------------------------


def load_questions(path: Path) -> list[str]:
    """Every question of an evaluation file: on-topic ones, then the off-topic ones."""
    from bot.evals.evaluation import load_eval_set

    eval_set = load_eval_set(path)
    questions = [q.question for q in eval_set.questions] + list(eval_set.off_topic)
    if not questions:
        raise BenchError(f"no questions in {path}")
    return questions


@contextlib.contextmanager
def bench_index(options: BenchOptions, default_model: str) -> Iterator[Path]:
    """The index to measure: the configured one when it is for this model, else a temporary
    one (so `--model fake:hashing` never overwrites the real index)."""
    if options.index_dir is not None and options.model == default_model:
        yield options.index_dir
        return
    with tempfile.TemporaryDirectory(prefix="footnote-bench-") as tmp:
        yield Path(tmp) / "index"


def open_bench_retriever(options: BenchOptions, index_dir: Path) -> Retriever:
    from bot.search.retriever import open_retriever

    retriever, _ = open_retriever(options.corpus_dir, index_dir, options.model)
    retriever.embed(["warm-up"])  # load the model before anything is timed
    if options.torch_threads and "torch" in sys.modules:
        import torch

        torch.set_num_threads(options.torch_threads)
    return retriever


def _faiss_single_thread() -> None:
    """One FAISS thread in this thread, as the Engine's workers use (bot/engine.py)."""
    with contextlib.suppress(ImportError):
        import faiss

        faiss.omp_set_num_threads(1)


# -- latency: floor vs answer path vs BM25 ---------------------------------------------------


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
    _faiss_single_thread()
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
        vector = embedder.encode([question])[0] if dense else None
        started = time.perf_counter()
        answer_reply(retriever.ask(question, k, vector))
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


# -- burst: batched engine vs one by one -----------------------------------------------------


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


# -- inline typing ---------------------------------------------------------------------------


class _StubBot:
    """Just enough of a Bot for InlineQuery.answer(): records the answers."""

    def __init__(self) -> None:
        self.answers: list[dict[str, Any]] = []

    async def answer_inline_query(self, *args: Any, **kwargs: Any) -> bool:
        self.answers.append(kwargs)
        return True


async def simulate_typing(
    retriever: Retriever, text: str, keystroke: float, debounce: float
) -> dict[str, Any]:
    """Type `text` one character per `keystroke` seconds into the real inline handler."""
    from telegram import Update

    from bot.search.engine import Engine
    from bot.telegram.inline import InlineDebounce, answer_inline_query

    engine = Engine(retriever)
    bot = _StubBot()
    latest_only = InlineDebounce(debounce)
    tasks: list[asyncio.Task[None]] = []
    started = time.perf_counter()
    for number in range(1, len(text) + 1):
        data = {
            "update_id": number,
            "inline_query": {
                "id": f"q{number}",
                "from": {"id": 4242, "is_bot": False, "first_name": "Typist"},
                "query": text[:number],
                "offset": "",
            },
        }
        query = Update.de_json(data, bot).inline_query  # type: ignore[arg-type]
        assert query is not None
        tasks.append(asyncio.create_task(answer_inline_query(query, engine, latest_only)))
        await asyncio.sleep(keystroke)
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=60 + debounce * len(text))
    answered = [a for a in bot.answers if a.get("results")]
    return {
        "keystrokes": len(text),
        "keystroke_ms": round(keystroke * 1000),
        "debounce_ms": round(debounce * 1000),
        "inline_answers": len(bot.answers),
        "answers_with_results": len(answered),
        "questions_reaching_engine": engine.stats.questions,
        "model_calls": engine.stats.model_calls,
        "seconds": round(time.perf_counter() - started, 3),
    }


async def bench_inline(
    retriever: Retriever, text: str, keystrokes_ms: Sequence[int]
) -> dict[str, Any]:
    from bot.telegram.inline import INLINE_DEBOUNCE

    runs = []
    for keystroke_ms in keystrokes_ms:
        for debounce in (INLINE_DEBOUNCE, 0.0):
            runs.append(await simulate_typing(retriever, text, keystroke_ms / 1000, debounce))
    return {"text": text, "debounce_default_ms": round(INLINE_DEBOUNCE * 1000), "runs": runs}


# -- start-up --------------------------------------------------------------------------------


def footnote_command() -> list[str]:
    """How to run `footnote`: the installed console script, else `python -m bot`."""
    script = Path(sys.executable).with_name("footnote")
    if script.is_file():
        return [str(script)]
    found = shutil.which("footnote")
    return [found] if found else [sys.executable, "-m", "bot"]


def child_environment(options: BenchOptions, index_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "FOOTNOTE_CORPUS": str(options.corpus_dir.resolve()),
            "FOOTNOTE_INDEX": str(index_dir.resolve()),
            "FOOTNOTE_MODEL": options.model,
            "HF_HUB_OFFLINE": "1",
            "TRANSFORMERS_OFFLINE": "1",
        }
    )
    if options.torch_threads:
        env["OMP_NUM_THREADS"] = str(options.torch_threads)
    return env


_IMPORT_PROBE = (
    "import json, sys\n"
    "from bot.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "heavy = [m for m in ('torch', 'sentence_transformers', 'transformers') if m in sys.modules]\n"
    "print('\\n@@footnote-imports ' + json.dumps({'exit': code, 'heavy': heavy}))\n"
)


def heavy_imports(
    args: Sequence[str], env: dict[str, str], timeout: float = 120, cwd: Path | None = None
) -> list[str]:
    """Run `footnote ARGS` in a fresh interpreter; which of torch/sentence_transformers/
    transformers it imported."""
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_PROBE, *args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    for line in reversed(result.stdout.splitlines()):
        if line.startswith("@@footnote-imports "):
            report = json.loads(line.split(" ", 1)[1])
            if report["exit"] != 0:
                raise BenchError(f"footnote {' '.join(args)} failed: {result.stderr.strip()}")
            return list(report["heavy"])
    raise BenchError(f"footnote {' '.join(args)} did not finish: {result.stderr.strip()[-500:]}")


def time_command(command: Sequence[str], env: dict[str, str], runs: int) -> dict[str, Any]:
    samples: list[float] = []
    for _ in range(runs + 1):  # the first run warms the OS file cache
        started = time.perf_counter()
        result = subprocess.run(
            list(command), env=env, capture_output=True, timeout=120, check=False
        )
        elapsed = time.perf_counter() - started
        if result.returncode != 0:
            raise BenchError(
                f"{' '.join(command)} exited {result.returncode}: "
                f"{result.stderr.decode(errors='replace').strip()[-500:]}"
            )
        samples.append(elapsed)
    return {"runs": runs, **summarize(samples[1:])}


def bench_startup(options: BenchOptions, index_dir: Path, phrase: str) -> dict[str, Any]:
    env = child_environment(options, index_dir)
    footnote = footnote_command()
    commands = {
        "footnote --help": [*footnote, "--help"],
        "footnote sections": [*footnote, "sections"],
        "footnote cite": [*footnote, "cite", phrase],
    }
    timings = {name: time_command(cmd, env, options.startup_runs) for name, cmd in commands.items()}
    python = time_command([sys.executable, "-c", "pass"], env, options.startup_runs)
    imports = {
        "footnote sections": heavy_imports(["sections"], env),
        "footnote cite": heavy_imports(["cite", phrase], env),
    }
    model = [model_load_seconds(options.model, env) for _ in range(min(3, options.startup_runs))]
    return {
        "command": footnote,
        "commands": timings,
        "bare_python": python,
        "heavy_imports": imports,
        "model_load": summarize(model),
    }


_MODEL_PROBE = (
    "import sys, time\n"
    "started = time.perf_counter()\n"
    "from bot.index.embedding import make_embedder\n"
    "make_embedder(sys.argv[1]).encode(['warm-up'])\n"
    "print('@@model-load', time.perf_counter() - started)\n"
)


def model_load_seconds(model: str, env: dict[str, str]) -> float:
    """Importing torch/sentence-transformers and loading the weights, up to a first encode."""
    result = subprocess.run(
        [sys.executable, "-c", _MODEL_PROBE, model],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    for line in result.stdout.splitlines():
        if line.startswith("@@model-load "):
            return float(line.split()[1])
    raise BenchError(f"loading the model {model} failed: {result.stderr.strip()[-500:]}")


# -- orchestration ---------------------------------------------------------------------------


def _cite_phrase(retriever: Retriever) -> str:
    passages = retriever.store.passages
    if not passages:
        return "the"
    words = max(passages[: min(len(passages), 50)], key=lambda p: len(p.text)).text.split()
    return " ".join(words[2:8]) or "the"


def evaluate_targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, each with the measured figure and whether it is met."""
    targets: list[dict[str, Any]] = []

    def add(name: str, goal: str, value: float, met: bool) -> None:
        targets.append({"target": name, "goal": goal, "value": value, "met": bool(met)})

    # Against a fake embedder the floor costs microseconds: ratios to it mean nothing.
    fake = str(results.get("config", {}).get("model", "")).startswith("fake:")
    latency = None if fake else results.get("latency")
    if latency:
        for variant in ("answer_engine", "answer_retriever"):
            value = latency["ratios_to_floor"][variant]["p50"]
            add(f"{variant} p50 / floor p50", "<= 1.1", value, value <= 1.1)
    burst = None if fake else results.get("burst")
    if burst:
        value = burst["speedup_vs_one_by_one"]["batched"]
        add(f"throughput, {burst['size']} at once, batched / one by one", ">= 2", value, value >= 2)
    e2e = results.get("e2e")
    if e2e and latency:
        floor = latency["variants"]["floor"]["p50_ms"]
        for run in e2e.get("bursts", []):
            if run["engine"] == "batched" and run["chats"] == 20:
                value = ratio(run["latency"]["p95_ms"], floor)
                add("e2e p95, 20 chats at once / floor p50", "<= 3", value, value <= 3)
    startup = results.get("startup")
    if startup:
        for name in ("footnote --help", "footnote sections", "footnote cite"):
            value = startup["commands"][name]["p50_ms"]
            add(f"{name} median (ms)", "well under 1000", value, value < 500)
        for name, heavy in startup["heavy_imports"].items():
            add(f"{name} imports no torch/sentence_transformers", "none", len(heavy), not heavy)
    scale = results.get("scale")
    if scale:
        for entry in scale.get("search", []):
            if entry["size"] >= 1_000_000 and entry.get("chosen"):
                chosen = entry["chosen"]
                add("1M search p95 (ms)", "<= 20", chosen["p95_ms"], chosen["p95_ms"] <= 20)
                add(
                    "1M recall@10",
                    ">= 0.95",
                    chosen["recall_at_10"],
                    chosen["recall_at_10"] >= 0.95,
                )
                gib = entry["peak_rss_gib"]
                add("1M peak RSS, vectors + index (GiB)", "<= 4", gib, gib <= 4)
    return targets


async def _async_sections(
    options: BenchOptions, retriever: Retriever, questions: Sequence[str], log: TextIO
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    log.write(f"latency: {len(questions)} questions x {options.rounds} rounds ...\n")
    results["latency"] = await bench_latency(retriever, questions, options.rounds, options.warmup)
    if options.burst > 1:
        log.write(f"burst: {options.burst} questions at once x {options.burst_trials} ...\n")
        results["burst"] = await bench_burst(
            retriever, questions, options.burst, options.burst_trials
        )
    if options.inline and options.keystroke_ms:
        log.write("inline: simulated typing ...\n")
        results["inline"] = await bench_inline(retriever, options.inline_text, options.keystroke_ms)
    return results


def run_bench(options: BenchOptions, default_model: str, log: TextIO) -> dict[str, Any]:
    results: dict[str, Any] = {"format": "footnote-bench", "version": 1}
    if options.e2e:
        from bot.bench.e2e import import_botapi

        import_botapi()  # fail before measuring anything when tests/ or the spec is missing
    results["machine"] = machine_info()
    questions = load_questions(options.questions_file)
    results["config"] = {
        "model": options.model,
        "corpus": str(options.corpus_dir),
        "questions_file": str(options.questions_file),
        "argv": sys.argv[1:],
    }
    with bench_index(options, default_model) as index_dir:
        log.write(f"opening the index in {index_dir} (model {options.model}) ...\n")
        started = time.perf_counter()
        retriever = open_bench_retriever(options, index_dir)
        results["config"]["open_seconds"] = round(time.perf_counter() - started, 3)
        results["config"]["passages"] = len(retriever.store.passages)
        if "torch" in sys.modules:
            import torch

            results["config"]["torch_threads"] = torch.get_num_threads()
        results.update(asyncio.run(_async_sections(options, retriever, questions, log)))
        if options.startup:
            log.write("startup: timing the CLI in subprocesses ...\n")
            results["startup"] = bench_startup(options, index_dir, _cite_phrase(retriever))
        if options.e2e:
            from bot.bench.e2e import run_e2e

            log.write("e2e: through the test Bot API server ...\n")
            results["e2e"] = run_e2e(options, index_dir, questions, log)
    if options.scale:
        from bot.bench.scale import run_scale

        results["scale"] = run_scale(options, questions, log)
    results["machine"]["load_average_end"] = load_average()
    results["targets"] = evaluate_targets(results)
    return results


# -- printing --------------------------------------------------------------------------------


def table(rows: Sequence[Sequence[object]], header: Sequence[str]) -> str:
    cells = [[str(c) for c in header], *[[str(c) for c in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    lines = []
    for number, row in enumerate(cells):
        lines.append(
            "  ".join(
                c.ljust(w) if i == 0 else c.rjust(w)
                for i, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
        if number == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def format_summary(results: dict[str, Any]) -> str:
    out: list[str] = []
    machine = results["machine"]
    out.append(
        f"Machine: {machine['nproc']} CPUs ({machine['cpu']}), {machine['ram_gib']} GiB RAM, "
        f"Python {machine['python']}, torch {machine['torch']}, faiss {machine['faiss']}; "
        f"load average {machine['load_average_start']} -> {machine.get('load_average_end')}"
    )
    config = results["config"]
    out.append(f"Model {config['model']}, {config['passages']} passages.")
    latency = results.get("latency")
    if latency:
        out.append(
            f"\nPer question ({latency['questions']} questions x {latency['rounds']} rounds, "
            f"after {latency['warmup_rounds']} warm-up; FAISS {latency['faiss_type']}):"
        )
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
    burst = results.get("burst")
    if burst:
        out.append(f"\n{burst['size']} questions at once ({burst['trials']} trials):")
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
    inline = results.get("inline")
    if inline:
        out.append(f"\nInline typing of {inline['text']!r}:")
        rows = [
            [
                f"{r['keystroke_ms']} ms/key, debounce {r['debounce_ms']} ms",
                r["keystrokes"],
                r["questions_reaching_engine"],
                r["model_calls"],
                r["inline_answers"],
            ]
            for r in inline["runs"]
        ]
        out.append(table(rows, ["", "keystrokes", "to engine", "model calls", "answers"]))
    startup = results.get("startup")
    if startup:
        out.append("\nStart-up (subprocess, median):")
        rows = [
            [name, f"{t['p50_ms']:.0f}", f"{t['p95_ms']:.0f}"]
            for name, t in startup["commands"].items()
        ]
        rows.append(
            [
                "python -c pass",
                f"{startup['bare_python']['p50_ms']:.0f}",
                f"{startup['bare_python']['p95_ms']:.0f}",
            ]
        )
        out.append(table(rows, ["command", "p50 ms", "p95 ms"]))
        for name, heavy in startup["heavy_imports"].items():
            out.append(f"{name} imported: {', '.join(heavy) or 'no torch/sentence_transformers'}")
        load = startup.get("model_load")
        if load and load.get("n"):
            out.append(
                f"Model import + load + first encode (what `footnote run` waits for): "
                f"{load['p50_ms'] / 1000:.2f} s median of {load['n']}"
            )
    e2e = results.get("e2e")
    if e2e:
        from bot.bench.e2e import format_e2e

        floor = latency["variants"]["floor"]["p50_ms"] if latency else None
        out.append(format_e2e(e2e, floor))
    scale = results.get("scale")
    if scale:
        from bot.bench.scale import format_scale

        out.append(format_scale(scale))
    targets = results.get("targets")
    if targets is not None:
        out.append("\nTargets:")
        if not targets:
            out.append("(latency targets are not judged against a fake embedder)")
        else:
            out.append(
                table(
                    [
                        [t["target"], t["goal"], t["value"], "met" if t["met"] else "MISSED"]
                        for t in targets
                    ],
                    ["", "goal", "measured", ""],
                )
            )
    return "\n".join(out)


def _ints(text: str) -> tuple[int, ...]:
    try:
        values = tuple(int(float(part)) for part in text.replace("_", "").split(",") if part)
    except ValueError:
        raise BenchError(f"expected comma-separated numbers, got {text!r}") from None
    if any(v < 0 for v in values):
        raise BenchError(f"expected non-negative numbers, got {text!r}")
    return values


def options_from_args(
    args: Any, corpus_dir: Path, index_dir: Path | None, model: str
) -> BenchOptions:
    if args.rounds < 1 or args.warmup < 0 or args.burst < 0:
        raise BenchError("--rounds must be at least 1, --warmup and --burst at least 0")
    return BenchOptions(
        corpus_dir=corpus_dir,
        index_dir=index_dir,
        model=args.model or model,
        questions_file=Path(args.questions) if args.questions else KOREAN_CRISIS_QUESTIONS,
        rounds=args.rounds,
        warmup=args.warmup,
        burst=args.burst,
        burst_trials=max(1, args.burst_trials),
        inline=args.keystroke_ms != "",
        inline_text=args.inline_text,
        keystroke_ms=_ints(args.keystroke_ms),
        startup=args.startup,
        startup_runs=max(1, args.startup_runs),
        e2e=args.e2e,
        chats=_ints(args.chats),
        e2e_rounds=max(1, args.e2e_rounds),
        first_answer_runs=max(0, args.first_answer_runs),
        scale=_ints(args.scale) if args.scale else (),
        embed_sample=args.embed_sample,
        scale_queries=max(10, args.scale_queries),
        torch_threads=args.torch_threads,
        json=args.json,
        out=Path(args.out) if args.out else None,
    )


def main(options: BenchOptions, default_model: str, out: TextIO, log: TextIO) -> int:
    results = run_bench(options, default_model, log)
    if options.out is not None:
        options.out.parent.mkdir(parents=True, exist_ok=True)
        options.out.write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")
    if options.json:
        out.write(json.dumps(results, ensure_ascii=False) + "\n")
    else:
        out.write(format_summary(results) + "\n")
    return 0
