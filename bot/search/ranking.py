"""Ranking: dense, lexical and coverage signals fused over sentence windows; the quote each
answer shows, and its verdict (answer, closest passage, or absent)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from bot.index.lexical import index_terms, tokenize
from bot.index.manifest import SectionInfo
from bot.index.passages import Passage
from bot.index.store import IndexStore
from bot.index.tokens import TokenMatrix
from bot.search.answer import Answer, Hit, Verdict
from bot.search.cues import addresses_text
from bot.search.features import SIGNALS, CandidateFeatures, FeatureIndex, FusionWeights
from bot.search.late import general_idf, late_order, verdict_score
from bot.search.library import Library
from bot.search.missing import missing_terms
from bot.search.rare import RARE_BELOW, unused_words
from bot.search.thresholds import Thresholds, thresholds_for
from bot.search.vocabulary import CorpusWords
from bot.text import Span, sentence_in_window

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Vector = NDArray[np.float32]
    Tokens = TokenMatrix | None


@dataclass(frozen=True)
class RetrievalConfig:
    """Weights and thresholds; README "Calibration and quality" explains them."""

    # "hybrid" fuses every signal; "dense" and "lexical" are the single-signal baselines.
    mode: str = "hybrid"
    candidates: int = 48
    weights: FusionWeights = field(default_factory=FusionWeights)
    # A quote that opens with "That conclusion…" or "They…" leans on the sentence before it:
    # such a window pays `dangling_cost`, so the window that includes the antecedent wins.
    # Longer windows collect more incidental overlap: `extra_sentence_cost` is paid per extra
    # sentence that does not lean on the one before it. None: the mode's own (WINDOW_COSTS).
    dangling_cost: float | None = None
    extra_sentence_cost: float | None = None
    # Fixed cut points instead of the ones calibrated for the corpus when it was indexed
    # (tests and experiments); None means the index's own.
    thresholds: Thresholds | None = None
    cite_threshold: float = 84.0
    late: bool = True  # the top windows re-scored by late interaction (bot/search/late.py)
    empty_section_overlap: float = 0.6

    @property
    def uses_dense(self) -> bool:
        """Whether questions need a query vector (the one place that decides it)."""
        return self.mode != "lexical"


# (dangling, extra sentence) per mode, each chosen on the tune halves for that mode alone, so
# the baselines are measured at their best too. The fused score needs no length cost: its
# best-sentence and coverage signals keep quotes focused.
WINDOW_COSTS = {"hybrid": (0.06, 0.0), "dense": (0.06, 0.0), "lexical": (0.1, 0.0)}

# The single-signal baselines: one signal each, so `footnote eval` can say what fusion adds.
_ONLY = dict.fromkeys(SIGNALS, 0.0)
_MODE_WEIGHTS = {
    "dense": FusionWeights(**{**_ONLY, "window_dense": 1.0}),
    "lexical": FusionWeights(**{**_ONLY, "bm25": 1.0}),
}


class Ranker:
    """Answers questions over one index with one configuration."""

    def __init__(self, store: IndexStore, library: Library, config: RetrievalConfig) -> None:
        self._store = store
        self._library = library
        self.config = config
        self.thresholds = config.thresholds or thresholds_for(store.manifest, config.mode)
        self._features = FeatureIndex(store)
        # Filled in as windows become candidates: opening an index costs nothing per passage.
        self._window_cost = np.full(len(store.passages), np.nan, dtype=np.float32)
        self._empty_section_terms = [
            (section, set(tokenize(section.title)))
            for section in library.sections()
            if section.empty
        ]
        self.words = CorpusWords(store)
        # The re-score's general-text idf (bot/search/late.py), for the index's model.
        self.general_idf = general_idf(store.manifest.model)

    def _window_costs(self, rows: NDArray[np.int64]) -> NDArray[np.float32]:
        costs = self._window_cost[rows]
        for i in np.flatnonzero(np.isnan(costs)).tolist():
            costs[i] = self._window_cost[rows[i]] = self._window_cost_of(int(rows[i]))
        return costs

    def _window_cost_of(self, row: int) -> float:
        config = self.config
        dangling_cost, extra_cost = WINDOW_COSTS.get(config.mode, WINDOW_COSTS["hybrid"])
        if config.dangling_cost is not None:
            dangling_cost = config.dangling_cost
        if config.extra_sentence_cost is not None:
            extra_cost = config.extra_sentence_cost
        passage = self._store.passages[row]
        paragraph = self._store.paragraphs[passage.paragraph_row]
        window = paragraph.sentences[passage.first_sentence : passage.last_sentence + 1]
        leans_back = [bool(_ANAPHORIC_START.match(paragraph.text[b:e])) for b, e in window]
        # float32 steps, as the table of every window's cost computed them.
        cost = np.float32(0.0)
        if leans_back[0] and passage.first_sentence > 0:
            cost += np.float32(dangling_cost)
        cost += np.float32(extra_cost * sum(not lean for lean in leans_back[1:]))
        return float(cost)

    def answer(
        self, query: str, k: int, query_vector: Vector | None, query_tokens: Tokens = None
    ) -> Answer:
        tokens = index_terms(query)
        if not query.strip() or (not tokens and not any(c.isalnum() for c in query)):
            return Answer(
                query, False, reason="empty-query", suggestions=tuple(self._top_sections())
            )
        ranked, weakest = self._rank(query, tokens, query_vector, query_tokens)
        hits = self._distinct(ranked, k)
        best = hits[0].score if hits else 0.0
        judged = verdict_score(best, weakest)
        empty = self._empty_section_named(tokens)
        scores = {"best": round(best, 4), "verdict": round(judged, 4)}
        words = self.words
        absent_names = missing_terms(query, words.knows, words.mentions, words.together)
        # Rare words the corpus never uses (bot/search/rare.py): a very rare one decides that
        # the question is absent; an uncommon one is only named when it is refused anyway.
        unused = unused_words(query, words.knows, words.close_to)
        absent_names += tuple(word for word, zipf in unused if zipf < RARE_BELOW)
        if empty is not None:
            return Answer(
                query,
                False,
                tuple(hits),
                "empty-section",
                empty_section=empty,
                scores=scores,
                missing_terms=absent_names,
            )
        # A question about the text gets the lower cut because a reader's paraphrase may miss
        # every word of the passage; one naming an uncommon word the corpus never uses ("What
        # does the author think of cryptocurrency?") asks about something else: usual cut.
        cut = self.thresholds.absent_cut(addresses_text(query) and not unused)
        if not hits or judged < cut or absent_names:
            return Answer(
                query,
                False,
                tuple(hits),
                "missing-terms" if absent_names else "off-topic",
                suggestions=tuple(self._nearest_sections(ranked)),
                scores=scores,
                missing_terms=absent_names or tuple(word for word, _ in unused),
            )
        verdict: Verdict = "answer" if judged >= self.thresholds.answer_from else "closest"
        return Answer(query, True, tuple(hits), scores=scores, verdict=verdict)

    def best_score(
        self,
        query: str,
        query_vector: NDArray[np.float32] | None,
        query_tokens: TokenMatrix | None = None,
    ) -> float:
        """The score a verdict judges (verdict_score) alone: calibration asks many questions
        and needs no more."""
        ranked, weakest = self._rank(query, index_terms(query), query_vector, query_tokens)
        return verdict_score(ranked[0][1], weakest) if ranked else 0.0

    def _rank(
        self,
        query: str,
        tokens: list[str],
        query_vector: NDArray[np.float32] | None,
        query_tokens: TokenMatrix | None = None,
    ) -> tuple[list[tuple[int, float]], float | None]:
        """Candidate windows best first with their scores, and the question's weakest word's
        match in the top windows (None without token embeddings: bot/search/late.py)."""
        features = self.candidate_features(query, tokens, query_vector)
        if features is None:
            return [], None
        weights = _MODE_WEIGHTS.get(self.config.mode, self.config.weights)
        costs = self._window_costs(features.rows)
        fused = features.fused(weights) - costs
        order = np.argsort(-fused, kind="stable")
        scores = fused[order]
        stored, late = self._store.tokens, self.config.late and self.config.mode == "hybrid"
        weakest = None
        if late and stored is not None and query_tokens is not None:
            order, scores, weakest = late_order(
                features,
                fused,
                costs,
                stored,
                self._features.sentence_rows,
                query_tokens,
                self.general_idf,
            )
        ranked = list(zip(features.rows[order].tolist(), scores.tolist(), strict=True))
        return ranked, weakest

    def candidate_features(
        self, query: str, tokens: list[str], query_vector: NDArray[np.float32] | None
    ) -> CandidateFeatures | None:
        """Every candidate window of `query` with its signals (None: no candidate); public
        for the script that fits the weights (scripts/fit_fusion.py)."""
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
            return None
        # Every window of a candidate's paragraph competes, so the quote can narrow to the
        # best sentence or widen to its neighbours.
        rows = sorted(
            {
                r
                for c in candidates
                for r in store.passages_of_paragraph[int(self._features.paragraph_of[c])]
            }
        )
        return self._features.features(
            np.array(rows, dtype=np.int64),
            tokenize(query),
            tokens,
            lexical_all,
            query_vector if use_dense else None,
            query,
        )

    def window_costs(self, rows: NDArray[np.int64]) -> NDArray[np.float32]:
        """What each window pays for its shape (dangling opening, extra sentences)."""
        return self._window_costs(rows)

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
