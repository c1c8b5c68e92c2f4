"""Incremental builds: vectors keyed by (model, passage text) are reused (bot/index/reuse.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.index.build import build_index
from bot.index.embedding import HashingEmbedder
from bot.index.store import load_index
from bot.render.terminal import build_summary
from tests.helpers.essay import ESSAY, ESSAY_PASSAGES, EXTRA_ESSAY, copy_essay, write_text


class RecordingEmbedder(HashingEmbedder):
    """The fake embedder, remembering every text it was asked to embed."""

    def __init__(self, name: str = "fake:hashing") -> None:
        super().__init__(name=name)
        self.texts: list[str] = []

    def encode(self, texts: list[str], batch_size: int = 64) -> Any:
        self.texts.extend(texts)
        return super().encode(texts, batch_size)

    def passages(self, *index_dirs: Path) -> list[str]:
        """The texts embedded that are passages of these indexes (a build also embeds its
        calibration questions)."""
        known = {p.text for index_dir in index_dirs for p in load_index(index_dir).passages}
        return [text for text in self.texts if text in known]


def by_id(index_dir: Path) -> dict[str, tuple[str, str, bytes]]:
    """Each passage's document, text and vector, by id."""
    store = load_index(index_dir)
    return {
        p.id: (p.doc_id, p.text, np.asarray(store.vectors[row]).tobytes())
        for row, p in enumerate(store.passages)
    }


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return copy_essay(tmp_path / "corpus")


@pytest.fixture
def index_dir(tmp_path: Path, corpus: Path) -> Path:
    index = tmp_path / "index"
    first = RecordingEmbedder()
    report = build_index(corpus, index, first)
    assert (report.reused, report.embedded, report.removed) == (0, ESSAY_PASSAGES, 0)
    return index


def test_adding_a_document_embeds_only_its_passages(corpus: Path, index_dir: Path) -> None:
    before = by_id(index_dir)
    write_text(corpus / "patience.txt", EXTRA_ESSAY)
    embedder = RecordingEmbedder()
    report = build_index(corpus, index_dir, embedder)
    after = by_id(index_dir)
    added = {i: row for i, row in after.items() if i not in before}
    # Untouched passages keep their ids and their vectors, bit for bit.
    assert {i: after[i] for i in before} == before
    assert sorted(embedder.passages(index_dir)) == sorted(text for _, text, _ in added.values())
    assert {doc for doc, _, _ in added.values()} == {"patience"}
    assert (report.reused, report.embedded, report.removed) == (ESSAY_PASSAGES, len(added), 0)
    summary = build_summary(report)
    assert f"vectors: {ESSAY_PASSAGES} reused, {len(added)} embedded, 0 removed." in summary


def test_a_changed_paragraph_is_embedded_again(corpus: Path, index_dir: Path) -> None:
    before = by_id(index_dir)
    essay = corpus / ESSAY.name
    old = "Washington cannot neglect deterrence"
    assert old in essay.read_text(encoding="utf-8")
    edited = essay.read_text(encoding="utf-8").replace(old, "Washington must not neglect it", 1)
    essay.write_text(edited, encoding="utf-8")
    embedder = RecordingEmbedder()
    report = build_index(corpus, index_dir, embedder)
    after = by_id(index_dir)
    changed = [text for i, (_, text, _) in after.items() if i not in before]
    assert changed and all("must not neglect" in text for text in changed)
    assert sorted(embedder.passages(index_dir)) == sorted(set(changed))
    assert report.embedded == len(set(changed))
    assert report.removed == len(changed) and report.reused == ESSAY_PASSAGES - len(changed)
    # Passages of the other paragraphs are untouched.
    kept = {i: row for i, row in before.items() if i in after}
    assert len(kept) == ESSAY_PASSAGES - len(changed)
    assert all(after[i] == row for i, row in kept.items())


def test_a_removed_document_is_gone(corpus: Path, index_dir: Path) -> None:
    write_text(corpus / "patience.txt", EXTRA_ESSAY)
    build_index(corpus, index_dir, HashingEmbedder())
    with_extra = by_id(index_dir)
    (corpus / "patience.txt").unlink()
    previous = {text for _, text, _ in with_extra.values()}
    embedder = RecordingEmbedder()
    report = build_index(corpus, index_dir, embedder)
    after = by_id(index_dir)
    assert not previous & set(embedder.texts)
    assert {doc for doc, _, _ in after.values()} == {ESSAY.stem}
    assert after == {i: row for i, row in with_extra.items() if row[0] == ESSAY.stem}
    assert report.removed == len(with_extra) - ESSAY_PASSAGES and report.embedded == 0
    assert [d.doc_id for d in load_index(index_dir).manifest.documents] == [ESSAY.stem]


def test_another_model_reuses_nothing(corpus: Path, index_dir: Path) -> None:
    embedder = RecordingEmbedder(name="fake:other")
    report = build_index(corpus, index_dir, embedder)
    assert report.rebuilt and report.reused == 0 and report.embedded == ESSAY_PASSAGES
    assert len(embedder.passages(index_dir)) == ESSAY_PASSAGES


def test_a_text_repeated_in_the_corpus_is_embedded_once(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_text(corpus / "a.txt", EXTRA_ESSAY)
    write_text(corpus / "b.txt", EXTRA_ESSAY)
    embedder = RecordingEmbedder()
    report = build_index(corpus, tmp_path / "index", embedder)
    texts = embedder.passages(tmp_path / "index")
    assert len(texts) == len(set(texts)) == report.embedded
    assert report.passages == 2 * report.embedded
    store = load_index(tmp_path / "index")
    vectors = {p.text: np.asarray(store.vectors[row]) for row, p in enumerate(store.passages)}
    for row, passage in enumerate(store.passages):
        assert np.array_equal(store.vectors[row], vectors[passage.text])


def test_a_forced_build_still_reuses(corpus: Path, index_dir: Path) -> None:
    embedder = RecordingEmbedder()
    report = build_index(corpus, index_dir, embedder, force=True)
    assert report.rebuilt and embedder.passages(index_dir) == [] and report.embedded == 0
    assert report.reused == ESSAY_PASSAGES
