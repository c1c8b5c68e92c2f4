"""Answering: hybrid dense + BM25 retrieval, sentence-level quote choice, citation lookup."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bot.index.embedding import Embedder, make_embedder
from bot.index.lexical import index_terms, tokenize
from bot.index.passages import ParagraphRecord, Passage
from bot.index.store import BuildReport, DocumentInfo, IndexStore, ProgressCallback, open_index
from bot.text import fold_with_map

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
    def threshold(self) -> float:
        if self.found_threshold is not None:
            return self.found_threshold
        return CALIBRATED_THRESHOLDS[self.mode]


# Midpoints of the widest gap between on-topic and off-topic best scores on
# bot/evals/korean_crisis.json (see README, "Calibration").
CALIBRATED_THRESHOLDS = {"hybrid": 0.326, "dense": 0.2115, "lexical": 0.1076}


@dataclass(frozen=True)
class SectionRef:
    doc_id: str
    document: str
    section_no: int
    title: str
    paragraphs: int

    @property
    def empty(self) -> bool:
        return self.paragraphs == 0


@dataclass(frozen=True)
class Hit:
    passage: Passage
    paragraph: ParagraphRecord
    document: DocumentInfo
    score: float
    # Span within `quote` to emphasise: the best sentence of a longer quote, or a cited phrase.
    highlight: tuple[int, int] | None = None

    @property
    def quote(self) -> str:
        return self.passage.text

    @property
    def context(self) -> str:
        return self.paragraph.text

    @property
    def section(self) -> SectionRef:
        return SectionRef(
            self.document.doc_id,
            self.document.title,
            self.passage.section_no,
            self.passage.section,
            self.document.sections[self.passage.section_no].paragraphs,
        )


@dataclass(frozen=True)
class Answer:
    query: str
    found: bool
    hits: tuple[Hit, ...] = ()
    # When not found: why ("off-topic", "empty-query", "empty-section", "no-match") ...
    reason: str = ""
    # ... the nearest sections to offer instead, and a matching section that has no text.
    suggestions: tuple[SectionRef, ...] = ()
    empty_section: SectionRef | None = None
    scores: dict[str, float] = field(default_factory=dict, compare=False)


class Retriever:
    def __init__(
        self, store: IndexStore, embedder: Embedder, config: RetrievalConfig | None = None
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.config = config or RetrievalConfig()
        self._windows: dict[tuple[int, int, int], int] = {
            (p.paragraph_row, p.first_sentence, p.last_sentence): row
            for row, p in enumerate(store.passages)
        }
        self._documents = {d.doc_id: d for d in store.manifest.documents}
        self._window_cost = self._window_costs()
        self._sections = tuple(
            SectionRef(doc.doc_id, doc.title, number, section.title, section.paragraphs)
            for doc in store.manifest.documents
            for number, section in enumerate(doc.sections)
        )
        self._empty_section_terms = [
            (section, set(tokenize(section.title))) for section in self._sections if section.empty
        ]
        self._normalized: dict[int, str] = {}

    def _window_costs(self) -> NDArray[np.float32]:
        config = self.config
        costs = np.zeros(len(self.store.passages), dtype=np.float32)
        for row, passage in enumerate(self.store.passages):
            paragraph = self.store.paragraphs[passage.paragraph_row]
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

    # -- building blocks -------------------------------------------------------------------

    def embed(self, texts: list[str]) -> NDArray[np.float32]:
        return self.embedder.encode(texts)

    def hit(self, row: int, score: float = 0.0, highlight: tuple[int, int] | None = None) -> Hit:
        passage = self.store.passages[row]
        return Hit(
            passage=passage,
            paragraph=self.store.paragraphs[passage.paragraph_row],
            document=self._documents[passage.doc_id],
            score=score,
            highlight=highlight,
        )

    def by_id(self, passage_id: str) -> Hit | None:
        row = self.store.row_of_id.get(passage_id)
        return None if row is None else self.hit(row)

    def _normalized_text(self, row: int) -> str:
        # Only the folded text is kept (about the paragraph's size); the position map is
        # recomputed for the few paragraphs that match.
        cached = self._normalized.get(row)
        if cached is None:
            cached = fold_with_map(self.store.paragraphs[row].text)[0]
            self._normalized[row] = cached
        return cached

    def first_window_id(self, paragraph_row: int) -> str:
        """The id that names a paragraph: its first one-sentence window."""
        return self.store.passages[self._windows[(paragraph_row, 0, 0)]].id

    def sections(self) -> list[SectionRef]:
        return list(self._sections)

    def section_paragraphs(self, doc_id: str, section_no: int) -> list[ParagraphRecord]:
        return [
            p for p in self.store.paragraphs if p.doc_id == doc_id and p.section_no == section_no
        ]

    # -- questions ---------------------------------------------------------------------------

    def ask(
        self, query: str, k: int = 3, query_vector: NDArray[np.float32] | None = None
    ) -> Answer:
        tokens = index_terms(query)
        if not query.strip() or (not tokens and not any(c.isalnum() for c in query)):
            return Answer(
                query, False, reason="empty-query", suggestions=tuple(self._top_sections())
            )
        if query_vector is None and self.config.mode != "lexical":
            query_vector = self.embed([query])[0]
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
        store, config = self.store, self.config
        use_dense = config.mode != "lexical" and query_vector is not None
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
        bm25 = self.store.bm25
        return sum(bm25.idf.get(t, bm25.max_idf) for t in set(tokens))

    def _distinct(self, ranked: list[tuple[int, float]], k: int) -> list[Hit]:
        taken: dict[int, list[tuple[int, int]]] = {}
        hits: list[Hit] = []
        for row, score in ranked:
            passage = self.store.passages[row]
            spans = taken.setdefault(passage.paragraph_row, [])
            if any(
                passage.first_sentence <= last and first <= passage.last_sentence
                for first, last in spans
            ):
                continue
            spans.append((passage.first_sentence, passage.last_sentence))
            hits.append(self.hit(row, score, self._best_sentence(passage, ranked)))
            if len(hits) == k:
                break
        return hits

    def _best_sentence(
        self, passage: Passage, ranked: list[tuple[int, float]]
    ) -> tuple[int, int] | None:
        if passage.first_sentence == passage.last_sentence:
            return None
        singles = {
            self._windows.get((passage.paragraph_row, i, i)): i
            for i in range(passage.first_sentence, passage.last_sentence + 1)
        }
        best = next((singles[row] for row, _ in ranked if row in singles), passage.first_sentence)
        paragraph = self.store.paragraphs[passage.paragraph_row]
        offset = paragraph.sentences[passage.first_sentence][0]
        begin, end = paragraph.sentences[best]
        return begin - offset, end - offset

    def _nearest_sections(
        self, ranked: list[tuple[int, float]], limit: int = 3
    ) -> list[SectionRef]:
        seen: list[tuple[str, int]] = []
        for row, _ in ranked:
            passage = self.store.passages[row]
            key = (passage.doc_id, passage.section_no)
            if key not in seen:
                seen.append(key)
            if len(seen) == limit:
                break
        by_key = {(s.doc_id, s.section_no): s for s in self.sections()}
        return [by_key[key] for key in seen] or self._top_sections(limit)

    def _top_sections(self, limit: int = 3) -> list[SectionRef]:
        return [s for s in self.sections() if not s.empty][:limit]

    def _empty_section_named(self, tokens: list[str]) -> SectionRef | None:
        query_terms = set(tokens)
        idf = self.store.bm25.idf
        for section, terms in self._empty_section_terms:
            if not terms:
                continue
            weight = {t: idf.get(t, 5.0) for t in terms}
            shared = sum(weight[t] for t in terms & query_terms)
            if shared / sum(weight.values()) >= self.config.empty_section_overlap:
                return section
        return None

    # -- citations ---------------------------------------------------------------------------

    def cite(self, phrase: str, k: int = 3) -> Answer:
        """Find where a pasted phrase stands, tolerating quote style, case and small typos."""
        from rapidfuzz import fuzz

        # Fuzzy alignment costs grow with the phrase: a pasted wall of text is located by its
        # opening, which is as specific as any quote needs to be.
        needle = fold_with_map(phrase)[0][:MAX_CITE_CHARS].rstrip()
        if len(needle) < 3:
            return Answer(phrase, False, reason="empty-query")
        tokens = index_terms(needle)
        lexical = self.store.bm25.top(tokens, self.config.candidates) if tokens else []
        paragraph_rows = list(
            dict.fromkeys(self.store.passages[r].paragraph_row for r, _ in lexical)
        )
        candidate_rows = set(paragraph_rows) or set(range(min(len(self.store.paragraphs), 200)))
        # A verbatim fragment may be cut mid-word ("ling Worke"), which word matching misses:
        # in a collection small enough, every paragraph is searched for it exactly; the fuzzy
        # alignment, which costs more, runs on the word-matching candidates only.
        if len(self.store.paragraphs) <= EXACT_CITE_SCAN_LIMIT:
            scanned: Iterable[int] = range(len(self.store.paragraphs))
        else:
            scanned = sorted(candidate_rows)
        located: list[tuple[float, int, int, int]] = []
        for paragraph_row in scanned:
            haystack = self._normalized_text(paragraph_row)
            if not haystack:
                continue
            found = haystack.find(needle)
            if found >= 0:
                score, begin, end = 100.0, found, found + len(needle)
            elif paragraph_row not in candidate_rows:
                continue
            else:
                alignment = fuzz.partial_ratio_alignment(needle, haystack)
                if alignment is None:
                    continue
                score, begin, end = alignment.score, alignment.dest_start, alignment.dest_end
                begin, end = _widen_to_words(haystack, begin, end)
            if score >= self.config.cite_threshold and end > begin:
                positions = fold_with_map(self.store.paragraphs[paragraph_row].text)[1]
                located.append((score, paragraph_row, positions[begin], positions[end - 1] + 1))
        located.sort(key=lambda item: (-item[0], item[1]))
        hits = [self._located_hit(row, begin, end, score) for score, row, begin, end in located[:k]]
        if not hits:
            return Answer(phrase, False, reason="no-match")
        return Answer(phrase, True, tuple(hits), scores={"best": hits[0].score})

    def _located_hit(self, paragraph_row: int, begin: int, end: int, score: float) -> Hit:
        paragraph = self.store.paragraphs[paragraph_row]
        covering = [i for i, (s, e) in enumerate(paragraph.sentences) if s < end and begin < e]
        first, last = covering[0], covering[-1]
        row = self._windows.get((paragraph_row, first, last))
        if row is None:  # the phrase spans more sentences than a window holds
            row = self._windows[(paragraph_row, first, min(last, first + 2))]
        passage = self.store.passages[row]
        offset = paragraph.sentences[passage.first_sentence][0]
        highlight = (max(begin, offset) - offset, min(end - offset, len(passage.text)))
        return self.hit(row, round(score / 100.0, 4), highlight)

    def cite_or_ask(self, text: str, k: int = 3) -> Answer:
        """For a message that quotes or paraphrases the essay: a citation first, else a question."""
        answer = self.cite(text, k)
        return answer if answer.found else self.ask(text, k)


MAX_CITE_CHARS = 600
# Up to this many paragraphs, citation lookup also scans every paragraph for an exact match.
EXACT_CITE_SCAN_LIMIT = 20_000


def _widen_to_words(text: str, begin: int, end: int) -> tuple[int, int]:
    # A fuzzy alignment can start or stop inside a word ("obody knows"); quote whole words.
    while begin > 0 and text[begin - 1].isalnum():
        begin -= 1
    while end < len(text) and text[end].isalnum():
        end += 1
    while begin < end and text[begin] == " ":
        begin += 1
    while end > begin and text[end - 1] == " ":
        end -= 1
    return begin, end


_ANAPHORIC_START = re.compile(
    r"^[\"“‘']?(?:That|This|These|Those|Such|They|Their|It|Its|He|She|His|Her)\b(?!\s+is\s+to\b)"
)


def open_retriever(
    corpus_dir: Path,
    index_dir: Path,
    model: str,
    progress: ProgressCallback | None = None,
    config: RetrievalConfig | None = None,
) -> tuple[Retriever, BuildReport]:
    """Load (rebuilding first if stale) the index for a corpus, ready to answer."""
    embedder = make_embedder(model)
    store, report = open_index(corpus_dir, index_dir, embedder, progress)
    return Retriever(store, embedder, config), report
