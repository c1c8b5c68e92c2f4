"""The sentences' token embeddings stored at index time (bot/index/tokens.py) and the
late-interaction re-score over them (bot/search/late.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

import bot.index.vectors as vectors_module
from bot.config import DEFAULT_MODEL, with_variant
from bot.index.build import build_index
from bot.index.embedding import HashingEmbedder
from bot.index.lexical import index_terms
from bot.index.manifest import MANIFEST, read_manifest
from bot.index.store import IndexStore, load_index
from bot.index.tokens import StoredTokens, TokenMatrix, pack
from bot.search.features import FeatureIndex
from bot.search.late import LATE_TOP, general_idf, maxsim, rescore, verdict_score, weakest_word
from bot.search.ranking import RetrievalConfig
from bot.search.retriever import Retriever
from tests.helpers.essay import (
    ESSAY,
    EXTRA_ESSAY,
    add_note,
    copy_essay,
    edit_remove_insert,
    write_text,
)

FAKE = HashingEmbedder()


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return copy_essay(tmp_path / "corpus")


def tokens_by_text(store: IndexStore) -> dict[str, bytes]:
    """Each one-sentence window's stored token records, by its text."""
    assert store.tokens is not None
    _, first, last = store.passages.window_columns()
    return {
        store.passages[row].text: b"".join(a.tobytes() for a in store.tokens.of_row(row))
        for row in np.flatnonzero(first == last).tolist()
    }


def fresh(corpus: Path, tmp_path: Path) -> IndexStore:
    index = tmp_path / "fresh"
    shutil.rmtree(index, ignore_errors=True)
    build_index(corpus, index, FAKE)
    return load_index(index)


def obvious_counts(store: IndexStore) -> list[int]:
    """The idf's counts the slow, obvious way: the number of one-sentence windows, then for
    each word-piece id the number of them whose set of ids holds it."""
    assert store.tokens is not None
    _, first, last = store.passages.window_columns()
    singles = np.flatnonzero(first == last).tolist()
    expected = [len(singles)] + [0] * (1 << 16)
    for row in singles:
        for piece in set(store.tokens.of_row(row)[1].tolist()):
            expected[1 + piece] += 1
    return expected


def test_stored_tokens_after_adds_equal_a_build_from_scratch(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Segments appended, then compacted (limit 3), then a document removed.
    monkeypatch.setattr(vectors_module, "SEGMENT_LIMIT", 3)
    index = tmp_path / "index"
    write_text(corpus / "z-other.txt", EXTRA_ESSAY)
    build_index(corpus, index, FAKE)
    for number in range(1, 5):
        add_note(corpus, number)
        build_index(corpus, index, FAKE)
        store, scratch = load_index(index), fresh(corpus, tmp_path)
        assert tokens_by_text(store) == tokens_by_text(scratch)
        assert store.tokens is not None and scratch.tokens is not None
        count, frequency = store.tokens.document_frequency
        assert count > 0 and (count, frequency.tolist()) == (
            scratch.tokens.document_frequency[0],
            scratch.tokens.document_frequency[1].tolist(),
        )
    files = read_manifest(index).files
    # An add names the earlier token files again and writes only its own.
    assert {"tokens.1", "tokenstarts.1", "tokenids.1"} <= set(files)
    (corpus / ESSAY.name).unlink()
    build_index(corpus, index, FAKE)
    assert tokens_by_text(load_index(index)) == tokens_by_text(fresh(corpus, tmp_path))


def test_an_add_writes_only_the_new_sentences_tokens(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    build_index(corpus, index, FAKE)
    first = read_manifest(index).files["tokens"]
    add_note(corpus, 1)
    build_index(corpus, index, FAKE)
    files = read_manifest(index).files
    assert files["tokens"] == first
    new = np.load(index / files["tokens.1"])
    # Only the note's two sentences: "note 1 holds item 1 alone" and "item 1 is new".
    assert len(new) == 6 + 4


def test_maxsim_scores_each_window_by_its_best_tokens() -> None:
    dimension = 4
    unit = np.eye(dimension, dtype=np.float32)
    sentences = [
        TokenMatrix(np.array([1, 2], np.uint16), unit[[0, 1]], np.ones(2, bool)),
        TokenMatrix(np.array([3], np.uint16), unit[[2]], np.ones(1, bool)),
        TokenMatrix(np.array([2], np.uint16), unit[[1]], np.ones(1, bool)),
    ]
    stored = StoredTokens([pack(sentences, dimension)], np.arange(3), np.arange(3))
    # The question: token 1 (only in sentence 0: rare) and token 2 (in sentences 0 and 2),
    # and a punctuation piece that matches everything but weighs nothing.
    question = TokenMatrix(
        np.array([1, 2, 9], np.uint16),
        np.vstack([unit[0], unit[1], np.full(dimension, 0.5, np.float32)]),
        np.array([True, True, False]),
    )
    windows = np.array([[0, -1, -1], [1, -1, -1], [2, -1, -1], [1, 2, -1]], dtype=np.int64)
    scores = maxsim(stored, windows, question)
    idf_rare, idf_common = np.log(4 / 1.5), np.log(4 / 2.5)
    total = idf_rare + idf_common
    # int8 storage: cosines within a rounding step of exact.
    assert scores == pytest.approx([1.0, 0.0, idf_common / total, idf_common / total], abs=0.01)
    # Only punctuation: every piece weighs.
    only = TokenMatrix(np.array([9], np.uint16), unit[[2]], np.array([False]))
    assert maxsim(stored, windows[:2], only) == pytest.approx([0.0, 1.0], abs=0.01)


def test_general_idf_ranks_the_bundled_vocabulary_most_frequent_first() -> None:
    idf = general_idf(DEFAULT_MODEL)
    assert idf is not None
    # "the" (1996) < "time" (2051) < a rare word (29600) = a character suffix (29620), "[PAD]".
    assert idf[1996] < idf[2051] < idf[29600] <= idf[29620] == idf[0]
    assert idf[1996] > 0  # even the commonest piece keeps a weight
    int8 = general_idf(with_variant(DEFAULT_MODEL, True))
    assert int8 is not None and np.array_equal(int8, idf)
    # Another model's vocabulary is not known to be ranked: the corpus's idf alone.
    assert general_idf("fake:hashing") is None
    assert general_idf("/models/other") is None


def test_maxsim_multiplies_the_general_idf_into_the_corpus_idf() -> None:
    dimension = 4
    unit = np.eye(dimension, dtype=np.float32)
    # Two sentences holding token 1 and token 2 once each: the corpus's idf ties them.
    sentences = [
        TokenMatrix(np.array([1], np.uint16), unit[[0]], np.ones(1, bool)),
        TokenMatrix(np.array([2], np.uint16), unit[[1]], np.ones(1, bool)),
    ]
    stored = StoredTokens([pack(sentences, dimension)], np.arange(2), np.arange(2))
    question = TokenMatrix(np.array([1, 2], np.uint16), unit[[0, 1]], np.ones(2, bool))
    windows = np.array([[0, -1, -1], [1, -1, -1]], dtype=np.int64)
    assert maxsim(stored, windows, question) == pytest.approx([0.5, 0.5], abs=0.01)
    # Token 2 three times rarer in general text: the window holding it wins, by 3 to 1.
    general = np.ones(1 << 16, dtype=np.float32)
    general[2] = 3.0
    assert maxsim(stored, windows, question, general) == pytest.approx([0.25, 0.75], abs=0.01)


def test_the_rescore_reorders_the_top_and_keeps_the_fused_scores(
    corpus: Path, tmp_path: Path
) -> None:
    index = tmp_path / "index"
    build_index(corpus, index, FAKE)
    store = load_index(index)
    assert store.tokens is not None
    retriever = Retriever(store, FAKE)
    ranker = retriever._ranker
    question = "What did the essay say about the sanctions on North Korea?"
    vectors, tokens = retriever.encode([question])
    assert tokens is not None and len(tokens[0].ids) == 11
    terms = index_terms(question)
    late, weakest = ranker._rank(question, terms, vectors[0], tokens[0])
    # No question tokens: no re-score, and no weakest word for the verdict.
    plain, none = ranker._rank(question, terms, vectors[0])
    assert none is None and weakest is not None
    # The same ladder of scores (verdicts unchanged), the same windows in the top LATE_TOP.
    assert [s for _, s in late] == [s for _, s in plain]
    assert {r for r, _ in late[:LATE_TOP]} == {r for r, _ in plain[:LATE_TOP]}
    assert late[LATE_TOP:] == plain[LATE_TOP:]
    # The top re-ordered by the re-score computed here from its parts.
    features = ranker.candidate_features(question, terms, vectors[0])
    assert features is not None
    position = {int(r): i for i, r in enumerate(features.rows)}
    top = np.array([position[r] for r, _ in plain[:LATE_TOP]])
    sentence_rows = FeatureIndex(store).sentence_rows[features.rows[top]]
    own = maxsim(store.tokens, sentence_rows, tokens[0])
    assert own.max() > 0
    sizes = (sentence_rows >= 0).sum(axis=1)
    expected = np.round(rescore(features, ranker.window_costs(features.rows), own, top, sizes), 4)
    assert [position[r] for r, _ in late[:LATE_TOP]] == top[
        np.argsort(-expected, kind="stable")
    ].tolist()
    # The best fused score is the same either way; the verdict judges it with the weakest
    # word's match in the top windows when the question's tokens are there.
    answer = retriever.ask(question, 3, vectors[0], tokens[0])
    fused = retriever.ask(question, 3, vectors[0])
    assert answer.scores["best"] == fused.scores["best"] == fused.scores["verdict"]
    assert weakest == pytest.approx(weakest_word(store.tokens, sentence_rows, tokens[0]))
    assert answer.scores["verdict"] == pytest.approx(verdict_score(late[0][1], weakest), abs=1e-4)
    # A question with no word piece to match keeps the fused order.
    nothing = TokenMatrix(
        np.zeros(0, np.uint16), np.zeros((0, FAKE.dimension), np.float32), np.zeros(0, bool)
    )
    assert ranker._rank(question, terms, vectors[0], nothing) == (plain, None)


def test_an_index_without_token_files_still_answers(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    build_index(corpus, index, FAKE)
    manifest = read_manifest(index)
    # An index written before tokens were stored: no token files in its manifest.
    data = json.loads((index / MANIFEST).read_text(encoding="utf-8"))
    for key in [k for k in manifest.files if k.startswith("token")]:
        (index / manifest.files[key]).unlink()
        del data["files"][key]
    (index / MANIFEST).write_text(json.dumps(data), encoding="utf-8")
    store = load_index(index)
    assert store.tokens is None
    answer = Retriever(store, FAKE).ask("What did the essay say about the sanctions?")
    plain = Retriever(store, FAKE, RetrievalConfig(late=False)).ask(
        "What did the essay say about the sanctions?"
    )
    assert answer.hits and [h.score for h in answer.hits] == [h.score for h in plain.hits]
    # The next build, unasked, embeds afresh once (the previous generation has no tokens)
    # and stores them; the one after finds the index up to date.
    report = build_index(corpus, index, FAKE)
    assert report.rebuilt and "token embeddings" in report.reason
    assert report.embedded == len(store.passages) and load_index(index).tokens is not None
    assert not build_index(corpus, index, FAKE).rebuilt


def test_document_frequency_counts_each_sentence_once(corpus: Path, tmp_path: Path) -> None:
    store = fresh(corpus, tmp_path)
    assert store.tokens is not None and store.tokens.stored is not None
    expected = obvious_counts(store)
    # As the build stored them, as the first question reads them, and as counted there.
    assert store.tokens.stored.tolist() == expected
    count, frequency = store.tokens.document_frequency
    assert [count, *frequency.tolist()] == expected
    count, frequency = store.tokens.count_frequency()
    assert [count, *frequency.tolist()] == expected
    assert max(expected[1:]) > 1  # some word stands in several sentences


def test_stored_counts_follow_adds_edits_and_removals(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Segments appended and compacted (limit 3); a copy makes sentences stand twice.
    monkeypatch.setattr(vectors_module, "SEGMENT_LIMIT", 3)
    index = tmp_path / "index"
    write_text(corpus / "a-patience.txt", EXTRA_ESSAY)
    steps = [
        lambda: add_note(corpus, 1),
        lambda: write_text(corpus / "b-copy.txt", EXTRA_ESSAY),
        lambda: edit_remove_insert(corpus),
        lambda: (corpus / "b-copy.txt").unlink(),
        lambda: add_note(corpus, 2),
        lambda: (corpus / ESSAY.name).unlink(),
    ]

    def no_recount(self: StoredTokens) -> tuple[int, np.ndarray]:
        raise AssertionError("counted every sentence again")

    build_index(corpus, index, FAKE)
    for step in steps:
        step()
        # Every build updates the previous counts (or, the first, counts its new sentences).
        with monkeypatch.context() as patch:
            patch.setattr(StoredTokens, "count_frequency", no_recount)
            assert build_index(corpus, index, FAKE).rebuilt
            store = load_index(index)
            assert store.tokens is not None and store.tokens.stored is not None
            stored = store.tokens.stored.tolist()
            assert store.tokens.document_frequency[0] == stored[0]
        scratch = fresh(corpus, tmp_path)
        assert scratch.tokens is not None and scratch.tokens.stored is not None
        assert stored == scratch.tokens.stored.tolist() == obvious_counts(store)
        assert stored[0] > 0 and max(stored[1:]) > 1
        assert "tokenfreq" in read_manifest(index).files


def test_an_index_without_stored_counts_counts_them_at_the_first_question(
    corpus: Path, tmp_path: Path
) -> None:
    index = tmp_path / "index"
    build_index(corpus, index, FAKE)
    question = "What did the essay say about the sanctions?"
    before = Retriever(load_index(index), FAKE).ask(question)
    # An index written before the counts were stored: no "tokenfreq" in its manifest.
    data = json.loads((index / MANIFEST).read_text(encoding="utf-8"))
    (index / data["files"].pop("tokenfreq")).unlink()
    (index / MANIFEST).write_text(json.dumps(data), encoding="utf-8")
    store = load_index(index)
    assert store.tokens is not None and store.tokens.stored is None
    count, frequency = store.tokens.document_frequency
    assert [count, *frequency.astype(int).tolist()] == obvious_counts(store)
    after = Retriever(store, FAKE).ask(question)
    assert before.hits and [(h.passage.id, h.score) for h in after.hits] == [
        (h.passage.id, h.score) for h in before.hits
    ]
    # The next add counts afresh (nothing to update) and stores the counts.
    add_note(corpus, 1)
    assert build_index(corpus, index, FAKE).embedded > 0
    store = load_index(index)
    assert store.tokens is not None and store.tokens.stored is not None
    assert store.tokens.stored.tolist() == obvious_counts(store)
