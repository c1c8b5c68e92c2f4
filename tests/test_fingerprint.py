"""The corpus fingerprint's stamps (bot/index/fingerprint.py): a file whose size and time match
what the last build saw is not read again; anything else is."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from bot.index.build import build_index, staleness
from bot.index.embedding import HashingEmbedder
from bot.index.fingerprint import RACY_NS, STAMPS, corpus_fingerprint, read_stamps
from tests.helpers.essay import copy_essay, write_text

OLD_NS = 1_600_000_000 * 10**9  # 2020: long before any stamps are written


def _corpus(tmp_path: Path) -> tuple[Path, Path]:
    corpus = copy_essay(tmp_path / "corpus")
    note = write_text(corpus / "note.txt", "A note\n\nThe note says one thing.\n")
    os.utime(note, ns=(OLD_NS, OLD_NS))
    return corpus, tmp_path / "index"


def _swap_keeping_stamp(path: Path, text: str) -> None:
    """New bytes of the same size, the old modification time put back (`cp -p`)."""
    stat = path.stat()
    assert len(text.encode()) == stat.st_size
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_a_build_leaves_stamps_and_the_fingerprint_is_the_same(tmp_path: Path) -> None:
    corpus, index = _corpus(tmp_path)
    build_index(corpus, index, HashingEmbedder())
    stamps = read_stamps(index)
    assert set(stamps.files) == {"4-ways-out-of-the-korean-crisis.txt", "note.txt"}
    assert stamps.written_ns > 0
    assert corpus_fingerprint(corpus, index_dir=index) == corpus_fingerprint(corpus)
    assert staleness(index, corpus, HashingEmbedder().name) is None


def test_a_matching_stamp_is_trusted_and_a_changed_one_is_not(tmp_path: Path) -> None:
    corpus, index = _corpus(tmp_path)
    build_index(corpus, index, HashingEmbedder())
    note = corpus / "note.txt"
    # Same size, same (old) time: the stamp is believed, as git believes its index; the full
    # hash sees the change, and `footnote index --force` does not ask the fingerprint.
    _swap_keeping_stamp(note, "A note\n\nThe note says one THING.\n")
    assert corpus_fingerprint(corpus, index_dir=index) != corpus_fingerprint(corpus)
    assert staleness(index, corpus, HashingEmbedder().name) is None
    # Another time, or another size: read again, and the index is stale.
    os.utime(note, ns=(OLD_NS + 10**9, OLD_NS + 10**9))
    assert staleness(index, corpus, HashingEmbedder().name) == "the corpus changed"
    assert corpus_fingerprint(corpus, index_dir=index) == corpus_fingerprint(corpus)


def test_a_file_changed_as_the_stamps_were_written_is_read_again(tmp_path: Path) -> None:
    corpus, index = _corpus(tmp_path)
    build_index(corpus, index, HashingEmbedder())
    written = read_stamps(index).written_ns
    note = corpus / "note.txt"
    racy = written - RACY_NS // 2
    os.utime(note, ns=(racy, racy))
    build_index(corpus, index, HashingEmbedder())  # stamps now hold the racy time
    assert read_stamps(index).files["note.txt"].mtime_ns == racy
    data = json.loads((index / STAMPS).read_text(encoding="utf-8"))
    data["written_ns"] = racy + RACY_NS // 2  # as if written in the same tick
    (index / STAMPS).write_text(json.dumps(data), encoding="utf-8")
    _swap_keeping_stamp(note, "A note\n\nThe note says one THING.\n")
    assert staleness(index, corpus, HashingEmbedder().name) == "the corpus changed"


def test_broken_stamps_mean_hashing_everything(tmp_path: Path) -> None:
    corpus, index = _corpus(tmp_path)
    build_index(corpus, index, HashingEmbedder())
    for garbage in ("", "[]", '{"files": {"note.txt": [1]}, "written_ns": 5}', "{" * 5000):
        (index / STAMPS).write_text(garbage, encoding="utf-8")
        assert read_stamps(index).files == {}
        assert corpus_fingerprint(corpus, index_dir=index) == corpus_fingerprint(corpus)
    assert time.time_ns() > 0
