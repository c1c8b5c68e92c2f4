"""Run a few lines of Python in a fresh interpreter: what a fresh process imports, or prints."""

from __future__ import annotations

import subprocess
import sys


def python_output(code: str, env: dict[str, str] | None = None) -> str:
    """What `code` prints, run by this interpreter in a new process (fails on a non-zero exit)."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout
