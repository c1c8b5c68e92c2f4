"""The approximate (IVF) index a build writes, on the previous generation's trained
quantizer while the library changed little (bot/index/refit.py decides).

What is written is small: the quantizer's centroids and each row's list (`Ivf`); the vectors
are the generation's own vectors file, and opening fills the FAISS lists from it
(bot/index/ann.py `ivf_from_lists`).  Keeping the quantizer therefore costs no FAISS work at
all: a reused vector keeps its list and only new vectors are assigned."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bot.index.ann import assign_lists, train_centroids
from bot.index.refit import Fit, Refit, RefitDecision, decide
from bot.index.reuse import Previous
from bot.index.runs import copy_rows
from bot.index.vectors import StoredVectors

if TYPE_CHECKING:
    from numpy.typing import NDArray


@dataclass(frozen=True)
class Ivf:
    """An IVF index as a generation stores it: `centroids` (nlist x dimension) and, per row,
    the list its vector is in (`lists`)."""

    centroids: NDArray[np.float32]
    lists: NDArray[np.int32]


def read_ivf(index_dir: Path, files: dict[str, str], count: int, dimension: int) -> Ivf | None:
    """A generation's IVF arrays (`count` rows of `dimension`), memory-mapped; None when it
    has none or they disagree with each other."""
    if not {"centroids", "lists"} <= set(files):
        return None
    centroids = np.load(index_dir / files["centroids"], mmap_mode="r")
    lists = np.load(index_dir / files["lists"], mmap_mode="r")
    if (
        centroids.dtype != np.float32
        or centroids.ndim != 2
        or centroids.shape[1] != dimension
        or not len(centroids)
        or lists.dtype != np.int32
        or lists.shape != (count,)
    ):
        return None
    if count and (int(lists.min()) < 0 or int(lists.max()) >= len(centroids)):
        return None
    return Ivf(np.asarray(centroids), lists)


def approximate_index(
    index_dir: Path,
    vectors: NDArray[np.float32] | StoredVectors,
    faiss_type: str,
    params: dict[str, int],
    previous: Previous | None,
    reused_from: NDArray[np.int64],
    changed: int,
    refit: Refit,
) -> tuple[Ivf | None, RefitDecision | None]:
    """The IVF index to write (None: exact search, made at load), and whether the previous
    generation's trained quantizer was kept (`changed`: passages embedded or removed by this
    build)."""
    if faiss_type == "flat":
        return None, None
    before = previous.manifest if previous is not None else None
    comparable = (
        before is not None
        and before.faiss_type == faiss_type
        and before.faiss_params.get("nlist") == params["nlist"]
    )
    fit = Fit.from_json(before.quantizer_fit) if before is not None and comparable else None
    decision = decide(fit, changed, len(vectors), refit.quantizer)
    if not decision.refit:
        assert before is not None
        try:
            old = read_ivf(index_dir, before.files, before.passage_count, vectors.shape[1])
        except (OSError, EOFError, ValueError):
            old = None
        if old is not None and len(old.centroids) == params["nlist"]:
            return _keep_quantizer(old, vectors, reused_from), decision
        decision = RefitDecision(True, Fit(len(vectors)), None, "the previous one is unreadable")
    centroids = train_centroids(vectors, params["nlist"])
    return Ivf(centroids, assign_lists(centroids, vectors)), decision


def _keep_quantizer(
    old: Ivf, vectors: NDArray[np.float32] | StoredVectors, previous_row: NDArray[np.int64]
) -> Ivf:
    """The previous centroids, not trained again: a vector the previous index held
    (`previous_row` >= 0) stays in its list, and only the others are assigned, to their
    nearest centroid."""
    lists = np.full(len(vectors), -1, dtype=np.int32)
    kept = np.flatnonzero((previous_row >= 0) & (previous_row < len(old.lists)))
    copy_rows(lists, kept, old.lists, previous_row[kept])
    new = np.flatnonzero(lists < 0)
    if len(new):
        lists[new] = assign_lists(old.centroids, vectors[new])
    return Ivf(old.centroids, lists)
