"""Memory of this process and of a child: resident set, its peak, and the ceiling a child
may not pass (Linux /proc; elsewhere getrusage, or nothing)."""

from __future__ import annotations

import contextlib
from pathlib import Path


def status_kib(field: str, pid: int | str = "self") -> int:
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def peak_rss_gib() -> float:
    """This process's peak RSS (VmHWM) since start or the last reset_peak_rss()."""
    kib = status_kib("VmHWM")
    if not kib:
        import resource

        kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return round(kib / 1024**2, 3)


def rss_gib() -> float:
    return round(status_kib("VmRSS") / 1024**2, 3)


def reset_peak_rss() -> None:
    """Linux: writing 5 to clear_refs resets VmHWM to the current RSS."""
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def memory_ceiling_gib() -> float:
    """Kill a child above this RSS: 75% of the memory available now, at most 16 GiB."""
    available = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                available = int(line.split()[1])
    return round(min(16.0, 0.75 * available / 1024**2), 1) if available else 16.0
