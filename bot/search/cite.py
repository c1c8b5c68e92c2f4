"""Citation lookup: where a pasted phrase stands, whatever its quote style, case or small typos."""

from __future__ import annotations

from collections.abc import Iterable

from bot.index.lexical import index_terms
from bot.index.store import IndexStore
from bot.search.answer import Answer, Hit
from bot.search.library import Library
from bot.text import fold_for_lookup, fold_with_map, sentences_covering

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


class CitationFinder:
    """Locates phrases in the paragraphs of one index."""

    def __init__(
        self, store: IndexStore, library: Library, threshold: float, candidates: int
    ) -> None:
        self._store = store
        self._library = library
        self._threshold = threshold
        self._candidates = candidates
        self._normalized: dict[int, str] = {}

    def _normalized_text(self, row: int) -> str:
        # Only the folded text is kept (about the paragraph's size); the position map is
        # recomputed for the few paragraphs that match.
        cached = self._normalized.get(row)
        if cached is None:
            cached = fold_for_lookup(self._store.paragraphs[row].text)
            self._normalized[row] = cached
        return cached

    def cite(self, phrase: str, k: int) -> Answer:
        """Find where a pasted phrase stands, tolerating quote style, case and small typos."""
        from rapidfuzz import fuzz

        # Fuzzy alignment costs grow with the phrase: a pasted wall of text is located by its
        # opening, which is as specific as any quote needs to be.
        needle = fold_for_lookup(phrase)[:MAX_CITE_CHARS].rstrip()
        if len(needle) < 3:
            return Answer(phrase, False, reason="empty-query")
        tokens = index_terms(needle)
        lexical = self._store.bm25.top(tokens, self._candidates) if tokens else []
        paragraph_rows = list(
            dict.fromkeys(self._store.passages[r].paragraph_row for r, _ in lexical)
        )
        candidate_rows = set(paragraph_rows) or set(range(min(len(self._store.paragraphs), 200)))
        # A verbatim fragment may be cut mid-word ("ling Worke"), which word matching misses:
        # in a collection small enough, every paragraph is searched for it exactly; the fuzzy
        # alignment, which costs more, runs on the word-matching candidates only.
        if len(self._store.paragraphs) <= EXACT_CITE_SCAN_LIMIT:
            scanned: Iterable[int] = range(len(self._store.paragraphs))
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
            if score >= self._threshold and end > begin:
                positions = fold_with_map(self._store.paragraphs[paragraph_row].text)[1]
                located.append((score, paragraph_row, positions[begin], positions[end - 1] + 1))
        located.sort(key=lambda item: (-item[0], item[1]))
        hits = [self._located_hit(row, begin, end, score) for score, row, begin, end in located[:k]]
        if not hits:
            return Answer(phrase, False, reason="no-match")
        return Answer(phrase, True, tuple(hits), scores={"best": hits[0].score})

    def _located_hit(self, paragraph_row: int, begin: int, end: int, score: float) -> Hit:
        paragraph = self._store.paragraphs[paragraph_row]
        covering = sentences_covering(paragraph.sentences, begin, end)
        first, last = covering[0], covering[-1]
        row = self._library.window_row(paragraph_row, first, last)
        if row is None:  # the phrase spans more sentences than a window holds
            row = self._library.window_row(paragraph_row, first, min(last, first + 2))
        assert row is not None  # every paragraph has its 1-3 sentence windows
        passage = self._store.passages[row]
        offset = paragraph.sentences[passage.first_sentence][0]
        highlight = (max(begin, offset) - offset, min(end - offset, len(passage.text)))
        return self._library.hit(row, round(score / 100.0, 4), highlight)
