"""What the ranking knows about each candidate window: dense and lexical evidence, per window,
per sentence and per paragraph, each on a 0..1 scale so that a weighted mean is comparable
across questions and corpora.

All of it comes from the query embedding, the stored window vectors and the BM25 postings of
the question's own words: nothing here loops over the vocabulary or over every section, so the
answer path stays one encode plus one search (`footnote bench`).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, fields
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from bot.index.passages import MAX_WINDOW
from bot.index.store import IndexStore
from bot.search.cues import AnswerTypes

if TYPE_CHECKING:
    from numpy.typing import NDArray


@dataclass(frozen=True)
class FusionWeights:
    """How much each signal counts in a window's score: fitted on the tune data by
    scripts/fit_fusion.py (README "Calibration and quality"); a weighted mean, so the score
    stays on the 0..1 scale the verdict thresholds are calibrated on."""

    # Cosine of the question and the whole window.
    window_dense: float = 1.0
    # Cosine of the question and the window's best single sentence: a long window cannot
    # borrow relevance from a sentence that is not in it, and a short one is not penalised.
    sentence_dense: float = 0.42
    # Share of the question's words (weighted by rarity, idf) that the window holds: the
    # name or rare word a question turns on must be in the quote.
    rare_term_coverage: float = 0.28
    # As rare_term_coverage, a word counting as held when the window holds a word of the same
    # stem ("emphasize" and "emphasized"; the index's own stemming is light on purpose).
    variant_coverage: float = 0.36
    # Share of the question's words, unweighted: in a small corpus idf is noisy.
    term_coverage: float = 0.0
    # Share of the question's rare words that the window's paragraph holds: the context
    # around a quote is evidence that it is the right place.
    paragraph_coverage: float = 0.36
    # BM25 of the window as a share of an ideal match (the single-signal baseline's score).
    bm25: float = 0.0
    # Cosine of the question and the best window of the paragraph: the paragraph as context
    # for a window that answers without repeating the question's words.
    paragraph_dense: float = 0.47
    # Share of the question's word pairs ("free quarks") the window holds, as phrases.
    pair_coverage: float = 0.19
    # 1 when the window holds the kind of answer the question asks for (bot/search/cues.py).
    answer_type: float = 0.25

    @property
    def total(self) -> float:
        return float(sum(getattr(self, f.name) for f in fields(self)))


SIGNALS = tuple(f.name for f in fields(FusionWeights))


@dataclass(frozen=True)
class CandidateFeatures:
    """One row per candidate window (rows sorted ascending); one array per signal."""

    rows: NDArray[np.int64]
    window_dense: NDArray[np.float32]
    sentence_dense: NDArray[np.float32]
    rare_term_coverage: NDArray[np.float32]
    variant_coverage: NDArray[np.float32]
    term_coverage: NDArray[np.float32]
    paragraph_coverage: NDArray[np.float32]
    bm25: NDArray[np.float32]
    paragraph_dense: NDArray[np.float32]
    pair_coverage: NDArray[np.float32]
    answer_type: NDArray[np.float32]

    def fused(self, weights: FusionWeights) -> NDArray[np.float32]:
        """The weighted mean of the signals (0..1 when every weight is positive)."""
        total = weights.total or 1.0
        score = np.zeros(len(self.rows), dtype=np.float32)
        for name in SIGNALS:
            weight = getattr(weights, name)
            if weight:
                score += np.float32(weight) * getattr(self, name)
        return np.asarray(score / np.float32(total), dtype=np.float32)


# A variant may be this many letters longer than the shared stem ("emphasis" but not
# "emphatically").
_VARIANT_TAIL = 4

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
        self._answer_types = AnswerTypes(lambda row: store.passages[row].text, len(paragraph))
        # Each paragraph's windows are consecutive rows (passages are cut paragraph by
        # paragraph), so "does the paragraph hold a word" is a range test on the word's
        # ascending postings: two binary searches per candidate, whatever the word's
        # frequency (np.isin sorted a common word's 100,000 rows at every question).
        self._paragraph_bounds: NDArray[np.int64] | None = None
        if len(paragraph) and bool(np.all(np.diff(paragraph) >= 0)):
            self._paragraph_bounds = np.searchsorted(
                paragraph, np.arange(int(paragraph[-1]) + 2), side="left"
            ).astype(np.int64)

    def features(
        self,
        rows: NDArray[np.int64],
        words: list[str],
        terms: list[str],
        lexical: NDArray[np.float32],
        query_vector: NDArray[np.float32] | None,
        question: str = "",
    ) -> CandidateFeatures:
        """Signals for candidate `rows` (sorted): `words` are the question's words, `terms`
        its index terms (words and word pairs), `lexical` their BM25 score for every row,
        `question` its text."""
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
        variants = np.zeros(len(rows), dtype=np.float32)
        for word, weight in zip(unique_words, weights, strict=True):
            holding = bm25.rows_with(word)
            has = _holds(rows, holding)
            # The word is among its own variants when the corpus uses it: not looked up twice.
            held = has.copy()
            for variant in self._variants(word):
                if variant != word:
                    held |= _holds(rows, bm25.rows_with(variant))
            variants += weight * held
            if not len(holding):
                continue
            rare += weight * has
            plain += has
            in_paragraph += weight * self._paragraph_holds(paragraphs, holding)
        # BM25 as a share of a typical window holding every term once, so words the corpus
        # lacks ("weather", "Lisbon") lower it.
        ideal = sum(bm25.idf.get(t, bm25.max_idf) for t in set(terms)) or 1.0
        rare_term_coverage = rare / rare_total
        return CandidateFeatures(
            rows=rows,
            window_dense=window_dense,
            sentence_dense=sentence_dense,
            rare_term_coverage=rare_term_coverage,
            variant_coverage=variants / rare_total,
            term_coverage=(plain / max(1, len(unique_words))).astype(np.float32),
            paragraph_coverage=in_paragraph / rare_total,
            bm25=np.minimum(lexical[rows] / ideal, 1.0).astype(np.float32),
            paragraph_dense=_best_per_paragraph(paragraphs, window_dense),
            pair_coverage=self._pair_coverage(rows, terms, rare_term_coverage),
            answer_type=self._answer_types.match(rows, question),
        )

    def _paragraph_holds(
        self, paragraphs: NDArray[np.int64], holding: NDArray[np.int64]
    ) -> NDArray[np.bool_]:
        """Whether each of `paragraphs` has a window among `holding` (ascending rows)."""
        bounds = self._paragraph_bounds
        if bounds is None:
            return np.isin(paragraphs, self.paragraph_of[holding])
        first = np.searchsorted(holding, bounds[paragraphs])
        after = np.searchsorted(holding, bounds[paragraphs + 1])
        return np.asarray(after > first)

    def _variants(self, word: str) -> list[str]:
        """The corpus's words that share `word`'s stem ("emphasize": "emphasized",
        "emphasis"): at most the last two letters of a word of five or more differ."""
        if len(word) < 5:
            return [word]
        stem = word[: max(4, len(word) - 2)]
        vocabulary = self._vocabulary
        found: list[str] = []
        at = bisect.bisect_left(vocabulary, stem)
        while at < len(vocabulary) and vocabulary[at].startswith(stem):
            if len(vocabulary[at]) <= len(stem) + _VARIANT_TAIL:
                found.append(vocabulary[at])
            at += 1
        return found

    @cached_property
    def _vocabulary(self) -> list[str]:
        # Read the first time a question needs it, not when the index opens.
        return self._store.bm25.words()

    def _pair_coverage(
        self, rows: NDArray[np.int64], terms: list[str], single: NDArray[np.float32]
    ) -> NDArray[np.float32]:
        pairs = list(dict.fromkeys(t for t in terms if "_" in t))
        if not pairs:
            # A question of one word: that word is its only phrase.
            return single
        held = np.zeros(len(rows), dtype=np.float32)
        for pair in pairs:
            held += _holds(rows, self._store.bm25.rows_with(pair))
        return held / np.float32(len(pairs))

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


def _best_per_paragraph(
    paragraphs: NDArray[np.int64], scores: NDArray[np.float32]
) -> NDArray[np.float32]:
    """Each row's paragraph's best score (every window of a candidate's paragraph is a
    candidate, so this is the paragraph's best window)."""
    groups, inverse = np.unique(paragraphs, return_inverse=True)
    best = np.full(len(groups), -np.inf, dtype=np.float32)
    np.maximum.at(best, inverse, scores)
    return best[inverse]


def _holds(rows: NDArray[np.int64], holding: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Which of `rows` are in `holding` (both ascending): a binary search, cheaper than
    np.isin's sort for a question's few hundred candidates."""
    if not len(holding):
        return np.zeros(len(rows), dtype=bool)
    at = np.minimum(np.searchsorted(holding, rows), len(holding) - 1)
    return np.asarray(holding[at] == rows)
