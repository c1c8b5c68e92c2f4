"""Answering and citing over the essay, with the fake embedder (bot/retrieval.py).

These are plumbing tests: the fake embedder is a bag of hashed words, so they check the
shape of answers, not their quality (tests/test_quality.py does that with the real model).
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from bot.index.build import build_index
from bot.index.embedding import HashingEmbedder
from bot.index.store import load_index
from bot.search.answer import Answer
from bot.search.ranking import RetrievalConfig
from bot.search.retriever import Retriever
from bot.text import fold_with_map
from tests.helpers.essay import EMPTY_SECTION, ESSAY_ID, SECTION_TITLES, copy_essay

COLLAPSE_SENTENCE = (
    "But the core problem is actually that nobody knows how to “collapse” a regime "
    "possessing nuclear weapons."
)


@pytest.fixture(scope="module")
def retriever(tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    root = tmp_path_factory.mktemp("retrieval")
    corpus = copy_essay(root / "corpus")
    embedder = HashingEmbedder()
    build_index(corpus, root / "index", embedder)
    return Retriever(load_index(root / "index"), embedder)


def folded(text: str) -> str:
    return fold_with_map(text)[0]


def assert_distinct(answer: Answer) -> None:
    ids = [h.passage.id for h in answer.hits]
    assert len(ids) == len(set(ids))
    for a, b in itertools.combinations(answer.hits, 2):
        if a.passage.paragraph_row == b.passage.paragraph_row:
            assert (
                a.passage.last_sentence < b.passage.first_sentence
                or b.passage.last_sentence < a.passage.first_sentence
            ), (a.passage.id, b.passage.id)


# ---------------------------------------------------------------------------------- ask


@pytest.mark.parametrize(
    "question",
    [
        "What is the double suspension?",
        "Why do sanctions fail?",
        "the phases of the peace process",
        "North Korea nuclear weapons",
        "collapse regime",
    ],
)
def test_ask_returns_distinct_windows(retriever: Retriever, question: str) -> None:
    answer = retriever.ask(question, k=6)
    assert answer.query == question
    assert 1 <= len(answer.hits) <= 6
    assert_distinct(answer)
    scores = [h.score for h in answer.hits]
    assert scores == sorted(scores, reverse=True)
    assert answer.scores["best"] == pytest.approx(scores[0], abs=1e-4)
    for hit in answer.hits:
        assert hit.quote in hit.context
        assert hit.document.doc_id == ESSAY_ID
        if hit.highlight is not None:  # the best sentence of a longer window
            begin, end = hit.highlight
            assert 0 <= begin < end <= len(hit.quote)
            paragraph = hit.paragraph
            offset = paragraph.sentences[hit.passage.first_sentence][0]
            assert (begin + offset, end + offset) in paragraph.sentences


def test_ask_finds_a_sentence_by_its_words(retriever: Retriever) -> None:
    answer = retriever.ask("double suspension Wang Yi")
    assert answer.found and answer.reason == ""
    assert "double suspension" in answer.hits[0].quote


def test_ask_respects_k(retriever: Retriever) -> None:
    assert len(retriever.ask("sanctions", k=1).hits) == 1
    assert len(retriever.ask("sanctions", k=3).hits) == 3


@pytest.mark.parametrize("query", ["", "   ", "\n\t", "?!", "— …"])
def test_empty_query(retriever: Retriever, query: str) -> None:
    answer = retriever.ask(query)
    assert not answer.found
    assert answer.reason == "empty-query"
    assert answer.hits == ()
    assert answer.suggestions and not any(s.empty for s in answer.suggestions)


@pytest.mark.parametrize(
    "question",
    [
        "What is the cooperation spiral solution?",
        "what does the essay say about the COOPERATION SPIRAL?",
    ],
)
def test_question_about_the_empty_section(retriever: Retriever, question: str) -> None:
    answer = retriever.ask(question)
    assert not answer.found
    assert answer.reason == "empty-section"
    assert answer.empty_section is not None
    assert answer.empty_section.title == EMPTY_SECTION
    assert answer.empty_section.empty and answer.empty_section.paragraphs == 0


def test_one_shared_word_does_not_name_the_empty_section(retriever: Retriever) -> None:
    answer = retriever.ask("What solution does China propose?")
    assert answer.reason != "empty-section" and answer.empty_section is None


def test_lexical_mode_does_not_embed(retriever: Retriever) -> None:
    class NoEmbedder(HashingEmbedder):
        def encode(self, texts: list[str], batch_size: int = 64) -> Any:
            raise AssertionError("lexical mode must not embed the query")

    lexical = Retriever(retriever.store, NoEmbedder(), RetrievalConfig(mode="lexical"))
    answer = lexical.ask("double suspension")
    assert answer.hits and "double suspension" in answer.hits[0].quote


def test_query_vector_can_be_passed_in(retriever: Retriever) -> None:
    question = "Why do sanctions fail?"
    # The vector and the token embeddings of one forward pass (the late-interaction
    # re-score needs both: bot/search/late.py).
    vectors, tokens = retriever.encode([question])
    assert tokens is not None
    passed = retriever.ask(question, query_vector=vectors[0], query_tokens=tokens[0])
    assert passed == retriever.ask(question)


# --------------------------------------------------------------------------------- cite


@pytest.mark.parametrize(
    "phrase",
    [
        "nobody knows how to “collapse” a regime",  # as in the essay
        'nobody knows how to "collapse" a regime',
        "nobody knows how to 'collapse' a regime",
        "nobody knows how to «collapse» a regime",
        "nobody knows how to collapse a regime",
        "NOBODY KNOWS HOW TO COLLAPSE A REGIME",
        "Nobody knows, how to collapse a regime!",
        "nobody knows how to colapse a regime",  # a letter missing
        "nobody knows how to collapze a regime",  # a letter wrong
        "nobdoy knows how to collapse a regime",  # letters swapped
    ],
)
def test_cite_tolerates_quotes_case_punctuation_and_typos(
    retriever: Retriever, phrase: str
) -> None:
    answer = retriever.cite(phrase)
    assert answer.found, phrase
    hit = answer.hits[0]
    assert COLLAPSE_SENTENCE in hit.quote
    assert hit.highlight is not None
    begin, end = hit.highlight
    marked = hit.quote[begin:end]
    assert "nobody knows how to" in marked and "a regime" in marked
    assert marked == marked.strip()
    assert 0 < hit.score <= 1.0


def test_cite_exact_phrase_scores_one(retriever: Retriever) -> None:
    answer = retriever.cite("In short, the sanctions logic of ever intensifying pressure")
    assert answer.found and answer.hits[0].score == 1.0
    hit = answer.hits[0]
    assert hit.quote.startswith("In short, the sanctions logic")
    assert hit.highlight is not None
    assert hit.quote[hit.highlight[0] : hit.highlight[1]] == (
        "In short, the sanctions logic of ever intensifying pressure"
    )


@pytest.mark.parametrize(
    ("phrase", "expected"),
    [
        ("In short the sanctions logic", "In short, the sanctions logic"),
        ("cessation of hostilities peace treaty mechanism", "cessation of hostilities—peace"),
        ("U.S.-ROK military exercise", "U.S.-ROK military exercise"),
        ("Washington cannot neglect deterence", "Washington cannot neglect deterrence"),
    ],
)
def test_cite_highlights_the_phrase(retriever: Retriever, phrase: str, expected: str) -> None:
    answer = retriever.cite(phrase)
    assert answer.found
    hit = answer.hits[0]
    assert hit.highlight is not None
    assert expected in hit.quote[hit.highlight[0] : hit.highlight[1]]


def test_cite_a_phrase_across_sentences(retriever: Retriever) -> None:
    phrase = "Perhaps Pyongyang suddenly caves and becomes malleable. Alternatively, perhaps"
    hit = retriever.cite(phrase).hits[0]
    assert hit.passage.last_sentence == hit.passage.first_sentence + 1
    assert hit.highlight is not None
    assert folded(hit.quote[hit.highlight[0] : hit.highlight[1]]) == folded(phrase)


@pytest.mark.parametrize(
    "phrase",
    [
        "purple elephants dance on the moon tonight",
        "the quarterly earnings report of the bakery",
    ],
)
def test_cite_nonsense_is_not_found(retriever: Retriever, phrase: str) -> None:
    answer = retriever.cite(phrase)
    assert not answer.found
    assert answer.reason == "no-match"
    assert answer.hits == ()


def test_cite_too_short(retriever: Retriever) -> None:
    assert retriever.cite("“a”").reason == "empty-query"


def test_cite_or_ask(retriever: Retriever) -> None:
    quoted = retriever.cite_or_ask("nobody knows how to collapse a regime")
    assert quoted.found and quoted.hits[0].highlight is not None
    assert quoted.hits[0].score == 1.0
    asked = retriever.cite_or_ask("Why would sanctions not work against North Korea?")
    assert asked == retriever.ask("Why would sanctions not work against North Korea?")


# ------------------------------------------------------------------- lookups and sections


def test_by_id_round_trip(retriever: Retriever) -> None:
    for passage in retriever.store.passages:
        hit = retriever.library.passage(passage.id)
        assert hit is not None
        assert hit.passage == passage
        assert hit.paragraph.row == passage.paragraph_row
        assert hit.quote in hit.context
    assert retriever.library.passage("000000000000") is None
    assert retriever.library.passage("") is None


def test_ids_from_answers_resolve(retriever: Retriever) -> None:
    for hit in retriever.ask("sanctions", k=3).hits:
        again = retriever.library.passage(hit.passage.id)
        assert again is not None and again.quote == hit.quote


def test_sections(retriever: Retriever) -> None:
    sections = retriever.library.sections()
    assert [s.title for s in sections] == list(SECTION_TITLES)
    assert [s.section_no for s in sections] == [0, 1, 2]
    assert [s.paragraphs for s in sections] == [3, 1, 0]
    assert [s.empty for s in sections] == [False, False, True]
    assert {s.doc_id for s in sections} == {ESSAY_ID}
    assert {s.document_title for s in sections} == {"4 Ways out of the Korean Crisis"}


def test_hit_section(retriever: Retriever) -> None:
    hit = retriever.cite("Foreign Minister Wang Yi").hits[0]
    section = hit.section
    assert (section.title, section.section_no, section.paragraphs) == (SECTION_TITLES[1], 1, 1)
    assert not section.empty


def test_section_paragraphs(retriever: Retriever) -> None:
    library = retriever.library
    assert [p.number for p in library.section_paragraphs(library.sections()[0])] == [1, 2, 3]
    assert library.section_paragraphs(library.sections()[2]) == []


def test_fold_with_map() -> None:
    text = "How to “Collapse” a U.S.-ROK deal—now!"
    normal, positions = fold_with_map(text)
    assert normal == "how to collapse a u s rok deal now"
    assert len(positions) == len(normal)
    for char, position in zip(normal, positions, strict=True):
        if char != " ":
            assert text[position].casefold() == char


def test_answer_is_frozen(retriever: Retriever) -> None:
    answer = retriever.ask("sanctions")
    with pytest.raises(AttributeError):
        answer.found = False  # type: ignore[misc]


def test_retriever_needs_no_faiss_file(tmp_path: Path) -> None:
    corpus = copy_essay(tmp_path / "corpus")
    build_index(corpus, tmp_path / "index", HashingEmbedder())
    store = load_index(tmp_path / "index")
    assert "faiss" not in store.manifest.files
    answer = Retriever(store, HashingEmbedder()).ask("double suspension")
    assert answer.hits
