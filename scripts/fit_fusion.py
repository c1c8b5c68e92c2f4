"""Fit the fusion weights of bot/search/features.py (FusionWeights) on the tune data only.

Tune data: the "tune" half of the shared SQuAD development set (both articles in one corpus;
bot/evals/squad_eval.in_tune_half) and every essay question of korean_crisis.json and
korean_crisis_reader.json. The SQuAD held-out half is never read here.

For every question the script records each candidate window's signals (Ranker's own
`candidate_features`), its shape cost, and whether it holds the answer; it does the same for
each corpus's calibration questions (off-topic and pseudo-questions), so a weight vector's
verdict thresholds are re-fitted exactly as `footnote index` would. A weight vector is then
judged by top-1 accuracy (essay: top-1 holds the phrase and the verdict is not "absent"),
mean of the SQuAD and essay figures so the small essay set is not drowned.

Weights are fitted by a listwise logistic regression (the softmax of a question's candidate
scores should put its mass on the windows that hold the answer), non-negative so the score
stays a weighted mean, then rounded as the code holds them. k-fold cross-validation (folds by
question text) says how well the fit generalises to questions it did not see.

    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python scripts/fit_fusion.py \\
        --squad ../shared/eval/squad-dev-2-articles.json --work /tmp/footnote-fit
"""

from __future__ import annotations

import argparse
import pickle
import zlib
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from bot.config import load_settings
from bot.evals import KOREAN_CRISIS_SETS
from bot.evals.evaluation import EvalSet, load_eval_set
from bot.evals.squad import load_squad, write_corpus
from bot.evals.squad_eval import in_tune_half
from bot.index.embedding import make_embedder
from bot.index.lexical import index_terms
from bot.index.store import open_index
from bot.search.calibration import calibrate, fit_thresholds, off_topic_questions, pseudo_questions
from bot.search.features import SIGNALS, CandidateFeatures, FusionWeights
from bot.search.late import (
    LATE_EXTRA_SENTENCE,
    LATE_MAXSIM,
    LATE_TOP,
    LATE_WEIGHTS,
    ROUNDING,
    maxsim,
)
from bot.search.ranking import RetrievalConfig
from bot.search.retriever import Retriever
from bot.text import collapse_whitespace, fold

REPO = Path(__file__).resolve().parent.parent
# Every question of these (both halves of the reader questions: a new held-out set replaces
# their held-out half).
ESSAY_TUNE_FILES = ("korean_crisis.json", "korean_crisis_reader.json")


@dataclass
class Question:
    source: str  # "squad" or "essay": which corpus, which half of the objective
    kind: str  # "question", "off-topic" or "pseudo" (calibration)
    text: str
    signals: np.ndarray  # candidates x signals
    cost: np.ndarray  # the window's shape cost
    label: np.ndarray  # the window holds the answer
    rows: np.ndarray  # the candidate windows' rows in their index
    sentences: np.ndarray  # how many sentences each window spans
    late: np.ndarray | None = None  # each window's MaxSim (bot/search/late.py), if stored


def _matrix(features: CandidateFeatures) -> np.ndarray:
    return np.stack([getattr(features, name) for name in SIGNALS], axis=1).astype(np.float64)


def _record(
    retriever: Retriever, source: str, kind: str, texts: list[str], golds: list[list[str]]
) -> list[Question]:
    ranker = retriever._ranker
    vectors, tokens = retriever.encode(texts)
    store = retriever.store
    out: list[Question] = []
    for number, (text, vector, gold) in enumerate(zip(texts, vectors, golds, strict=True)):
        features = ranker.candidate_features(text, index_terms(text), vector)
        if features is None:
            continue
        late = None
        if store.tokens is not None and tokens is not None:
            rows = ranker._features.sentence_rows[features.rows]
            late = maxsim(store.tokens, rows, tokens[number], ranker.general_idf)
            late = late.astype(np.float64)
        passages = [store.passages[int(r)] for r in features.rows]
        windows = [p.text for p in passages]
        if source == "squad":
            folded = [collapse_whitespace(fold(w)) for w in windows]
            label = [any(g in w for g in gold) for w in folded]
        else:
            label = [any(g in w for g in gold) for w in windows]
        out.append(
            Question(
                source,
                kind,
                text,
                _matrix(features),
                ranker.window_costs(features.rows).astype(np.float64),
                np.array(label, dtype=bool),
                features.rows,
                np.array([p.last_sentence - p.first_sentence + 1 for p in passages]),
                late,
            )
        )
    return out


def _calibration_questions(retriever: Retriever, source: str) -> list[Question]:
    off = off_topic_questions()
    pseudo = pseudo_questions(retriever.store)
    return _record(retriever, source, "off-topic", off, [[] for _ in off]) + _record(
        retriever, source, "pseudo", pseudo, [[] for _ in pseudo]
    )


def collect(squad_path: Path, work: Path) -> list[Question]:
    # The model `footnote` itself would load: FOOTNOTE_QUANTIZE=int8 fits on int8 vectors.
    embedder = make_embedder(load_settings(dotenv=None).model)
    squad = load_squad(squad_path)
    corpus = write_corpus(list(squad.articles), work / "squad-corpus")
    store, _ = open_index(corpus, work / "squad-index", embedder, calibrate=calibrate)
    together = Retriever(store, embedder, RetrievalConfig())
    tune = [q for q in squad.questions if q.answerable and in_tune_half(q.id)]
    golds = [[collapse_whitespace(fold(a)) for a in q.answers] for q in tune]
    records = _record(together, "squad", "question", [q.question for q in tune], golds)
    records += _calibration_questions(together, "squad")
    essay_store, _ = open_index(
        REPO / "corpus", work / "essay-index", embedder, calibrate=calibrate
    )
    essay = Retriever(essay_store, embedder, RetrievalConfig())
    files = [p for p in KOREAN_CRISIS_SETS if p.name in ESSAY_TUNE_FILES]
    asked = EvalSet.merge(load_eval_set(p) for p in files).questions
    texts = [q.question for q in asked]
    records += _record(essay, "essay", "question", texts, [list(q.expect) for q in asked])
    records += _calibration_questions(essay, "essay")
    return records


def _fold(text: str, folds: int) -> int:
    return zlib.crc32(text.encode("utf-8")) % folds


class Judge:
    """Scores weight vectors on a set of questions (calibration questions always included)."""

    def __init__(self, records: list[Question]) -> None:
        self.records = records

    def _of(self, source: str, kind: str) -> list[Question]:
        return [q for q in self.records if q.source == source and q.kind == kind]

    def best(self, q: Question, w: np.ndarray) -> tuple[int, float]:
        fused = q.signals @ w / (w.sum() or 1.0) - q.cost
        i = int(np.argmax(fused))
        return i, float(fused[i])

    def figures(self, w: np.ndarray, chosen: set[str] | None = None) -> dict[str, float]:
        result: dict[str, float] = {}
        for source in ("squad", "essay"):
            # The verdict cuts this weight vector would get when the corpus is indexed, on the
            # fused score alone: the verdict score also averages in the question's weakest
            # word (bot/search/late.py), which needs token embeddings these records do not
            # keep, so "found" here is the fused-only share, a little under `footnote eval`'s.
            cuts = fit_thresholds(
                [self.best(q, w)[1] for q in self._of(source, "off-topic")],
                [self.best(q, w)[1] for q in self._of(source, "pseudo")],
            )
            asked = [q for q in self._of(source, "question") if chosen is None or q.text in chosen]
            right = found = 0
            for q in asked:
                i, score = self.best(q, w)
                top = bool(q.label[i])
                present = score >= cuts.absent_below
                found += present
                right += top and (present or source == "squad")
            result[source] = right / max(1, len(asked))
            result[source + "_found"] = found / max(1, len(asked))
        result["objective"] = (result["squad"] + result["essay"]) / 2
        return result


def _loss(
    w: np.ndarray, records: list[Question], l2: float, sharpness: float
) -> tuple[float, np.ndarray]:
    """Listwise log-loss: the softmax of the scores over a question's candidates should put
    its mass on the windows that hold the answer (essay questions weigh as much in all as
    the SQuAD ones)."""
    counts = {s: sum(q.source == s for q in records) or 1 for s in ("squad", "essay")}
    total, grad = 0.0, np.zeros_like(w)
    for q in records:
        weight = len(records) / (2 * counts[q.source])
        scores = (q.signals @ w - q.cost) * sharpness
        scores -= scores.max()
        mass = np.exp(scores)
        share = mass / mass.sum()
        right = mass[q.label].sum()
        total -= weight * np.log(right / mass.sum())
        expected_right = (mass[q.label, None] * q.signals[q.label]).sum(0) / right
        grad -= weight * sharpness * (expected_right - (share[:, None] * q.signals).sum(0))
    return total + l2 * float(w @ w), grad + 2 * l2 * w


class LateJudge(Judge):
    """The ranking with late interaction (bot/search/late.py): the present weights' top
    LATE_TOP windows re-ordered by `w`, whose last weight is MaxSim's (records `with_late`);
    the verdict still from the best fused score, as the code does."""

    def __init__(self, records: list[Question]) -> None:
        super().__init__(records)
        self.present = np.array([getattr(FusionWeights(), s) for s in SIGNALS])

    def best(self, q: Question, w: np.ndarray) -> tuple[int, float]:
        width = len(self.present)
        before = q.signals[:, :width] @ self.present / self.present.sum() - q.cost
        top = np.argsort(-before, kind="stable")[:LATE_TOP]
        if not q.signals[:, width].any():  # no word piece to match: the fused order
            return int(top[0]), float(before[top[0]])
        extra = LATE_EXTRA_SENTENCE * (q.sentences[top] - 1)
        fused = np.round(q.signals[top] @ w / (w.sum() or 1.0) - q.cost[top] - extra, ROUNDING)
        return int(top[int(np.argmax(fused))]), float(before[top[0]])


def with_late(records: list[Question]) -> list[Question]:
    """Copies whose signals end with MaxSim (the index's stored tokens must have given it)."""
    out = []
    for q in records:
        assert q.late is not None, "no MaxSim recorded: the index has no tokens"
        out.append(replace(q, signals=np.concatenate([q.signals, q.late[:, None]], axis=1)))
    return out


def fit(
    records: list[Question], l2: float = 0.01, sharpness: float = 20.0, late: bool = False
) -> np.ndarray:
    """Non-negative weights (the score stays a weighted mean), scaled so the largest is 1 and
    rounded to two decimals, as they are written in the code (`late`: the re-score's, the
    signals' and MaxSim's, from an even start)."""
    from scipy.optimize import minimize  # a script-only dependency (scikit-learn brings it)

    asked = [q for q in records if q.kind == "question" and q.label.any()]
    start = np.array([getattr(FusionWeights(), name) for name in SIGNALS]) / 3.4
    if late:
        start = np.full(len(SIGNALS) + 1, 0.1)
        # The re-score's cost per extra sentence (bot/search/late.py) is part of what it fits.
        asked = [replace(q, cost=q.cost + LATE_EXTRA_SENTENCE * (q.sentences - 1)) for q in asked]
    found = minimize(
        _loss,
        start,
        args=(asked, l2, sharpness),
        jac=True,
        method="L-BFGS-B",
        bounds=[(0.0, None)] * len(start),
    )
    return np.asarray(np.round(found.x / found.x.max(), 2), dtype=np.float64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--squad", type=Path, default=REPO.parent / "shared/eval/squad-dev-2-articles.json"
    )
    parser.add_argument("--work", type=Path, default=Path("/tmp/footnote-fit"))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--recollect", action="store_true")
    parser.add_argument(
        "--late",
        action="store_true",
        help="fit the late-interaction re-score's weights (bot/search/late.py) instead",
    )
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    cache = args.work / "records.pkl"
    if cache.exists() and not args.recollect:
        records = pickle.loads(cache.read_bytes())
    else:
        records = collect(args.squad, args.work)
        cache.write_bytes(pickle.dumps(records))
    names = SIGNALS
    current = np.array([getattr(FusionWeights(), name) for name in SIGNALS])
    judge = Judge(records)
    if args.late:
        records = with_late(records)
        judge = LateJudge(records)
        names = (*SIGNALS, "maxsim")
        current = np.array([*(getattr(LATE_WEIGHTS, name) for name in SIGNALS), LATE_MAXSIM])
        print(
            "without the re-score:",
            _rounded(
                Judge(records).figures(
                    np.array([*(getattr(FusionWeights(), name) for name in SIGNALS), 0.0])
                )
            ),
        )
    print("signals:", names)
    print("weights in the code:", current.tolist(), _rounded(judge.figures(current)))
    texts = [q.text for q in records if q.kind == "question"]
    cv: dict[str, list[int]] = {"squad": [0, 0], "essay": [0, 0]}
    for k in range(args.folds):
        train = [q for q in records if q.kind != "question" or _fold(q.text, args.folds) != k]
        test = {t for t in texts if _fold(t, args.folds) == k}
        w = fit(train, late=args.late)
        figures = judge.figures(w, test)
        for source in cv:
            asked = sum(q.text in test for q in judge._of(source, "question"))
            cv[source][0] += round(figures[source] * asked)
            cv[source][1] += asked
        print(f"fold {k}: {w.tolist()} -> {_rounded(figures)}")
    print("cross-validated top-1:", {s: f"{a / b:.4f} ({a}/{b})" for s, (a, b) in cv.items()})
    final = fit(records, late=args.late)
    print("fitted on all tune data:", dict(zip(names, final.tolist(), strict=True)))
    print("  ", _rounded(judge.figures(final)))


def _rounded(figures: dict[str, float]) -> dict[str, float]:
    return {name: round(value, 4) for name, value in figures.items()}


if __name__ == "__main__":
    main()
