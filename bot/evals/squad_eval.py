"""`footnote eval --squad FILE`: rankings compared on SQuAD questions, and transfer.

Every article becomes an essay of one temporary corpus. The fused ranking and the two
single-signal baselines (BM25 alone, dense alone) answer the same questions in the same run,
over the same index. Transfer indexes each article alone, with its own calibration, and asks
it its own questions (they must be found) and the other articles' (they must be refused).

Questions are split in halves by a hash of their id: weights and thresholds were chosen on
the "tune" half only, so the "held-out" half (the default) is the one to report.
"""

from __future__ import annotations

import tempfile
import zlib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.evals.caching import CachingEmbedder
from bot.evals.evaluation import Split
from bot.evals.squad import SquadQuestion, SquadSet, load_squad, write_corpus
from bot.index.embedding import Embedder, make_embedder
from bot.index.store import open_index
from bot.search.answer import Answer, Verdict
from bot.search.calibration import calibrate
from bot.search.ranking import RetrievalConfig
from bot.search.retriever import Retriever
from bot.text import collapse_whitespace, fold

MODES = ("hybrid", "lexical", "dense")
MODE_NAMES = {"hybrid": "Footnote", "lexical": "BM25 alone", "dense": "dense alone"}
# Results per question: answer@3 needs three, the reciprocal rank looks this far.
RANKED = 10


def in_tune_half(question_id: str) -> bool:
    """The fixed half of the questions that weights and thresholds may be chosen on."""
    return zlib.crc32(question_id.encode("utf-8")) % 2 == 0


def select(questions: list[SquadQuestion], split: Split) -> list[SquadQuestion]:
    if split == "all":
        return list(questions)
    return [q for q in questions if in_tune_half(q.id) == (split == "tune")]


def _folded(text: str) -> str:
    return collapse_whitespace(fold(text))


@dataclass
class RankingFigures:
    """One ranking's results on answerable questions (and v2.0's unanswerable ones)."""

    mode: str
    questions: int = 0
    answer_at_1: int = 0
    paragraph_at_1: int = 0
    answer_at_3: int = 0
    reciprocal_ranks: float = 0.0
    verdicts: Counter[str] = field(default_factory=Counter)
    unanswerable: int = 0
    unanswerable_flagged: int = 0
    misses: list[str] = field(default_factory=list)

    def rate(self, count: float) -> float:
        return count / self.questions if self.questions else 0.0

    def verdict_share(self, verdict: Verdict) -> float:
        return self.rate(self.verdicts[verdict])

    def summary(self) -> dict[str, float | int | str]:
        return {
            "mode": self.mode,
            "questions": self.questions,
            "answer_at_1": round(self.rate(self.answer_at_1), 4),
            "paragraph_at_1": round(self.rate(self.paragraph_at_1), 4),
            "answer_at_3": round(self.rate(self.answer_at_3), 4),
            "mrr": round(self.rate(self.reciprocal_ranks), 4),
            "verdict_answer": round(self.verdict_share("answer"), 4),
            "verdict_closest": round(self.verdict_share("closest"), 4),
            "verdict_absent": round(self.verdict_share("absent"), 4),
            "unanswerable": self.unanswerable,
            "unanswerable_flagged": self.unanswerable_flagged,
        }


@dataclass
class TransferFigures:
    """One article indexed alone: its own questions found, the others' refused."""

    article: str
    own: int = 0
    own_found: int = 0
    others: int = 0
    others_refused: int = 0
    misses: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, float | int | str]:
        return {
            "article": self.article,
            "own": self.own,
            "own_found": round(self.own_found / self.own, 4) if self.own else 0.0,
            "others": self.others,
            "others_refused": (round(self.others_refused / self.others, 4) if self.others else 0.0),
        }


@dataclass
class SquadReport:
    path: str
    version: str
    split: Split
    rankings: list[RankingFigures]
    transfer: list[TransferFigures]


def _rank_of_answer(answer: Answer, golds: list[str]) -> int | None:
    for rank, hit in enumerate(answer.hits):
        quote = _folded(hit.quote)
        if any(gold in quote for gold in golds):
            return rank
    return None


def score_ranking(
    retriever: Retriever, squad: SquadSet, questions: list[SquadQuestion]
) -> RankingFigures:
    figures = RankingFigures(retriever.config.mode)
    asked = [q.question for q in questions]
    vectors, tokens = retriever.encode(asked) if questions else (None, None)
    for row, question in enumerate(questions):
        vector = vectors[row] if vectors is not None and retriever.config.uses_dense else None
        answer = retriever.ask(question.question, RANKED, vector, tokens[row] if tokens else None)
        if not question.answerable:
            figures.unanswerable += 1
            figures.unanswerable_flagged += answer.verdict != "answer"
            continue
        figures.questions += 1
        figures.verdicts[answer.verdict] += 1
        rank = _rank_of_answer(answer, [_folded(a) for a in question.answers])
        paragraph = squad.articles[question.article].paragraphs[question.paragraph]
        if answer.hits and collapse_whitespace(answer.hits[0].context) == paragraph:
            figures.paragraph_at_1 += 1
        if rank is not None:
            figures.answer_at_1 += rank == 0
            figures.answer_at_3 += rank < 3
            figures.reciprocal_ranks += 1 / (rank + 1)
        if rank != 0:
            top = answer.hits[0].quote[:90] if answer.hits else "(nothing)"
            figures.misses.append(
                f"{question.question!r} (gold {question.answers[0]!r}) -> {answer.verdict}: {top!r}"
            )
    return figures


def score_transfer(
    retriever: Retriever, squad: SquadSet, article: int, questions: list[SquadQuestion]
) -> TransferFigures:
    figures = TransferFigures(squad.articles[article].title)
    asked = [q for q in questions if q.answerable or q.article != article]
    vectors, tokens = retriever.encode([q.question for q in asked]) if asked else (None, None)
    for row, question in enumerate(asked):
        vector = vectors[row] if vectors is not None else None
        answer = retriever.ask(question.question, 1, vector, tokens[row] if tokens else None)
        own = question.article == article
        if own:
            figures.own += 1
            figures.own_found += answer.found
        else:
            figures.others += 1
            figures.others_refused += not answer.found
        if answer.found != own:
            wrong = "refused" if own else f"answered ({answer.verdict})"
            figures.misses.append(f"{'own' if own else 'other'} {question.question!r} {wrong}")
    return figures


def run_squad(
    path: Path,
    model: str,
    split: Split = "held-out",
    embedder: Embedder | None = None,
    say: Callable[[str], None] | None = None,
) -> SquadReport:
    """Index the articles (together, then each alone) and measure every ranking."""
    squad = load_squad(path)
    cached = CachingEmbedder(embedder or make_embedder(model))
    questions = select(list(squad.questions), split)
    rankings: list[RankingFigures] = []
    transfer: list[TransferFigures] = []
    with tempfile.TemporaryDirectory(prefix="footnote-squad-") as tmp:
        root = Path(tmp)
        if say:
            say(f"indexing {len(squad.articles)} articles as one corpus")
        corpus = write_corpus(list(squad.articles), root / "corpus-all")
        store, _ = open_index(corpus, root / "index-all", cached, calibrate=calibrate)
        together = Retriever(store, cached)
        for mode in MODES:
            rankings.append(
                score_ranking(together.with_config(RetrievalConfig(mode=mode)), squad, questions)
            )
        if len(squad.articles) > 1:
            for number, article in enumerate(squad.articles):
                if say:
                    say(f"indexing {article.title} alone")
                alone = write_corpus([article], root / f"corpus-{number}")
                store, _ = open_index(alone, root / f"index-{number}", cached, calibrate=calibrate)
                transfer.append(score_transfer(Retriever(store, cached), squad, number, questions))
    return SquadReport(str(path), squad.version, split, rankings, transfer)
