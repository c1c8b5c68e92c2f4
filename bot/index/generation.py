"""What one generation of the index holds: its arrays, by kind, and the files they go to.

A generation names its own files `<kind>-<generation>.npy` and may name files of earlier
generations that it reads unchanged (vector and token segments: bot/index/vectors.py).
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.index.approximate import Ivf
from bot.index.carry import LibraryCut
from bot.index.initials import initials_table
from bot.index.postings import Postings, WordCounts
from bot.index.records import Columns
from bot.index.reuse import Assembled, Previous, VectorPlan, keys_table, layout_tokens
from bot.index.tokens import StoredTokens
from bot.index.vectors import plan_layout, segment_key

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["generation_files", "generation_name"]


def generation_name() -> str:
    """A name no other build on this machine picks: time, process and a clock tick."""
    return time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}-{time.monotonic_ns() % 10**6}"


def generation_files(
    generation: str,
    cut: LibraryCut,
    plan: VectorPlan,
    words: WordCounts,
    lexical: Postings,
    assembled: Assembled,
    ivf: Ivf | None,
    singles: NDArray[np.bool_],
    index_dir: Path,
    previous: Previous | None,
) -> tuple[dict[str, NDArray[Any]], dict[str, str], StoredTokens | None]:
    """The arrays the generation writes, the manifest's files (its own and the earlier
    segments it reads), and its token embeddings as the calibration reads them."""
    columns = cut.columns
    assert lexical.frequencies is not None  # a build's postings always have them
    arrays: dict[str, NDArray[Any]] = {
        "passages": columns.passages,
        "paragraphs": columns.paragraphs,
        "texts": columns.texts,
        "sentences": columns.sentences,
        "keys": keys_table(plan.keys, words),
        "vocabulary": lexical.vocabulary,
        "lexicon": lexical.lexicon,
        "postings": lexical.postings,
        "words": lexical.words,
        "frequencies": lexical.frequencies,
        "initials": initials_table(
            columns, cut.carried_from, _previous_initials(index_dir, previous)
        ),
    }
    if ivf is not None:
        arrays["centroids"], arrays["lists"] = ivf.centroids, ivf.lists
    layout = plan_layout(
        assembled.vectors, previous.manifest.files if previous is not None else None
    )
    if layout.slots is not None:
        arrays["slots"] = layout.slots
    if layout.new is not None:
        arrays[segment_key(len(layout.kept))] = layout.new
    # The sentences' token embeddings, segment for segment with the vectors.
    token_files, kept_tokens, tokens = layout_tokens(assembled, layout, previous, plan, singles)
    arrays.update(token_files)
    files = {name: f"{name.split('.')[0]}-{generation}.npy" for name in arrays}
    # The segments of earlier generations the new one reads (bot/index/vectors.py).
    files.update({segment_key(number): name for number, name in enumerate(layout.kept)})
    files.update(kept_tokens)
    return arrays, files, tokens


def _previous_initials(index_dir: Path, previous: Previous | None) -> tuple[Columns, Path] | None:
    """The previous generation's columns and table of initials, when it has both."""
    if previous is None or previous.columns is None or "initials" not in previous.manifest.files:
        return None
    return previous.columns, index_dir / previous.manifest.files["initials"]
