"""The tokenizer (English and Chinese) and BM25 (bot/lexical.py)."""

from __future__ import annotations

import pytest

from bot.corpus import read_document
from bot.index.lexical import STOPWORDS, index_terms, tokenize
from bot.index.passages import cut_document
from tests.helpers.essay import ESSAY
from tests.helpers.reference_bm25 import BM25

# ----------------------------------------------------------------------------- tokenize


def test_lowercases_and_drops_stopwords() -> None:
    tokens = tokenize("What does the essay say about the Agreed Framework of 1994?")
    assert tokens == ["agreed", "framework", "1994"]
    assert not STOPWORDS & set(tokens)


def test_keep_stopwords() -> None:
    assert tokenize("What is the myth?", keep_stopwords=True) == ["what", "is", "the", "myth"]


@pytest.mark.parametrize(
    ("word", "stem"),
    [
        ("sanctions", "sanction"),
        ("negotiations", "negotiation"),
        ("policies", "policy"),
        ("treaties", "treaty"),
        ("Korea's", "korea"),
        ("Korea’s", "korea"),
        ("Pyongyang’s", "pyongyang"),
        # Words that only look plural stay whole.
        ("class", "class"),
        ("analysis", "analysis"),
        ("virus", "virus"),
        ("gas", "gas"),
    ],
)
def test_plurals_and_possessives(word: str, stem: str) -> None:
    assert tokenize(word) == [stem]


def test_singular_and_plural_match() -> None:
    assert tokenize("a new sanction") == tokenize("new sanctions")


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("U.S.", ["us"]),
        ("the U.S. side", ["us", "side"]),
        ("U.S.-ROK military exercise", ["us", "rok", "military", "exercise"]),
        ("the U.N. and the US", ["un", "us"]),
    ],
)
def test_dotted_acronyms_are_one_word(text: str, tokens: list[str]) -> None:
    assert tokenize(text) == tokens


def test_contractions_stay_one_word() -> None:
    assert tokenize("Pyongyang won’t cave") == ["pyongyang", "won't", "cave"]


def test_unicode_is_normalised() -> None:
    # Full-width Latin letters (as typed on a Chinese keyboard) read as plain ones.
    assert tokenize("ＵＳＡ") == tokenize("USA") == ["usa"]


def test_chinese_runs_become_unigrams_and_bigrams() -> None:
    assert tokenize("双暂停") == ["双", "暂", "停", "双暂", "暂停"]
    assert tokenize("(东北亚论坛)") == [
        *"东北亚论坛",
        "东北",
        "北亚",
        "亚论",
        "论坛",
    ]


@pytest.mark.parametrize("query", ["双暂停", "东北亚论坛", "停和机制"])
def test_chinese_terms_match_inside_english_text(query: str) -> None:
    sentence = next(
        p.text
        for p in cut_document(read_document(ESSAY))[1]
        if query in p.text and p.first_sentence == p.last_sentence
    )
    assert set(tokenize(query)) <= set(tokenize(sentence))


def test_chinese_next_to_latin_or_digits_is_split() -> None:
    assert tokenize("Wang Yi的双暂停") == [
        "wang",
        "yi",
        "的",
        "双",
        "暂",
        "停",
        "的双",
        "双暂",
        "暂停",
    ]
    assert tokenize("2017年3月") == ["2017", "年", "3", "月"]


def test_korean_hangul_is_segmented_like_chinese() -> None:
    assert tokenize("한국") == ["한", "국", "한국"]


def test_punctuation_only_gives_nothing() -> None:
    assert tokenize("?! — …") == []
    assert index_terms("?!") == []


# -------------------------------------------------------------------------- index_terms


def test_index_terms_add_word_pairs() -> None:
    assert index_terms("first phase") == ["first", "phase", "first_phase"]
    # Stopwords are gone before pairing, so "the first of the phases" still pairs up.
    assert "first_phase" in index_terms("In the first of the phases")


def test_index_terms_do_not_pair_chinese() -> None:
    terms = index_terms("Wang Yi 双暂停 proposal")
    pairs = [t for t in terms if "_" in t]
    assert pairs == ["wang_yi"]
    assert set(tokenize("双暂停")) <= set(terms)
    assert index_terms("双暂停") == tokenize("双暂停")


# --------------------------------------------------------------------------------- BM25

DOCS = [
    "North Korea froze its missile tests.",
    "Sanctions failed to halt the nuclear program; sanctions rarely work.",
    "A peace treaty was signed in the final phase.",
    "The weather was mild and sunny.",
    "Sanctions were discussed.",
]


@pytest.fixture(scope="module")
def bm25() -> BM25:
    return BM25([index_terms(text) for text in DOCS])


def test_bm25_ranks_matching_documents(bm25: BM25) -> None:
    ranked = bm25.top(index_terms("peace treaty"), k=5)
    assert [row for row, _ in ranked] == [2]
    assert ranked[0][1] > 0


def test_bm25_term_frequency_and_order(bm25: BM25) -> None:
    ranked = bm25.top(index_terms("sanctions nuclear"), k=5)
    rows = [row for row, _ in ranked]
    assert rows == [1, 4]
    scores = [score for _, score in ranked]
    assert scores == sorted(scores, reverse=True)


def test_bm25_rare_terms_weigh_more(bm25: BM25) -> None:
    # "sanction" is in two documents, "weather" in one.
    assert bm25.idf["weather"] > bm25.idf["sanction"]


def test_bm25_top_respects_k_and_skips_zero_scores(bm25: BM25) -> None:
    assert len(bm25.top(index_terms("sanctions treaty missile weather"), k=2)) == 2
    assert bm25.top(index_terms("elephant"), k=5) == []
    assert bm25.top([], k=5) == []


def test_bm25_scores_have_one_entry_per_document(bm25: BM25) -> None:
    scores = bm25.scores(index_terms("missile"))
    assert scores.shape == (len(DOCS),)
    assert scores[0] > 0 and not scores[1:].any()


def test_bm25_empty_collection() -> None:
    empty = BM25([])
    assert empty.top(["anything"], k=3) == []
    assert empty.scores(["anything"]).shape == (0,)


def test_bm25_on_the_essay() -> None:
    passages = cut_document(read_document(ESSAY))[1]
    bm25 = BM25([index_terms(p.text) for p in passages])
    for query, phrase in [
        ("double suspension", "double suspension"),
        ("双暂停", "双暂停"),
        ("东北亚论坛", "东北亚论坛"),
        ("first phase", "first phase"),
        ("Agreed Framework 1994", "1994 Agreed Framework"),
    ]:
        top_row = bm25.top(index_terms(query), k=1)[0][0]
        assert phrase in passages[top_row].text, query
