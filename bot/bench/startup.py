"""Start-up: `footnote --help`, `sections` and `cite` timed as subprocesses, the model's load,
and a check that `sections`/`cite` never import torch or sentence_transformers."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.bench.options import BenchOptions
from bot.bench.processes import child_environment, footnote_command
from bot.bench.stats import summarize, table
from bot.errors import BenchError

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


def format_startup(startup: dict[str, Any]) -> str:
    out = ["\nStart-up (subprocess, median):"]
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
    return "\n".join(out)
