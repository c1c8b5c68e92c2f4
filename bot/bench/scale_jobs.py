"""The scale run's child processes: what each is asked to do (a job, defined once here and
sent to the child as JSON) and how the parent runs one and reads its result.

A child is `python -m bot.bench.scale_child KIND JSON`; it prints `@@scale-phase NAME` lines
as it goes and one `@@scale-result JSON` line at the end.  The parent kills a child whose RSS
passes memory_ceiling_gib() or that runs longer than CHILD_TIMEOUT.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar, TextIO

from bot.bench.memory import memory_ceiling_gib, status_kib

CHILD_TIMEOUT = 1800.0
RESULT = "@@scale-result "
PHASE = "@@scale-phase "


@dataclass
class SearchJob:
    """Synthetic vectors: flat and IVF indexes built, searched, and checked against exact."""

    kind: ClassVar[str] = "search"
    size: int
    workdir: str
    queries: int = 200
    flat_queries: int = 0  # 0: all the queries up to 200k vectors, 40 above
    candidates: int = 48
    nlists: list[int] | None = None
    nprobes: list[int] = field(default_factory=lambda: [4, 8, 16, 32, 64])
    save: bool = False  # leave vectors.npy, queries.npy and the chosen index in workdir


@dataclass
class TextJob:
    """A synthetic corpus loaded the way the bot loads an index, then answered."""

    kind: ClassVar[str] = "text"
    size: int
    workdir: str
    questions: str  # a JSON file: a list of questions
    corpus: str  # whose words seed the vocabulary
    rounds: int = 3


@dataclass
class EmbedJob:
    """Real-model embedding throughput on a synthetic corpus."""

    kind: ClassVar[str] = "embed"
    model: str
    corpus: str
    sample: int = 2000


Job = SearchJob | TextJob | EmbedJob
JOBS: dict[str, type[SearchJob] | type[TextJob] | type[EmbedJob]] = {
    job.kind: job for job in (SearchJob, TextJob, EmbedJob)
}


def phase(name: str) -> None:
    """In a child: tell the parent what it is doing now."""
    print(PHASE + name, flush=True)


def report(result: dict[str, Any]) -> None:
    """In a child: hand the result to the parent."""
    print(RESULT + json.dumps(result), flush=True)


def run_child(job: Job, log: TextIO, env: dict[str, str] | None = None) -> dict[str, Any]:
    """Run a job in a child process; its result, or an error entry."""
    ceiling = memory_ceiling_gib()
    command = [sys.executable, "-m", "bot.bench.scale_child", job.kind, json.dumps(asdict(job))]
    started = time.monotonic()
    peak = 0.0
    current = "start"
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(
            command, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=env
        )
        reason = ""
        try:
            while process.poll() is None:
                rss = status_kib("VmRSS", process.pid) / 1024**2
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
            current = line[len(PHASE) :]
            log.write(f"    {job.kind}: {current}\n")
    for line in reversed(lines):
        if line.startswith(RESULT):
            data: dict[str, Any] = json.loads(line[len(RESULT) :])
            data["wall_seconds"] = round(time.monotonic() - started, 1)
            return data
    return {
        "error": reason or f"exited with {process.returncode}: {errors.strip()[-800:]}",
        "phase": current,
        "observed_rss_gib": round(peak, 2),
        "wall_seconds": round(time.monotonic() - started, 1),
    }
