"""Signals for the late-interaction re-score beyond MaxSim, measured on the tune data only.

An experiment, not part of the bot (README "Calibration and quality", tried at stop 18 and
not kept).  The re-score (bot/search/late.py) re-orders the fused top LATE_TOP windows by
MaxSim beside a few fused signals; this script adds one column at a time to what it sees,
re-fits its weights in each fold and reports 5-fold cross-validated top-1 with
scripts/fit_fusion.py's records and judging (the verdict from the fused score, as the code
does).  The columns:

- content_maxsim / flat_maxsim / content_flat_maxsim: MaxSim over the question's content
  word pieces only (lexical.STOPWORDS dropped) / without the corpus's idf / both; also tried
  *in place of* MaxSim;
- mean_sentence_maxsim, min_sentence_maxsim: the window's sentences' own MaxSim (a window's
  MaxSim is over the union of its sentences' tokens, so an unrelated sentence costs nothing);
- context_maxsim, paragraph_maxsim: MaxSim of the window with one neighbouring sentence on
  each side / of its whole paragraph (the window scored jointly with its neighbours);
- reverse_maxsim: for each word piece of the window its best cosine with the question's,
  averaged (how much of the window is about the question);
- sequence: the question names a place in a sequence (first, start, beginning, second,
  third, final, last, end) and the window holds the same ordinal before "phase", "stage",
  "step", "round" or "period" ("In the final phase");
- caption: the question asks about the photo or picture and the window's paragraph has no
  closing punctuation (a caption).

The README's figures were measured before the re-score's general-text idf (bot/search/late.py
general_idf) was kept, on records whose MaxSim had the corpus's idf alone; records made since
hold the kept MaxSim, so the baseline and each row start from it.

Then the re-score's width (`LATE_TOP` 15, 20, every candidate) and its cost per extra
sentence (0.005 and 0, with the mean quote length: a lower cost wins by widening quotes).

    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python scripts/try_late_signals.py \\
        --squad ../shared/eval/squad-dev-2-articles.json --work /tmp/footnote-fit
"""

from __future__ import annotations

import argparse
import pickle
import re
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import fit_fusion as ff
import numpy as np

from bot.config import load_settings
from bot.index.embedding import encode_with_tokens, make_embedder
from bot.index.lexical import STOPWORDS
from bot.index.store import IndexStore, open_index
from bot.index.tokens import StoredTokens, TokenMatrix
from bot.search.calibration import calibrate
from bot.search.features import SIGNALS, FeatureIndex, FusionWeights
from bot.search.late import LATE_EXTRA_SENTENCE, LATE_TOP, ROUNDING

COLUMNS = (
    "content_maxsim",
    "flat_maxsim",
    "content_flat_maxsim",
    "mean_sentence_maxsim",
    "min_sentence_maxsim",
    "context_maxsim",
    "paragraph_maxsim",
    "reverse_maxsim",
    "sequence",
    "caption",
)
_ORDINAL = {"first": 1, "start": 1, "beginning": 1, "initial": 1, "outset": 1, "second": 2}
_ORDINAL |= {"third": 3, "fourth": 4, "final": 9, "last": 9, "end": 9}
_STEP = re.compile(
    r"\b(first|initial|second|third|fourth|final|last)\s+(?:\w+\s+)?"
    r"(?:phase|stage|step|round|period)s?\b",
    re.IGNORECASE,
)
_PHOTO = re.compile(r"\b(?:photo|photograph|picture|pictured|image|caption)\b", re.IGNORECASE)
_CLOSED = re.compile(r"[.!?]['\"’”)]*$")


def _maxsim(
    tokens: StoredTokens,
    windows: list[list[int]],
    question: TokenMatrix,
    keep: np.ndarray,
    flat: bool,
) -> np.ndarray:
    out = np.zeros(len(windows))
    if not keep.any():
        return out
    count, frequency = tokens.document_frequency
    idf = np.maximum(np.log((count + 1) / (frequency[question.ids[keep]] + 0.5)), 0.1)
    weights = np.ones_like(idf) if flat else idf
    vectors = question.vectors[keep]
    for n, sentences in enumerate(windows):
        matrix = tokens.matrix([s for s in sentences if s >= 0])
        if len(matrix):
            out[n] = float(weights @ (vectors @ matrix.T).max(axis=1) / weights.sum())
    return out


def _columns(
    store: IndexStore, table: FeatureIndex, q: ff.Question, question: TokenMatrix, pieces: list[str]
) -> np.ndarray:
    tokens = store.tokens
    assert tokens is not None, "the index has no token embeddings"
    words = question.words if question.words.any() else np.ones(len(question.ids), dtype=bool)
    content = words & np.array([p.lstrip("#") not in STOPWORDS for p in pieces], dtype=bool)
    windows = [[int(s) for s in row if s >= 0] for row in table.sentence_rows[q.rows]]
    singles = sorted({s for w in windows for s in w})
    own = dict(
        zip(singles, _maxsim(tokens, [[s] for s in singles], question, words, False), strict=True)
    )
    around, whole, ordinals = (
        [],
        [],
        {_ORDINAL[w] for w in re.findall(r"[a-z]+", q.text.lower()) if w in _ORDINAL},
    )
    out = np.zeros((len(q.rows), len(COLUMNS)))
    for i, row in enumerate(q.rows.tolist()):
        passage = store.passages[row]
        paragraph = store.paragraphs[passage.paragraph_row]
        rows = [
            store.passages.window_row(passage.paragraph_row, s, s)
            for s in range(len(paragraph.sentences))
        ]
        sentences = [r if r is not None else -1 for r in rows]
        around.append(sentences[max(0, passage.first_sentence - 1) : passage.last_sentence + 2])
        whole.append(sentences)
        out[i, 3] = np.mean([own[s] for s in windows[i]])
        out[i, 4] = min(own[s] for s in windows[i])
        matrix = tokens.matrix(windows[i])
        if len(matrix) and words.any():
            out[i, 7] = float((matrix @ question.vectors[words].T).max(axis=1).mean())
        steps = {_ORDINAL.get(m.group(1).lower(), 0) for m in _STEP.finditer(passage.text)}
        out[i, 8] = float(bool(ordinals & steps))
        out[i, 9] = float(
            bool(_PHOTO.search(q.text)) and not _CLOSED.search(paragraph.text.rstrip())
        )
    out[:, 0] = _maxsim(tokens, windows, question, content, False)
    out[:, 1] = _maxsim(tokens, windows, question, words, True)
    out[:, 2] = _maxsim(tokens, windows, question, content, True)
    out[:, 5] = _maxsim(tokens, around, question, words, False)
    out[:, 6] = _maxsim(tokens, whole, question, words, False)
    return out


def columns(records: list[ff.Question], work: Path) -> dict[tuple[str, str, str], np.ndarray]:
    embedder = make_embedder(load_settings(dotenv=None).model)
    corpora = {"squad": work / "squad-corpus", "essay": ff.REPO / "corpus"}
    out = {}
    for source, corpus in corpora.items():
        store = open_index(corpus, work / f"{source}-index", embedder, calibrate=calibrate)[0]
        table = FeatureIndex(store)
        mine = [q for q in records if q.source == source]
        _, tokens = encode_with_tokens(embedder, [q.text for q in mine])
        assert tokens is not None, "the embedder gives no token embeddings"
        vocabulary = embedder._load().tokenizer  # type: ignore[attr-defined]
        for q, question in zip(mine, tokens, strict=True):
            pieces = vocabulary.convert_ids_to_tokens([int(i) for i in question.ids])
            out[(q.source, q.kind, q.text)] = _columns(store, table, q, question, pieces)
    return out


class _Records(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> type:
        if module == "__main__" and name == "Question":
            return ff.Question
        return super().find_class(module, name)  # type: ignore[no-any-return]


class Judge(ff.Judge):
    """LateJudge with the re-score's width and cost per extra sentence as parameters."""

    def __init__(self, records: list[ff.Question], top: int, extra: float) -> None:
        super().__init__(records)
        self.present = np.array([getattr(FusionWeights(), s) for s in SIGNALS])
        self.top, self.extra = top, extra

    def best(self, q: ff.Question, w: np.ndarray) -> tuple[int, float]:
        width = len(self.present)
        before = q.signals[:, :width] @ self.present / self.present.sum() - q.cost
        top = np.argsort(-before, kind="stable")[: self.top]
        if not q.signals[:, width].any():  # no word piece to match: the fused order
            return int(top[0]), float(before[top[0]])
        cost = q.cost[top] + self.extra * (q.sentences[top] - 1)
        fused = np.round(q.signals[top] @ w / (w.sum() or 1.0) - cost, ROUNDING)
        return int(top[int(np.argmax(fused))]), float(before[top[0]])


def fit(records: list[ff.Question], extra: float) -> np.ndarray:
    from scipy.optimize import minimize

    asked = [q for q in records if q.kind == "question" and q.label.any()]
    asked = [replace(q, cost=q.cost + extra * (q.sentences - 1)) for q in asked]
    size = asked[0].signals.shape[1]
    found = minimize(
        ff._loss,
        np.full(size, 0.1),
        args=(asked, 0.01, 20.0),
        jac=True,
        method="L-BFGS-B",
        bounds=[(0.0, None)] * size,
    )
    return np.asarray(np.round(found.x / found.x.max(), 2), dtype=np.float64)


def cross_validate(
    records: list[ff.Question], top: int = LATE_TOP, extra: float = LATE_EXTRA_SENTENCE
) -> str:
    judge = Judge(records, top, extra)
    right: dict[str, list[int]] = {"squad": [0, 0], "essay": [0, 0]}
    length: dict[str, list[int]] = {"squad": [], "essay": []}
    for k in range(5):
        train = [q for q in records if q.kind != "question" or ff._fold(q.text, 5) != k]
        test = {q.text for q in records if q.kind == "question" and ff._fold(q.text, 5) == k}
        w = fit(train, extra)
        figures = judge.figures(w, test)
        for source in right:
            asked = [q for q in judge._of(source, "question") if q.text in test]
            right[source][0] += round(figures[source] * len(asked))
            right[source][1] += len(asked)
            length[source] += [int(q.sentences[judge.best(q, w)[0]]) for q in asked]
    return ", ".join(
        f"{s} {a}/{b} ({np.mean(length[s]):.2f} sentences)" for s, (a, b) in right.items()
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--squad", type=Path, default=ff.REPO.parent / "shared/eval/squad-dev-2-articles.json"
    )
    parser.add_argument("--work", type=Path, default=Path("/tmp/footnote-fit"))
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    cache = args.work / "records.pkl"
    if cache.exists():
        with cache.open("rb") as file:  # written by fit_fusion.py, run as __main__
            records = _Records(file).load()
    else:
        records = ff.collect(args.squad, args.work)
        cache.write_bytes(pickle.dumps(records))
    records = ff.with_late(records)
    extra = columns(records, args.work)

    def adding(names: tuple[str, ...], instead: bool = False) -> list[ff.Question]:
        picked = [COLUMNS.index(n) for n in names]
        out = []
        for q in records:
            more = extra[(q.source, q.kind, q.text)][:, picked]
            signals = q.signals.copy()
            if instead:  # the variant in MaxSim's own place
                signals[:, -1], more = more[:, 0], more[:, 1:]
            out.append(replace(q, signals=np.concatenate([signals, more], axis=1)))
        return out

    runs: list[tuple[str, Callable[[], str]]] = [
        ("the re-score as it is", lambda: cross_validate(records))
    ]
    for name in COLUMNS[:3]:
        runs.append(
            (f"{name} instead of MaxSim", lambda n=name: cross_validate(adding((n,), True)))
        )
    for name in COLUMNS:
        runs.append((f"+ {name}", lambda n=name: cross_validate(adding((n,)))))
    for top in (15, 20, 10_000):
        runs.append((f"top {top}", lambda t=top: cross_validate(records, top=t)))
    for cost in (0.005, 0.0):
        runs.append(
            (f"cost per extra sentence {cost}", lambda c=cost: cross_validate(records, extra=c))
        )
    for label, run in runs:
        print(f"{label}: {run()}", flush=True)


if __name__ == "__main__":
    main()
