"""The FAISS index over the passage vectors: exact while it is fast enough, IVF beyond.

Neither is written to disk as a FAISS file: the vectors are (bot/index/vectors.py), and for
IVF the trained centroids and each row's list (centroids-, lists-<gen>.npy, a few MB), from
which opening fills the index's lists directly.  A FAISS file would hold every vector a
second time (148 MB at 95k passages, rewritten by every build).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.errors import IndexProblem

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from bot.index.vectors import StoredVectors

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
    centroids = train_centroids(vectors, params["nlist"])
    lists = assign_lists(centroids, vectors)
    rows = np.arange(len(vectors), dtype=np.int64)
    return ivf_from_lists(centroids, lists, [(rows, vectors)], params["nprobe"])


def train_centroids(
    vectors: NDArray[np.float32] | StoredVectors, nlist: int
) -> NDArray[np.float32]:
    """The IVF quantizer's `nlist` centroids, trained (k-means) on a sample of `vectors`."""
    import faiss

    dimension = vectors.shape[1]
    ivf = faiss.IndexIVFFlat(
        faiss.IndexFlatIP(dimension), dimension, nlist, faiss.METRIC_INNER_PRODUCT
    )
    rng = np.random.default_rng(0)
    sample_size = min(len(vectors), nlist * 64)
    sample = vectors[rng.choice(len(vectors), sample_size, replace=False)]
    ivf.train(np.ascontiguousarray(sample))
    return np.asarray(ivf.quantizer.reconstruct_n(0, nlist), dtype=np.float32)


def assign_lists(
    centroids: NDArray[np.float32], vectors: NDArray[np.float32] | StoredVectors
) -> NDArray[np.int32]:
    """Each vector's IVF list: its nearest centroid by inner product, as FAISS's own `add`
    assigns it (the same flat search)."""
    import faiss

    quantizer = faiss.IndexFlatIP(centroids.shape[1])
    quantizer.add(np.ascontiguousarray(centroids))
    if not len(vectors):
        return np.zeros(0, dtype=np.int32)
    _, nearest = quantizer.search(np.ascontiguousarray(vectors, dtype=np.float32), 1)
    return nearest[:, 0].astype(np.int32)


def ivf_from_lists(
    centroids: NDArray[np.float32],
    lists: NDArray[np.int32],
    blocks: Iterable[tuple[NDArray[np.int64], NDArray[np.float32]]],
    nprobe: int,
) -> Any:
    """The IVF index with row r's vector in list `lists[r]` (each list's rows ascending, as
    FAISS's own `add` leaves them): the index's lists are filled directly from `blocks`,
    (rows, their vectors) a block at a time (bot/index/vectors.py `blocks_of`)."""
    import faiss

    nlist, dimension = centroids.shape
    quantizer = faiss.IndexFlatIP(dimension)
    quantizer.add(np.ascontiguousarray(centroids))
    ivf = faiss.IndexIVFFlat(quantizer, dimension, nlist, faiss.METRIC_INNER_PRODUCT)
    ivf.is_trained = True
    ivf.nprobe = nprobe
    lists = np.asarray(lists, dtype=np.int32)
    sizes = np.bincount(lists, minlength=nlist)
    order = np.argsort(lists, kind="stable")  # by list, rows ascending within each
    begins = np.cumsum(sizes) - sizes
    # Each row's place in its list.
    position = np.empty(len(lists), dtype=np.int64)
    position[order] = np.arange(len(lists), dtype=np.int64) - np.repeat(begins, sizes)
    inverted: Any = ivf.invlists
    codes: list[NDArray[np.float32]] = []
    for number, size in enumerate(sizes.tolist()):
        if not size:
            codes.append(np.zeros((0, dimension), dtype=np.float32))
            continue
        inverted.resize(number, size)
        raw = faiss.rev_swig_ptr(inverted.get_codes(number), size * dimension * 4)
        codes.append(raw.view(np.float32).reshape(size, dimension))
        ids = faiss.rev_swig_ptr(inverted.get_ids(number), size)
        ids[:] = order[begins[number] : begins[number] + size]
    for rows, block in blocks:
        of_block = lists[rows]
        within = np.argsort(of_block, kind="stable")
        sorted_lists = of_block[within]
        cuts = np.flatnonzero(np.diff(sorted_lists)) + 1
        starts = [0, *cuts.tolist()]
        stops = [*cuts.tolist(), len(within)]
        for start, stop in zip(starts, stops, strict=True):
            if start == stop:
                continue
            picked = within[start:stop]
            places = position[rows[picked]]
            target = codes[int(sorted_lists[start])]
            first, last = int(places[0]), int(places[-1])
            if last - first == stop - start - 1:  # rows in order: a block of the list
                np.take(block, picked, axis=0, out=target[first : last + 1])
            else:
                target[places] = block[picked]
    ivf.ntotal = len(lists)
    return ivf
