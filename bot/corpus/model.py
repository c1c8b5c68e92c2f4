"""What an essay becomes: a Document of Sections of Paragraphs, with offsets into its text.

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

from dataclasses import dataclass

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
