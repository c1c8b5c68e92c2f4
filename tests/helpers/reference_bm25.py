"""The reference BM25: Okapi BM25 over documents in memory, the plain formula the index's
memory-mapped postings (bot/index/postings.py) must reproduce score for score.

It was the product's lexical index until the postings were written at build time; it stays here,
in the tests, as the oracle they are checked against (tests/test_postings.py, test_lexical.py).
"""

from __future__ import annotations

import math
from collections import Counter
from typing import TYPE_CHECKING

import numpy as np

from bot.index.lexical import BM25_B, BM25_K1

if TYPE_CHECKING:
    from numpy.typing import NDArray


class BM25:
    """Okapi BM25 over a fixed list of documents, with an inverted index in numpy arrays.

    The reference implementation: an index serves the same scores from the arrays its build
    wrote (bot/index/postings.py), without tokenising anything at start-up."""

    def __init__(self, documents: list[list[str]], k1: float = BM25_K1, b: float = BM25_B) -> None:
        self.k1 = k1
        self.b = b
        self.size = len(documents)
        lengths = np.array([len(doc) for doc in documents], dtype=np.float32)
        self._avg_length = float(lengths.mean()) if self.size else 0.0
        postings: dict[str, tuple[list[int], list[int]]] = {}
        for row, doc in enumerate(documents):
            for term, count in Counter(doc).items():
                rows, counts = postings.setdefault(term, ([], []))
                rows.append(row)
                counts.append(count)
        norm = (k1 * (1 - b + b * lengths / (self._avg_length or 1.0))).astype(np.float32)
        self._postings: dict[str, tuple[NDArray[np.int64], NDArray[np.float32]]] = {}
        self.idf: dict[str, float] = {}
        for term, (rows, counts) in postings.items():
            row_array = np.array(rows, dtype=np.int64)
            tf = np.array(counts, dtype=np.float32)
            self._postings[term] = (
                row_array,
                (tf * (k1 + 1) / (tf + norm[row_array])).astype(np.float32),
            )
            df = len(rows)
            self.idf[term] = math.log(1 + (self.size - df + 0.5) / (df + 0.5))
        # The rarest term's idf: what a query term the collection never uses is worth.
        self.max_idf = max(self.idf.values(), default=1.0)

    def scores(self, query_tokens: list[str]) -> NDArray[np.float32]:
        scores = np.zeros(self.size, dtype=np.float32)
        for term in set(query_tokens):
            posting = self._postings.get(term)
            if posting is not None:
                rows, weights = posting
                scores[rows] += self.idf[term] * weights
        return scores

    def rows_with(self, term: str) -> NDArray[np.int64]:
        """The rows whose text holds `term` (empty when no document does)."""
        posting = self._postings.get(term)
        return posting[0] if posting is not None else np.zeros(0, dtype=np.int64)

    def top(
        self, query_tokens: list[str], k: int, scores: NDArray[np.float32] | None = None
    ) -> list[tuple[int, float]]:
        """The k best rows; pass `scores` when they were already computed for this query."""
        if not self.size:
            return []
        if scores is None:
            scores = self.scores(query_tokens)
        k = min(k, self.size)
        best = np.argpartition(-scores, k - 1)[:k]
        ranked = sorted(best.tolist(), key=lambda row: -float(scores[row]))
        return [(row, float(scores[row])) for row in ranked if scores[row] > 0]
