"""Late interaction (ColBERT-style MaxSim) as a fusion signal, measured on the tune data only.

An experiment, not part of the bot (README "Calibration and quality", tried and not kept): for
each word piece of the question, its best cosine with the window's token embeddings (each
window encoded alone by the model), averaged with idf weights over the corpus's windows. The
script adds it to the signals scripts/fit_fusion.py records and reports 5-fold
cross-validated top-1 with the fit script's own machinery: as a tenth signal over every
candidate, with an optional cost per extra sentence (`--extra-sentence-cost`, to compare at
the same quote length), and as a re-scoring of the present score's top N windows. `--timing`
measures the second forward pass re-scoring would take (question and top windows together)
against the question's own encode, paired, p50.

    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python scripts/try_late_interaction.py \\
        --squad ../shared/eval/squad-dev-2-articles.json --work /tmp/footnote-late
"""

from __future__ import annotations

import argparse
import copy
import math
import statistics
import string
import time
from pathlib import Path
from typing import Any

import fit_fusion as ff
import numpy as np

from bot.config import load_settings
from bot.index.embedding import bundled_model_dir, make_embedder
from bot.index.store import IndexStore, open_index
from bot.search.calibration import calibrate

# [PAD], [UNK], [CLS], [SEP], [MASK] in the model's word-piece vocabulary.
_SPECIAL = {0, 100, 101, 102, 103}


def _model() -> Any:
    from sentence_transformers import SentenceTransformer

    return SentenceTransformer(str(bundled_model_dir()), device="cpu")


def open_stores(work: Path) -> dict[str, IndexStore]:
    """The tune data's two indexes (fit_fusion builds them under `work`), by record source."""
    embedder = make_embedder(load_settings(dotenv=None).model)
    corpora = {"squad": work / "squad-corpus", "essay": ff.REPO / "corpus"}
    return {
        source: open_index(corpus, work / f"{source}-index", embedder, calibrate=calibrate)[0]
        for source, corpus in corpora.items()
    }


def punctuation_ids(model: Any) -> set[int]:
    """Word pieces made of punctuation only: they match but do not weigh."""
    return {i for t, i in model.tokenizer.vocab.items() if set(t) <= set(string.punctuation)}


def _tokens(model: Any, texts: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each text's word-piece ids and unit-length token embeddings, specials dropped."""
    embeddings = model.encode(texts, output_value="token_embeddings", show_progress_bar=False)
    out = []
    for text, matrix in zip(texts, embeddings, strict=True):
        ids = np.array(model.tokenizer(text, truncation=True)["input_ids"])
        vectors = matrix.numpy().astype(np.float32)
        keep = np.array([i not in _SPECIAL for i in ids.tolist()])
        vectors = vectors[keep] / np.linalg.norm(vectors[keep], axis=1, keepdims=True)
        out.append((ids[keep], vectors))
    return out


def add_maxsim(records: list[ff.Question], work: Path) -> None:
    """Append the MaxSim signal to every record's signals (rows from `ff.Question.rows`)."""
    stores = open_stores(work)
    model = _model()
    punctuation = punctuation_ids(model)
    for source, store in stores.items():
        windows = _tokens(model, [p.text for p in store.passages])
        df: dict[int, int] = {}
        for ids, _ in windows:
            for i in set(ids.tolist()):
                df[i] = df.get(i, 0) + 1
        asked = [q for q in records if q.source == source]
        questions = _tokens(model, [q.text for q in asked])
        for q, (ids, vectors) in zip(asked, questions, strict=True):
            words = [j for j, i in enumerate(ids.tolist()) if i not in punctuation]
            keep = words or list(range(len(ids)))
            idf = np.array(
                [
                    max(math.log((len(windows) + 1) / (df.get(int(i), 0) + 0.5)), 0.1)
                    for i in ids[keep]
                ]
            )
            if not len(idf):  # nothing but [UNK] ("🙂"): no word piece to match
                maxsim = np.zeros(len(q.rows))
            else:
                best = [(vectors[keep] @ windows[int(r)][1].T).max(axis=1) for r in q.rows]
                maxsim = np.array([float(idf @ b / idf.sum()) for b in best])
            q.signals = np.concatenate([q.signals, maxsim[:, None]], axis=1)


class _TopN(ff.Judge):
    """Re-scores only the present weights' top `n` windows (n = 0: every candidate)."""

    def __init__(self, records: list[ff.Question], n: int) -> None:
        super().__init__(records)
        self.n = n
        self.present = np.array([getattr(ff.FusionWeights(), s) for s in ff.SIGNALS])

    def best(self, q: ff.Question, w: np.ndarray) -> tuple[int, float]:
        if not self.n:
            return super().best(q, w)
        width = len(self.present)
        before = q.signals[:, :width] @ self.present / self.present.sum() - q.cost
        top = np.argsort(-before, kind="stable")[: self.n]
        fused = q.signals[top] @ w / (w.sum() or 1.0) - q.cost[top]
        i = int(np.argmax(fused))
        return int(top[i]), float(fused[i])


def _fit(records: list[ff.Question], width: int) -> np.ndarray:
    from scipy.optimize import minimize

    asked = [q for q in records if q.kind == "question" and q.label.any()]
    start = np.full(width, 0.1)
    found = minimize(
        ff._loss,
        start,
        args=(asked, 0.01, 20.0),
        jac=True,
        method="L-BFGS-B",
        bounds=[(0.0, None)] * width,
    )
    return np.asarray(np.round(found.x / found.x.max(), 2), dtype=np.float64)


def cross_validate(records: list[ff.Question], width: int, n: int, folds: int = 5) -> str:
    cut = [copy.copy(q) for q in records]
    for q in cut:
        q.signals = q.signals[:, :width]
    judge = _TopN(cut, n)
    texts = [q.text for q in cut if q.kind == "question"]
    right = {"squad": [0, 0], "essay": [0, 0]}
    for k in range(folds):
        train = [q for q in cut if q.kind != "question" or ff._fold(q.text, folds) != k]
        test = {t for t in texts if ff._fold(t, folds) == k}
        figures = judge.figures(_fit(train, width), test)
        for source, counts in right.items():
            asked = sum(q.text in test for q in judge._of(source, "question"))
            counts[0] += round(figures[source] * asked)
            counts[1] += asked
    return ", ".join(f"{s} {a}/{b}" for s, (a, b) in right.items())


def timing(records: list[ff.Question], work: Path, count: int = 60) -> None:
    import torch

    model = _model()
    embedder = make_embedder(load_settings(dotenv=None).model)
    store, _ = open_index(
        work / "squad-corpus", work / "squad-index", embedder, calibrate=calibrate
    )
    present = np.array([getattr(ff.FusionWeights(), s) for s in ff.SIGNALS])
    asked = [q for q in records if q.source == "squad" and q.kind == "question"][:count]
    for n in (3, 5):
        ratios = []
        for q in asked:
            order = np.argsort(-(q.signals[:, : len(present)] @ present - q.cost), kind="stable")
            texts = [q.text] + [store.passages[int(q.rows[i])].text for i in order[:n]]
            started = time.perf_counter()
            model.encode([q.text], show_progress_bar=False)
            alone = time.perf_counter() - started
            started = time.perf_counter()
            # `preprocess` in newer sentence-transformers, `tokenize` before.
            prepare = getattr(model, "preprocess", None) or model.tokenize
            with torch.inference_mode():
                model[0](prepare(texts))
            ratios.append((time.perf_counter() - started) / alone)
        ratio = statistics.median(ratios)
        print(f"second pass with the top {n} / the question's encode, p50: {ratio:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--squad", type=Path, default=ff.REPO.parent / "shared/eval/squad-dev-2-articles.json"
    )
    parser.add_argument("--work", type=Path, default=Path("/tmp/footnote-late"))
    parser.add_argument("--extra-sentence-cost", type=float, default=0.0)
    parser.add_argument("--timing", action="store_true")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    records = ff.collect(args.squad, args.work)
    if args.extra_sentence_cost:
        for q in records:
            q.cost = q.cost + args.extra_sentence_cost * (q.sentences - 1)
    width = len(ff.SIGNALS)
    print("present signals, refitted:", cross_validate(records, width, 0))
    add_maxsim(records, args.work)
    print("with MaxSim as a signal:", cross_validate(records, width + 1, 0))
    for n in (3, 5, 10):
        print(f"MaxSim re-scoring the top {n}:", cross_validate(records, width + 1, n))
    if args.timing:
        timing(records, args.work)


if __name__ == "__main__":
    main()
