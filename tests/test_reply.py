"""Reply formatting (bot/reply.py) with hostile text: always valid Telegram HTML that fits.

A tiny corpus in tmp_path holds what a real essay folder could: HTML-looking text, bare
ampersands, emoji outside the BMP, right-to-left scripts, zero-width and control
characters, 20 000-character paragraphs, and titles far longer than a message.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from bot.index.manifest import SectionInfo
from bot.index.passages import MAX_PARAGRAPH_CHARS
from bot.render.callbacks import (
    MAX_CALLBACK_BYTES,
    ShowParagraph,
    ShowResult,
    ShowSection,
    ShowSectionOf,
    decode,
    doc_key,
)
from bot.render.presses import passage_reply, render_press
from bot.render.reply import (
    MAX_INLINE_DESCRIPTION,
    MAX_MESSAGE,
    Reply,
    about_reply,
    answer_reply,
    format_hit,
    hit_reply,
    inline_description,
    paragraph_reply,
    plain_text,
    section_reply,
    toc_reply,
    utf16_len,
)
from bot.search.answer import Answer, Hit
from bot.search.retriever import Retriever, open_retriever
from tests.botapi.telegram_html import parse_telegram_html
from tests.helpers.essay import write_text

HOSTILE = (
    'He wrote "<b>bold</b>" & <i>left</i>, <script>alert("x")</script> 1 < 2 > 0 &amp; '
    "&lt;tag&gt; &#65; &nbsp; </blockquote> <a href='javascript:x'>link</a>. "
    "Emoji 😀🧨👩‍👩‍👧 🇰🇷 and 𝕏 𝔘 letters outside the BMP. "
    "مرحبا بالعالم هذا نص عربي. עברית כאן בפסקה. ‏Mixed‎ ‮reversed‬ direction. "
    "Zero​width‌join‍and\ufeffBOM inside words. "
    "Control \x01\x07\x1b[31m characters \x7f remain. "
    "Ampersand at the end &"
)
SHORT_SENTENCE = "Sentence {n} has <b>tags</b> & “quotes” 😀 and עברית words."
LONG_SENTENCE = (
    "This deliberately long sentence number {n} keeps going, clause after clause, "
    + ", ".join(f"with <i>clause</i> {i} & 😀 ‏עברית" for i in range(70))
    + "."
)
TITLE_NOISE = "Ti<b>tle</b> & “😀” עברית "


def long_sentences_paragraph(template: str, chars: int) -> str:
    sentences: list[str] = []
    while sum(len(s) + 1 for s in sentences) < chars:
        sentences.append(template.format(n=len(sentences) + 1))
    return " ".join(sentences)


@pytest.fixture(scope="module")
def hostile_retriever(tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    root = tmp_path_factory.mktemp("hostile")
    corpus = root / "corpus"
    corpus.mkdir()
    many_short = long_sentences_paragraph(SHORT_SENTENCE, 20_000)
    few_long = long_sentences_paragraph(LONG_SENTENCE, 20_000)
    one_sentence = " ".join(f"word{i}😀" for i in range(3_000))  # no full stop at all
    no_spaces = "𝕏" * 12_000  # one "word" of 24 000 UTF-16 units
    write_text(
        corpus / "hostile.txt",
        '<b>Fake</b> & "Tags" 😀 שלום\n\n'
        f"{HOSTILE}\n\n"
        '<B>Section</B> & "Quoted" 😀 עברית\n\n'
        f"{many_short}\n\n{few_long}\n\n{one_sentence}\n\n{no_spaces}\n\n"
        "Empty Heading Here\n\n"
        "Last Heading\n\n"
        "Final paragraph & done.\n",
    )
    write_text(
        corpus / "long-titles.md",
        "---\n"
        f"title: {TITLE_NOISE * 200}\n"
        'author: <i>Eve</i> & "Mallory" 😀\n'
        "source_url: https://example.com/?a=1&b=<2>\n"
        "date: 2024-01-01 <b>\n"
        "---\n\n"
        f"## {'Heading <u>very</u> & long 😀 ' * 250}\n\n"
        "Short paragraph one. Another sentence & more.\n\n"
        f"## {'Second & <s>heading</s> ' * 200}\n\n"
        + "\n\n".join(f"Paragraph {i} of many & more 😀." for i in range(60))
        + "\n",
    )
    write_text(
        corpus / "many-sections.md",
        "# Many sections\n\n"
        + "\n\n".join(
            f"## Section {i} <x> & 😀 {'padding ' * 8}\n\nText of section {i} & more."
            for i in range(300)
        )
        + "\n",
    )
    retriever, report = open_retriever(corpus, root / "index", "fake:hashing")
    assert report.problems == [], report.problems
    assert report.documents == 3
    return retriever


def check_html(html_text: str) -> str:
    """Parses as Telegram HTML to 1..4096 UTF-16 units; returns the displayed text."""
    shown = parse_telegram_html(html_text)
    assert 1 <= utf16_len(shown) <= MAX_MESSAGE, utf16_len(shown)
    assert shown.strip()
    # button() compares this with the message Telegram stored, to skip no-op edits.
    assert plain_text(html_text) == shown
    return shown


def check_reply(reply: Reply, retriever: Retriever | None = None) -> str:
    shown = check_html(reply.html)
    count = 0
    for row in reply.buttons:
        assert row, "an empty keyboard row"
        for button in row:
            count += 1
            assert button.text.strip()
            assert 1 <= len(button.callback_data.encode("utf-8")) <= MAX_CALLBACK_BYTES
            press = decode(button.callback_data)  # every button decodes ...
            if retriever is not None:  # ... and leads somewhere
                assert render_press(retriever.library, press) is not None, button
    assert count <= 100
    return shown


def all_hits(retriever: Retriever) -> list[Hit]:
    return [retriever.library.hit(row) for row in range(len(retriever.store.passages))]


def paragraph_hits(retriever: Retriever) -> list[Hit]:
    """Per paragraph: its first, last and longest window (the edge cases, far fewer hits)."""
    hits: list[Hit] = []
    store = retriever.store
    for rows in (store.passages_of_paragraph[p] for p in range(len(store.paragraphs))):
        longest = max(rows, key=lambda r: len(retriever.store.passages[r].text))
        chosen = dict.fromkeys((rows[0], rows[-1], longest))
        hits.extend(retriever.library.hit(row) for row in chosen)
    return hits


def test_hostile_corpus_was_read_as_written(hostile_retriever: Retriever) -> None:
    texts = [p.text for p in hostile_retriever.store.paragraphs]
    assert any("<script>" in t and "😀" in t and "\u200b" in t for t in texts)
    assert not any("\x07" in t for t in texts)  # control characters are cleaned on reading
    # Paragraphs of 20 000 characters are quoted in pieces of whole sentences, none lost.
    assert max(len(t) for t in texts) <= MAX_PARAGRAPH_CHARS
    assert sum(len(t) for t in texts) >= 60_000
    titles = {s.title for s in hostile_retriever.library.sections()}
    assert "Empty Heading Here" in titles
    assert max(len(t) for t in titles) > MAX_MESSAGE


def test_every_hit_formats_within_limits(hostile_retriever: Retriever) -> None:
    for hit in all_hits(hostile_retriever):
        shown = check_html(format_hit(hit))
        assert shown.startswith(hit.quote[:20])
        check_html(format_hit(hit, 3, 4))
        check_reply(hit_reply(hit))
        description = inline_description(hit)
        assert 1 <= len(description) <= MAX_INLINE_DESCRIPTION


def test_every_highlighted_sentence_formats(hostile_retriever: Retriever) -> None:
    for hit in all_hits(hostile_retriever):
        paragraph = hit.paragraph
        offset = paragraph.sentences[hit.passage.first_sentence][0]
        for number in range(hit.passage.first_sentence, hit.passage.last_sentence + 1):
            begin, end = paragraph.sentences[number]
            lit = replace(hit, highlight=(begin - offset, end - offset))
            html_text = format_hit(lit)
            check_html(html_text)
            if utf16_len(hit.quote) < MAX_MESSAGE - 400:
                assert "<b>" in html_text or (begin - offset, end - offset) == (0, len(hit.quote))


def test_answers_show_results_with_buttons(hostile_retriever: Retriever) -> None:
    hits = tuple(all_hits(hostile_retriever)[:6])
    answer = Answer("q", True, hits)
    for position in range(-1, 6):
        reply = answer_reply(answer, position)
        check_reply(reply, hostile_retriever)
        texts = [b.text for row in reply.buttons for b in row]
        assert "¶ Full paragraph" in texts and "§ Section" in texts


def test_every_button_view_formats(hostile_retriever: Retriever) -> None:
    retriever = hostile_retriever
    for hit in paragraph_hits(retriever):
        for press in (ShowParagraph(hit.passage.id), ShowSectionOf(hit.passage.id)):
            reply = render_press(retriever.library, press)
            assert reply is not None
            check_reply(reply, retriever)
        reply = passage_reply(retriever.library, hit.passage.id)
        assert reply is not None
        check_reply(reply, retriever)
    for section in retriever.library.sections():
        press = ShowSection(doc_key(section.doc_id), section.section_no)
        reply = render_press(retriever.library, press)
        assert reply is not None
        shown = check_reply(reply, retriever)
        if section.empty:
            assert "no text" in shown
            assert [[b.callback_data for b in row] for row in reply.buttons] == [["c"]]


def test_long_paragraphs_are_cut_at_sentence_boundaries(hostile_retriever: Retriever) -> None:
    retriever = hostile_retriever
    checked = 0
    for paragraph in retriever.store.paragraphs:
        if utf16_len(paragraph.text) <= MAX_MESSAGE:
            continue
        hit = retriever.library.hit(retriever.store.passages_of_paragraph[paragraph.row][0])
        reply = paragraph_reply(hit, None, None)
        shown = check_reply(reply, retriever)
        quoted = shown.split("\n")[0]
        assert quoted.endswith(" …"), quoted[-40:]
        kept = quoted.removesuffix(" …")
        assert paragraph.text.startswith(kept)
        sentence_ends = {end for _, end in paragraph.sentences}
        if len(paragraph.sentences) > 1:
            assert len(kept) in sentence_ends, "cut inside a sentence"
        else:  # one giant sentence: cut between words (or, with no spaces, anywhere)
            assert " " not in paragraph.text or paragraph.text[len(kept)] == " "
        assert utf16_len(kept) > MAX_MESSAGE // 2, "cut far too short"
        checked += 1
    assert checked >= 4


def test_long_quotes_are_cut_at_sentence_boundaries(hostile_retriever: Retriever) -> None:
    cut = 0
    for hit in all_hits(hostile_retriever):
        if utf16_len(hit.quote) <= MAX_MESSAGE - 200:
            continue
        quoted = check_html(format_hit(hit)).split("\n")[0]
        assert quoted.endswith(" …")
        kept = quoted.removesuffix(" …")
        assert hit.quote.startswith(kept)
        if hit.passage.first_sentence != hit.passage.last_sentence:
            offset = hit.paragraph.sentences[hit.passage.first_sentence][0]
            ends = {end - offset for _, end in hit.paragraph.sentences}
            assert len(kept) in ends
        cut += 1
    assert cut >= 3


def test_toc_and_about_fit(hostile_retriever: Retriever) -> None:
    sections = hostile_retriever.library.sections()
    assert len(sections) > 300
    reply = toc_reply(sections)
    shown = check_reply(reply, hostile_retriever)
    assert "Empty Heading Here (no text in this copy)" in shown
    assert len(reply.buttons) == 20
    check_reply(toc_reply([]))
    about = about_reply(hostile_retriever.library)
    shown = check_reply(about)
    assert "hostile.txt" in shown


def hostile_sections(title: str, document: str) -> list[SectionInfo]:
    return [
        SectionInfo("doc" + "x" * 300, document, number, title * (number + 1), number % 2, 0)
        for number in range(30)
    ]


@pytest.mark.parametrize(
    ("title", "document"),
    [
        ("", ""),
        ("<b>&amp;</b> & ", '"<i>"'),
        ("😀" * 3000, "𝕏" * 3000),
        ("\u202eRTL \u200b\x07", "\ufeff" * 10 + "doc"),
    ],
)
def test_section_lists_with_hostile_titles(title: str, document: str) -> None:
    sections = hostile_sections(title, document)
    check_reply(toc_reply(sections))
    check_reply(section_reply(sections[0], [], []))
    for reply in (
        answer_reply(Answer("q", False, reason="off-topic", suggestions=tuple(sections[:3]))),
        answer_reply(Answer("q", False, reason="empty-section", empty_section=sections[0])),
    ):
        check_reply(reply)


@pytest.mark.parametrize(
    "query",
    ["", " ", HOSTILE, HOSTILE * 100, "😀" * 10_000, "<" * 5000, "&" * 5000, "\u202e" * 50],
)
def test_not_found_answers_echo_hostile_queries_safely(query: str) -> None:
    for reason in ("no-match", "off-topic", "empty-query", "anything-else"):
        shown = check_reply(answer_reply(Answer(query, False, reason=reason)))
        assert utf16_len(shown) < 600


def test_section_reply_of_a_huge_section(hostile_retriever: Retriever) -> None:
    retriever = hostile_retriever
    biggest = max(retriever.library.sections(), key=lambda s: s.paragraphs)
    assert biggest.paragraphs >= 60
    paragraphs = retriever.library.section_paragraphs(biggest)
    ids = [retriever.library.paragraph_id(p) for p in paragraphs]
    reply = section_reply(biggest, paragraphs, ids)
    check_reply(reply, retriever)
    assert sum(len(row) for row in reply.buttons) == 40


def test_result_navigation_round_trips(hostile_retriever: Retriever) -> None:
    retriever = hostile_retriever
    answer = retriever.ask("Sentence tags quotes words", 4)
    assert answer.hits
    reply = answer_reply(Answer("q", True, answer.hits))
    seen = [reply.html]
    while True:
        forward = [b for row in reply.buttons for b in row if b.text == "Next ▶"]
        if not forward:
            break
        press = decode(forward[0].callback_data)
        assert isinstance(press, ShowResult)
        following = render_press(retriever.library, press)
        assert following is not None
        check_reply(following, retriever)
        seen.append(following.html)
        reply = following
    assert len(seen) == len(answer.hits) == len(set(seen))


def test_single_result_has_no_counter_or_navigation(hostile_retriever: Retriever) -> None:
    hit = all_hits(hostile_retriever)[0]
    reply = answer_reply(Answer("q", True, (hit,)))
    shown = check_reply(reply, hostile_retriever)
    assert "1/1" not in shown
    assert [b.text for row in reply.buttons for b in row] == ["¶ Full paragraph", "§ Section"]


def test_citation_line(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_text(corpus / "a.txt", "A Title\n\nOpening words here.\n\nA Heading\n\nBody text.\n")
    retriever, _ = open_retriever(corpus, tmp_path / "index", "fake:hashing")
    hits = all_hits(retriever)
    assert check_html(format_hit(hits[0])).endswith("A Title › opening · ¶1")
    assert check_html(format_hit(hits[1], 1, 2)).endswith("A Title › A Heading · ¶1 · 2/2")


def test_a_build_summary_is_one_wording_capped_for_telegram() -> None:
    """The CLI prints every skipped file; /reload lists at most so many of them and of the
    documents with something left out, then how many more, in a message that fits."""
    from bot.corpus import CorpusProblem
    from bot.index.report import BuildReport
    from bot.render.reply import text_reply
    from bot.render.terminal import build_summary
    from bot.telegram.reload import MAX_SKIPPED_SHOWN

    report = BuildReport(
        True,
        "the corpus changed",
        1,
        12,
        2.04,
        [CorpusProblem(f"<bad {n}>.txt", "not UTF-8 text") for n in range(5)],
        dropped={f"doc{n}.html": {"code": 1} for n in range(3)},
        reused=10,
        embedded=2,
    )
    full = build_summary(report).splitlines()
    assert full[0] == (
        "Indexed 1 document, 12 passages in 2.0 s (the corpus changed); "
        "vectors: 10 reused, 2 embedded, 0 removed."
    )
    assert len(full) == 1 + 5 + 3 + 1 and full[-1] == "Left out in all: 3 code blocks"
    capped = build_summary(report, most=2).splitlines()
    assert capped == [
        full[0],
        "Skipped <bad 0>.txt: not UTF-8 text",
        "Skipped <bad 1>.txt: not UTF-8 text",
        "… and 3 more skipped files",
        "Left out of doc0.html: 1 code block",
        "Left out of doc1.html: 1 code block",
        "… and 1 more documents with something left out",
        "Left out in all: 3 code blocks",
    ]
    assert "Skipped &lt;bad 0&gt;.txt" in text_reply("\n".join(capped)).html
    many = replace(report, problems=[CorpusProblem("x" * 400, "odd")] * MAX_SKIPPED_SHOWN)
    reply = text_reply(build_summary(many, most=MAX_SKIPPED_SHOWN))
    assert utf16_len(plain_text(reply.html)) <= MAX_MESSAGE and reply.html.endswith("…")
