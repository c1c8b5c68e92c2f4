"""The .txt reader: text as typed, not perfectly formatted.

Titles skip blank and decorative lines; a wrapped first paragraph is not a title. Headings
are short lines standing alone (at most 12 words, no closing punctuation, not lowercase),
underlined or over- and underlined with === / --- / ~~~, numbered clauses ("1. Definitions.",
"2.1 Scope"), short "Label:" lines and two short lines standing together. Version lines,
copyright notices and list items are never headings. List items are paragraphs of their own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from bot.corpus.sections import Outline, Parsed, make_paragraph

_BLANK_SPLIT = re.compile(r"\n[ \t\f\v]*\n|\f")
_HEADING_MAX_WORDS = 12
_HEADING_MAX_CHARS = 100
_TITLE_MAX_CHARS = 200
_CLOSING = "\"'”’»)]"
_END_PUNCTUATION = ".!?:;,…。！？；："
_UNDERLINE = re.compile(r"[ \t]*([=\-~*^#+])\1{2,}[ \t]*")
_NUMBERED = re.compile(r"(?:§\s*)?(\d{1,3}(?:\.\d{1,3})*)\.?[ \t]+(?=[A-Z\"“])(.{1,80})")
# "2. Grant of Copyright License. Subject to the terms…": a clause whose title opens its text.
_TITLE_WORD = r"[A-Z][\w'’-]*"
_SMALL_WORDS = r"(?:(?:of|and|or|to|the|for|in|a|an|on)[ \t]+)*"
_CLAUSE_TITLE = re.compile(
    rf"[ \t]*\d{{1,3}}\.[ \t]+"
    rf"((?:{_TITLE_WORD}[ \t]+{_SMALL_WORDS}){{0,7}}{_TITLE_WORD}\.)[ \t]+(?=\S)"
)
_LABEL = re.compile(r"[A-Z][\w ’'-]{0,40}:")
_LIST_ITEM = re.compile(r"[ \t]*(?:[-*+•◦‣]|\(?(?:\d{1,3}|[a-zA-Z]|[ivxIVX]{1,4})[.)])[ \t]+\S")
_NOT_HEADING = re.compile(
    r"(?i:version\b|v?\d+(?:\.\d+)+\b|copyright\b|\(c\)|©|all rights reserved"
    r"|https?://|www\.|[\w.+-]+@[\w-]+\.)|[A-Z]+$"
)
_DECORATIVE = re.compile(r"[\W_]*")


def _blocks(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of the runs of non-blank lines (a form feed also ends a run)."""
    position = 0
    for blank in _BLANK_SPLIT.finditer(text):
        if text[position : blank.start()].strip():
            yield position, blank.start()
        position = blank.end()
    if text[position:].strip():
        yield position, len(text)


def _lines(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans = []
    position = start
    while position < end:
        line_end = text.find("\n", position, end)
        line_end = end if line_end == -1 else line_end
        if text[position:line_end].strip():
            spans.append((position, line_end))
        position = line_end + 1
    return spans


def is_heading_line(line: str) -> bool:
    """A short line that does not end like a sentence and does not start lowercase.

    Length matters: a photo caption is often a long line without a final period. A single
    word in capitals ("ACCEPT") is a shout, not a heading; "Version 2, June 1991" is a line
    of the title page.
    """
    line = line.strip()
    if not line or len(line) > _HEADING_MAX_CHARS or len(line.split()) > _HEADING_MAX_WORDS:
        return False
    if _NOT_HEADING.match(line) or _LIST_ITEM.match(line):
        return False
    if line.rstrip(_CLOSING)[-1:] in _END_PUNCTUATION or line[-1] in _END_PUNCTUATION:
        return False
    first_letter = next((char for char in line if char.isalnum()), "")
    return first_letter != "" and not first_letter.islower()


def _numbered_heading(line: str) -> int | None:
    """The level of a numbered clause heading ("1. Definitions." is 1, "2.1 Scope" is 2)."""
    match = _NUMBERED.fullmatch(line.strip())
    if not match or len(match.group(2).split()) > 8 or match.group(2).rstrip()[-1:] in ",;":
        return None
    body = match.group(2).rstrip(".")
    if body.endswith((".", "!", "?")) or not is_heading_line(body):
        return None
    return 1 + match.group(1).count(".")


def _is_decorative(line: str) -> bool:
    return _DECORATIVE.fullmatch(line.strip()) is not None


class _TextWalker:
    def __init__(self, text: str) -> None:
        self.text = text
        self.outline = Outline()

    def line(self, span: tuple[int, int]) -> str:
        return self.text[span[0] : span[1]].strip()

    def paragraphs(self, lines: list[tuple[int, int]]) -> None:
        """Lines of one block as paragraphs: a new list item starts a new paragraph."""
        start = 0
        for number in range(1, len(lines) + 1):
            if number == len(lines) or _LIST_ITEM.match(self.text[slice(*lines[number])]):
                self.outline.add(make_paragraph(self.text, lines[start][0], lines[number - 1][1]))
                start = number

    def block(self, lines: list[tuple[int, int]]) -> None:
        words = [self.line(span) for span in lines]
        # Underlined headings ("Title\n=====", also over- and underlined) anywhere in a block.
        for number in range(1, len(lines)):
            underline = _UNDERLINE.fullmatch(words[number])
            if underline and not _is_decorative(words[number - 1]):
                level = 1 if underline.group(1) in "=#*" else 2
                above = lines[: number - 1]
                if above and _UNDERLINE.fullmatch(words[number - 2]):
                    above = above[:-1]  # the overline
                if above:
                    self.paragraphs(above)
                self.outline.heading(level, words[number - 1])
                rest = lines[number + 1 :]
                if rest:
                    self.block(rest)
                return
        text = " ".join(words)
        if not any(char.isalnum() for char in text):
            self.outline.drop("empty")  # separators such as "* * *"
            return
        if len(lines) == 1:
            numbered = _numbered_heading(words[0])
            if numbered is not None:
                self.outline.heading(numbered + 1, words[0])
                return
            if is_heading_line(words[0]):
                self.outline.heading(1, words[0])
                return
            if _LABEL.fullmatch(words[0]) and len(words[0].split()) <= 5:
                self.outline.heading(1, words[0].rstrip(":"))
                return
        two_line_heading = all(is_heading_line(w) for w in words) or (
            text.isupper() and is_heading_line(text)
        )
        if len(lines) == 2 and two_line_heading and len(text) <= 100:
            self.outline.heading(1, text)  # a heading wrapped onto two lines
            return
        clause = _CLAUSE_TITLE.match(self.text, lines[0][0], lines[0][1])
        if clause and self.outline.level >= 1:
            self.outline.heading(2, self.text[lines[0][0] : clause.end(1)].strip())
            lines = [(clause.end(), lines[0][1]), *lines[1:]]
        self.paragraphs(lines)


def _title(text: str, walker: _TextWalker, blocks: list[tuple[int, int]]) -> tuple[str, int]:
    """The title and how many lines of the first block it used (0: no title in the text)."""
    while blocks:
        lines = _lines(text, *blocks[0])
        while lines and _is_decorative(walker.line(lines[0])):
            lines = lines[1:]
        if lines:
            break
        blocks.pop(0)
    if not blocks:
        return "", 0
    lines = [span for span in _lines(text, *blocks[0])]
    first_index = next(i for i, span in enumerate(lines) if not _is_decorative(walker.line(span)))
    first = walker.line(lines[first_index])
    if len(first) > _TITLE_MAX_CHARS:
        return "", 0  # a very long first line is prose, not a title
    following = [walker.line(span) for span in lines[first_index + 1 :]]
    if following and not _UNDERLINE.fullmatch(following[0]):
        second = following[0]
        titled = is_heading_line(first) and (
            len(first) < 0.7 * len(second) or len(second) <= 60 or is_heading_line(second)
        )
        if not titled:
            return "", 0  # the first line of a wrapped paragraph
    used = first_index + 1
    if following and _UNDERLINE.fullmatch(following[0]):
        used += 1
    return first, used


def read_plain_text(text: str, stem: str) -> Parsed:
    walker = _TextWalker(text)
    blocks = list(_blocks(text))
    title, used = _title(text, walker, blocks)
    for number, (start, end) in enumerate(blocks):
        lines = _lines(text, start, end)
        if number == 0 and used:
            lines = lines[used:]
        if lines:
            walker.block(lines)
    return Parsed(title or stem, walker.outline.build(), text, dropped=dict(walker.outline.dropped))
