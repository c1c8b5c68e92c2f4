"""The lexical index written at build time (bot/index/postings.py): the same BM25 scores as the
in-memory reference, from memory-mapped arrays, across incremental builds too."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.evals import KOREAN_CRISIS_QUESTIONS
from bot.evals.evaluation import load_eval_set
from bot.index.build import build_index
from bot.index.embedding import HashingEmbedder
from bot.index.lexical import index_terms
from bot.index.postings import LexicalIndex
from bot.index.store import load_index
from tests.helpers.essay import EXTRA_ESSAY, copy_essay, write_text
from tests.helpers.reference_bm25 import BM25

EVAL = load_eval_set(KOREAN_CRISIS_QUESTIONS)
QUESTIONS = [q.question for q in EVAL.questions] + list(EVAL.off_topic)


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    corpus = copy_essay(tmp_path / "corpus")
    write_text(corpus / "patience.txt", EXTRA_ESSAY)
    build_index(corpus, tmp_path / "index", HashingEmbedder())
    return tmp_path / "index"


def assert_same_as_reference(lexical: LexicalIndex, texts: list[str]) -> None:
    reference = BM25([index_terms(text) for text in texts])
    assert lexical.max_idf == reference.max_idf
    for question in QUESTIONS:
        tokens = index_terms(question)
        scores = lexical.scores(tokens)
        assert scores.dtype == np.float32
        # Bit for bit: the same float32 operations in the same order.
        assert np.array_equal(scores, reference.scores(tokens)), question
        # The same best scores (rows of equal score may come in another order).
        top = lexical.top(tokens, 10)
        assert [s for _, s in top] == [s for _, s in reference.top(tokens, 10)]
        assert all(scores[row] == score for row, score in top)
        for term in set(tokens):
            assert lexical.idf.get(term, -1.0) == reference.idf.get(term, -1.0)


def test_the_written_index_scores_as_the_in_memory_bm25(index_dir: Path) -> None:
    assert len(QUESTIONS) >= 20
    store = load_index(index_dir)
    assert isinstance(store.bm25.postings, np.memmap)  # opened, not rebuilt
    assert_same_as_reference(store.bm25, [p.text for p in store.passages])


def test_an_incremental_build_writes_the_same_lexical_index(
    index_dir: Path, tmp_path: Path
) -> None:
    corpus = tmp_path / "corpus"
    essay = next(corpus.glob("4-ways*"))
    essay.write_text(essay.read_text(encoding="utf-8") + "\n\nA new closing line.\n", "utf-8")
    (corpus / "patience.txt").unlink()
    write_text(corpus / "later.txt", EXTRA_ESSAY.replace("Patience", "Waiting"))
    report = build_index(corpus, index_dir, HashingEmbedder())
    assert report.reused > 0
    store = load_index(index_dir)
    fresh = LexicalIndex.from_texts([p.text for p in store.passages])
    for name in ("vocabulary", "lexicon", "postings"):
        assert np.array_equal(getattr(store.bm25, name), getattr(fresh, name)), name
    assert_same_as_reference(store.bm25, [p.text for p in store.passages])


def test_an_empty_collection() -> None:
    empty = LexicalIndex.from_texts([])
    assert empty.top(["anything"], 5) == [] and empty.scores(["x"]).shape == (0,)
    assert empty.idf.get("x", 2.5) == 2.5 and empty.max_idf == 1.0
