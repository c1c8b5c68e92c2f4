"""Property-based tests (hypothesis): formatting and escaping, sentence splitting, citation
lookup and callback data hold for any input, not just the examples we thought of."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from bot.index.manifest import DocumentInfo, SectionInfo
from bot.index.passages import ParagraphRecord, Passage
from bot.index.sentences import split_sentences
from bot.render.callbacks import (
    MAX_CALLBACK_BYTES,
    CallbackDataError,
    Results,
    decode,
    encode_paragraph,
    encode_results,
    encode_section,
    encode_section_of,
)
from bot.render.reply import (
    Reply,
    answer_reply,
    escape,
    format_hit,
    hit_reply,
    paragraph_reply,
    section_reply,
    toc_reply,
)
from bot.search.answer import Answer, Hit
from bot.search.retriever import Retriever
from bot.telegram.handlers import help_text
from bot.text import fold_with_map
from tests.botapi.limits import check_reply_markup, check_text
from tests.botapi.telegram_html import parse_telegram_html, utf16_len
from tests.helpers.ops import essay_index

# Any Unicode text (hypothesis leaves out lone surrogates, which are not text).
any_text = st.text(max_size=300)
long_text = st.text(min_size=1, max_size=6_000)
passage_id = st.text(alphabet="0123456789abcdef", min_size=12, max_size=12)
PROPERTY = settings(max_examples=150, deadline=None)


def assert_sendable(reply: Reply) -> None:
    """What the fake Bot API (i.e. Telegram) accepts: valid HTML, 1-4096 UTF-16 units after
    parsing, and valid buttons (callback data 1-64 bytes)."""
    parsed = check_text(reply.html, "HTML")
    assert 0 < utf16_len(parsed.text) <= 4096
    rows = [
        [{"text": b.text, "callback_data": b.callback_data} for b in row] for row in reply.buttons
    ]
    check_reply_markup({"inline_keyboard": rows} if rows else None)


# -- formatting and escaping ------------------------------------------------------------------


@given(any_text)
@PROPERTY
def test_escape_round_trips_through_telegram_html(text: str) -> None:
    assert parse_telegram_html(escape(text)) == text


@st.composite
def hits(draw: st.DrawFn) -> Hit:
    """A hit on an arbitrary paragraph: any text, title, section name and highlight."""
    text = draw(long_text)
    sentences = split_sentences(text)
    assume(sentences)
    first = draw(st.integers(0, len(sentences) - 1))
    last = draw(st.integers(first, min(first + 2, len(sentences) - 1)))
    start, end = sentences[first][0], sentences[last][1]
    section = draw(any_text)
    number = draw(st.integers(1, 10**6))
    paragraph = ParagraphRecord(0, "doc", 0, section, number, text, 0, len(text), tuple(sentences))
    passage = Passage(
        draw(passage_id), 0, "doc", 0, section, number, first, last, start, end, text[start:end]
    )
    sections = (SectionInfo("doc", "Doc", 0, section, 1, 1),)
    document = DocumentInfo("doc", "doc.txt", draw(any_text), sections)
    highlight = None
    if draw(st.booleans()):
        begin = draw(st.integers(0, end - start))
        highlight = (begin, draw(st.integers(begin, end - start)))
    return Hit(passage, paragraph, document, draw(st.floats(0, 1)), highlight)


@given(hits(), st.integers(0, 3))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_any_hit_renders_as_a_sendable_message(hit: Hit, position: int) -> None:
    format_hit(hit)
    assert_sendable(Reply(format_hit(hit, position, 4)))
    assert_sendable(hit_reply(hit))
    assert_sendable(answer_reply(Answer("q", True, (hit,) * 4), position))
    assert_sendable(paragraph_reply(hit, "0" * 12, "f" * 12))


@given(any_text, st.sampled_from(["no-match", "off-topic", "empty-query"]))
@PROPERTY
def test_any_query_renders_a_sendable_refusal(query: str, reason: str) -> None:
    suggestion = SectionInfo("doc", "Doc", 0, query, 3, 3)
    assert_sendable(answer_reply(Answer(query, False, (), reason, (suggestion,))))


@given(st.lists(st.tuples(any_text, any_text, st.integers(0, 500)), min_size=1, max_size=60))
@PROPERTY
def test_any_table_of_contents_is_sendable(sections: list[tuple[str, str, int]]) -> None:
    refs = [
        SectionInfo(f"doc{n % 3}", document, n, title, count, count)
        for n, (document, title, count) in enumerate(sections)
    ]
    assert_sendable(toc_reply(refs))
    paragraphs = [
        ParagraphRecord(n, "doc", 0, title, n + 1, title or "x", 0, 1, ((0, len(title or "x")),))
        for n, (_, title, _) in enumerate(sections)
    ]
    assert_sendable(section_reply(refs[0], paragraphs, [f"{n:012x}" for n in range(len(refs))]))


@given(st.text(alphabet=st.characters(categories=["L", "N", "P", "S"]), max_size=64))
@PROPERTY
def test_help_is_sendable_for_any_bot_name(username: str) -> None:
    assert_sendable(Reply(help_text(username)))


# -- sentence splitting -----------------------------------------------------------------------


@given(st.text(max_size=2_000))
@settings(max_examples=300, deadline=None)
def test_sentences_are_ordered_disjoint_stripped_and_cover_the_text(text: str) -> None:
    check_sentences(text)


def check_sentences(text: str) -> None:
    spans = split_sentences(text)
    previous_end = 0
    for start, end in spans:
        assert previous_end <= start < end <= len(text)
        assert not text[start].isspace() and not text[end - 1].isspace()
        assert text[previous_end:start].strip() == ""  # only whitespace between sentences
        previous_end = end
    assert text[previous_end:].strip() == ""
    assert sum(not c.isspace() for c in text) == sum(
        not c.isspace() for s, e in spans for c in text[s:e]
    )


sentence_text = st.text(
    alphabet=st.sampled_from(list("abcdefghij ABC.!?…\"'()\n,;:-0123456789")), max_size=400
)


@given(sentence_text)
@settings(max_examples=300, deadline=None)
def test_sentences_on_punctuation_heavy_text(text: str) -> None:
    check_sentences(text)


# -- citation lookup --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def essay(tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    return essay_index(Path(tmp_path_factory.mktemp("properties")))


def _phrase(draw: st.DrawFn, retriever: Retriever, min_chars: int) -> tuple[int, str]:
    row = draw(st.integers(0, len(retriever.store.paragraphs) - 1))
    text = retriever.store.paragraphs[row].text
    length = draw(st.integers(min_chars, min(len(text), 400)))
    begin = draw(st.integers(0, len(text) - length))
    return row, text[begin : begin + length]


def _found_in(retriever: Retriever, phrase: str, row: int, k: int = 3) -> bool:
    """Found in paragraph ``row`` -- or the phrase is so common ("the") that all k places
    shown hold it too, word for word."""
    answer = retriever.cite(phrase, k)
    if not answer.found:
        return False
    if any(hit.passage.paragraph_row == row for hit in answer.hits):
        return True
    needle = fold_with_map(phrase)[0]
    return len(answer.hits) == k and all(
        needle in fold_with_map(hit.paragraph.text)[0] for hit in answer.hits
    )


def test_any_substring_of_a_paragraph_is_found_there(essay: Retriever) -> None:
    """From 15 characters, cut anywhere (mid-word too, as a sloppy copy does)."""

    @given(st.data())
    @settings(max_examples=300, deadline=None)
    def check(data: st.DataObject) -> None:
        row, phrase = data.draw(_phrases(essay, 15))
        assert _found_in(essay, phrase, row), phrase

    check()


def test_any_run_of_whole_words_is_found_there(essay: Retriever) -> None:
    @given(st.data())
    @settings(max_examples=300, deadline=None)
    def check(data: st.DataObject) -> None:
        row = data.draw(st.integers(0, len(essay.store.paragraphs) - 1))
        words = essay.store.paragraphs[row].text.split()
        first = data.draw(st.integers(0, len(words) - 1))
        last = data.draw(st.integers(first, min(first + 40, len(words) - 1)))
        phrase = " ".join(words[first : last + 1])
        assume(len(fold_with_map(phrase)[0]) >= 3)  # shorter is refused as empty
        assert _found_in(essay, phrase, row), phrase

    check()


def test_any_fragment_cut_mid_word_is_found_there(essay: Retriever) -> None:
    @given(st.data())
    @settings(max_examples=300, deadline=None)
    def check(data: st.DataObject) -> None:
        row, phrase = data.draw(_phrases(essay, 3))
        assume(len(fold_with_map(phrase)[0]) >= 3)
        assert _found_in(essay, phrase, row), phrase

    check()


def test_short_fragments_cut_mid_word_are_found(essay: Retriever) -> None:
    title = essay.store.paragraphs[0].text
    fragment = "ling Worke"
    assert fragment in title
    assert _found_in(essay, fragment, 0)


def test_one_changed_character_is_still_found_from_20_characters(essay: Retriever) -> None:
    @given(st.data())
    @settings(max_examples=200, deadline=None)
    def check(data: st.DataObject) -> None:
        row, phrase = data.draw(_phrases(essay, 20))
        assume(len(fold_with_map(phrase)[0]) >= 20)
        position = data.draw(st.integers(0, len(phrase) - 1))
        replacement = data.draw(st.sampled_from("xqzkéß0 -"))
        assume(phrase[position] != replacement)
        typo = phrase[:position] + replacement + phrase[position + 1 :]
        assert _found_in(essay, typo, row), (phrase, typo)

    check()


def _phrases(retriever: Retriever, min_chars: int) -> st.SearchStrategy[tuple[int, str]]:
    @st.composite
    def phrases(draw: st.DrawFn) -> tuple[int, str]:
        return _phrase(draw, retriever, min_chars)

    return phrases()


# -- callback data ----------------------------------------------------------------------------


@given(st.text(max_size=100) | st.binary(max_size=64).map(lambda b: b.decode("latin-1")))
@settings(max_examples=500, deadline=None)
def test_decode_raises_only_callback_data_error(data: str) -> None:
    for candidate in (data, "r0:" + data, "p:" + data, "s:" + data, "t:" + data):
        with contextlib.suppress(CallbackDataError):
            decode(candidate)


@given(
    st.lists(st.tuples(passage_id, st.none() | st.integers(-3, 9)), min_size=1, max_size=8),
    st.integers(-5, 10),
    passage_id,
    any_text,
    st.integers(0, 999_999),
)
@settings(max_examples=300, deadline=None)
def test_encoded_data_fits_and_round_trips(
    items: list[tuple[str, int | None]], position: int, pid: str, doc: str, section: int
) -> None:
    for data in (
        encode_results(Results(tuple(items)), position),
        encode_paragraph(pid),
        encode_section_of(pid),
        encode_section(doc, section),
    ):
        assert 0 < len(data.encode("utf-8")) <= MAX_CALLBACK_BYTES
        assert encode_again(decode(data)) == data


def encode_again(press: object) -> str:
    from bot.render.callbacks import ShowParagraph, ShowResult, ShowSection, ShowSectionOf

    if isinstance(press, ShowResult):
        return encode_results(press.results, press.position)
    if isinstance(press, ShowParagraph):
        return encode_paragraph(press.passage_id)
    if isinstance(press, ShowSectionOf):
        return encode_section_of(press.passage_id)
    assert isinstance(press, ShowSection)
    return f"t:{press.doc_key}:{press.section_no}"
