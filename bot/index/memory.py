"""What an index costs in memory to open, known before it is built."""

from __future__ import annotations

import os

from bot.errors import IndexProblem

# What opening an index costs in memory per passage, beyond its vectors: the memory-mapped
# columns, BM25 lexicon and postings pages a search touches, and the FAISS lists (measured:
# ~1 KB per passage for 100,000 synthetic passages with the hashing embedder, RSS after
# opening and answering; it was ~9 KB when records and BM25 were built in memory).
OPEN_BYTES_PER_PASSAGE = 1_500


def open_bytes(passages: int, dimension: int) -> int:
    """About how much memory opening an index of this size takes (vectors counted twice: the
    file and the FAISS copy searched)."""
    return passages * (OPEN_BYTES_PER_PASSAGE + 2 * 4 * dimension)


def memory_bytes() -> int | None:
    """This machine's physical memory, when the OS says."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return None


def check_fits(passages: int, dimension: int, allow_large: bool = False) -> None:
    """Refuse to build an index this machine could not open (unless `allow_large`): a bot
    that runs out of memory at start-up would only be restarted into the same failure."""
    total = memory_bytes()
    need = open_bytes(passages, dimension)
    if allow_large or total is None or need <= 0.8 * total:
        return
    raise IndexProblem(
        f"{passages} passages would need about {need / 2**30:.1f} GiB to open, more than this "
        f"machine's {total / 2**30:.1f} GiB allow; index a smaller corpus, or insist with "
        "footnote index --allow-large"
    )
