"""Ranking: hybrid dense + BM25 scores over sentence windows, and the quote each answer shows."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bot.index.lexical import index_terms, tokenize
from bot.index.manifest import SectionInfo
from bot.index.passages import Passage
from bot.index.store import IndexStore
from bot.search.answer import Answer, Hit
from bot.search.library import Library
from bot.text import Span, sentence_in_window

if TYPE_CHECKING:
    from numpy.typing import NDArray


@dataclass(frozen=True)
class RetrievalConfig:
    """Weights and thresholds; README "How the off-topic threshold was calibrated" explains them."""

    # "hybrid" fuses both; "dense" and "lexical" are the single-signal baselines.
    mode: str = "hybrid"
    candidates: int = 48
    lexical_weight: float = 0.35
    # Longer windows collect more incidental overlap; a small cost per extra sentence keeps
    # quotes focused unless the extra sentence really adds to the match.
    extra_sentence_cost: float = 0.02
    # A quote that opens with "That conclusion…" or "They…" leans on the sentence before it:
    # such a window pays this, and a window that includes the antecedent pays no extra-sentence
    # cost for the anaphoric sentence.
    dangling_cost: float = 0.03
    # Below this best score a question is "not in the essay"; None means the calibrated value
    # for the mode (CALIBRATED_THRESHOLDS, from `footnote eval --calibrate`).
    found_threshold: float | None = None
    cite_threshold: float = 84.0
    empty_section_overlap: float = 0.6

    @property
    def uses_dense(self) -> bool:
        """Whether questions need a query vector (the one place that decides it)."""
        return self.mode != "lexical"

    @property
    def threshold(self) -> float:
        if self.found_threshold is not None:
            return self.found_threshold
        return CALIBRATED_THRESHOLDS[self.mode]


# Midpoints of the widest gap between on-topic and off-topic best scores on
# bot/evals/korean_crisis.json (see README, "Calibration").
CALIBRATED_THRESHOLDS = {"hybrid": 0.326, "dense": 0.2115, "lexical": 0.1076}


class Ranker:
    """Answers questions over one index with one configuration."""

    def __init__(self, store: IndexStore, library: Library, config: RetrievalConfig) -> None:
        self._store = store
        self._library = library
        self.config = config
        self._window_cost = self._window_costs()
        self._empty_section_terms = [
            (section, set(tokenize(section.title)))
            for section in library.sections()
            if section.empty
        ]

    def _window_costs(self) -> NDArray[np.float32]:
        config = self.config
        costs = np.zeros(len(self._store.passages), dtype=np.float32)
        for row, passage in enumerate(self._store.passages):
            paragraph = self._store.paragraphs[passage.paragraph_row]
            leans_back = [
                bool(_ANAPHORIC_START.match(paragraph.text[begin:end]))
                for begin, end in paragraph.sentences[
                    passage.first_sentence : passage.last_sentence + 1
                ]
            ]
            if leans_back[0] and passage.first_sentence > 0:
                costs[row] += config.dangling_cost
            costs[row] += config.extra_sentence_cost * sum(not lean for lean in leans_back[1:])
        return costs

    def answer(self, query: str, k: int, query_vector: NDArray[np.float32] | None) -> Answer:
        tokens = index_terms(query)
        if not query.strip() or (not tokens and not any(c.isalnum() for c in query)):
            return Answer(
                query, False, reason="empty-query", suggestions=tuple(self._top_sections())
            )
        ranked = self._rank(tokens, query_vector)
        hits = self._distinct(ranked, k)
        best = hits[0].score if hits else 0.0
        empty = self._empty_section_named(tokens)
        scores = {"best": round(best, 4)}
        if empty is not None:
            return Answer(
                query, False, tuple(hits), "empty-section", empty_section=empty, scores=scores
            )
        if not hits or best < self.config.threshold:
            return Answer(
                query,
                False,
                tuple(hits),
                "off-topic",
                suggestions=tuple(self._nearest_sections(ranked)),
                scores=scores,
            )
        return Answer(query, True, tuple(hits), scores=scores)

    def _rank(
        self, tokens: list[str], query_vector: NDArray[np.float32] | None
    ) -> list[tuple[int, float]]:
        store, config = self._store, self.config
        use_dense = config.uses_dense and query_vector is not None
        use_lexical = config.mode != "dense"
        lexical_all = store.bm25.scores(tokens)
        candidates: set[int] = set()
        if use_dense and query_vector is not None:
            candidates.update(r for r, _ in store.search_dense(query_vector, config.candidates))
        if use_lexical:
            candidates.update(
                r for r, _ in store.bm25.top(tokens, config.candidates, scores=lexical_all)
            )
        if not candidates:
            return []
        # Every window of a candidate's paragraph competes, so the quote can narrow to the
        # best sentence or widen to its neighbours.
        rows = sorted(
            {
                r
                for c in candidates
                for r in store.passages_of_paragraph[store.passages[c].paragraph_row]
            }
        )
        row_array = np.array(rows, dtype=np.int64)
        dense = (
            np.asarray(store.vectors[row_array], dtype=np.float32) @ query_vector
            if use_dense and query_vector is not None
            else np.zeros(len(rows), dtype=np.float32)
        )
        ideal = self._ideal_lexical(tokens)
        lexical = (
            lexical_all[row_array] / ideal
            if use_lexical and ideal > 0
            else np.zeros(len(rows), dtype=np.float32)
        )
        lexical_weight = 1.0 if config.mode == "lexical" else config.lexical_weight
        fused = dense + lexical_weight * np.minimum(lexical, 1.0) - self._window_cost[row_array]
        order = np.argsort(-fused, kind="stable")
        return [(rows[i], float(fused[i])) for i in order]

    def _ideal_lexical(self, tokens: list[str]) -> float:
        # The score of a typical passage holding every query term once: lexical evidence is
        # measured as a share of that, so unknown words ("weather", "Seoul") lower it.
        bm25 = self._store.bm25
        return sum(bm25.idf.get(t, bm25.max_idf) for t in set(tokens))

    def _distinct(self, ranked: list[tuple[int, float]], k: int) -> list[Hit]:
        taken: dict[int, list[tuple[int, int]]] = {}
        hits: list[Hit] = []
        for row, score in ranked:
            passage = self._store.passages[row]
            spans = taken.setdefault(passage.paragraph_row, [])
            if any(
                passage.first_sentence <= last and first <= passage.last_sentence
                for first, last in spans
            ):
                continue
            spans.append((passage.first_sentence, passage.last_sentence))
            hits.append(self._library.hit(row, score, self._best_sentence(passage, ranked)))
            if len(hits) == k:
                break
        return hits

    def _best_sentence(self, passage: Passage, ranked: list[tuple[int, float]]) -> Span | None:
        if passage.first_sentence == passage.last_sentence:
            return None
        singles = {
            self._library.window_row(passage.paragraph_row, i, i): i
            for i in range(passage.first_sentence, passage.last_sentence + 1)
        }
        best = next((singles[row] for row, _ in ranked if row in singles), passage.first_sentence)
        paragraph = self._store.paragraphs[passage.paragraph_row]
        return sentence_in_window(paragraph.sentences, passage.first_sentence, best)

    def _nearest_sections(
        self, ranked: list[tuple[int, float]], limit: int = 3
    ) -> list[SectionInfo]:
        seen: list[tuple[str, int]] = []
        for row, _ in ranked:
            passage = self._store.passages[row]
            key = (passage.doc_id, passage.section_no)
            if key not in seen:
                seen.append(key)
            if len(seen) == limit:
                break
        sections = [self._library.section(doc_id, number) for doc_id, number in seen]
        return [s for s in sections if s is not None] or self._top_sections(limit)

    def _top_sections(self, limit: int = 3) -> list[SectionInfo]:
        sections = (s for s in self._library.sections() if not s.empty)
        return [s for s, _ in zip(sections, range(limit), strict=False)]

    def _empty_section_named(self, tokens: list[str]) -> SectionInfo | None:
        query_terms = set(tokens)
        idf = self._store.bm25.idf
        for section, terms in self._empty_section_terms:
            if not terms:
                continue
            weight = {t: idf.get(t, 5.0) for t in terms}
            shared = sum(weight[t] for t in terms & query_terms)
            if shared / sum(weight.values()) >= self.config.empty_section_overlap:
                return section
        return None


_ANAPHORIC_START = re.compile(
    r"^[\"“‘']?(?:That|This|These|Those|Such|They|Their|It|Its|He|She|His|Her)\b(?!\s+is\s+to\b)"
)
