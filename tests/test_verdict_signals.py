"""What a verdict judges beyond the best fused score: the weakest word's match in the top
windows, and questions addressed to the text ("the author", "the essay") with their lower
"absent" cut; and that an index of another format is not reused (so a format bump
recalibrates). Fakes; tests/test_quality.py measures with the real model."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from bot.index.build import build_index
from bot.index.embedding import HashingEmbedder
from bot.index.manifest import FORMAT_VERSION, MANIFEST, read_manifest
from bot.index.reuse import previous_generation
from bot.index.store import load_index
from bot.index.tokens import StoredTokens, TokenMatrix, pack
from bot.search.calibration import calibrate, fit_thresholds
from bot.search.cues import addresses_text
from bot.search.late import WEAKEST_WORD_WEIGHT, verdict_score, weakest_word
from bot.search.ranking import RetrievalConfig
from bot.search.retriever import Retriever
from bot.search.thresholds import Thresholds, thresholds_for
from tests.helpers.essay import copy_essay


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Retriever, Path]:
    root = tmp_path_factory.mktemp("addressed")
    embedder = HashingEmbedder()
    build_index(copy_essay(root / "corpus"), root / "index", embedder, calibrate=calibrate)
    return Retriever(load_index(root / "index"), embedder), root / "index"


def test_weakest_word_is_the_worst_matched_word_piece() -> None:
    dimension = 4
    unit = np.eye(dimension, dtype=np.float32)
    sentences = [
        TokenMatrix(np.array([1, 2], np.uint16), unit[[0, 1]], np.ones(2, bool)),
        TokenMatrix(np.array([3], np.uint16), unit[[2]], np.ones(1, bool)),
    ]
    stored = StoredTokens([pack(sentences, dimension)], np.arange(2), np.arange(2))
    halfway = np.array([0.6, 0.0, 0.0, 0.8], np.float32)  # cosine 0.6 with token 1
    question = TokenMatrix(
        np.array([1, 9, 7], np.uint16),
        np.vstack([unit[0], halfway, unit[3]]),
        np.array([True, True, False]),  # the last a punctuation piece: not judged
    )
    windows = np.array([[0, -1, -1], [1, -1, -1]], dtype=np.int64)
    # Every window's tokens count: token 1 matches exactly, the other word at best 0.6.
    assert weakest_word(stored, windows, question) == pytest.approx(0.6, abs=0.01)
    # Only the second sentence: nothing near token 1 there.
    assert weakest_word(stored, windows[1:], question) == pytest.approx(0.0, abs=0.01)
    # Nothing to judge: no word piece, or no window.
    punctuation = TokenMatrix(np.array([7], np.uint16), unit[[3]], np.array([False]))
    assert weakest_word(stored, windows, punctuation) is None
    assert weakest_word(stored, np.full((1, 3), -1, dtype=np.int64), question) is None


def test_verdict_score_averages_in_the_weakest_word() -> None:
    assert verdict_score(0.4, None) == 0.4
    expected = (0.4 + WEAKEST_WORD_WEIGHT * 0.1) / (1 + WEAKEST_WORD_WEIGHT)
    assert verdict_score(0.4, 0.1) == pytest.approx(expected)
    assert verdict_score(0.4, 0.1) < verdict_score(0.4, 0.3)


@pytest.mark.parametrize(
    ("question", "addressed"),
    [
        ("What does the author think about sanctions?", True),
        ("Why is the writer annoyed with commentators?", True),
        ("What is the author's view of deterrence?", True),
        ("Does the essay get into some kind of spiral model?", True),
        ("What's the title of this piece?", True),
        ("What's in the photo at the top of the article?", True),
        ("In what spirit does he argue for talks?", True),
        ("What do the essayists agree on?", True),
        ("Who is the author of Hamlet?", False),  # someone else's author
        ("Which article of the treaty was broken?", False),
        ("What did he say in 1994?", False),  # a person's words, not the text's
        ("Who won the 2018 World Cup?", False),
        ("Why do sanctions fail?", False),
    ],
)
def test_addresses_text(question: str, addressed: bool) -> None:
    assert addresses_text(question) is addressed


def test_absent_cut_is_lower_only_for_an_addressed_question() -> None:
    cuts = Thresholds(0.3, 0.5, 0.2)
    assert cuts.absent_cut(addressed=True) == 0.2
    assert cuts.absent_cut(addressed=False) == 0.3
    # Without its own cut (an older calibration, a test's fixed cuts) both use absent_below,
    # and an addressed cut above absent_below never makes an addressed question stricter.
    assert Thresholds(0.3, 0.5).absent_cut(addressed=True) == 0.3
    assert Thresholds(0.3, 0.5, 0.4).absent_cut(addressed=True) == 0.3


def test_fit_places_the_addressed_cut_at_the_off_topic_level() -> None:
    off_topic = [0.05 * i for i in range(11)]  # 90th percentile 0.45
    cuts = fit_thresholds(off_topic, [0.9] * 10)
    assert cuts.addressed_below == pytest.approx(0.45)
    assert cuts.addressed_below is not None and cuts.addressed_below < cuts.absent_below
    assert set(cuts.to_json()) == {"absent_below", "answer_from", "addressed_below"}


def test_the_manifest_stores_the_addressed_cut(built: tuple[Retriever, Path]) -> None:
    retriever, index = built
    stored = read_manifest(index).calibration
    for mode, cuts in stored.items():
        assert cuts["addressed_below"] <= cuts["absent_below"], mode
    assert thresholds_for(retriever.store.manifest, "hybrid") == Thresholds(**stored["hybrid"])
    assert retriever.thresholds.addressed_below == stored["hybrid"]["addressed_below"]


def test_an_addressed_question_between_the_cuts_is_closest(
    built: tuple[Retriever, Path],
) -> None:
    retriever, _ = built
    for question, verdict in [
        ("What does the author say about the double suspension?", "closest"),
        ("What is the double suspension about?", "absent"),
    ]:
        score = retriever.ask(question).scores["verdict"]
        cuts = Thresholds(score + 0.1, score + 0.2, score - 0.1)
        answer = retriever.with_config(RetrievalConfig(thresholds=cuts)).ask(question)
        assert answer.verdict == verdict, question
        assert answer.hits


def test_an_addressed_question_with_an_uncommon_unused_word_keeps_the_usual_cut(
    built: tuple[Retriever, Path],
) -> None:
    # "cryptocurrency" is too common in English to decide alone (bot/search/rare.py), but a
    # question about the text that asks about it asks about something the essay never treats.
    retriever, _ = built
    question = "What does the author say about cryptocurrency?"
    score = retriever.ask(question).scores["verdict"]
    between = RetrievalConfig(thresholds=Thresholds(score + 0.1, score + 0.2, score - 0.1))
    answer = retriever.with_config(between).ask(question)
    assert answer.verdict == "absent"
    assert answer.missing_terms == ("cryptocurrency",)


def test_an_addressed_question_naming_what_the_corpus_lacks_stays_absent(
    built: tuple[Retriever, Path],
) -> None:
    retriever, _ = built
    everything_addressed = RetrievalConfig(thresholds=Thresholds(0.99, 0.99, 0.0))
    answer = retriever.with_config(everything_addressed).ask(
        "What does the author say about Japan?"
    )
    assert answer.verdict == "absent"
    assert answer.missing_terms == ("Japan",)


def test_a_generation_of_another_format_is_not_reused(built: tuple[Retriever, Path]) -> None:
    _, index = built
    embedder = HashingEmbedder()
    assert previous_generation(index, embedder.name, embedder.dimension) is not None
    older = index.parent / "older"
    older.mkdir()
    for file in index.iterdir():
        (older / file.name).write_bytes(file.read_bytes())
    data = json.loads((older / MANIFEST).read_text(encoding="utf-8"))
    data["format_version"] = FORMAT_VERSION - 1
    (older / MANIFEST).write_text(json.dumps(data), encoding="utf-8")
    # Its vectors and its calibration are not carried into the new format's build.
    assert previous_generation(older, embedder.name, embedder.dimension) is None
