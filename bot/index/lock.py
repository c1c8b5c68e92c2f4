"""One writer at a time: an OS-level lock on the index directory for every build.

Builds come from `footnote index`, /reload, SIGHUP and replicas sharing one index volume.
Without a lock, two writers each clean up every generation but their own and the one they read
at start, so a manifest can end up naming deleted files.  The lock is `flock` on a file in the
index directory: the kernel releases it when the holder exits or dies, so a crashed build never
leaves the index locked.  The holder writes who it is into the file, so a second writer can say
whom it is waiting for.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

from bot.errors import IndexProblem

LOCK_FILE = ".writer.lock"
POLL_SECONDS = 0.2


def holder(index_dir: Path) -> str:
    """Who holds (or last held) the writer lock, as the holder described itself."""
    try:
        text = (index_dir / LOCK_FILE).read_text(encoding="utf-8", errors="replace").strip()
    except OSError:
        return "unknown"
    return " ".join(text.split()) or "unknown"


@contextlib.contextmanager
def writer_lock(
    index_dir: Path,
    timeout: float | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the index directory's writer lock; wait for it up to `timeout` seconds (None: as
    long as it takes), calling `on_wait` once with the holder's description if it must wait."""
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(index_dir / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise IndexProblem(f"cannot write the index in {index_dir}: {exc.strerror or exc}") from exc
    try:
        _acquire(fd, index_dir, timeout, on_wait)
        os.ftruncate(fd, 0)
        me = f"pid {os.getpid()} on {socket.gethostname()} ({_command()}) since {_now()}"
        os.pwrite(fd, me.encode("utf-8", "replace"), 0)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the flock


def _acquire(
    fd: int, index_dir: Path, timeout: float | None, on_wait: Callable[[str], None] | None
) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return
    except BlockingIOError:
        pass
    if on_wait is not None:
        on_wait(holder(index_dir))
    if timeout is None:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return
    deadline = time.monotonic() + timeout
    while True:  # bounded by the deadline
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise IndexProblem(
                    f"another build is writing the index in {index_dir} ({holder(index_dir)}); "
                    "try again when it has finished"
                ) from None
            time.sleep(POLL_SECONDS)


def _command() -> str:
    name = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    return " ".join([name, *sys.argv[1:2]])


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
