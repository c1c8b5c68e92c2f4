"""Answers rendered as Telegram HTML with inline buttons; pure, testable without Telegram."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.index.manifest import SectionInfo
from bot.index.passages import ParagraphRecord
from bot.index.sentences import split_sentences
from bot.render.callbacks import (
    MAX_RESULTS,
    Results,
    encode_contents,
    encode_paragraph,
    encode_results,
    encode_section,
    encode_section_of,
)
from bot.search.answer import Answer, Hit
from bot.search.library import Library

# Telegram counts message length after entity parsing, in UTF-16 code units.
MAX_MESSAGE = 4096
MAX_INLINE_DESCRIPTION = 200
OPENING_SECTION = "opening"
# Paragraphs longer than this are shown folded (expandable blockquote) in full-paragraph views.
EXPANDABLE_FROM = 700
# Document and section titles are shortened to this many characters wherever they are shown,
# so that a pathological heading can never push a message over MAX_MESSAGE.
MAX_TITLE = 120
# A section view lists the openings of at most this many paragraphs: at the 80 characters each
# one gets once a section has more than ~45, that already overflows one message.
SECTION_VIEW_PARAGRAPHS = 60
# Said above a quote whose verdict is "closest": it is the nearest passage, not an answer.
CLOSEST_LEAD = "The essay may not answer this directly; the closest passage:"


READ_IN_CONTEXT = "📖 Read in context"
CONTENTS = "☰ Contents"


@dataclass(frozen=True)
class Button:
    text: str
    callback_data: str = ""
    # A link instead of a press: a passage's page in the web reader (bot/web/), opened as a
    # Mini App in private chats (bot/telegram/send.py).
    url: str = ""


@dataclass(frozen=True)
class Reply:
    html: str
    buttons: tuple[tuple[Button, ...], ...] = ()


def reader_button(reader_url: str | None, passage_id: str) -> tuple[Button, ...]:
    """The "Read in context" link to a passage's page, when the reader has a public URL."""
    if not reader_url:
        return ()
    return (Button(READ_IN_CONTEXT, url=f"{reader_url}/p/{passage_id}"),)


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def escape(text: str) -> str:
    return html.escape(text, quote=False)


def section_label(title: str) -> str:
    return _short(title, MAX_TITLE) if title else OPENING_SECTION


def document_label(title: str) -> str:
    return _short(title, MAX_TITLE)


def citation(
    document: str, section: str, paragraph: int | None = None, page: int | None = None
) -> str:
    """Plain-text citation: document › section · p. 12 · ¶N (the page for PDFs only)."""
    line = f"{document_label(document)} › {section_label(section)}"
    if page is not None:
        line = f"{line} · p. {page}"
    return line if paragraph is None else f"{line} · ¶{paragraph}"


def hit_citation(hit: Hit) -> str:
    passage = hit.passage
    return citation(hit.document.title, passage.section_title, passage.paragraph_no, passage.page)


def _highlighted(text: str, span: tuple[int, int] | None) -> str:
    if span is None or not (0 <= span[0] < span[1] <= len(text)) or span == (0, len(text)):
        return escape(text)
    begin, end = span
    return f"{escape(text[:begin])}<b>{escape(text[begin:end])}</b>{escape(text[end:])}"


def _utf16_prefix(text: str, units: int) -> str:
    """The longest prefix of `text` that is at most `units` UTF-16 code units long."""
    return text.encode("utf-16-le")[: 2 * max(units, 0)].decode("utf-16-le", "ignore")


def _fit_sentences(text: str, sentences: Sequence[tuple[int, int]], budget: int) -> str:
    """The longest run of whole sentences from the start that fits `budget` UTF-16 units."""
    if utf16_len(text) <= budget:
        return text
    cut = 0
    for _, end in sentences:
        if utf16_len(text[:end]) + 2 > budget:
            break
        cut = end
    if cut == 0:  # a single sentence longer than the budget: cut at a word boundary
        words = _utf16_prefix(text, max(budget - 2, 1))
        cut = words.rfind(" ")
        if cut < len(words) // 2:  # no space, or only near the start: cut mid-word
            cut = len(words)
    return text[:cut].rstrip() + " …"


def format_hit(
    hit: Hit, position: int | None = None, total: int | None = None, lead: str = ""
) -> str:
    """A quote with its citation; `lead` is a line said above it (plain text)."""
    counter = f" · {position + 1}/{total}" if position is not None and total and total > 1 else ""
    cite_line = f"<i>{escape(hit_citation(hit))}</i>{counter}"
    lead_line = f"{escape(lead)}\n" if lead else ""
    budget = MAX_MESSAGE - utf16_len(lead_line + hit_citation(hit) + counter) - 2
    quote = hit.quote
    span = hit.highlight
    if utf16_len(quote) > budget:
        quote = _fit_sentences(quote, split_sentences(quote), budget)
        span = None
    return f"{lead_line}<blockquote>{_highlighted(quote, span)}</blockquote>\n{cite_line}"


def verdict_lead(answer: Answer) -> str:
    """What is said above the quotes of an answer: nothing when they answer."""
    return CLOSEST_LEAD if answer.verdict == "closest" else ""


def never_mentioned(terms: Sequence[str]) -> str:
    """ "The essays never mention Japan." (or "Japan or Russia"), as plain text."""
    named = [_short(term, 60) for term in terms[:3]]
    listed = named[0] if len(named) == 1 else ", ".join(named[:-1]) + " or " + named[-1]
    return f"The essays never mention {listed}."


def answer_reply(answer: Answer, position: int = 0, reader_url: str | None = None) -> Reply:
    """The reply to a question or a citation lookup, showing result `position` (with a link
    to its place in the web reader at `reader_url`, if any)."""
    if answer.found and answer.hits:
        hits = answer.hits[:MAX_RESULTS]
        position = min(max(position, 0), len(hits) - 1)
        results = Results(
            tuple((h.passage.id, h.highlighted_sentence()) for h in hits),
            closest=answer.verdict == "closest",
        )
        return hit_reply(
            hits[position], results, position, verdict_lead(answer), reader_url=reader_url
        )
    if answer.reason == "empty-section" and answer.empty_section is not None:
        section = answer.empty_section
        text = (
            f"<b>{escape(section_label(section.title))}</b> is a section of "
            f"<i>{escape(document_label(section.document_title))}</i>, "
            "but this copy has no text under it, so there is nothing to quote."
        )
        return Reply(text, (*_section_buttons(answer.suggestions), _contents_row()))
    if answer.reason == "empty-query":
        return Reply("Ask a question about the essay, or paste a phrase to find where it stands.")
    if answer.reason == "no-match":
        return Reply(
            f"I can't find “{escape(_short(answer.query, 200))}” in the essay. "
            "Check the wording, or ask it as a question."
        )
    text = "That isn't in the essay, so I have nothing to quote."
    if answer.missing_terms:
        text = f"{escape(never_mentioned(answer.missing_terms))} I have nothing to quote."
    if answer.suggestions:
        text += " The nearest sections:"
    return Reply(text, _section_buttons(answer.suggestions))


def hit_reply(
    hit: Hit,
    results: Results | None = None,
    position: int = 0,
    lead: str = "",
    reader_url: str | None = None,
) -> Reply:
    total = len(results.items) if results else None
    rows: list[tuple[Button, ...]] = []
    if results and total and total > 1:
        nav: list[Button] = []
        if position > 0:
            nav.append(Button("◀ Previous", encode_results(results, position - 1)))
        if position < total - 1:
            nav.append(Button("Next ▶", encode_results(results, position + 1)))
        rows.append(tuple(nav))
    rows.append(
        (
            Button("¶ Full paragraph", encode_paragraph(hit.passage.id)),
            Button("§ Section", encode_section_of(hit.passage.id)),
        )
    )
    if reader_url:
        rows.append(reader_button(reader_url, hit.passage.id))
    return Reply(format_hit(hit, position if total else None, total, lead), tuple(rows))


def paragraph_reply(
    hit: Hit,
    previous_id: str | None,
    next_id: str | None,
    reader_url: str | None = None,
) -> Reply:
    """A whole paragraph with the quoted window in bold, and buttons to its neighbours."""
    paragraph = hit.paragraph
    cited = citation(hit.document.title, paragraph.section_title, paragraph.number, paragraph.page)
    cite_line = escape(cited)
    budget = MAX_MESSAGE - utf16_len(cited) - 2
    text = paragraph.text
    quote_begin = paragraph.sentences[hit.passage.first_sentence][0]
    quote_end = paragraph.sentences[hit.passage.last_sentence][1]
    shown = _fit_sentences(text, paragraph.sentences, budget)
    body = escape(shown) if shown != text else _highlighted(text, (quote_begin, quote_end))
    tag = "blockquote expandable" if utf16_len(text) > EXPANDABLE_FROM else "blockquote"
    rows: list[tuple[Button, ...]] = []
    neighbours: list[Button] = []
    if previous_id:
        neighbours.append(Button("◀ ¶ before", encode_paragraph(previous_id)))
    if next_id:
        neighbours.append(Button("¶ after ▶", encode_paragraph(next_id)))
    if neighbours:
        rows.append(tuple(neighbours))
    rows.append((Button("§ Section", encode_section_of(hit.passage.id)),))
    if reader_url:
        rows.append(reader_button(reader_url, hit.passage.id))
    return Reply(f"<{tag}>{body}</blockquote>\n<i>{cite_line}</i>", tuple(rows))


def section_reply(
    section: SectionInfo,
    paragraphs: Sequence[ParagraphRecord],
    paragraph_ids: Sequence[str],
) -> Reply:
    """A section: its title and the opening of each paragraph, with a button per paragraph."""
    title, document = section_label(section.title), document_label(section.document_title)
    header = f"<b>{escape(title)}</b>\n<i>{escape(document)}</i>\n"
    if not paragraphs:
        text = header + "\nThis section has no text in this copy of the essay."
        return Reply(text, (_contents_row(),))
    lines: list[str] = []
    used = utf16_len(title + document) + 4
    per_paragraph = max(80, (MAX_MESSAGE - used) // len(paragraphs) - 10)
    for paragraph in paragraphs:
        opening = _fit_sentences(paragraph.text, paragraph.sentences[:1], min(per_paragraph, 300))
        line = f"¶{paragraph.number} {opening}"
        if used + utf16_len(line) + 1 > MAX_MESSAGE - 20:
            lines.append("…")
            break
        used += utf16_len(line) + 1
        lines.append(f"¶{paragraph.number} {escape(opening)}")
    buttons = tuple(
        tuple(
            Button(f"¶{p.number}", encode_paragraph(pid))
            for p, pid in zip(paragraphs[i : i + 5], paragraph_ids[i : i + 5], strict=True)
        )
        for i in range(0, min(len(paragraphs), 40), 5)
    )
    return Reply(header + "\n" + "\n".join(lines), buttons)


def _section_buttons(sections: Sequence[SectionInfo]) -> tuple[tuple[Button, ...], ...]:
    return tuple(
        (Button(_short(f"§ {section_label(s.title)}", 60), encode_section(s.doc_id, s.section_no)),)
        for s in sections
    )


def _contents_row() -> tuple[Button, ...]:
    return (Button(CONTENTS, encode_contents()),)


def toc_reply(sections: Sequence[SectionInfo]) -> Reply:
    """The table of contents of every document, with a button per section."""
    lines: list[str] = []
    current = None
    for section in sections:
        if section.document_title != current:
            current = section.document_title
            lines.append(f"\n<b>{escape(document_label(section.document_title))}</b>")
        note = "no text in this copy" if section.empty else f"{section.paragraphs} ¶"
        lines.append(f"• {escape(section_label(section.title))} <i>({note})</i>")
    text = _fit_lines(lines).strip() or "The corpus is empty."
    buttons = _section_buttons(sections[:20])
    return Reply(text, buttons)


def text_reply(text: str) -> Reply:
    """Plain text (an administrator's report) as a message: escaped, whole lines while they
    fit Telegram's limit."""
    return Reply(_fit_lines([escape(line) for line in text.splitlines()]))


def _fit_lines(lines: Sequence[str], budget: int = MAX_MESSAGE) -> str:
    """Whole lines (each valid HTML on its own) while they fit, then "…"."""
    kept: list[str] = []
    used = 0
    for line in lines:
        size = utf16_len(plain_text(line)) + 1
        if used + size > budget - 2:
            kept.append("…")
            break
        kept.append(line)
        used += size
    return "\n".join(kept)


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def inline_description(hit: Hit) -> str:
    return _short(hit.quote, MAX_INLINE_DESCRIPTION)


def inline_title(hit: Hit, answer: Answer) -> str:
    """An inline card's title: where the quote stands, and "Closest" when it may not answer."""
    place = section_label(hit.passage.section_title) + f" · ¶{hit.passage.paragraph_no}"
    return f"Closest · {place}" if answer.verdict == "closest" else place


def inline_refusal(answer: Answer) -> str:
    """The inline hint button's text when nothing is quoted (Telegram allows 64 characters)."""
    if answer.missing_terms:
        return _short(f"Never mentions {answer.missing_terms[0]}", 44) + " — open Footnote"
    return "Not in the essay — open Footnote"


def plain_text(html_text: str) -> str:
    """What Telegram displays for `html_text`: tags dropped, entities decoded."""
    return html.unescape(re.sub(r"<[^>]+>", "", html_text))


def about_reply(library: Library) -> Reply:
    lines = ["<b>What Footnote quotes</b>"]
    for doc in library.documents:
        details = [f"<b>{escape(document_label(doc.title))}</b>"]
        if doc.author:
            details.append(f"by {escape(_short(doc.author, MAX_TITLE))}")
        if doc.date:
            details.append(escape(_short(doc.date, 40)))
        lines.append(" · ".join(details))
        if doc.source_url:
            lines.append(escape(_short(doc.source_url, 300)))
        texts = sum(1 for s in doc.sections if not s.empty)
        empty = len(doc.sections) - texts
        note = f"{len(doc.sections)} sections" + (f", {empty} without text" if empty else "")
        lines.append(f"<i>{note}; file {escape(_short(doc.path, MAX_TITLE))}</i>")
    manifest = library.manifest
    summary = (
        f"\n{manifest.passage_count} quotable passages, index built {escape(manifest.built_at)}."
    )
    budget = MAX_MESSAGE - utf16_len(plain_text(summary)) - 1
    return Reply(_fit_lines(lines, budget) + "\n" + summary)
