# ruff: noqa: E402, E501, UP031  (measurement scripts, kept as run)
"""Quality of window vectors composed from sentence vectors (token-weighted mean of the
sentences' unnormalised mean-pooled vectors), on the SQuAD set, all and held-out.

usage: compose_quality.py SQUAD
  SQUAD  the SQuAD articles and questions, e.g. ../shared/eval/squad-dev-2-articles.json
"""

import argparse
import tempfile
import warnings
from pathlib import Path

import numpy as np
import torch

warnings.filterwarnings("ignore")
from bot.config import DEFAULT_MODEL
from bot.evals.caching import CachingEmbedder
from bot.evals.squad import load_squad, write_corpus
from bot.evals.squad_eval import score_ranking, select
from bot.index.embedding import make_embedder
from bot.index.store import open_index
from bot.search.calibration import calibrate
from bot.search.ranking import RetrievalConfig
from bot.search.retriever import Retriever

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("squad", type=Path, help="a SQuAD JSON file (bot/evals/squad.py)")
squad = load_squad(parser.parse_args().squad)
emb = make_embedder(DEFAULT_MODEL)
cached = CachingEmbedder(emb)
tmp = Path(tempfile.mkdtemp())
corpus = write_corpus(list(squad.articles), tmp / "c")
store, _ = open_index(corpus, tmp / "i", cached, calibrate=calibrate)
model = emb._load()
passages = list(store.passages)
singles = [i for i, p in enumerate(passages) if p.first_sentence == p.last_sentence]
texts = [passages[i].text for i in singles]
vec = np.zeros((len(texts), 384), np.float32)
cnt = np.zeros(len(texts), np.float32)
order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
with torch.inference_mode():
    for b in range(0, len(order), 128):
        rows = order[b : b + 128]
        out = model[0](dict(model.tokenize([texts[i] for i in rows])))
        mask = out["attention_mask"].unsqueeze(-1).float()
        vec[rows] = ((out["token_embeddings"] * mask).sum(1) / mask.sum(1)).numpy()
        cnt[rows] = mask.sum(1).squeeze(-1).numpy()
by = {(passages[i].paragraph_row, passages[i].first_sentence): k for k, i in enumerate(singles)}
composed = np.zeros_like(np.asarray(store.vectors))
for i, p in enumerate(passages):
    ks = [by[(p.paragraph_row, s)] for s in range(p.first_sentence, p.last_sentence + 1)]
    v = (vec[ks] * cnt[ks, None]).sum(0)
    composed[i] = v / np.linalg.norm(v)
full = np.asarray(store.vectors)
print(
    "cos composed vs full: mean %.4f min %.4f; singles max diff %.2e"
    % (
        (composed * full).sum(1).mean(),
        (composed * full).sum(1).min(),
        np.abs(composed[singles] - full[singles]).max(),
    )
)
for label, vectors in (("full", full), ("composed", composed)):
    store.vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    store._faiss = None
    r = Retriever(store, cached)
    for split in ("all", "held-out"):
        qs = select(list(squad.questions), split)
        for mode in ("hybrid", "dense"):
            f = score_ranking(r.with_config(RetrievalConfig(mode=mode)), squad, qs)
            s = f.summary()
            print(
                f"{label:9s} {split:9s} {mode:7s} answer@1 {100 * s['answer_at_1']:.1f} para@1 {100 * s['paragraph_at_1']:.1f} answer@3 {100 * s['answer_at_3']:.1f} mrr {s['mrr']}",
                flush=True,
            )
