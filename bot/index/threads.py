"""How many threads torch and FAISS use in a serving process.

One question is a small matrix product: torch and FAISS split it over every core by default,
and when a neighbour process holds one of a 2-vCPU server's cores, each question waits for the
slowest of its threads (docs/performance.md measured 28 ms with one thread and 245 ms with two
beside a busy process).  A serving process (bot, chat) therefore chooses its threads: the
setting FOOTNOTE_TORCH_THREADS, 1 unless said otherwise.  Index builds keep every core.
"""

from __future__ import annotations

import os
import sys


def limit_threads(threads: int) -> None:
    """Use at most `threads` threads for torch and FAISS in this process (0: their default)."""
    if threads <= 0:
        return
    # Read by torch and FAISS (OpenMP) when they load; both load lazily, after this call.
    for name in ("OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(threads)
    if "torch" in sys.modules:
        import torch

        torch.set_num_threads(threads)
    if "faiss" in sys.modules:
        import faiss

        faiss.omp_set_num_threads(threads)
