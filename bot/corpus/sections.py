"""Building blocks shared by the readers: paragraphs, the nested outline, rendered text."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.corpus.model import Paragraph, Section
from bot.text import collapse_whitespace

# A citation shows the whole section path ("Glossary › decorator") while it stays readable;
# past this many characters it shows only the innermost heading, the most specific one.
MAX_PATH_TITLE = 100
PATH_SEPARATOR = " › "


def make_paragraph(text: str, start: int, end: int, display: str | None = None) -> Paragraph | None:
    """A paragraph for text[start:end], trimmed to its first and last non-space char."""
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    shown = collapse_whitespace(text[start:end] if display is None else display)
    if start >= end or not shown:
        return None
    return Paragraph(shown, start, end)


_LONG_SIGNATURE = 40  # an API heading longer than this shows its parameters as "(…)"
_SIGNATURE = re.compile(r"\w\(")  # "dump(" is a call; "binaries (for use…)" is prose


def _short_heading(heading: str) -> str:
    """ "json.dump(obj, fp, *, skipkeys=False, …)" -> "json.dump(…)" inside a path."""
    call = _SIGNATURE.search(heading)
    if len(heading) > _LONG_SIGNATURE and call is not None:
        return heading[: call.end()] + "…)"
    return heading


def section_title(path: tuple[str, ...]) -> str:
    """The path as a citation shows it: outer headings left out until it is short enough."""
    if len(PATH_SEPARATOR.join(path)) <= MAX_PATH_TITLE or len(path) <= 1:
        return PATH_SEPARATOR.join(path)
    shown = [_short_heading(heading) for heading in path]
    while len(shown) > 1 and len(PATH_SEPARATOR.join(shown)) > MAX_PATH_TITLE:
        shown.pop(0)
    return PATH_SEPARATOR.join(shown)


@dataclass
class _OpenSection:
    path: tuple[str, ...]
    paragraphs: list[Paragraph] = field(default_factory=list)
    has_subsections: bool = False


class Outline:
    """Headings at every level, nested by level; paragraphs go to the innermost open section.

    Levels are numbers where larger is deeper (h1 = 1 … h6 = 6; a definition term is one
    level below the section it appears in). `return_to(depth)` closes the sections opened
    since the outline had that depth, so text after a definition list goes back to its
    section, numbered after the paragraphs it already had.
    """

    def __init__(self) -> None:
        self._sections: list[_OpenSection] = [_OpenSection(())]
        self._open: list[tuple[int, int]] = []  # (level, index in _sections), outermost first
        self.dropped: Counter[str] = Counter()

    @property
    def depth(self) -> int:
        return len(self._open)

    @property
    def level(self) -> int:
        return self._open[-1][0] if self._open else 0

    def heading(self, level: int, title: str) -> None:
        while self._open and self._open[-1][0] >= level:
            self._open.pop()
        parent = self._sections[self._open[-1][1]] if self._open else None
        path = (parent.path if parent else ()) + (title,)
        if parent is not None:
            parent.has_subsections = True
        self._sections.append(_OpenSection(path))
        self._open.append((level, len(self._sections) - 1))

    def return_to(self, depth: int) -> None:
        del self._open[depth:]

    def add(self, paragraph: Paragraph | None) -> None:
        if paragraph is not None:
            index = self._open[-1][1] if self._open else 0
            self._sections[index].paragraphs.append(paragraph)

    def drop(self, kind: str, count: int = 1) -> None:
        self.dropped[kind] += count

    def build(self) -> tuple[Section, ...]:
        # The opening section exists only when text comes before the first heading. A parent
        # with only subsections is not a section of its own: its children's paths name it.
        return tuple(
            Section(section_title(s.path), tuple(s.paragraphs), s.path)
            for number, s in enumerate(self._sections)
            if s.paragraphs or (number > 0 and not s.has_subsections)
        )


class RenderedText:
    """`Document.text` of a rendered format: blocks joined by blank lines, offsets kept."""

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._length = 0

    def block(self, text: str, page: int | None = None) -> Paragraph | None:
        """Append one block (paragraph or heading); its Paragraph, or None if it is blank."""
        shown = collapse_whitespace(text)
        if not shown:
            return None
        if self._length:
            self._parts.append("\n\n")
            self._length += 2
        start = self._length
        self._parts.append(shown)
        self._length += len(shown)
        return Paragraph(shown, start, self._length, page)

    @property
    def text(self) -> str:
        return "".join(self._parts)


@dataclass(frozen=True)
class Parsed:
    """What a format reader returns: a Document without its file details."""

    title: str
    sections: tuple[Section, ...]
    text: str
    author: str | None = None
    source_url: str | None = None
    date: str | None = None
    dropped: Mapping[str, int] = field(default_factory=dict)


def is_contents_heading(text: str) -> bool:
    """ "Table of Contents" and the like: page furniture, never a section."""
    return text.casefold().strip(" :") in ("table of contents", "contents", "toc")


def same_title(a: str, b: str) -> bool:
    return collapse_whitespace(a).casefold() == collapse_whitespace(b).casefold()
