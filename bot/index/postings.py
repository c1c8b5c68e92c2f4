"""The lexical index on disk: BM25 postings written at build time, memory-mapped at start.

Counting terms is the slow part of BM25 (tokenising every passage); it happens once, in the
build, and only for the passages of documents cut again: a carried passage's term counts stay
in the previous generation's postings, renumbered by the merge (bot/index/merge.py), and its
number of terms and length are kept beside its text key (keys-<gen>.npy).  Arrays per
generation:

    vocabulary-<gen>.npy   uint64, sorted: the 64-bit hash of each term (a query term is found
                           by binary search, so opening the index builds no dictionary)
    lexicon-<gen>.npy      per term: where its postings start and stop, and its idf
    postings-<gen>.npy     per (term, passage): the passage row and its BM25 weight
                           tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / mean length))
    words-<gen>.npy        the single words (not word pairs) as text, sorted, one per line in
                           UTF-8: ranking looks words up by prefix (bot/search/ranking.py)

The weights and idf are computed with exactly the operations of the in-memory `BM25`, so a
question scores the same either way (tests/test_postings.py).  Terms are told apart by a 64-bit
hash: two of a few million terms share one with a probability of about 10^-6.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.index.lexical import BM25_B, BM25_K1, index_terms
from bot.index.runs import copy_rows

if TYPE_CHECKING:
    from pathlib import Path

    from numpy.typing import NDArray

LEXICON_DTYPE = np.dtype([("start", "<i8"), ("stop", "<i8"), ("idf", "<f8")])
POSTING_DTYPE = np.dtype([("row", "<i4"), ("weight", "<f4")])
WORDCOUNT_DTYPE = np.dtype([("term", "<u8"), ("count", "<u4")])


def term_hash(term: str) -> int:
    digest = hashlib.blake2b(term.encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little")


@dataclass
class WordCounts:
    """Each passage's number of distinct terms (`sizes`) and length in terms (`lengths`), and
    the forward index of the passages `counted` (every passage when None): their distinct
    terms and how often each occurs, passage by passage.  A build counts only the passages
    it cuts; a carried passage's terms are in the previous generation's postings, which the
    merge renumbers (bot/index/merge.py), so no forward index is kept on disk."""

    sizes: NDArray[np.int64]  # distinct terms per passage
    entries: NDArray[np.void]  # WORDCOUNT_DTYPE, the counted passages one after another
    # The text of the single words (pair terms hold "_") met while counting, or reused.
    words: set[str] | None = None
    lengths: NDArray[np.int64] | None = None  # per passage; from `entries` when None
    counted: NDArray[np.int64] | None = None  # ascending; None: every passage

    @property
    def starts(self) -> NDArray[np.int64]:
        """Where each counted passage's entries start in `entries` (and where the last ends)."""
        sizes = self.sizes if self.counted is None else self.sizes[self.counted]
        starts = np.zeros(len(sizes) + 1, dtype=np.int64)
        np.cumsum(sizes, out=starts[1:])
        return starts


def count_words(
    texts: Sequence[str],
    carried_from: NDArray[np.int64],
    previous: WordCounts | None,
) -> WordCounts:
    """The passages cut now (`carried_from` < 0) tokenised and counted; a passage carried
    over (`carried_from` its row in the previous generation) takes its number of terms and
    its length from `previous`, and its term counts stay in the previous postings."""
    sizes = np.zeros(len(texts), dtype=np.int64)
    lengths = np.zeros(len(texts), dtype=np.int64)
    counted = np.flatnonzero(carried_from < 0)
    new_terms: list[int] = []
    new_counts: list[int] = []
    words: set[str] = set(previous.words or ()) if previous is not None else set()
    for row in counted.tolist():
        terms = index_terms(texts[row])
        counts = Counter(terms)
        words.update(term for term in counts if "_" not in term)
        sizes[row], lengths[row] = len(counts), len(terms)
        new_terms.extend(term_hash(term) for term in counts)
        new_counts.extend(counts.values())
    carried = np.flatnonzero(carried_from >= 0)
    if len(carried):
        assert previous is not None
        old_rows = carried_from[carried]
        copy_rows(sizes, carried, previous.sizes, old_rows)
        copy_rows(lengths, carried, lengths_of(previous), old_rows)
    entries = np.zeros(len(new_terms), dtype=WORDCOUNT_DTYPE)
    entries["term"] = np.array(new_terms, dtype=np.uint64)
    entries["count"] = np.array(new_counts, dtype=np.uint32)
    return WordCounts(sizes, entries, words, lengths, counted if len(carried) else None)


def lengths_of(words: WordCounts) -> NDArray[np.int64]:
    """Each passage's length in terms (its term counts summed), as BM25 normalises by it."""
    if words.lengths is not None:
        return words.lengths
    assert words.counted is None  # every passage's entries are there
    totals = np.zeros(len(words.entries) + 1, dtype=np.int64)
    np.cumsum(words.entries["count"], out=totals[1:])
    starts = words.starts
    return totals[starts[1:]] - totals[starts[:-1]]


@dataclass
class Postings:
    """The inverted index, ready to be saved: VOCABULARY, LEXICON, POSTINGS and WORDS (and,
    from a build, FREQUENCIES: each posting's term count, what the next build merges)."""

    vocabulary: NDArray[np.uint64]
    lexicon: NDArray[np.void]
    postings: NDArray[np.void]
    words: NDArray[np.uint8]
    frequencies: NDArray[np.unsignedinteger[Any]] | None = None


def map_postings(
    index_dir: Path, files: Mapping[str, str], extra: str
) -> tuple[Postings, NDArray[Any]] | None:
    """A generation's vocabulary, lexicon and postings memory-mapped, with the file `files`
    names `extra` ("words" or "frequencies"); None when their types or shapes disagree.
    Opening reads none of the postings."""
    vocabulary = np.load(index_dir / files["vocabulary"], mmap_mode="r")
    lexicon = np.load(index_dir / files["lexicon"], mmap_mode="r")
    postings = np.load(index_dir / files["postings"], mmap_mode="r")
    other = np.load(index_dir / files[extra], mmap_mode="r")
    if (
        vocabulary.dtype != np.uint64
        or lexicon.dtype != LEXICON_DTYPE
        or postings.dtype != POSTING_DTYPE
        or vocabulary.shape != lexicon.shape
    ):
        return None
    no_words = np.zeros(0, dtype=np.uint8)
    return Postings(vocabulary, lexicon, postings, no_words), other


def encode_words(words: list[str]) -> NDArray[np.uint8]:
    return np.frombuffer("\n".join(words).encode("utf-8", "surrogatepass"), dtype=np.uint8)


def decode_words(blob: NDArray[np.uint8]) -> list[str]:
    text = np.asarray(blob).tobytes().decode("utf-8", "surrogatepass")
    return text.split("\n") if text else []


def invert(words: WordCounts, k1: float = BM25_K1, b: float = BM25_B) -> Postings:
    """BM25 postings from the forward index (the same arithmetic as `BM25.__init__`)."""
    assert words.counted is None, "invert needs every passage's term counts"
    size = len(words.sizes)
    rows = np.repeat(np.arange(size, dtype=np.int32), words.sizes)
    # Stable: within a term, postings stay in passage order, as BM25 lists them.
    order = np.argsort(words.entries["term"], kind="stable")
    terms = words.entries["term"][order]
    boundaries = np.flatnonzero(terms[1:] != terms[:-1]) + 1
    starts = np.concatenate([[0], boundaries]).astype(np.int64) if len(terms) else boundaries
    stops = np.append(starts[1:], len(terms)).astype(np.int64) if len(terms) else boundaries
    vocabulary = np.ascontiguousarray(terms[starts])
    counts = words.entries["count"][order]
    return weigh(words, vocabulary, stops - starts, rows[order], counts, k1, b)


def weigh(
    words: WordCounts,
    vocabulary: NDArray[np.uint64],
    frequencies: NDArray[np.int64],
    rows: NDArray[np.integer[Any]],
    counts: NDArray[np.unsignedinteger[Any]],
    k1: float = BM25_K1,
    b: float = BM25_B,
    known_words: AbstractSet[str] = frozenset(),
) -> Postings:
    """The postings of `vocabulary` (sorted; each term's document frequency in `frequencies`),
    given every posting's row and term count in (term, row) order: BM25 weights, idf and the
    words kept (`known_words` are known to be in the vocabulary: not hashed again).  Shared
    by `invert` and the merge (bot/index/merge.py), so both give the same bytes."""
    size = len(words.sizes)
    lengths = lengths_of(words).astype(np.float32)
    avg_length = float(lengths.mean()) if size else 0.0
    norm = (k1 * (1 - b + b * lengths / (avg_length or 1.0))).astype(np.float32)
    postings = np.empty(len(rows), dtype=POSTING_DTYPE)
    postings["row"] = rows
    tf = counts.astype(np.float32)
    postings["weight"] = (tf * (k1 + 1) / (tf + norm[rows])).astype(np.float32)
    lexicon = np.zeros(len(vocabulary), dtype=LEXICON_DTYPE)
    lexicon["stop"] = np.cumsum(frequencies)
    lexicon["start"] = lexicon["stop"] - frequencies
    # math.log, as BM25 computes it, on the few distinct document frequencies (found by
    # counting, not by np.unique's sort of every term: 0.1 s at 95k passages).
    table = np.zeros(int(frequencies.max()) + 1 if len(frequencies) else 0, dtype=np.float64)
    distinct = np.flatnonzero(np.bincount(frequencies, minlength=len(table)))
    table[distinct] = [math.log(1 + (size - df + 0.5) / (df + 0.5)) for df in distinct.tolist()]
    lexicon["idf"] = table[frequencies]
    # Words a reused passage brought from the previous generation may be gone now.
    candidates = sorted(word for word in words.words or () if word not in known_words)
    hashes = np.array([term_hash(word) for word in candidates], dtype=np.uint64)
    # The vocabulary is sorted: a binary search per word, where np.isin sorted the whole
    # vocabulary again (1.5 s of a 95k-passage build).
    found = np.searchsorted(vocabulary, hashes)
    present = (
        (found < len(vocabulary)) & (vocabulary[np.minimum(found, len(vocabulary) - 1)] == hashes)
        if len(vocabulary)
        else np.zeros(len(hashes), dtype=bool)
    )
    found_words = [word for word, keep in zip(candidates, present.tolist(), strict=True) if keep]
    kept = sorted([*found_words, *known_words]) if known_words else found_words
    # Term counts are small: two bytes each unless some passage repeats a term 65,536 times.
    narrow = not len(counts) or int(counts.max()) <= np.iinfo(np.uint16).max
    stored: NDArray[np.unsignedinteger[Any]] = (
        counts.astype(np.uint16, copy=False) if narrow else counts.astype(np.uint32, copy=False)
    )
    return Postings(vocabulary, lexicon, postings, encode_words(kept), stored)


class IdfLookup:
    """`idf.get(term, default)`, as on BM25's dictionary, found by binary search."""

    def __init__(self, index: LexicalIndex) -> None:
        self._index = index

    def get(self, term: str, default: float) -> float:
        found = self._index.find(term)
        return default if found is None else float(self._index.lexicon["idf"][found])

    def __contains__(self, term: object) -> bool:
        return isinstance(term, str) and self._index.find(term) is not None


class LexicalIndex:
    """BM25 over the arrays `invert` made (memory-mapped from the index directory): the same
    `scores`, `top`, `idf` and `max_idf` as `BM25`, with no per-term Python objects."""

    def __init__(self, size: int, postings: Postings) -> None:
        self.size = size
        self.vocabulary = postings.vocabulary
        self.lexicon = postings.lexicon
        self.postings = postings.postings
        self._words_blob = postings.words
        self.idf = IdfLookup(self)
        # The rarest term's idf: what a query term the collection never uses is worth.
        self.max_idf = float(np.max(self.lexicon["idf"])) if len(self.lexicon) else 1.0

    @classmethod
    def from_texts(cls, texts: Sequence[str]) -> LexicalIndex:
        """Built in memory (for collections that were never written to disk)."""
        words = count_words(texts, np.full(len(texts), -1, dtype=np.int64), None)
        return cls(len(texts), invert(words))

    def find(self, term: str) -> int | None:
        """The term's position in the lexicon, or None when no passage uses it."""
        key = np.uint64(term_hash(term))
        position = int(np.searchsorted(self.vocabulary, key))
        if position < len(self.vocabulary) and self.vocabulary[position] == key:
            return position
        return None

    def words(self) -> list[str]:
        """Every single word (no word pairs) some passage uses, sorted."""
        return decode_words(self._words_blob)

    def rows_with(self, term: str) -> NDArray[np.int64]:
        """The rows whose text holds `term` (empty when no passage does), ascending."""
        found = self.find(term)
        if found is None:
            return np.zeros(0, dtype=np.int64)
        entry = self.lexicon[found]
        rows = self.postings["row"][int(entry["start"]) : int(entry["stop"])]
        return np.asarray(rows, dtype=np.int64)

    def scores(self, query_tokens: list[str]) -> NDArray[np.float32]:
        scores = np.zeros(self.size, dtype=np.float32)
        for term in set(query_tokens):
            found = self.find(term)
            if found is not None:
                entry = self.lexicon[found]
                posting = self.postings[int(entry["start"]) : int(entry["stop"])]
                scores[posting["row"]] += float(entry["idf"]) * posting["weight"]
        return scores

    def top(
        self, query_tokens: list[str], k: int, scores: NDArray[np.float32] | None = None
    ) -> list[tuple[int, float]]:
        """The k best rows (ties by row); pass `scores` when they were already computed."""
        if not self.size:
            return []
        if scores is None:
            scores = self.scores(query_tokens)
        matching = np.flatnonzero(scores > 0)
        if not len(matching):
            return []
        k = min(k, len(matching))
        best = matching[np.argpartition(-scores[matching], k - 1)[:k]]
        ranked = sorted(best.tolist(), key=lambda row: (-float(scores[row]), row))
        return [(row, float(scores[row])) for row in ranked]
