"""Read the essays of the corpus folder into documents of sections and paragraphs.

Offsets: every Paragraph's start/end index `Document.text` and point at its first and
last non-space character. For .txt and .md, `Document.text` is the file text decoded as
UTF-8 with a leading BOM removed and \\r\\n / \\r turned into \\n (so offsets are in
characters of that text, not bytes of the file). For .html it is the extracted main text:
headings and paragraphs joined with blank lines.

Paragraph.text is the span's text with whitespace runs folded to one space, so
`" ".join(doc.text[p.start:p.end].split()) == p.text`. Markdown relaxes this: inline
markup (**bold**, _em_, `code`, [link](url), images, block-quote and list markers) is
rendered away, so there p.text is the rendered text of its span, never new words.

A file that cannot give at least one paragraph is a CorpusProblem, not a crash.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from bot.errors import CorpusError
from bot.text import collapse_whitespace

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm")


@dataclass(frozen=True)
class Paragraph:
    text: str  # display text: verbatim, inner whitespace runs folded to one space
    start: int  # character offsets of the paragraph in Document.text
    end: int


@dataclass(frozen=True)
class Section:
    title: str  # "" for the opening section before the first heading
    paragraphs: tuple[Paragraph, ...]  # may be empty: a heading with no text after it


@dataclass(frozen=True)
class Document:
    doc_id: str  # file name stem (relative path without suffix for files in subfolders)
    path: str  # file name relative to the corpus dir, "/"-separated
    title: str
    sections: tuple[Section, ...]
    text: str  # the text the offsets refer to (see the module docstring)
    content_hash: str  # sha256 hex of the file bytes
    author: str | None = None
    source_url: str | None = None
    date: str | None = None


@dataclass(frozen=True)
class CorpusProblem:
    path: str
    reason: str


# --------------------------------------------------------------------------- decoding

_SNIFF_BYTES = 8192
# Control bytes other than tab, newline, form feed and carriage return.
_CONTROL_BYTES = frozenset(range(0x00, 0x09)) | frozenset(range(0x0E, 0x20)) | {0x0B, 0x7F}


def _decode(data: bytes) -> str:
    """File bytes to text with \\n newlines; raises ValueError with a plain reason."""
    if not data:
        raise ValueError("empty file")
    sample = data[:_SNIFF_BYTES]
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise ValueError("not UTF-8 text (UTF-16 encoded; save it as UTF-8)")
    if b"\0" in sample:
        raise ValueError("binary file (contains NUL bytes)")
    if sum(byte in _CONTROL_BYTES for byte in sample) > len(sample) * 0.05:
        raise ValueError("binary file (mostly control characters, not text)")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ValueError(f"not UTF-8 text (invalid byte at position {error.start})") from None
    if not text.strip():
        raise ValueError("empty file (only whitespace)")
    return text.replace("\r\n", "\n").replace("\r", "\n")


# ------------------------------------------------------------------- shared building


def _paragraph(text: str, start: int, end: int, display: str | None = None) -> Paragraph | None:
    """A paragraph for text[start:end], trimmed to its first and last non-space char."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    shown = collapse_whitespace(text[start:end] if display is None else display)
    if start >= end or not shown:
        return None
    return Paragraph(shown, start, end)


@dataclass
class _Sections:
    """Collects headings and paragraphs in reading order."""

    titles: list[str] = field(default_factory=lambda: [""])
    bodies: list[list[Paragraph]] = field(default_factory=lambda: [[]])

    def heading(self, title: str) -> None:
        self.titles.append(title)
        self.bodies.append([])

    def add(self, paragraph: Paragraph | None) -> None:
        if paragraph is not None:
            self.bodies[-1].append(paragraph)

    def build(self) -> tuple[Section, ...]:
        sections = [
            Section(title, tuple(body))
            for title, body in zip(self.titles, self.bodies, strict=True)
        ]
        # The opening section exists only when text comes before the first heading.
        if not sections[0].paragraphs:
            sections = sections[1:]
        return tuple(sections)


@dataclass(frozen=True)
class _Parsed:
    title: str
    sections: tuple[Section, ...]
    text: str
    author: str | None = None
    source_url: str | None = None
    date: str | None = None


def _same_title(a: str, b: str) -> bool:
    return collapse_whitespace(a).casefold() == collapse_whitespace(b).casefold()


# ------------------------------------------------------------------------ plain text

_BLANK_SPLIT = re.compile(r"\n[ \t\f\v]*\n")
_HEADING_MAX_WORDS = 12
_HEADING_MAX_CHARS = 100
_TITLE_MAX_CHARS = 200
_CLOSING = "\"'”’»)]"
_END_PUNCTUATION = ".!?:;,…。！？；："


def _blocks(text: str, start: int = 0) -> Iterator[tuple[int, int]]:
    """(start, end) of the runs of non-blank lines in text[start:]."""
    position = start
    for blank in _BLANK_SPLIT.finditer(text, start):
        if text[position : blank.start()].strip():
            yield position, blank.start()
        position = blank.end()
    if text[position:].strip():
        yield position, len(text)


def _is_heading_line(line: str) -> bool:
    """A short line that does not end like a sentence and does not start lowercase.

    Length matters: a photo caption is often a long line without a final period.
    """
    line = line.strip()
    if not line or len(line) > _HEADING_MAX_CHARS or len(line.split()) > _HEADING_MAX_WORDS:
        return False
    if line.rstrip(_CLOSING)[-1:] in _END_PUNCTUATION or line[-1] in _END_PUNCTUATION:
        return False
    first_letter = next((char for char in line if char.isalnum()), "")
    return first_letter != "" and not first_letter.islower()


def _read_txt(text: str, stem: str) -> _Parsed:
    sections = _Sections()
    title = stem
    blocks = list(_blocks(text))
    if blocks:
        start, end = blocks[0]
        first_line_end = text.find("\n", start, end)
        first_line_end = end if first_line_end == -1 else first_line_end
        first_line = text[start:first_line_end].strip()
        # A very long first line is prose, not a title: keep it as a paragraph.
        if len(first_line) <= _TITLE_MAX_CHARS:
            title = first_line
            blocks[0] = (first_line_end, end)
    for start, end in blocks:
        block = text[start:end].strip()
        if not block:
            continue
        if not any(char.isalnum() for char in block):
            continue  # separators such as "* * *"
        if "\n" not in block and _is_heading_line(block):
            sections.heading(block)
        else:
            sections.add(_paragraph(text, start, end))
    return _Parsed(title, sections.build(), text)


# -------------------------------------------------------------------------- markdown

_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_ATX = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")
_SETEXT = re.compile(r" {0,3}(=+|-+)[ \t]*$")
_THEMATIC = re.compile(r" {0,3}([-*_])(?:[ \t]*\1){2,}[ \t]*$")
_REFERENCE = re.compile(r" {0,3}\[[^\]]+\]:\s*\S")
_QUOTE = re.compile(r"[ \t]{0,3}(?:>[ \t]?)+")
_LIST_ITEM = re.compile(r"[ \t]*(?:[-*+]|\d{1,9}[.)])(?:[ \t]+\[[ xX]\])?[ \t]+(?=\S)")
_FRONT_KEY = re.compile(r"([A-Za-z_][\w-]*)[ \t]*:[ \t]*(.*)")

_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.DOTALL)
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!>~|<\"'])")
_ESCAPE_BASE = 0xE000  # private-use characters stand in for escaped punctuation
_INLINE_RULES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"<!--.*?-->", re.DOTALL), ""),
    (re.compile(r"!\[[^\]]*\]\((?:[^()\s]|\([^)]*\))*(?:\s+\"[^\"]*\")?\)"), ""),
    (re.compile(r"!\[[^\]]*\]\[[^\]]*\]"), ""),
    (re.compile(r"\[([^\]]+)\]\((?:[^()\s]|\([^)]*\))*(?:\s+\"[^\"]*\")?\)"), r"\1"),
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),
    (re.compile(r"<((?:https?|mailto):[^>\s]+)>"), r"\1"),
    (re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>"), ""),
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),
    (re.compile(r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])"), r"\1"),
    (re.compile(r"(?<!\w)_(?=\S)(.+?)(?<=\S)_(?!\w)"), r"\1"),
    (re.compile(r"~~(?=\S)(.+?)(?<=\S)~~"), r"\1"),
)


def _render_inline(source: str) -> str:
    """Markdown inline markup reduced to its visible text, whitespace folded."""
    source = _ESCAPE.sub(lambda m: chr(_ESCAPE_BASE + ord(m.group(1))), source)
    pieces = _CODE_SPAN.split(source)
    # split() with two groups yields [text, ticks, code, text, ticks, code, ..., text].
    out: list[str] = []
    for index in range(0, len(pieces), 3):
        plain = pieces[index]
        for pattern, replacement in _INLINE_RULES:
            plain = pattern.sub(replacement, plain)
        out.append(html.unescape(plain))
        if index + 2 < len(pieces):
            out.append(pieces[index + 2].strip())
    rendered = "".join(out)
    rendered = re.sub("[\ue000-\ue07f]", lambda m: chr(ord(m.group()) - _ESCAPE_BASE), rendered)
    return collapse_whitespace(rendered)


def _front_matter(text: str) -> tuple[dict[str, str], int]:
    """Simple `key: value` front matter between --- lines; returns (fields, body start)."""
    if not text.startswith("---\n"):
        return {}, 0
    fields: dict[str, str] = {}
    position = 4
    while position < len(text):
        line_end = text.find("\n", position)
        line_end = len(text) if line_end == -1 else line_end
        line = text[position:line_end]
        if line.rstrip() in ("---", "..."):
            return fields, min(line_end + 1, len(text))
        match = _FRONT_KEY.fullmatch(line.strip())
        if match:
            value = match.group(2).strip()
            if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
                value = value[1:-1]
            if value:
                fields.setdefault(match.group(1).lower(), value)
        position = line_end + 1
    return {}, 0  # no closing line: not front matter after all


def _lines(text: str, start: int) -> Iterator[tuple[int, int]]:
    position = start
    while position < len(text):
        line_end = text.find("\n", position)
        line_end = len(text) if line_end == -1 else line_end
        yield position, line_end
        position = line_end + 1


@dataclass
class _MarkdownBlocks:
    """Line-by-line Markdown block parser; emits headings and paragraphs."""

    text: str
    sections: _Sections = field(default_factory=_Sections)
    kind: str = ""  # "para", "item" or "quote" while a block is open
    spans: list[tuple[int, int]] = field(default_factory=list)
    fence: str = ""
    in_comment: bool = False
    seen_block: bool = False
    seen_heading: bool = False
    title_heading: str | None = None

    def flush(self) -> None:
        if self.spans:
            source = " ".join(self.text[s:e] for s, e in self.spans)
            self.sections.add(
                _paragraph(self.text, self.spans[0][0], self.spans[-1][1], _render_inline(source))
            )
            self.seen_block = True
        self.kind, self.spans = "", []

    def open_block(self, kind: str, start: int, end: int) -> None:
        self.flush()
        self.kind = kind
        self.append(start, end)

    def append(self, start: int, end: int) -> None:
        while end > start and self.text[end - 1].isspace():
            end -= 1
        while start < end and self.text[start].isspace():
            start += 1
        if start < end:
            self.spans.append((start, end))

    def heading(self, level: int, source: str) -> None:
        """Headings of levels 1-3; the first one is the title if it is a "# " before any text."""
        self.flush()
        title = _render_inline(source)
        if not title:
            return
        is_title = level == 1 and not self.seen_heading and not self.seen_block
        self.seen_heading = True
        if is_title:
            self.title_heading = title
        else:
            self.sections.heading(title)

    def line(self, start: int, end: int) -> None:
        raw = self.text[start:end]
        if self.fence:
            if raw.strip().startswith(self.fence) and not raw.strip().strip(self.fence[0]):
                self.fence = ""
            return
        if self.in_comment:
            self.in_comment = "-->" not in raw
            return
        stripped = raw.strip()
        if not stripped:
            self.flush()
            return
        fence = _FENCE.match(raw)
        if fence:
            self.flush()
            self.fence = fence.group(1)
            return
        if stripped.startswith("<!--"):
            self.flush()
            self.in_comment = "-->" not in stripped[4:]
            return
        atx = _ATX.match(raw)
        if atx:
            level = len(atx.group(1))
            if level > 3:
                # h4-h6 are too fine-grained for sections: keep them as paragraph text.
                if atx.group(2):
                    self.open_block("para", start + atx.start(2), start + atx.end(2))
                self.flush()
            else:
                self.heading(level, atx.group(2) or "")
            return
        setext = _SETEXT.match(raw)
        if setext and self.kind == "para" and self.spans:
            source = " ".join(self.text[s:e] for s, e in self.spans)
            self.kind, self.spans = "", []
            self.heading(1 if setext.group(1)[0] == "=" else 2, source)
            return
        if _THEMATIC.match(raw) or _REFERENCE.match(raw):
            self.flush()
            return
        quote = _QUOTE.match(raw)
        if quote:
            if not raw[quote.end() :].strip():
                self.flush()
            elif self.kind == "quote":
                self.append(start + quote.end(), end)
            else:
                self.open_block("quote", start + quote.end(), end)
            return
        item = _LIST_ITEM.match(raw)
        # As in CommonMark, only "1." may interrupt a paragraph, so a wrapped line
        # starting "2017. That year" stays prose.
        if item and (self.kind != "para" or re.match(r"\s*(?:[-*+]|1[.)])", raw)):
            self.open_block("item", start + item.end(), end)
            return
        if self.kind:
            self.append(start, end)  # continuation line (also lazy list/quote lines)
        else:
            self.open_block("para", start, end)


def _read_markdown(text: str, stem: str) -> _Parsed:
    fields, body = _front_matter(text)
    parser = _MarkdownBlocks(text)
    front_title = fields.get("title")
    for start, end in _lines(text, body):
        parser.line(start, end)
    parser.flush()
    sections = parser.sections
    title = front_title or parser.title_heading or stem
    if front_title and parser.title_heading and not _same_title(front_title, parser.title_heading):
        # The first "# " heading differs from the front-matter title: it is a real section.
        _insert_first_heading(sections, parser.title_heading)
    source_url = fields.get("source_url") or fields.get("source") or fields.get("url")
    return _Parsed(
        title, sections.build(), text, fields.get("author"), source_url, fields.get("date")
    )


def _insert_first_heading(sections: _Sections, heading: str) -> None:
    # Paragraphs that followed the title heading sit in the opening section; move them.
    sections.titles[0] = heading
    sections.titles.insert(0, "")
    sections.bodies.insert(0, [])


# ------------------------------------------------------------------------------ html


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


def _read_html(source: str, stem: str) -> _Parsed:
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
    sections = _Sections()
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
    return _Parsed(
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
        _same_title(heading, title) or title.casefold().startswith(heading.casefold())
    )


# ---------------------------------------------------------------------- entry points

_READERS: dict[str, Callable[[str, str], _Parsed]] = {
    ".txt": _read_txt,
    ".md": _read_markdown,
    ".markdown": _read_markdown,
    ".html": _read_html,
    ".htm": _read_html,
}


def _relative_name(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            pass
    return path.name


def _unsupported(suffix: str) -> str:
    shown = suffix or "(no extension)"
    return f"unsupported file type {shown} (Footnote reads .txt, .md, .html)"


def read_document(path: Path, root: Path | None = None) -> Document:
    """Read one essay; raises CorpusError naming the file when it cannot be used."""
    name = _relative_name(path, root)
    suffix = path.suffix.lower()
    reader = _READERS.get(suffix)
    if reader is None:
        raise CorpusError(name, _unsupported(suffix))
    try:
        data = path.read_bytes()
    except OSError as error:
        raise CorpusError(name, f"could not open the file ({error.strerror or error})") from None
    try:
        text = _decode(data)
    except ValueError as error:
        raise CorpusError(name, str(error)) from None
    doc_id = name[: -len(path.suffix)] if path.suffix else name
    try:
        parsed = reader(text, path.stem)
    except ValueError as error:
        raise CorpusError(name, str(error)) from None
    if not any(section.paragraphs for section in parsed.sections):
        raise CorpusError(name, "no paragraphs (nothing to quote besides a title or headings)")
    return Document(
        doc_id=doc_id,
        path=name,
        title=parsed.title,
        sections=parsed.sections,
        text=parsed.text,
        content_hash=hashlib.sha256(data).hexdigest(),
        author=parsed.author,
        source_url=parsed.source_url,
        date=parsed.date,
    )


def _corpus_files(directory: Path) -> list[Path]:
    files = []
    for path in directory.rglob("*"):
        relative = path.relative_to(directory)
        if any(part.startswith(".") for part in relative.parts):
            continue  # hidden files and folders (.git, .DS_Store, editor swap files)
        if path.is_file():
            files.append(path)
    return sorted(files, key=lambda p: p.relative_to(directory).as_posix())


def read_corpus(directory: Path) -> tuple[list[Document], list[CorpusProblem]]:
    """Read every essay under `directory`; bad files are named in the problems, not fatal."""
    if not directory.exists():
        raise CorpusError(str(directory), "the corpus folder does not exist")
    if not directory.is_dir():
        raise CorpusError(str(directory), "the corpus path is not a folder")
    documents: list[Document] = []
    problems: list[CorpusProblem] = []
    seen_ids: dict[str, str] = {}
    for path in _corpus_files(directory):
        name = path.relative_to(directory).as_posix()
        try:
            document = read_document(path, directory)
        except CorpusError as error:
            problems.append(CorpusProblem(name, error.reason))
            continue
        except Exception as error:  # one odd file must not stop the rest
            reason = collapse_whitespace(
                f"unexpected error while reading: {type(error).__name__}: {error}"
            )
            problems.append(CorpusProblem(name, reason))
            continue
        if document.doc_id in seen_ids:
            reason = f"duplicate document id {document.doc_id!r} (also {seen_ids[document.doc_id]})"
            problems.append(CorpusProblem(name, reason))
            continue
        seen_ids[document.doc_id] = name
        documents.append(document)
    return documents, problems
