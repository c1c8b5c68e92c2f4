"""The HTML reader: lxml's forgiving parser, then the page's main content as a reader sees it.

Why lxml with our own rules rather than a main-content extractor (trafilatura, jusText):
measured on Python's Sphinx pages, trafilatura kept 55-86% of the paragraphs and jusText
about half, both flatten headings and definition lists, and trafilatura alone would take
longer than the whole reader's budget. Pages saved from the web mark their furniture well
enough (roles, <nav>/<footer>, class names, link-dense lists) for the rules below.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from bot.corpus.page import (
    HEADINGS,
    classes,
    definition_rows,
    is_furniture,
    is_layout_table,
    is_link_list,
    is_permalink,
    main_content,
    page_metadata,
    prose_in_pre,
    text_of,
)
from bot.corpus.sections import Outline, Parsed, RenderedText, same_title
from bot.text import collapse_whitespace

if TYPE_CHECKING:
    from lxml.html import HtmlElement


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_BLOCKS = _words(
    """p div section article main li ul ol blockquote h4 h5 h6 tr td th thead tbody tfoot
    caption address figure hgroup details summary center fieldset header body html aside
    dd dt"""
)
# Short labels that belong to the paragraph after them ("Note", "See also", "Footnotes").
_LABEL_CLASSES = frozenset({"admonition-title", "rubric", "topic-title", "sidebar-title"})
_END_MARKS = ":.?!—–-"
_LONE_LABEL_WORDS = 3  # "History" or "See also" with nothing of its own is no paragraph


def _joined(label: str, text: str) -> str:
    return f"{label} {text}" if label[-1:] in _END_MARKS else f"{label}: {text}"


class _PageWalker:
    """Walks the main content in reading order, feeding the outline and the rendered text."""

    def __init__(self, title: str, keep_header: bool) -> None:
        self.title = title
        self.keep_header = keep_header
        self.outline = Outline()
        self.rendered = RenderedText()
        self.buffer: list[str] = []
        self.label = ""  # a label waiting for the paragraph it introduces
        self.seen_heading = False

    # -- paragraphs ---------------------------------------------------------------------

    def flush(self) -> None:
        text = collapse_whitespace("".join(self.buffer))
        self.buffer = []
        if not text:
            return
        if self.label:
            text, self.label = _joined(self.label, text), ""
        self.outline.add(self.rendered.block(text))

    def set_label(self, label: str) -> None:
        self.flush()
        if self.label:  # two labels in a row: the first stands alone, unless a mere word
            if len(self.label.split()) > _LONE_LABEL_WORDS:
                self.outline.add(self.rendered.block(self.label))
            else:
                self.outline.drop("empty")
        self.label = label

    def finish(self) -> None:
        self.flush()
        if self.label:
            self.outline.add(self.rendered.block(self.label))
            self.label = ""

    # -- the walk -------------------------------------------------------------------------

    def walk(self, element: HtmlElement) -> None:
        if element.text:
            self.buffer.append(element.text)
        for child in element:
            if isinstance(child.tag, str):
                self.visit(child)
            if child.tail:
                self.buffer.append(child.tail)

    def visit(self, element: HtmlElement) -> None:
        tag = element.tag
        if is_furniture(element, self.keep_header) or is_permalink(element):
            if tag not in ("a", "span") and element.text_content().strip():
                self.outline.drop("boilerplate")
            return
        if tag == "br":
            self.buffer.append(" ")
        elif tag in HEADINGS:
            self.heading(int(tag[1]), text_of(element))
        elif tag == "pre":
            self.flush()
            prose = prose_in_pre(element)
            if prose is None:
                self.outline.drop("code")
            for block in prose or ():
                self.outline.add(self.rendered.block(block))
        elif tag == "table":
            self.flush()
            if is_layout_table(element):
                self.walk(element)
            elif (rows := definition_rows(element)) is not None:
                for cells in rows:
                    name = " ".join(cell for cell in cells[:-1] if cell)
                    if name:
                        self.set_label(name)
                    self.buffer.append(cells[-1])
                    self.finish()
            else:
                self.outline.drop("table")
        elif (tag in ("ul", "ol") or (tag == "div" and not self.keep_header)) and is_link_list(
            element
        ):
            self.flush()
            self.outline.drop("boilerplate")
        elif tag == "dl":
            self.flush()
            self.definition_list(element)
        elif (tag == "p" and classes(element) & _LABEL_CLASSES) or tag == "summary":
            self.set_label(text_of(element))
        elif tag == "details":
            self.flush()
            self.walk(element)
            self.flush()
            if self.label:  # a summary ("History") over nothing quotable: a folded table
                self.label = ""
                self.outline.drop("empty")
        elif tag in _BLOCKS or tag == "hr":
            self.flush()
            self.walk(element)
            self.flush()
        else:
            self.walk(element)

    def heading(self, level: int, text: str) -> None:
        self.finish()
        if not text:
            return
        first = not self.seen_heading
        self.seen_heading = True
        self.rendered.block(text)
        if first and _repeats_title(text, self.title):
            return  # the page's title, not a section
        self.outline.heading(level, text)

    def definition_list(self, element: HtmlElement) -> None:
        footnotes = bool(classes(element) & {"footnote", "footnotes", "citation"})
        terms: list[HtmlElement] = []
        for child in element:
            if not isinstance(child.tag, str):
                continue
            if child.tag == "dt":
                terms.append(child)
            elif child.tag == "dd":
                self.definition(terms, child, footnotes)
                terms = []
            elif child.tag == "div":  # HTML5 allows <div> around each dt/dd group
                self.definition_list(child)
        for term in terms:
            self.set_label(text_of(term))
        self.finish()

    def definition(self, terms: list[HtmlElement], body: HtmlElement, footnotes: bool) -> None:
        term = collapse_whitespace(" ".join(text_of(t) for t in terms))
        # A term one can link to (Sphinx glossary entries, API signatures, options) is an
        # entry a reader looks up: it becomes a subsection, "Glossary › decorator".
        if term and not footnotes and any(t.get("id") for t in terms):
            self.finish()
            depth = self.outline.depth
            self.rendered.block(term)
            self.outline.heading(self.outline.level + 1, term)
            self.walk(body)
            self.finish()
            self.outline.return_to(depth)
            return
        if term:
            self.set_label(f"[{term}]" if footnotes and term.isdigit() else term)
        self.walk(body)
        self.finish()


def _repeats_title(heading: str, title: str) -> bool:
    return same_title(heading, title) or title.casefold().startswith(heading.casefold())


# html.parser-era guard kept for lxml: a bare "<![" in pasted Word HTML reads as text.
_BAD_MARKED_SECTION = re.compile(r"<!\[(?!(?:CDATA|if|else|endif)\b)", re.I)


def read_html(source: str, stem: str) -> Parsed:
    from lxml import etree
    from lxml import html as lxml_html

    parser = lxml_html.HTMLParser(encoding="utf-8", remove_comments=True, remove_pis=True)
    data = _BAD_MARKED_SECTION.sub("&lt;![", source).encode("utf-8", "surrogatepass")
    try:
        tree = lxml_html.document_fromstring(data, parser=parser)
    except (etree.ParserError, ValueError) as error:
        raise ValueError(f"could not parse the HTML ({error})") from None
    root, keep_header = main_content(tree)
    meta = page_metadata(tree, root)
    title = meta.title or stem
    walker = _PageWalker(title, keep_header)
    walker.walk(root)
    walker.finish()
    return Parsed(
        title,
        walker.outline.build(),
        walker.rendered.text,
        meta.author,
        meta.source_url,
        meta.date,
        dict(walker.outline.dropped),
    )
