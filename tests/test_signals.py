"""The fused ranking's signals (bot/search/features.py, bot/search/cues.py) on a small corpus
with the fake embedder: each says what it claims, and the weights stay a weighted mean."""

from __future__ import annotations

import numpy as np
import pytest

from bot.index.build import build_index
from bot.index.embedding import HashingEmbedder
from bot.index.lexical import index_terms
from bot.index.store import load_index
from bot.search.cues import (
    answer_type,
    holds_number,
    holds_term,
    holds_time,
    names_in,
    question_words,
)
from bot.search.features import SIGNALS, CandidateFeatures, FusionWeights
from bot.search.ranking import RetrievalConfig
from bot.search.retriever import Retriever

NOTE = """A note on bridges

The old bridge was emphasized in every survey of the town. It was built of oak and stone.

Engineers from Lyon repaired the bridge in 1871. Three arches were added. The work took
four years.

Free trade made the market town rich. Merchants crossed the river every week.
"""


@pytest.fixture(scope="module")
def retriever(tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    root = tmp_path_factory.mktemp("signals")
    (root / "corpus").mkdir()
    (root / "corpus" / "note.txt").write_text(NOTE, encoding="utf-8")
    embedder = HashingEmbedder()
    build_index(root / "corpus", root / "index", embedder)
    return Retriever(load_index(root / "index"), embedder)


def _features(retriever: Retriever, question: str) -> tuple[CandidateFeatures, list[str]]:
    vector = retriever.embed([question])[0]
    features = retriever._ranker.candidate_features(question, index_terms(question), vector)
    assert features is not None
    texts = [retriever.store.passages[int(row)].text for row in features.rows]
    return features, texts


@pytest.mark.parametrize(
    ("question", "wanted"),
    [
        ("How many arches were added?", "number"),
        ("What percentage of trade crossed the river?", "number"),
        ("When was the bridge repaired?", "time"),
        ("In what year was it built?", "time"),
        ("Who repaired the bridge?", "name"),
        ("Where did the engineers come from?", "name"),
        ("What is the term for a bridge of three arches?", "term"),
        ("What did the engineers refer to the arches as?", "term"),
        ("How many terms did the mayor serve?", "number"),  # counting wins
        ("Who called the engineers?", "name"),
        ("Why was the town rich?", ""),
    ],
)
def test_answer_type_of_a_question(question: str, wanted: str) -> None:
    assert answer_type(question) == wanted


def test_what_a_window_holds() -> None:
    assert holds_number("Three arches were added.") and holds_number("in 1871")
    assert not holds_number("The old bridge was emphasized.")
    assert holds_time("repaired in 1871") and holds_time("The work took four years.")
    assert not holds_time("It was built of oak and stone.")
    assert holds_term("Such a span is called a viaduct.") and holds_term("known as the Pont")
    assert not holds_term("Three arches were added.")
    # Names that do not open a sentence; the opening capital says nothing.
    assert names_in("Engineers from Lyon repaired it. Three arches.") == {"lyon"}
    assert question_words("Who came from Lyon?") == {"who", "came", "from", "lyon"}


def test_answer_type_marks_the_windows_that_hold_one(retriever: Retriever) -> None:
    features, texts = _features(retriever, "Who repaired the old bridge?")
    flagged = {text for text, flag in zip(texts, features.answer_type, strict=True) if flag}
    assert any("Lyon" in text for text in flagged)
    assert not any("Lyon" not in text for text in flagged)
    # A name the question already says is no answer to it.
    features, texts = _features(retriever, "Who came from Lyon?")
    assert not features.answer_type.any()
    features, _ = _features(retriever, "Why was the town rich?")
    assert not features.answer_type.any()


def test_pair_and_variant_coverage(retriever: Retriever) -> None:
    features, texts = _features(retriever, "Did free trade emphasize the market?")
    by_text = dict(zip(texts, range(len(texts)), strict=True))
    trade = by_text["Free trade made the market town rich."]
    survey = by_text["The old bridge was emphasized in every survey of the town."]
    # "free trade" is a pair the window holds; "trade market" is not a pair anywhere.
    assert features.pair_coverage[trade] > features.pair_coverage[survey] == 0.0
    # "emphasized" is a variant of "emphasize": held by the variant coverage only.
    assert features.variant_coverage[survey] > 0.0 == features.rare_term_coverage[survey]


def test_paragraph_dense_is_the_paragraphs_best_window(retriever: Retriever) -> None:
    features, _ = _features(retriever, "When did engineers repair the bridge?")
    paragraphs = [retriever.store.passages[int(r)].paragraph_row for r in features.rows]
    for paragraph in set(paragraphs):
        mine = np.array(paragraphs) == paragraph
        assert np.allclose(features.paragraph_dense[mine], features.window_dense[mine].max())


def test_weights_are_a_weighted_mean() -> None:
    weights = FusionWeights()
    assert set(SIGNALS) == {name for name in vars(weights)}
    assert all(getattr(weights, name) >= 0 for name in SIGNALS)
    ones = CandidateFeatures(np.arange(3), *[np.ones(3, dtype=np.float32)] * len(SIGNALS))
    assert np.allclose(ones.fused(weights), 1.0)


def test_baselines_use_one_signal_each(retriever: Retriever) -> None:
    question = "When did engineers repair the bridge?"
    vector = retriever.embed([question])[0]
    for mode, signal in (("lexical", "bm25"), ("dense", "window_dense")):
        baseline = retriever.with_config(RetrievalConfig(mode=mode))
        ranker = baseline._ranker
        features = ranker.candidate_features(question, index_terms(question), vector)
        assert features is not None
        expected = getattr(features, signal) - ranker.window_costs(features.rows)
        answer = baseline.ask(question, 1, vector)
        assert answer.hits[0].score == pytest.approx(float(expected.max()), abs=1e-6)


def test_paragraph_holds_by_ranges_equals_the_set_test(retriever: Retriever) -> None:
    """The range test over consecutive rows (what the answer path uses) says what np.isin
    over the holding rows' paragraphs says, for every word of the note."""
    index = retriever._ranker._features
    assert index._paragraph_bounds is not None  # rows are consecutive per paragraph
    paragraphs = index.paragraph_of
    bm25 = retriever.store.bm25
    checked = 0
    for word in bm25.words():
        holding = bm25.rows_with(word)
        expected = np.isin(paragraphs, paragraphs[holding])
        assert (index._paragraph_holds(paragraphs, holding) == expected).all(), word
        checked += 1
    assert checked > 20
