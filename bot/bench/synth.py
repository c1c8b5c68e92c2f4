"""Synthetic data for the scale runs: clustered unit vectors (with exact top-k for recall)
and a corpus of documents that cut into exactly N passages.

Vectors: 384 dimensions (all-MiniLM-L6-v2), a Gaussian mixture around 4096 centroids, themselves
grouped under 64 topics, with Zipf-distributed cluster sizes, plus noise, L2-normalised;
queries are fresh draws from the same mixture.  Text: sentences drawn from a Zipf vocabulary
seeded with the shipped corpus's words and the bundled model's WordPiece whole words.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from bot.corpus import Document

DIMENSION = 384  # all-MiniLM-L6-v2
CENTROIDS = 4096
TOPICS = 64
NOISE = 1.5  # noise norm relative to a centroid: within-cluster cosine about 0.3
DESCRIPTION = (
    f"synthetic: {CENTROIDS}-centroid mixture under {TOPICS} topics, noise {NOISE}, "
    f"{DIMENSION} dimensions, normalised; queries from the same mixture"
)


def _normalise(rows: NDArray[np.float32]) -> NDArray[np.float32]:
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    return rows


class Mixture:
    """A two-level Gaussian mixture on the unit sphere (see the module docstring)."""

    def __init__(self, dimension: int = DIMENSION, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        self.dimension = dimension
        topics = _normalise(rng.standard_normal((TOPICS, dimension)).astype(np.float32))
        spread = _normalise(rng.standard_normal((CENTROIDS, dimension)).astype(np.float32))
        self.centroids = _normalise(topics[rng.integers(TOPICS, size=CENTROIDS)] + 0.6 * spread)
        weights = 1.0 / np.arange(1, CENTROIDS + 1) ** 0.5
        self.weights = weights / weights.sum()

    def sample(self, count: int, seed: int, chunk: int = 100_000) -> NDArray[np.float32]:
        rng = np.random.default_rng(seed)
        out = np.empty((count, self.dimension), dtype=np.float32)
        scale = NOISE / math.sqrt(self.dimension)
        for begin in range(0, count, chunk):
            size = min(chunk, count - begin)
            which = rng.choice(CENTROIDS, size=size, p=self.weights)
            noise = rng.standard_normal((size, self.dimension), dtype=np.float32) * scale
            out[begin : begin + size] = self.centroids[which] + noise
            _normalise(out[begin : begin + size])
        return out


def exact_top(
    vectors: NDArray[np.float32], queries: NDArray[np.float32], k: int, chunk: int = 131_072
) -> NDArray[np.int64]:
    """Exact inner-product top-k by blocked matrix products (no second copy of `vectors`)."""
    best_scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
    best_rows = np.zeros((len(queries), k), dtype=np.int64)
    for begin in range(0, len(vectors), chunk):
        scores = queries @ vectors[begin : begin + chunk].T
        take = min(k, scores.shape[1])
        part = np.argpartition(-scores, take - 1, axis=1)[:, :take]
        merged_scores = np.hstack([best_scores, np.take_along_axis(scores, part, axis=1)])
        merged_rows = np.hstack([best_rows, part + begin])
        order = np.argsort(-merged_scores, axis=1)[:, :k]
        best_scores = np.take_along_axis(merged_scores, order, axis=1)
        best_rows = np.take_along_axis(merged_rows, order, axis=1)
    return best_rows


# -- synthetic text --------------------------------------------------------------------------


_SYLLABLES = [c + v for c in "bdfgklmnprstvz" for v in ("a", "e", "i", "o", "u", "ai", "ou")]


def _vocabulary(seed_words: Sequence[str], size: int, rng: np.random.Generator) -> list[str]:
    words = list(dict.fromkeys(w for w in seed_words if w.isalpha()))
    seen = set(words)
    while len(words) < size:
        word = "".join(rng.choice(_SYLLABLES, size=int(rng.integers(2, 5))))
        if word not in seen:
            seen.add(word)
            words.append(word)
    return words[:size] if len(words) > size else words


def _english_words() -> list[str]:
    """Whole words of the bundled model's WordPiece vocabulary (one token each, so synthetic
    passages cost the model what English text of the same length costs); [] without it."""
    try:
        from bot.index.embedding import bundled_model_dir

        lines = (bundled_model_dir() / "vocab.txt").read_text(encoding="utf-8").splitlines()
    except Exception:
        return []
    return [w for w in lines if len(w) > 1 and w.isascii() and w.isalpha()]


def _windows(sentences: int) -> int:
    return 1 if sentences == 1 else 3 * sentences - 3


def synthetic_documents(passages: int, seed_text: str, seed: int = 0) -> list[Document]:
    """Documents that cut into exactly `passages` passages (sentence windows)."""
    import re

    from bot.corpus import Document, Paragraph, Section
    from bot.index.sentences import split_sentences

    rng = np.random.default_rng(seed)
    frequency: dict[str, int] = {}
    for word in re.findall(r"[^\W\d_]+", seed_text):
        frequency[word.lower()] = frequency.get(word.lower(), 0) + 1
    seeds = sorted(frequency, key=lambda w: -frequency[w]) + _english_words()
    expected_words = passages * 9  # about 2.6 passages per sentence, 24 words per sentence
    vocabulary = _vocabulary(seeds, max(len(seeds), int(30 * math.sqrt(expected_words))), rng)
    ranks = np.arange(1, len(vocabulary) + 1, dtype=np.float64)
    zipf = 1.0 / ranks**1.05
    zipf /= zipf.sum()

    remaining = passages
    plans: list[int] = []  # sentences per paragraph
    while remaining > 0:
        sentences = int(rng.integers(2, 9))
        while sentences > 1 and _windows(sentences) > remaining:
            sentences -= 1
        plans.append(sentences)
        remaining -= _windows(sentences)
    cdf = np.cumsum(zipf)
    # Every word drawn up front (24 per sentence on average, and some to spare for retries).
    pool: list[str] = [
        vocabulary[i] for i in np.searchsorted(cdf[:-1], rng.random(sum(plans) * 26 + 64))
    ]
    cursor = 0

    def sentence(length: int) -> str:
        nonlocal cursor
        if cursor + length > len(pool):
            cursor = 0
        words = pool[cursor : cursor + length]
        cursor += length
        return words[0].capitalize() + " " + " ".join(words[1:]) + "."

    documents: list[Document] = []
    per_document, per_section = 200, 10
    for doc_no, first in enumerate(range(0, len(plans), per_document)):
        title = f"Synthetic essay {doc_no + 1}"
        text_parts = [title, ""]
        offset = len(title) + 2
        sections: list[Section] = []
        doc_plans = plans[first : first + per_document]
        for section_start in range(0, len(doc_plans), per_section):
            heading = f"Part {section_start // per_section + 1}"
            text_parts += [heading, ""]
            offset += len(heading) + 2
            paragraphs: list[Paragraph] = []
            for sentences in doc_plans[section_start : section_start + per_section]:
                lengths = rng.integers(10, 39, size=sentences)
                body = " ".join(sentence(int(n)) for n in lengths)
                for _ in range(10):  # a sentence ending in "mr." would not end there
                    if len(split_sentences(body)) == sentences:
                        break
                    body = " ".join(sentence(int(n)) for n in lengths)
                else:
                    body = " ".join(f"The {n} matters." for n in range(sentences))
                paragraphs.append(Paragraph(body, offset, offset + len(body)))
                text_parts += [body, ""]
                offset += len(body) + 2
            sections.append(Section(heading, tuple(paragraphs)))
        documents.append(
            Document(
                doc_id=f"synthetic-{doc_no + 1}",
                path=f"synthetic-{doc_no + 1}.txt",
                title=title,
                sections=tuple(sections),
                text="\n".join(text_parts),
                content_hash="0" * 64,
            )
        )
    return documents


def seed_text(corpus_dir: Path) -> str:
    texts = []
    with contextlib.suppress(OSError):
        for path in sorted(corpus_dir.rglob("*")):
            if path.is_file() and path.suffix.lower() in {".txt", ".md", ".markdown"}:
                texts.append(path.read_text(encoding="utf-8", errors="replace"))
    return "\n".join(texts) or "the essay of the author about the crisis and the talks"
