"""What `footnote bench` can be asked to measure: its options, defined once.

`add_bench_arguments` is the argparse definition (bot/cli.py mounts it under `footnote bench`),
`options_from_args` turns the parsed arguments into a BenchOptions, the one object every
measurement reads.  Kept light: `footnote --help` builds this parser.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.errors import BenchError
from bot.evals import KOREAN_CRISIS_QUESTIONS

INLINE_TEXT = "What is the dual track proposal?"
# Python's HTML documentation, from the Debian package python3.11-doc (bot/bench/pydocs.py).
PYDOCS_HTML = Path("/usr/share/doc/python3.11/html")


@dataclass
class BenchOptions:
    corpus_dir: Path
    index_dir: Path | None
    model: str
    questions_file: Path = KOREAN_CRISIS_QUESTIONS
    rounds: int = 5
    warmup: int = 1
    burst: int = 20
    burst_trials: int = 5
    inline: bool = True
    inline_text: str = INLINE_TEXT
    keystroke_ms: tuple[int, ...] = (120, 250)
    startup: bool = False
    startup_runs: int = 5
    e2e: bool = False
    chats: tuple[int, ...] = (1, 20, 100)
    e2e_rounds: int = 5
    first_answer_runs: int = 3
    scale: tuple[int, ...] = ()
    incremental: tuple[int, ...] = ()
    embed_sample: int = 2000
    scale_queries: int = 200
    costs: bool = False
    costs_scale: float = 1.0
    web: bool = False
    pydocs: Path | None = None
    torch_threads: int | None = None
    json: bool = False
    out: Path | None = None


def add_bench_arguments(bench: argparse.ArgumentParser) -> None:
    """Every option of `footnote bench` (docs/performance.md explains what each measures)."""
    bench.add_argument("--json", action="store_true", help="print one JSON summary")
    bench.add_argument("--out", metavar="FILE", help="also write the JSON summary to FILE")
    bench.add_argument("--model", help="embedding model (default $FOOTNOTE_MODEL); fake:hashing")
    bench.add_argument(
        "--questions",
        default=None,
        metavar="FILE",
        help="evaluation file whose questions are asked (default: the shipped korean_crisis)",
    )
    bench.add_argument("--rounds", type=int, default=5, help="timed rounds (default 5)")
    bench.add_argument("--warmup", type=int, default=1, help="warm-up rounds (default 1)")
    bench.add_argument("--burst", type=int, default=20, help="questions at once (default 20)")
    bench.add_argument("--burst-trials", type=int, default=5, metavar="N")
    bench.add_argument(
        "--keystroke-ms",
        default="120,250",
        metavar="MS,...",
        help="inline typing speeds to simulate ('' to skip)",
    )
    bench.add_argument("--inline-text", default=INLINE_TEXT)
    bench.add_argument("--startup", action="store_true", help="time CLI start-up (subprocesses)")
    bench.add_argument("--startup-runs", type=int, default=5, metavar="N")
    bench.add_argument(
        "--e2e",
        action="store_true",
        help="end to end: the bot as `footnote run` starts it, against the bench's Bot API server",
    )
    bench.add_argument("--chats", default="1,20,100", metavar="N,...")
    bench.add_argument("--e2e-rounds", type=int, default=5, metavar="N")
    bench.add_argument("--first-answer-runs", type=int, default=3, metavar="N")
    bench.add_argument(
        "--scale",
        nargs="?",
        const="1000,10000",
        metavar="N,...",
        help="synthetic corpora of these sizes (default 1000,10000; e.g. 10000,100000,1000000)",
    )
    bench.add_argument(
        "--incremental",
        nargs="?",
        const="10,100,1000",
        metavar="N,...",
        help="add one document to libraries of N documents (default 10,100,1000)",
    )
    bench.add_argument(
        "--embed-sample",
        type=int,
        default=2000,
        metavar="N",
        help="passages of the 10k corpus to embed with the model (0 = all, -1 = skip)",
    )
    bench.add_argument("--scale-queries", type=int, default=200, metavar="N")
    bench.add_argument(
        "--costs",
        action="store_true",
        help="bounded costs: a 5 MB paragraph indexed and cited, a 1M-paragraph section shown",
    )
    bench.add_argument(
        "--costs-scale",
        type=float,
        default=1.0,
        metavar="F",
        help="scale the --costs sizes (default 1; 0.01 = a 50 KB paragraph, 10k paragraphs)",
    )
    bench.add_argument(
        "--web",
        action="store_true",
        help="the web reader: /p/<id> on a 10k-word essay, /api/ask beside the CLI's answer path",
    )
    bench.add_argument(
        "--pydocs",
        nargs="?",
        const=str(PYDOCS_HTML),
        metavar="DIR",
        help="index Python's HTML documentation (python3.11-doc, installed with apt-get when "
        f"missing; default {PYDOCS_HTML}) with the hashing embedder, then time the first answer, "
        "sections and cite on it",
    )
    bench.add_argument(
        "--torch-threads", type=int, metavar="N", help="torch intra-op threads (default: torch's)"
    )


def parse_counts(text: str) -> tuple[int, ...]:
    """'1,20,100' (or '1e6', '10_000') as non-negative integers."""
    try:
        values = tuple(int(float(part)) for part in text.replace("_", "").split(",") if part)
    except ValueError:
        raise BenchError(f"expected comma-separated numbers, got {text!r}") from None
    if any(v < 0 for v in values):
        raise BenchError(f"expected non-negative numbers, got {text!r}")
    return values


def options_from_args(
    args: Any, corpus_dir: Path, index_dir: Path | None, model: str
) -> BenchOptions:
    if args.rounds < 1 or args.warmup < 0 or args.burst < 0:
        raise BenchError("--rounds must be at least 1, --warmup and --burst at least 0")
    if not 0 < args.costs_scale <= 1:
        raise BenchError("--costs-scale must be above 0 and at most 1")
    return BenchOptions(
        corpus_dir=corpus_dir,
        index_dir=index_dir,
        model=args.model or model,
        questions_file=Path(args.questions) if args.questions else KOREAN_CRISIS_QUESTIONS,
        rounds=args.rounds,
        warmup=args.warmup,
        burst=args.burst,
        burst_trials=max(1, args.burst_trials),
        inline=args.keystroke_ms != "",
        inline_text=args.inline_text,
        keystroke_ms=parse_counts(args.keystroke_ms),
        startup=args.startup,
        startup_runs=max(1, args.startup_runs),
        e2e=args.e2e,
        chats=parse_counts(args.chats),
        e2e_rounds=max(1, args.e2e_rounds),
        first_answer_runs=max(0, args.first_answer_runs),
        scale=parse_counts(args.scale) if args.scale else (),
        incremental=parse_counts(args.incremental) if args.incremental else (),
        embed_sample=args.embed_sample,
        scale_queries=max(10, args.scale_queries),
        costs=args.costs,
        costs_scale=args.costs_scale,
        web=getattr(args, "web", False),
        pydocs=Path(args.pydocs) if getattr(args, "pydocs", None) else None,
        torch_threads=args.torch_threads,
        json=args.json,
        out=Path(args.out) if args.out else None,
    )
