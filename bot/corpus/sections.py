"""Building blocks shared by the readers: trimmed paragraphs, the section builder, results."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.corpus.model import Paragraph, Section
from bot.text import collapse_whitespace


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


@dataclass
class SectionBuilder:
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
class Parsed:
    """What a format reader returns: a Document without its file details."""

    title: str
    sections: tuple[Section, ...]
    text: str
    author: str | None = None
    source_url: str | None = None
    date: str | None = None


def same_title(a: str, b: str) -> bool:
    return collapse_whitespace(a).casefold() == collapse_whitespace(b).casefold()
