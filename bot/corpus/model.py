"""What an essay becomes: a Document of Sections of Paragraphs, with offsets into its text.

Offsets: every Paragraph's start/end index `Document.text` and point at its first and
last non-space character, and `" ".join(doc.text[p.start:p.end].split()) == p.text`:
what Footnote quotes is always findable, verbatim, in the document's text.

- .txt: `Document.text` is the file text decoded as UTF-8, a leading BOM removed and
  \\r\\n / \\r turned into \\n (offsets count characters of that text, not bytes).
- .md, .html, .pdf: `Document.text` is the text as a reader sees it (Markdown rendered,
  the page's main content, the PDF's text with page furniture removed), one block per
  paragraph or heading, blocks joined with blank lines.

Sections nest: `Section.path` holds the headings from the outermost down to the section's
own, without the document's title; `Section.title` is what a citation shows (the path, or
only the innermost heading when the whole path would be too long to read).

What a reader leaves out on purpose (code, tables, navigation, empty blocks) is counted in
`Document.dropped` by kind, so nothing disappears silently.

A file that cannot give at least one paragraph is a CorpusProblem, not a crash.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")

# Kinds of dropped content, as reported by `footnote index` and `footnote sections --json`.
DROPPED_KINDS = ("boilerplate", "code", "table", "empty")


@dataclass(frozen=True)
class Paragraph:
    text: str  # display text: verbatim, inner whitespace runs folded to one space
    start: int  # character offsets of the paragraph in Document.text
    end: int
    page: int | None = None  # 1-based page number, for documents with pages (PDF)


@dataclass(frozen=True)
class Section:
    title: str  # what a citation shows; "" for the opening section before the first heading
    paragraphs: tuple[Paragraph, ...]  # may be empty: a heading with no text after it
    path: tuple[str, ...] = ()  # headings from the outermost to this one (() for the opening)


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
    dropped: Mapping[str, int] = field(default_factory=dict)  # kind -> blocks left out


@dataclass(frozen=True)
class CorpusProblem:
    path: str
    reason: str
