"""Documents -> paragraphs and sentence windows (bot/passages.py)."""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import pytest

from bot.corpus import Document, read_document
from bot.index.passages import (
    MAX_WINDOW,
    ParagraphRecord,
    Passage,
    cut_corpus,
    cut_document,
    passage_id,
)
from tests.helpers.essay import (
    EMPTY_SECTION,
    ESSAY,
    ESSAY_ID,
    ESSAY_PASSAGES,
    ESSAY_SENTENCES,
    EXTRA_ESSAY,
    SECTION_TITLES,
    write_text,
)

ID_PATTERN = re.compile(r"[0-9a-f]{12}")
CAPTION_START = "A soldier salutes"


def window_count(sentences: int) -> int:
    """n + (n-1) + (n-2) windows for n >= 3 sentences; 1 for one sentence, 3 for two."""
    if sentences >= 3:
        return sentences + (sentences - 1) + (sentences - 2)
    return {1: 1, 2: 3}[sentences]


def windows(passages: list[Passage], paragraph_row: int) -> list[tuple[int, int]]:
    return [
        (p.first_sentence, p.last_sentence) for p in passages if p.paragraph_row == paragraph_row
    ]


def sentences_text(count: int) -> str:
    names = ["Alpha", "Bravo", "Charlie", "Delta", "Echo", "Foxtrot", "Golf", "Hotel"]
    return " ".join(f"{name} is sentence number {i + 1}." for i, name in enumerate(names[:count]))


@pytest.fixture(scope="module")
def essay() -> Document:
    return read_document(ESSAY)


@pytest.fixture(scope="module")
def essay_cut(essay: Document) -> tuple[list[ParagraphRecord], list[Passage]]:
    return cut_document(essay)


# ------------------------------------------------------------------------------- windows


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 8])
def test_windows_of_one_to_three_sentences(tmp_path: Path, count: int) -> None:
    document = read_document(
        write_text(tmp_path / "note.txt", f"Note\n\n{sentences_text(count)}\n")
    )
    paragraphs, passages = cut_document(document)
    assert len(paragraphs) == 1
    assert len(paragraphs[0].sentences) == count
    expected = [
        (first, last)
        for first in range(count)
        for last in range(first, min(first + MAX_WINDOW, count))
    ]
    assert windows(passages, 0) == expected
    assert len(passages) == window_count(count)
    for passage in passages:
        assert 1 <= passage.last_sentence - passage.first_sentence + 1 <= MAX_WINDOW


def test_essay_window_counts(essay_cut: tuple[list[ParagraphRecord], list[Passage]]) -> None:
    paragraphs, passages = essay_cut
    assert tuple(len(p.sentences) for p in paragraphs) == ESSAY_SENTENCES
    for paragraph in paragraphs:
        assert len(windows(passages, paragraph.row)) == window_count(len(paragraph.sentences))
    assert len(passages) == ESSAY_PASSAGES


def test_passage_text_is_verbatim(
    essay: Document, essay_cut: tuple[list[ParagraphRecord], list[Passage]]
) -> None:
    paragraphs, passages = essay_cut
    for passage in passages:
        paragraph = paragraphs[passage.paragraph_row]
        begin = paragraph.sentences[passage.first_sentence][0]
        end = paragraph.sentences[passage.last_sentence][1]
        assert passage.text == paragraph.text[begin:end]
        # The plain-text essay has one-line paragraphs: the offsets give the same text.
        assert essay.text[passage.start : passage.end] == passage.text
        assert paragraph.start <= passage.start < passage.end <= paragraph.end
    for paragraph in paragraphs:
        assert essay.text[paragraph.start : paragraph.end] == paragraph.text
        # Sentences tile the paragraph: in order, no overlap, first and last at the edges.
        spans = paragraph.sentences
        assert spans[0][0] == 0 and spans[-1][1] == len(paragraph.text)
        assert all(a[1] <= b[0] for a, b in itertools.pairwise(spans))


def test_offsets_of_wrapped_paragraphs_point_at_the_source(tmp_path: Path) -> None:
    document = read_document(write_text(tmp_path / "patience.txt", EXTRA_ESSAY))
    _, passages = cut_document(document)
    wrapped = [p for p in passages if "\n" in document.text[p.start : p.end]]
    assert wrapped, "the sample should have a passage spanning a line break"
    for passage in passages:
        source = document.text[passage.start : passage.end]
        assert " ".join(source.split()) == passage.text
        assert source == source.strip()


def test_single_sentence_windows_cover_every_sentence(
    essay_cut: tuple[list[ParagraphRecord], list[Passage]],
) -> None:
    paragraphs, passages = essay_cut
    singles = {
        (p.paragraph_row, p.first_sentence) for p in passages if p.first_sentence == p.last_sentence
    }
    assert singles == {(p.row, i) for p in paragraphs for i in range(len(p.sentences))}


def test_caption_and_double_suspension_sentence(
    essay_cut: tuple[list[ParagraphRecord], list[Passage]],
) -> None:
    _, passages = essay_cut
    texts = [p.text for p in passages]
    assert any(t.startswith(CAPTION_START) for t in texts)
    wang_yi = [t for t in texts if t.startswith("Foreign Minister Wang Yi outlined")]
    # The sentence alone, with the next one, and with the next two.
    assert len(wang_yi) == 3
    assert min(wang_yi, key=len).endswith("U.S.-ROK military exercise.")


# ---------------------------------------------------------------------------- numbering


def test_sections_and_paragraph_numbers(
    essay: Document, essay_cut: tuple[list[ParagraphRecord], list[Passage]]
) -> None:
    paragraphs, passages = essay_cut
    assert tuple(section.title for section in essay.sections) == SECTION_TITLES
    assert [(p.section_no, p.section_title, p.number) for p in paragraphs] == [
        (0, "", 1),
        (0, "", 2),
        (0, "", 3),
        (1, SECTION_TITLES[1], 1),
    ]
    assert [p.row for p in paragraphs] == list(range(len(paragraphs)))
    for passage in passages:
        paragraph = paragraphs[passage.paragraph_row]
        assert passage.doc_id == paragraph.doc_id == ESSAY_ID
        assert (passage.section_no, passage.section_title, passage.paragraph_no) == (
            paragraph.section_no,
            paragraph.section_title,
            paragraph.number,
        )
    # The empty section has a heading but nothing to quote.
    assert not any(p.section_title == EMPTY_SECTION for p in passages)


def test_numbering_restarts_in_each_section(tmp_path: Path) -> None:
    text = (
        "Essay\n\nOpening words come first.\n\n"
        "One\n\nFirst of one.\n\nSecond of one.\n\n"
        "Two\n\nFirst of two.\n"
    )
    paragraphs, _ = cut_document(read_document(write_text(tmp_path / "n.txt", text)))
    assert [(p.section_title, p.number) for p in paragraphs] == [
        ("", 1),
        ("One", 1),
        ("One", 2),
        ("Two", 1),
    ]


def test_cut_corpus_continues_rows_across_documents(tmp_path: Path, essay: Document) -> None:
    other = read_document(write_text(tmp_path / "patience.txt", EXTRA_ESSAY))
    paragraphs, passages = cut_corpus([essay, other])
    assert [p.row for p in paragraphs] == list(range(len(paragraphs)))
    assert [p.doc_id for p in paragraphs] == [ESSAY_ID] * 4 + ["patience"] * 2
    for passage in passages:
        assert paragraphs[passage.paragraph_row].doc_id == passage.doc_id
        assert passage.text in paragraphs[passage.paragraph_row].text


# ---------------------------------------------------------------------------------- ids


def test_ids_are_short_lowercase_hex_and_unique(
    essay_cut: tuple[list[ParagraphRecord], list[Passage]],
) -> None:
    _, passages = essay_cut
    for passage in passages:
        assert ID_PATTERN.fullmatch(passage.id), passage.id
    assert len({p.id for p in passages}) == len(passages)


def test_ids_are_stable_across_cuts(essay: Document) -> None:
    first = [p.id for p in cut_document(essay)[1]]
    second = [p.id for p in cut_document(read_document(ESSAY))[1]]
    assert first == second


def test_ids_do_not_depend_on_other_documents(tmp_path: Path, essay: Document) -> None:
    other = read_document(write_text(tmp_path / "patience.txt", EXTRA_ESSAY))
    alone = [p.id for p in cut_corpus([essay])[1]]
    after = [p.id for p in cut_corpus([other, essay])[1] if p.doc_id == ESSAY_ID]
    assert after == alone


def test_ids_survive_edits_to_other_paragraphs(tmp_path: Path, essay: Document) -> None:
    original = ESSAY.read_text(encoding="utf-8")
    caption = next(p for p in essay.sections[0].paragraphs if p.text.startswith(CAPTION_START))
    edited = original.replace(caption.text, caption.text + " (photo: Reuters)")
    # A new paragraph before the others shifts every paragraph number and row.
    edited = edited.replace(caption.text, "A short new opening paragraph.\n\n" + caption.text)
    changed = read_document(write_text(tmp_path / ESSAY.name, edited))

    def by_text(document: Document) -> dict[tuple[str, int, int], str]:
        paragraphs, passages = cut_document(document)
        return {
            (paragraphs[p.paragraph_row].text, p.first_sentence, p.last_sentence): p.id
            for p in passages
        }

    before, after = by_text(essay), by_text(changed)
    untouched = {key for key in before if not key[0].startswith(CAPTION_START)}
    assert untouched and all(after[key] == before[key] for key in untouched)
    # The edited caption is a new paragraph text: its window gets a new id.
    caption_ids = {v for k, v in before.items() if k[0].startswith(CAPTION_START)}
    assert caption_ids.isdisjoint(after.values())


def test_repeated_paragraph_text_gets_distinct_ids(tmp_path: Path) -> None:
    text = (
        "Refrain\n\nSay it again. And again.\n\nSomething else here.\n\nSay it again. And again.\n"
    )
    paragraphs, passages = cut_document(read_document(write_text(tmp_path / "r.txt", text)))
    assert paragraphs[0].text == paragraphs[2].text
    first = {(p.first_sentence, p.last_sentence): p.id for p in passages if p.paragraph_row == 0}
    third = {(p.first_sentence, p.last_sentence): p.id for p in passages if p.paragraph_row == 2}
    assert first.keys() == third.keys()
    assert set(first.values()).isdisjoint(third.values())
    assert len({p.id for p in passages}) == len(passages)


def test_passage_id_inputs() -> None:
    base = passage_id("doc", "Some text.", 0, 0, 0)
    assert ID_PATTERN.fullmatch(base)
    assert passage_id("doc", "Some text.", 0, 0, 0) == base
    assert passage_id("other", "Some text.", 0, 0, 0) != base
    assert passage_id("doc", "Some text!", 0, 0, 0) != base
    assert passage_id("doc", "Some text.", 1, 0, 0) != base
    assert passage_id("doc", "Some text.", 0, 0, 1) != base
