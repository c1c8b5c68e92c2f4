"""A calibrated index over the shipped essay or one text of a test's own, with the hashing
embedder: fast, and enough for rules that read the corpus's words (missing names, aliases)."""

from __future__ import annotations

from pathlib import Path

from bot.index.build import build_index
from bot.index.embedding import HashingEmbedder
from bot.index.store import load_index
from bot.search.calibration import calibrate
from bot.search.retriever import Retriever
from tests.helpers.essay import copy_essay


def hashing_retriever(root: Path, text: str | None = None, name: str = "note.txt") -> Retriever:
    """A Retriever over `text` saved as `name` in a corpus under `root` (the essay if None)."""
    corpus = root / "corpus"
    if text is None:
        copy_essay(corpus)
    else:
        corpus.mkdir(parents=True)
        (corpus / name).write_text(text, encoding="utf-8")
    embedder = HashingEmbedder()
    build_index(corpus, root / "index", embedder, calibrate=calibrate)
    return Retriever(load_index(root / "index"), embedder)
