"""`footnote bench --e2e`: end to end through the repository's test Bot API server.

The fake server (tests/botapi, spec-checked, 127.0.0.1 only) is not part of the installed
package, so this needs a checkout of the repository: its tests/ directory, ../shared/botapi-spec
(or FOOTNOTE_BOTAPI_SPEC) and aiohttp (a dev extra).  The server runs in the benchmark
process; the bot runs in a child process, as in production:

* bursts -- the child runs what `footnote run` runs (open_retriever, warm-up, Engine,
  build_application, run_polling) with TELEGRAM_API_BASE_URL pointing at the server and a
  chosen engine configuration (`python -m bot.bench.e2e serve ...`).  N private chats ask at
  once (their updates are queued in one go); the latency of each is the time from the update
  being available to getUpdates to the server receiving the sendMessage that answers it.
* first answer -- the real `footnote run` command is started with a question already waiting;
  the time from starting the process to the answer arriving (and to the first getUpdates).

Every wait is bounded; children are stopped with SIGINT (then killed) by their own pid.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib
import itertools
import json
import os
import resource
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.bench.core import (
    child_environment,
    footnote_command,
    ratio,
    summarize,
    table,
)
from bot.errors import BenchError
from bot.search.answer import Answer
from bot.search.engine import Engine
from bot.search.retriever import Retriever

if TYPE_CHECKING:
    from bot.bench.core import BenchOptions

TOKEN = "123456789:AAFakeFootnoteBenchTokenAbCdEfGhIjKlMn"
READY_TIMEOUT = 300.0  # model load on a busy 2-CPU machine
ANSWER_TIMEOUT = 120.0
STOP_TIMEOUT = 20.0
ROUND_GAP = 1.3
ENGINES: dict[str, dict[str, float]] = {
    "batched": {},
    "one_by_one": {"batch_wait": 0.0, "max_batch": 1},
}


def import_botapi() -> tuple[Any, Any]:
    """FakeBotApi and the loaded spec, or a BenchError saying what is missing."""
    repo = Path(__file__).resolve().parents[2]
    for root in (repo, Path.cwd()):
        if (root / "tests" / "botapi" / "server.py").is_file():
            if str(root) not in sys.path:
                sys.path.insert(0, str(root))
            break
    try:
        # Imported by name: tests/ is not part of the package (nor of its type checking).
        server = importlib.import_module("tests.botapi.server")
        spec = importlib.import_module("tests.botapi.spec")
    except ImportError as exc:
        raise BenchError(
            "footnote bench --e2e needs the fake Bot API server from the repository's "
            "tests/botapi (not shipped in the package) and aiohttp: run it from a checkout "
            f"with the dev extras installed, pip install -e '.[dev]' ({exc})"
        ) from None
    try:
        loaded = spec.load_spec()
    except spec.BotApiSpecNotFoundError as exc:
        raise BenchError(
            f"footnote bench --e2e needs the Bot API spec, ../shared/botapi-spec/api.json next "
            f"to the repository (or FOOTNOTE_BOTAPI_SPEC): {exc}"
        ) from None
    return server.FakeBotApi, loaded


class Recorder:
    """Wraps the server's sendMessage and getUpdates handlers to timestamp their arrival."""

    def __init__(self, server: Any) -> None:
        self.answered: dict[int, float] = {}
        self.polls: list[float] = []
        self._changed = asyncio.Event()
        handlers: dict[str, Callable[[dict[str, Any]], Awaitable[Any]]] = server._handlers
        send, poll = handlers["sendMessage"], handlers["getUpdates"]

        async def on_send(params: dict[str, Any]) -> Any:
            with contextlib.suppress(KeyError, TypeError, ValueError):
                self.answered.setdefault(int(params["chat_id"]), time.perf_counter())
            self._changed.set()
            return await send(params)

        async def on_poll(params: dict[str, Any]) -> Any:
            self.polls.append(time.perf_counter())
            self._changed.set()
            return await poll(params)

        handlers["sendMessage"] = on_send
        handlers["getUpdates"] = on_poll

    async def until(self, done: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise BenchError(f"e2e: timed out after {timeout:.0f} s waiting for {what}")
            self._changed.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), min(remaining, 0.5))


class BotProcess:
    """A bot child process with its output in temporary files."""

    def __init__(self, command: Sequence[str], env: dict[str, str]) -> None:
        self._out = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self._err = tempfile.TemporaryFile()  # noqa: SIM115 - closed in stop()
        self.started = time.perf_counter()
        self.process = subprocess.Popen(
            list(command), env=env, stdout=self._out, stderr=self._err, stdin=subprocess.DEVNULL
        )

    def running(self) -> bool:
        return self.process.poll() is None

    def stderr_tail(self, chars: int = 1500) -> str:
        self._err.seek(0)
        return self._err.read().decode(errors="replace")[-chars:]

    async def stop(self) -> str:
        """SIGINT (PTB stops polling cleanly), then SIGKILL; returns the child's stdout."""
        if self.running():
            self.process.send_signal(signal.SIGINT)
            deadline = time.monotonic() + STOP_TIMEOUT
            while self.running() and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            if self.running():
                self.process.kill()
                await asyncio.to_thread(self.process.wait, 10)
        self._out.seek(0)
        stdout = self._out.read().decode(errors="replace")
        self._out.close()
        self._err.close()
        return stdout


async def _wait_ready(recorder: Recorder, bot: BotProcess, since: float) -> float:
    def ready() -> bool:
        if not bot.running():
            raise BenchError(f"e2e: the bot exited early:\n{bot.stderr_tail()}")
        return any(t >= since for t in recorder.polls)

    await recorder.until(ready, READY_TIMEOUT, "the bot's first getUpdates")
    return next(t for t in recorder.polls if t >= since)


def _bot_env(options: BenchOptions, index_dir: Path, server: Any) -> dict[str, str]:
    env = child_environment(options, index_dir)
    env.update(
        {
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": f"http://127.0.0.1:{server.port}",
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
    server: Any,
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
    for engine_name, params in ENGINES.items():
        command = [sys.executable, "-m", "bot.bench.e2e", "serve", "--cache-size", "0"]
        for key, value in params.items():
            command += [f"--{key.replace('_', '-')}", str(value)]
        bot = BotProcess(command, _bot_env(options, index_dir, server))
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
                    updates = [server.private_message(c, next(cycle)) for c in chat_ids]
                    for update in updates:
                        server.push_update(update)
                    # Nothing is fetched before this coroutine yields: all are available now.
                    available = time.perf_counter()
                    await recorder.until(
                        _all_answered(recorder, chat_ids),
                        ANSWER_TIMEOUT + chats,
                        f"{chats} answers",
                    )
                    times = [recorder.answered[c] - available for c in chat_ids]
                    if round_no:
                        latencies.extend(times)
                        rates.append(chats / max(times))
                        spans.append((available, available + max(times)))
                    # Telegram's 30 messages/s limit is a sliding window (bot/resilience.py):
                    # let it empty, so that one round's sends never throttle the next round.
                    await asyncio.sleep(ROUND_GAP)
                results.append(
                    {
                        "engine": engine_name,
                        "engine_params": params,
                        "chats": chats,
                        "rounds": options.e2e_rounds,
                        "latency": summarize(latencies),
                        "answers_per_second": round(statistics.median(rates), 2),
                        "spans": spans,
                        # This process runs only the fake server (and its recorder) here.
                        "server_cpu_ms_per_answer": round(
                            (_cpu_seconds() - cpu_before) * 1000 / (chats * (len(spans) + 1)), 2
                        ),
                    }
                )
        finally:
            stdout = await bot.stop()
        asks: list[tuple[float, float]] = []
        for line in stdout.splitlines():
            if line.startswith("@@engine-stats "):
                stats[engine_name] = json.loads(line.split(" ", 1)[1])
            elif line.startswith("@@engine-times "):
                asks = [(float(a), float(b)) for a, b in json.loads(line.split(" ", 1)[1])]
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
    server: Any,
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
        bot = BotProcess(command, _bot_env(options, index_dir, server))
        try:
            ready.append(await _wait_ready(recorder, bot, bot.started) - bot.started)

            def answered(chat_: int = chat, bot_: BotProcess = bot) -> bool:
                if not bot_.running():
                    raise BenchError(f"e2e: footnote run exited:\n{bot_.stderr_tail()}")
                return chat_ in recorder.answered

            await recorder.until(answered, ANSWER_TIMEOUT, "the first answer")
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
    fake_botapi, spec = import_botapi()
    counter = itertools.count(10_001)

    def ids() -> int:
        return next(counter)  # a fresh private chat (= user) per question

    async with fake_botapi(TOKEN, spec) as server:
        recorder = Recorder(server)
        bursts, stats = await _bursts(server, recorder, options, index_dir, questions, ids, log)
        first = (
            await _first_answers(server, recorder, options, index_dir, questions[0], ids, log)
            if options.first_answer_runs
            else None
        )
        violations = list(server.violations)
    return {
        "bursts": bursts,
        "engine_stats": stats,
        "first_answer": first,
        "violations": violations[:20],
        "note": "engine cache off (cache_size=0): every question is embedded",
    }


def run_e2e(
    options: BenchOptions, index_dir: Path, questions: Sequence[str], log: TextIO
) -> dict[str, Any]:
    return asyncio.run(_e2e(options, index_dir, questions, log))


def format_e2e(e2e: dict[str, Any], floor_ms: float | None = None) -> str:
    out = ["\nEnd to end through the test Bot API server (update available -> sendMessage):"]
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
    if e2e.get("violations"):
        out.append(f"Bot API violations: {e2e['violations']}")
    return "\n".join(out)


# -- the bot child ---------------------------------------------------------------------------


class TimedEngine(Engine):
    """The Engine, noting when each question starts and ends (CLOCK_MONOTONIC)."""

    def __init__(self, retriever: Retriever) -> None:
        super().__init__(retriever)
        self.times: list[tuple[float, float]] = []

    async def ask(self, question: str, k: int = 4) -> Answer:
        started = time.perf_counter()
        try:
            return await super().ask(question, k)
        finally:
            self.times.append((started, time.perf_counter()))


def serve_child(argv: Sequence[str]) -> int:
    """What `footnote run` does (bot/telegram/serve.py), with the engine's knobs exposed."""
    import logging
    from dataclasses import replace

    from bot.config import load_settings
    from bot.telegram.app import ALLOWED_UPDATES
    from bot.telegram.serve import prepare
    from bot.telegram.state import bot_state

    parser = argparse.ArgumentParser(prog="python -m bot.bench.e2e serve")
    parser.add_argument("--batch-wait", type=float, default=None)
    parser.add_argument("--max-batch", type=int, default=None)
    parser.add_argument("--cache-size", type=int, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=os.environ.get("FOOTNOTE_LOG_LEVEL", "WARNING").upper())
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # Each question comes from a fresh user; the per-user limit is not what is measured.
    settings = replace(load_settings(dotenv=None), user_rate_limit=0)

    def make_engine(retriever: Retriever) -> TimedEngine:
        engine = TimedEngine(retriever)
        if args.batch_wait is not None:
            engine.batch_wait = args.batch_wait
        if args.max_batch is not None:
            engine.max_batch = max(1, args.max_batch)
        if args.cache_size is not None:
            engine.cache_size = args.cache_size
        return engine

    application = prepare(settings, make_engine)
    engine = bot_state(application).engine
    assert isinstance(engine, TimedEngine)
    application.run_polling(allowed_updates=ALLOWED_UPDATES)
    print("@@engine-stats " + json.dumps(vars(engine.stats)), flush=True)
    print("@@engine-times " + json.dumps(engine.times), flush=True)
    return 0


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        sys.exit(serve_child(sys.argv[2:]))
    sys.exit("usage: python -m bot.bench.e2e serve [--batch-wait S] [--max-batch N] ...")
