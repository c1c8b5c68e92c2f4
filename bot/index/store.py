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
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.corpus import CorpusProblem, Document, corpus_files, read_corpus
from bot.errors import CorpusError, IndexProblem
from bot.index.embedding import Embedder
from bot.index.lexical import BM25, index_terms
from bot.index.passages import PASSAGE_FORMAT, ParagraphRecord, Passage, cut_corpus

if TYPE_CHECKING:
    from numpy.typing import NDArray

FORMAT_VERSION = 1
MANIFEST = "manifest.json"
# Up to this many passages exact search is always right and costs at most a few ms per
# question (one FAISS thread: ~0.15 us per vector); beyond, IVF answers in about a millisecond
# at recall@10 >= 0.99.  docs/performance.md has the measured curve behind both numbers.
EXACT_SEARCH_LIMIT = 20_000
EMBED_BATCH = 128

ProgressCallback = Callable[[int, int], None]


@dataclass(frozen=True)
class SectionInfo:
    title: str
    paragraphs: int
    passages: int

    @property
    def empty(self) -> bool:
        return self.paragraphs == 0


@dataclass(frozen=True)
class DocumentInfo:
    doc_id: str
    path: str
    title: str
    sections: tuple[SectionInfo, ...]
    author: str | None = None
    source_url: str | None = None
    date: str | None = None


@dataclass(frozen=True)
class Manifest:
    model: str
    dimension: int
    passage_count: int
    paragraph_count: int
    corpus_hash: str
    built_at: str
    faiss_type: str
    faiss_params: dict[str, int]
    files: dict[str, str]
    documents: tuple[DocumentInfo, ...]
    problems: tuple[CorpusProblem, ...] = ()
    format_version: int = FORMAT_VERSION
    build_seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["format"] = "footnote-index"
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        documents = tuple(
            DocumentInfo(**{**doc, "sections": tuple(SectionInfo(**s) for s in doc["sections"])})
            for doc in data["documents"]
        )
        problems = tuple(CorpusProblem(**p) for p in data.get("problems", ()))
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**{**fields, "documents": documents, "problems": problems})


@dataclass
class BuildReport:
    rebuilt: bool
    reason: str
    documents: int
    passages: int
    seconds: float
    problems: list[CorpusProblem] = field(default_factory=list)


def corpus_fingerprint(corpus_dir: Path) -> str:
    """Hash of every corpus file's name and bytes: detects changes without parsing anything."""
    digest = hashlib.sha256(f"footnote-corpus passages-v{PASSAGE_FORMAT}\n".encode())
    if not corpus_dir.is_dir():
        raise CorpusError(str(corpus_dir), "the corpus directory does not exist")
    for path in corpus_files(corpus_dir):
        relative = path.relative_to(corpus_dir)
        try:
            content = hashlib.sha256(path.read_bytes()).hexdigest()
        except OSError as exc:
            content = f"unreadable:{exc.errno}"
        digest.update(f"{relative.as_posix()}\t{content}\n".encode())
    return digest.hexdigest()


def ivf_params(count: int) -> dict[str, int]:
    """IVF lists and lists probed per query for `count` vectors (see docs/performance.md).

    About 2*sqrt(count) lists (a power of two; FAISS wants >= 39 training points per list),
    and 1/32 of them probed, at least 16: a query scans ~3% of the collection.  Measured at
    1M passages: 2048 lists, 64 probed, recall@10 ~1.0 at a p95 of a few ms, where 4096
    lists took twice as long to train for no better recall.
    """
    nlist = int(2 ** round(math.log2(2 * math.sqrt(max(count, 1)))))
    nlist = min(nlist, max(16, count // 39))
    return {"nlist": nlist, "nprobe": min(nlist, max(16, nlist // 32))}


def choose_faiss_type(count: int) -> tuple[str, dict[str, int]]:
    """Exact search while it is fast enough, IVF beyond (see docs/performance.md)."""
    if count <= EXACT_SEARCH_LIMIT:
        return "flat", {}
    return "ivf", ivf_params(count)


def _document_info(document: Document, passages: list[Passage]) -> DocumentInfo:
    per_section: dict[int, int] = {}
    for passage in passages:
        if passage.doc_id == document.doc_id:
            per_section[passage.section_no] = per_section.get(passage.section_no, 0) + 1
    return DocumentInfo(
        doc_id=document.doc_id,
        path=document.path,
        title=document.title,
        sections=tuple(
            SectionInfo(section.title, len(section.paragraphs), per_section.get(number, 0))
            for number, section in enumerate(document.sections)
        ),
        author=document.author,
        source_url=document.source_url,
        date=document.date,
    )


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


def build_faiss(vectors: NDArray[np.float32], faiss_type: str, params: dict[str, int]) -> Any:
    import faiss

    dimension = vectors.shape[1]
    if faiss_type == "flat":
        flat = faiss.IndexFlatIP(dimension)
        flat.add(np.ascontiguousarray(vectors))
        return flat
    if faiss_type != "ivf":
        raise IndexProblem(f"unknown FAISS index type {faiss_type!r}")
    quantizer = faiss.IndexFlatIP(dimension)
    ivf = faiss.IndexIVFFlat(quantizer, dimension, params["nlist"], faiss.METRIC_INNER_PRODUCT)
    rng = np.random.default_rng(0)
    sample_size = min(len(vectors), params["nlist"] * 64)
    sample = vectors[rng.choice(len(vectors), sample_size, replace=False)]
    ivf.train(np.ascontiguousarray(sample))
    ivf.nprobe = params["nprobe"]
    ivf.add(np.ascontiguousarray(vectors))
    return ivf


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
) -> Manifest:
    """Build a new generation and swap it in atomically."""
    started = time.perf_counter()
    paragraphs, passages = cut_corpus(documents)
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
                documents=tuple(_document_info(d, passages) for d in documents),
                problems=tuple(problems),
                build_seconds=round(time.perf_counter() - started, 3),
            )
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
    _remove_stale_generations(index_dir, keep=set(files.values()) | previous)
    return manifest


def _read_manifest_files(index_dir: Path) -> set[str]:
    try:
        data = json.loads((index_dir / MANIFEST).read_text(encoding="utf-8"))
        return set(data.get("files", {}).values())
    except (OSError, ValueError, AttributeError):
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


def read_manifest(index_dir: Path) -> Manifest:
    path = index_dir / MANIFEST
    if not path.is_file():
        raise IndexProblem(f"no index in {index_dir} (run: footnote index)")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format_version") != FORMAT_VERSION:
            raise IndexProblem(
                f"index in {index_dir} has format {data.get('format_version')}, "
                f"this Footnote reads {FORMAT_VERSION} (run: footnote index)"
            )
        manifest = Manifest.from_json(data)
        if not isinstance(manifest.files, dict):
            raise TypeError("'files' is not a mapping")
        return manifest
    # AttributeError: valid JSON that is not an object ("null", "[]") has no .get().
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise IndexProblem(
            f"index manifest {path} is corrupt ({exc}); run: footnote index"
        ) from exc


class IndexStore:
    """A loaded index: passages, paragraphs, vectors, the FAISS index and BM25."""

    def __init__(
        self,
        manifest: Manifest,
        passages: list[Passage],
        paragraphs: list[ParagraphRecord],
        vectors: NDArray[np.float32],
        faiss_index: Any | None = None,
    ) -> None:
        self.manifest = manifest
        self.passages = passages
        self.paragraphs = paragraphs
        self.vectors = vectors
        self.row_of_id = {p.id: row for row, p in enumerate(passages)}
        self.passages_of_paragraph: dict[int, list[int]] = {}
        for row, passage in enumerate(passages):
            self.passages_of_paragraph.setdefault(passage.paragraph_row, []).append(row)
        self._faiss = faiss_index
        self.bm25 = BM25([index_terms(p.text) for p in passages])

    @property
    def faiss_index(self) -> Any:
        if self._faiss is None:
            import faiss

            index = faiss.IndexFlatIP(self.manifest.dimension)
            if len(self.vectors):
                index.add(np.ascontiguousarray(self.vectors))
            self._faiss = index
        return self._faiss

    def search_dense(self, query: NDArray[np.float32], k: int) -> list[tuple[int, float]]:
        if not self.passages:
            return []
        scores, rows = self.faiss_index.search(query.reshape(1, -1), min(k, len(self.passages)))
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0]


def _read_jsonl(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_index(index_dir: Path) -> IndexStore:
    manifest = read_manifest(index_dir)
    files = manifest.files
    try:
        passages = [Passage(**row) for row in _read_jsonl(index_dir / files["passages"])]
        paragraphs = [
            ParagraphRecord(**{**row, "sentences": tuple(tuple(s) for s in row["sentences"])})
            for row in _read_jsonl(index_dir / files["paragraphs"])
        ]
        vectors = np.load(index_dir / files["vectors"], mmap_mode="r")
        faiss_index = None
        if "faiss" in files:
            import faiss

            faiss_index = faiss.read_index(str(index_dir / files["faiss"]))
            if hasattr(faiss_index, "nprobe"):
                faiss_index.nprobe = manifest.faiss_params.get("nprobe", 1)
    # EOFError: np.load of an empty (zero-byte) vectors file.
    except (OSError, EOFError, ValueError, KeyError, TypeError, RuntimeError) as exc:
        raise IndexProblem(f"index in {index_dir} is corrupt ({exc}); run: footnote index") from exc
    if (
        len(passages) != manifest.passage_count
        or len(paragraphs) != manifest.paragraph_count
        or vectors.shape != (manifest.passage_count, manifest.dimension)
    ):
        raise IndexProblem(
            f"index in {index_dir} is inconsistent (passages, paragraphs, vectors and manifest "
            "disagree); run: footnote index"
        )
    return IndexStore(manifest, passages, paragraphs, vectors, faiss_index)


def staleness(index_dir: Path, corpus_dir: Path, model: str) -> str | None:
    """Why the index must be rebuilt, or None when it is up to date."""
    try:
        manifest = read_manifest(index_dir)
    except IndexProblem as exc:
        return str(exc)
    if manifest.model != model:
        return f"the model changed ({manifest.model} -> {model})"
    if manifest.corpus_hash != corpus_fingerprint(corpus_dir):
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
) -> BuildReport:
    """Rebuild the index if the corpus or the model changed (or `force`)."""
    started = time.perf_counter()
    reason = "forced" if force else staleness(index_dir, corpus_dir, embedder.name)
    if reason is None:
        manifest = read_manifest(index_dir)
        return BuildReport(
            False,
            "up to date",
            len(manifest.documents),
            manifest.passage_count,
            time.perf_counter() - started,
            list(manifest.problems),
        )
    fingerprint = corpus_fingerprint(corpus_dir)
    documents, problems = read_corpus(corpus_dir)
    if not documents:
        named = "; ".join(f"{p.path}: {p.reason}" for p in problems)
        raise CorpusError(
            str(corpus_dir), "no readable documents" + (f" ({named})" if named else "")
        )
    manifest = write_index(index_dir, documents, problems, fingerprint, embedder, progress)
    return BuildReport(
        True,
        reason,
        len(documents),
        manifest.passage_count,
        time.perf_counter() - started,
        problems,
    )


def open_index(
    corpus_dir: Path,
    index_dir: Path,
    embedder: Embedder,
    progress: ProgressCallback | None = None,
) -> tuple[IndexStore, BuildReport]:
    """Load the index, rebuilding it first when it is stale, missing or corrupt."""
    report = build_index(corpus_dir, index_dir, embedder, progress)
    try:
        return load_index(index_dir), report
    except IndexProblem:
        if report.rebuilt:
            raise
        report = build_index(corpus_dir, index_dir, embedder, progress, force=True)
        return load_index(index_dir), report

