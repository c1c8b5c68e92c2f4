# ruff: noqa: E402, E501, E741  (measurement scripts, kept as run)
"""Micro-benchmark of embedding variants on the SQuAD passages (one process, alternating).

usage: embed_variants.py CORPUS [--only VARIANT,...] [--rounds N]
  CORPUS    the SQuAD corpus folder (bot/evals/squad.py write_corpus; e2e.sh's header)
  --only    the variants to time, comma-separated (default: all; names below in `variants`)
  --rounds  rounds of every variant in turn (default 3)
"""

import argparse
import copy
import statistics
import time
import warnings
from pathlib import Path

import numpy as np
import torch

warnings.filterwarnings("ignore")
from sentence_transformers import SentenceTransformer

from bot.corpus import read_corpus
from bot.index.embedding import bundled_model_dir
from bot.index.passages import cut_corpus

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("corpus", type=Path, help="the SQuAD corpus folder")
parser.add_argument("--only", help="variants to time, comma-separated (default: all)")
parser.add_argument("--rounds", type=int, default=3, help="rounds (default 3)")
args = parser.parse_args()
docs, _ = read_corpus(args.corpus)
paragraphs, passages = cut_corpus(docs)
texts = [p.text for p in passages]
model = SentenceTransformer(str(bundled_model_dir()), device="cpu")
tok = model.tokenizer
lens = [len(tok(t)["input_ids"]) for t in texts]
print(
    f"passages {len(texts)} tokens: mean {np.mean(lens):.1f} median {np.median(lens)} max {max(lens)} >256: {sum(l > 256 for l in lens)} max_seq_length {model.max_seq_length} fast={tok.is_fast}"
)
singles = [i for i, p in enumerate(passages) if p.first_sentence == p.last_sentence]
print(
    f"single-sentence passages {len(singles)}; total tokens all {sum(lens)} singles {sum(lens[i] for i in singles)}"
)

qmodel = torch.ao.quantization.quantize_dynamic(
    copy.deepcopy(model), {torch.nn.Linear}, dtype=torch.qint8
)


def embed(m, xs, batch=128, bf16=False):
    order = sorted(range(len(xs)), key=lambda i: len(xs[i]))
    out = np.zeros((len(xs), 384), dtype=np.float32)
    for b in range(0, len(order), batch):
        rows = order[b : b + batch]
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out[rows] = m.encode(
                [xs[i] for i in rows],
                batch_size=batch,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
    return out


def pooled(m, xs, batch=128):
    """Unnormalised mean-pooled vectors and token counts."""
    order = sorted(range(len(xs)), key=lambda i: len(xs[i]))
    vec = np.zeros((len(xs), 384), dtype=np.float32)
    cnt = np.zeros(len(xs), dtype=np.float32)
    with torch.inference_mode():
        for b in range(0, len(order), batch):
            rows = order[b : b + batch]
            feats = m.tokenize([xs[i] for i in rows])
            out = m[0](dict(feats))
            mask = out["attention_mask"].unsqueeze(-1).float()
            s = (out["token_embeddings"] * mask).sum(1)
            c = mask.sum(1)
            vec[rows] = (s / c).numpy()
            cnt[rows] = c.squeeze(-1).numpy()
    return vec, cnt


def compose(m):
    vec, cnt = pooled(m, [texts[i] for i in singles])
    by_sent = {
        (passages[i].paragraph_row, passages[i].first_sentence): k for k, i in enumerate(singles)
    }
    out = np.zeros((len(texts), 384), dtype=np.float32)
    for i, p in enumerate(passages):
        ks = [by_sent[(p.paragraph_row, s)] for s in range(p.first_sentence, p.last_sentence + 1)]
        v = (vec[ks] * cnt[ks, None]).sum(0)
        out[i] = v / np.linalg.norm(v)
    return out


variants = {
    "fp32-b128-t2": lambda: embed(model, texts),
    "int8-b128-t2": lambda: embed(qmodel, texts),
    "fp32-b128-t1": lambda: embed(model, texts),
    "bf16-b128-t2": lambda: embed(model, texts, bf16=True),
    "fp32-b32-t2": lambda: embed(model, texts, batch=32),
    "fp32-b256-t2": lambda: embed(model, texts, batch=256),
    "compose-fp32": lambda: compose(model),
    "compose-int8": lambda: compose(qmodel),
}
only = args.only.split(",") if args.only else list(variants)
rounds = args.rounds
embed(model, texts[:64])
embed(qmodel, texts[:64])  # warm-up
times = {k: [] for k in only}
vecs = {}
for r in range(rounds):
    for k in only:
        torch.set_num_threads(1 if k.endswith("-t1") else 2)
        t = time.perf_counter()
        vecs[k] = variants[k]()
        times[k].append(time.perf_counter() - t)
        print(f"round {r} {k}: {len(texts) / times[k][-1]:.1f} passages/s", flush=True)
ref = vecs.get("fp32-b128-t2")
for k in only:
    ps = [len(texts) / t for t in times[k]]
    line = f"{k:14s} passages/s median {statistics.median(ps):6.1f} runs {', '.join(f'{p:.1f}' for p in ps)}"
    if ref is not None:
        cos = (vecs[k] * ref).sum(1)
        line += f" | cos vs fp32: mean {cos.mean():.4f} min {cos.min():.4f}"
    print(line)
