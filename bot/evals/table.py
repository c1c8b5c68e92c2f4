"""The tables `footnote eval` prints: rankings side by side, verdict shares, transfer."""

from __future__ import annotations

from bot.evals.evaluation import EvalReport
from bot.evals.squad_eval import MODE_NAMES, SquadReport


def _percent(value: float) -> str:
    return f"{value:6.1%}"


def squad_lines(report: SquadReport, verbose: bool = False) -> list[str]:
    questions = report.rankings[0].questions if report.rankings else 0
    lines = [
        f"SQuAD {report.version or '?'} file {report.path}: {report.split} questions "
        f"({questions} answerable), all articles in one corpus, same run",
        f"{'ranking':<12} {'answer@1':>8} {'para@1':>8} {'answer@3':>8} {'MRR':>6} "
        f"{'answer':>7} {'closest':>8} {'absent':>7}",
    ]
    for figures in report.rankings:
        lines.append(
            f"{MODE_NAMES.get(figures.mode, figures.mode):<12} "
            f"{_percent(figures.rate(figures.answer_at_1)):>8} "
            f"{_percent(figures.rate(figures.paragraph_at_1)):>8} "
            f"{_percent(figures.rate(figures.answer_at_3)):>8} "
            f"{figures.rate(figures.reciprocal_ranks):6.3f} "
            f"{_percent(figures.verdict_share('answer')):>7} "
            f"{_percent(figures.verdict_share('closest')):>8} "
            f"{_percent(figures.verdict_share('absent')):>7}"
        )
        if figures.unanswerable:
            lines.append(
                f"{'':<12} unanswerable flagged (closest or absent): "
                f"{figures.unanswerable_flagged}/{figures.unanswerable}"
            )
    if report.transfer:
        lines.append("transfer (Footnote, each article indexed alone with its own calibration):")
        for item in report.transfer:
            own = item.own_found / item.own if item.own else 0.0
            others = item.others_refused / item.others if item.others else 0.0
            lines.append(
                f"  {item.article:<28} own found {_percent(own)} ({item.own_found}/{item.own})"
                f"  others refused {_percent(others)} ({item.others_refused}/{item.others})"
            )
    if verbose:
        for figures in report.rankings[:1]:
            lines += [f"    miss: {miss}" for miss in figures.misses]
        for item in report.transfer:
            lines += [f"    transfer miss ({item.article}): {miss}" for miss in item.misses]
    return lines


def essay_line(report: EvalReport) -> str:
    """One ranking on the essay questions, as `footnote eval` prints it."""
    line = (
        f"{MODE_NAMES.get(report.mode, report.mode):<12} top-1 {_percent(report.top1_accuracy)} "
        f"({report.top1_correct}/{report.questions})  verdicts answer "
        f"{_percent(report.verdict_share('answer'))} closest "
        f"{_percent(report.verdict_share('closest'))} absent "
        f"{_percent(report.verdict_share('absent'))}  refused {_percent(report.refusal_rate)} "
        f"({report.refused}/{report.off_topic})"
    )
    if report.naming:
        line += f"  named {report.named}/{report.naming}"
    return line
