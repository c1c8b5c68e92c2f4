"""`footnote bench`: how fast Footnote answers, measured side by side on the same questions.

Sections (docs/performance.md has the figures and the command behind each table):

* latency (latency.py) -- per question: the floor, the whole answer path and BM25 alone.
* burst (burst.py) -- N questions at once through the batched Engine vs one by one.
* inline (inline.py) -- typing a sentence into inline mode, with and without the debounce.
* startup (--startup, startup.py) -- the CLI timed as subprocesses; no torch for sections/cite.
* e2e (--e2e, e2e.py) -- the bot as `footnote run` starts it, against the bench's Bot API server.
* scale (--scale N,..., scale.py) -- synthetic corpora and vectors, in child processes.
* costs (--costs, costs.py) -- bounded costs: a huge paragraph indexed and cited, a huge
  section shown.
* web (--web, web.py) -- the web reader: /p/<id> on a 10k-word essay, /api/ask beside the
  CLI's answer path.
* pydocs (--pydocs, pydocs.py) -- Python's HTML documentation indexed (hashing embedder), then
  its first answer in a fresh process, `sections` and `cite` timed on it.

Everything heavy is imported lazily: `footnote --help` must not pay for this package.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, TextIO

from bot.bench.options import BenchOptions
from bot.bench.stats import load_average, machine_info
from bot.bench.workload import bench_index, cite_phrase, load_questions, open_bench_retriever

if TYPE_CHECKING:
    from bot.search.retriever import Retriever


async def _in_process_sections(
    options: BenchOptions, retriever: Retriever, questions: Sequence[str], log: TextIO
) -> dict[str, Any]:
    from bot.bench.burst import bench_burst
    from bot.bench.inline import bench_inline
    from bot.bench.latency import bench_latency

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
    from bot.bench.report import evaluate_targets

    results: dict[str, Any] = {"format": "footnote-bench", "version": 1}
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
        results.update(asyncio.run(_in_process_sections(options, retriever, questions, log)))
        if options.web:
            from bot.bench.web import bench_web

            results["web"] = asyncio.run(
                bench_web(retriever, questions, options.rounds, options.corpus_dir, log)
            )
        if options.startup:
            from bot.bench.startup import bench_startup

            log.write("startup: timing the CLI in subprocesses ...\n")
            results["startup"] = bench_startup(options, index_dir, cite_phrase(retriever))
        if options.e2e:
            from bot.bench.e2e import run_e2e

            log.write("e2e: through the bench's Bot API server ...\n")
            results["e2e"] = run_e2e(options, index_dir, questions, log)
    if options.scale:
        from bot.bench.scale import run_scale

        results["scale"] = run_scale(options, questions, log)
    if options.incremental:
        from bot.bench.incremental import run_incremental

        results["incremental"] = run_incremental(options, log)
    if options.pydocs:
        from bot.bench.pydocs import run_pydocs

        results["pydocs"] = run_pydocs(options, log)
    if options.costs:
        from bot.bench.costs import run_costs

        results["costs"] = run_costs(options, log)
    results["machine"]["load_average_end"] = load_average()
    results["targets"] = evaluate_targets(results)
    return results


def main(options: BenchOptions, default_model: str, out: TextIO, log: TextIO) -> int:
    from bot.bench.report import format_summary

    results = run_bench(options, default_model, log)
    if options.out is not None:
        options.out.parent.mkdir(parents=True, exist_ok=True)
        options.out.write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")
    if options.json:
        out.write(json.dumps(results, ensure_ascii=False) + "\n")
    else:
        out.write(format_summary(results) + "\n")
    return 0
