"""The corpus's fingerprint: what tells an index that its corpus changed."""

from __future__ import annotations

import hashlib
from pathlib import Path

from bot.corpus.files import scan_corpus
from bot.errors import CorpusError
from bot.index.passages import PASSAGE_FORMAT


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
