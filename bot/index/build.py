"""The index: a self-describing directory (manifest + vectors + passages), built atomically.

Layout of the index directory:

    manifest.json              format version, model, dimension, counts, corpus hash, build time,
                               FAISS type, table of contents, and the names of the files below
    passages-<gen>.jsonl       one passage per line; row i is vector i
    paragraphs-<gen>.jsonl     one paragraph per line (the context of passages)
    vectors-<gen>.npy          float32 passage vectors, L2-normalised
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
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.corpus import CorpusProblem, Document, read_corpus
from bot.corpus.files import scan_corpus
from bot.corpus.model import DROPPED_KINDS
from bot.errors import CorpusError, IndexProblem
from bot.index.ann import build_faiss, choose_faiss_type
from bot.index.embedding import Embedder
from bot.index.lock import writer_lock
from bot.index.manifest import MANIFEST, Manifest, describe_documents, read_manifest
from bot.index.memory import check_fits
from bot.index.passages import PASSAGE_FORMAT, ParagraphRecord, Passage, cut_corpus

if TYPE_CHECKING:
    from numpy.typing import NDArray

EMBED_BATCH = 128

ProgressCallback = Callable[[int, int], None]
# Fits a new generation's verdict thresholds (bot/search/calibration.calibrate).
Calibrator = Callable[
    [Manifest, list[Passage], list[ParagraphRecord], "NDArray[np.float32]", Embedder],
    dict[str, dict[str, float]],
]


@dataclass(frozen=True)
class _BuildOptions:
    follow_links: bool
    allow_large: bool
    calibrate: Calibrator | None


@dataclass
class BuildReport:
    rebuilt: bool
    reason: str
    documents: int
    passages: int
    seconds: float
    problems: list[CorpusProblem] = field(default_factory=list)
    # Set when the index could not be refreshed and the one already there is served instead.
    warning: str | None = None
    # Per document path: what its reader left out of quotes, by kind (see DROPPED_KINDS).
    dropped: dict[str, dict[str, int]] = field(default_factory=dict)

    def dropped_lines(self) -> list[str]:
        """One line per document that lost something on purpose, then the totals."""
        totals: Counter[str] = Counter()
        lines = []
        for path, kinds in self.dropped.items():
            if kinds:
                totals.update(kinds)
                lines.append(f"Left out of {path}: {_counts(kinds)}")
        if totals:
            lines.append(f"Left out in all: {_counts(totals)}")
        return lines


def _counts(kinds: dict[str, int]) -> str:
    ordered = sorted(kinds.items(), key=lambda item: _KIND_ORDER.get(item[0], len(_KIND_ORDER)))
    return ", ".join(f"{count} {_kind_name(kind, count)}" for kind, count in ordered)


def _kind_name(kind: str, count: int) -> str:
    singular, plural = _KIND_NAMES.get(kind, (kind, kind))
    return singular if count == 1 else plural


_KIND_ORDER = {kind: number for number, kind in enumerate(DROPPED_KINDS)}
_KIND_NAMES = {
    "boilerplate": ("boilerplate (navigation, contents, page furniture)",) * 2,
    "code": ("code block", "code blocks"),
    "table": ("table", "tables"),
    "empty": ("empty block", "empty blocks"),
}


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


def _write_jsonl(path: Path, rows: list[Any]) -> None:
    with path.open("w", encoding="utf-8") as out:
        for row in rows:
            out.write(json.dumps(asdict(row), ensure_ascii=False))
            out.write("\n")


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
    chunks: list[NDArray[np.float32]] = []
    for begin in range(0, len(passages), EMBED_BATCH):
        batch = [p.text for p in passages[begin : begin + EMBED_BATCH]]
        chunks.append(embedder.encode(batch, batch_size=EMBED_BATCH))
        if progress is not None:
            progress(min(begin + EMBED_BATCH, len(passages)), len(passages))
    if not chunks:
        return np.zeros((0, embedder.dimension), dtype=np.float32)
    return np.vstack(chunks)


def write_index(
    index_dir: Path,
    documents: list[Document],
    problems: list[CorpusProblem],
    fingerprint: str,
    embedder: Embedder,
    progress: ProgressCallback | None = None,
    allow_large: bool = False,
    calibrate: Calibrator | None = None,
) -> Manifest:
    """Build a new generation and swap it in atomically; `calibrate` (the search stage's, passed
    in so that this stage never imports a later one) fits the manifest's verdict thresholds."""
    started = time.perf_counter()
    paragraphs, passages = cut_corpus(documents)
    check_fits(len(passages), embedder.dimension, allow_large)
    vectors = embed_passages(passages, embedder, progress)
    faiss_type, params = choose_faiss_type(len(passages))
    generation = time.strftime("%Y%m%dT%H%M%S") + f"-{os.getpid()}-{time.monotonic_ns() % 10**6}"
    files = {
        "passages": f"passages-{generation}.jsonl",
        "paragraphs": f"paragraphs-{generation}.jsonl",
        "vectors": f"vectors-{generation}.npy",
    }
    if faiss_type != "flat":
        files["faiss"] = f"faiss-{generation}.index"
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        previous = _read_manifest_files(index_dir)
        with tempfile.TemporaryDirectory(prefix=".build-", dir=index_dir) as tmp:
            staging = Path(tmp)
            _write_jsonl(staging / files["passages"], passages)
            _write_jsonl(staging / files["paragraphs"], paragraphs)
            np.save(staging / files["vectors"], vectors)
            if "faiss" in files:
                import faiss

                faiss.write_index(
                    build_faiss(vectors, faiss_type, params), str(staging / files["faiss"])
                )
            manifest = Manifest(
                model=embedder.name,
                dimension=int(vectors.shape[1]),
                passage_count=len(passages),
                paragraph_count=len(paragraphs),
                corpus_hash=fingerprint,
                built_at=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                faiss_type=faiss_type,
                faiss_params=params,
                files=files,
                documents=describe_documents(documents, passages),
                problems=tuple(problems),
                build_seconds=round(time.perf_counter() - started, 3),
            )
            if calibrate is not None:
                calibration = calibrate(manifest, passages, paragraphs, vectors, embedder)
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
    keep = set(files.values()) | previous | _read_manifest_files(index_dir)
    _remove_stale_generations(index_dir, keep)
    return manifest


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
        if path.is_file() and stem in {"passages", "paragraphs", "vectors", "faiss"}:
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
    try:
        manifest = read_manifest(index_dir)
    except IndexProblem as exc:
        return str(exc)
    if manifest.model != model:
        return f"the model changed ({manifest.model} -> {model})"
    if manifest.corpus_hash != corpus_fingerprint(corpus_dir, follow_links):
        return "the corpus changed"
    missing = [name for name in manifest.files.values() if not (index_dir / name).is_file()]
    if missing:
        return f"index files are missing: {', '.join(missing)}"
    return None


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
    if not force and staleness(index_dir, corpus_dir, embedder.name, follow_links) is None:
        return _up_to_date(index_dir, started)
    with writer_lock(index_dir, on_wait=on_wait):
        # Checked again under the lock: the build we waited for may have done the work.
        reason = (
            "forced" if force else staleness(index_dir, corpus_dir, embedder.name, follow_links)
        )
        if reason is None:
            return _up_to_date(index_dir, started)
        options = _BuildOptions(follow_links, allow_large, calibrate)
        return _rebuild(corpus_dir, index_dir, embedder, progress, reason, options, started)


def _up_to_date(index_dir: Path, started: float) -> BuildReport:
    manifest = read_manifest(index_dir)
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
    manifest = write_index(
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
    )
