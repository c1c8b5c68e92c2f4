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
    faiss-<gen>.index          the approximate FAISS index, for large collections only

A build writes a new generation into a temporary directory, moves its files in and then
replaces manifest.json in one atomic rename: until that rename the previous generation is the
one every reader sees, so a crash or a full disk mid-build leaves the old index answering.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.corpus import CorpusProblem, Document, read_corpus
from bot.corpus.files import scan_corpus
from bot.errors import CorpusError, IndexProblem
from bot.index.ann import build_faiss, choose_faiss_type
from bot.index.embedding import Embedder
from bot.index.lock import writer_lock
from bot.index.manifest import (
    GENERATION_STEMS,
    MANIFEST,
    Manifest,
    describe_documents,
    read_manifest,
)
from bot.index.memory import check_fits
from bot.index.passages import PASSAGE_FORMAT, ParagraphRecord, Passage, cut_corpus
from bot.index.postings import LexicalIndex, count_words, invert
from bot.index.records import to_columns
from bot.index.report import BuildReport
from bot.index.reuse import (
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


__all__ = ["BuildReport", "ProgressCallback", "build_index", "embed_passages", "write_index"]


def corpus_fingerprint(corpus_dir: Path, follow_links: bool = False) -> str:
    """Hash of every corpus file's name and bytes, and of what was skipped: detects changes
    (a folder that becomes readable, say) without parsing anything."""
    digest = hashlib.sha256(f"footnote-corpus passages-v{PASSAGE_FORMAT}\n".encode())
    if not corpus_dir.is_dir():
        raise CorpusError(str(corpus_dir), "the corpus directory does not exist")
    scan = scan_corpus(corpus_dir, follow_links)
    for path in scan.files:
        relative = path.relative_to(corpus_dir)
        try:
            content = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as exc:
            content = f"unreadable:{exc.errno}"
        digest.update(f"{relative.as_posix()}\t{content}\n".encode())
    for problem in scan.skipped:
        digest.update(f"skipped\t{problem.path}\t{problem.reason}\n".encode())
    return digest.hexdigest()


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


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
) -> tuple[Manifest, VectorCounts]:
    """Build a new generation and swap it in atomically; vectors of texts the current
    generation already holds (same model) are reused, not embedded again.  `calibrate` (the
    search stage's, passed in so that this stage never imports a later one) fits the
    manifest's verdict thresholds."""
    started = time.perf_counter()
    paragraphs, passages = cut_corpus(documents)
    check_fits(len(passages), embedder.dimension, allow_large)
    texts = [passage.text for passage in passages]
    previous = previous_generation(index_dir, embedder.name, embedder.dimension)
    plan = plan_vectors(texts, previous)
    vectors = assemble_vectors(plan, texts, previous, embedder, EMBED_BATCH, progress)
    words = count_words(texts, plan.reused_from, previous.words if previous else None)
    lexical = invert(words)
    described = describe_documents(documents, passages)
    columns = to_columns(described, paragraphs, passages)
    counts = VectorCounts(int((plan.reused_from >= 0).sum()), len(plan.to_embed), plan.removed)
    faiss_type, params = choose_faiss_type(len(passages))
    generation = time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    files = {
        "passages": f"passages-{generation}.npy",
        "paragraphs": f"paragraphs-{generation}.npy",
        "texts": f"texts-{generation}.npy",
        "sentences": f"sentences-{generation}.npy",
        "vectors": f"vectors-{generation}.npy",
        "keys": f"keys-{generation}.npy",
        "vocabulary": f"vocabulary-{generation}.npy",
        "lexicon": f"lexicon-{generation}.npy",
        "postings": f"postings-{generation}.npy",
        "wordcounts": f"wordcounts-{generation}.npy",
        "words": f"words-{generation}.npy",
    }
    if faiss_type != "flat":
        files["faiss"] = f"faiss-{generation}.index"
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        previous_files = _read_manifest_files(index_dir)
        with tempfile.TemporaryDirectory(prefix=".build-", dir=index_dir) as tmp:
            staging = Path(tmp)
            np.save(staging / files["passages"], columns.passages)
            np.save(staging / files["paragraphs"], columns.paragraphs)
            np.save(staging / files["texts"], columns.texts)
            np.save(staging / files["sentences"], columns.sentences)
            np.save(staging / files["vectors"], vectors)
            np.save(staging / files["keys"], keys_table(plan.keys, words))
            np.save(staging / files["wordcounts"], words.entries)
            np.save(staging / files["vocabulary"], lexical.vocabulary)
            np.save(staging / files["lexicon"], lexical.lexicon)
            np.save(staging / files["postings"], lexical.postings)
            np.save(staging / files["words"], lexical.words)
            approximate = None
            if "faiss" in files:
                import faiss

                approximate = build_faiss(vectors, faiss_type, params)
                faiss.write_index(approximate, str(staging / files["faiss"]))
            manifest = Manifest(
                model=embedder.name,
                dimension=embedder.dimension,
                passage_count=len(passages),
                paragraph_count=len(paragraphs),
                corpus_hash=fingerprint,
                built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                faiss_type=faiss_type,
                faiss_params=params,
                files=files,
                documents=described,
                problems=tuple(problems),
                build_seconds=round(time.perf_counter() - started, 3),
            )
            if calibrate is not None:
                calibration = calibrate(
                    manifest,
                    passages,
                    paragraphs,
                    vectors,
                    embedder,
                    LexicalIndex(len(passages), lexical),
                    # The index the server will search (not a flat copy built again).
                    approximate,
                )
                manifest = replace(manifest, calibration=calibration)
            (staging / MANIFEST).write_text(
                json.dumps(manifest.to_json(), ensure_ascii=False, indent=1), encoding="utf-8"
            )
            for name in [*files.values(), MANIFEST]:
                with (staging / name).open("rb") as handle:
                    os.fsync(handle.fileno())
            for name in files.values():
                os.replace(staging / name, index_dir / name)
            _fsync_dir(index_dir)
            # The one step that makes the new generation visible.
            os.replace(staging / MANIFEST, index_dir / MANIFEST)
            _fsync_dir(index_dir)
    except OSError as exc:
        raise IndexProblem(f"cannot write the index in {index_dir}: {exc.strerror or exc}") from exc
    # The generation the manifest names now is kept whatever happened meanwhile.
    keep = set(files.values()) | previous_files | _read_manifest_files(index_dir)
    _remove_stale_generations(index_dir, keep)
    return manifest, counts


@dataclass(frozen=True)
class VectorCounts:
    reused: int
    embedded: int
    removed: int


def _read_manifest_files(index_dir: Path) -> set[str]:
    try:
        data = json.loads((index_dir / MANIFEST).read_text(encoding="utf-8"))
        return set(data.get("files", {}).values())
    except (OSError, ValueError, AttributeError, TypeError, RecursionError):
        return set()


def _remove_stale_generations(index_dir: Path, keep: set[str]) -> None:
    # The previous generation is kept too: a reader that loaded the old manifest a moment
    # ago may still be opening its files.
    for path in index_dir.iterdir():
        stem = path.name.split("-", 1)[0]
        if path.is_file() and stem in GENERATION_STEMS:
            if path.name not in keep:
                with contextlib.suppress(OSError):
                    path.unlink()
        elif path.is_dir() and path.name.startswith(".build-") and _older_than(path, 3600):
            shutil.rmtree(path, ignore_errors=True)


def _older_than(path: Path, seconds: float) -> bool:
    try:
        return time.time() - path.stat().st_mtime > seconds
    except OSError:
        return False


def staleness(
    index_dir: Path, corpus_dir: Path, model: str, follow_links: bool = False
) -> str | None:
    """Why the index must be rebuilt, or None when it is up to date."""
    return _staleness(index_dir, corpus_dir, model, follow_links)[0]


def _staleness(
    index_dir: Path, corpus_dir: Path, model: str, follow_links: bool
) -> tuple[str | None, Manifest | None]:
    """staleness(), with the manifest it read: an up-to-date index is not parsed twice (its
    manifest is 2 MB of JSON on Python's documentation, ~0.07 s a parse)."""
    try:
        manifest = read_manifest(index_dir)
    except IndexProblem as exc:
        return str(exc), None
    if manifest.model != model:
        return f"the model changed ({manifest.model} -> {model})", manifest
    if manifest.corpus_hash != corpus_fingerprint(corpus_dir, follow_links):
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
) -> BuildReport:
    """Rebuild the index if the corpus or the model changed (or `force`), holding the index
    directory's writer lock; `on_wait` hears who holds it if another build is running."""
    started = time.perf_counter()
    if not force:
        reason, manifest = _staleness(index_dir, corpus_dir, embedder.name, follow_links)
        if reason is None:
            return _up_to_date(manifest or read_manifest(index_dir), started)
    with writer_lock(index_dir, on_wait=on_wait):
        # Checked again under the lock: the build we waited for may have done the work.
        reason, manifest = (
            ("forced", None)
            if force
            else _staleness(index_dir, corpus_dir, embedder.name, follow_links)
        )
        if reason is None:
            return _up_to_date(manifest or read_manifest(index_dir), started)
        options = _BuildOptions(follow_links, allow_large, calibrate)
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
    fingerprint = corpus_fingerprint(corpus_dir, options.follow_links)
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
        fingerprint,
        embedder,
        progress,
        options.allow_large,
        options.calibrate,
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
    )
