"""What is measured: the questions, and the index and Retriever they are asked of."""

from __future__ import annotations

import contextlib
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from bot.bench.options import BenchOptions
from bot.errors import BenchError
from bot.render.callbacks import MAX_RESULTS

if TYPE_CHECKING:
    from bot.search.retriever import Retriever

RESULTS_PER_QUESTION = MAX_RESULTS  # what the bot asks for (bot/telegram/handlers.py)


def load_questions(path: Path) -> list[str]:
    """Every question of an evaluation file: on-topic ones, then the off-topic ones."""
    from bot.evals.evaluation import load_eval_set

    eval_set = load_eval_set(path)
    questions = [q.question for q in eval_set.questions] + list(eval_set.off_topic)
    if not questions:
        raise BenchError(f"no questions in {path}")
    return questions


@contextlib.contextmanager
def bench_index(options: BenchOptions, default_model: str) -> Iterator[Path]:
    """The index to measure: the configured one when it is for this model, else a temporary
    one (so `--model fake:hashing` never overwrites the real index)."""
    if options.index_dir is not None and options.model == default_model:
        yield options.index_dir
        return
    with tempfile.TemporaryDirectory(prefix="footnote-bench-") as tmp:
        yield Path(tmp) / "index"


def open_bench_retriever(options: BenchOptions, index_dir: Path) -> Retriever:
    from bot.search.retriever import open_retriever

    retriever, _ = open_retriever(options.corpus_dir, index_dir, options.model)
    retriever.embed(["warm-up"])  # load the model before anything is timed
    if options.torch_threads and "torch" in sys.modules:
        import torch

        torch.set_num_threads(options.torch_threads)
    return retriever


def faiss_single_thread() -> None:
    """One FAISS thread in this thread, as the Engine's workers use (bot/search/engine.py)."""
    with contextlib.suppress(ImportError):
        import faiss

        faiss.omp_set_num_threads(1)


def cite_phrase(retriever: Retriever) -> str:
    """A phrase from the index's longest early passage, for timing `footnote cite`."""
    passages = retriever.store.passages
    if not passages:
        return "the"
    words = max(passages[: min(len(passages), 50)], key=lambda p: len(p.text)).text.split()
    return " ".join(words[2:8]) or "the"
