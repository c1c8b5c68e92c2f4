"""Retrieval quality on a written-down question set: top-1 accuracy and off-topic refusal."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from bot.errors import EvalSetError
from bot.search.answer import Answer
from bot.search.retriever import Retriever


@dataclass(frozen=True)
class EvalQuestion:
    question: str
    expect: tuple[str, ...]  # the top-1 quote must contain one of these


@dataclass(frozen=True)
class EvalSet:
    questions: tuple[EvalQuestion, ...]
    off_topic: tuple[str, ...]


@dataclass
class EvalReport:
    mode: str
    questions: int
    top1_correct: int
    off_topic: int
    refused: int
    answered_on_topic: int
    failures: list[str] = field(default_factory=list)
    on_topic_scores: list[float] = field(default_factory=list)
    off_topic_scores: list[float] = field(default_factory=list)

    @property
    def top1_accuracy(self) -> float:
        return self.top1_correct / self.questions if self.questions else 0.0

    @property
    def refusal_rate(self) -> float:
        return self.refused / self.off_topic if self.off_topic else 0.0

    def summary(self) -> dict[str, float | int | str]:
        return {
            "mode": self.mode,
            "questions": self.questions,
            "top1_accuracy": round(self.top1_accuracy, 4),
            "answered_on_topic": self.answered_on_topic,
            "off_topic": self.off_topic,
            "off_topic_refusal": round(self.refusal_rate, 4),
        }


def load_eval_set(path: Path) -> EvalSet:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        questions = tuple(
            EvalQuestion(item["q"], tuple(item["expect"])) for item in data["questions"]
        )
        return EvalSet(questions, tuple(data.get("off_topic", ())))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise EvalSetError(f"cannot read question file {path}: {exc}") from exc


def _correct(answer: Answer, expect: tuple[str, ...]) -> bool:
    return bool(answer.hits) and any(phrase in answer.hits[0].quote for phrase in expect)


def evaluate(retriever: Retriever, eval_set: EvalSet) -> EvalReport:
    report = EvalReport(
        retriever.config.mode, len(eval_set.questions), 0, len(eval_set.off_topic), 0, 0
    )
    for item in eval_set.questions:
        answer = retriever.ask(item.question, k=1)
        report.on_topic_scores.append(answer.hits[0].score if answer.hits else 0.0)
        report.answered_on_topic += answer.found
        if answer.found and _correct(answer, item.expect):
            report.top1_correct += 1
        else:
            top = answer.hits[0].quote[:80] if answer.hits else "(nothing)"
            report.failures.append(f"{item.question!r} -> found={answer.found}: {top!r}")
    for question in eval_set.off_topic:
        answer = retriever.ask(question, k=1)
        report.off_topic_scores.append(answer.hits[0].score if answer.hits else 0.0)
        if not answer.found:
            report.refused += 1
        else:
            report.failures.append(
                f"off-topic {question!r} answered: {answer.hits[0].quote[:80]!r}"
            )
    return report


def calibrate_threshold(on_topic: list[float], off_topic: list[float]) -> float:
    """The cut that misclassifies fewest questions, placed midway in the widest such gap."""
    candidates = sorted(set(on_topic) | set(off_topic))
    best: tuple[int, float, float] | None = None
    for low, high in zip(candidates, [*candidates[1:], candidates[-1] + 0.1], strict=True):
        cut = (low + high) / 2
        errors = sum(s < cut for s in on_topic) + sum(s >= cut for s in off_topic)
        key = (errors, -(high - low), cut)
        if best is None or key < best:
            best = key
    return best[2] if best else 0.5


def report_line(report: EvalReport, threshold: float, calibrated: float | None = None) -> str:
    """One retrieval mode's evaluation, as `footnote eval` prints it."""
    return (
        f"{report.mode:8} top-1 accuracy {report.top1_accuracy:6.1%} "
        f"({report.top1_correct}/{report.questions}), off-topic refusal "
        f"{report.refusal_rate:6.1%} ({report.refused}/{report.off_topic}), "
        f"threshold {threshold:.4f}"
        + (f", calibrated {calibrated}" if calibrated is not None else "")
    )
