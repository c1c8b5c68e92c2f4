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
        self._sections = tuple(s for d in store.manifest.documents for s in d.sections)
        self._windows: dict[tuple[int, int, int], int] = {
            (p.paragraph_row, p.first_sentence, p.last_sentence): row
            for row, p in enumerate(store.passages)
        }
        self._paragraphs_of_section: dict[tuple[str, int], list[ParagraphRecord]] = {}
        for paragraph in store.paragraphs:
            key = (paragraph.doc_id, paragraph.section_no)
            self._paragraphs_of_section.setdefault(key, []).append(paragraph)

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
        paragraphs = self._paragraphs_of_section.get((section.doc_id, section.section_no), [])
        return paragraphs[:limit]

    def passage(self, passage_id: str) -> Hit | None:
        """A passage by id (deep links, buttons), or None when it is no longer in the index."""
        row = self._store.row_of_id.get(passage_id)
        return None if row is None else self.hit(row)

    def paragraph_id(self, paragraph: ParagraphRecord) -> str:
        """The id that names a paragraph: its first one-sentence window."""
        return self._store.passages[self._windows[(paragraph.row, 0, 0)]].id

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
        return self._windows.get((paragraph_row, first, last))
