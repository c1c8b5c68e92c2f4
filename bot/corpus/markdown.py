"""The Markdown reader: a line-by-line block parser, inline markup rendered to plain text."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from bot.corpus.sections import Parsed, SectionBuilder, make_paragraph, same_title
from bot.text import collapse_whitespace

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
    sections: SectionBuilder = field(default_factory=SectionBuilder)
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
                make_paragraph(
                    self.text, self.spans[0][0], self.spans[-1][1], _render_inline(source)
                )
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


def read_markdown(text: str, stem: str) -> Parsed:
    fields, body = _front_matter(text)
    parser = _MarkdownBlocks(text)
    front_title = fields.get("title")
    for start, end in _lines(text, body):
        parser.line(start, end)
    parser.flush()
    sections = parser.sections
    title = front_title or parser.title_heading or stem
    if front_title and parser.title_heading and not same_title(front_title, parser.title_heading):
        # The first "# " heading differs from the front-matter title: it is a real section.
        _insert_first_heading(sections, parser.title_heading)
    source_url = fields.get("source_url") or fields.get("source") or fields.get("url")
    return Parsed(
        title, sections.build(), text, fields.get("author"), source_url, fields.get("date")
    )


def _insert_first_heading(sections: SectionBuilder, heading: str) -> None:
    # Paragraphs that followed the title heading sit in the opening section; move them.
    sections.titles[0] = heading
    sections.titles.insert(0, "")
    sections.bodies.insert(0, [])
