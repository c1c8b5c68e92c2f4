"""Child processes of the benchmark: how to run `footnote`, the environment a child gets, and
a long-running child (a bot) with its output in temporary files, stopped by its own pid."""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bot.bench.options import BenchOptions

STOP_TIMEOUT = 20.0


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


class ChildProcess:
    """A child process (a bot) with its output in temporary files."""

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
