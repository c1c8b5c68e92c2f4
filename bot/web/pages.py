"""The reader's pages, rendered from the read-only Library and from Answers (pure functions).

`/` the library, `/d/<document>` a document with its contents and an anchor on every
paragraph, `/p/<passage id>` the same document with that passage highlighted, and the answer
pages of `/ask` and `/cite`.  Every corpus-derived string is escaped (layout.esc).
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.index.manifest import DocumentInfo, SectionInfo
from bot.index.passages import ParagraphRecord
from bot.render.reply import citation, hit_citation, never_mentioned
from bot.search.answer import Answer, Hit
from bot.search.library import Library
from bot.web.layout import (
    document_href,
    esc,
    page,
    passage_href,
    safe_link,
    section_href,
)

OPENING = "Opening"
# What a verdict (search stage: answer / closest / absent) says above the results.
VERDICTS = {
    "answer": "The essays answer this.",
    "closest": "No passage answers this exactly; these come closest.",
    "absent": "That isn't in the essays, so there is nothing to quote.",
}


def section_name(section: SectionInfo) -> str:
    return section.title or OPENING


def _document_meta(document: DocumentInfo) -> str:
    parts: list[str] = []
    if document.author:
        parts.append(f"by {esc(document.author)}")
    if document.date:
        parts.append(esc(document.date))
    link = safe_link(document.source_url)
    if link:
        parts.append(f'<a href="{esc(link)}" rel="noreferrer">source</a>')
    elif document.source_url:
        parts.append(esc(document.source_url))
    return f'<p class="meta">{" · ".join(parts)}</p>\n' if parts else ""


def _toc(document: DocumentInfo) -> str:
    items: list[str] = []
    for section in document.sections:
        link = f'<a href="{section_href(document.doc_id, section.section_no)}">'
        link += f"{esc(section_name(section))}</a>"
        if section.empty:
            note = ' <span class="empty">no text in this copy</span>'
        else:
            note = f' <span class="count">({section.paragraphs} ¶)</span>'
        items.append(f"<li>{link}{note}</li>")
    return "<ol>\n" + "\n".join(items) + "\n</ol>"


def library_page(library: Library) -> str:
    manifest = library.manifest
    documents = library.documents
    entries: list[str] = []
    for document in documents:
        entries.append(
            f'<li><h2><a href="{document_href(document.doc_id)}">{esc(document.title)}</a></h2>\n'
            f"{_document_meta(document)}"
            f'<nav class="toc" aria-label="Sections of {esc(document.title)}">{_toc(document)}'
            "</nav></li>"
        )
    listing = '<ul class="docs">\n' + "\n".join(entries) + "\n</ul>" if entries else ""
    summary = (
        f'<p class="meta">{len(documents)} document{"" if len(documents) == 1 else "s"} · '
        f"{manifest.passage_count} quotable passages · index built {esc(manifest.built_at)}</p>"
    )
    empty = "" if entries else '<p class="empty">The corpus is empty.</p>'
    return page("Library", f"<h1>Library</h1>\n{summary}\n{listing}{empty}")


def _paragraph(paragraph: ParagraphRecord, paragraph_id: str, here: Hit | None) -> str:
    page = f" · p. {paragraph.page}" if paragraph.page is not None else ""  # PDFs
    number = (
        f'<a class="num" href="{passage_href(paragraph_id)}" '
        f'title="Link to paragraph {paragraph.number}">¶{paragraph.number}{page}</a>'
    )
    text = paragraph.text
    if here is None:
        return f'<p class="para" id="p-{esc(paragraph_id)}">{number}{esc(text)}</p>'
    sentences = paragraph.sentences
    begin = sentences[here.passage.first_sentence][0]
    end = sentences[here.passage.last_sentence][1]
    marked = (
        f'{esc(text[:begin])}<mark id="quote" tabindex="-1">{esc(text[begin:end])}</mark>'
        f"{esc(text[end:])}"
    )
    return f'<p class="para here" id="p-{esc(paragraph_id)}">{number}{marked}</p>'


def _here_card(library: Library, hit: Hit) -> str:
    paragraph = hit.paragraph
    links: list[str] = []
    previous = library.neighbour_id(paragraph, -1)
    following = library.neighbour_id(paragraph, +1)
    if previous:
        links.append(f'<a rel="prev" href="{passage_href(previous)}">◀ Previous paragraph</a>')
    links.append('<a href="#quote">Go to it in the text</a>')
    if following:
        links.append(f'<a rel="next" href="{passage_href(following)}">Next paragraph ▶</a>')
    own = passage_href(hit.passage.id)
    links.append(f'<a class="permalink" href="{own}">Link to this passage</a>')
    links.append(f'<button type="button" data-copy="{own}" hidden>Copy link</button>')
    return (
        '<section class="here-card" aria-labelledby="here-title">\n'
        f'<h2 id="here-title" class="cite">{esc(hit_citation(hit))}</h2>\n'
        f"<blockquote><p>{esc(hit.quote)}</p></blockquote>\n"
        f'<nav class="passage" aria-label="This passage">{" ".join(links)}</nav>\n'
        "</section>"
    )


def document_page(library: Library, document: DocumentInfo, here: Hit | None = None) -> str:
    """A whole document, every paragraph anchored (#p-<id>) and every section (#s<n>); with
    `here`, the passage's card on top and its sentences marked in the text (#quote)."""
    parts = [f"<h1>{esc(document.title)}</h1>", _document_meta(document)]
    if here is not None:
        parts.append(_here_card(library, here))
    parts.append(
        '<nav class="toc" aria-labelledby="contents"><h2 id="contents">Contents</h2>'
        f"{_toc(document)}</nav>"
    )
    here_row = here.paragraph.row if here is not None else -1
    for section in document.sections:
        heading = f"h-s{section.section_no}"
        parts.append(
            f'<section id="s{section.section_no}" aria-labelledby="{heading}">'
            f'<h2 id="{heading}">{esc(section_name(section))}</h2>'
        )
        paragraphs = library.section_paragraphs(section)
        if not paragraphs:
            parts.append('<p class="empty">No text under this heading in this copy.</p>')
        for paragraph in paragraphs:
            target = here if paragraph.row == here_row else None
            parts.append(_paragraph(paragraph, library.paragraph_id(paragraph), target))
        parts.append("</section>")
    title = document.title
    if here is not None:
        title = hit_citation(here)
    return page(title, "\n".join(parts))


def _quote_html(hit: Hit) -> str:
    quote = hit.quote
    span = hit.highlight
    if span is None or not (0 <= span[0] < span[1] <= len(quote)) or span == (0, len(quote)):
        return esc(quote)
    begin, end = span
    return f"{esc(quote[:begin])}<strong>{esc(quote[begin:end])}</strong>{esc(quote[end:])}"


def verdict_line(answer: Answer, mode: str = "ask") -> str:
    """What the answer amounts to, in one sentence: the search stage's verdict (answer /
    closest / absent), or why there is nothing to look for, and the words of the question
    that no essay uses."""
    if answer.reason == "empty-query":
        return "Ask a question about the essays, or paste a phrase to find where it stands."
    if answer.reason == "no-match":
        return f"I can't find “{answer.query}” in the essays. Check the wording, or ask it."
    if answer.reason == "empty-section" and answer.empty_section is not None:
        section = answer.empty_section
        line = (
            f"“{section_name(section)}” is a section of “{section.document_title}”, but this "
            "copy has no text under it, so there is nothing to quote."
        )
    elif mode == "cite" and answer.verdict == "answer":
        line = "Found: the phrase stands here."
    else:
        line = VERDICTS.get(answer.verdict, VERDICTS["answer" if answer.found else "absent"])
    if answer.missing_terms:
        line += " " + never_mentioned(answer.missing_terms)
    return line


def _section_links(sections: Sequence[SectionInfo]) -> str:
    items = [
        f'<li><a href="{section_href(s.doc_id, s.section_no)}">§ {esc(section_name(s))}</a>'
        f' <span class="meta">— {esc(s.document_title)}</span></li>'
        for s in sections
    ]
    return '<ul class="nearest">\n' + "\n".join(items) + "\n</ul>" if items else ""


def answer_page(answer: Answer, mode: str) -> str:
    """The answers to a question (`mode` "ask") or the places of a phrase ("cite"), each
    linking to its passage in place."""
    asked = "Where it stands" if mode == "cite" else "Answers"
    title = f"{asked}: “{answer.query}”" if answer.query else asked
    parts = [f"<h1>{esc(title)}</h1>", f'<p class="verdict">{esc(verdict_line(answer, mode))}</p>']
    if answer.hits:
        if not answer.found:
            parts.append('<p class="note">The nearest passages:</p>')
        items = []
        for hit in answer.hits:
            items.append(
                f"<li><blockquote><p>{_quote_html(hit)}</p></blockquote>\n"
                f'<p class="cite"><a href="{passage_href(hit.passage.id)}">'
                f"{esc(hit_citation(hit))}</a> · read in context</p></li>"
            )
        parts.append('<ol class="results">\n' + "\n".join(items) + "\n</ol>")
    if answer.suggestions:
        parts.append('<h2 class="note">The nearest sections</h2>')
        parts.append(_section_links(answer.suggestions))
    if answer.empty_section is not None and not answer.suggestions:
        section = answer.empty_section
        label = citation(section.document_title, section.title)
        parts.append(
            f'<p><a href="{section_href(section.doc_id, section.section_no)}">{esc(label)}</a></p>'
        )
    return page(title, "\n".join(parts), query=answer.query)


def search_form_page(mode: str) -> str:
    """/ask or /cite without a question: what to type."""
    text = (
        "Paste a phrase from the essays to find where it stands."
        if mode == "cite"
        else "Ask a question about the essays; the answer is a verbatim quote with its place."
    )
    return page("Search", f"<h1>Search the essays</h1>\n<p>{esc(text)}</p>")
