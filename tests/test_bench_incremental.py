"""`footnote bench --incremental`: one document added to libraries of N documents."""

from __future__ import annotations

import io

from bot.bench.incremental import ADD_ROUNDS, format_incremental, run_incremental
from bot.bench.options import BenchOptions
from tests.helpers.essay import ESSAY_PASSAGES, REPO


def test_adding_one_document_embeds_only_it() -> None:
    options = BenchOptions(
        corpus_dir=REPO / "corpus", index_dir=None, model="fake:hashing", incremental=(2, 4)
    )
    log = io.StringIO()
    result = run_incremental(options, log)
    assert [entry["documents"] for entry in result["sizes"]] == [2, 4]
    for entry in result["sizes"]:
        assert entry["embedded"] == ESSAY_PASSAGES and entry["removed"] == 0
        assert entry["reused"] == entry["passages"] - ESSAY_PASSAGES > 0
        assert entry["open"]["open_seconds"] > 0 and entry["open"]["peak_rss_mib"] > 0
        assert len(entry["add_runs"]) == len(entry["alone_runs"]) == ADD_ROUNDS
        assert sorted(entry["add_runs"])[ADD_ROUNDS // 2] == entry["add_seconds"]
        # The essay is far more than a tenth of these small libraries: thresholds refitted.
        assert entry["fits"][0].startswith("verdict thresholds calibrated: ")
    text = format_incremental(result)
    assert "reused/embedded/removed" in text and f"/{ESSAY_PASSAGES}/0" in text
    assert "library of 4 documents" in log.getvalue()
    assert "4 documents: verdict thresholds calibrated: " in text
