"""Reading files into Documents: one essay, or the whole corpus with its problems named."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, TypeVar

from bot.corpus.decode import decode_text
from bot.corpus.files import scan_corpus
from bot.corpus.html import read_html
from bot.corpus.markdown import read_markdown
from bot.corpus.model import CorpusProblem, Document
from bot.corpus.pdf import read_pdf
from bot.corpus.plain import read_plain_text
from bot.corpus.sections import Parsed
from bot.errors import CorpusError
from bot.text import collapse_whitespace

_TEXT_READERS: dict[str, Callable[[str, str], Parsed]] = {
    ".txt": read_plain_text,
    ".md": read_markdown,
    ".markdown": read_markdown,
    ".html": read_html,
    ".htm": read_html,
}
# Formats read from the file's bytes rather than from decoded text.
_BYTE_READERS: dict[str, Callable[[bytes, str], Parsed]] = {".pdf": read_pdf}


def _relative_name(path: Path, root: Path | None) -> str:
    if root is not None:
        try:
            return path.relative_to(root).as_posix()
        except ValueError:
            pass
    return path.name


def _unsupported(suffix: str) -> str:
    shown = suffix or "(no extension)"
    return f"unsupported file type {shown} (Footnote reads .txt, .md, .html, .pdf)"


def read_document(path: Path, root: Path | None = None) -> Document:
    """Read one essay; raises CorpusError naming the file when it cannot be used."""
    name = _relative_name(path, root)
    suffix = path.suffix.lower()
    if suffix not in _TEXT_READERS and suffix not in _BYTE_READERS:
        raise CorpusError(name, _unsupported(suffix))
    try:
        data = path.read_bytes()
    except OSError as error:
        raise CorpusError(name, f"could not open the file ({error.strerror or error})") from None
    doc_id = name[: -len(path.suffix)] if path.suffix else name
    try:
        if suffix in _BYTE_READERS:
            parsed = _BYTE_READERS[suffix](data, path.stem)
        else:
            parsed = _TEXT_READERS[suffix](decode_text(data), path.stem)
    except ValueError as error:
        raise CorpusError(name, str(error)) from None
    if not any(section.paragraphs for section in parsed.sections):
        left_out = ", ".join(f"{count} {kind}" for kind, count in parsed.dropped.items())
        raise CorpusError(
            name,
            "no paragraphs (nothing to quote besides a title or headings"
            + (f"; left out: {left_out})" if left_out else ")"),
        )
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
        dropped=dict(parsed.dropped),
    )


def read_corpus(
    directory: Path, follow_links: bool = False
) -> tuple[list[Document], list[CorpusProblem]]:
    """Read every essay under `directory`; bad files are named in the problems, not fatal."""
    return read_corpus_with(read_document, directory, follow_links)


class Named(Protocol):
    """What the corpus needs to know of a document it read: its id (ids must not repeat)."""

    @property
    def doc_id(self) -> str: ...


D = TypeVar("D", bound=Named)


def read_corpus_with(
    read: Callable[[Path, Path], D], directory: Path, follow_links: bool = False
) -> tuple[list[D], list[CorpusProblem]]:
    """read_corpus, each file read by `read(path, directory)` (read_document's signature and
    errors): the index passes one that does not read a file whose rows it carries over
    unchanged (bot/index/library.py)."""
    if not directory.exists():
        raise CorpusError(str(directory), "the corpus folder does not exist")
    if not directory.is_dir():
        raise CorpusError(str(directory), "the corpus path is not a folder")
    documents: list[D] = []
    scan = scan_corpus(directory, follow_links)
    problems: list[CorpusProblem] = list(scan.skipped)
    seen_ids: dict[str, str] = {}
    for path in scan.files:
        name = path.relative_to(directory).as_posix()
        try:
            document = read(path, directory)
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
    problems.sort(key=lambda problem: problem.path)
    return documents, problems
