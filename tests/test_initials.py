"""The table of initials is written with each index generation (bot/index/initials.py): read by
the missing-name rule instead of scanning every paragraph, the same whether a build carried
documents over or started afresh, and found by a scan for an index built before it existed."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import bot.index.initials as initials
from bot.index.build import build_index
from bot.index.embedding import HashingEmbedder
from bot.index.initials import initialisms, read_initials
from bot.index.manifest import read_manifest
from bot.index.store import load_index
from bot.search.retriever import Retriever

FIRST = (
    "Notes on the timber trade\n\n"
    "The Guild of Baltic Merchants met in Umeå. The Carters' League of Skåne carried logs.\n"
)
SECOND = "Notes on paper\n\nThe Northeast Paper Company shipped pulp to Hamburg.\n"
EDITED = "Notes on paper\n\nThe Western Pulp Board of Hamburg bought the mill in 1931.\n"


def test_initials_skip_function_words_and_keep_possessives() -> None:
    found = initialisms(["The Guild of Baltic Merchants and the Carters' League of Skåne met."])
    assert {"GBM", "CLS"} <= found
    # Two letters are too few; a sentence's end breaks a name.
    assert "BM" not in found
    assert "MC" not in initialisms(["Baltic Merchants. Carters met."])


def _write(corpus: Path, name: str, text: str) -> None:
    corpus.mkdir(parents=True, exist_ok=True)
    (corpus / name).write_text(text, encoding="utf-8")


def _initials_file(index: Path) -> bytes:
    return (index / read_manifest(index).files["initials"]).read_bytes()


def test_a_build_writes_the_table_and_an_incremental_build_matches_a_fresh_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus, index, fresh = tmp_path / "corpus", tmp_path / "index", tmp_path / "fresh"
    _write(corpus, "a-timber.txt", FIRST)
    _write(corpus, "b-paper.txt", SECOND)
    _write(corpus, "c-again.txt", "Again\n\nThe Guild of Baltic Merchants bought paper.\n")
    build_index(corpus, index, HashingEmbedder())
    table = read_initials(index / read_manifest(index).files["initials"])
    assert {"GBM", "CLS", "NPC"} <= table
    # One document changed, one removed: the other is carried over, not read again.
    _write(corpus, "b-paper.txt", EDITED)
    (corpus / "c-again.txt").unlink()
    read: list[str] = []
    real = initials._initials_of

    def reading(text: str) -> set[str]:
        read.append(text)
        return real(text)

    monkeypatch.setattr(initials, "_initials_of", reading)
    assert build_index(corpus, index, HashingEmbedder()).rebuilt
    # Only the changed document was read, as it was and as it is.
    assert any("Western Pulp Board" in text for text in read)
    assert any("Northeast Paper Company" in text for text in read)
    assert not any("Merchants met in" in text for text in read)
    monkeypatch.undo()
    build_index(corpus, fresh, HashingEmbedder())
    assert _initials_file(index) == _initials_file(fresh)
    table = read_initials(index / read_manifest(index).files["initials"])
    # "GBM" is still given by the kept document, "NPC" by none.
    assert {"WPBH", "GBM"} <= table and "NPC" not in table
    stored = np.load(index / read_manifest(index).files["initials"])
    assert stored.dtype.names == ("initials", "paragraphs") and (stored["paragraphs"] > 0).all()


def test_an_index_without_the_table_scans_its_paragraphs(tmp_path: Path) -> None:
    corpus, index = tmp_path / "corpus", tmp_path / "index"
    _write(corpus, "a-timber.txt", FIRST)
    build_index(corpus, index, HashingEmbedder())
    path = index / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    del data["files"]["initials"]  # as written before the table existed
    path.write_text(json.dumps(data), encoding="utf-8")
    store = load_index(index)
    assert store.initials_file is None
    retriever = Retriever(store, HashingEmbedder())
    assert retriever.ask("Who led the GBM?").missing_terms == ()
    assert retriever.ask("Who led the QXZ?").missing_terms == ("QXZ",)
