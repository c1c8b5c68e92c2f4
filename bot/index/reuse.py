"""Incremental builds: a passage whose text the previous generation already embedded (with the
same model) takes its vector from there; only new texts reach the model.

The previous generation is the cache: beside its vectors it keeps `keys-<gen>.npy`, one
16-byte digest of each passage's text per row (and the passage's number of distinct terms and
its length in terms, for BM25: bot/index/postings.py), so a build finds reusable rows and
their vectors without reading any passage text again, and a carried passage is not
tokenised again.  The cache is
therefore written, fsynced and swapped in atomically with the generation it belongs to, and a
build that dies leaves the previous one (and its cache) in place.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.index.embedding import Embedder, encode_with_tokens, gives_tokens
from bot.index.manifest import FORMAT_VERSION, MANIFEST, Manifest
from bot.index.merge import PreviousPostings, previous_postings
from bot.index.passages import Passage
from bot.index.postings import WORDCOUNT_DTYPE, WordCounts, decode_words, lengths_of
from bot.index.records import Columns
from bot.index.runs import copy_rows
from bot.index.tokens import (
    FREQUENCY,
    StoredTokens,
    TokenMatrix,
    empty_tokens,
    frequency_table,
    generation_tokens,
    kept_token_files,
    load_tokens,
    token_arrays,
)
from bot.index.vectors import Layout, StoredVectors, combine, load_vectors

if TYPE_CHECKING:
    from numpy.typing import NDArray

KEY_BYTES = 16
# Texts per model call in a build (bot/index/build.py).
EMBED_BATCH = 128
KEYS_DTYPE = np.dtype([("key", "u1", (KEY_BYTES,)), ("terms", "<i8"), ("length", "<i8")])

ProgressCallback = Callable[[int, int], None]


def text_key(text: str) -> bytes:
    """The content address of a passage's text (its vector depends on nothing else)."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=KEY_BYTES).digest()


def text_keys(texts: Sequence[str]) -> NDArray[np.uint8]:
    """One row of KEY_BYTES per text."""
    joined = b"".join(text_key(text) for text in texts)
    return np.frombuffer(joined, dtype=np.uint8).reshape(len(texts), KEY_BYTES).copy()


@dataclass
class Previous:
    """What the previous generation offers a new build: its manifest, and for each text key
    the row of its vector (and of its lexical entries)."""

    manifest: Manifest
    rows: KeyRows
    vectors: NDArray[np.float32] | StoredVectors  # memory-mapped
    words: WordCounts  # each passage's number of terms and length (no entries)
    keys: NDArray[np.uint8]  # memory-mapped: each passage's text key
    columns: Columns | None  # memory-mapped: its paragraphs and passages (bot/index/carry.py)
    # Memory-mapped: its BM25 postings, to merge rather than invert again (bot/index/merge.py).
    postings: PreviousPostings | None = None
    # Memory-mapped: its sentences' token embeddings (bot/index/tokens.py), if it has them.
    tokens: StoredTokens | None = None


def keys_table(keys: NDArray[np.uint8], words: WordCounts) -> NDArray[np.void]:
    """What `keys-<gen>.npy` holds: each passage's text key, its number of distinct terms
    and its length in terms."""
    table = np.zeros(len(keys), dtype=KEYS_DTYPE)
    table["key"] = keys
    table["terms"] = words.sizes
    table["length"] = lengths_of(words)
    return table


def previous_generation(
    index_dir: Path, model: str, dimension: int, tokens: bool = False
) -> Previous | None:
    """The generation the manifest names now, if its vectors can serve `model`; None when
    there is none, it is from another model or format, or any of its files is unreadable
    (then everything is embedded afresh, as before incremental builds).  `tokens`: the
    build stores token embeddings, so a generation without them (an index built before
    they were stored) is not reused either: embedded afresh once."""
    try:
        data = json.loads((index_dir / MANIFEST).read_text(encoding="utf-8"))
        manifest = Manifest.from_json(data)
        if (
            data.get("format_version") != FORMAT_VERSION
            or manifest.model != model
            or manifest.dimension != dimension
            or not {"keys", "words"} <= set(manifest.files)
            or (tokens and "tokens" not in manifest.files)
        ):
            return None
        table = np.load(index_dir / manifest.files["keys"], mmap_mode="r")
        count = manifest.passage_count
        vectors = load_vectors(index_dir, manifest.files, count, dimension)
        if table.dtype != KEYS_DTYPE or table.shape != (count,):
            return None
        rows = KeyRows(table["key"])
        words = set(decode_words(np.load(index_dir / manifest.files["words"], mmap_mode="r")))
        columns = _columns(index_dir, manifest)
        postings = previous_postings(index_dir, manifest, words)
        # A carried passage's term counts are only in the postings: without them, nothing
        # is carried or reused.
        if postings is None or len(postings.rows) != int(np.sum(table["terms"])):
            return None
        slots = (
            vectors.slots
            if isinstance(vectors, StoredVectors)
            else np.arange(count, dtype=np.int64)
        )
        # Its sentences, which its token counts counted (an add updates those counts).
        singles = (
            np.flatnonzero(columns.passages["first"] == columns.passages["last"])
            if columns is not None
            else np.zeros(0, np.int64)
        )
        stored_tokens = load_tokens(index_dir, manifest.files, slots, singles, dimension)
    # EOFError: np.load of an empty file.
    except (OSError, EOFError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return None
    no_entries = np.zeros(0, dtype=WORDCOUNT_DTYPE)
    counts = WordCounts(table["terms"], no_entries, words, table["length"], np.zeros(0, np.int64))
    return Previous(
        manifest, rows, vectors, counts, table["key"], columns, postings, stored_tokens
    )


def previous_for(index_dir: Path, embedder: Embedder) -> Previous | None:
    """previous_generation for a build by `embedder`."""
    return previous_generation(
        index_dir, embedder.name, embedder.dimension, gives_tokens(embedder)
    )


def layout_tokens(
    assembled: Assembled,
    layout: Layout,
    previous: Previous | None,
    plan: VectorPlan,
    singles: NDArray[np.bool_],
) -> tuple[dict[str, NDArray[Any]], dict[str, str], StoredTokens | None]:
    """The token files a generation writes, the previous generation's it names again, and
    its tokens as the calibration reads them (none of it when the embedder gives none)."""
    if assembled.new_tokens is None:
        return {}, {}, None
    dimension = assembled.vectors.shape[1]
    before = previous.tokens if previous is not None else None
    written = token_arrays(
        len(layout.kept),
        layout.new is not None,
        before,
        plan.reused_from,
        assembled.new_rows,
        assembled.new_tokens,
        singles,
        dimension,
    )
    kept = kept_token_files(previous.manifest.files, len(layout.kept)) if previous else {}
    slots = layout.slots if layout.slots is not None else np.arange(len(singles), dtype=np.int64)
    tokens = generation_tokens(written, len(layout.kept), before, slots, singles)
    # The idf's counts, written whether or not the add wrote tokens (a removal changes them).
    written[FREQUENCY] = tokens.stored = frequency_table(
        tokens, before, plan.reused_from, assembled.new_rows, assembled.new_tokens, singles
    )
    return written, kept, tokens


def _columns(index_dir: Path, manifest: Manifest) -> Columns | None:
    """The previous generation's records, if they are whole (else nothing is carried over)."""
    columns = Columns(
        *(
            np.load(index_dir / manifest.files[name], mmap_mode="r")
            for name in ("passages", "paragraphs", "texts", "sentences")
        )
    )
    return columns if columns.fit(manifest.passage_count, manifest.paragraph_count) else None


class KeyRows:
    """The previous generation's rows by text key: `rows_of(keys)` gives, for each key, the
    last row holding it (-1: none), as a dictionary of every key would, found by binary
    search on the keys' first 8 bytes: no Python object per row (a dictionary of 95k keys
    cost 0.07 s of every build)."""

    def __init__(self, keys: NDArray[np.uint8]) -> None:
        self._keys = np.ascontiguousarray(keys, dtype=np.uint8).reshape(-1, KEY_BYTES)
        heads = _heads(self._keys)
        # Stable: rows ascending among equal heads, so the last of a run is the last row.
        self._order = np.argsort(heads, kind="stable")
        self._heads = heads[self._order]

    def rows_of(self, keys: NDArray[np.uint8]) -> NDArray[np.int64]:
        wanted = np.ascontiguousarray(keys, dtype=np.uint8).reshape(-1, KEY_BYTES)
        found = np.full(len(wanted), -1, dtype=np.int64)
        if not len(self._heads) or not len(wanted):
            return found
        heads = _heads(wanted)
        stops = np.searchsorted(self._heads, heads, side="right")
        starts = np.searchsorted(self._heads, heads, side="left")
        # Almost always the last row of a run of equal heads is the key's: all at once.
        last = self._order[np.maximum(stops - 1, 0)]
        hit = (stops > starts) & (self._keys[last] == wanted).all(axis=1)
        found[hit] = last[hit]
        # Two different keys with the same first 8 bytes: the rest of the run, one by one.
        for number in np.flatnonzero(~hit & (stops - starts > 1)).tolist():
            for position in range(int(stops[number]) - 2, int(starts[number]) - 1, -1):
                row = int(self._order[position])
                if np.array_equal(self._keys[row], wanted[number]):
                    found[number] = row
                    break
        return found


def _heads(keys: NDArray[np.uint8]) -> NDArray[np.uint64]:
    """Each key's first 8 bytes as one integer."""
    return np.ascontiguousarray(keys[:, :8]).view("<u8").ravel()


def _key_bytes(keys: NDArray[np.uint8]) -> list[bytes]:
    # One read of the whole table, then one slice per row: no per-row numpy calls.
    blob = np.ascontiguousarray(keys).tobytes()
    return [blob[i : i + KEY_BYTES] for i in range(0, len(blob), KEY_BYTES)]


@dataclass
class VectorPlan:
    """Where each passage's vector comes from."""

    keys: NDArray[np.uint8]
    reused_from: NDArray[np.int64]  # previous row per passage, -1 when it must be embedded
    to_embed: list[int]  # one passage row per distinct new text
    removed: int  # previous passages whose text is gone


def plan_vectors(
    texts: Sequence[str], previous: Previous | None, carried_from: NDArray[np.int64] | None = None
) -> VectorPlan:
    """`carried_from`: per passage, its row in the previous generation when its document was
    carried over (bot/index/carry.py; its text is then not given), -1 otherwise."""
    if carried_from is None:
        carried_from = np.full(len(texts), -1, dtype=np.int64)
    reused_from = carried_from.copy()
    carried = np.flatnonzero(carried_from >= 0)
    cut_now = np.flatnonzero(carried_from < 0).tolist()
    keys = np.zeros((len(texts), KEY_BYTES), dtype=np.uint8)
    if len(carried):
        assert previous is not None
        copy_rows(keys, carried, previous.keys, carried_from[carried])
    keys[cut_now] = text_keys([texts[row] for row in cut_now]).reshape(-1, KEY_BYTES)
    to_embed: list[int] = []
    first_row: dict[bytes, int] = {}
    old_rows = (
        previous.rows.rows_of(keys[cut_now]).tolist()
        if previous is not None
        else [-1] * len(cut_now)
    )
    cut_keys = _key_bytes(keys[cut_now])
    for row, key, old in zip(cut_now, cut_keys, old_rows, strict=True):
        if old >= 0:
            reused_from[row] = old
        elif first_row.setdefault(key, row) == row:
            to_embed.append(row)
    used = len(np.unique(reused_from[reused_from >= 0]))
    previous_count = previous.manifest.passage_count if previous is not None else 0
    return VectorPlan(keys, reused_from, to_embed, previous_count - used)


@dataclass
class Assembled:
    """A build's vectors, and the token embeddings of its new rows (in `new_rows` order, the
    order of their new slots; empty for a longer window; None: the embedder gives none)."""

    vectors: NDArray[np.float32] | StoredVectors
    new_rows: NDArray[np.int64]
    new_tokens: list[TokenMatrix] | None


def assemble_vectors(
    plan: VectorPlan,
    texts: Sequence[str],
    previous: Previous | None,
    embedder: Embedder,
    batch: int,
    progress: ProgressCallback | None = None,
    singles: NDArray[np.bool_] | None = None,
) -> Assembled:
    """Every passage's vector: the new texts embedded (each distinct text once), a reused
    row's read from the previous generation's segments where it is, not copied
    (bot/index/vectors.py); the token embeddings of the new rows that are one sentence
    (`singles`), out of the same forward pass."""
    new_rows = np.flatnonzero(plan.reused_from < 0)
    place = {row: number for number, row in enumerate(new_rows.tolist())}
    new_vectors = np.zeros((len(new_rows), embedder.dimension), dtype=np.float32)
    keep = [bool(singles[row]) for row in plan.to_embed] if singles is not None else None
    embedded, tokens = embed_with_tokens(
        [texts[row] for row in plan.to_embed], embedder, batch, progress, keep
    )
    empty = empty_tokens(embedder.dimension)
    new_tokens = [empty] * len(new_rows) if gives_tokens(embedder) else None
    if plan.to_embed:
        new_vectors[[place[row] for row in plan.to_embed]] = embedded
        if new_tokens is not None and tokens is not None:
            for row, matrix in zip(plan.to_embed, tokens, strict=True):
                new_tokens[place[row]] = matrix
        # A text repeated within this build shares the vector embedded for its first row.
        # Only the rows not reused: their keys, not the whole table's, are made bytes.
        key_of_row = dict(zip(new_rows.tolist(), _key_bytes(plan.keys[new_rows]), strict=True))
        first_of_key = {key_of_row[row]: row for row in plan.to_embed}
        for row, key in key_of_row.items():
            source = first_of_key[key]
            if source != row:
                new_vectors[place[row]] = new_vectors[place[source]]
                if new_tokens is not None and (singles is None or singles[row]):
                    new_tokens[place[row]] = new_tokens[place[source]]
    if previous is None or len(new_rows) == len(texts):
        return Assembled(new_vectors, new_rows, new_tokens)  # every row new: in row order
    return Assembled(
        combine(previous.vectors, plan.reused_from, new_rows, new_vectors), new_rows, new_tokens
    )


def embed_passages(
    passages: Sequence[Passage], embedder: Embedder, progress: ProgressCallback | None = None
) -> NDArray[np.float32]:
    """Every passage embedded (nothing reused), in batches ordered by length (the build's
    EMBED_BATCH)."""
    return embed_texts([p.text for p in passages], embedder, EMBED_BATCH, progress)


def embed_texts(
    texts: list[str], embedder: Embedder, batch: int, progress: ProgressCallback | None = None
) -> NDArray[np.float32]:
    """Embed in batches of similar length (embed_with_tokens, no tokens kept)."""
    return embed_with_tokens(texts, embedder, batch, progress, [False] * len(texts))[0]


def embed_with_tokens(
    texts: list[str],
    embedder: Embedder,
    batch: int,
    progress: ProgressCallback | None = None,
    keep: list[bool] | None = None,
) -> tuple[NDArray[np.float32], list[TokenMatrix] | None]:
    """Embed in batches of similar length: a batch is padded to its longest text, so sorting
    by length first wastes far less of the model's time on padding.  The token embeddings
    of the texts `keep` marks (all when None) come out of the same forward pass; the others'
    are left empty (None: the embedder gives none, or none is wanted)."""
    out = np.zeros((len(texts), embedder.dimension), dtype=np.float32)
    empty = empty_tokens(embedder.dimension)
    tokens: list[TokenMatrix] | None = [empty] * len(texts)
    want = keep is None or any(keep)
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    for begin in range(0, len(order), batch):
        rows = order[begin : begin + batch]
        chunk = [texts[i] for i in rows]
        if want and tokens is not None:
            out[rows], matrices = encode_with_tokens(embedder, chunk, batch)
            if matrices is None:
                tokens = None
            else:
                for i, matrix in zip(rows, matrices, strict=True):
                    if keep is None or keep[i]:
                        tokens[i] = matrix
        else:
            out[rows] = embedder.encode(chunk, batch_size=batch)
        if progress is not None:
            progress(min(begin + batch, len(order)), len(order))
    return out, tokens if want else None
