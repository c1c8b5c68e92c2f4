"""Debian packages installed with apt-get when missing, one way for every caller.

`footnote bench --pydocs` installs python3.11-doc (bot/bench/pydocs.py), and scripts/test.sh
installs chromium for the browser tests (`python -m bot.bench.apt chromium chromium-driver`).
Each caller decides whether its package is missing and so when to install; this module is
how: as root, or through `sudo -n` (never a password prompt), `apt-get update`, then the
packages without their recommends, quietly and without questions.  It lives in the package,
not in scripts/, because the bench must run where only the package is installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Sequence

INSTALL_TIMEOUT = 900  # seconds for each apt-get command


class AptError(Exception):
    """The packages could not be installed; the message says why."""


def apt_install(packages: Sequence[str], timeout: float = INSTALL_TIMEOUT) -> None:
    """Install `packages` with apt-get, or raise AptError saying why not."""
    apt = shutil.which("apt-get")
    if apt is None:
        raise AptError("there is no apt-get here")
    prefix: list[str] = []
    if os.geteuid() != 0:
        sudo = shutil.which("sudo")
        if sudo is None:
            raise AptError("installing needs root")
        prefix = [sudo, "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        [*prefix, apt, "update", "-qq"],
        [*prefix, apt, "install", "-y", "-qq", "--no-install-recommends", *packages],
    ):
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=timeout, check=False
        )
        if done.returncode != 0:
            raise AptError(
                f"{' '.join(command)} exited {done.returncode}: {done.stderr.strip()[-300:]}"
            )


def main(packages: Sequence[str]) -> int:
    """`python -m bot.bench.apt PACKAGE...`: 0 once installed, 1 (and why, on stderr) if not."""
    if not packages:
        print("usage: python -m bot.bench.apt PACKAGE...", file=sys.stderr)
        return 2
    try:
        apt_install(packages)
    except (AptError, subprocess.TimeoutExpired) as error:
        print(f"could not install {' '.join(packages)}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
