"""The corpus's fingerprint: what tells an index that its corpus changed.

Hashing every file's bytes at every start costs seconds for a library of PDFs, so a build
leaves the size, modification time and hash of each file it saw in the index directory
(`.stamps.json`), and a file whose size and time still match is not read again, as git's
index does.  A file changed in the same clock tick as the stamps were written cannot be told
apart by its time, so any file modified within RACY_NS of them is hashed whatever its stamp
says.  `footnote index --force` rebuilds without asking the fingerprint at all.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path

from bot.corpus.files import scan_corpus
from bot.errors import CorpusError
from bot.index.passages import PASSAGE_FORMAT

STAMPS = ".stamps.json"
RACY_NS = 2_000_000_000


@dataclass(frozen=True)
class FileStamp:
    size: int
    mtime_ns: int
    sha256: str


@dataclass(frozen=True)
class Stamps:
    """What the last build saw of each file (relative path), and when it wrote that down."""

    files: dict[str, FileStamp]
    written_ns: int = 0

    def hash_of(self, relative: str, stat: os.stat_result) -> str | None:
        stamp = self.files.get(relative)
        if (
            stamp is None
            or stamp.size != stat.st_size
            or stamp.mtime_ns != stat.st_mtime_ns
            or stat.st_mtime_ns >= self.written_ns - RACY_NS
        ):
            return None
        return stamp.sha256


def read_stamps(index_dir: Path) -> Stamps:
    """The stamps a build left, or none (missing, unreadable or malformed: hash everything)."""
    try:
        data = json.loads((index_dir / STAMPS).read_text(encoding="utf-8"))
        files = {
            str(name): FileStamp(int(size), int(mtime_ns), str(digest))
            for name, (size, mtime_ns, digest) in data["files"].items()
        }
        return Stamps(files, int(data["written_ns"]))
    except (OSError, ValueError, KeyError, TypeError, AttributeError, RecursionError):
        return Stamps({})


def write_stamps(index_dir: Path, files: dict[str, FileStamp]) -> None:
    data = {
        "written_ns": time.time_ns(),
        "files": {name: [s.size, s.mtime_ns, s.sha256] for name, s in files.items()},
    }
    staging = index_dir / f"{STAMPS}.{os.getpid()}.tmp"
    # Only a speed-up: an index directory that cannot take it loses nothing.
    with contextlib.suppress(OSError):
        staging.write_text(json.dumps(data), encoding="utf-8")
        os.replace(staging, index_dir / STAMPS)
    with contextlib.suppress(OSError):
        staging.unlink(missing_ok=True)


def corpus_fingerprint(
    corpus_dir: Path,
    follow_links: bool = False,
    index_dir: Path | None = None,
    remember: bool = False,
) -> str:
    """The corpus's fingerprint (see `fingerprint_files`)."""
    return fingerprint_files(corpus_dir, follow_links, index_dir, remember)[0]


def fingerprint_files(
    corpus_dir: Path,
    follow_links: bool = False,
    index_dir: Path | None = None,
    remember: bool = False,
) -> tuple[str, dict[str, str]]:
    """Hash of every corpus file's name and bytes, and of what was skipped: detects changes
    (a folder that becomes readable, say) without parsing anything.  With `index_dir`, files
    whose stamps there still match are not read, and the stamps are written anew when a file
    had to be read (or `remember`).  Any command may write them: each writer writes a whole,
    true view with one atomic rename, and a stamp is checked before it is believed.  Also
    returns each file's sha256 by relative path: a build need not read a file to know it
    is unchanged (bot/index/library.py)."""
    digest = hashlib.sha256(f"footnote-corpus passages-v{PASSAGE_FORMAT}\n".encode())
    if not corpus_dir.is_dir():
        raise CorpusError(str(corpus_dir), "the corpus directory does not exist")
    stamps = read_stamps(index_dir) if index_dir is not None else Stamps({})
    seen: dict[str, FileStamp] = {}
    scan = scan_corpus(corpus_dir, follow_links)
    for path in scan.files:
        relative = path.relative_to(corpus_dir).as_posix()
        try:
            stat = path.stat()
            known = stamps.hash_of(relative, stat)
            content = known or _sha256(path)
            remember = remember or known is None
            seen[relative] = FileStamp(stat.st_size, stat.st_mtime_ns, content)
        except OSError as exc:
            content = f"unreadable:{exc.errno}"
        digest.update(f"{relative}\t{content}\n".encode())
    for problem in scan.skipped:
        digest.update(f"skipped\t{problem.path}\t{problem.reason}\n".encode())
    if remember and index_dir is not None and index_dir.is_dir():
        write_stamps(index_dir, seen)
    return digest.hexdigest(), {name: stamp.sha256 for name, stamp in seen.items()}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
