"""The vectors stored once (bot/index/vectors.py): a build writes only what it embedded, the
segments earlier builds wrote are named again, and every row reads the vector a build from
scratch gives it; the IVF index filled from them is the one FAISS's own `add` makes."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

import bot.index.ann as ann
import bot.index.vectors as vectors_module
from bot.errors import IndexProblem
from bot.index.build import build_index
from bot.index.embedding import HashingEmbedder
from bot.index.manifest import FORMAT_VERSION, MANIFEST, read_manifest
from bot.index.store import load_index, open_index
from bot.index.vectors import StoredVectors, segment_names
from tests.helpers.essay import ESSAY, EXTRA_ESSAY, add_note, copy_essay, write_text

FAKE = HashingEmbedder()


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    return copy_essay(tmp_path / "corpus")


def vectors_of(index_dir: Path) -> np.ndarray:
    return np.asarray(load_index(index_dir).vectors)


def fresh_vectors(corpus: Path, tmp_path: Path) -> np.ndarray:
    fresh = tmp_path / "fresh"
    shutil.rmtree(fresh, ignore_errors=True)
    build_index(corpus, fresh, FAKE)
    assert "slots" not in read_manifest(fresh).files  # from scratch: one file in row order
    return vectors_of(fresh)


def test_an_add_writes_only_the_new_vectors(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    build_index(corpus, index, FAKE)
    first = read_manifest(index).files["vectors"]
    written = os.stat(index / first)
    add_note(corpus, 1)
    report = build_index(corpus, index, FAKE)
    files = read_manifest(index).files
    names = segment_names(files)
    assert names[0] == first and len(names) == 2 and "slots" in files
    # The first segment is the same file, untouched; the new one holds what was embedded.
    assert os.stat(index / first).st_ino == written.st_ino
    assert os.stat(index / first).st_mtime_ns == written.st_mtime_ns
    assert np.load(index / names[1]).shape == (report.embedded, FAKE.dimension)
    store = load_index(index)
    assert isinstance(store.vectors, StoredVectors)
    expected = fresh_vectors(corpus, tmp_path)
    assert np.asarray(store.vectors).tobytes() == expected.tobytes()
    # Read as an array is: one row, a slice, rows in any order.
    rows = np.array([5, 0, len(expected) - 1, 3, 4])
    assert np.array_equal(store.vectors[rows], expected[rows])
    assert np.array_equal(store.vectors[2:9], expected[2:9])
    assert np.array_equal(store.vectors[7], expected[7])
    assert store.vectors.shape == expected.shape and len(store.vectors) == len(expected)


def test_segments_are_compacted_past_the_limit(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(vectors_module, "SEGMENT_LIMIT", 3)
    index = tmp_path / "index"
    build_index(corpus, index, FAKE)
    counts = []
    for number in range(1, 5):
        add_note(corpus, number)
        build_index(corpus, index, FAKE)
        counts.append(len(segment_names(read_manifest(index).files)))
        assert vectors_of(index).tobytes() == fresh_vectors(corpus, tmp_path).tobytes()
    # 2, 3 segments, then a fourth would pass the limit: one file in row order again.
    assert counts == [2, 3, 1, 2]


def test_removed_passages_past_the_share_compact(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    write_text(corpus / "z-other.txt", EXTRA_ESSAY)
    build_index(corpus, index, FAKE)
    add_note(corpus, 1)
    build_index(corpus, index, FAKE)
    assert "slots" in read_manifest(index).files
    # The essay is most of the slots: removing it leaves far more than DEAD_SHARE dead.
    (corpus / ESSAY.name).unlink()
    build_index(corpus, index, FAKE)
    files = read_manifest(index).files
    assert "slots" not in files and len(segment_names(files)) == 1
    assert vectors_of(index).tobytes() == fresh_vectors(corpus, tmp_path).tobytes()


def test_the_ivf_index_over_segments_is_faiss_own(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import faiss

    monkeypatch.setattr(ann, "EXACT_SEARCH_LIMIT", 10)
    index = tmp_path / "index"
    build_index(corpus, index, FAKE)
    add_note(corpus, 1)
    report = build_index(corpus, index, FAKE)
    assert report.fits[-1].startswith("IVF quantizer kept")
    manifest = read_manifest(index)
    assert "slots" in manifest.files
    store = load_index(index)
    vectors = np.ascontiguousarray(store.vectors)
    nlist, nprobe = manifest.faiss_params["nlist"], manifest.faiss_params["nprobe"]
    reference = faiss.IndexIVFFlat(
        faiss.IndexFlatIP(FAKE.dimension), FAKE.dimension, nlist, faiss.METRIC_INNER_PRODUCT
    )
    reference.quantizer.add(np.load(index / manifest.files["centroids"]))
    reference.is_trained, reference.nprobe = True, nprobe
    lists = np.load(index / manifest.files["lists"]).astype(np.int64)
    # FAISS's own add, every row into the list the build gave it, in row order.
    reference.add_core(len(vectors), faiss.swig_ptr(vectors), None, faiss.swig_ptr(lists))
    assert store.faiss_index.ntotal == len(vectors) == reference.ntotal
    for number in range(nlist):
        size = reference.invlists.list_size(number)
        assert store.faiss_index.invlists.list_size(number) == size
        if size:
            ours = faiss.rev_swig_ptr(store.faiss_index.invlists.get_ids(number), size)
            theirs = faiss.rev_swig_ptr(reference.invlists.get_ids(number), size)
            assert np.array_equal(ours, theirs)
    queries = np.ascontiguousarray(vectors[::4])
    for one, two in zip(
        store.faiss_index.search(queries, 6), reference.search(queries, 6), strict=True
    ):
        assert np.array_equal(one, two)


def test_a_slot_out_of_range_is_a_corrupt_index(corpus: Path, tmp_path: Path) -> None:
    index = tmp_path / "index"
    build_index(corpus, index, FAKE)
    add_note(corpus, 1)
    build_index(corpus, index, FAKE)
    files = read_manifest(index).files
    slots = np.load(index / files["slots"])
    slots[0] = 10**9
    np.save(index / files["slots"], slots)
    with pytest.raises(IndexProblem, match="corrupt"):
        load_index(index)
    store, report = open_index(corpus, index, FAKE)
    assert report.rebuilt
    assert np.asarray(store.vectors).tobytes() == fresh_vectors(corpus, tmp_path).tobytes()


def test_an_index_of_the_previous_format_is_rebuilt_and_its_files_removed(
    corpus: Path, tmp_path: Path
) -> None:
    index = tmp_path / "index"
    build_index(corpus, index, FAKE)
    # What format 6 left: a FAISS file and a forward index beside the manifest.
    manifest_path = index / MANIFEST
    data = json.loads(manifest_path.read_text(encoding="utf-8"))
    data["format_version"] = FORMAT_VERSION - 1
    for stem in ("faiss", "wordcounts"):
        name = f"{stem}-20200101T000000-1-1.{'index' if stem == 'faiss' else 'npy'}"
        (index / name).write_bytes(b"old")
        data["files"][stem] = name
    manifest_path.write_text(json.dumps(data), encoding="utf-8")
    report = build_index(corpus, index, FAKE)
    assert report.rebuilt and report.reused == 0  # nothing trusted from the old format
    build_index(corpus, index, FAKE, force=True)  # the old generation is now two back
    assert not list(index.glob("faiss-*")) and not list(index.glob("wordcounts-*"))
    assert vectors_of(index).tobytes() == fresh_vectors(corpus, tmp_path).tobytes()


def test_key_rows_find_the_last_row_of_each_key() -> None:
    from bot.index.reuse import KeyRows, text_keys

    texts = ["a", "b", "a", "c", "b", "d"]
    keys = text_keys(texts)
    # Two keys sharing their first 8 bytes (told apart by the rest).
    twin = keys[3].copy()
    twin[8:] ^= 0xFF
    table = np.vstack([keys, twin[None, :]])
    rows = KeyRows(table)
    expected = {text: row for row, text in enumerate(texts)}  # what a dict of keys says
    asked = np.vstack([text_keys(["a", "b", "c", "d", "e"]), twin[None, :]])
    found = rows.rows_of(asked).tolist()
    assert found == [expected["a"], expected["b"], expected["c"], expected["d"], -1, 6]
    assert rows.rows_of(text_keys(["c"])).tolist() == [3]  # the twin is later, not it
