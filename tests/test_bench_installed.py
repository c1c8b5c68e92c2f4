"""`footnote bench --e2e` and `--costs` work where only the package is installed: run from a
temporary working directory with nothing but the `bot` package importable (no tests/, no
../shared), against the fake embedder, on tiny sizes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.cli import main

REPO = Path(__file__).resolve().parents[1]
CORPUS = REPO / "corpus"
QUICK = ["--model", "fake:hashing", "--rounds", "1", "--warmup", "0", "--burst", "0"]
QUICK += ["--keystroke-ms", ""]


def _package_only(tmp_path: Path) -> dict[str, str]:
    """An environment whose PYTHONPATH holds the `bot` package alone."""
    site = tmp_path / "site"
    site.mkdir()
    (site / "bot").symlink_to(REPO / "bot", target_is_directory=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FOOTNOTE_", "TELEGRAM_"))}
    env.update(PYTHONPATH=str(site), HF_HUB_OFFLINE="1", FOOTNOTE_BOTAPI_SPEC="/nonexistent")
    return env


def test_bench_e2e_runs_without_the_repository(tmp_path: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    env = _package_only(tmp_path)
    probe = [sys.executable, "-c", "import importlib.util as u; print(u.find_spec('tests'))"]
    assert subprocess.run(probe, cwd=work, env=env, capture_output=True, text=True).stdout == (
        "None\n"
    )
    args = ["bench", "--corpus", str(CORPUS), *QUICK, "--e2e", "--chats", "1,3"]
    args += ["--e2e-rounds", "1", "--first-answer-runs", "1"]
    result = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    out = result.stdout
    assert "End to end through the bench Bot API server" in out
    rows = [line.split() for line in out.splitlines() if line.startswith(("batched", "one_by_one"))]
    assert {(row[0], row[1]) for row in rows} >= {
        ("batched", "1"),
        ("batched", "3"),
        ("one_by_one", "1"),
        ("one_by_one", "3"),
    }
    assert "footnote run -> first getUpdates" in out
    assert "did not serve" not in out


def test_bench_costs_reduced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    out_file = tmp_path / "costs.json"
    args = ["bench", "--corpus", str(CORPUS), *QUICK, "--costs", "--costs-scale", "0.01"]
    assert main([*args, "--out", str(out_file)]) == 0
    out = capsys.readouterr().out
    assert "Costs (fake embedder, scale 0.01)" in out
    assert "section press, 10,000 paragraphs" in out
    assert "/healthz, 100 presses + /sections at once" in out
    costs = json.loads(out_file.read_text(encoding="utf-8"))["costs"]
    paragraph = costs["huge_paragraph"]
    assert paragraph["bytes"] >= 50_000
    assert paragraph["cite_found"]
    assert paragraph["cite"]["n"] == 5
    assert costs["huge_section"]["paragraphs"] == 10_000
    assert costs["huge_section"]["press"]["p50_ms"] > 0
    health = costs["health"]
    assert health["webhook_statuses"] == [200]
    assert health["during_burst"]["n"] > 0
    assert health["unsupported_calls"] == []


def test_bench_costs_scale_is_checked(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["bench", *QUICK, "--costs", "--costs-scale", "0"]) == 1
    assert "--costs-scale" in capsys.readouterr().err
