"""The PDF reader: pdfminer.six's layout analysis, then the text a reader sees, page by page.

Why pdfminer.six rather than pypdf: measured on the PDFs Debian ships (the FHS, debmake-doc),
pypdf is 2-3x faster but gives bare lines, while pdfminer groups lines into text boxes (the
paragraphs) and keeps each character's font and size, which is what tells headings, code and
footnotes from body text.

- Paragraphs are text boxes; a word hyphenated at a line end is joined ("bin-\\naries" ->
  "binaries"); a paragraph cut by a page break is joined to its end on the next page.
- Headings are short boxes set larger than the body text; their sizes give the levels. On a
  title page (a first page without a paragraph of body text) large type is the title,
  authors and date, not sections.
- Running headers and footers (lines repeated at the top or bottom of pages), page numbers
  and dot-leader contents lines are dropped as boilerplate; boxes set in a monospace font
  are dropped as code.
- Every paragraph carries its page number, for citations ("p. 12").
- A PDF without a text layer (a scan) is refused with a reason, never read as empty.
"""

from __future__ import annotations

import io
import re
from collections import Counter
from dataclasses import dataclass
from typing import Any

from bot.corpus.sections import Outline, Parsed, RenderedText, is_contents_heading
from bot.text import collapse_whitespace

_MARGIN_SHARE = 0.09  # top and bottom 9% of a page hold running headers and footers
_REPEATS_FROM = 3  # a margin line on this many pages is a running header or footer
_HEADING_SCALE = 1.15  # a heading is set at least this much larger than the body text
_HEADING_MAX_WORDS = 20
_PROSE_WORDS = 12  # a box this long in body type is a paragraph, so its page is no title page
_PAGE_NUMBER = re.compile(r"(?i)(?:page\s+)?(?:\d{1,4}|[ivxlcdm]{1,7})(?:\s*(?:/|of)\s*\d+)?")
_DOT_LEADER = re.compile(r"(?:\.\s*){5,}\s*\d+\s*$|(?:\.\s*){5,}\s*[ivx]+\s*$", re.M)
_MONOSPACE = re.compile(r"(?i)courier|mono|consol|code|typewriter|cmtt")
_HYPHENATED = re.compile(r"(?<=[^\W\d_])-\n(?=[a-z])")
_SENTENCE_END = ".!?:;\"'”’)]…"


@dataclass
class _Box:
    page: int
    text: str  # lines joined, hyphenation repaired
    size: float  # the most common character size
    monospace: bool
    lines: int
    top: float  # distance from the page's top, as a share of its height
    bottom: float


def _box_from(element: Any, page: int, height: float) -> _Box | None:
    from pdfminer.layout import LTChar

    sizes: Counter[float] = Counter()
    fixed = 0
    total = 0
    lines: list[str] = []
    for line in element:
        lines.append(line.get_text().rstrip("\n"))
        for char in line:
            if isinstance(char, LTChar) and not char.get_text().isspace():
                sizes[round(char.size, 1)] += 1
                total += 1
                fixed += bool(_MONOSPACE.search(char.fontname))
    if not total:
        return None
    text = _HYPHENATED.sub("", "\n".join(lines))
    return _Box(
        page=page,
        text=collapse_whitespace(text),
        size=sizes.most_common(1)[0][0],
        monospace=fixed > total / 2,
        lines=len(lines),
        top=1 - element.y1 / height,
        bottom=element.y0 / height,
    )


def _read_boxes(data: bytes) -> tuple[list[_Box], int, str]:
    """Every text box of every page, the page count and the PDF's Title metadata."""
    from pdfminer.converter import PDFPageAggregator
    from pdfminer.layout import LAParams, LTTextBox
    from pdfminer.pdfdocument import PDFDocument
    from pdfminer.pdfinterp import PDFPageInterpreter, PDFResourceManager
    from pdfminer.pdfpage import PDFPage
    from pdfminer.pdfparser import PDFParser

    # One parse serves the pages and the Title: extract_pages would parse the document itself,
    # and the metadata would need a second parse.  These are the objects extract_pages makes.
    document = PDFDocument(PDFParser(io.BytesIO(data)))
    resources = PDFResourceManager(caching=True)
    device = PDFPageAggregator(resources, laparams=LAParams())
    interpreter = PDFPageInterpreter(resources, device)
    boxes: list[_Box] = []
    pages = 0
    for pages, page in enumerate(PDFPage.create_pages(document), start=1):
        interpreter.process_page(page)
        layout = device.get_result()
        height = layout.height or 1.0
        for element in layout:
            if isinstance(element, LTTextBox):
                box = _box_from(element, pages, height)
                if box is not None and box.text:
                    boxes.append(box)
    info = document.info[0] if document.info else {}
    return boxes, pages, _decoded(info.get("Title"))


def _decoded(value: Any) -> str:
    from pdfminer.psparser import PSLiteral
    from pdfminer.utils import decode_text

    if isinstance(value, PSLiteral):
        value = value.name
    if isinstance(value, bytes):
        value = decode_text(value)
    return collapse_whitespace(value) if isinstance(value, str) else ""


def _furniture(boxes: list[_Box]) -> set[int]:
    """Indexes of running headers/footers, page numbers and contents lines."""

    def key(box: _Box) -> str:
        return re.sub(r"\d+", "#", box.text.casefold())

    in_margin = [b.top < _MARGIN_SHARE or b.bottom < _MARGIN_SHARE for b in boxes]
    pages_with: dict[str, set[int]] = {}
    for box, margin in zip(boxes, in_margin, strict=True):
        if margin:
            pages_with.setdefault(key(box), set()).add(box.page)
    dropped = set()
    for index, (box, margin) in enumerate(zip(boxes, in_margin, strict=True)):
        repeated = margin and len(pages_with[key(box)]) >= _REPEATS_FROM
        number = margin and _PAGE_NUMBER.fullmatch(box.text) is not None
        if repeated or number or _DOT_LEADER.search(box.text):
            dropped.add(index)
    return dropped


def _title_page(boxes: list[_Box], body: float) -> int | None:
    """The first page, if it is a title page: no paragraph of body text on it."""
    first = boxes[0].page
    on_first = [b for b in boxes if b.page == first]
    has_prose = any(b.size <= body and len(b.text.split()) >= _PROSE_WORDS for b in on_first)
    return None if has_prose else first


def _title_of(boxes: list[_Box], metadata_title: str, body: float, stem: str) -> str:
    if metadata_title and not re.search(r"(?i)\.(docx?|pdf|tex|odt)$|^untitled", metadata_title):
        return metadata_title
    first_pages = [b for b in boxes if b.page <= 2 and len(b.text.split()) <= _HEADING_MAX_WORDS]
    if first_pages:
        largest = max(first_pages, key=lambda b: b.size)
        if largest.size >= body * _HEADING_SCALE:
            return largest.text
    return stem


def read_pdf(data: bytes, stem: str) -> Parsed:
    from pdfminer.pdfdocument import PDFEncryptionError, PDFPasswordIncorrect
    from pdfminer.pdfparser import PDFSyntaxError

    try:
        boxes, pages, metadata_title = _read_boxes(data)
    except (PDFPasswordIncorrect, PDFEncryptionError):
        raise ValueError("the PDF is encrypted (save an unprotected copy)") from None
    except (PDFSyntaxError, ValueError, KeyError, TypeError, AttributeError) as error:
        reason = collapse_whitespace(str(error)) or type(error).__name__
        raise ValueError(f"could not read the PDF ({reason})") from None
    if not boxes:
        raise ValueError(
            f"no text in the PDF ({pages} page{'s' if pages != 1 else ''} of images: "
            "a scan? run OCR on it first)"
        )
    sizes: Counter[float] = Counter()
    for box in boxes:
        sizes[box.size] += len(box.text)
    body = sizes.most_common(1)[0][0]
    title = _title_of(boxes, metadata_title, body, stem)
    heading_sizes = sorted({b.size for b in boxes if b.size >= body * _HEADING_SCALE}, reverse=True)
    furniture = _furniture(boxes)
    title_page = _title_page(boxes, body)
    outline = Outline()
    rendered = RenderedText()
    pending: _Box | None = None  # a paragraph that may go on at the top of the next page

    def emit(box: _Box) -> None:
        outline.add(rendered.block(box.text, box.page))

    for index, box in enumerate(boxes):
        if index in furniture:
            outline.drop("boilerplate")
            continue
        if box.monospace:
            outline.drop("code")
            continue
        short = len(box.text.split()) <= _HEADING_MAX_WORDS and box.lines <= 3
        # Large type on a title page is the title, authors and date, not sections.
        if box.size in heading_sizes and short and box.page != title_page:
            if pending is not None:
                emit(pending)
                pending = None
            if is_contents_heading(box.text):
                outline.drop("boilerplate")  # its dot-leader lines are dropped too
                continue
            rendered.block(box.text, box.page)
            if box.text != title:
                outline.heading(heading_sizes.index(box.size) + 1, box.text)
            continue
        if pending is not None:
            if box.page == pending.page + 1 and box.text[:1].islower():
                pending.text = f"{pending.text} {box.text}"  # a paragraph cut by a page break
                continue
            emit(pending)
            pending = None
        if box.text[-1:] not in _SENTENCE_END:
            pending = box
        else:
            emit(box)
    if pending is not None:
        emit(pending)
    return Parsed(title, outline.build(), rendered.text, dropped=dict(outline.dropped))
