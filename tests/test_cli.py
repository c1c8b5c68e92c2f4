"""Every CLI command, in-process, on the shipped essay with the fast fake embedder."""

from __future__ import annotations

import io
import json
import logging
import subprocess
import sys
from pathlib import Path

import pytest

from bot import cli
from bot.config import Settings
from bot.redaction import REDACTED
from tests.botapi.fixtures import TEST_TOKEN
from tests.helpers.essay import ESSAY, REPO, copy_essay
from tests.helpers.probe import python_output


@pytest.fixture
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    corpus = copy_essay(tmp_path / "corpus")
    monkeypatch.chdir(tmp_path)  # no stray .env from the repo
    monkeypatch.setenv("FOOTNOTE_MODEL", "fake:hashing")
    monkeypatch.setenv("FOOTNOTE_CORPUS", str(corpus))
    monkeypatch.setenv("FOOTNOTE_INDEX", str(tmp_path / "index"))
    monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    return corpus, tmp_path / "index"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_index_builds_then_reports_up_to_date(
    dirs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "index", "--quiet")
    assert code == 0
    assert "Indexed 1 document, 59 passages" in out
    assert (dirs[1] / "manifest.json").is_file()
    code, out, _ = run(capsys, "index", "--quiet")
    assert code == 0 and "up to date" in out
    code, out, _ = run(capsys, "index", "--quiet", "--force")
    assert code == 0 and "forced" in out


def test_index_names_bad_files(dirs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    (dirs[0] / "broken.txt").write_bytes(b"\xff\xfe\x00garbage\x00")
    code, out, _ = run(capsys, "index", "--quiet")
    assert code == 0
    assert "Skipped broken.txt" in out


def test_ask_json_has_the_documented_shape(
    dirs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, "ask", "--json", "-k", "2", "What is the double suspension?", "weather in Lisbon"
    )
    assert code == 0
    lines = out.strip().splitlines()
    assert len(lines) == 2
    first = json.loads(lines[0])
    assert list(first) == ["query", "found", "results", "verdict", "missing_terms"]
    assert first["query"] == "What is the double suspension?"
    assert isinstance(first["found"], bool)
    assert first["found"] == (first["verdict"] != "absent")
    assert first["verdict"] in {"answer", "closest", "absent"}
    assert json.loads(lines[1])["missing_terms"] == ["Lisbon"]
    assert 1 <= len(first["results"]) <= 2
    result = first["results"][0]
    assert set(result) == {"document", "section", "paragraph", "quote", "context", "score", "id"}
    assert result["document"] == "4 Ways out of the Korean Crisis"
    assert result["quote"] in result["context"]
    assert result["quote"] in ESSAY.read_text(encoding="utf-8")
    assert isinstance(result["paragraph"], int) and isinstance(result["score"], float)
    scores = [r["score"] for r in first["results"]]
    assert scores == sorted(scores, reverse=True)


def test_ask_plain_text(dirs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "ask", "What is the cooperation spiral solution?")
    assert code == 0
    assert "Q: What is the cooperation spiral solution?" in out
    assert "no text under it" in out


def test_cite_json_locates_a_phrase_with_a_typo(
    dirs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "cite", "--json", "nobody knows how to ‘collaps’ a regime")
    assert code == 0
    answer = json.loads(out)
    assert answer["found"] is True
    assert "nobody knows how to “collapse” a regime" in answer["results"][0]["quote"]
    assert answer["results"][0]["section"] == ""


def test_cite_not_found(dirs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "cite", "--json", "the quick brown fox jumps over the lazy dog")
    assert code == 0
    assert json.loads(out)["found"] is False


def test_sections_marks_the_empty_section(
    dirs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, "sections")
    assert code == 0
    assert "4 Ways out of the Korean Crisis" in out
    assert "China’s Dual Track Solution" in out
    assert "Cooperation Spiral Solution  — no text in this copy" in out
    code, out, _ = run(capsys, "sections", "--json")
    toc = json.loads(out)
    titles = [(s["title"], s["has_text"]) for s in toc[0]["sections"]]
    assert titles == [
        ("", True),
        ("China’s Dual Track Solution", True),
        ("Cooperation Spiral Solution", False),
    ]


def test_chat_answers_and_presses_buttons(
    dirs: tuple[Path, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    lines = ["What is the double suspension?", "2", "/sections", "/cite bound to fail"]
    lines += ["/cite", "9", "/help", "/quit", ""]
    script = "\n".join(lines)
    monkeypatch.setattr(sys, "stdin", io.StringIO(script))
    code, out, _ = run(capsys, "chat")
    assert code == 0
    assert "│ " in out  # quotes are indented like Telegram's blockquote
    assert "› China’s Dual Track Solution · ¶1" in out
    assert "[1]" in out  # numbered buttons
    assert "Cooperation Spiral Solution (no text in this copy)" in out
    assert "bound to fail" in out
    assert "Usage: /cite PHRASE" in out
    assert "There is no button 9." in out


def test_start_without_token_runs_the_chat(
    dirs: tuple[Path, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("/quit\n"))
    code, out, err = run(capsys, "start")
    assert code == 0
    assert "starting the terminal chat" in err
    assert "Footnote — ask about the essay" in out


def test_eval_runs_every_mode(dirs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]) -> None:
    questions = REPO / "bot" / "evals" / "korean_crisis.json"
    code, out, _ = run(capsys, "eval", "--questions", str(questions), "--json", "--calibrate")
    assert code == 0
    modes = [json.loads(line)["mode"] for line in out.strip().splitlines()]
    assert modes == ["hybrid", "dense", "lexical"]


@pytest.mark.parametrize(
    ("argv", "env", "message"),
    [
        (["run"], {}, "TELEGRAM_BOT_TOKEN is not set"),
        (["run"], {"TELEGRAM_BOT_TOKEN": "not-a-token"}, "TELEGRAM_BOT_TOKEN is malformed"),
        (
            ["run", "--webhook", "https://example.invalid/hook"],
            {"TELEGRAM_BOT_TOKEN": "123456:" + "A" * 35},
            "needs a secret token",
        ),
        (["ask", "-k", "0", "anything"], {}, "-k must be at least 1"),
        (["sections", "--corpus", "/nonexistent/corpus"], {}, "does not exist"),
        (["eval", "--questions", "/nonexistent.json"], {}, "cannot read question file"),
        (["index"], {"FOOTNOTE_RATE_LIMIT": "many"}, "FOOTNOTE_RATE_LIMIT must be a whole number"),
    ],
)
def test_errors_are_one_clear_line(
    dirs: tuple[Path, Path],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    argv: list[str],
    env: dict[str, str],
    message: str,
) -> None:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    code, out, err = run(capsys, *argv)
    # Serving commands exit with EX_CONFIG, which the systemd unit does not restart on.
    assert code == (78 if argv[0] in ("run", "start") else 1)
    assert message in err
    assert err.startswith("footnote: error: ")
    assert len(err.strip().splitlines()) == 1
    assert "Traceback" not in err + out


def test_empty_corpus_is_a_clear_error(
    dirs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    (dirs[0] / ESSAY.name).unlink()
    (dirs[0] / "empty.txt").write_text("   \n")
    code, _, err = run(capsys, "index", "--quiet")
    assert code == 1
    assert "no readable documents" in err and "empty.txt" in err


def test_python_dash_m_bot_is_the_same_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "--help"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0
    for command in ("index", "ask", "cite", "sections", "chat", "run", "start", "eval"):
        assert command in result.stdout


# -- settings: the environment, then the options given, in one place -------------------------


def test_with_overrides_ignores_none_and_names_unknown_settings() -> None:
    base = Settings(webhook_port=8443, webhook_secret="from-the-environment")
    assert base.with_overrides(webhook_port=None, webhook_secret=None) is base
    changed = base.with_overrides(webhook_port=0, corpus_dir=Path("essays"), webhook_secret=None)
    assert changed.webhook_port == 0 and changed.corpus_dir == Path("essays")
    assert changed.webhook_secret == "from-the-environment"
    with pytest.raises(TypeError, match="'webhook_prot'"):
        base.with_overrides(webhook_prot=1)


def test_options_override_the_environment(
    dirs: tuple[Path, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FOOTNOTE_WEBHOOK_SECRET", "secret-from-the-environment")
    monkeypatch.setenv("FOOTNOTE_WEBHOOK_PORT", "8443")
    args = cli.build_parser().parse_args(
        ["run", "--corpus", "essays", "--port", "9000", "--listen", "127.0.0.1", "--secret", ""]
    )
    settings = cli.settings_for(args)
    assert settings.corpus_dir == Path("essays") and settings.index_dir == dirs[1]
    assert (settings.webhook_port, settings.webhook_listen) == (9000, "127.0.0.1")
    assert settings.webhook_secret == "secret-from-the-environment"  # an empty option: not given
    start = cli.settings_for(cli.build_parser().parse_args(["start"]))
    assert (start.webhook_port, start.webhook_secret) == (8443, "secret-from-the-environment")


def test_configured_logging_never_shows_the_token(caplog: pytest.LogCaptureFixture) -> None:
    httpx_level = logging.getLogger("httpx").level
    try:
        cli.configure_logging(Settings(telegram_token=TEST_TOKEN))
        assert logging.getLogger("httpx").level == logging.WARNING
    finally:
        logging.getLogger("httpx").setLevel(httpx_level)
    with caplog.at_level(logging.INFO):
        logging.getLogger("footnote.test").info("calling https://api/bot%s/getMe", TEST_TOKEN)
    [line] = [caplog.handler.format(r) for r in caplog.records if r.name == "footnote.test"]
    assert REDACTED in line and TEST_TOKEN.split(":")[1] not in line


def test_help_imports_nothing_heavy() -> None:
    probe = (
        "import sys\n"
        "from bot.cli import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "print(sorted(m for m in ('torch', 'numpy', 'telegram', 'wordfreq') if m in sys.modules))\n"
    )
    assert python_output(probe).strip().splitlines()[-1] == "[]"
