"""Which corpus files a build reads: not those whose rows it carries over unchanged.

Reading and parsing every file is a build's largest cost after the model once the vectors,
term counts and rows of unchanged documents are carried over (0.5-1 s for 1,001 files at 95k
passages).  A file's rows depend only on its name, its bytes and the code that reads and cuts
it; the build already knows every file's bytes by their hash (the corpus fingerprint,
bot/index/fingerprint.py, which itself reads only files whose size or time changed), and the
previous generation recorded each document's key (`document_key`) in its manifest.  So a file
whose key is unchanged becomes a `CarriedDocument` (its table-of-contents entry from the
previous manifest) without being opened, and bot/index/carry.py copies its rows.

The code is part of the key: a digest of the modules that turn bytes into paragraphs and
passages (and of the PDF library's version), so a reader or cutter changed without a
PASSAGE_FORMAT bump still cuts every document again, once.
"""

from __future__ import annotations

import functools
import hashlib
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

import bot
from bot.corpus import Document, read_document
from bot.index.manifest import DocumentInfo, Manifest, describe_documents
from bot.index.passages import PASSAGE_FORMAT

# The code a document's rows depend on, relative to the `bot` package.
_READING_CODE = ("corpus/*.py", "index/passages.py", "index/sentences.py", "text.py")

DocumentReader = Callable[[Path, Path], Document]


@functools.cache
def reading_code_digest() -> str:
    """A digest of the modules that read and cut documents, and of pdfminer's version."""
    package = Path(bot.__file__).parent
    digest = hashlib.sha256()
    for pattern in _READING_CODE:
        for path in sorted(package.glob(pattern)):
            digest.update(f"{path.relative_to(package).as_posix()}\0".encode())
            digest.update(path.read_bytes())
    try:
        digest.update(f"pdfminer.six {metadata.version('pdfminer.six')}".encode())
    except metadata.PackageNotFoundError:
        digest.update(b"no pdfminer.six")
    return digest.hexdigest()


def document_key(doc_id: str, path: str, content_hash: str) -> str:
    """What a document's rows depend on: its name, its file's bytes (their sha256) and the
    code that reads and cuts it."""
    head = f"{PASSAGE_FORMAT}\0{reading_code_digest()}\0{doc_id}\0{path}\0{content_hash}\0"
    return hashlib.sha256(head.encode("utf-8", "surrogatepass")).hexdigest()


def key_of(document: Document | CarriedDocument) -> str:
    if isinstance(document, CarriedDocument):
        return document.key
    return document_key(document.doc_id, document.path, document.content_hash)


@dataclass(frozen=True)
class CarriedDocument:
    """A corpus file not read: its bytes are those the previous generation cut."""

    info: DocumentInfo  # its entry in the previous manifest
    number: int  # its position among the previous generation's documents
    key: str

    @property
    def doc_id(self) -> str:
        return self.info.doc_id

    @property
    def path(self) -> str:
        return self.info.path

    @property
    def dropped(self) -> dict[str, int]:
        return self.info.dropped


LibraryDocument = Document | CarriedDocument


def library_reader(
    previous: Manifest | None, hashes: Mapping[str, str], read: DocumentReader = read_document
) -> Callable[[Path, Path], LibraryDocument]:
    """`read`, except for a file whose key (from `hashes`, each file's sha256 by relative
    path, as the corpus fingerprint found them) is the one `previous` recorded."""
    carried: dict[str, CarriedDocument] = {}
    if previous is not None:
        for number, info in enumerate(previous.documents):
            content = hashes.get(info.path)
            recorded = previous.document_keys.get(info.doc_id)
            if content is None or recorded is None:
                continue
            if document_key(info.doc_id, info.path, content) == recorded:
                carried[info.path] = CarriedDocument(info, number, recorded)

    def reader(path: Path, root: Path) -> LibraryDocument:
        found = carried.get(path.relative_to(root).as_posix())
        return found if found is not None else read(path, root)

    return reader


def describe(
    documents: Sequence[LibraryDocument], section_passages: Counter[tuple[str, int]]
) -> tuple[DocumentInfo, ...]:
    """The manifest's entries: a carried document's is the one the previous manifest had."""
    read = [document for document in documents if isinstance(document, Document)]
    described = iter(describe_documents(read, section_passages))
    return tuple(
        document.info if isinstance(document, CarriedDocument) else next(described)
        for document in documents
    )
