"""Retrieval quality on written-down essay questions: top-1 accuracy, verdicts, refusals.

A question file holds on-topic questions (each with the phrases one of which the top quote
must contain), off-topic questions (to be refused) and questions about names the essays never
mention (to be refused naming the name). Every question belongs to the "tune" half (weights
and thresholds may be chosen on it) or the "held-out" half (only measured); a file may give a
default for all of its questions with a top-level "split".
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from bot.errors import EvalSetError
from bot.search.answer import Answer, Verdict
from bot.search.retriever import Retriever

Split = Literal["tune", "held-out", "all"]
SPLITS: tuple[Split, ...] = ("held-out", "tune", "all")


@dataclass(frozen=True)
class EvalQuestion:
    question: str
    expect: tuple[str, ...]  # the top-1 quote must contain one of these
    split: str = ""  # "tune", "held-out", or "" for a file that does not say


@dataclass(frozen=True)
class OffTopicQuestion:
    question: str
    # For a question about a name the essays never mention: the answer must name one of these.
    names: tuple[str, ...] = ()
    split: str = ""


@dataclass(frozen=True)
class EvalSet:
    questions: tuple[EvalQuestion, ...]
    refusals: tuple[OffTopicQuestion, ...]

    @property
    def off_topic(self) -> tuple[str, ...]:
        """The questions to be refused, as text (what the benchmarks ask)."""
        return tuple(item.question for item in self.refusals)

    def part(self, split: Split) -> EvalSet:
        """The questions of one half; a question whose file gave no split counts in each."""

        def keep(item_split: str) -> bool:
            return split == "all" or item_split in ("", split)

        return EvalSet(
            tuple(q for q in self.questions if keep(q.split)),
            tuple(q for q in self.refusals if keep(q.split)),
        )

    @staticmethod
    def merge(sets: Iterable[EvalSet]) -> EvalSet:
        sets = list(sets)
        return EvalSet(
            tuple(q for s in sets for q in s.questions),
            tuple(q for s in sets for q in s.refusals),
        )


@dataclass
class EvalReport:
    mode: str
    questions: int
    top1_correct: int
    off_topic: int
    refused: int
    answered_on_topic: int
    # Of the off-topic questions that name something the essays lack: how many, and how many
    # were refused with that name said.
    naming: int = 0
    named: int = 0
    verdicts: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    on_topic_scores: list[float] = field(default_factory=list)
    off_topic_scores: list[float] = field(default_factory=list)

    @property
    def top1_accuracy(self) -> float:
        return self.top1_correct / self.questions if self.questions else 0.0

    @property
    def refusal_rate(self) -> float:
        return self.refused / self.off_topic if self.off_topic else 0.0

    def verdict_share(self, verdict: Verdict) -> float:
        """Share of the on-topic questions that got `verdict`."""
        return self.verdicts[verdict] / self.questions if self.questions else 0.0

    def summary(self) -> dict[str, float | int | str]:
        return {
            "mode": self.mode,
            "questions": self.questions,
            "top1_accuracy": round(self.top1_accuracy, 4),
            "answered_on_topic": self.answered_on_topic,
            "verdict_answer": round(self.verdict_share("answer"), 4),
            "verdict_closest": round(self.verdict_share("closest"), 4),
            "verdict_absent": round(self.verdict_share("absent"), 4),
            "off_topic": self.off_topic,
            "off_topic_refusal": round(self.refusal_rate, 4),
            "naming": self.naming,
            "named": self.named,
        }


def _strings(values: object) -> tuple[str, ...]:
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise TypeError(f"expected a list of strings, got {values!r}")
    return tuple(values)


def load_eval_set(path: Path) -> EvalSet:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        default = str(data.get("split", ""))
        questions: list[EvalQuestion] = []
        absent: list[OffTopicQuestion] = []
        for item in data.get("questions", ()):
            split = str(item.get("split", default))
            if "names" in item:
                absent.append(OffTopicQuestion(item["q"], _strings(item["names"]), split))
            else:
                questions.append(EvalQuestion(item["q"], _strings(item["expect"]), split))
        off_topic = [
            OffTopicQuestion(item, (), default)
            if isinstance(item, str)
            else OffTopicQuestion(item["q"], (), str(item.get("split", default)))
            for item in data.get("off_topic", ())
        ]
        return EvalSet(tuple(questions), tuple(off_topic + absent))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise EvalSetError(f"cannot read question file {path}: {exc}") from exc


def _correct(answer: Answer, expect: tuple[str, ...]) -> bool:
    return bool(answer.hits) and any(phrase in answer.hits[0].quote for phrase in expect)


def _names_one(answer: Answer, names: tuple[str, ...]) -> bool:
    said = {term.casefold() for term in answer.missing_terms}
    return any(name.casefold() in said for name in names)


def evaluate(retriever: Retriever, eval_set: EvalSet) -> EvalReport:
    report = EvalReport(
        retriever.config.mode, len(eval_set.questions), 0, len(eval_set.off_topic), 0, 0
    )
    texts = [q.question for q in eval_set.questions] + list(eval_set.off_topic)
    # One batched model call for the whole set instead of one per question.
    dense = retriever.config.uses_dense and texts
    vectors, tokens = retriever.encode(texts) if dense else (None, None)
    for row, item in enumerate(eval_set.questions):
        answer = retriever.ask(
            item.question,
            1,
            None if vectors is None else vectors[row],
            tokens[row] if tokens else None,
        )
        report.on_topic_scores.append(answer.hits[0].score if answer.hits else 0.0)
        report.answered_on_topic += answer.found
        report.verdicts[answer.verdict] += 1
        if answer.found and _correct(answer, item.expect):
            report.top1_correct += 1
        else:
            top = answer.hits[0].quote[:80] if answer.hits else "(nothing)"
            report.failures.append(f"{item.question!r} -> {answer.verdict}: {top!r}")
    offset = len(eval_set.questions)
    for row, off in enumerate(eval_set.refusals, start=offset):
        answer = retriever.ask(
            off.question,
            1,
            None if vectors is None else vectors[row],
            tokens[row] if tokens else None,
        )
        report.off_topic_scores.append(answer.hits[0].score if answer.hits else 0.0)
        report.refused += not answer.found
        if off.names:
            report.naming += 1
            report.named += not answer.found and _names_one(answer, off.names)
        if answer.found:
            report.failures.append(
                f"off-topic {off.question!r} answered: {answer.hits[0].quote[:80]!r}"
            )
        elif off.names and not _names_one(answer, off.names):
            report.failures.append(
                f"absent {off.question!r} refused without naming {off.names[0]!r} "
                f"(named {list(answer.missing_terms)})"
            )
    return report
