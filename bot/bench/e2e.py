"""`footnote bench --e2e`: end to end, the bot against the benchmark's own Bot API server.

The server (bot/bench/botapi.py, 127.0.0.1 only) runs in the benchmark process; the bot runs
in a child process, started as `footnote run` starts it:

* bursts -- the child (bot/bench/e2e_bot.py) goes through bot/telegram/serve.py's prepare()
  and long polling, with TELEGRAM_API_BASE_URL pointing at the server and a chosen engine
  configuration.  N private chats ask at once (their updates are queued in one go); the
  latency of each is the time from the update being available to getUpdates to the server
  receiving the sendMessage that answers it.
* first answer -- the real `footnote run` command is started with a question already waiting;
  the time from starting the process to the answer arriving (and to the first getUpdates).

Every wait is bounded; children are stopped with SIGINT (then killed) by their own pid.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import resource
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TextIO

from bot.bench.botapi import BenchBotApi, Recorder
from bot.bench.e2e_bot import STATS, TIMES, EngineKnobs
from bot.bench.options import BenchOptions
from bot.bench.processes import ChildProcess, child_environment, footnote_command
from bot.bench.stats import ratio, summarize, table
from bot.errors import BenchError

TOKEN = "123456789:AAFakeFootnoteBenchTokenAbCdEfGhIjKlMn"
READY_TIMEOUT = 300.0  # model load on a busy 2-CPU machine
ANSWER_TIMEOUT = 120.0
ROUND_GAP = 1.3
# Engine cache off: every question is embedded.
ENGINES: dict[str, EngineKnobs] = {
    "batched": EngineKnobs(cache_size=0),
    "one_by_one": EngineKnobs(batch_wait=0.0, max_batch=1, cache_size=0),
}


async def _wait_ready(recorder: Recorder, bot: ChildProcess, since: float) -> float:
    def ready() -> bool:
        if not bot.running():
            raise BenchError(f"e2e: the bot exited early:\n{bot.stderr_tail()}")
        return any(t >= since for t in recorder.polls)

    await recorder.until(ready, READY_TIMEOUT, "the bot's first getUpdates")
    return next(t for t in recorder.polls if t >= since)


def _bot_env(options: BenchOptions, index_dir: Path, server: BenchBotApi) -> dict[str, str]:
    env = child_environment(options, index_dir)
    env.update(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": server.base_url,
            "FOOTNOTE_LOG_LEVEL": "WARNING",
        }
    )
    return env


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _all_answered(recorder: Recorder, chat_ids: Sequence[int]) -> Callable[[], bool]:
    return lambda: all(c in recorder.answered for c in chat_ids)


async def _bursts(
    server: BenchBotApi,
    recorder: Recorder,
    options: BenchOptions,
    index_dir: Path,
    questions: Sequence[str],
    ids: Callable[[], int],
    log: TextIO,
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    results: list[dict[str, Any]] = []
    stats: dict[str, Any] = {}
    cycle = itertools.cycle(questions)
    for engine_name, knobs in ENGINES.items():
        command = [sys.executable, "-m", "bot.bench.e2e_bot", json.dumps(knobs.given())]
        bot = ChildProcess(command, _bot_env(options, index_dir, server))
        try:
            await _wait_ready(recorder, bot, bot.started)
            for chats in options.chats:
                if chats < 1:
                    continue
                log.write(f"  {engine_name}: {chats} chats at once x {options.e2e_rounds}\n")
                latencies: list[float] = []
                rates: list[float] = []
                spans: list[tuple[float, float]] = []
                cpu_before = _cpu_seconds()
                for round_no in range(options.e2e_rounds + 1):  # round 0 warms up
                    chat_ids = [ids() for _ in range(chats)]
                    for chat in chat_ids:
                        server.push_update(server.private_message(chat, next(cycle)))
                    # Nothing is fetched before this coroutine yields: all are available now.
                    available = time.perf_counter()
                    await recorder.until(
                        _all_answered(recorder, chat_ids),
                        ANSWER_TIMEOUT + chats,
                        f"e2e: {chats} answers",
                    )
                    times = [recorder.answered[c] - available for c in chat_ids]
                    if round_no:
                        latencies.extend(times)
                        rates.append(chats / max(times))
                        spans.append((available, available + max(times)))
                    # Telegram's 30 messages/s limit is a sliding window (bot/telegram/flood.py):
                    # let it empty, so that one round's sends never throttle the next round.
                    await asyncio.sleep(ROUND_GAP)
                results.append(
                    {
                        "engine": engine_name,
                        "engine_params": knobs.given(),
                        "chats": chats,
                        "rounds": options.e2e_rounds,
                        "latency": summarize(latencies),
                        "answers_per_second": round(statistics.median(rates), 2),
                        "spans": spans,
                        # This process runs only the Bot API server (and its recorder) here.
                        "server_cpu_ms_per_answer": round(
                            (_cpu_seconds() - cpu_before) * 1000 / (chats * (len(spans) + 1)), 2
                        ),
                    }
                )
        finally:
            stdout = await bot.stop()
        asks: list[tuple[float, float]] = []
        for line in stdout.splitlines():
            if line.startswith(STATS):
                stats[engine_name] = json.loads(line[len(STATS) :])
            elif line.startswith(TIMES):
                asks = [(float(a), float(b)) for a, b in json.loads(line[len(TIMES) :])]
        for entry in results:
            if entry["engine"] == engine_name and "spans" in entry:
                entry["phases"] = _phases(entry.pop("spans"), asks)
    return results, stats


def _phases(
    spans: Sequence[tuple[float, float]], asks: Sequence[tuple[float, float]]
) -> dict[str, float]:
    """Where a burst's time goes, median over rounds (ms after the updates are available):
    the first Engine.ask starting (getUpdates + dispatch), the last answer computed (model +
    retrieval), the last sendMessage arriving (reply formatting + HTTP + the fake server).
    Both processes read the same CLOCK_MONOTONIC through time.perf_counter()."""
    first, ready, sent = [], [], []
    for available, last in spans:
        inside = [(a, b) for a, b in asks if available <= a <= last]
        if not inside:
            continue
        first.append(min(a for a, _ in inside) - available)
        ready.append(max(b for _, b in inside) - available)
        sent.append(last - available)
    if not first:
        return {}
    return {
        "first_ask_ms": round(statistics.median(first) * 1000, 1),
        "last_answer_ready_ms": round(statistics.median(ready) * 1000, 1),
        "last_send_ms": round(statistics.median(sent) * 1000, 1),
    }


async def _first_answers(
    server: BenchBotApi,
    recorder: Recorder,
    options: BenchOptions,
    index_dir: Path,
    question: str,
    ids: Callable[[], int],
    log: TextIO,
) -> dict[str, Any]:
    command = [*footnote_command(), "run"]
    answers: list[float] = []
    ready: list[float] = []
    for run in range(options.first_answer_runs):
        log.write(f"  footnote run -> first answer, run {run + 1}/{options.first_answer_runs}\n")
        chat = ids()
        server.push_update(server.private_message(chat, question))
        bot = ChildProcess(command, _bot_env(options, index_dir, server))
        try:
            ready.append(await _wait_ready(recorder, bot, bot.started) - bot.started)

            def answered(chat_: int = chat, bot_: ChildProcess = bot) -> bool:
                if not bot_.running():
                    raise BenchError(f"e2e: footnote run exited:\n{bot_.stderr_tail()}")
                return chat_ in recorder.answered

            await recorder.until(answered, ANSWER_TIMEOUT, "e2e: the first answer")
            answers.append(recorder.answered[chat] - bot.started)
        finally:
            await bot.stop()
    return {
        "command": command,
        "runs": options.first_answer_runs,
        "to_first_getupdates": summarize(ready),
        "to_first_answer": summarize(answers),
    }


async def _e2e(
    options: BenchOptions, index_dir: Path, questions: Sequence[str], log: TextIO
) -> dict[str, Any]:
    counter = itertools.count(10_001)

    def ids() -> int:
        return next(counter)  # a fresh private chat (= user) per question

    async with BenchBotApi(TOKEN) as server:
        recorder = Recorder(server)
        bursts, stats = await _bursts(server, recorder, options, index_dir, questions, ids, log)
        first = (
            await _first_answers(server, recorder, options, index_dir, questions[0], ids, log)
            if options.first_answer_runs
            else None
        )
    return {
        "bursts": bursts,
        "engine_stats": stats,
        "first_answer": first,
        "unsupported_calls": server.unsupported[:20],
        "note": "engine cache off (cache_size=0): every question is embedded",
    }


def run_e2e(
    options: BenchOptions, index_dir: Path, questions: Sequence[str], log: TextIO
) -> dict[str, Any]:
    return asyncio.run(_e2e(options, index_dir, questions, log))


def format_e2e(e2e: dict[str, Any], floor_ms: float | None = None) -> str:
    out = ["\nEnd to end through the bench Bot API server (update available -> sendMessage):"]
    rows = []
    for run in e2e["bursts"]:
        latency = run["latency"]
        rows.append(
            [
                run["engine"],
                run["chats"],
                f"{latency['p50_ms']:.1f}",
                f"{latency['p95_ms']:.1f}",
                f"{run['answers_per_second']:.1f}",
                f"{ratio(latency['p95_ms'], floor_ms):.2f}x" if floor_ms else "-",
                *(
                    f"{run.get('phases', {}).get(name, float('nan')):.0f}"
                    for name in ("first_ask_ms", "last_answer_ready_ms", "last_send_ms")
                ),
                f"{run.get('server_cpu_ms_per_answer', float('nan')):.1f}",
            ]
        )
    header = ["engine", "chats at once", "p50 ms", "p95 ms", "answers/s", "p95/floor"]
    header += ["1st ask ms", "all answered ms", "all sent ms", "server CPU ms/answer"]
    out.append(table(rows, header))
    out.append(
        "(last three: median per burst, after the updates are available: the first "
        "Engine.ask starting, the last answer computed, the last sendMessage received)"
    )
    first = e2e.get("first_answer")
    if first:
        out.append(
            f"footnote run -> first getUpdates {first['to_first_getupdates']['p50_ms'] / 1000:.2f}"
            f" s, -> first answer {first['to_first_answer']['p50_ms'] / 1000:.2f} s "
            f"(median of {first['runs']})"
        )
    if e2e.get("unsupported_calls"):
        out.append(f"Calls the bench Bot API server did not serve: {e2e['unsupported_calls']}")
    return "\n".join(out)
