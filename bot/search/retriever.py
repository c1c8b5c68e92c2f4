"""The search stage's face: questions and pasted phrases in, answers out, over one index."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from bot.index.build import BuildReport, ProgressCallback
from bot.index.embedding import Embedder, encode_with_tokens, make_embedder
from bot.index.store import IndexStore, open_index
from bot.index.tokens import TokenMatrix
from bot.search.answer import DEFAULT_RESULTS, Answer
from bot.search.calibration import calibrate
from bot.search.cite import CitationFinder
from bot.search.library import Library
from bot.search.ranking import Ranker, RetrievalConfig
from bot.search.rare import load_word_frequencies
from bot.search.thresholds import Thresholds

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray


class Retriever:
    """Ranking, citation lookup and the read-only library of one loaded index."""

    def __init__(
        self, store: IndexStore, embedder: Embedder, config: RetrievalConfig | None = None
    ) -> None:
        self._store = store
        self.embedder = embedder
        self.config = config or RetrievalConfig()
        self.library = Library(store)
        self._ranker = Ranker(store, self.library, self.config)
        self._citations = CitationFinder(
            store, self.library, self.config.cite_threshold, self.config.candidates
        )

    @property
    def store(self) -> IndexStore:
        """The loaded index itself, for the search stage's own measurements (evaluation,
        benchmarks); views use `library`, which is all they may know of an index."""
        return self._store

    @property
    def thresholds(self) -> Thresholds:
        """The verdict cut points in force (the index's calibration, unless configured)."""
        return self._ranker.thresholds

    def with_config(self, config: RetrievalConfig) -> Retriever:
        """The same index and model, ranked another way (evaluation baselines)."""
        return Retriever(self._store, self.embedder, config)

    def embed(self, texts: list[str]) -> NDArray[np.float32]:
        return self.embedder.encode(texts)

    def warm_up(self) -> None:
        """Load what the first question would wait for: the model, and the English word
        frequencies of the rare-word rule (bot/search/rare.py, ~0.5 s on first use)."""
        self.embed(["warm-up"])
        load_word_frequencies()

    def encode(self, texts: list[str]) -> tuple[NDArray[np.float32], list[TokenMatrix] | None]:
        """Vectors and token embeddings (for the late-interaction re-score) of one forward
        pass; None: the embedder gives no tokens."""
        return encode_with_tokens(self.embedder, texts)

    def needs_vector(self, query: str) -> bool:
        """Whether answering `query` takes a query embedding."""
        return self.config.uses_dense and bool(query.strip())

    def ask(
        self,
        query: str,
        k: int = DEFAULT_RESULTS,
        query_vector: NDArray[np.float32] | None = None,
        query_tokens: TokenMatrix | None = None,
    ) -> Answer:
        """`query_tokens`: the question's token embeddings from the pass that gave
        `query_vector` (without them the top windows are not re-scored)."""
        if query_vector is None and self.needs_vector(query):
            vectors, tokens = self.encode([query])
            query_vector, query_tokens = vectors[0], tokens[0] if tokens else None
        return self._ranker.answer(query, k, query_vector, query_tokens)

    def cite(self, phrase: str, k: int = DEFAULT_RESULTS) -> Answer:
        """Find where a pasted phrase stands, tolerating quote style, case and small typos."""
        return self._citations.cite(phrase, k)

    def cite_or_ask(self, text: str, k: int = DEFAULT_RESULTS) -> Answer:
        """For a message that quotes or paraphrases the essay: a citation first, else a question."""
        answer = self.cite(text, k)
        return answer if answer.found else self.ask(text, k)


def open_retriever(
    corpus_dir: Path,
    index_dir: Path,
    model: str,
    progress: ProgressCallback | None = None,
    config: RetrievalConfig | None = None,
    *,
    follow_links: bool = False,
    keep_previous: bool = True,
    on_wait: Callable[[str], None] | None = None,
) -> tuple[Retriever, BuildReport]:
    """Load (rebuilding first if stale) the index for a corpus, ready to answer; see
    open_with (bot/index/store.py) for `keep_previous` and `on_wait`."""
    embedder = make_embedder(model)
    store, report = open_index(
        corpus_dir,
        index_dir,
        embedder,
        progress,
        follow_links=follow_links,
        keep_previous=keep_previous,
        on_wait=on_wait,
        calibrate=calibrate,
    )
    return Retriever(store, embedder, config), report
