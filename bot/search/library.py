"""The read-only view of an index that the views use: documents, sections, passages by id."""

from __future__ import annotations

from bot.index.manifest import DocumentInfo, Manifest, SectionInfo
from bot.index.passages import ParagraphRecord
from bot.index.store import IndexStore
from bot.search.answer import Hit
from bot.text import Span


class Library:
    """Navigation over a loaded index; nothing here searches or changes it."""

    def __init__(self, store: IndexStore) -> None:
        self._store = store
        self._documents = {d.doc_id: d for d in store.manifest.documents}
        self._document_number = {d.doc_id: n for n, d in enumerate(store.manifest.documents)}
        self._sections = tuple(s for d in store.manifest.documents for s in d.sections)

    @property
    def manifest(self) -> Manifest:
        return self._store.manifest

    @property
    def documents(self) -> tuple[DocumentInfo, ...]:
        return self._store.manifest.documents

    def sections(self) -> tuple[SectionInfo, ...]:
        """Every section of every document, in reading order."""
        return self._sections

    def section(self, doc_id: str, section_no: int) -> SectionInfo | None:
        document = self._documents.get(doc_id)
        if document is None or not 0 <= section_no < len(document.sections):
            return None
        return document.sections[section_no]

    def section_paragraphs(
        self, section: SectionInfo, limit: int | None = None
    ) -> list[ParagraphRecord]:
        """The section's paragraphs in order (the first `limit` of them)."""
        number = self._document_number.get(section.doc_id)
        if number is None:
            return []
        rows = self._store.paragraphs.section_rows(number, section.section_no)
        return [self._store.paragraphs[row] for row in rows[:limit]]

    def passage(self, passage_id: str) -> Hit | None:
        """A passage by id (deep links, buttons), or None when it is no longer in the index."""
        row = self._store.row_of_id(passage_id)
        return None if row is None else self.hit(row)

    def paragraph_id(self, paragraph: ParagraphRecord) -> str:
        """The id that names a paragraph: its first one-sentence window."""
        row = self._store.passages.window_row(paragraph.row, 0, 0)
        assert row is not None  # every paragraph has its one-sentence windows
        return self._store.passages[row].id

    def neighbour_id(self, paragraph: ParagraphRecord, step: int) -> str | None:
        """The id of the paragraph `step` places away in the same document, if any."""
        row = paragraph.row + step
        paragraphs = self._store.paragraphs
        if not 0 <= row < len(paragraphs) or paragraphs[row].doc_id != paragraph.doc_id:
            return None
        return self.paragraph_id(paragraphs[row])

    # -- for the search stage --------------------------------------------------------------

    def hit(self, row: int, score: float = 0.0, highlight: Span | None = None) -> Hit:
        passage = self._store.passages[row]
        return Hit(
            passage=passage,
            paragraph=self._store.paragraphs[passage.paragraph_row],
            document=self._documents[passage.doc_id],
            score=score,
            highlight=highlight,
        )

    def window_row(self, paragraph_row: int, first: int, last: int) -> int | None:
        """The row of the passage that is sentences first..last of a paragraph."""
        return self._store.passages.window_row(paragraph_row, first, last)
