"""The FAISS index over the passage vectors: exact while it is fast enough, IVF beyond."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.errors import IndexProblem

if TYPE_CHECKING:
    from numpy.typing import NDArray

# Up to this many passages exact search is always right and costs at most a few ms per
# question (one FAISS thread: ~0.15 us per vector); beyond, IVF answers in about a millisecond
# at recall@10 >= 0.99.  docs/performance.md has the measured curve behind both numbers.
EXACT_SEARCH_LIMIT = 20_000


def ivf_params(count: int) -> dict[str, int]:
    """IVF lists and lists probed per query for `count` vectors (see docs/performance.md).

    About 2*sqrt(count) lists (a power of two; FAISS wants >= 39 training points per list),
    and 1/32 of them probed, at least 16: a query scans ~3% of the collection.  Measured at
    1M passages: 2048 lists, 64 probed, recall@10 ~1.0 at a p95 of a few ms, where 4096
    lists took twice as long to train for no better recall.
    """
    nlist = int(2 ** round(math.log2(2 * math.sqrt(max(count, 1)))))
    nlist = min(nlist, max(16, count // 39))
    return {"nlist": nlist, "nprobe": min(nlist, max(16, nlist // 32))}


def choose_faiss_type(count: int) -> tuple[str, dict[str, int]]:
    """Exact search while it is fast enough, IVF beyond (see docs/performance.md)."""
    if count <= EXACT_SEARCH_LIMIT:
        return "flat", {}
    return "ivf", ivf_params(count)


def build_faiss(vectors: NDArray[np.float32], faiss_type: str, params: dict[str, int]) -> Any:
    import faiss

    dimension = vectors.shape[1]
    if faiss_type == "flat":
        flat = faiss.IndexFlatIP(dimension)
        flat.add(np.ascontiguousarray(vectors))
        return flat
    if faiss_type != "ivf":
        raise IndexProblem(f"unknown FAISS index type {faiss_type!r}")
    quantizer = faiss.IndexFlatIP(dimension)
    ivf = faiss.IndexIVFFlat(quantizer, dimension, params["nlist"], faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(0)
    sample_size = min(len(vectors), params["nlist"] * 64)
    sample = vectors[rng.choice(len(vectors), sample_size, replace=False)]
    ivf.train(np.ascontiguousarray(sample))
    ivf.nprobe = params["nprobe"]
    ivf.add(np.ascontiguousarray(vectors))
    return ivf


def read_ivf(path: Path, dimension: int, nlist: int) -> Any | None:
    """The IVF index a previous generation wrote, memory-mapped, if it can lend its trained
    quantizer to `nlist` lists of `dimension`-vectors; None otherwise (then train anew)."""
    import faiss

    try:
        index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
    except (RuntimeError, OSError):
        return None
    # The object read itself (what this stage writes), never a view into it: a view does not
    # keep the index it points into alive.
    if not isinstance(index, faiss.IndexIVF):
        return None
    if index.d != dimension or index.nlist != nlist or not index.is_trained:
        return None
    return index


def list_of_each_vector(ivf: Any) -> NDArray[np.int64]:
    """For every vector an IVF index holds (by its id), the list it was assigned to."""
    import faiss

    lists = np.full(ivf.ntotal, -1, dtype=np.int64)
    inverted = ivf.invlists
    for number in range(ivf.nlist):
        size = inverted.list_size(number)
        if size:
            lists[faiss.rev_swig_ptr(inverted.get_ids(number), size)] = number
    return lists


def ivf_reusing_quantizer(
    vectors: NDArray[np.float32],
    params: dict[str, int],
    previous: Any,
    previous_row: NDArray[np.int64],
) -> Any:
    """An IVF index over `vectors` on the previous index's trained centroids, not trained
    again: a vector the previous index held (`previous_row` >= 0) stays in its list, and only
    the others are assigned, to their nearest centroid."""
    import faiss

    dimension, nlist = vectors.shape[1], params["nlist"]
    quantizer = faiss.IndexFlatIP(dimension)
    quantizer.add(previous.quantizer.reconstruct_n(0, nlist))
    ivf = faiss.IndexIVFFlat(quantizer, dimension, nlist, faiss.METRIC_INNER_PRODUCT)
    ivf.is_trained = True
    ivf.nprobe = params["nprobe"]
    old_lists = list_of_each_vector(previous)
    lists = np.full(len(vectors), -1, dtype=np.int64)
    kept = (previous_row >= 0) & (previous_row < len(old_lists))
    lists[kept] = old_lists[previous_row[kept]]
    new = np.flatnonzero(lists < 0)
    if len(new):
        _, nearest = quantizer.search(np.ascontiguousarray(vectors[new]), 1)
        lists[new] = nearest[:, 0]
    everything = np.ascontiguousarray(vectors)
    # FAISS's add with the lists given (what faiss.contrib.ivf_tools.add_preassigned calls).
    ivf.add_core(len(everything), faiss.swig_ptr(everything), None, faiss.swig_ptr(lists))
    return ivf
