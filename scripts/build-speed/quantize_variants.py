"""Int8 quantization variants of the model: cosine with the full model's vectors and time,
on every 4th SQuAD passage (docs/performance.md 9.3).  Each variant is timed beside fp32.

usage: quantize_variants.py CORPUS
  CORPUS  the SQuAD corpus folder (bot/evals/squad.py write_corpus; e2e.sh's header)
"""

import argparse
import copy
import time
import warnings
from pathlib import Path

import torch
from sentence_transformers import SentenceTransformer
from torch.ao.quantization import (
    default_dynamic_qconfig,
    per_channel_dynamic_qconfig,
    quantize_dynamic,
)

from bot.corpus import read_corpus
from bot.index.embedding import bundled_model_dir
from bot.index.passages import cut_corpus

warnings.filterwarnings("ignore")
parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("corpus", type=Path, help="the SQuAD corpus folder")
docs, _ = read_corpus(parser.parse_args().corpus)
_, passages = cut_corpus(docs)
texts = [p.text for p in passages][::4]
model = SentenceTransformer(str(bundled_model_dir()), device="cpu")


def encode(m):
    return m.encode(texts, batch_size=128, normalize_embeddings=True, convert_to_numpy=True)


reference = encode(model)
linear = [n for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)]


def ffn_output(name):
    return "output.dense" in name and "attention" not in name


def quantized(spec):
    return quantize_dynamic(copy.deepcopy(model), spec, dtype=torch.qint8)


variants = {
    "per-tensor": lambda: quantized({torch.nn.Linear}),
    "per-channel": lambda: quantized({torch.nn.Linear: per_channel_dynamic_qconfig}),
    "per-channel, FFN output fp32": lambda: quantized(
        {n: per_channel_dynamic_qconfig for n in linear if not ffn_output(n)}
    ),
    "per-tensor, FFN output fp32": lambda: quantized(
        {n: default_dynamic_qconfig for n in linear if not ffn_output(n)}
    ),
}
for label, make in variants.items():
    m = make()
    encode(m)
    t = time.perf_counter()
    vectors = encode(m)
    variant_s = time.perf_counter() - t
    t = time.perf_counter()
    encode(model)
    full_s = time.perf_counter() - t
    cos = (vectors * reference).sum(1)
    print(
        f"{label:30s} cos mean {cos.mean():.4f} min {cos.min():.4f} | {variant_s:.2f}s vs fp32 "
        f"{full_s:.2f}s: {full_s / variant_s:.2f}x",
        flush=True,
    )
