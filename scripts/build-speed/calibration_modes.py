# ruff: noqa: B007  (measurement scripts, kept as run)
"""Calibration cost per ranking mode over an index built by e2e.sh (docs/performance.md 9.3).

usage: calibration_modes.py INDEX
  INDEX  an index of the SQuAD corpus built with the bundled model, e.g. e2e.sh's OUT/idx-full
"""

import argparse
import statistics
import time
from pathlib import Path

from bot.index.embedding import make_embedder
from bot.index.store import load_index
from bot.search import calibration as c
from bot.search.library import Library
from bot.search.ranking import Ranker, RetrievalConfig
from bot.search.thresholds import UNCALIBRATED

parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
parser.add_argument("index", type=Path, help="an index built by e2e.sh (OUT/idx-LABEL)")
args = parser.parse_args()
emb = make_embedder("bundled:all-MiniLM-L6-v2")
store = load_index(args.index)
emb.encode(["warm"])
qs = c.off_topic_questions() + c.pseudo_questions(store)
res = {"embed": [], "hybrid": [], "dense": [], "lexical": []}
for r in range(3):
    t = time.perf_counter()
    v = emb.encode(qs)
    res["embed"].append(time.perf_counter() - t)
    lib = Library(store)
    for mode in c.MODES:
        t = time.perf_counter()
        rk = Ranker(store, lib, RetrievalConfig(mode=mode, thresholds=UNCALIBRATED[mode]))
        [rk.best_score(q, v[i]) for i, q in enumerate(qs)]
        res[mode].append(time.perf_counter() - t)
print(
    len(qs),
    "questions;",
    {
        k: f"median {statistics.median(x):.3f}s runs {[round(y, 3) for y in x]}"
        for k, x in res.items()
    },
)
