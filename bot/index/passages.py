"""Documents become paragraphs (the context) and sentence windows (what Footnote quotes)."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from bot.corpus import Document
from bot.index.sentences import split_sentences

MAX_WINDOW = 3
# Bump when the way passages are cut changes, so existing indexes are rebuilt.
PASSAGE_FORMAT = 2


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


def passage_id(doc_id: str, paragraph_text: str, occurrence: int, first: int, last: int) -> str:
    # Content-addressed, so an id survives a rebuild and edits elsewhere in the document;
    # 12 hex digits keep ids short enough for Telegram's 64-byte callback data.
    key = f"{doc_id}\0{paragraph_text}\0{occurrence}\0{first}-{last}"
    return hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]


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


def cut_document(
    document: Document, first_row: int = 0
) -> tuple[list[ParagraphRecord], list[Passage]]:
    paragraphs: list[ParagraphRecord] = []
    passages: list[Passage] = []
    seen: Counter[str] = Counter()
    for section_no, section in enumerate(document.sections):
        for number, paragraph in enumerate(section.paragraphs, start=1):
            row = first_row + len(paragraphs)
            spans = tuple(split_sentences(paragraph.text)) or ((0, len(paragraph.text)),)
            record = ParagraphRecord(
                row=row,
                doc_id=document.doc_id,
                section_no=section_no,
                section_title=section.title,
                number=number,
                text=paragraph.text,
                start=paragraph.start,
                end=paragraph.end,
                sentences=spans,
                page=paragraph.page,
            )
            paragraphs.append(record)
            occurrence = seen[paragraph.text]
            seen[paragraph.text] += 1
            offsets = _source_offsets(
                document.text[paragraph.start : paragraph.end].strip(), paragraph.text
            )
            lead = len(document.text[paragraph.start : paragraph.end]) - len(
                document.text[paragraph.start : paragraph.end].lstrip()
            )
            for first in range(len(spans)):
                for last in range(first, min(first + MAX_WINDOW, len(spans))):
                    begin, end = spans[first][0], spans[last][1]
                    if offsets is not None:
                        source_begin = paragraph.start + lead + offsets[begin]
                        source_end = paragraph.start + lead + offsets[end]
                    else:
                        source_begin, source_end = paragraph.start, paragraph.end
                    passages.append(
                        Passage(
                            id=passage_id(document.doc_id, paragraph.text, occurrence, first, last),
                            paragraph_row=row,
                            doc_id=document.doc_id,
                            section_no=section_no,
                            section_title=section.title,
                            paragraph_no=number,
                            first_sentence=first,
                            last_sentence=last,
                            start=source_begin,
                            end=source_end,
                            text=paragraph.text[begin:end],
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
