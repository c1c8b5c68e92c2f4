"""The index: a self-describing directory (manifest + vectors + passages), built atomically.

Layout of the index directory:

    manifest.json              format version, model, dimension, counts, corpus hash, build time,
                               FAISS type, table of contents, and the names of the files below
    passages-, paragraphs-, texts-, sentences-<gen>.npy
                               passages (row i is vector i) and paragraphs (their context) as
                               columns, memory-mapped at start-up (bot/index/records.py)
    vectors-<gen>.npy          float32 passage vectors, L2-normalised: one file in row order,
    slots-<gen>.npy            or the segments earlier builds wrote and the vectors this one
                               embedded, with each row's slot among them (bot/index/vectors.py)
    tokens-, tokenstarts-, tokenids-<gen>.npy
                               each sentence's token embeddings (int8) and word-piece ids, for
                               the ranking's late interaction, segment by segment
                               (bot/index/tokens.py)
    tokenfreq-<gen>.npy        how many sentences hold each word-piece id, the late
                               interaction's idf: an add updates the previous generation's
                               counts (an index without it counts at the first question)
    keys-<gen>.npy             a digest of each passage's text: the next build reuses the vector
                               of every text it finds here (bot/index/reuse.py); and each
                               passage's number of terms and length, for BM25
    vocabulary-, lexicon-, postings-<gen>.npy
                               the BM25 index, built here and memory-mapped at start-up
                               (bot/index/postings.py)
    frequencies-<gen>.npy      each posting's term count: the next build merges these
                               postings instead of inverting every passage again
                               (bot/index/merge.py)
    initials-<gen>.npy         the initials of the corpus's names of several words, for the
                               missing-name rule (bot/index/initials.py)
    centroids-, lists-<gen>.npy
                               for large collections only, the IVF index: its quantizer's
                               centroids and each passage's list; opening fills the FAISS
                               lists from vectors-<gen>.npy (bot/index/ann.py), so the
                               vectors are stored once
    .stamps.json               each corpus file's size, time and hash as the last build saw
                               them: the staleness check reads only files that changed
                               (bot/index/fingerprint.py)

A build writes a new generation beside the old one and swaps it in atomically
(bot/index/publish.py), reusing from the old one every vector whose text it holds
(bot/index/reuse.py) and, while the library changed little, its verdict thresholds and IVF
quantizer (bot/index/refit.py).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.corpus import CorpusProblem, read_document
from bot.corpus.read import read_corpus_with
from bot.errors import CorpusError
from bot.index.ann import choose_faiss_type, ivf_from_lists
from bot.index.approximate import approximate_index
from bot.index.carry import cut_library, records_of
from bot.index.embedding import Embedder, gives_tokens
from bot.index.fingerprint import fingerprint_files
from bot.index.generation import generation_files, generation_name
from bot.index.library import DocumentReader, LibraryDocument, describe, library_reader
from bot.index.lock import writer_lock
from bot.index.manifest import Manifest, read_manifest
from bot.index.memory import check_fits
from bot.index.merge import merge_postings
from bot.index.passages import ParagraphRecord, Passage
from bot.index.postings import LexicalIndex, count_words
from bot.index.publish import publish_generation
from bot.index.refit import Fit, Refit, RefitDecision, decide, refit_line
from bot.index.report import BuildReport
from bot.index.reuse import (
    EMBED_BATCH,
    Previous,
    ProgressCallback,
    assemble_vectors,
    embed_passages,
    plan_vectors,
    previous_for,
)
from bot.index.staleness import staleness, staleness_and_manifest
from bot.index.tokens import StoredTokens
from bot.index.vectors import blocks_of

if TYPE_CHECKING:
    from numpy.typing import NDArray

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
        "StoredTokens | None",
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
    # Each corpus file's sha256 by relative path, as the fingerprint found them.
    hashes: dict[str, str]
    read: DocumentReader


__all__ = [
    "BuildReport",
    "ProgressCallback",
    "build_index",
    "embed_passages",
    "staleness",
    "write_index",
]


def write_index(
    index_dir: Path,
    documents: Sequence[LibraryDocument],
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
    previous = previous_for(index_dir, embedder)
    return _write_index(
        index_dir,
        documents,
        problems,
        fingerprint,
        embedder,
        progress,
        allow_large,
        calibrate,
        refit,
        previous,
    )


def _write_index(
    index_dir: Path,
    documents: Sequence[LibraryDocument],
    problems: list[CorpusProblem],
    fingerprint: str,
    embedder: Embedder,
    progress: ProgressCallback | None,
    allow_large: bool,
    calibrate: Calibrator | None,
    refit: Refit | None,
    previous: Previous | None,
) -> tuple[Manifest, VectorCounts]:
    """write_index, given the previous generation (read before the corpus was)."""
    started = time.perf_counter()
    refit = refit or Refit()
    cut = cut_library(
        documents,
        previous.manifest if previous is not None else None,
        previous.columns if previous is not None else None,
    )
    check_fits(cut.passage_count, embedder.dimension, allow_large)
    texts, columns = cut.texts, cut.columns
    plan = plan_vectors(texts, previous, cut.carried_from)
    # BM25 first: nothing in it needs the vectors.
    words = count_words(texts, cut.carried_from, previous.words if previous else None)
    lexical = merge_postings(words, cut.carried_from, previous.postings if previous else None)
    assert lexical.frequencies is not None  # a build's postings always have them
    singles = np.asarray(columns.passages["first"] == columns.passages["last"])
    assembled = assemble_vectors(plan, texts, previous, embedder, EMBED_BATCH, progress, singles)
    vectors = assembled.vectors
    described = describe(documents, cut.section_passages)
    counts = VectorCounts(int((plan.reused_from >= 0).sum()), len(plan.to_embed), plan.removed)
    faiss_type, params = choose_faiss_type(cut.passage_count)
    ivf, quantizer = approximate_index(
        index_dir, vectors, faiss_type, params, previous, plan.reused_from, counts.changed, refit
    )
    generation = generation_name()
    arrays, files, tokens = generation_files(
        generation, cut, plan, words, lexical, assembled, ivf, singles, index_dir, previous
    )
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
            # Calibration ranks every passage: one array (a build that calibrates has
            # embedded a tenth of the library or more anyway).
            np.asarray(vectors, dtype=np.float32),
            embedder,
            LexicalIndex(len(passages), lexical),
            # The index the server will search (not a flat copy built again).
            None
            if ivf is None
            else ivf_from_lists(ivf.centroids, ivf.lists, blocks_of(vectors), params["nprobe"]),
            tokens,
        )
        manifest = replace(
            manifest, calibration=thresholds, calibration_fit=calibration.fit.to_json()
        )
    else:
        said = None  # nothing calibrated (no calibrator given), nothing to say
    counts = replace(counts, calibration=said, quantizer=quantizer)
    publish_generation(index_dir, arrays, manifest)
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
    read: DocumentReader = read_document,
) -> BuildReport:
    """Rebuild the index if the corpus or the model changed (or `force`, or `recalibrate`),
    holding the index directory's writer lock; `on_wait` hears who holds it if another build
    is running.  `force` also fits the verdict thresholds and the IVF quantizer again, and
    `recalibrate` the thresholds; otherwise bot/index/refit.py decides.  `read` reads a
    corpus file (tests count the files read; unchanged ones are not)."""
    started = time.perf_counter()
    asked = force or recalibrate
    if not asked:
        reason, manifest = staleness_and_manifest(
            index_dir, corpus_dir, embedder.name, follow_links, None, gives_tokens(embedder)
        )
        if reason is None:
            return _up_to_date(manifest or read_manifest(index_dir), started)
    with writer_lock(index_dir, on_wait=on_wait):
        # Checked again under the lock: the build we waited for may have done the work.
        # Hashed once under the lock: the build reads the corpus as this fingerprint saw it.
        fingerprint, hashes = fingerprint_files(corpus_dir, follow_links, index_dir, remember=True)
        stale, manifest = staleness_and_manifest(
            index_dir, corpus_dir, embedder.name, follow_links, fingerprint, gives_tokens(embedder)
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
        options = _BuildOptions(
            follow_links, allow_large, calibrate, refit, fingerprint, hashes, read
        )
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
    previous = previous_for(index_dir, embedder)
    # Files the previous generation cut from the same bytes are not read again; only a
    # generation whose rows can be carried over may spare them.
    carrier = previous.manifest if previous is not None and previous.columns else None
    reader = library_reader(carrier, options.hashes, options.read)
    documents, problems = read_corpus_with(reader, corpus_dir, options.follow_links)
    if not documents:
        named = "; ".join(f"{p.path}: {p.reason}" for p in problems)
        raise CorpusError(
            str(corpus_dir), "no readable documents" + (f" ({named})" if named else "")
        )
    manifest, counts = _write_index(
        index_dir,
        documents,
        problems,
        options.fingerprint,
        embedder,
        progress,
        options.allow_large,
        options.calibrate,
        options.refit,
        previous,
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
