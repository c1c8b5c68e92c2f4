"""Each sentence's token embeddings, stored at index time for late interaction.

The ranking re-scores its top windows by MaxSim (bot/search/late.py): for each word piece of
the question, its best cosine with the window's token embeddings.  Computing those at query
time took a second forward pass (5.5-6.5x the floor); here they come out of the build's own
forward pass.  Only the one-sentence windows keep theirs: a window's tokens are the union of
its sentences' (cross-validated as well as each window encoded alone, README "Calibration
and quality"), so each sentence is stored once, not in up to six windows.  Each token is
stored as int8 with one float32 scale per token (388 bytes at 384 dimensions), and its
word-piece id (uint16) in a file of its own.  The idf's counts (how many sentences hold each
id) are counted at index time, `files["tokenfreq"]`: a full count at the first question took
0.11 s on Python's documentation (124k passages), ~1 s at 1M; an add updates the previous
generation's counts by the sentences it removed and added.  An index written before that file
existed counts them from the ids at the first question, as before.

The files follow the vectors' segments (bot/index/vectors.py): token segment k holds the
tokens of vector segment k's slots (none for a slot of a longer window), so a row's tokens
are found through the same slot map, an add writes only the tokens of the sentences it
embedded, and a compaction rewrites them with the vectors.  Manifest: `files["tokens"]`,
`files["tokens.1"]`... (the records), `files["tokenids"]`... (their ids) and
`files["tokenstarts"]`... (where each slot's tokens begin, one more entry than slots).  An
index without them answers without the re-score.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray


@dataclass(frozen=True)
class TokenMatrix:
    """One text's word pieces (specials dropped): ids, unit-length float32 embeddings, and
    which are words (punctuation pieces match but do not weigh in a question)."""

    ids: NDArray[np.uint16]
    vectors: NDArray[np.float32]
    words: NDArray[np.bool_]


def empty_tokens(dimension: int) -> TokenMatrix:
    return TokenMatrix(
        np.zeros(0, dtype=np.uint16),
        np.zeros((0, dimension), dtype=np.float32),
        np.zeros(0, dtype=bool),
    )


def record_dtype(dimension: int) -> np.dtype[np.void]:
    return np.dtype([("scale", "<f4"), ("values", "i1", (dimension,))])


# A segment's files: its records, where each slot's begin, and the records' word-piece ids.
KINDS = ("tokens", "tokenstarts", "tokenids")

Segment = tuple["NDArray[np.void]", "NDArray[np.int64]", "NDArray[np.uint16]"]


# The idf's counts: entry 0 the number of sentences counted, entry 1 + id the number of them
# holding word-piece id `id` (each sentence once, however often the id stands in it).
FREQUENCY = "tokenfreq"
IDS = 1 << 16


def token_key(number: int, kind: str = "tokens") -> str:
    return kind if number == 0 else f"{kind}.{number}"


def pack(matrices: list[TokenMatrix], dimension: int) -> Segment:
    """The records of `matrices` laid end to end (int8, one scale per token), where each
    matrix's records begin (len(matrices) + 1 entries), and their ids."""
    sizes = np.array([len(m.ids) for m in matrices], dtype=np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    records = np.zeros(int(starts[-1]), dtype=record_dtype(dimension))
    ids = np.zeros(len(records), dtype=np.uint16)
    if len(records):
        ids = np.concatenate([m.ids for m in matrices]).astype(np.uint16)
        vectors = np.vstack([m.vectors for m in matrices if len(m.ids)]).astype(np.float32)
        largest = np.abs(vectors).max(axis=1)
        scale = np.where(largest > 0, largest / 127.0, 1.0).astype(np.float32)
        records["scale"] = scale
        records["values"] = np.round(vectors / scale[:, None]).astype(np.int8)
    return records, starts, ids


class StoredTokens:
    """Per-slot token records over segments (those of the vectors' slots)."""

    def __init__(
        self,
        segments: list[Segment],
        slots: NDArray[np.int64],
        singles: NDArray[np.int64],
        stored: NDArray[np.int64] | None = None,
    ) -> None:
        self.segments = segments
        self.slots = np.asarray(slots, dtype=np.int64)
        # The rows that are one-sentence windows (the sentences: what the idf counts).
        self.singles = np.asarray(singles, dtype=np.int64)
        sizes = np.array([len(segment[1]) - 1 for segment in segments], dtype=np.int64)
        self.ends = np.cumsum(sizes)
        # The counts the build stored (FREQUENCY), if any: read instead of counting.
        self.stored = stored

    @property
    def slot_count(self) -> int:
        return int(self.ends[-1]) if len(self.ends) else 0

    def of_slot(self, slot: int) -> tuple[NDArray[np.void], NDArray[np.uint16]]:
        """The slot's records and their ids."""
        number = int(np.searchsorted(self.ends, slot, side="right"))
        records, starts, ids = self.segments[number]
        local = slot - (int(self.ends[number]) - (len(starts) - 1))
        begin, end = int(starts[local]), int(starts[local + 1])
        return np.asarray(records[begin:end]), np.asarray(ids[begin:end])

    def of_row(self, row: int) -> tuple[NDArray[np.void], NDArray[np.uint16]]:
        return self.of_slot(int(self.slots[row]))

    def matrix(self, rows: list[int]) -> NDArray[np.float32]:
        """The union of `rows`' token embeddings (int8 times scale)."""
        parts = [self.of_row(r)[0] for r in rows]
        if not parts:
            return np.zeros((0, self.segments[0][0].dtype["values"].shape[0]), np.float32)
        records = np.concatenate(parts)
        values: NDArray[np.float32] = records["values"].astype(np.float32)
        values *= records["scale"][:, None]
        return values

    @cached_property
    def document_frequency(self) -> tuple[int, NDArray[np.float64]]:
        """How many sentences there are and how many hold each word-piece id (per row, so
        two rows sharing a slot count twice, as a build from scratch would): the build's
        counts when it stored them for these sentences, else counted here."""
        counts = self.stored_counts
        if counts is not None:
            return len(self.singles), np.asarray(counts, dtype=np.float64)
        return self.count_frequency()

    @property
    def stored_counts(self) -> NDArray[np.int64] | None:
        """The per-id counts the build stored (FREQUENCY), when they are of these sentences."""
        stored = self.stored
        if stored is None or stored.shape != (IDS + 1,) or stored[0] != len(self.singles):
            return None
        return stored[1:]

    def count_frequency(self) -> tuple[int, NDArray[np.float64]]:
        """document_frequency counted from every sentence's ids."""
        counts = np.zeros(IDS, dtype=np.float64)
        per_slot = np.bincount(self.slots[self.singles], minlength=self.slot_count)
        first = 0
        for _, starts, ids in self.segments:
            slot_of_token = np.repeat(np.arange(len(starts) - 1), np.diff(starts))
            counts += distinct_counts(slot_of_token, ids, per_slot[first : first + len(starts) - 1])
            first += len(starts) - 1
        return len(self.singles), counts


def distinct_counts(
    owner: NDArray[np.int64], ids: NDArray[np.uint16], weight: NDArray[np.int64]
) -> NDArray[np.float64]:
    """For each word-piece id, the summed `weight` of the owners (of `ids`, token by token)
    holding it, each owner once however often it holds the id."""
    if not len(ids):
        return np.zeros(IDS, dtype=np.float64)
    pairs = np.sort(owner.astype(np.int64) * IDS + np.asarray(ids, np.int64))
    # Distinct (owner, id) pairs by a sort and a neighbour test: np.unique hashes instead
    # (numpy 2.3), 5x slower here (0.5 s of the first question on Python's documentation,
    # 1.2M word pieces, when the count was made there).
    pairs = pairs[np.concatenate(([True], pairs[1:] != pairs[:-1]))]
    counts = np.bincount(pairs % IDS, weights=weight[pairs // IDS], minlength=IDS)
    return np.asarray(counts, dtype=np.float64)


def frequency_table(
    generation: StoredTokens,
    previous: StoredTokens | None,
    reused_from: NDArray[np.int64],
    new_rows: NDArray[np.int64],
    new_tokens: list[TokenMatrix],
    singles: NDArray[np.bool_],
) -> NDArray[np.int64]:
    """What FREQUENCY holds for `generation`: the previous generation's counts, less its
    sentences no row reuses and plus the new rows' (a carried or reused sentence is
    unchanged, so an add reads only the tokens it removed and embedded); counted from every
    sentence when the previous generation has no counts (written before they were stored)."""
    base = np.zeros(IDS, dtype=np.int64)
    pieces: list[NDArray[np.uint16]] = []
    weights: list[int] = []
    if previous is not None:
        stored = previous.stored_counts
        if stored is None:
            return _table(*generation.count_frequency())
        base = np.asarray(stored, dtype=np.int64)
        # How often each previous row stands as a sentence now, less once if it was one.
        reused = reused_from[singles & (reused_from >= 0)]
        change = np.bincount(reused, minlength=len(previous.slots))
        change[previous.singles] -= 1
        for row in np.flatnonzero(change).tolist():
            pieces.append(previous.of_row(row)[1])
            weights.append(int(change[row]))
    elif (reused_from >= 0).any():
        return _table(*generation.count_frequency())
    for row, matrix in zip(new_rows.tolist(), new_tokens, strict=True):
        if singles[row]:
            pieces.append(matrix.ids)
            weights.append(1)
    sizes = np.array([len(piece) for piece in pieces], dtype=np.int64)
    owner = np.repeat(np.arange(len(pieces), dtype=np.int64), sizes)
    ids = np.concatenate(pieces).astype(np.uint16) if pieces else np.zeros(0, np.uint16)
    counts = base + np.rint(distinct_counts(owner, ids, np.array(weights, np.int64))).astype(
        np.int64
    )
    if counts.min() < 0:  # counts that do not fit the previous tokens: count afresh
        return _table(*generation.count_frequency())
    return np.concatenate([[int(singles.sum())], counts]).astype(np.int64)


def _table(count: int, frequency: NDArray[np.float64]) -> NDArray[np.int64]:
    return np.concatenate([[count], np.rint(frequency)]).astype(np.int64)


def load_tokens(
    index_dir: Path,
    files: dict[str, str],
    slots: NDArray[np.int64],
    singles: NDArray[np.int64],
    dimension: int,
) -> StoredTokens | None:
    """A generation's tokens, memory-mapped (None when the index has none: older indexes);
    raises ValueError when they disagree with the vectors' slots."""
    if "tokens" not in files:
        return None
    segments: list[Segment] = []
    while token_key(len(segments)) in files:
        number = len(segments)
        records, starts, ids = (
            np.load(index_dir / files[token_key(number, kind)], mmap_mode="r") for kind in KINDS
        )
        if (records.dtype, starts.dtype, ids.dtype) != (
            record_dtype(dimension),
            np.int64,
            np.uint16,
        ):
            raise ValueError("the token files do not match the manifest")
        if len(starts) < 1 or int(starts[-1]) != len(records) or len(ids) != len(records):
            raise ValueError("the token starts do not match the tokens")
        segments.append((records, np.asarray(starts), ids))
    counts = None
    if FREQUENCY in files:  # an index written before the counts were stored has none
        counts = np.load(index_dir / files[FREQUENCY], mmap_mode="r")
        if counts.dtype != np.int64 or counts.shape != (IDS + 1,):
            raise ValueError("the token counts do not match the manifest")
    stored = StoredTokens(segments, slots, singles, counts)
    if len(slots) and int(np.max(slots)) >= stored.slot_count:
        raise ValueError("the tokens do not cover the vectors' slots")
    return stored


def token_arrays(
    kept: int,
    new_segment: bool,
    previous: StoredTokens | None,
    reused_from: NDArray[np.int64],
    new_rows: NDArray[np.int64],
    new_tokens: list[TokenMatrix],
    singles: NDArray[np.bool_],
    dimension: int,
) -> dict[str, NDArray[Any]]:
    """The token files a generation writes, as the vectors' layout (bot/index/vectors.py
    plan_layout) goes: `kept` previous segments named again and, when `new_segment`, one new
    one, the new rows' tokens in slot order; no segment kept: one segment in row order, a
    reused row's tokens copied from the previous generation (compaction)."""
    if not new_segment:
        return {}
    if kept:
        segment = pack(new_tokens, dimension)
    else:
        place = {row: number for number, row in enumerate(new_rows.tolist())}
        empty = (np.zeros(0, dtype=record_dtype(dimension)), np.zeros(0, dtype=np.uint16))
        fresh = StoredTokens([pack(new_tokens, dimension)], np.arange(0), np.arange(0))
        pieces = []
        for row in range(len(reused_from)):
            if not singles[row]:
                pieces.append(empty)
            elif row in place:
                pieces.append(fresh.of_slot(place[row]))
            else:
                assert previous is not None  # a reused row: the previous generation's
                pieces.append(previous.of_slot(int(previous.slots[reused_from[row]])))
        sizes = np.array([len(piece[0]) for piece in pieces], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
        segment = (
            np.concatenate([p[0] for p in pieces]) if pieces else empty[0],
            starts,
            np.concatenate([p[1] for p in pieces]) if pieces else empty[1],
        )
    arrays: list[NDArray[Any]] = list(segment)
    return {token_key(kept, kind): array for kind, array in zip(KINDS, arrays, strict=True)}


def kept_token_files(files: dict[str, str], kept: int) -> dict[str, str]:
    """The previous generation's token files that its kept vector segments go with."""
    out = {}
    for number in range(kept):
        for kind in KINDS:
            out[token_key(number, kind)] = files[token_key(number, kind)]
    return out


def generation_tokens(
    written: dict[str, NDArray[Any]],
    kept: int,
    previous: StoredTokens | None,
    slots: NDArray[np.int64],
    singles: NDArray[np.bool_],
) -> StoredTokens:
    """A new generation's tokens before it is published (the calibration ranks with them):
    the previous generation's `kept` segments and the one `token_arrays` made, if any."""
    segments = list(previous.segments[:kept]) if previous is not None and kept else []
    if token_key(kept) in written:
        records, starts, ids = (written[token_key(kept, kind)] for kind in KINDS)
        segments.append(
            (
                cast("NDArray[np.void]", records),
                cast("NDArray[np.int64]", starts),
                cast("NDArray[np.uint16]", ids),
            )
        )
    return StoredTokens(segments, slots, np.flatnonzero(singles))
