"""What a button press or a deep link shows: navigation through the library, rendered."""

from __future__ import annotations

from dataclasses import replace

from bot.index.manifest import SectionInfo
from bot.render.callbacks import (
    Press,
    ShowContents,
    ShowParagraph,
    ShowResult,
    ShowSectionOf,
    doc_key,
)
from bot.render.reply import (
    CLOSEST_LEAD,
    SECTION_VIEW_PARAGRAPHS,
    Reply,
    hit_reply,
    paragraph_reply,
    section_reply,
    toc_reply,
)
from bot.search.library import Library


def render_press(library: Library, press: Press, reader_url: str | None = None) -> Reply | None:
    """The message a button press shows, or None when its passage no longer exists; with
    `reader_url`, passages link to their place in the web reader."""
    if isinstance(press, ShowContents):
        return toc_reply(library.sections())
    if isinstance(press, ShowResult):
        passage_id, highlight = press.results.items[press.position]
        hit = library.passage(passage_id)
        if hit is None:
            return None
        span = None if highlight is None else hit.sentence_span(highlight)
        hit = replace(hit, highlight=span)
        # The caution of a "closest" verdict travels in the callback data: every page of the
        # results says it, not only the first.
        lead = CLOSEST_LEAD if press.results.closest else ""
        return hit_reply(hit, press.results, press.position, lead, reader_url=reader_url)
    if isinstance(press, ShowParagraph):
        hit = library.passage(press.passage_id)
        if hit is None:
            return None
        return paragraph_reply(
            hit,
            library.neighbour_id(hit.paragraph, -1),
            library.neighbour_id(hit.paragraph, +1),
            reader_url,
        )
    if isinstance(press, ShowSectionOf):
        hit = library.passage(press.passage_id)
        if hit is None:
            return None
        return _section_view(library, hit.section)
    section = next(
        (
            s
            for s in library.sections()
            if doc_key(s.doc_id) == press.doc_key and s.section_no == press.section_no
        ),
        None,
    )
    return None if section is None else _section_view(library, section)


def _section_view(library: Library, section: SectionInfo) -> Reply:
    # A section view shows what fits one message: never more than its first lines' worth.
    paragraphs = library.section_paragraphs(section, limit=SECTION_VIEW_PARAGRAPHS)
    ids = [library.paragraph_id(p) for p in paragraphs]
    return section_reply(section, paragraphs, ids)


def passage_reply(library: Library, passage_id: str, reader_url: str | None = None) -> Reply | None:
    """A passage opened by id (a deep link): the quote with its buttons."""
    hit = library.passage(passage_id)
    return None if hit is None else hit_reply(hit, reader_url=reader_url)
