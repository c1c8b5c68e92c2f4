"""The table of contents opens the manifest alone (bot/index/store.py open_manifest), and an
up-to-date index's manifest is parsed once (bot/index/manifest.py read_manifest remembers it)."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

import bot.index.store as store_module
from bot.index.embedding import HashingEmbedder
from bot.index.manifest import MANIFEST, Manifest, read_manifest
from bot.index.store import open_index, open_manifest
from tests.helpers.essay import EXTRA_ESSAY, copy_essay, write_text


def _settle(index_dir: Path) -> None:
    """Date the manifest a minute back, as an index built earlier would be."""
    past = time.time() - 60
    os.utime(index_dir / MANIFEST, (past, past))


def _count_parses(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    parses: list[int] = []
    parse = Manifest.from_json.__func__  # type: ignore[attr-defined]

    def counted(cls: type[Manifest], data: dict[str, Any]) -> Manifest:
        parses.append(1)
        result: Manifest = parse(cls, data)
        return result

    monkeypatch.setattr(Manifest, "from_json", classmethod(counted))
    return parses


def test_a_settled_manifest_is_parsed_once_and_a_rewritten_one_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_dir = tmp_path / "index"
    open_index(copy_essay(tmp_path / "corpus"), index_dir, HashingEmbedder())
    parses = _count_parses(monkeypatch)
    fresh = read_manifest(index_dir)
    assert read_manifest(index_dir) == fresh and len(parses) == 2  # just written: not kept
    _settle(index_dir)
    first = read_manifest(index_dir)
    assert read_manifest(index_dir) is first and len(parses) == 3
    # Rewritten in place to the same size: its time tells it from the one remembered.
    path = index_dir / MANIFEST
    text = path.read_text(encoding="utf-8")
    built = first.built_at
    again = built[:-1] + ("0" if built[-1] != "0" else "1")
    path.write_text(text.replace(json.dumps(built), json.dumps(again), 1), encoding="utf-8")
    assert read_manifest(index_dir).built_at == again and len(parses) == 4


def test_sections_open_the_manifest_alone_parsed_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus, index_dir = copy_essay(tmp_path / "corpus"), tmp_path / "index"
    store, _ = open_index(corpus, index_dir, HashingEmbedder())
    _settle(index_dir)
    parses = _count_parses(monkeypatch)

    def no_arrays(index_dir: Path) -> None:
        raise AssertionError("the table of contents opened the index's arrays")

    monkeypatch.setattr(store_module, "load_index", no_arrays)
    manifest, report = open_manifest(corpus, index_dir, HashingEmbedder())
    assert not report.rebuilt and len(parses) == 1
    assert manifest.documents == store.manifest.documents
    # A stale index is rebuilt first, as for a question; the new essay is in its contents.
    write_text(corpus / "patience.txt", EXTRA_ESSAY)
    manifest, report = open_manifest(corpus, index_dir, HashingEmbedder())
    assert report.rebuilt and len(manifest.documents) == len(store.manifest.documents) + 1


def test_sections_keep_the_previous_manifest_when_the_corpus_cannot_be_read(
    tmp_path: Path,
) -> None:
    corpus, index_dir = copy_essay(tmp_path / "corpus"), tmp_path / "index"
    store, _ = open_index(corpus, index_dir, HashingEmbedder())
    shutil.rmtree(corpus)
    corpus.mkdir()
    manifest, report = open_manifest(corpus, index_dir, HashingEmbedder())
    assert manifest.documents == store.manifest.documents
    assert report.warning and "could not be refreshed" in report.warning
