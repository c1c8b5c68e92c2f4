"""`footnote bench --pydocs`: HTML pages copied, indexed, every page accounted for, answered in a
fresh process; here on a few pages written for the test (the Python docs take a minute)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bot.bench.options import BenchOptions
from bot.bench.pydocs import account_for_pages, ensure_pydocs, format_pydocs, run_pydocs
from bot.bench.report import evaluate_targets
from bot.errors import BenchError
from tests.helpers.essay import REPO

PAGE = """<!DOCTYPE html><html><head><title>{title}</title></head><body>
<div role="main"><h1>{title}</h1>
<p>The json module reads a JSON document into a dictionary with json.load, and writes one
back with json.dump. Both take an open file object.</p>
<h2>Encoders</h2><p>An encoder turns Python objects into JSON text, one value at a time.</p>
</div></body></html>"""


def write_pages(folder: Path) -> None:
    (folder / "library").mkdir(parents=True)
    (folder / "library" / "json.html").write_text(PAGE.format(title="json"), encoding="utf-8")
    (folder / "glossary.html").write_text(PAGE.format(title="Glossary"), encoding="utf-8")
    # Pages the build must name as skipped rather than fail on.
    (folder / "genindex.html").write_text(
        '<html><body><div role="main"><h1>Index</h1></div></body></html>',
        encoding="utf-8",
    )
    (folder / "broken.html").write_bytes(b"<html>\x00\xff\xfe<body><p>half a page")
    (folder / "style.css").write_text("p { color: red }", encoding="utf-8")  # not a page


def test_every_page_is_read_or_named(tmp_path: Path) -> None:
    write_pages(tmp_path / "html")
    options = BenchOptions(
        corpus_dir=REPO / "corpus",
        index_dir=None,
        model="fake:hashing",
        pydocs=tmp_path / "html",
        startup_runs=1,
    )
    log = io.StringIO()
    result = run_pydocs(options, log)
    assert result["pages"] == 4 and result["documents_read"] == 2
    assert sorted(result["skipped"]) == ["broken.html", "genindex.html"]
    assert result["accounted"] is True
    first = result["first"]
    assert first["verdict"] in {"answer", "closest", "absent"}
    assert first["open_seconds"] > 0 and first["peak_rss_mb"] > 0
    assert first["heavy_imports"] == []
    assert result["heavy_imports"] == {"footnote sections": [], "footnote cite": []}
    assert result["commands"]["footnote cite"]["n"] == 1
    text = format_pydocs(result)
    assert "4 pages = 2 read + 2 skipped and named (all accounted for)" in text
    targets = evaluate_targets({"pydocs": result})
    assert targets[0]["met"] and targets[0]["value"] == 4
    json.dumps(result)  # the summary is plain data


def test_a_page_left_unaccounted_is_reported(tmp_path: Path) -> None:
    manifest = {
        "documents": [{"path": "a.html"}],
        "problems": [{"path": "b.html", "reason": "binary"}],
        "passage_count": 3,
        "paragraph_count": 1,
        "faiss_type": "flat",
    }
    (tmp_path / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    named = "Skipped b.html: binary\n"
    assert account_for_pages(["a.html", "b.html"], tmp_path, named)["accounted"] is True
    missing = account_for_pages(["a.html", "b.html", "c.html"], tmp_path, named)
    assert missing["accounted"] is False and missing["unaccounted"] == ["c.html"]
    silent = account_for_pages(["a.html", "b.html"], tmp_path, "")
    assert silent["accounted"] is False and silent["skipped_but_not_printed"] == ["b.html"]


def test_a_folder_without_pages_is_refused(tmp_path: Path) -> None:
    with pytest.raises(BenchError, match="no HTML pages"):
        ensure_pydocs(tmp_path, io.StringIO())


def test_the_option_defaults_to_the_debian_package(tmp_path: Path) -> None:
    from bot import cli
    from bot.bench.options import PYDOCS_HTML, options_from_args

    parser = cli.build_parser()
    plain = parser.parse_args(["bench"])
    default = parser.parse_args(["bench", "--pydocs"])
    chosen = parser.parse_args(["bench", "--pydocs", str(tmp_path)])
    corpus = REPO / "corpus"
    assert options_from_args(plain, corpus, None, "m").pydocs is None
    assert options_from_args(default, corpus, None, "m").pydocs == PYDOCS_HTML
    assert options_from_args(chosen, corpus, None, "m").pydocs == tmp_path


def test_missing_docs_are_installed_with_apt_get(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess

    import bot.bench.apt as apt
    import bot.bench.pydocs as pydocs

    html = tmp_path / "python3.11" / "html"
    commands: list[list[str]] = []

    def fake_run(command: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        commands.append(command)
        if "install" in command:  # what the package would put in place
            html.mkdir(parents=True)
            (html / "index.html").write_text(PAGE.format(title="Python"), encoding="utf-8")
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(pydocs, "PYDOCS_HTML", html)
    monkeypatch.setattr(apt.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(apt.os, "geteuid", lambda: 0)
    monkeypatch.setattr(apt.subprocess, "run", fake_run)
    log = io.StringIO()
    assert ensure_pydocs(html, log) == html
    assert [c[1:3] for c in commands] == [["update", "-qq"], ["install", "-y"]]
    assert commands[1][-1] == "python3.11-doc"
    assert "installing python3.11-doc" in log.getvalue()
    assert ensure_pydocs(html, log) == html and len(commands) == 2  # present: nothing run


def test_a_failed_install_says_why(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import subprocess

    import bot.bench.apt as apt
    import bot.bench.pydocs as pydocs

    def refused(command: list[str], **_: object) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(command, 100, "", "E: Unable to locate package")

    html = tmp_path / "html"
    monkeypatch.setattr(pydocs, "PYDOCS_HTML", html)
    monkeypatch.setattr(apt.shutil, "which", lambda name: f"/usr/bin/{name}")
    monkeypatch.setattr(apt.os, "geteuid", lambda: 0)
    monkeypatch.setattr(apt.subprocess, "run", refused)
    with pytest.raises(BenchError, match=r"could not install python3\.11-doc.*Unable to locate"):
        ensure_pydocs(html, io.StringIO())


def test_the_test_script_installs_with_the_bench_s_apt_get(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """scripts/test.sh installs chromium through bot/bench/apt.py, which says why it cannot."""
    import bot.bench.apt as apt

    assert "python -m bot.bench.apt chromium chromium-driver" in (
        REPO / "scripts" / "test.sh"
    ).read_text(encoding="utf-8")
    assert apt.main([]) == 2 and "usage:" in capsys.readouterr().err
    monkeypatch.setattr(apt.shutil, "which", lambda name: None)
    assert apt.main(["chromium"]) == 1
    assert capsys.readouterr().err == "could not install chromium: there is no apt-get here\n"
    monkeypatch.setattr(apt.shutil, "which", lambda name: None if name == "sudo" else name)
    monkeypatch.setattr(apt.os, "geteuid", lambda: 1000)
    with pytest.raises(apt.AptError, match="needs root"):
        apt.apt_install(["chromium"])
