"""Unchanged documents are carried over from the previous generation, not cut again, and the
index comes out identical to one built from scratch (bot/index/carry.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

import bot.index.carry as carry
from bot.index.build import build_index
from bot.index.embedding import HashingEmbedder
from bot.index.manifest import read_manifest
from bot.index.store import load_index
from tests.helpers.essay import ESSAY, EXTRA_ESSAY, SAMPLES, edit_remove_insert, write_text

COLUMNS = ("passages", "paragraphs", "texts", "sentences", "keys")
COLUMNS += ("vocabulary", "lexicon", "postings", "frequencies", "words")
COLUMNS += ("initials",)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """The essay and the sample documents (text, Markdown, HTML), in sub-folders too."""
    corpus = tmp_path / "corpus"
    shutil.copytree(SAMPLES, corpus)
    shutil.copy(ESSAY, corpus / ESSAY.name)
    write_text(corpus / "a-patience.txt", EXTRA_ESSAY)
    return corpus


def arrays(index_dir: Path) -> dict[str, bytes]:
    files = read_manifest(index_dir).files
    found = {name: np.load(index_dir / files[name]).tobytes() for name in COLUMNS}
    # Every row's vector, wherever it is stored (one file, or segments: bot/index/vectors.py).
    found["vectors"] = np.asarray(load_index(index_dir).vectors).tobytes()
    return found


def same_index(built: Path, fresh: Path) -> None:
    """Every array, the table of contents and every record of `built` are those of `fresh`."""
    assert arrays(built) == arrays(fresh)
    one, two = read_manifest(built), read_manifest(fresh)
    assert one.documents == two.documents and one.document_keys == two.document_keys
    assert list(load_index(built).passages) == list(load_index(fresh).passages)
    assert list(load_index(built).paragraphs) == list(load_index(fresh).paragraphs)


def count_cuts(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids of the documents cut from here on (carried ones are not)."""
    cut: list[str] = []
    real_document, real_corpus = carry.cut_document, carry.cut_corpus

    def cut_document(document: carry.Document, first_row: int = 0) -> object:
        cut.append(document.doc_id)
        return real_document(document, first_row)

    def cut_corpus(documents: list[carry.Document]) -> object:
        cut.extend(document.doc_id for document in documents)
        return real_corpus(documents)

    monkeypatch.setattr(carry, "cut_document", cut_document)
    monkeypatch.setattr(carry, "cut_corpus", cut_corpus)
    return cut


def test_changes_cut_only_what_changed_and_match_a_fresh_build(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = tmp_path / "index"
    build_index(corpus, index, HashingEmbedder())
    documents = [info.doc_id for info in read_manifest(index).documents]
    assert len(documents) >= 4
    cut = count_cuts(monkeypatch)
    edit_remove_insert(corpus)
    report = build_index(corpus, index, HashingEmbedder())
    assert report.rebuilt
    assert sorted(cut) == sorted([ESSAY.stem, "0-first"])
    fresh = tmp_path / "fresh"
    build_index(corpus, fresh, HashingEmbedder())
    same_index(index, fresh)


def test_nothing_changed_but_forced_carries_everything(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index, fresh = tmp_path / "index", tmp_path / "fresh"
    build_index(corpus, index, HashingEmbedder())
    build_index(corpus, fresh, HashingEmbedder())
    cut = count_cuts(monkeypatch)
    assert build_index(corpus, index, HashingEmbedder(), force=True).rebuilt
    assert cut == []
    same_index(index, fresh)


def test_a_document_with_the_same_name_but_new_text_is_cut_again(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = tmp_path / "index"
    build_index(corpus, index, HashingEmbedder())
    cut = count_cuts(monkeypatch)
    write_text(corpus / "a-patience.txt", EXTRA_ESSAY.replace("small steps", "large steps"))
    build_index(corpus, index, HashingEmbedder())
    assert cut == ["a-patience"]
    texts = [p.text for p in load_index(index).passages if p.doc_id == "a-patience"]
    assert any("large steps" in text for text in texts)
    assert not any("small steps" in text for text in texts)


def test_an_older_manifest_without_document_keys_cuts_everything(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import json

    index = tmp_path / "index"
    build_index(corpus, index, HashingEmbedder())
    path = index / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    del data["document_keys"]
    path.write_text(json.dumps(data), encoding="utf-8")
    cut = count_cuts(monkeypatch)
    report = build_index(corpus, index, HashingEmbedder(), force=True)
    assert len(cut) == report.documents and report.embedded == 0


def test_an_older_index_without_frequencies_is_inverted_and_matches(
    corpus: Path, tmp_path: Path
) -> None:
    import json

    index, fresh = tmp_path / "index", tmp_path / "fresh"
    build_index(corpus, index, HashingEmbedder())
    path = index / "manifest.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    del data["files"]["frequencies"]  # as written before postings were merged
    path.write_text(json.dumps(data), encoding="utf-8")
    write_text(corpus / "0-first.txt", EXTRA_ESSAY.replace("Patience", "Firmness"))
    assert build_index(corpus, index, HashingEmbedder()).rebuilt
    build_index(corpus, fresh, HashingEmbedder())
    same_index(index, fresh)
