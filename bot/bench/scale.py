"""`footnote bench --scale 10000,100000,1000000`: how Footnote grows with the collection.

Three kinds of measurement, each in its own child process (so peak memory is the child's own;
bot/bench/scale_jobs.py runs them): embedding throughput with the real model (scale_text.py),
search on synthetic vectors (scale_search.py), and a synthetic corpus loaded and answered the
way the bot does it (scale_text.py).  The synthetic data is described in synth.py.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TextIO

from bot.bench.memory import memory_ceiling_gib
from bot.bench.options import BenchOptions
from bot.bench.scale_jobs import EmbedJob, SearchJob, TextJob, run_child
from bot.bench.stats import table
from bot.bench.synth import DESCRIPTION


def run_scale(options: BenchOptions, questions: Sequence[str], log: TextIO) -> dict[str, Any]:
    results: dict[str, Any] = {
        "sizes": list(options.scale),
        "vectors": DESCRIPTION,
        "memory_ceiling_gib": memory_ceiling_gib(),
        "search": [],
        "text": [],
    }
    corpus = str(options.corpus_dir.resolve())
    if options.embed_sample >= 0:
        log.write(f"scale: embedding throughput ({options.model}) ...\n")
        env = dict(os.environ)
        if options.torch_threads:
            env["OMP_NUM_THREADS"] = str(options.torch_threads)
        job = EmbedJob(model=options.model, corpus=corpus, sample=options.embed_sample)
        results["embedding"] = run_child(job, log, env)
    with tempfile.TemporaryDirectory(prefix="footnote-scale-") as tmp:
        questions_file = Path(tmp) / "questions.json"
        questions_file.write_text(json.dumps(list(questions)), encoding="utf-8")
        for size in options.scale:
            if size < 100:
                continue
            workdir = Path(tmp) / str(size)
            workdir.mkdir()
            log.write(f"scale: {size} passages, search ...\n")
            search = SearchJob(
                size=size, workdir=str(workdir), queries=options.scale_queries, save=True
            )
            results["search"].append({"size": size, **run_child(search, log)})
            log.write(f"scale: {size} passages, text + answer path ...\n")
            text = TextJob(
                size=size, workdir=str(workdir), questions=str(questions_file), corpus=corpus
            )
            results["text"].append({"size": size, **run_child(text, log)})
            # The vectors and the text child's index (gigabytes at 1M) go before the next size.
            for leftover in workdir.iterdir():
                if leftover.is_dir():
                    shutil.rmtree(leftover, ignore_errors=True)
                else:
                    leftover.unlink()
    return results


def format_scale(scale: dict[str, Any]) -> str:
    out: list[str] = []
    embedding = scale.get("embedding")
    if embedding:
        if "error" in embedding:
            out.append(f"\nEmbedding throughput: failed ({embedding['error']})")
        else:
            note = " (sample, extrapolated)" if embedding["extrapolated"] else ""
            estimates = ", ".join(
                f"{int(n):,} in {s / 60:.1f} min" for n, s in embedding["estimated_seconds"].items()
            )
            out.append(
                f"\nEmbedding ({embedding['model']}): {embedding['embedded']} of "
                f"{embedding['corpus_passages']} synthetic passages{note} at "
                f"{embedding['passages_per_second']:.0f} passages/s; {estimates}"
            )
    out.append(f"\nSearch on synthetic vectors ({scale['vectors']}):")
    rows = []
    for entry in scale.get("search", []):
        if "error" in entry:
            rows.append([entry["size"], "error", entry["error"][:60], "", "", "", "", ""])
            continue
        for index in entry["indexes"]:
            if index["type"] == "flat":
                rows.append(
                    [
                        entry["size"],
                        "flat",
                        "-",
                        index["build_seconds"],
                        index["peak_rss_gib"],
                        index["search"]["p50_ms"],
                        index["search"]["p95_ms"],
                        index["recall_at_10"],
                    ]
                )
                continue
            for point in index["sweep"]:
                chosen = entry.get("chosen_params") == {
                    "nlist": index["nlist"],
                    "nprobe": point["nprobe"],
                }
                rows.append(
                    [
                        entry["size"],
                        f"ivf{index['nlist']}" + (" *" if chosen else ""),
                        point["nprobe"],
                        index["build_seconds"],
                        index["peak_rss_gib"],
                        point["p50_ms"],
                        point["p95_ms"],
                        point["recall_at_10"],
                    ]
                )
    out.append(
        table(
            rows,
            [
                "passages",
                "index",
                "nprobe",
                "build s",
                "peak RSS GiB",
                "p50 ms",
                "p95 ms",
                "recall@10",
            ],
        )
    )
    out.append("(* = what choose_faiss_type picks for that size)")
    text_rows = []
    for entry in scale.get("text", []):
        if "error" in entry:
            text_rows.append(
                [
                    entry["size"],
                    f"error in {entry.get('phase')}: {entry['error'][:60]}",
                    "",
                    "",
                    "",
                    "",
                    "",
                    "",
                ]
            )
            continue
        text_rows.append(
            [
                entry["size"],
                entry["faiss_type"],
                entry["store_seconds"],
                entry["retriever_seconds"],
                entry["load_peak_rss_gib"],
                f"{entry['bm25']['p50_ms']:.2f}/{entry['bm25']['p95_ms']:.2f}",
                f"{entry['dense']['p50_ms']:.2f}/{entry['dense']['p95_ms']:.2f}",
                f"{entry['answer']['p50_ms']:.2f}/{entry['answer']['p95_ms']:.2f}",
            ]
        )
    largest = max(
        (e for e in scale.get("text", []) if e.get("answer_profile")),
        key=lambda e: int(e["size"]),
        default=None,
    )
    if text_rows:
        out.append("\nLoading and answering at scale (synthetic corpus; vector given):")
        out.append(
            table(
                text_rows,
                [
                    "passages",
                    "faiss",
                    "open s",
                    "retriever s",
                    "load peak GiB",
                    "BM25 p50/p95",
                    "dense p50/p95",
                    "answer p50/p95",
                ],
            )
        )
    if largest is not None:
        out.append(f"\nWhere the answer path's time goes at {largest['size']:,} passages:")
        out.append(
            table(
                [
                    [r["function"], r["calls_per_question"], r["ms_per_question"]]
                    for r in largest["answer_profile"]
                ],
                ["function (cumulative)", "calls/question", "ms/question"],
            )
        )
    return "\n".join(out)
