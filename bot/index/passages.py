"""Documents become paragraphs (the context) and sentence windows (what Footnote quotes)."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from bot.corpus import Document
from bot.index.sentences import split_sentences
from bot.text import Span, window_span

MAX_WINDOW = 3
# A paragraph longer than this is quoted in pieces of whole sentences: the context a button
# shows must fit one Telegram message (4096) with its citation, and every per-paragraph cost
# (ids, citation lookup, the section view) stays bounded however a file was formatted.
MAX_PARAGRAPH_CHARS = 3000
# Bump when the way passages are cut changes, so existing indexes are rebuilt.
PASSAGE_FORMAT = 3


@dataclass(frozen=True)
class ParagraphRecord:
    row: int
    doc_id: str
    section_no: int  # position of the section in its document, 0-based
    section_title: str  # "" for the opening section before the first heading
    number: int  # 1-based within its section
    text: str
    start: int  # character offsets in the document's text
    end: int
    sentences: tuple[tuple[int, int], ...]  # spans within `text`
    page: int | None = None  # 1-based page of documents with pages (PDF), for citations


@dataclass(frozen=True)
class Passage:
    id: str
    paragraph_row: int
    doc_id: str
    section_no: int
    section_title: str
    paragraph_no: int  # 1-based within its section (ParagraphRecord.number)
    first_sentence: int  # 0-based, inclusive
    last_sentence: int  # 0-based, inclusive
    start: int  # character offsets in the document's text
    end: int
    text: str  # verbatim window of 1 to MAX_WINDOW sentences
    page: int | None = None  # the paragraph's page (ParagraphRecord.page)


class PassageIds:
    """Ids of a paragraph's windows: content-addressed, so an id survives a rebuild and edits
    elsewhere in the document; 12 hex digits keep ids short enough for Telegram's 64-byte
    callback data.  The paragraph is hashed once and each window's id continues from that
    state, so ids cost time in the windows' number, not in the paragraph's length times it."""

    def __init__(self, doc_id: str, paragraph_text: str, occurrence: int) -> None:
        self._paragraph = hashlib.sha1(f"{doc_id}\0{paragraph_text}\0{occurrence}\0".encode())

    def window(self, first: int, last: int) -> str:
        digest = self._paragraph.copy()
        digest.update(f"{first}-{last}".encode())
        return digest.hexdigest()[:12]


def passage_id(doc_id: str, paragraph_text: str, occurrence: int, first: int, last: int) -> str:
    return PassageIds(doc_id, paragraph_text, occurrence).window(first, last)


def _source_offsets(source: str, folded: str) -> list[int] | None:
    """Map each position in `folded` (whitespace runs folded to one space) to `source`."""
    mapping: list[int] = []
    i = 0
    for char in folded:
        if char == " ":
            if i >= len(source) or not source[i].isspace():
                return None
            mapping.append(i)
            while i < len(source) and source[i].isspace():
                i += 1
            continue
        if i >= len(source) or source[i] != char:
            return None
        mapping.append(i)
        i += 1
    mapping.append(i)
    return mapping


class _SourceMap:
    """Where a position of a paragraph's folded text lies in the document's text."""

    def __init__(self, document_text: str, start: int, end: int, folded: str) -> None:
        source = document_text[start:end]
        self._base = start + len(source) - len(source.lstrip())
        self._offsets = _source_offsets(source.strip(), folded)

    def __call__(self, position: int, fallback: int) -> int:
        # Text the reader rewrote (Markdown markup) has no exact map: the whole paragraph.
        return fallback if self._offsets is None else self._base + self._offsets[position]


def _pieces(text: str) -> list[tuple[int, int, tuple[Span, ...]]]:
    """(begin, end, sentence spans relative to begin) of the pieces a paragraph is quoted in:
    the whole paragraph, or, past MAX_PARAGRAPH_CHARS, runs of whole sentences that fit (a
    sentence longer than that is cut between words)."""
    spans = split_sentences(text) or [(0, len(text))]
    if len(text) <= MAX_PARAGRAPH_CHARS:
        return [(0, len(text), tuple(spans))]
    sentences: list[Span] = []
    for begin, end in spans:
        while end - begin > MAX_PARAGRAPH_CHARS:
            cut = text.rfind(" ", begin + 1, begin + MAX_PARAGRAPH_CHARS)
            cut = cut if cut > begin else begin + MAX_PARAGRAPH_CHARS
            sentences.append((begin, cut))
            begin = cut + 1 if text[cut : cut + 1] == " " else cut
        if end > begin:
            sentences.append((begin, end))
    pieces: list[tuple[int, int, tuple[Span, ...]]] = []
    group: list[Span] = []
    for span in sentences:
        if group and span[1] - group[0][0] > MAX_PARAGRAPH_CHARS:
            pieces.append(_piece(group))
            group = []
        group.append(span)
    pieces.append(_piece(group))
    return pieces


def _piece(group: list[Span]) -> tuple[int, int, tuple[Span, ...]]:
    begin = group[0][0]
    return begin, group[-1][1], tuple((s - begin, e - begin) for s, e in group)


def cut_document(
    document: Document, first_row: int = 0
) -> tuple[list[ParagraphRecord], list[Passage]]:
    paragraphs: list[ParagraphRecord] = []
    passages: list[Passage] = []
    seen: Counter[str] = Counter()
    for section_no, section in enumerate(document.sections):
        number = 0
        for paragraph in section.paragraphs:
            in_source = _SourceMap(document.text, paragraph.start, paragraph.end, paragraph.text)

            for begin, end, spans in _pieces(paragraph.text):
                number += 1
                text = paragraph.text[begin:end]
                record = ParagraphRecord(
                    row=first_row + len(paragraphs),
                    doc_id=document.doc_id,
                    section_no=section_no,
                    section_title=section.title,
                    number=number,
                    text=text,
                    start=in_source(begin, paragraph.start),
                    end=in_source(end, paragraph.end),
                    sentences=spans,
                    page=paragraph.page,
                )
                paragraphs.append(record)
                ids = PassageIds(document.doc_id, text, seen[text])
                seen[text] += 1
                for first in range(len(spans)):
                    for last in range(first, min(first + MAX_WINDOW, len(spans))):
                        window_begin, window_end = window_span(spans, first, last)
                        passages.append(
                            Passage(
                                id=ids.window(first, last),
                                paragraph_row=record.row,
                                doc_id=document.doc_id,
                                section_no=section_no,
                                section_title=section.title,
                                paragraph_no=number,
                                first_sentence=first,
                                last_sentence=last,
                                start=in_source(begin + window_begin, paragraph.start),
                                end=in_source(begin + window_end, paragraph.end),
                                text=text[window_begin:window_end],
                                page=paragraph.page,
                            )
                        )
    return paragraphs, passages


def cut_corpus(documents: Iterable[Document]) -> tuple[list[ParagraphRecord], list[Passage]]:
    paragraphs: list[ParagraphRecord] = []
    passages: list[Passage] = []
    for document in documents:
        doc_paragraphs, doc_passages = cut_document(document, first_row=len(paragraphs))
        paragraphs.extend(doc_paragraphs)
        passages.extend(doc_passages)
    return paragraphs, passages
