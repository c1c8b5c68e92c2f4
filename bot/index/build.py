"""The index: a self-describing directory (manifest + vectors + passages), built atomically.

Layout of the index directory:

    manifest.json              format version, model, dimension, counts, corpus hash, build time,
                               FAISS type, table of contents, and the names of the files below
    passages-, paragraphs-, texts-, sentences-<gen>.npy
                               passages (row i is vector i) and paragraphs (their context) as
                               columns, memory-mapped at start-up (bot/index/records.py)
    vectors-<gen>.npy          float32 passage vectors, L2-normalised
    keys-<gen>.npy             a digest of each passage's text: the next build reuses the vector
                               (and term counts) of every text it finds here (bot/index/reuse.py)
    vocabulary-, lexicon-, postings-, wordcounts-<gen>.npy
                               the BM25 index, built here and memory-mapped at start-up
                               (bot/index/postings.py)
    frequencies-<gen>.npy      each posting's term count: the next build merges these
                               postings instead of inverting every passage again
                               (bot/index/merge.py)
    faiss-<gen>.index          the approximate FAISS index, for large collections only
    .stamps.json               each corpus file's size, time and hash as the last build saw
                               them: the staleness check reads only files that changed
                               (bot/index/fingerprint.py)

A build writes a new generation beside the old one and swaps it in atomically
(bot/index/publish.py), reusing from the old one every vector whose text it holds
(bot/index/reuse.py) and, while the library changed little, its verdict thresholds and IVF
quantizer (bot/index/refit.py).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.corpus import CorpusProblem, Document, read_corpus
from bot.errors import CorpusError, IndexProblem
from bot.index.ann import build_faiss, choose_faiss_type, ivf_reusing_quantizer, read_ivf
from bot.index.carry import cut_library, records_of
from bot.index.embedding import Embedder
from bot.index.fingerprint import corpus_fingerprint
from bot.index.lock import writer_lock
from bot.index.manifest import MANIFEST, Manifest, describe_documents, read_manifest
from bot.index.memory import check_fits
from bot.index.merge import merge_postings
from bot.index.passages import ParagraphRecord, Passage
from bot.index.postings import LexicalIndex, count_words
from bot.index.publish import publish_generation
from bot.index.refit import Fit, Refit, RefitDecision, decide, refit_line
from bot.index.report import BuildReport
from bot.index.reuse import (
    Previous,
    ProgressCallback,
    assemble_vectors,
    embed_texts,
    keys_table,
    plan_vectors,
    previous_generation,
)

if TYPE_CHECKING:
    from numpy.typing import NDArray

EMBED_BATCH = 128

# Fits a new generation's verdict thresholds (bot/search/calibration.calibrate); it is given
# the BM25 index and the FAISS index (None: exact search) the build made, not to make them again.
Calibrator = Callable[
    [
        Manifest,
        list[Passage],
        list[ParagraphRecord],
        "NDArray[np.float32]",
        Embedder,
        LexicalIndex,
        Any,
    ],
    dict[str, dict[str, float]],
]


@dataclass(frozen=True)
class _BuildOptions:
    follow_links: bool
    allow_large: bool
    calibrate: Calibrator | None
    refit: Refit
    fingerprint: str


__all__ = ["BuildReport", "ProgressCallback", "build_index", "embed_passages", "write_index"]


def embed_passages(
    passages: list[Passage], embedder: Embedder, progress: ProgressCallback | None = None
) -> NDArray[np.float32]:
    """Every passage embedded (nothing reused), in batches ordered by length."""
    return embed_texts([p.text for p in passages], embedder, EMBED_BATCH, progress)


def write_index(
    index_dir: Path,
    documents: list[Document],
    problems: list[CorpusProblem],
    fingerprint: str,
    embedder: Embedder,
    progress: ProgressCallback | None = None,
    allow_large: bool = False,
    calibrate: Calibrator | None = None,
    refit: Refit | None = None,
) -> tuple[Manifest, VectorCounts]:
    """Build a new generation and swap it in atomically; vectors of texts the current
    generation already holds (same model) are reused, not embedded again, and so are its
    verdict thresholds and IVF quantizer while the library changed little (bot/index/refit.py).
    `calibrate` (the search stage's, passed in so that this stage never imports a later one)
    fits the manifest's verdict thresholds."""
    started = time.perf_counter()
    refit = refit or Refit()
    previous = previous_generation(index_dir, embedder.name, embedder.dimension)
    cut = cut_library(
        documents,
        previous.manifest if previous is not None else None,
        previous.columns if previous is not None else None,
    )
    check_fits(cut.passage_count, embedder.dimension, allow_large)
    texts, columns = cut.texts, cut.columns
    plan = plan_vectors(texts, previous, cut.carried_from)
    vectors = assemble_vectors(plan, texts, previous, embedder, EMBED_BATCH, progress)
    words = count_words(texts, plan.reused_from, previous.words if previous else None)
    lexical = merge_postings(words, cut.carried_from, previous.postings if previous else None)
    assert lexical.frequencies is not None  # a build's postings always have them
    described = describe_documents(documents, cut.section_passages)
    counts = VectorCounts(int((plan.reused_from >= 0).sum()), len(plan.to_embed), plan.removed)
    faiss_type, params = choose_faiss_type(cut.passage_count)
    approximate, quantizer = _approximate(
        index_dir, vectors, faiss_type, params, previous, plan.reused_from, counts, refit
    )
    generation = time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    arrays: dict[str, NDArray[Any]] = {
        "passages": columns.passages,
        "paragraphs": columns.paragraphs,
        "texts": columns.texts,
        "sentences": columns.sentences,
        "vectors": vectors,
        "keys": keys_table(plan.keys, words),
        "wordcounts": words.entries,
        "vocabulary": lexical.vocabulary,
        "lexicon": lexical.lexicon,
        "postings": lexical.postings,
        "words": lexical.words,
        "frequencies": lexical.frequencies,
    }
    files = {name: f"{name}-{generation}.npy" for name in arrays}
    if approximate is not None:
        files["faiss"] = f"faiss-{generation}.index"
    manifest = Manifest(
        model=embedder.name,
        dimension=embedder.dimension,
        passage_count=cut.passage_count,
        paragraph_count=cut.paragraph_count,
        corpus_hash=fingerprint,
        built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        faiss_type=faiss_type,
        faiss_params=params,
        files=files,
        documents=described,
        problems=tuple(problems),
        build_seconds=round(time.perf_counter() - started, 3),
        quantizer_fit=quantizer.fit.to_json() if quantizer else {},
        document_keys=cut.document_keys,
    )
    previous_fit = (
        Fit.from_json(previous.manifest.calibration_fit)
        if previous is not None and previous.manifest.calibration
        else None
    )
    calibration = decide(previous_fit, counts.changed, cut.passage_count, refit.calibration)
    said: RefitDecision | None = calibration
    if not calibration.refit:
        assert previous is not None
        manifest = replace(
            manifest,
            calibration=previous.manifest.calibration,
            calibration_fit=calibration.fit.to_json(),
        )
    elif calibrate is not None:
        paragraphs, passages = records_of(cut, described)
        thresholds = calibrate(
            manifest,
            passages,
            paragraphs,
            vectors,
            embedder,
            LexicalIndex(len(passages), lexical),
            # The index the server will search (not a flat copy built again).
            approximate,
        )
        manifest = replace(
            manifest, calibration=thresholds, calibration_fit=calibration.fit.to_json()
        )
    else:
        said = None  # nothing calibrated (no calibrator given), nothing to say
    counts = replace(counts, calibration=said, quantizer=quantizer)
    publish_generation(index_dir, arrays, approximate, manifest)
    return manifest, counts


@dataclass(frozen=True)
class VectorCounts:
    """What a build did beyond the corpus: vectors reused, embedded, removed, and whether the
    verdict thresholds and the IVF quantizer were kept (None: the build has none)."""

    reused: int
    embedded: int
    removed: int
    calibration: RefitDecision | None = None
    quantizer: RefitDecision | None = None

    @property
    def changed(self) -> int:
        return self.embedded + self.removed


def _approximate(
    index_dir: Path,
    vectors: NDArray[np.float32],
    faiss_type: str,
    params: dict[str, int],
    previous: Previous | None,
    reused_from: NDArray[np.int64],
    counts: VectorCounts,
    refit: Refit,
) -> tuple[Any | None, RefitDecision | None]:
    """The FAISS index to write (None: exact search, made at load), and for IVF whether the
    previous generation's trained quantizer was kept."""
    if faiss_type == "flat":
        return None, None
    before = previous.manifest if previous is not None else None
    comparable = (
        before is not None
        and before.faiss_type == faiss_type
        and before.faiss_params.get("nlist") == params["nlist"]
        and "faiss" in before.files
    )
    fit = Fit.from_json(before.quantizer_fit) if before is not None and comparable else None
    decision = decide(fit, counts.changed, len(vectors), refit.quantizer)
    if not decision.refit:
        assert before is not None
        old = read_ivf(index_dir / before.files["faiss"], vectors.shape[1], params["nlist"])
        if old is not None:
            return ivf_reusing_quantizer(vectors, params, old, reused_from), decision
        decision = RefitDecision(True, Fit(len(vectors)), None, "the previous one is unreadable")
    return build_faiss(vectors, faiss_type, params), decision


def staleness(
    index_dir: Path,
    corpus_dir: Path,
    model: str,
    follow_links: bool = False,
    fingerprint: str | None = None,
) -> str | None:
    """Why the index must be rebuilt, or None when it is up to date (`fingerprint`: the
    corpus's, when the caller has it already)."""
    return _staleness(index_dir, corpus_dir, model, follow_links, fingerprint)[0]


def _staleness(
    index_dir: Path, corpus_dir: Path, model: str, follow_links: bool, fingerprint: str | None
) -> tuple[str | None, Manifest | None]:
    """staleness(), with the manifest it read: an up-to-date index is not parsed twice (its
    manifest is 2 MB of JSON on Python's documentation, ~0.07 s a parse)."""
    try:
        manifest = read_manifest(index_dir)
    except IndexProblem as exc:
        # A first build says so, not read_manifest's advice to run the build that is running.
        first = not (index_dir / MANIFEST).exists()
        return (f"no index in {index_dir} yet" if first else str(exc)), None
    if manifest.model != model:
        return f"the model changed ({manifest.model} -> {model})", manifest
    current = fingerprint or corpus_fingerprint(corpus_dir, follow_links, index_dir)
    if manifest.corpus_hash != current:
        return "the corpus changed", manifest
    missing = [name for name in manifest.files.values() if not (index_dir / name).is_file()]
    if missing:
        return f"index files are missing: {', '.join(missing)}", manifest
    return None, manifest


def build_index(
    corpus_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    progress: ProgressCallback | None = None,
    force: bool = False,
    follow_links: bool = False,
    on_wait: Callable[[str], None] | None = None,
    allow_large: bool = False,
    calibrate: Calibrator | None = None,
    recalibrate: bool = False,
) -> BuildReport:
    """Rebuild the index if the corpus or the model changed (or `force`, or `recalibrate`),
    holding the index directory's writer lock; `on_wait` hears who holds it if another build
    is running.  `force` also fits the verdict thresholds and the IVF quantizer again, and
    `recalibrate` the thresholds; otherwise bot/index/refit.py decides."""
    started = time.perf_counter()
    asked = force or recalibrate
    if not asked:
        reason, manifest = _staleness(index_dir, corpus_dir, embedder.name, follow_links, None)
        if reason is None:
            return _up_to_date(manifest or read_manifest(index_dir), started)
    with writer_lock(index_dir, on_wait=on_wait):
        # Checked again under the lock: the build we waited for may have done the work.
        # Hashed once under the lock: the build reads the corpus as this fingerprint saw it.
        fingerprint = corpus_fingerprint(corpus_dir, follow_links, index_dir, remember=True)
        stale, manifest = _staleness(
            index_dir, corpus_dir, embedder.name, follow_links, fingerprint
        )
        reason = "forced" if force else stale or ("recalibration asked for" if asked else None)
        if reason is None:
            return _up_to_date(manifest or read_manifest(index_dir), started)
        refit = (
            Refit("--force", "--force")
            if force
            else Refit("--recalibrate")
            if recalibrate
            else Refit()
        )
        options = _BuildOptions(follow_links, allow_large, calibrate, refit, fingerprint)
        return _rebuild(corpus_dir, index_dir, embedder, progress, reason, options, started)


def _up_to_date(manifest: Manifest, started: float) -> BuildReport:
    return BuildReport(
        False,
        "up to date",
        len(manifest.documents),
        manifest.passage_count,
        time.perf_counter() - started,
        list(manifest.problems),
        dropped={doc.path: dict(doc.dropped) for doc in manifest.documents},
    )


def _rebuild(
    corpus_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    progress: ProgressCallback | None,
    reason: str,
    options: _BuildOptions,
    started: float,
) -> BuildReport:
    documents, problems = read_corpus(corpus_dir, options.follow_links)
    if not documents:
        named = "; ".join(f"{p.path}: {p.reason}" for p in problems)
        raise CorpusError(
            str(corpus_dir), "no readable documents" + (f" ({named})" if named else "")
        )
    manifest, counts = write_index(
        index_dir,
        documents,
        problems,
        options.fingerprint,
        embedder,
        progress,
        options.allow_large,
        options.calibrate,
        options.refit,
    )
    return BuildReport(
        True,
        reason,
        len(documents),
        manifest.passage_count,
        time.perf_counter() - started,
        problems,
        dropped={doc.path: dict(doc.dropped) for doc in documents},
        reused=counts.reused,
        embedded=counts.embedded,
        removed=counts.removed,
        fits=[
            refit_line(decision, *words)
            for decision, words in (
                (counts.calibration, ("verdict thresholds", "calibrated", "they were")),
                (counts.quantizer, ("IVF quantizer", "trained", "it was")),
            )
            if decision is not None
        ],
    )
