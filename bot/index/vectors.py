"""The passage vectors on disk: written once, not copied again by every build.

Adding one document to a library moves every row after it, so a generation whose vectors
were one array in row order rewrote them all (146 MB at 95k passages) to store 59 new ones.
Instead a generation's vectors are *segments*, files that never change once written, and a
slot map: row r's vector is slot `slots[r]` of the segments laid end to end.  A build writes
only the vectors it embedded, as a new segment, and the slot map (8 bytes a row); the
segments of the generation it replaces are named again by the new manifest, not copied.

While the layout is simple (one segment in row order, as a build from scratch writes it),
there is no slot map and the vectors are one memory-mapped array, as before.  A build
compacts the layout back to that (one segment, rewritten in row order) when it would hold
more than SEGMENT_LIMIT segments, or more than DEAD_SHARE of the slots belong to no row
(vectors of removed passages), so reading never chases more than a few files.

Manifest: `files["vectors"]` is the first segment, `files["vectors.1"]`, `["vectors.2"]`...
the next ones, `files["slots"]` the slot map.
"""

from __future__ import annotations

import mmap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

SEGMENT_LIMIT = 8
DEAD_SHARE = 0.10


def segment_key(number: int) -> str:
    """The manifest's name of a generation's `number`th vector segment."""
    return "vectors" if number == 0 else f"vectors.{number}"


def segment_names(files: dict[str, str]) -> list[str]:
    """The file of each vector segment a manifest names, in slot order."""
    names: list[str] = []
    while segment_key(len(names)) in files:
        names.append(files[segment_key(len(names))])
    return names


class StoredVectors:
    """Rows x dimension float32 vectors over segments and a slot map: indexed like an array
    (an int, a slice, or an array of rows) and turned into one with `np.asarray`."""

    def __init__(
        self,
        segments: list[NDArray[np.float32]],
        slots: NDArray[np.int64],
        dimension: int,
        paths: list[Path] | None = None,
    ) -> None:
        self.segments = segments
        self.slots = np.asarray(slots, dtype=np.int64)
        self.paths = paths  # the segments' files (None for segments in memory)
        sizes = np.array([len(segment) for segment in segments], dtype=np.int64)
        self.ends = np.cumsum(sizes)
        self.shape = (len(self.slots), dimension)
        self.dtype = np.dtype(np.float32)

    @property
    def slot_count(self) -> int:
        return int(self.ends[-1]) if len(self.ends) else 0

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key: Any) -> NDArray[np.float32]:
        if isinstance(key, (int, np.integer)):
            one: NDArray[np.float32] = self._gather(self.slots[[int(key)]])[0]
            return one
        return self._gather(self.slots[key])

    def __array__(self, dtype: Any = None, copy: Any = None) -> NDArray[Any]:
        whole: NDArray[Any] = self._gather(self.slots)
        return whole if dtype is None else whole.astype(dtype)

    def _gather(self, slots: NDArray[np.int64]) -> NDArray[np.float32]:
        if len(slots):  # the usual question: every row asked for in one segment
            number = int(np.searchsorted(self.ends, int(slots.min()), side="right"))
            if int(slots.max()) < int(self.ends[number]):
                first = int(self.ends[number]) - len(self.segments[number])
                return np.asarray(self.segments[number][slots - first], dtype=np.float32)
        out = np.empty((len(slots), self.shape[1]), dtype=np.float32)
        which = np.searchsorted(self.ends, slots, side="right")
        for number, segment in enumerate(self.segments):
            where = np.flatnonzero(which == number)
            if len(where):
                first = int(self.ends[number]) - len(segment)
                local = slots[where] - first
                runs = _one_run(local)
                out[where] = segment[runs] if runs is not None else segment[local]
        return out

    def blocks(
        self, rows_per_block: int
    ) -> Iterator[tuple[NDArray[np.int64], NDArray[np.float32]]]:
        """(rows, their vectors) for every slot some row uses, a block of slots at a time,
        read from the segments' files a window at a time when known.  A block is valid
        until the next one is asked for."""
        row_of_slot = np.full(self.slot_count, -1, dtype=np.int64)
        row_of_slot[self.slots] = np.arange(len(self.slots), dtype=np.int64)
        first = 0
        for number, segment in enumerate(self.segments):
            path = self.paths[number] if self.paths is not None else None
            for begin, block in _read_blocks(segment, path, rows_per_block):
                rows = row_of_slot[first + begin : first + begin + len(block)]
                used = rows >= 0
                yield (rows, block) if used.all() else (rows[used], block[used])
            first += len(segment)


def _one_run(local: NDArray[np.int64]) -> slice | None:
    """A slice when the slots are consecutive (a whole carried document, read as a block)."""
    consecutive = len(local) > 1 and int(local[-1]) - int(local[0]) == len(local) - 1
    if consecutive and (np.diff(local) == 1).all():
        return slice(int(local[0]), int(local[-1]) + 1)
    return None


def _read_blocks(
    segment: NDArray[np.float32], path: Path | None, rows: int
) -> Iterator[tuple[int, NDArray[np.float32]]]:
    count, dimension = segment.shape
    if path is None or not isinstance(segment, np.memmap):
        for begin in range(0, count, rows):
            yield begin, np.asarray(segment[begin : begin + rows])
        return
    # A window of the file mapped at a time, its rows copied straight from the page cache
    # into their lists by the caller, then unmapped: one copy (as FAISS's own reader makes),
    # and never more than a window of the file counted in the process's memory.
    header = int(segment.offset)
    row_bytes = 4 * dimension
    with path.open("rb") as handle:
        for begin in range(0, count, rows):
            take = min(rows, count - begin)
            start = header + begin * row_bytes
            aligned = start - start % mmap.ALLOCATIONGRANULARITY
            window = mmap.mmap(
                handle.fileno(),
                start - aligned + take * row_bytes,
                flags=mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0),
                prot=mmap.PROT_READ,
                offset=aligned,
            )
            # Unmapped when the last view of it goes (the caller's, at its next block).
            yield begin, np.frombuffer(
                window, dtype=np.float32, count=take * dimension, offset=start - aligned
            ).reshape(take, dimension)
            del window


def load_vectors(
    index_dir: Path, files: dict[str, str], count: int, dimension: int
) -> NDArray[np.float32] | StoredVectors:
    """A generation's vectors, memory-mapped: one array when they are one segment in row
    order; raises ValueError when the files disagree with each other or with `count`."""
    names = segment_names(files)
    paths = [index_dir / name for name in names]
    segments = [np.load(path, mmap_mode="r") for path in paths]
    if not segments or any(
        segment.dtype != np.float32 or segment.ndim != 2 or segment.shape[1] != dimension
        for segment in segments
    ):
        raise ValueError("the vector segments do not match the manifest")
    if "slots" not in files:
        if len(segments) != 1 or len(segments[0]) != count:
            raise ValueError("the vectors do not match the manifest")
        single: NDArray[np.float32] = segments[0]
        return single
    slots = np.load(index_dir / files["slots"], mmap_mode="r")
    total = sum(len(segment) for segment in segments)
    if slots.dtype != np.int64 or slots.shape != (count,):
        raise ValueError("the vector slots do not match the manifest")
    if count and (int(slots.min()) < 0 or int(slots.max()) >= total):
        raise ValueError("a vector slot is out of range")
    return StoredVectors(segments, np.asarray(slots), dimension, paths)


def blocks_of(
    vectors: NDArray[np.float32] | StoredVectors, path: Path | None = None
) -> Iterator[tuple[NDArray[np.int64], NDArray[np.float32]]]:
    """(rows, their vectors) a block at a time (`path`: the file of one memory-mapped array,
    read rather than mapped)."""
    stored = (
        vectors
        if isinstance(vectors, StoredVectors)
        else StoredVectors(
            [vectors],
            np.arange(len(vectors), dtype=np.int64),
            vectors.shape[1],
            [path] if path is not None else None,
        )
    )
    return stored.blocks(max(1, _BLOCK_BYTES // (4 * max(stored.shape[1], 1))))


# Vectors read from a file at once when opening: 32 MB, whatever the dimension.
_BLOCK_BYTES = 32 * 2**20


def combine(
    previous: NDArray[np.float32] | StoredVectors,
    reused_from: NDArray[np.int64],
    new_rows: NDArray[np.int64],
    new_vectors: NDArray[np.float32],
) -> StoredVectors:
    """Every row's vector without copying the reused ones: a reused row (`reused_from` its
    previous row) keeps its previous slot, the rows `new_rows` take `new_vectors`, a new
    segment after the previous ones."""
    if isinstance(previous, StoredVectors):
        segments, previous_slots = previous.segments, previous.slots
    else:
        segments, previous_slots = [previous], np.arange(len(previous), dtype=np.int64)
    slot_count = sum(len(segment) for segment in segments)
    slots = np.full(len(reused_from), -1, dtype=np.int64)
    reused = np.flatnonzero(reused_from >= 0)
    slots[reused] = previous_slots[reused_from[reused]]
    slots[new_rows] = slot_count + np.arange(len(new_rows), dtype=np.int64)
    return StoredVectors([*segments, new_vectors], slots, new_vectors.shape[1])


@dataclass
class Layout:
    """How a new generation stores its vectors: the segments the previous generation wrote
    that it names again (their file names), the new segment to write (None: none), and the
    slot map (None: one segment in row order)."""

    kept: list[str]
    new: NDArray[np.float32] | None
    slots: NDArray[np.int64] | None


def plan_layout(
    vectors: NDArray[np.float32] | StoredVectors, previous_files: dict[str, str] | None
) -> Layout:
    """The layout of `vectors` (`combine`d over the previous generation's segments, whose
    files `previous_files` names, or one array in row order), compacted into one segment in
    row order when it would hold more than SEGMENT_LIMIT segments or DEAD_SHARE dead slots."""
    if not isinstance(vectors, StoredVectors) or previous_files is None:
        return Layout([], np.asarray(vectors, dtype=np.float32), None)
    kept = segment_names(previous_files)
    new = vectors.segments[-1]
    assert len(kept) == len(vectors.segments) - 1
    segments = len(kept) + (1 if len(new) else 0)
    used = np.bincount(vectors.slots, minlength=vectors.slot_count)
    dead = vectors.slot_count - int(np.count_nonzero(used))
    if segments > SEGMENT_LIMIT or dead > DEAD_SHARE * vectors.slot_count:
        return Layout([], np.asarray(vectors), None)
    return Layout(kept, new if len(new) else None, vectors.slots)
