"""What the ranking knows about each candidate window: dense and lexical evidence, per window,
per sentence and per paragraph, each on a 0..1 scale so that a weighted mean is comparable
across questions and corpora.

All of it comes from the query embedding, the stored window vectors and the BM25 postings of
the question's own words: nothing here loops over the vocabulary or over every section, so the
answer path stays one encode plus one search (`footnote bench`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bot.index.passages import MAX_WINDOW
from bot.index.store import IndexStore

if TYPE_CHECKING:
    from numpy.typing import NDArray


@dataclass(frozen=True)
class FusionWeights:
    """How much each signal counts in a window's score (chosen on the tune halves of the
    shared SQuAD development set and the essay questions; README "Calibration and quality")."""

    # Cosine of the question and the whole window.
    window_dense: float = 1.0
    # Cosine of the question and the window's best single sentence: a long window cannot
    # borrow relevance from a sentence that is not in it, and a short one is not penalised.
    sentence_dense: float = 1.0
    # Share of the question's words (weighted by rarity, idf) that the window holds: the
    # name or rare word a question turns on must be in the quote.
    rare_term_coverage: float = 0.6
    # Share of the question's words, unweighted: in a small corpus idf is noisy.
    term_coverage: float = 0.4
    # Share of the question's rare words that the window's paragraph holds: the context
    # around a quote is evidence that it is the right place.
    paragraph_coverage: float = 0.4
    # BM25 of the window as a share of an ideal match (the single-signal baseline's score).
    bm25: float = 0.0

    @property
    def total(self) -> float:
        return (
            self.window_dense
            + self.sentence_dense
            + self.rare_term_coverage
            + self.term_coverage
            + self.paragraph_coverage
            + self.bm25
        )


@dataclass(frozen=True)
class CandidateFeatures:
    """One row per candidate window (rows sorted ascending)."""

    rows: NDArray[np.int64]
    window_dense: NDArray[np.float32]
    sentence_dense: NDArray[np.float32]
    rare_term_coverage: NDArray[np.float32]
    term_coverage: NDArray[np.float32]
    paragraph_coverage: NDArray[np.float32]
    bm25: NDArray[np.float32]

    def fused(self, weights: FusionWeights) -> NDArray[np.float32]:
        """The weighted mean of the signals (0..1 when every weight is positive)."""
        total = weights.total or 1.0
        score = (
            weights.window_dense * self.window_dense
            + weights.sentence_dense * self.sentence_dense
            + weights.rare_term_coverage * self.rare_term_coverage
            + weights.term_coverage * self.term_coverage
            + weights.paragraph_coverage * self.paragraph_coverage
            + weights.bm25 * self.bm25
        ) / total
        return np.asarray(score, dtype=np.float32)


# Sentences per paragraph stay far below this (MAX_PARAGRAPH_CHARS bounds them): a key for
# (paragraph, sentence) pairs in one int64.
_SENTENCE_LIMIT = 1 << 20


class FeatureIndex:
    """Per-index tables the features need, built once when an index is loaded."""

    def __init__(self, store: IndexStore) -> None:
        self._store = store
        # From the passage columns in numpy: no per-passage Python object at start-up.
        paragraph, first, last = store.passages.window_columns()
        self.paragraph_of = paragraph
        # Row of each sentence of a window as a one-sentence window (-1 pads short windows).
        self.sentence_rows = np.full((len(paragraph), MAX_WINDOW), -1, dtype=np.int64)
        singles = np.flatnonzero(first == last)
        single_keys = paragraph[singles] * _SENTENCE_LIMIT + first[singles]
        order = np.argsort(single_keys, kind="stable")
        single_keys, singles = single_keys[order], singles[order]
        rows = np.arange(len(paragraph), dtype=np.int64)
        for slot in range(MAX_WINDOW):
            number = first + slot
            inside = number <= last
            keys = paragraph * _SENTENCE_LIMIT + number
            found = np.minimum(np.searchsorted(single_keys, keys), max(len(single_keys) - 1, 0))
            known = (single_keys[found] == keys) if len(single_keys) else np.zeros(len(keys), bool)
            chosen = np.where(known, singles[found] if len(singles) else rows, rows)
            self.sentence_rows[:, slot] = np.where(inside, chosen, -1)

    def features(
        self,
        rows: NDArray[np.int64],
        words: list[str],
        terms: list[str],
        lexical: NDArray[np.float32],
        query_vector: NDArray[np.float32] | None,
    ) -> CandidateFeatures:
        """Signals for candidate `rows` (sorted): `words` are the question's words, `terms`
        its index terms (words and word pairs), `lexical` their BM25 score for every row."""
        store = self._store
        bm25 = store.bm25
        if query_vector is not None:
            window_dense = np.asarray(store.vectors[rows], dtype=np.float32) @ query_vector
            sentence_dense = self._best_sentence_dense(rows, window_dense, query_vector)
        else:
            window_dense = np.zeros(len(rows), dtype=np.float32)
            sentence_dense = window_dense
        unique_words = list(dict.fromkeys(words))
        # A word the corpus never uses weighs what the rarest word does: it lowers coverage.
        weights = [bm25.idf.get(w, bm25.max_idf) for w in unique_words]
        rare_total = sum(weights) or 1.0
        rare = np.zeros(len(rows), dtype=np.float32)
        plain = np.zeros(len(rows), dtype=np.float32)
        paragraphs = self.paragraph_of[rows]
        in_paragraph = np.zeros(len(rows), dtype=np.float32)
        for word, weight in zip(unique_words, weights, strict=True):
            holding = bm25.rows_with(word)
            if not len(holding):
                continue
            has = np.isin(rows, holding, assume_unique=True)
            rare += weight * has
            plain += has
            in_paragraph += weight * np.isin(paragraphs, self.paragraph_of[holding])
        # BM25 as a share of a typical window holding every term once, so words the corpus
        # lacks ("weather", "Lisbon") lower it.
        ideal = sum(bm25.idf.get(t, bm25.max_idf) for t in set(terms)) or 1.0
        return CandidateFeatures(
            rows=rows,
            window_dense=window_dense,
            sentence_dense=sentence_dense,
            rare_term_coverage=rare / rare_total,
            term_coverage=(plain / max(1, len(unique_words))).astype(np.float32),
            paragraph_coverage=in_paragraph / rare_total,
            bm25=np.minimum(lexical[rows] / ideal, 1.0).astype(np.float32),
        )

    def _best_sentence_dense(
        self,
        rows: NDArray[np.int64],
        window_dense: NDArray[np.float32],
        query_vector: NDArray[np.float32],
    ) -> NDArray[np.float32]:
        sentences = self.sentence_rows[rows]
        # Candidates include every window of their paragraphs, so every one-sentence window
        # is already scored; look its score up instead of multiplying again.
        found = np.searchsorted(rows, np.maximum(sentences, 0))
        found = np.minimum(found, len(rows) - 1)
        known = (sentences >= 0) & (rows[found] == sentences)
        scores = np.where(known, window_dense[found], -1.0)
        missing = (sentences >= 0) & ~known
        if missing.any():
            extra = np.asarray(self._store.vectors[sentences[missing]], dtype=np.float32)
            scores[missing] = extra @ query_vector
        return np.asarray(scores.max(axis=1), dtype=np.float32)
