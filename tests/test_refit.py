"""Verdict thresholds and the IVF quantizer are kept while the library changed little, and
fitted again beyond REFIT_SHARE, on a model change, or when asked (bot/index/refit.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import bot.index.ann as ann
from bot.bench.incremental import write_library
from bot.index.build import build_index
from bot.index.embedding import HashingEmbedder
from bot.index.manifest import MANIFEST, read_manifest
from bot.index.refit import REFIT_SHARE, Fit, decide
from bot.index.store import load_index
from bot.render.terminal import build_summary
from tests.helpers.essay import REPO, write_text


class CountingCalibrator:
    """A stand-in for bot/search/calibration.calibrate: thresholds that say which call made
    them, so a kept calibration is told from a new one."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, manifest: Any, passages: list[Any], *rest: Any) -> dict[str, Any]:
        self.calls += 1
        cut = round(0.1 * self.calls, 3)
        return {"hybrid": {"absent_below": cut, "answer_from": cut + 0.1}}


@pytest.fixture
def library(tmp_path: Path) -> Path:
    """Three synthetic documents, about 300 passages."""
    corpus = tmp_path / "corpus"
    write_library(corpus, 3, REPO / "corpus")
    return corpus


def edit(corpus: Path, number: int, round_no: int = 0) -> None:
    """A new paragraph of four sentences at the end of one document (nine new passages)."""
    path = sorted(corpus.iterdir())[number]
    text = path.read_text(encoding="utf-8")
    added = "\n" + " ".join(f"Edit {round_no} adds sentence {n} to {number}." for n in range(4))
    write_text(path, text + added)


def test_decide() -> None:
    kept = decide(Fit(1000, 40), 50, 1050)
    assert not kept.refit and kept.fit == Fit(1000, 90) and kept.share == pytest.approx(0.09)
    crossed = decide(Fit(1000, 40), 60, 1060)
    assert crossed.refit and crossed.fit == Fit(1060, 0) and crossed.share == 0.1
    assert decide(None, 0, 10).refit
    asked = decide(Fit(1000, 0), 0, 1000, "--recalibrate")
    assert asked.refit and asked.why == "--recalibrate asked for it"
    assert Fit.from_json({}) is None and Fit.from_json({"passages": 0}) is None
    assert Fit.from_json(Fit(5, 2).to_json()) == Fit(5, 2)


def test_small_changes_keep_the_calibration_until_they_add_up(
    library: Path, tmp_path: Path
) -> None:
    index, calibrator = tmp_path / "index", CountingCalibrator()
    first = build_index(library, index, HashingEmbedder(), calibrate=calibrator)
    assert calibrator.calls == 1 and first.fits[0].startswith("verdict thresholds calibrated")
    calibration = read_manifest(index).calibration
    total = first.passages
    changed = 0
    for number in range(10):
        edit(library, number % 3, number)
        report = build_index(library, index, HashingEmbedder(), calibrate=calibrator)
        changed += report.embedded + report.removed
        manifest = read_manifest(index)
        if changed / total < REFIT_SHARE:
            assert calibrator.calls == 1 and manifest.calibration == calibration
            assert manifest.calibration_fit == {"passages": total, "changed": changed}
            share = f"{100 * changed / total:.1f} %"
            line = f"Verdict thresholds kept: {share} of passages changed since they were"
            assert f"{line} calibrated." in build_summary(report).splitlines()
        else:
            assert number >= 2  # kept at least twice before the changes added up
            assert calibrator.calls == 2 and manifest.calibration != calibration
            assert manifest.calibration_fit == {"passages": report.passages, "changed": 0}
            assert report.fits[0].startswith("verdict thresholds calibrated: ")
            break
    else:
        pytest.fail("ten edits never added up to the refit share")


def test_model_change_recalibrate_force_and_old_manifests_calibrate(
    library: Path, tmp_path: Path
) -> None:
    index, calibrator = tmp_path / "index", CountingCalibrator()
    build_index(library, index, HashingEmbedder(), calibrate=calibrator)
    # Up to date, but asked: rebuilt, vectors reused, thresholds fitted again.
    asked = build_index(library, index, HashingEmbedder(), calibrate=calibrator, recalibrate=True)
    assert asked.rebuilt and asked.embedded == 0 and calibrator.calls == 2
    assert asked.fits == ["verdict thresholds calibrated: --recalibrate asked for it"]
    forced = build_index(library, index, HashingEmbedder(), calibrate=calibrator, force=True)
    assert calibrator.calls == 3 and forced.fits[0].endswith("--force asked for it")
    other = build_index(library, index, HashingEmbedder(name="fake:other"), calibrate=calibrator)
    assert calibrator.calls == 4 and other.reused == 0
    # A manifest from before the fit was recorded: a small change still calibrates.
    path = index / MANIFEST
    data = json.loads(path.read_text(encoding="utf-8"))
    del data["calibration_fit"]
    path.write_text(json.dumps(data), encoding="utf-8")
    edit(library, 0)
    build_index(library, index, HashingEmbedder(name="fake:other"), calibrate=calibrator)
    assert calibrator.calls == 5
    assert read_manifest(index).calibration_fit["changed"] == 0


def test_index_recalibrate_option(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from bot import cli

    corpus = tmp_path / "corpus"
    write_library(corpus, 1, REPO / "corpus")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FOOTNOTE_MODEL", "fake:hashing")
    monkeypatch.setenv("FOOTNOTE_CORPUS", str(corpus))
    monkeypatch.setenv("FOOTNOTE_INDEX", str(tmp_path / "index"))
    assert cli.main(["index", "--quiet"]) == 0
    assert cli.main(["index", "--quiet"]) == 0
    assert "up to date" in capsys.readouterr().out
    assert cli.main(["index", "--quiet", "--recalibrate"]) == 0
    out = capsys.readouterr().out
    assert "(recalibration asked for)" in out
    assert "Verdict thresholds calibrated: --recalibrate asked for it." in out.splitlines()


# ---------------------------------------------------------------------------- IVF quantizer


def centroids(index_dir: Path) -> np.ndarray[Any, Any]:
    ivf = load_index(index_dir).faiss_index
    return np.asarray(ivf.quantizer.reconstruct_n(0, ivf.nlist))


def recall_at_10(index_dir: Path) -> float:
    """The IVF index's top 10 against exact search, for every 7th passage as the query."""
    store = load_index(index_dir)
    vectors = np.ascontiguousarray(store.vectors)
    queries = vectors[::7]
    exact = np.argsort(-(queries @ vectors.T), axis=1)[:, :10]
    _, found = store.faiss_index.search(queries, 10)
    return float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(exact, found, strict=True)]))


def test_the_ivf_quantizer_is_kept_for_small_changes(
    library: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ann, "EXACT_SEARCH_LIMIT", 10)
    index, fresh = tmp_path / "index", tmp_path / "fresh"
    build_index(library, index, HashingEmbedder())
    trained = centroids(index)
    edit(library, 1)
    report = build_index(library, index, HashingEmbedder())
    assert report.fits[-1].startswith("IVF quantizer kept: ")
    assert np.array_equal(centroids(index), trained)
    store = load_index(index)
    assert store.faiss_index.ntotal == report.passages
    assert store.faiss_index.nprobe == store.manifest.faiss_params["nprobe"]
    # Recall does not drop against a quantizer trained on the new library itself.
    build_index(library, fresh, HashingEmbedder())
    assert not np.array_equal(centroids(fresh), trained)
    assert recall_at_10(index) >= recall_at_10(fresh) - 0.01
    assert recall_at_10(index) >= 0.95
    forced = build_index(library, index, HashingEmbedder(), force=True)
    assert forced.fits[-1] == "IVF quantizer trained: --force asked for it"


def test_the_ivf_quantizer_is_trained_again_past_the_share(
    library: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ann, "EXACT_SEARCH_LIMIT", 10)
    index = tmp_path / "index"
    first = build_index(library, index, HashingEmbedder())
    assert first.fits == ["IVF quantizer trained: no earlier fit of this model to keep"]
    trained = centroids(index)
    write_library(tmp_path / "more", 1, REPO / "corpus")
    for path in (tmp_path / "more").iterdir():  # a fourth document: a third more passages
        write_text(library / f"more-{path.name}", path.read_text(encoding="utf-8") + "More.\n")
    report = build_index(library, index, HashingEmbedder())
    assert report.fits[-1].startswith("IVF quantizer trained: ")
    assert "of passages changed since it was trained" in report.fits[-1]
    assert not np.array_equal(centroids(index), trained)
