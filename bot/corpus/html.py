"""The HTML reader: a forgiving tree builder, then the main content's headings and paragraphs."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser

from bot.corpus.model import Paragraph
from bot.corpus.sections import Parsed, SectionBuilder, same_title
from bot.text import collapse_whitespace


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_VOID = _words("area base br col embed hr img input link meta param source track wbr")
_DROP_TAGS = _words(
    """script style noscript nav footer aside form figcaption svg iframe button template
    select textarea input canvas object embed dialog head title"""
)
_DROP_ROLES = _words("navigation banner contentinfo complementary search menu menubar dialog alert")
_NOISE_WORDS = _words(
    """nav navbar navigation menu menubar sidebar footer comment comments share sharing
    social ad ads advert advertisement adsbygoogle sponsor sponsored banner breadcrumb
    breadcrumbs cookie cookies newsletter subscribe popup promo related"""
)
_SECTION_HEADINGS = frozenset({"h1", "h2", "h3"})
_BLOCKS = _words(
    """p div section article main li ul ol dl dt dd blockquote pre h4 h5 h6 table tr td th
    thead tbody tfoot caption address figure hgroup details summary center fieldset
    header body html"""
)
_CLOSES_P = _BLOCKS | _SECTION_HEADINGS | {"hr"}


@dataclass
class _Node:
    tag: str
    attrs: dict[str, str]
    children: list[_Node | str] = field(default_factory=list)


class _TreeBuilder(HTMLParser):
    """A forgiving tree builder that also gathers the page's metadata."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = _Node("#root", {})
        self.stack: list[_Node] = [self.root]
        self.meta: dict[str, str] = {}
        self.page_title: list[str] = []
        self.in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): value or "" for name, value in attrs}
        self._note_meta(tag, values)
        self._close_implied(tag)
        node = _Node(tag, values)
        self.stack[-1].children.append(node)
        # Only the first <title> names the page; later ones label SVG icons.
        if tag == "title" and not self.page_title:
            self.in_title = True
        if tag not in _VOID:
            self.stack.append(node)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in _VOID:
            self.handle_endtag(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False
        for depth in range(len(self.stack) - 1, 0, -1):
            if self.stack[depth].tag == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data: str) -> None:
        if self.in_title:
            self.page_title.append(data)
        self.stack[-1].children.append(data)

    def _close_implied(self, tag: str) -> None:
        top = self.stack[-1].tag
        if top == "p" and tag in _CLOSES_P:
            self.stack.pop()
        elif tag in ("li", "dt", "dd", "tr", "td", "th", "option"):
            for depth in range(len(self.stack) - 1, 0, -1):
                open_tag = self.stack[depth].tag
                if open_tag in ("ul", "ol", "dl", "table", "select"):
                    break
                if open_tag == tag:
                    del self.stack[depth:]
                    break

    def _note_meta(self, tag: str, attrs: dict[str, str]) -> None:
        if tag == "meta":
            key = attrs.get("property") or attrs.get("name") or attrs.get("itemprop") or ""
            content = attrs.get("content", "").strip()
            if key and content:
                self.meta.setdefault(key.lower(), content)
        elif tag == "link" and "canonical" in attrs.get("rel", "").lower().split():
            self.meta.setdefault("canonical", attrs.get("href", "").strip())
        elif tag == "time" and attrs.get("datetime", "").strip():
            self.meta.setdefault("time", attrs["datetime"].strip())


def _text_length(node: _Node) -> int:
    return sum(
        len(child) if isinstance(child, str) else _text_length(child) for child in node.children
    )


def _find_all(node: _Node, tag: str) -> Iterator[_Node]:
    for child in node.children:
        if isinstance(child, _Node):
            if child.tag == tag:
                yield child
            yield from _find_all(child, tag)


_MAIN_MARKERS = frozenset({"h1", "article", "main"})


def _contains(node: _Node, tags: frozenset[str]) -> bool:
    return any(
        isinstance(child, _Node) and (child.tag in tags or _contains(child, tags))
        for child in node.children
    )


def _main_root(tree: _Node) -> _Node:
    for tag in ("article", "main", "body"):
        candidates = list(_find_all(tree, tag))
        if candidates:
            return max(candidates, key=_text_length)
    return tree


@dataclass
class _HtmlExtractor:
    """Walks the main element and yields ("h1".."h3" | "p", text) blocks."""

    keep_header: bool
    blocks: list[tuple[str, str]] = field(default_factory=list)
    buffer: list[str] = field(default_factory=list)

    def dropped(self, node: _Node) -> bool:
        if node.tag in _DROP_TAGS or (node.tag == "header" and not self.keep_header):
            return True
        attrs = node.attrs
        if "hidden" in attrs or attrs.get("aria-hidden", "").lower() == "true":
            return True
        if attrs.get("role", "").lower() in _DROP_ROLES:
            return True
        names = f"{attrs.get('class', '')} {attrs.get('id', '')}".lower()
        noisy = any(word in _NOISE_WORDS for word in re.split(r"[\s_-]+", names))
        # A layout wrapper such as <div class="with-sidebar"> may hold the essay itself.
        return noisy and not _contains(node, _MAIN_MARKERS)

    def flush(self) -> None:
        text = collapse_whitespace("".join(self.buffer))
        if text:
            self.blocks.append(("p", text))
        self.buffer = []

    def walk(self, node: _Node) -> None:
        for child in node.children:
            if isinstance(child, str):
                self.buffer.append(child)
            elif self.dropped(child):
                continue
            elif child.tag in ("br", "hr"):
                self.buffer.append(" ")
            elif child.tag in _SECTION_HEADINGS:
                self.flush()
                heading = collapse_whitespace(self.text_of(child))
                if heading:
                    self.blocks.append((child.tag, heading))
            elif child.tag in _BLOCKS:
                self.flush()
                self.walk(child)
                self.flush()
            else:
                self.walk(child)

    def text_of(self, node: _Node) -> str:
        parts: list[str] = []
        for child in node.children:
            if isinstance(child, str):
                parts.append(child)
            elif not self.dropped(child):
                spaced = child.tag in _BLOCKS or child.tag in ("br", "hr")
                parts.append(f" {self.text_of(child)} " if spaced else self.text_of(child))
        return "".join(parts)


# html.parser raises AssertionError on "<![" sections it does not know ("<![foo"), which
# appear in pasted Word HTML and in text; escape those so they read as text.
_BAD_MARKED_SECTION = re.compile(
    r"<!\[(?!(?:CDATA|if|else|endif|temp|ignore|include|rcdata)\b)", re.I
)


def read_html(source: str, stem: str) -> Parsed:
    builder = _TreeBuilder()
    try:
        builder.feed(_BAD_MARKED_SECTION.sub("&lt;![", source))
        builder.close()
    except AssertionError as error:
        raise ValueError(f"could not parse the HTML ({error})") from None
    root = _main_root(builder.root)
    extractor = _HtmlExtractor(keep_header=root.tag in ("article", "main"))
    if root.tag not in _DROP_TAGS:
        extractor.walk(root)
    extractor.flush()
    blocks = extractor.blocks
    meta = builder.meta
    first_h1 = next((text for tag, text in blocks if tag == "h1"), None)
    page_title = collapse_whitespace("".join(builder.page_title))
    title = collapse_whitespace(meta.get("og:title", "")) or first_h1 or page_title or stem
    sections = SectionBuilder()
    parts: list[str] = []
    position = 0
    for index, (tag, text) in enumerate(blocks):
        if index:
            parts.append("\n\n")
            position += 2
        parts.append(text)
        if tag == "p":
            sections.add(Paragraph(text, position, position + len(text)))
        elif not (tag == "h1" and _is_title_heading(blocks, index, title)):
            sections.heading(text)
        position += len(text)
    return Parsed(
        title,
        sections.build(),
        "".join(parts),
        meta.get("author"),
        meta.get("og:url") or meta.get("canonical") or None,
        meta.get("article:published_time") or meta.get("time") or meta.get("datepublished"),
    )


def _is_title_heading(blocks: list[tuple[str, str]], index: int, title: str) -> bool:
    """The first heading, an h1 that repeats the title, is not a section."""
    first_heading = next(i for i, (tag, _) in enumerate(blocks) if tag != "p")
    heading = blocks[index][1]
    return index == first_heading and (
        same_title(heading, title) or title.casefold().startswith(heading.casefold())
    )
