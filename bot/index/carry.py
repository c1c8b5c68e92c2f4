"""Documents that did not change are not cut again: their rows are carried over.

Cutting (sentence splitting, windows, ids, offsets) is the costliest per-passage step a build
takes besides the model, and for a document whose file and text are as they were it can only
give what the previous generation already holds.  So a build takes that document's paragraph
and passage rows, its text bytes and its sentence spans straight from the previous
generation's columns (bot/index/records.py), renumbered to where the document stands now, and
cuts only the documents that are new or changed.  The rows come out identical to cutting
everything again (tests/test_carry.py compares them).

A document's key (bot/index/library.py `document_key`) is written in the manifest, so the next
build knows which documents it may carry; a file whose key it can tell from the corpus
fingerprint is not even read (a `CarriedDocument`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bot.corpus import Document
from bot.index.library import CarriedDocument, LibraryDocument, key_of
from bot.index.manifest import DocumentInfo, Manifest
from bot.index.passages import ParagraphRecord, Passage, cut_corpus, cut_document
from bot.index.records import (
    PARAGRAPH_DTYPE,
    PASSAGE_DTYPE,
    Columns,
    ParagraphTable,
    PassageTable,
    to_columns,
)

if TYPE_CHECKING:
    from numpy.typing import NDArray


@dataclass
class LibraryCut:
    """Every document's rows, in corpus order."""

    columns: Columns
    # Per passage, its row in the previous generation when carried over, -1 when cut now.
    carried_from: NDArray[np.int64]
    # Per passage, its text; "" for a carried passage (its vector and term counts are carried
    # with it, so nothing reads its text).
    texts: list[str]
    # Passages per (document id, section number), for the manifest's table of contents.
    section_passages: Counter[tuple[str, int]]
    # Per document id, its key, for the new manifest.
    document_keys: dict[str, str]
    # The records themselves, when every document was cut now (calibration reads them).
    records: tuple[list[ParagraphRecord], list[Passage]] | None

    @property
    def passage_count(self) -> int:
        return len(self.columns.passages)

    @property
    def paragraph_count(self) -> int:
        return len(self.columns.paragraphs)


def cut_library(
    documents: Sequence[LibraryDocument], previous: Manifest | None, old: Columns | None
) -> LibraryCut:
    """Cut `documents`, carrying over from the previous generation (`previous`, whose columns
    are `old`) every document whose key it recorded unchanged (a `CarriedDocument` must be
    one of them: it was not read)."""
    keys = {document.doc_id: key_of(document) for document in documents}
    carriable = _carriable(keys, previous, old)
    if not carriable:
        read = [document for document in documents if isinstance(document, Document)]
        if len(read) != len(documents):
            raise ValueError("a document not read cannot be cut: its generation is gone")
        paragraphs, passages = cut_corpus(read)
        stubs = [DocumentInfo(d.doc_id, d.path, d.title, ()) for d in read]
        return LibraryCut(
            to_columns(stubs, paragraphs, passages),
            np.full(len(passages), -1, dtype=np.int64),
            [passage.text for passage in passages],
            Counter((passage.doc_id, passage.section_no) for passage in passages),
            keys,
            (paragraphs, passages),
        )
    assert previous is not None and old is not None
    pieces: list[Columns] = []
    carried_from: list[NDArray[np.int64]] = []
    texts: list[str] = []
    section_passages: Counter[tuple[str, int]] = Counter()
    old_documents = old.paragraphs["document"]
    for document in documents:
        number = carriable.get(document.doc_id)
        if number is None:
            if isinstance(document, CarriedDocument):
                raise ValueError(f"{document.path} was not read but cannot be carried over")
            paragraphs, passages = cut_document(document)
            stub = DocumentInfo(document.doc_id, document.path, document.title, ())
            pieces.append(to_columns([stub], paragraphs, passages))
            carried_from.append(np.full(len(passages), -1, dtype=np.int64))
            texts.extend(passage.text for passage in passages)
            section_passages.update((p.doc_id, p.section_no) for p in passages)
            continue
        begin = int(np.searchsorted(old_documents, number, side="left"))
        end = int(np.searchsorted(old_documents, number, side="right"))
        piece, rows = _carry(old, begin, end)
        pieces.append(piece)
        carried_from.append(rows)
        texts.extend([""] * len(rows))
        for section in previous.documents[number].sections:
            section_passages[(document.doc_id, section.section_no)] += section.passages
    return LibraryCut(
        _concatenate(pieces),
        np.concatenate(carried_from) if carried_from else np.zeros(0, dtype=np.int64),
        texts,
        section_passages,
        keys,
        None,
    )


def _carriable(
    keys: dict[str, str], previous: Manifest | None, old: Columns | None
) -> dict[str, int]:
    """Document id -> its number in the previous generation, for each document whose key
    (`keys`, by document id) the previous generation recorded unchanged."""
    if previous is None or old is None or not previous.document_keys:
        return {}
    numbers = {info.doc_id: number for number, info in enumerate(previous.documents)}
    return {
        doc_id: numbers[doc_id]
        for doc_id, key in keys.items()
        if doc_id in numbers and previous.document_keys.get(doc_id) == key
    }


def _carry(old: Columns, begin: int, end: int) -> tuple[Columns, NDArray[np.int64]]:
    """Paragraphs begin..end of the previous generation (one document's) as a piece of its
    own (rows from 0), and the previous rows of its passages."""
    paragraphs = np.array(old.paragraphs[begin:end])
    if not len(paragraphs):
        return _empty(), np.zeros(0, dtype=np.int64)
    first, stop = int(paragraphs["first_passage"][0]), int(paragraphs["passage_stop"][-1])
    text_start, text_stop = int(paragraphs["text_start"][0]), int(paragraphs["text_stop"][-1])
    spans_start = int(paragraphs["sentence_start"][0])
    spans_stop = int(paragraphs["sentence_stop"][-1])
    passages = np.array(old.passages[first:stop])
    passages["paragraph"] -= begin
    for column, base in (
        ("first_passage", first),
        ("passage_stop", first),
        ("text_start", text_start),
        ("text_stop", text_start),
        ("sentence_start", spans_start),
        ("sentence_stop", spans_start),
    ):
        paragraphs[column] -= base
    piece = Columns(
        passages,
        paragraphs,
        np.array(old.texts[text_start:text_stop]),
        np.array(old.sentences[spans_start:spans_stop]).reshape(-1, 2),
    )
    return piece, np.arange(first, stop, dtype=np.int64)


def _empty() -> Columns:
    return Columns(
        np.zeros(0, dtype=PASSAGE_DTYPE),
        np.zeros(0, dtype=PARAGRAPH_DTYPE),
        np.zeros(0, dtype=np.uint8),
        np.zeros((0, 2), dtype=np.int32),
    )


def _concatenate(pieces: Sequence[Columns]) -> Columns:
    """One document's piece after another: rows, text and span positions renumbered, and
    each paragraph's document set to its piece's position."""
    if not pieces:
        return _empty()
    passages = np.concatenate([piece.passages for piece in pieces])
    paragraphs = np.concatenate([piece.paragraphs for piece in pieces])
    counts = {
        "paragraphs": np.array([len(piece.paragraphs) for piece in pieces], dtype=np.int64),
        "passages": np.array([len(piece.passages) for piece in pieces], dtype=np.int64),
        "texts": np.array([len(piece.texts) for piece in pieces], dtype=np.int64),
        "sentences": np.array([len(piece.sentences) for piece in pieces], dtype=np.int64),
    }
    before = {name: np.cumsum(sizes) - sizes for name, sizes in counts.items()}
    per_paragraph = counts["paragraphs"]
    passages["paragraph"] += np.repeat(before["paragraphs"], counts["passages"])
    paragraphs["document"] = np.repeat(np.arange(len(pieces)), per_paragraph)
    for columns, name in (
        (("first_passage", "passage_stop"), "passages"),
        (("text_start", "text_stop"), "texts"),
        (("sentence_start", "sentence_stop"), "sentences"),
    ):
        shift = np.repeat(before[name], per_paragraph)
        for column in columns:
            paragraphs[column] += shift
    return Columns(
        passages,
        paragraphs,
        np.concatenate([piece.texts for piece in pieces]),
        np.concatenate([piece.sentences for piece in pieces]).astype(np.int32).reshape(-1, 2),
    )


def records_of(
    cut: LibraryCut, described: Sequence[DocumentInfo]
) -> tuple[list[ParagraphRecord], list[Passage]]:
    """Every paragraph and passage as records (what calibration reads), made from the columns
    when some document was carried over."""
    if cut.records is not None:
        return cut.records
    paragraphs = ParagraphTable(cut.columns, described)
    return list(paragraphs), list(PassageTable(cut.columns, paragraphs))
