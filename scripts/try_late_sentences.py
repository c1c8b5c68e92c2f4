"""Late interaction from per-sentence token embeddings, measured on the tune data only.

The storage-small variant of scripts/try_late_interaction.py (README "Calibration and
quality"): every sentence (the index's one-sentence windows) encoded alone once, a window's
tokens the union of its sentences' tokens, stored as float32, float16 or int8 per token (one
scale per row); MaxSim (idf over the sentences) re-scoring the present score's top N windows,
5-fold cross-validated with scripts/fit_fusion.py's machinery.

    PYTHONPATH=. HF_HUB_OFFLINE=1 .venv/bin/python scripts/try_late_sentences.py \\
        --records /tmp/footnote-rank4/records.pkl --work /tmp/footnote-rank4
"""

from __future__ import annotations

import argparse
import copy
import math
import pickle
from pathlib import Path
from typing import Any

import fit_fusion as ff
import numpy as np
from try_late_interaction import _SPECIAL, _model, cross_validate, open_stores, punctuation_ids

from bot.search.features import FeatureIndex


def _stored(vectors: np.ndarray, storage: str) -> np.ndarray:
    if storage == "float16":
        return vectors.astype(np.float16).astype(np.float32)
    if storage == "int8":
        scale = np.abs(vectors).max(axis=1, keepdims=True) / 127.0
        return np.round(vectors / scale).astype(np.int8).astype(np.float32) * scale
    return vectors


def sentence_tokens(model: Any, texts: list[str]) -> list[tuple[np.ndarray, np.ndarray]]:
    out = []
    for i in range(0, len(texts), 256):
        outputs = model.encode(texts[i : i + 256], output_value=None, show_progress_bar=False)
        for o in outputs:
            ids = o["input_ids"].numpy()
            keep = np.array([int(t) not in _SPECIAL for t in ids])
            m = o["token_embeddings"].numpy()[: len(ids)][keep].astype(np.float32)
            m /= np.linalg.norm(m, axis=1, keepdims=True)
            out.append((ids[keep], m))
    return out


def add(records: list[ff.Question], work: Path, storages: list[str]) -> None:
    stores = open_stores(work)
    model = _model()
    punctuation = punctuation_ids(model)
    for source, store in stores.items():
        features = FeatureIndex(store)
        singles = sorted({int(r) for r in features.sentence_rows.ravel() if r >= 0})
        print(source, "passages", len(store.passages), "sentences", len(singles))
        encoded = sentence_tokens(model, [store.passages[r].text for r in singles])
        of_row = dict(zip(singles, encoded, strict=True))
        tokens = sum(len(ids) for ids, _ in encoded)
        print(source, "tokens", tokens, "per passage", tokens / len(store.passages))
        df: dict[int, int] = {}
        for ids, _ in encoded:
            for i in set(ids.tolist()):
                df[i] = df.get(i, 0) + 1
        asked = [q for q in records if q.source == source]
        questions = sentence_tokens(model, [q.text for q in asked])
        for storage in storages:
            stored = {r: _stored(m, storage) for r, (_, m) in of_row.items()}
            for q, (ids, vectors) in zip(asked, questions, strict=True):
                words = [j for j, i in enumerate(ids.tolist()) if i not in punctuation]
                keep = words or list(range(len(ids)))
                idf = np.array(
                    [
                        max(math.log((len(encoded) + 1) / (df.get(int(i), 0) + 0.5)), 0.1)
                        for i in ids[keep]
                    ]
                )
                if not len(idf):
                    maxsim = np.zeros(len(q.rows))
                else:
                    values = []
                    for r in q.rows:
                        m = np.vstack(
                            [stored[int(s)] for s in features.sentence_rows[int(r)] if s >= 0]
                        )
                        values.append(float(idf @ (vectors[keep] @ m.T).max(axis=1) / idf.sum()))
                    maxsim = np.array(values)
                q.signals = np.concatenate([q.signals, maxsim[:, None]], axis=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=Path, required=True)
    parser.add_argument("--work", type=Path, required=True)
    args = parser.parse_args()
    records = pickle.loads(args.records.read_bytes())
    width = len(ff.SIGNALS)
    print("present signals, refitted:", cross_validate(records, width, 0), flush=True)
    storages = ["float32", "float16", "int8"]
    add(records, args.work, storages)
    for k, storage in enumerate(storages):
        cut = [copy.copy(q) for q in records]
        for q in cut:
            q.signals = np.concatenate(
                [q.signals[:, :width], q.signals[:, width + k : width + k + 1]], axis=1
            )
        for n in (5, 10):
            print(
                f"{storage} sentence MaxSim re-scoring the top {n}:",
                cross_validate(cut, width + 1, n),
                flush=True,
            )
        if storage == "int8":
            from try_late_interaction import _fit, _TopN

            w = _fit(cut, width + 1)
            print("int8, fitted on all tune data:", w.tolist(), _TopN(cut, 10).figures(w))


if __name__ == "__main__":
    main()
