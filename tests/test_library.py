"""Files whose bytes the previous generation cut are not read again (bot/index/library.py),
and the index still comes out identical to one built from scratch."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest

from bot.corpus import Document, read_document
from bot.index.build import build_index
from bot.index.embedding import HashingEmbedder
from bot.index.manifest import read_manifest
from tests.helpers.essay import ESSAY, EXTRA_ESSAY, SAMPLES, edit_remove_insert, write_text
from tests.test_carry import same_index


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """The essay and the sample documents, last modified an hour ago (a file modified as the
    stamps are written is hashed again whatever they say: bot/index/fingerprint.py)."""
    corpus = tmp_path / "corpus"
    shutil.copytree(SAMPLES, corpus)
    shutil.copy(ESSAY, corpus / ESSAY.name)
    write_text(corpus / "a-patience.txt", EXTRA_ESSAY)
    an_hour_ago = time.time() - 3600
    for path in corpus.rglob("*"):
        os.utime(path, (an_hour_ago, an_hour_ago))
    return corpus


class Reads:
    """A document reader that notes what it reads (relative paths)."""

    def __init__(self) -> None:
        self.paths: list[str] = []

    def __call__(self, path: Path, root: Path) -> Document:
        self.paths.append(path.relative_to(root).as_posix())
        return read_document(path, root)


def test_only_new_and_changed_files_are_read(corpus: Path, tmp_path: Path) -> None:
    index, fresh = tmp_path / "index", tmp_path / "fresh"
    build_index(corpus, index, HashingEmbedder())
    edit_remove_insert(corpus)
    # Files the last build could not use are read again (few, and a reason such as a
    # duplicate id depends on other files).
    unusable = {problem.path for problem in read_manifest(index).problems}
    assert unusable and not unusable & {ESSAY.name, "0-first.txt"}
    reads = Reads()
    report = build_index(corpus, index, HashingEmbedder(), read=reads)
    assert report.rebuilt
    assert sorted(set(reads.paths) - unusable) == sorted(["0-first.txt", ESSAY.name])
    assert report.documents == len(read_manifest(index).documents) >= 4
    build_index(corpus, fresh, HashingEmbedder())
    same_index(index, fresh)
    assert read_manifest(index).problems == read_manifest(fresh).problems


def test_a_forced_build_reads_nothing_unchanged(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    build_index(corpus, index, HashingEmbedder())
    unusable = {problem.path for problem in read_manifest(index).problems}
    reads = Reads()
    assert build_index(corpus, index, HashingEmbedder(), force=True, read=reads).rebuilt
    assert set(reads.paths) == unusable
    fresh = tmp_path / "fresh"
    build_index(corpus, fresh, HashingEmbedder())
    same_index(index, fresh)


def test_keys_of_other_reading_code_mean_reading_everything(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    build_index(corpus, index, HashingEmbedder())
    path = index / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    # As if the documents had been read and cut by other code (another key for each).
    data["document_keys"] = {doc_id: "0" * 64 for doc_id in data["document_keys"]}
    path.write_text(json.dumps(data), encoding="utf-8")
    reads = Reads()
    report = build_index(corpus, index, HashingEmbedder(), force=True, read=reads)
    assert len(reads.paths) == report.documents + len(report.problems)
    fresh = tmp_path / "fresh"
    build_index(corpus, fresh, HashingEmbedder())
    same_index(index, fresh)


def test_a_new_file_taking_a_carried_documents_id_is_named_as_before(
    corpus: Path, tmp_path: Path
) -> None:
    index, fresh = tmp_path / "index", tmp_path / "fresh"
    build_index(corpus, index, HashingEmbedder())
    # "a-patience.md" sorts before "a-patience.txt": it takes the id, the carried file is
    # the duplicate, as a build from scratch says.
    write_text(corpus / "a-patience.md", "# Haste\n\nHaste makes waste in diplomacy.\n")
    unusable = {problem.path for problem in read_manifest(index).problems}
    reads = Reads()
    build_index(corpus, index, HashingEmbedder(), read=reads)
    assert set(reads.paths) - unusable == {"a-patience.md"}
    build_index(corpus, fresh, HashingEmbedder())
    same_index(index, fresh)
    problems = read_manifest(index).problems
    assert problems == read_manifest(fresh).problems
    assert any(p.path == "a-patience.txt" and "duplicate" in p.reason for p in problems)
