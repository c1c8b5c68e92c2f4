"""The .txt reader: first line is the title, short sentence-less lines are headings."""

from __future__ import annotations

import re
from collections.abc import Iterator

from bot.corpus.sections import Parsed, SectionBuilder, make_paragraph

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


def read_plain_text(text: str, stem: str) -> Parsed:
    sections = SectionBuilder()
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
            sections.add(make_paragraph(text, start, end))
    return Parsed(title, sections.build(), text)
