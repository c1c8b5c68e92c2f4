"""A loaded index: passages, paragraphs, vectors, the FAISS index and BM25, ready to search."""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.errors import CorpusError, IndexProblem
from bot.index.build import BuildReport, Calibrator, ProgressCallback, build_index
from bot.index.embedding import Embedder
from bot.index.lexical import BM25, index_terms
from bot.index.manifest import Manifest, read_manifest
from bot.index.memory import open_bytes
from bot.index.passages import ParagraphRecord, Passage

if TYPE_CHECKING:
    from numpy.typing import NDArray


class IndexStore:
    """A loaded index: passages, paragraphs, vectors, the FAISS index and BM25."""

    def __init__(
        self,
        manifest: Manifest,
        passages: list[Passage],
        paragraphs: list[ParagraphRecord],
        vectors: NDArray[np.float32],
        faiss_index: Any | None = None,
    ) -> None:
        self.manifest = manifest
        self.passages = passages
        self.paragraphs = paragraphs
        self.vectors = vectors
        self.row_of_id = {p.id: row for row, p in enumerate(passages)}
        self.passages_of_paragraph: dict[int, list[int]] = {}
        for row, passage in enumerate(passages):
            self.passages_of_paragraph.setdefault(passage.paragraph_row, []).append(row)
        self._faiss = faiss_index
        self.bm25 = BM25([index_terms(p.text) for p in passages])

    @property
    def faiss_index(self) -> Any:
        if self._faiss is None:
            import faiss

            index = faiss.IndexFlatIP(self.manifest.dimension)
            if len(self.vectors):
                index.add(np.ascontiguousarray(self.vectors))
            self._faiss = index
        return self._faiss

    def search_dense(self, query: NDArray[np.float32], k: int) -> list[tuple[int, float]]:
        if not self.passages:
            return []
        scores, rows = self.faiss_index.search(query.reshape(1, -1), min(k, len(self.passages)))
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0]


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_index(index_dir: Path) -> IndexStore:
    manifest = read_manifest(index_dir)
    files = manifest.files
    try:
        passages = [Passage(**row) for row in _read_jsonl(index_dir / files["passages"])]
        paragraphs = [
            ParagraphRecord(**{**row, "sentences": tuple(tuple(s) for s in row["sentences"])})
            for row in _read_jsonl(index_dir / files["paragraphs"])
        ]
        vectors = np.load(index_dir / files["vectors"], mmap_mode="r")
        faiss_index = None
        if "faiss" in files:
            import faiss

            faiss_index = faiss.read_index(str(index_dir / files["faiss"]))
            if hasattr(faiss_index, "nprobe"):
                faiss_index.nprobe = manifest.faiss_params.get("nprobe", 1)
    except MemoryError:
        need = open_bytes(manifest.passage_count, manifest.dimension) / 2**30
        raise IndexProblem(
            f"not enough memory to open the index in {index_dir} ({manifest.passage_count} "
            f"passages, about {need:.1f} GiB): use a larger machine or a smaller corpus"
        ) from None
    # EOFError: np.load of an empty (zero-byte) vectors file.
    except (OSError, EOFError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise IndexProblem(f"index in {index_dir} is corrupt ({exc}); run: footnote index") from exc
    if (
        len(passages) != manifest.passage_count
        or len(paragraphs) != manifest.paragraph_count
        or vectors.shape != (manifest.passage_count, manifest.dimension)
    ):
        raise IndexProblem(
            f"index in {index_dir} is inconsistent (passages, paragraphs, vectors and manifest "
            "disagree); run: footnote index"
        )
    return IndexStore(manifest, passages, paragraphs, vectors, faiss_index)


def open_index(
    corpus_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    progress: ProgressCallback | None = None,
    *,
    follow_links: bool = False,
    keep_previous: bool = True,
    on_wait: Callable[[str], None] | None = None,
    calibrate: Calibrator | None = None,
) -> tuple[IndexStore, BuildReport]:
    """Load the index, rebuilding it first when it is stale, missing or corrupt.

    With `keep_previous`, when the corpus or the index directory cannot be read or written,
    the index already there (built with this model) answers, and the report carries a
    warning: a process starting up serves rather than refuses.  Without it (a reload, whose
    caller is still serving the old index) the failure is raised."""
    build = partial(
        build_index,
        corpus_dir,
        index_dir,
        embedder,
        progress,
        follow_links=follow_links,
        on_wait=on_wait,
        calibrate=calibrate,
    )
    try:
        report = build()
    except (IndexProblem, CorpusError) as problem:
        if not keep_previous:
            raise
        return _previous_index(index_dir, embedder, problem)
    try:
        return load_index(index_dir), report
    except IndexProblem:
        if report.rebuilt:
            raise
        report = build(force=True)
        return load_index(index_dir), report


def _previous_index(
    index_dir: Path, embedder: Embedder, problem: IndexProblem | CorpusError
) -> tuple[IndexStore, BuildReport]:
    try:
        store = load_index(index_dir)
    except IndexProblem:
        raise problem from None
    if store.manifest.model != embedder.name:  # its vectors cannot answer this model's queries
        raise problem
    manifest = store.manifest
    report = BuildReport(
        rebuilt=False,
        reason="kept the existing index",
        documents=len(manifest.documents),
        passages=manifest.passage_count,
        seconds=0.0,
        problems=list(manifest.problems),
        warning=f"the index could not be refreshed ({problem}); answering from the one built "
        f"{manifest.built_at}",
    )
    return store, report
