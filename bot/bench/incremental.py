"""`footnote bench --incremental 10,100,1000`: what adding one document to a library costs.

For each N: a library of N synthetic documents (about PASSAGES_PER_DOCUMENT passages each,
text from bot/bench/synth.py) is indexed with the hashing embedder under the model's name: the
model would take hours above a few documents, and those vectors are only reused, never asked.
Then one real document (the first file of the bench corpus) is added and the index rebuilt
with the model (warm), and the same document is embedded alone with it, alternately, ADD_ROUNDS
times (each add on a fresh copy of the library's index): the ratio of their medians is what the
incremental build costs beyond the model's own work.  Last, a fresh process opens the
library (model load excluded) and answers one question given its vector, with its peak RSS.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from bot.bench.stats import table

if TYPE_CHECKING:
    from bot.bench.options import BenchOptions

PASSAGES_PER_DOCUMENT = 100
# Adds (and embeddings alone) per size, alternated; the table gives their medians.
ADD_ROUNDS = 3

# Run in a fresh process, so its peak RSS is the open's own.
_OPEN_CHILD = r"""
import json, sys, time
import numpy as np
started = time.perf_counter()
from pathlib import Path
from bot.index.embedding import HashingEmbedder
from bot.index.store import load_index
from bot.search.retriever import Retriever
imported = time.perf_counter()
store = load_index(Path(sys.argv[1]))
retriever = Retriever(store, HashingEmbedder(store.manifest.dimension))
opened = time.perf_counter()
vector = np.random.default_rng(0).standard_normal(store.manifest.dimension).astype(np.float32)
retriever.ask("why do the talks fail", 4, vector / np.linalg.norm(vector))
answered = time.perf_counter()
status = Path("/proc/self/status").read_text()
peak = next(int(l.split()[1]) for l in status.splitlines() if l.startswith("VmHWM:"))
print(json.dumps({"import_seconds": imported - started, "open_seconds": opened - imported,
                  "first_answer_seconds": answered - opened, "peak_rss_mib": peak / 1024}))
"""


def write_library(directory: Path, documents: int, seed_corpus: Path) -> None:
    """N plain-text documents of synthetic paragraphs, PASSAGES_PER_DOCUMENT passages each."""
    from bot.bench.synth import seed_text, synthetic_documents

    paragraphs = [
        paragraph.text
        for document in synthetic_documents(
            documents * PASSAGES_PER_DOCUMENT, seed_text(seed_corpus)
        )
        for section in document.sections
        for paragraph in section.paragraphs
    ]
    directory.mkdir(parents=True, exist_ok=True)
    per_document = max(1, len(paragraphs) // documents)
    # A library is older than the document added to it: files written seconds before the
    # library's build would be "racy" for its stamps (bot/index/fingerprint.py) and hashed
    # again by the first add, which no real library pays.
    an_hour_ago = time.time() - 3600
    for number in range(documents):
        chunk = paragraphs[number * per_document : (number + 1) * per_document]
        text = f"Library essay {number + 1}\n\n" + "\n\n".join(chunk) + "\n"
        path = directory / f"essay-{number + 1:05d}.txt"
        path.write_text(text, encoding="utf-8")
        os.utime(path, (an_hour_ago, an_hour_ago))


def open_in_child(index_dir: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _OPEN_CHILD, str(index_dir)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return {key: round(value, 3) for key, value in result.items()}


def one_size(documents: int, options: BenchOptions, added: Path, embedder: Any) -> dict[str, Any]:
    from bot.corpus import read_document
    from bot.index.build import build_index, embed_passages
    from bot.index.embedding import HashingEmbedder
    from bot.index.passages import cut_corpus
    from bot.search.calibration import calibrate

    with tempfile.TemporaryDirectory(prefix="footnote-incremental-") as tmp:
        corpus, index = Path(tmp) / "corpus", Path(tmp) / "index"
        write_library(corpus, documents, options.corpus_dir)
        stand_in = HashingEmbedder(dimension=embedder.dimension, name=embedder.name)
        started = time.perf_counter()
        # Calibrated, as `footnote index` does it.
        base = build_index(corpus, index, stand_in, allow_large=True, calibrate=calibrate)
        base_seconds = time.perf_counter() - started
        library = Path(tmp) / "library-index"
        shutil.copytree(index, library)
        (corpus / added.name).write_text(added.read_text(encoding="utf-8"), encoding="utf-8")
        _, passages = cut_corpus([read_document(corpus / added.name, corpus)])
        # Alternated, each add on a fresh copy of the library's index: the machine's load
        # moves both the same way, and the medians are compared.
        add_runs: list[float] = []
        alone_runs: list[float] = []
        for round_no in range(ADD_ROUNDS):
            if round_no:
                shutil.rmtree(index)
                shutil.copytree(library, index)
            # The copy's hundreds of MB are still dirty in the page cache; the add's fsyncs
            # would write them back too, which a library built long ago never costs.
            os.sync()
            started = time.perf_counter()
            embed_passages(passages, embedder)
            alone_runs.append(time.perf_counter() - started)
            started = time.perf_counter()
            report = build_index(corpus, index, embedder, allow_large=True, calibrate=calibrate)
            add_runs.append(time.perf_counter() - started)
        opened = open_in_child(index)
    add_seconds, alone_seconds = statistics.median(add_runs), statistics.median(alone_runs)
    return {
        "documents": documents,
        "passages": report.passages,
        "base_seconds": round(base_seconds, 2),
        "base_passages": base.passages,
        "reused": report.reused,
        "embedded": report.embedded,
        "removed": report.removed,
        "fits": report.fits,
        "add_seconds": round(add_seconds, 2),
        "alone_seconds": round(alone_seconds, 2),
        "add_runs": [round(value, 2) for value in add_runs],
        "alone_runs": [round(value, 2) for value in alone_runs],
        "ratio": round(add_seconds / alone_seconds, 2) if alone_seconds else None,
        "open": opened,
    }


def run_incremental(options: BenchOptions, log: TextIO) -> dict[str, Any]:
    from bot.index.embedding import make_embedder

    added = next(
        (p for p in sorted(options.corpus_dir.iterdir()) if p.suffix in {".txt", ".md"}), None
    )
    if added is None:
        from bot.errors import BenchError

        raise BenchError(f"no .txt or .md document in {options.corpus_dir} to add")
    embedder = make_embedder(options.model)
    embedder.encode(["warm-up"])  # the model loads before anything is timed
    sizes: list[dict[str, Any]] = []
    for documents in options.incremental:
        log.write(f"incremental: a library of {documents} documents, then {added.name} ...\n")
        sizes.append(one_size(documents, options, added, embedder))
    return {"model": options.model, "added": added.name, "sizes": sizes}


def format_incremental(result: dict[str, Any]) -> str:
    rows: list[Sequence[object]] = [
        [
            entry["documents"],
            entry["passages"],
            f"{entry['reused']}/{entry['embedded']}/{entry['removed']}",
            entry["add_seconds"],
            entry["alone_seconds"],
            entry["ratio"],
            entry["open"]["open_seconds"],
            entry["open"]["first_answer_seconds"],
            round(entry["open"]["peak_rss_mib"]),
        ]
        for entry in result["sizes"]
    ]
    header = [
        "library docs",
        "passages",
        "reused/embedded/removed",
        "add s (median)",
        "alone s (median)",
        "ratio",
        "open s",
        "1st answer s",
        "peak RSS MiB",
    ]
    title = (
        f"\nIncremental: {result['added']} added to a library of N synthetic documents "
        f"({result['model']}; the library's own vectors are stand-ins)"
    )
    fits = [
        f"{entry['documents']} documents: " + "; ".join(entry.get("fits", ()))
        for entry in result["sizes"]
        if entry.get("fits")
    ]
    return title + "\n" + table(rows, header) + "".join(f"\n{line}" for line in fits)
