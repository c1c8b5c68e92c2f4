"""Passages and paragraphs as columns: written at build time, memory-mapped at start-up.

An index of a million passages used to be read back as a million JSON lines and as many
Python objects before it could answer anything.  Here every field is a column of a numpy
array, and a `Passage` or `ParagraphRecord` is made only when something asks for that row:

    passages-<gen>.npy     per passage: id (the 12 hex digits as an integer), its paragraph,
                           first and last sentence, offsets in the document
    paragraphs-<gen>.npy   per paragraph: document (position in the manifest), section, number,
                           offsets, where its text and sentence spans are, its first passage
    texts-<gen>.npy        every paragraph's text, UTF-8, one after the other
    sentences-<gen>.npy    every paragraph's sentence spans (begin, end) within its text

A passage's text is not stored: it is its sentences' span of the paragraph's text.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar, overload

import numpy as np

from bot.index.manifest import DocumentInfo
from bot.index.passages import ParagraphRecord, Passage
from bot.text import window_span

R = TypeVar("R")

if TYPE_CHECKING:
    from numpy.typing import NDArray

# Records kept made (frozen dataclasses, so sharing them is safe): a few MB at most.
RECENT_RECORDS = 8192

PASSAGE_DTYPE = np.dtype(
    [
        ("id", "<u8"),
        ("paragraph", "<i8"),
        ("first", "<i4"),
        ("last", "<i4"),
        ("start", "<i8"),
        ("end", "<i8"),
    ]
)
PARAGRAPH_DTYPE = np.dtype(
    [
        ("document", "<i4"),
        ("section", "<i4"),
        ("number", "<i4"),
        ("start", "<i8"),
        ("end", "<i8"),
        ("text_start", "<i8"),
        ("text_stop", "<i8"),
        ("sentence_start", "<i8"),
        ("sentence_stop", "<i8"),
        ("first_passage", "<i8"),
        ("passage_stop", "<i8"),
        ("page", "<i4"),  # 1-based; 0 for documents without pages
    ]
)


@dataclass
class Columns:
    """The four arrays of one index (memory-mapped, or in memory right after a build)."""

    passages: NDArray[np.void]
    paragraphs: NDArray[np.void]
    texts: NDArray[np.uint8]
    sentences: NDArray[np.int32]

    def fit(self, passage_count: int, paragraph_count: int) -> bool:
        """Whether these are whole columns of that many passages and paragraphs (a file of
        another format or of another generation is not)."""
        return (
            self.passages.dtype == PASSAGE_DTYPE
            and self.paragraphs.dtype == PARAGRAPH_DTYPE
            and self.texts.dtype == np.uint8
            and self.sentences.dtype == np.int32
            and len(self.passages) == passage_count
            and len(self.paragraphs) == paragraph_count
        )


def to_columns(
    documents: Sequence[DocumentInfo],
    paragraphs: Sequence[ParagraphRecord],
    passages: Sequence[Passage],
) -> Columns:
    """The columns of records cut from `documents` (in that order)."""
    document_of = {document.doc_id: number for number, document in enumerate(documents)}
    passage_table = np.zeros(len(passages), dtype=PASSAGE_DTYPE)
    passage_table["id"] = [int(p.id, 16) for p in passages]
    passage_table["paragraph"] = [p.paragraph_row for p in passages]
    passage_table["first"] = [p.first_sentence for p in passages]
    passage_table["last"] = [p.last_sentence for p in passages]
    passage_table["start"] = [p.start for p in passages]
    passage_table["end"] = [p.end for p in passages]
    encoded = [p.text.encode("utf-8", "surrogatepass") for p in paragraphs]
    text_sizes = np.array([len(text) for text in encoded], dtype=np.int64)
    sentence_counts = np.array([len(p.sentences) for p in paragraphs], dtype=np.int64)
    table = np.zeros(len(paragraphs), dtype=PARAGRAPH_DTYPE)
    table["document"] = [document_of[p.doc_id] for p in paragraphs]
    table["section"] = [p.section_no for p in paragraphs]
    table["number"] = [p.number for p in paragraphs]
    table["start"] = [p.start for p in paragraphs]
    table["end"] = [p.end for p in paragraphs]
    table["page"] = [p.page or 0 for p in paragraphs]
    table["text_stop"] = np.cumsum(text_sizes)
    table["text_start"] = table["text_stop"] - text_sizes
    table["sentence_stop"] = np.cumsum(sentence_counts)
    table["sentence_start"] = table["sentence_stop"] - sentence_counts
    # A paragraph's passages are consecutive rows (passages.cut_document makes them so).
    rows = passage_table["paragraph"]
    table["first_passage"] = np.searchsorted(rows, np.arange(len(paragraphs)), side="left")
    table["passage_stop"] = np.searchsorted(rows, np.arange(len(paragraphs)), side="right")
    spans = [span for p in paragraphs for span in p.sentences]
    return Columns(
        passage_table,
        table,
        np.frombuffer(b"".join(encoded), dtype=np.uint8),
        np.array(spans, dtype=np.int32).reshape(len(spans), 2),
    )


class _RecordTable(Sequence[R]):
    """Rows of a memory-mapped column table, made into records only when asked for."""

    def __init__(self, table: NDArray[np.void]) -> None:
        self._table = table
        # The records of recent questions' candidates are asked for again and again.
        self._record = functools.lru_cache(maxsize=RECENT_RECORDS)(self._make_record)

    def _make_record(self, row: int) -> R:
        raise NotImplementedError

    def __len__(self) -> int:
        return len(self._table)

    @overload
    def __getitem__(self, row: int) -> R: ...

    @overload
    def __getitem__(self, row: slice) -> list[R]: ...

    def __getitem__(self, row: int | slice) -> R | list[R]:
        if isinstance(row, slice):
            return [self[r] for r in range(*row.indices(len(self)))]
        if row < 0:
            row += len(self)
        if not 0 <= row < len(self):
            raise IndexError(row)
        return self._record(row)


class ParagraphTable(_RecordTable[ParagraphRecord]):
    """Paragraph records, made row by row from the columns."""

    def __init__(self, columns: Columns, documents: Sequence[DocumentInfo]) -> None:
        super().__init__(columns.paragraphs)
        self._texts = columns.texts
        self._sentences = columns.sentences
        self._documents = documents
        self._keys: NDArray[np.int64] | None = None

    def _make_record(self, row: int) -> ParagraphRecord:
        entry = self._table[row]
        document = self._documents[int(entry["document"])]
        section = int(entry["section"])
        text = bytes(self._texts[int(entry["text_start"]) : int(entry["text_stop"])])
        spans = self._sentences[int(entry["sentence_start"]) : int(entry["sentence_stop"])]
        return ParagraphRecord(
            row=row,
            doc_id=document.doc_id,
            section_no=section,
            section_title=document.sections[section].title,
            number=int(entry["number"]),
            text=text.decode("utf-8", "surrogatepass"),
            start=int(entry["start"]),
            end=int(entry["end"]),
            sentences=tuple((int(b), int(e)) for b, e in spans.tolist()),
            page=int(entry["page"]) or None,
        )

    def __iter__(self) -> Iterator[ParagraphRecord]:
        return (self[row] for row in range(len(self)))

    def passage_rows(self, row: int) -> range:
        """The rows of the paragraph's passages."""
        entry = self._table[row]
        return range(int(entry["first_passage"]), int(entry["passage_stop"]))

    def section_rows(self, document: int, section: int) -> range:
        """The rows of a section's paragraphs (consecutive, in reading order)."""
        key = np.int64(document) << 32 | np.int64(section)
        keys = self._section_keys()
        return range(
            int(np.searchsorted(keys, key, side="left")),
            int(np.searchsorted(keys, key, side="right")),
        )

    def _section_keys(self) -> NDArray[np.int64]:
        if self._keys is None:
            table = self._table
            documents = table["document"].astype(np.int64)
            self._keys = documents << 32 | table["section"].astype(np.int64)
        return self._keys


class PassageTable(_RecordTable[Passage]):
    """Passages, made row by row from the columns and their paragraphs."""

    def __init__(self, columns: Columns, paragraphs: ParagraphTable) -> None:
        super().__init__(columns.passages)
        self._paragraphs = paragraphs
        self._ids_sorted: tuple[NDArray[np.int64], NDArray[np.uint64]] | None = None

    def _make_record(self, row: int) -> Passage:
        entry = self._table[row]
        paragraph = self._paragraphs[int(entry["paragraph"])]
        first, last = int(entry["first"]), int(entry["last"])
        begin, end = window_span(paragraph.sentences, first, last)
        return Passage(
            id=f"{int(entry['id']):012x}",
            paragraph_row=paragraph.row,
            doc_id=paragraph.doc_id,
            section_no=paragraph.section_no,
            section_title=paragraph.section_title,
            paragraph_no=paragraph.number,
            first_sentence=first,
            last_sentence=last,
            start=int(entry["start"]),
            end=int(entry["end"]),
            text=paragraph.text[begin:end],
            page=paragraph.page,
        )

    def __iter__(self) -> Iterator[Passage]:
        return (self[row] for row in range(len(self)))

    def window_columns(self) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        """Every passage's paragraph row, first and last sentence, as arrays."""
        table = self._table
        return (
            np.asarray(table["paragraph"], dtype=np.int64),
            np.asarray(table["first"], dtype=np.int64),
            np.asarray(table["last"], dtype=np.int64),
        )

    def paragraph_of(self, row: int) -> int:
        return int(self._table[row]["paragraph"])

    def row_of_id(self, passage_id: str) -> int | None:
        """The row of the passage with this id (binary search over the ids, sorted once)."""
        if len(passage_id) != 12:  # ids are exactly 12 lower-case hex digits
            return None
        try:
            value = int(passage_id, 16)
        except ValueError:
            return None
        if passage_id != f"{value:012x}":
            return None
        if self._ids_sorted is None:
            order = np.argsort(self._table["id"], kind="stable")
            self._ids_sorted = (order, np.ascontiguousarray(self._table["id"][order]))
        order, ids = self._ids_sorted
        wanted = np.uint64(value)
        position = int(np.searchsorted(ids, wanted))
        if position < len(ids) and ids[position] == wanted:
            return int(order[position])
        return None

    def window_row(self, paragraph_row: int, first: int, last: int) -> int | None:
        """The row of the passage that is sentences first..last of a paragraph."""
        if not 0 <= paragraph_row < len(self._paragraphs):
            return None
        rows = self._paragraphs.passage_rows(paragraph_row)
        window = self._table[rows.start : rows.stop]
        match = np.flatnonzero((window["first"] == first) & (window["last"] == last))
        return rows.start + int(match[0]) if len(match) else None
