"""BM25 postings merged from the previous generation's, not inverted again from scratch.

Inverting the forward index is a stable sort of every (term, passage) entry: 4.9M of them at
95k passages, 0.6 s of sort and 1 s in all, for a build that adds one document.  The previous
generation's postings are sorted already, by term hash and then by row, and a document
carried over (bot/index/carry.py) keeps its passages in the same order, so its postings keep
theirs when renumbered to the new rows.  So a build drops the postings of passages that are
gone, renumbers the others, and merges in the entries of the passages cut now (sorted, a few
thousand for one document) at the places a full sort would put them.  The weights are then
computed over the merged postings by the same function as `invert` (bot/index/postings.py
`weigh`): every passage's weight depends on the mean passage length, which any change moves.

The previous generation's term count of each posting is needed for that, so a build writes
them (`frequencies-<gen>.npy`, two bytes a posting).  Whenever the merge cannot apply (no
previous postings, an older index without frequencies, carried rows out of order, more
entries new than carried), `invert` sorts everything, as before; either way the arrays are
the same (tests/test_merge.py).
"""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.index.lexical import BM25_B, BM25_K1
from bot.index.manifest import Manifest
from bot.index.postings import Postings, WordCounts, invert, map_postings, weigh
from bot.index.runs import ranges

if TYPE_CHECKING:
    from numpy.typing import NDArray


@dataclass(frozen=True)
class PreviousPostings:
    """The previous generation's inverted index (memory-mapped)."""

    size: int  # its passages
    vocabulary: NDArray[np.uint64]
    frequencies_of_terms: NDArray[np.int64]  # per term, how many postings it has
    rows: NDArray[np.int32]  # per posting, its row
    counts: NDArray[np.unsignedinteger[Any]]  # per posting, the term's count in that row
    words: AbstractSet[str] = frozenset()  # its single words (postings.py WORDS)

    @classmethod
    def of(
        cls, size: int, postings: Postings, words: AbstractSet[str] = frozenset()
    ) -> PreviousPostings | None:
        """From the arrays `invert` or a build made for `size` passages; None when they
        cannot be merged (no frequencies, or a lexicon that is not one run per term)."""
        if postings.frequencies is None or len(postings.frequencies) != len(postings.postings):
            return None
        starts = np.asarray(postings.lexicon["start"], dtype=np.int64)
        stops = np.asarray(postings.lexicon["stop"], dtype=np.int64)
        # The merge reads each term's postings as the run after the previous term's.
        contiguous = (
            starts[0] == 0
            and stops[-1] == len(postings.postings)
            and (starts[1:] == stops[:-1]).all()
            if len(starts)
            else not len(postings.postings)
        )
        if not contiguous or (stops <= starts).any():  # every term has a posting
            return None
        return cls(
            size,
            postings.vocabulary,
            stops - starts,
            postings.postings["row"],
            postings.frequencies,
            words,
        )


def previous_postings(
    index_dir: Path, manifest: Manifest, words: AbstractSet[str]
) -> PreviousPostings | None:
    """The postings of the generation `manifest` describes, if they can be merged; None for
    an index written before frequencies were kept, or files that disagree (`words`: its
    single words, decoded already)."""
    files = manifest.files
    if not {"vocabulary", "lexicon", "postings", "frequencies"} <= set(files):
        return None
    mapped = map_postings(index_dir, files, "frequencies")
    if mapped is None:
        return None
    postings, counts = mapped
    if counts.dtype not in (np.uint16, np.uint32) or postings.postings.shape != counts.shape:
        return None
    return PreviousPostings.of(
        manifest.passage_count,
        replace(postings, frequencies=counts),
        words,
    )


def merge_postings(
    words: WordCounts,
    carried_from: NDArray[np.int64],
    previous: PreviousPostings | None,
    k1: float = BM25_K1,
    b: float = BM25_B,
    fallback: Callable[[WordCounts, float, float], Postings] = invert,
) -> Postings:
    """The postings `invert(words)` gives, merged from `previous` where `carried_from` (per
    passage, its row in the previous generation when its document was carried over, else -1)
    allows it; `fallback` (`invert`) where it does not."""
    size = len(words.sizes)
    carried = np.flatnonzero(carried_from >= 0)
    old = carried_from[carried]
    fresh = np.flatnonzero(carried_from < 0)
    assert words.counted is None or np.array_equal(words.counted, fresh)
    fresh_entries = int(words.sizes[fresh].sum())
    if (
        previous is None
        or not len(carried)
        or int(old.max()) >= previous.size
        or (np.diff(old) <= 0).any()  # renumbered postings would leave their order
        or fresh_entries > int(words.sizes.sum()) - fresh_entries  # the sort is as cheap
    ):
        return fallback(complete(words, carried_from, previous), k1, b)
    # Rows fit in int32 (postings-<gen>.npy stores them so): half the bytes to move.
    new_of_old = np.full(previous.size, -1, dtype=np.int32)
    new_of_old[old] = carried
    moved = new_of_old[previous.rows]
    kept = moved >= 0
    counts = np.asarray(previous.counts)
    rows, kept_per_term = moved, previous.frequencies_of_terms
    if not kept.all():  # passages gone: their postings dropped
        rows, counts = moved[kept], counts[kept]
        term_starts = np.cumsum(kept_per_term) - kept_per_term
        kept_per_term = np.add.reduceat(kept.astype(np.int64), term_starts)
    # The entries of the passages cut now, in (term, row) order.
    new_terms, new_counts = _fresh_entries(words, fresh)
    new_rows = np.repeat(fresh, words.sizes[fresh])
    order = np.lexsort((new_rows, new_terms))
    new_terms, new_rows, new_counts = new_terms[order], new_rows[order], new_counts[order]
    # The vocabulary: the previous terms some posting still uses, and the terms new to it.
    present = kept_per_term > 0
    old_terms = np.asarray(previous.vocabulary)[present]
    unique_new, new_per_term = np.unique(new_terms, return_counts=True)
    at = np.searchsorted(old_terms, unique_new)
    known = np.zeros(len(unique_new), dtype=bool)
    if len(old_terms):
        known = (at < len(old_terms)) & (
            old_terms[np.minimum(at, len(old_terms) - 1)] == unique_new
        )
    vocabulary = insert_sorted(old_terms, at[~known], unique_new[~known], np.dtype(np.uint64))
    if len(vocabulary) * max(size, 1) >= 2**62:
        return fallback(complete(words, carried_from, previous), k1, b)
    old_rank = np.searchsorted(vocabulary, old_terms)
    new_rank = np.searchsorted(vocabulary, new_terms)
    frequencies = np.zeros(len(vocabulary), dtype=np.int64)
    frequencies[old_rank] = kept_per_term[present]
    frequencies[np.searchsorted(vocabulary, unique_new)] += new_per_term
    # Where each new entry goes among the carried postings: the place of its (term, row) in
    # their order, found by binary search on one integer per posting.
    carried_keys = np.repeat(old_rank, kept_per_term[present]) * size + rows
    places = np.searchsorted(carried_keys, new_rank * size + new_rows)
    merged_rows = insert_sorted(rows, places, new_rows, np.dtype(np.int32))
    # Two bytes a count while they fit, as the previous file holds them.
    wide = counts.dtype != np.uint16 or (len(new_counts) and int(new_counts.max()) > 65_535)
    merged_counts = insert_sorted(
        counts, places, new_counts, np.dtype(np.uint32 if wide else np.uint16)
    )
    # While no previous term was dropped, every previous word is still used: only the words
    # new to the library are hashed to be looked up (25k hashes, 0.06 s at 95k passages).
    still_used = previous.words if present.all() else frozenset()
    return weigh(words, vocabulary, frequencies, merged_rows, merged_counts, k1, b, still_used)


def insert_sorted(
    base: NDArray[Any], places: NDArray[np.int64], values: NDArray[Any], dtype: np.dtype[Any]
) -> NDArray[Any]:
    """`np.insert(base, places, values)` for `places` ascending (as a binary search of sorted
    values gives them), as `dtype`: without the sort of the places np.insert makes, and
    with no copy of `base` to widen it first."""
    out = np.empty(len(base) + len(values), dtype=dtype)
    new_at = np.asarray(places, dtype=np.int64) + np.arange(len(values), dtype=np.int64)
    keep = np.ones(len(out), dtype=bool)
    keep[new_at] = False
    out[keep] = base
    out[new_at] = values
    return out


def _fresh_entries(
    words: WordCounts, fresh: NDArray[np.int64]
) -> tuple[NDArray[np.uint64], NDArray[np.uint32]]:
    """The terms and counts of the passages `fresh`, one passage after another."""
    if words.counted is not None:  # only they were counted
        return words.entries["term"], words.entries["count"]
    where = ranges(words.starts[fresh], words.sizes[fresh])
    return words.entries["term"][where], words.entries["count"][where]


def complete(
    words: WordCounts, carried_from: NDArray[np.int64], previous: PreviousPostings | None
) -> WordCounts:
    """`words` with every passage's entries: a carried passage's (`carried_from` its row in
    the previous generation) read back from the previous postings, for `invert` when the
    merge cannot apply (a sort of every posting by row, as costly as inverting)."""
    if words.counted is None:
        return words
    carried = np.flatnonzero(carried_from >= 0)
    if not len(carried):
        return replace(words, counted=None)
    if previous is None:
        raise ValueError("carried passages need the previous generation's postings")
    new_of_old = np.full(previous.size, -1, dtype=np.int64)
    new_of_old[carried_from[carried]] = carried
    moved = new_of_old[np.asarray(previous.rows)]
    kept = moved >= 0
    old_terms = np.repeat(np.asarray(previous.vocabulary), previous.frequencies_of_terms)
    rows = np.concatenate([moved[kept], np.repeat(words.counted, words.sizes[words.counted])])
    terms = np.concatenate([old_terms[kept], words.entries["term"]])
    counts = np.concatenate([np.asarray(previous.counts)[kept], words.entries["count"]])
    # By row; within a passage the order of its terms does not matter to `invert`.
    order = np.argsort(rows, kind="stable")
    entries = np.zeros(len(order), dtype=words.entries.dtype)
    entries["term"], entries["count"] = terms[order], counts[order]
    return replace(words, entries=entries, counted=None)
