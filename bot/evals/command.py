"""`footnote eval`: the essay question sets (or a file of your own), or a SQuAD file."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

# Only argparse at import time: `footnote --help` builds this parser and must stay quick.
if TYPE_CHECKING:
    from bot.evals.evaluation import Split
    from bot.search.retriever import Retriever


def add_eval_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--questions",
        default=None,
        metavar="FILE",
        help="a question file of your own (default: the shipped essay's question sets)",
    )
    parser.add_argument(
        "--squad",
        default=None,
        metavar="FILE",
        help="a SQuAD v1.1/v2.0 file: its articles become a temporary corpus",
    )
    parser.add_argument(
        "--split",
        choices=["held-out", "tune", "all"],
        default="held-out",
        help="which questions: the half nothing was tuned on (default), the tune half, or all",
    )
    parser.add_argument("--mode", choices=["hybrid", "dense", "lexical", "all"], default="all")
    parser.add_argument("--json", action="store_true", help="one JSON summary per line")
    parser.add_argument("-v", "--verbose", action="store_true", help="list the misses")
    parser.add_argument(
        "--calibrate",
        action="store_true",
        help="also print the verdict thresholds the index calibrated for this corpus",
    )


def run_squad_command(args: argparse.Namespace, model: str, out: TextIO) -> int:
    from bot.evals.squad_eval import run_squad
    from bot.evals.table import squad_lines

    split: Split = args.split
    report = run_squad(Path(args.squad), model, split)
    if args.json:
        for figures in report.rankings:
            out.write(json.dumps({"split": split, **figures.summary()}) + "\n")
        for item in report.transfer:
            out.write(json.dumps({"split": split, "transfer": item.summary()}) + "\n")
        return 0
    out.write("\n".join(squad_lines(report, args.verbose)) + "\n")
    return 0


def run_essay_command(args: argparse.Namespace, retriever: Retriever, out: TextIO) -> int:
    from bot.evals import KOREAN_CRISIS_SETS
    from bot.evals.evaluation import EvalSet, evaluate, load_eval_set
    from bot.evals.table import essay_line
    from bot.search.ranking import RetrievalConfig

    split: Split = args.split
    files = [Path(args.questions)] if args.questions else list(KOREAN_CRISIS_SETS)
    eval_set = EvalSet.merge(load_eval_set(path) for path in files).part(split)
    modes = ["hybrid", "dense", "lexical"] if args.mode == "all" else [args.mode]
    for mode in modes:
        ranked = retriever.with_config(RetrievalConfig(mode=mode))
        report = evaluate(ranked, eval_set)
        thresholds = ranked.thresholds.to_json()
        if args.json:
            summary = {"split": split, **report.summary()}
            if args.calibrate:
                summary.update(thresholds)
            out.write(json.dumps(summary) + "\n")
            continue
        out.write(essay_line(report) + "\n")
        if args.calibrate:
            out.write(f"{'':<12} calibrated for this corpus: {thresholds}\n")
        if args.verbose:
            out.writelines(f"    miss: {failure}\n" for failure in report.failures)
    return 0
