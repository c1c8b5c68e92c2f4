"""The index directory: manifest, staleness, recovery and atomic rebuilds (bot/index.py)."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import bot.index.ann as ann_module
import bot.index.build as build_module
from bot.corpus import read_corpus
from bot.errors import CorpusError
from bot.index.ann import EXACT_SEARCH_LIMIT, build_faiss, choose_faiss_type
from bot.index.build import build_index
from bot.index.embedding import HashingEmbedder
from bot.index.fingerprint import corpus_fingerprint
from bot.index.manifest import (
    FORMAT_VERSION,
    GENERATION_STEMS,
    IVF_STEMS,
    MANIFEST,
    read_manifest,
)
from bot.index.passages import cut_corpus
from bot.index.store import IndexProblem, load_index, open_index
from bot.search.retriever import Retriever
from tests.helpers.essay import (
    EMPTY_SECTION,
    ESSAY,
    ESSAY_ID,
    ESSAY_PASSAGES,
    EXTRA_ESSAY,
    REPO,
    SAMPLES,
    SECTION_TITLES,
    copy_essay,
    write_text,
)

GENERATION_PREFIXES = tuple(f"{stem}-" for stem in GENERATION_STEMS)
QUESTIONS = ("What is the double suspension?", "Why do sanctions fail?", "the first phase")


@pytest.fixture
def fake() -> HashingEmbedder:
    return HashingEmbedder()


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return copy_essay(tmp_path / "corpus")


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
    return tmp_path / "index"


@pytest.fixture
def built(corpus: Path, index_dir: Path, fake: HashingEmbedder) -> Path:
    """An index of the essay, built once."""
    report = build_index(corpus, index_dir, fake)
    assert report.rebuilt
    return index_dir


def manifest_json(index_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((index_dir / MANIFEST).read_text(encoding="utf-8"))
    return data


def answers(index_dir: Path) -> list[tuple[str, bool, list[tuple[str, str, float]]]]:
    """What the index answers to a few questions: comparable across loads."""
    retriever = Retriever(load_index(index_dir), HashingEmbedder())
    out = []
    for question in QUESTIONS:
        answer = retriever.ask(question)
        out.append(
            (
                question,
                answer.found,
                [(h.passage.id, h.quote, round(h.score, 5)) for h in answer.hits],
            )
        )
    return out


def listing(index_dir: Path) -> list[str]:
    return sorted(path.name for path in index_dir.iterdir())


def generation_files(index_dir: Path) -> list[str]:
    return [name for name in listing(index_dir) if name.startswith(GENERATION_PREFIXES)]


def build_dirs(index_dir: Path) -> list[Path]:
    return [p for p in index_dir.iterdir() if p.name.startswith(".build-")]


def change_corpus(corpus: Path) -> None:
    essay = corpus / ESSAY.name
    essay.write_text(
        essay.read_text(encoding="utf-8") + "\n\nA closing paragraph was added later.\n",
        encoding="utf-8",
    )


# ------------------------------------------------------------------------------ building


def test_build_writes_a_self_describing_manifest(
    corpus: Path, index_dir: Path, fake: HashingEmbedder
) -> None:
    report = build_index(corpus, index_dir, fake)
    assert report.rebuilt and report.documents == 1 and report.passages == ESSAY_PASSAGES
    assert report.problems == []
    data = manifest_json(index_dir)
    assert data["format"] == "footnote-index"
    assert data["format_version"] == FORMAT_VERSION
    assert data["model"] == "fake:hashing"
    assert data["dimension"] == fake.dimension
    assert data["passage_count"] == ESSAY_PASSAGES
    assert data["paragraph_count"] == 4
    assert data["corpus_hash"] == corpus_fingerprint(corpus)
    datetime.strptime(data["built_at"], "%Y-%m-%dT%H:%M:%SZ")
    assert data["faiss_type"] == "flat" and data["faiss_params"] == {}
    assert set(data["files"]) == GENERATION_STEMS - IVF_STEMS - {"slots"}
    for kind, name in data["files"].items():
        assert name.startswith(f"{kind}-")
        assert (index_dir / name).is_file()
    # Table of contents, with the empty section present.
    (document,) = data["documents"]
    assert document["doc_id"] == ESSAY_ID
    assert document["path"] == ESSAY.name
    assert document["title"] == "4 Ways out of the Korean Crisis"
    assert [s["title"] for s in document["sections"]] == list(SECTION_TITLES)
    assert document["sections"][2] == {"title": EMPTY_SECTION, "paragraphs": 0, "passages": 0}
    assert sum(s["passages"] for s in document["sections"]) == ESSAY_PASSAGES
    assert [s["paragraphs"] for s in document["sections"]] == [3, 1, 0]
    # And the typed view of the same file.
    manifest = read_manifest(index_dir)
    assert manifest.documents[0].sections[2].empty
    assert manifest.passage_count == ESSAY_PASSAGES


def test_rows_of_passages_and_vectors_line_up(
    built: Path, corpus: Path, fake: HashingEmbedder
) -> None:
    store = load_index(built)
    files = store.manifest.files
    # The columns give back exactly the records the build cut.
    paragraphs, passages = cut_corpus(read_corpus(corpus)[0])
    assert list(store.passages) == passages and list(store.paragraphs) == paragraphs
    assert store.passages[-1] == passages[-1] and store.passages[1:3] == passages[1:3]
    assert len(store.passages) == len(store.vectors) == ESSAY_PASSAGES
    expected = fake.encode([p.text for p in store.passages])
    np.testing.assert_allclose(np.asarray(store.vectors), expected, atol=1e-6)
    assert np.load(built / files["vectors"]).dtype == np.float32
    for row, passage in enumerate(store.passages):
        assert store.row_of_id(passage.id) == row
        assert passage.text in store.paragraphs[passage.paragraph_row].text
        assert row in store.passages_of_paragraph[passage.paragraph_row]


def test_second_build_is_up_to_date(built: Path, corpus: Path, fake: HashingEmbedder) -> None:
    before = listing(built)
    manifest = read_manifest(built)
    report = build_index(corpus, built, fake)
    assert not report.rebuilt
    assert report.reason == "up to date"
    assert report.passages == ESSAY_PASSAGES and report.documents == 1
    assert listing(built) == before
    assert read_manifest(built) == manifest
    store, report = open_index(corpus, built, fake)
    assert not report.rebuilt and len(store.passages) == ESSAY_PASSAGES


def test_changed_file_triggers_rebuild(built: Path, corpus: Path, fake: HashingEmbedder) -> None:
    change_corpus(corpus)
    report = build_index(corpus, built, fake)
    assert report.rebuilt and report.reason == "the corpus changed"
    assert report.passages == ESSAY_PASSAGES + 1
    assert read_manifest(built).corpus_hash == corpus_fingerprint(corpus)


def test_added_file_triggers_rebuild(built: Path, corpus: Path, fake: HashingEmbedder) -> None:
    write_text(corpus / "patience.txt", EXTRA_ESSAY)
    report = build_index(corpus, built, fake)
    assert report.rebuilt and report.reason == "the corpus changed"
    assert report.documents == 2
    assert [d.doc_id for d in load_index(built).manifest.documents] == [ESSAY_ID, "patience"]


def test_removed_file_triggers_rebuild(
    corpus: Path, index_dir: Path, fake: HashingEmbedder
) -> None:
    write_text(corpus / "patience.txt", EXTRA_ESSAY)
    build_index(corpus, index_dir, fake)
    (corpus / "patience.txt").unlink()
    report = build_index(corpus, index_dir, fake)
    assert report.rebuilt and report.reason == "the corpus changed" and report.documents == 1


def test_changed_model_triggers_rebuild(built: Path, corpus: Path) -> None:
    other = HashingEmbedder(dimension=32, name="fake:other")
    report = build_index(corpus, built, other)
    assert report.rebuilt
    assert report.reason == "the model changed (fake:hashing -> fake:other)"
    manifest = read_manifest(built)
    assert (manifest.model, manifest.dimension) == ("fake:other", 32)


def test_force_rebuilds(built: Path, corpus: Path, fake: HashingEmbedder) -> None:
    report = build_index(corpus, built, fake, force=True)
    assert report.rebuilt and report.reason == "forced"


def test_progress_is_reported(
    corpus: Path, index_dir: Path, fake: HashingEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(build_module, "EMBED_BATCH", 16)
    calls: list[tuple[int, int]] = []
    build_index(corpus, index_dir, fake, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(16, 59), (32, 59), (48, 59), (59, 59)]


# ------------------------------------------------------------------------- bad corpora


def test_bad_files_are_named_and_the_rest_indexed(
    corpus: Path, index_dir: Path, fake: HashingEmbedder
) -> None:
    shutil.copy(SAMPLES / "empty.txt", corpus / "empty.txt")
    shutil.copy(SAMPLES / "slides.pdf", corpus / "slides.pdf")
    (corpus / "utf16.txt").write_bytes("Hello there.".encode("utf-16"))
    report = build_index(corpus, index_dir, fake)
    assert report.rebuilt and report.documents == 1 and report.passages == ESSAY_PASSAGES
    problems = {p.path: p.reason for p in report.problems}
    assert set(problems) == {"empty.txt", "slides.pdf", "utf16.txt"}
    assert "empty" in problems["empty.txt"]
    assert "could not read the PDF" in problems["slides.pdf"]
    assert "UTF-16" in problems["utf16.txt"]
    # The problems are remembered in the manifest and reported by an up-to-date build.
    assert {p.path for p in read_manifest(index_dir).problems} == set(problems)
    again = build_index(corpus, index_dir, fake)
    assert not again.rebuilt and {p.path for p in again.problems} == set(problems)


def test_only_bad_files_is_a_corpus_error(tmp_path: Path, fake: HashingEmbedder) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SAMPLES / "empty.txt", corpus / "empty.txt")
    shutil.copy(SAMPLES / "slides.pdf", corpus / "slides.pdf")
    with pytest.raises(CorpusError) as caught:
        build_index(corpus, tmp_path / "index", fake)
    message = str(caught.value)
    assert "no readable documents" in message
    assert "empty.txt" in message and "slides.pdf" in message
    assert not (tmp_path / "index" / MANIFEST).exists()


def test_missing_corpus_dir_is_a_corpus_error(tmp_path: Path, fake: HashingEmbedder) -> None:
    with pytest.raises(CorpusError, match="does not exist"):
        build_index(tmp_path / "nowhere", tmp_path / "index", fake)


# ---------------------------------------------------------------- recovery on opening


def _truncate_manifest(index_dir: Path) -> None:
    path = index_dir / MANIFEST
    path.write_text(path.read_text(encoding="utf-8")[:120], encoding="utf-8")


def _set_manifest(index_dir: Path, **changes: Any) -> None:
    data = manifest_json(index_dir)
    data.update(changes)
    (index_dir / MANIFEST).write_text(json.dumps(data), encoding="utf-8")


def _generation_file(kind: str) -> Callable[[Path], Path]:
    def path(index_dir: Path) -> Path:
        return index_dir / read_manifest(index_dir).files[kind]

    return path


DAMAGE: dict[str, Callable[[Path], object]] = {
    "manifest deleted": lambda d: (d / MANIFEST).unlink(),
    "manifest truncated": _truncate_manifest,
    "manifest not JSON": lambda d: (d / MANIFEST).write_bytes(b"\x00" * 64),
    "manifest is null": lambda d: (d / MANIFEST).write_text("null"),
    "manifest is a list": lambda d: (d / MANIFEST).write_text("[]"),
    "manifest missing a key": lambda d: _set_manifest(d, documents=None),
    "old format version": lambda d: _set_manifest(d, format_version=FORMAT_VERSION - 1),
    "vectors deleted": lambda d: _generation_file("vectors")(d).unlink(),
    "vectors empty": lambda d: _generation_file("vectors")(d).write_bytes(b""),
    "vectors garbage": lambda d: _generation_file("vectors")(d).write_bytes(b"junk" * 100),
    "vectors truncated": lambda d: _generation_file("vectors")(d).write_bytes(
        _generation_file("vectors")(d).read_bytes()[:500]
    ),
    "passages truncated": lambda d: _generation_file("passages")(d).write_bytes(
        _generation_file("passages")(d).read_bytes()[:300]
    ),
    "texts truncated": lambda d: _generation_file("texts")(d).write_bytes(
        _generation_file("texts")(d).read_bytes()[:200]
    ),
    "postings deleted": lambda d: _generation_file("postings")(d).unlink(),
    "paragraphs emptied": lambda d: _generation_file("paragraphs")(d).write_text(""),
    "passage count wrong": lambda d: _set_manifest(d, passage_count=ESSAY_PASSAGES + 1),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_open_index_rebuilds_a_damaged_index(
    built: Path, corpus: Path, fake: HashingEmbedder, damage: str
) -> None:
    expected = answers(built)
    DAMAGE[damage](built)
    store, report = open_index(corpus, built, fake)
    assert report.rebuilt, damage
    assert len(store.passages) == ESSAY_PASSAGES
    assert answers(built) == expected
    assert build_index(corpus, built, fake).reason == "up to date"


@pytest.mark.parametrize(
    "damage",
    [name for name in DAMAGE if name != "manifest deleted"],
)
def test_load_index_on_a_damaged_index_says_so(built: Path, damage: str) -> None:
    DAMAGE[damage](built)
    with pytest.raises(IndexProblem) as caught:
        load_index(built)
    message = str(caught.value)
    assert str(built) in message
    assert "run: footnote index" in message
    assert any(word in message for word in ("corrupt", "inconsistent", "format")), message


def test_load_index_without_an_index(tmp_path: Path) -> None:
    with pytest.raises(IndexProblem, match=r"no index in .* \(run: footnote index\)"):
        load_index(tmp_path / "index")


def test_missing_generation_file_is_stale(built: Path, corpus: Path, fake: HashingEmbedder) -> None:
    _generation_file("vectors")(built).unlink()
    report = build_index(corpus, built, fake)
    assert report.rebuilt
    assert report.reason.startswith("index files are missing: vectors-")


# ---------------------------------------------------------------- atomic rebuilds


class FailingEmbedder(HashingEmbedder):
    """The fake embedder, failing on its second batch."""

    def __init__(self) -> None:
        super().__init__()
        self.batches = 0

    def encode(self, texts: list[str], batch_size: int = 64) -> Any:
        self.batches += 1
        if self.batches > 1:
            raise RuntimeError("the embedder crashed")
        return super().encode(texts, batch_size)


def assert_old_index_intact(
    index_dir: Path, files_before: dict[str, str], expected: list[Any]
) -> None:
    manifest = read_manifest(index_dir)
    assert manifest.files == files_before
    assert all((index_dir / name).is_file() for name in manifest.files.values())
    assert answers(index_dir) == expected
    assert build_dirs(index_dir) == []


def test_embedder_failure_mid_build_keeps_the_old_index(
    built: Path, corpus: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected, files, before = answers(built), read_manifest(built).files, listing(built)
    monkeypatch.setattr(build_module, "EMBED_BATCH", 2)
    write_text(corpus / "patience.txt", EXTRA_ESSAY)  # more new passages than one batch
    embedder = FailingEmbedder()
    with pytest.raises(RuntimeError, match="embedder crashed"):
        build_index(corpus, built, embedder)
    assert embedder.batches == 2
    assert_old_index_intact(built, files, expected)
    assert listing(built) == before
    # The old index is stale now, and the next build with a working embedder replaces it.
    assert build_index(corpus, built, HashingEmbedder()).rebuilt


def test_full_disk_mid_write_keeps_the_old_index(
    built: Path, corpus: Path, fake: HashingEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    expected, files, before = answers(built), read_manifest(built).files, listing(built)

    def no_space(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "save", no_space)
    change_corpus(corpus)
    with pytest.raises(IndexProblem, match="No space left on device") as caught:
        build_index(corpus, built, fake)
    assert str(built) in str(caught.value)
    monkeypatch.undo()
    assert_old_index_intact(built, files, expected)
    assert listing(built) == before
    store, report = open_index(corpus, built, fake)
    assert report.rebuilt and len(store.passages) == ESSAY_PASSAGES + 1


def test_failed_manifest_swap_keeps_the_old_index(
    built: Path, corpus: Path, fake: HashingEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files of the new generation moved in, then the rename of the manifest fails."""
    expected, files = answers(built), read_manifest(built).files
    real_replace = os.replace

    def failing_replace(src: Any, dst: Any) -> None:
        if Path(dst).name == MANIFEST:
            raise OSError(errno.EIO, "Input/output error")
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", failing_replace)
    change_corpus(corpus)
    with pytest.raises(IndexProblem, match="Input/output error"):
        build_index(corpus, built, fake)
    monkeypatch.undo()
    assert_old_index_intact(built, files, expected)
    strays = set(generation_files(built)) - set(files.values())
    assert one_new_generation(strays, files)  # moved in, but never referenced by a manifest
    # The next successful build removes them (they are not the previous generation).
    build_index(corpus, built, fake)
    new_files = set(read_manifest(built).files.values())
    assert set(generation_files(built)) == new_files | set(files.values())


def one_new_generation(strays: set[str], files: dict[str, str]) -> bool:
    """`strays` are the files of one generation, of every kind `files` (the old one's) has
    (it may have more: a slot map when its vectors are segments, bot/index/vectors.py)."""
    generations = {name.split("-", 1)[1] for name in strays}
    kinds = {name.split("-", 1)[0] for name in strays}
    return len(generations) == 1 and kinds >= {name.split("-", 1)[0] for name in files.values()}


def _run_slow_build(corpus: Path, index_dir: Path, tmp_path: Path, stage: str) -> None:
    """Start a build in a subprocess, wait until it stalls at `stage`, SIGKILL it."""
    marker = tmp_path / f"marker-{stage}"
    process = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from tests.helpers.slow_build import main; main()",
            str(corpus),
            str(index_dir),
            str(marker),
            stage,
        ],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 30
        while not marker.exists():
            if process.poll() is not None:
                _, err = process.communicate()
                pytest.fail(f"the build ended before stalling: {err.decode()}")
            if time.monotonic() > deadline:
                pytest.fail(f"the build never reached the {stage} stage")
            time.sleep(0.02)
        assert marker.read_text(encoding="utf-8") != "finished"
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)
        assert process.returncode == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout:
            process.stdout.close()
        if process.stderr:
            process.stderr.close()


@pytest.mark.parametrize("stage", ["embed", "write", "swap"])
def test_killed_build_keeps_the_old_index(
    built: Path, corpus: Path, tmp_path: Path, fake: HashingEmbedder, stage: str
) -> None:
    expected, files = answers(built), read_manifest(built).files
    write_text(corpus / "patience.txt", EXTRA_ESSAY)
    _run_slow_build(corpus, built, tmp_path, stage)

    manifest = read_manifest(built)
    assert manifest.files == files
    assert answers(built) == expected
    leftovers = build_dirs(built)
    strays = set(generation_files(built)) - set(files.values())
    if stage == "embed":  # nothing is written before the vectors exist
        assert leftovers == [] and strays == set()
    elif stage == "write":  # a half-written staging directory, never referenced
        assert len(leftovers) == 1 and strays == set()
        assert any(p.name.startswith("passages-") for p in leftovers[0].iterdir())
    else:  # the new generation moved in, but the manifest still names the old one
        assert one_new_generation(strays, files)
        assert len(leftovers) == 1 and (leftovers[0] / MANIFEST).is_file()

    # The next build succeeds and cleans up everything the dead build left behind.
    for leftover in leftovers:  # a staging dir is only removed once clearly abandoned
        old = time.time() - 2 * 3600
        os.utime(leftover, (old, old))
    store, report = open_index(corpus, built, fake)
    assert report.rebuilt and report.documents == 2
    assert len(store.manifest.documents) == 2
    assert build_dirs(built) == []
    assert set(generation_files(built)) == set(store.manifest.files.values()) | set(files.values())


class CountingEmbedder(HashingEmbedder):
    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def encode(self, texts: list[str], batch_size: int = 64) -> Any:
        self.texts.extend(texts)
        return super().encode(texts, batch_size)


@pytest.mark.parametrize("stage", ["embed", "write", "swap"])
def test_killed_incremental_build_keeps_the_old_index_and_its_vectors(
    built: Path, corpus: Path, tmp_path: Path, stage: str
) -> None:
    """A build that reuses vectors dies mid-way: the old generation still answers, and the
    next build reuses the same vectors (its cache was never touched) and embeds only what is
    new."""
    expected, files = answers(built), read_manifest(built).files
    old_vectors = _generation_file("vectors")(built).read_bytes()
    write_text(corpus / "patience.txt", EXTRA_ESSAY)
    _run_slow_build(corpus, built, tmp_path, stage)
    assert read_manifest(built).files == files and answers(built) == expected
    assert _generation_file("vectors")(built).read_bytes() == old_vectors

    embedder = CountingEmbedder()
    report = build_index(corpus, built, embedder)
    assert report.rebuilt and report.reused == ESSAY_PASSAGES
    store = load_index(built)
    new_texts = {p.text for p in store.passages if p.doc_id == "patience"}
    # (The build also embeds its calibration questions, which are no passages.)
    embedded = [text for text in embedder.texts if text in {p.text for p in store.passages}]
    assert sorted(embedded) == sorted(new_texts) and report.embedded == len(new_texts)
    old = np.load(built / files["vectors"]) if (built / files["vectors"]).exists() else None
    assert old is not None  # the previous generation is kept
    assert np.array_equal(np.asarray(store.vectors[:ESSAY_PASSAGES]), old)


def test_old_generations_are_removed_except_the_previous_one(
    corpus: Path, index_dir: Path, fake: HashingEmbedder
) -> None:
    generations = []
    for round_no in range(3):
        if round_no:
            change_corpus(corpus)
        assert build_index(corpus, index_dir, fake).rebuilt
        generations.append(set(read_manifest(index_dir).files.values()))
    _, second, third = generations
    # Three distinct generations; only the vector segments an earlier build wrote (and the
    # token files beside them) are named again by a later one, not copied
    # (bot/index/vectors.py, tokens.py).
    segments = ("vectors-", "tokens-", "tokenstarts-", "tokenids-")
    own = [{name for name in files if not name.startswith(segments)} for files in generations]
    assert len(own[0] | own[1] | own[2]) == sum(len(files) for files in own)
    assert set(generation_files(index_dir)) == second | third
    assert build_dirs(index_dir) == []
    assert load_index(index_dir).manifest.files == read_manifest(index_dir).files


# ---------------------------------------------------------------------------------- FAISS


def test_choose_faiss_type() -> None:
    assert choose_faiss_type(0) == ("flat", {})
    assert choose_faiss_type(ESSAY_PASSAGES) == ("flat", {})
    assert choose_faiss_type(EXACT_SEARCH_LIMIT) == ("flat", {})
    kind, params = choose_faiss_type(EXACT_SEARCH_LIMIT + 1)
    assert kind == "ivf"
    assert params["nlist"] & (params["nlist"] - 1) == 0  # a power of two
    assert params["nprobe"] >= 8 and params["nprobe"] <= params["nlist"]
    assert choose_faiss_type(1_000_000) == ("ivf", {"nlist": 2048, "nprobe": 64})


def test_build_faiss_ivf_on_random_vectors() -> None:
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((1000, 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    index = build_faiss(vectors, "ivf", {"nlist": 16, "nprobe": 4})
    assert index.ntotal == 1000 and index.nprobe == 4
    scores, rows = index.search(vectors[:50], 1)
    assert rows[:, 0].tolist() == list(range(50))
    np.testing.assert_allclose(scores[:, 0], 1.0, atol=1e-5)
    with pytest.raises(IndexProblem, match="unknown FAISS index type"):
        build_faiss(vectors, "hnsw", {})


def test_ivf_index_is_written_and_loaded(
    corpus: Path, index_dir: Path, fake: HashingEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    import faiss

    monkeypatch.setattr(ann_module, "EXACT_SEARCH_LIMIT", 10)
    report = build_index(corpus, index_dir, fake)
    assert report.rebuilt
    manifest = read_manifest(index_dir)
    assert manifest.faiss_type == "ivf"
    nlist, nprobe = manifest.faiss_params["nlist"], manifest.faiss_params["nprobe"]
    assert (nlist, nprobe) == (16, 16)
    assert "faiss" not in manifest.files  # the vectors are stored once, in their own file
    for name in IVF_STEMS:
        assert manifest.files[name].startswith(f"{name}-")
        assert (index_dir / manifest.files[name]).is_file()

    store = load_index(index_dir)
    assert type(store.faiss_index).__name__ == "IndexIVFFlat"  # made at load, not flat
    assert store.faiss_index.nprobe == nprobe
    assert store.faiss_index.ntotal == ESSAY_PASSAGES
    vectors = np.asarray(store.vectors)
    for row in range(0, ESSAY_PASSAGES, 5):
        hits = store.search_dense(vectors[row], 5)
        assert hits[0][0] == row or vectors[hits[0][0]] @ vectors[row] > 0.999
        assert hits[0][1] == pytest.approx(1.0, abs=1e-5)
        assert all(0 <= r < ESSAY_PASSAGES for r, _ in hits)
        assert [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    answer = Retriever(store, fake).ask("What is the double suspension?")
    assert answer.hits and "double suspension" in " ".join(h.quote for h in answer.hits)
    # The same index FAISS's own add makes over the same centroids: same hits, same scores.
    centroids = np.load(index_dir / manifest.files["centroids"])
    reference = faiss.IndexIVFFlat(
        faiss.IndexFlatIP(fake.dimension), fake.dimension, nlist, faiss.METRIC_INNER_PRODUCT
    )
    reference.quantizer.add(centroids)
    reference.is_trained, reference.nprobe = True, nprobe
    reference.add(np.ascontiguousarray(vectors))
    queries = np.ascontiguousarray(vectors[::3])
    for ours, theirs in zip(
        store.faiss_index.search(queries, 7), reference.search(queries, 7), strict=True
    ):
        assert np.array_equal(ours, theirs)
    # A list out of range is a corrupt index: open_index rebuilds it.
    lists = np.load(index_dir / manifest.files["lists"])
    lists[3] = nlist
    np.save(index_dir / manifest.files["lists"], lists)
    with pytest.raises(IndexProblem, match="corrupt"):
        load_index(index_dir)
    store, report = open_index(corpus, index_dir, fake)
    assert report.rebuilt and store.faiss_index.ntotal == ESSAY_PASSAGES


@pytest.mark.parametrize(
    "bogus", ["a" * 12, "a" * 64, "0x0000000001", "+00000000001", "", "ZZZZZZZZZZZZ"]
)
def test_unknown_passage_ids_are_not_found(built: Path, bogus: str) -> None:
    store = load_index(built)
    assert store.row_of_id(bogus) is None
    assert store.row_of_id(store.passages[7].id.upper()) is None
    assert store.row_of_id(store.passages[7].id) == 7
