"""A loaded index: passages, paragraphs, vectors, the FAISS index and BM25, ready to search.

Opening memory-maps the arrays the build wrote: nothing is parsed and no per-passage Python
object is made until a question needs that passage."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np

from bot.errors import CorpusError, IndexProblem
from bot.index.ann import ivf_from_lists
from bot.index.approximate import read_ivf
from bot.index.build import BuildReport, Calibrator, ProgressCallback, build_index
from bot.index.embedding import Embedder
from bot.index.manifest import Manifest, read_manifest
from bot.index.memory import open_bytes
from bot.index.passages import ParagraphRecord, Passage
from bot.index.postings import LexicalIndex, map_postings
from bot.index.records import (
    Columns,
    ParagraphTable,
    PassageTable,
    to_columns,
)
from bot.index.tokens import StoredTokens, load_tokens
from bot.index.vectors import StoredVectors, blocks_of, load_vectors

if TYPE_CHECKING:
    from numpy.typing import NDArray


class IndexStore:
    """A loaded index: passages, paragraphs, vectors, the FAISS index and BM25."""

    def __init__(
        self,
        manifest: Manifest,
        passages: Sequence[Passage] | Columns,
        paragraphs: Sequence[ParagraphRecord] = (),
        vectors: NDArray[np.float32] | StoredVectors | None = None,
        faiss_index: Any | None = None,
        lexical: LexicalIndex | None = None,
        tokens: StoredTokens | None = None,
    ) -> None:
        """From the columns an index directory holds, or (for an index never written to disk)
        from passage and paragraph records."""
        self.manifest = manifest
        columns = (
            passages
            if isinstance(passages, Columns)
            else to_columns(manifest.documents, paragraphs, passages)
        )
        self.paragraphs = ParagraphTable(columns, manifest.documents)
        self.passages = PassageTable(columns, self.paragraphs)
        if vectors is None:
            vectors = np.zeros((len(self.passages), manifest.dimension), dtype=np.float32)
        # One memory-mapped array, or segments read through a slot map (bot/index/vectors.py).
        self.vectors: NDArray[np.float32] | StoredVectors = vectors
        self.passages_of_paragraph = _PassagesOfParagraph(self.paragraphs)
        # The generation's table of initials (bot/index/initials.py), read by the search room
        # at the first acronym the corpus does not write; None: scan the paragraphs instead.
        self.initials_file: Path | None = None
        self._faiss = faiss_index
        # BM25 as the build wrote it; counted here only for an index never written to disk.
        self.bm25 = lexical or LexicalIndex.from_texts([p.text for p in self.passages])
        # The sentences' token embeddings (None: an index built before they were stored, or
        # by an embedder without token output; the ranking then skips its re-score).
        self.tokens = tokens

    def row_of_id(self, passage_id: str) -> int | None:
        return self.passages.row_of_id(passage_id)

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


class _PassagesOfParagraph:
    """`passages_of_paragraph[row]`: the rows of a paragraph's windows (consecutive)."""

    def __init__(self, paragraphs: ParagraphTable) -> None:
        self._paragraphs = paragraphs

    def __getitem__(self, paragraph_row: int) -> range:
        return self._paragraphs.passage_rows(paragraph_row)


def load_index(index_dir: Path) -> IndexStore:
    manifest = read_manifest(index_dir)
    files = manifest.files
    try:
        columns = Columns(
            *(
                np.load(index_dir / files[name], mmap_mode="r")
                for name in ("passages", "paragraphs", "texts", "sentences")
            )
        )
        vectors = load_vectors(index_dir, files, manifest.passage_count, manifest.dimension)
        lexical = _load_lexical(index_dir, files, manifest.passage_count)
        faiss_index = _load_ivf(index_dir, manifest, vectors)
        tokens = load_tokens(
            index_dir,
            files,
            vectors.slots
            if isinstance(vectors, StoredVectors)
            else np.arange(manifest.passage_count, dtype=np.int64),
            np.flatnonzero(columns.passages["first"] == columns.passages["last"]),
            manifest.dimension,
        )
    except MemoryError:
        need = open_bytes(manifest.passage_count, manifest.dimension) / 2**30
        raise IndexProblem(
            f"not enough memory to open the index in {index_dir} ({manifest.passage_count} "
            f"passages, about {need:.1f} GiB): use a larger machine or a smaller corpus"
        ) from None
    # EOFError: np.load of an empty (zero-byte) vectors file.
    except (OSError, EOFError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise IndexProblem(f"index in {index_dir} is corrupt ({exc}); run: footnote index") from exc
    if not columns.fit(manifest.passage_count, manifest.paragraph_count) or vectors.shape != (
        manifest.passage_count,
        manifest.dimension,
    ):
        raise IndexProblem(
            f"index in {index_dir} is inconsistent (passages, paragraphs, vectors and manifest "
            "disagree); run: footnote index"
        )
    store = IndexStore(manifest, columns, (), vectors, faiss_index, lexical, tokens)
    if "initials" in files:  # an index built before the file existed has none
        store.initials_file = index_dir / files["initials"]
    return store


def _load_ivf(
    index_dir: Path, manifest: Manifest, vectors: NDArray[np.float32] | StoredVectors
) -> Any | None:
    """The IVF index, its lists filled from the vectors' files (None: exact search, made on
    first use)."""
    if manifest.faiss_type != "ivf":
        return None
    files, count, dimension = manifest.files, manifest.passage_count, manifest.dimension
    ivf = read_ivf(index_dir, files, count, dimension)
    if ivf is None or len(ivf.centroids) != manifest.faiss_params.get("nlist"):
        raise ValueError("the IVF files do not match the manifest")
    nprobe = manifest.faiss_params.get("nprobe", 1)
    blocks = blocks_of(vectors, index_dir / files["vectors"])
    return ivf_from_lists(ivf.centroids, ivf.lists, blocks, nprobe)


def _load_lexical(index_dir: Path, files: dict[str, str], passages: int) -> LexicalIndex:
    """The BM25 arrays, memory-mapped: opening reads none of the postings."""
    mapped = map_postings(index_dir, files, "words")
    if mapped is None or mapped[1].dtype != np.uint8:
        raise ValueError("the lexical index files do not match each other")
    postings, words = mapped
    return LexicalIndex(passages, replace(postings, words=words))


# What an open returns: the whole index (load_index), or its manifest alone (read_manifest).
Opened = TypeVar("Opened", IndexStore, Manifest)


def open_with(
    load: Callable[[Path], Opened],
    corpus_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    progress: ProgressCallback | None = None,
    *,
    follow_links: bool = False,
    keep_previous: bool = True,
    on_wait: Callable[[str], None] | None = None,
    calibrate: Calibrator | None = None,
) -> tuple[Opened, BuildReport]:
    """Open the index with `load`, rebuilding it first when it is stale, missing or corrupt.

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
        return _previous_index(load, index_dir, embedder, problem)
    try:
        return load(index_dir), report
    except IndexProblem:
        if report.rebuilt:
            raise
        report = build(force=True)
        return load(index_dir), report


# The whole index, ready to search.
open_index = partial(open_with, load_index)
# Its manifest alone, for the table of contents (`footnote sections`): no array is opened, and
# the manifest the up-to-date check read is not parsed again (read_manifest remembers it).
open_manifest = partial(open_with, read_manifest)


def _previous_index(
    load: Callable[[Path], Opened],
    index_dir: Path,
    embedder: Embedder,
    problem: IndexProblem | CorpusError,
) -> tuple[Opened, BuildReport]:
    try:
        opened = load(index_dir)
    except IndexProblem:
        raise problem from None
    manifest = opened if isinstance(opened, Manifest) else opened.manifest
    if manifest.model != embedder.name:  # its vectors cannot answer this model's queries
        raise problem
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
    return opened, report
