"""The manifest: what an index directory holds, self-described (format, model, counts, contents)."""

from __future__ import annotations

import json
import os
import re
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bot.corpus import CorpusProblem, Document
from bot.errors import IndexProblem
from bot.index.passages import Passage

# Bump when the files' layout or the passage records change, so existing indexes are rebuilt.
# 3: the manifest carries the corpus's own verdict thresholds ("calibration").
# 4: vectors reused across builds (keys), BM25 and the records as memory-mapped arrays.
# 5: the calibration is of the refitted ranking (scripts/fit_fusion.py): scores moved.
# 6: calibration places "absent" a fifth of the gap up, not a quarter: stored cuts moved.
# 7: the IVF index as centroids and lists over the vectors file, not a FAISS file; no
#    forward index (wordcounts): passage lengths beside the text keys; vectors in segments
#    with a slot map (bot/index/vectors.py).
#    Still 7 with the sentences' token embeddings (bot/index/tokens.py): optional files, an
#    index without them answers without the late-interaction re-score.
# 8: the calibration also holds `addressed_below`, the absent cut for a question about the
#    text itself ("the author", "the essay"): stored cuts gained a field.
FORMAT_VERSION = 8
MANIFEST = "manifest.json"
# The files of an IVF index (large collections only).
IVF_STEMS = frozenset({"centroids", "lists"})
# Kinds no generation writes any more, still removed when an older generation is replaced.
FORMER_STEMS = frozenset({"faiss", "wordcounts"})
# The kinds of file a generation holds (bot/index/build.py describes each).
GENERATION_STEMS = frozenset(
    {"passages", "paragraphs", "texts", "sentences", "vectors", "slots", "keys"}
    | {"vocabulary", "lexicon", "postings", "frequencies", "words"}
    | {"initials"}
    | IVF_STEMS
    | {"tokens", "tokenstarts", "tokenids", "tokenfreq"}
)
GENERATION_FILE = re.compile(rf"(?:{'|'.join(sorted(GENERATION_STEMS))})-[A-Za-z0-9_.-]+")


@dataclass(frozen=True)
class SectionInfo:
    """A section of a document, as the table of contents shows it."""

    doc_id: str
    document_title: str
    section_no: int  # position in its document, 0-based
    title: str  # "" for the opening section before the first heading
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
    # What the reader left out of quotes, by kind (boilerplate, code, table, empty).
    dropped: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        # The document's id and title are said once, not again in each section.
        data["sections"] = [
            {"title": s.title, "paragraphs": s.paragraphs, "passages": s.passages}
            for s in self.sections
        ]
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> DocumentInfo:
        sections = tuple(
            SectionInfo(
                data["doc_id"], data["title"], number, s["title"], s["paragraphs"], s["passages"]
            )
            for number, s in enumerate(data["sections"])
        )
        return cls(**{**data, "sections": sections})


def describe_documents(
    documents: Sequence[Document], passages: Sequence[Passage] | Counter[tuple[str, int]]
) -> tuple[DocumentInfo, ...]:
    """The manifest's entries for `documents`, cut into `passages` (or, counted already, with
    so many passages per document id and section number)."""
    per_section = (
        passages
        if isinstance(passages, Counter)
        else Counter((passage.doc_id, passage.section_no) for passage in passages)
    )
    return tuple(
        DocumentInfo(
            doc_id=document.doc_id,
            path=document.path,
            title=document.title,
            sections=tuple(
                SectionInfo(
                    document.doc_id,
                    document.title,
                    number,
                    section.title,
                    len(section.paragraphs),
                    per_section[(document.doc_id, number)],
                )
                for number, section in enumerate(document.sections)
            ),
            author=document.author,
            source_url=document.source_url,
            date=document.date,
            dropped=dict(document.dropped),
        )
        for document in documents
    )


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
    # Per ranking mode, the verdict thresholds fitted to this corpus when it was indexed
    # (bot/search/calibration.py): {"hybrid": {"absent_below": ..., "answer_from": ...}}.
    calibration: dict[str, dict[str, float]] = field(default_factory=dict)
    # What the calibration and the IVF quantizer were fitted on, so that a later build can
    # keep them while the library changed little (bot/index/refit.py `Fit`); {} = unknown.
    calibration_fit: dict[str, int] = field(default_factory=dict)
    quantizer_fit: dict[str, int] = field(default_factory=dict)
    # Per document id, what its rows depend on (bot/index/carry.py document_key): the next
    # build carries the rows of a document whose key is unchanged instead of cutting it again.
    document_keys: dict[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["documents"] = [document.to_json() for document in self.documents]
        data["format"] = "footnote-index"
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Manifest:
        files = data["files"]
        if not isinstance(files, dict) or not all(
            isinstance(name, str) and GENERATION_FILE.fullmatch(name) for name in files.values()
        ):
            # Every path the index loads is a plain file name inside the index directory.
            raise ValueError("'files' must map to generation file names in the index directory")
        documents = tuple(DocumentInfo.from_json(doc) for doc in data["documents"])
        problems = tuple(CorpusProblem(**p) for p in data.get("problems", ()))
        fields = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**{**fields, "documents": documents, "problems": problems})


# The last manifest read, by its file's identity and time.  Opening an up-to-date index reads
# the manifest twice (bot/index/build.py checks it is current, then the caller opens it), and
# on Python's docs it is 2 MB of JSON, ~0.04 s a parse.  Only a file older than _SETTLED_NS is
# remembered: a file written after that read has a later time however coarse the
# filesystem's clock, so it cannot pass for the remembered one (git's rule for racy files).
_SETTLED_NS = 2_000_000_000
_last_read: tuple[tuple[int, int, int, int], Manifest] | None = None


def read_manifest(index_dir: Path) -> Manifest:
    global _last_read
    path = index_dir / MANIFEST
    if not path.is_file():
        raise IndexProblem(f"no index in {index_dir} (run: footnote index)")
    try:
        with path.open("rb") as file:
            stat = os.fstat(file.fileno())  # the file read, even if another replaces it now
            key = (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)
            if _last_read is not None and _last_read[0] == key:
                return _last_read[1]
            data = json.loads(file.read().decode("utf-8"))
        if data.get("format_version") != FORMAT_VERSION:
            raise IndexProblem(
                f"index in {index_dir} has format {data.get('format_version')}, "
                f"this Footnote reads {FORMAT_VERSION} (run: footnote index)"
            )
        manifest = Manifest.from_json(data)
    except OSError as exc:
        raise IndexProblem(f"cannot read {path}: {exc.strerror or exc}") from exc
    # AttributeError: valid JSON that is not an object ("null", "[]") has no .get();
    # RecursionError: JSON nested thousands deep.
    except (ValueError, KeyError, TypeError, AttributeError, RecursionError) as exc:
        raise IndexProblem(
            f"index manifest {path} is corrupt ({exc}); run: footnote index"
        ) from exc
    if time.time_ns() - stat.st_mtime_ns > _SETTLED_NS:
        _last_read = (key, manifest)
    return manifest
