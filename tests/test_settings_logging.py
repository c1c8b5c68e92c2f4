"""FOOTNOTE_LOG_LEVEL and FOOTNOTE_DEBUG are settings like the others: read from the environment
or `.env` in bot/config.py, a bad value named."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot import cli
from bot.config import load_settings
from bot.errors import ConfigError


def test_log_level_and_debug_come_from_dotenv(tmp_path: Path) -> None:
    dotenv = tmp_path / ".env"
    dotenv.write_text("FOOTNOTE_LOG_LEVEL=warning\nFOOTNOTE_DEBUG=1\n", encoding="utf-8")
    settings = load_settings({}, dotenv=dotenv)
    assert settings.log_level == "WARNING"
    assert settings.debug is True
    # The environment wins over the file.
    settings = load_settings({"FOOTNOTE_LOG_LEVEL": "ERROR", "FOOTNOTE_DEBUG": "0"}, dotenv=dotenv)
    assert (settings.log_level, settings.debug) == ("ERROR", False)


def test_defaults_and_bad_values() -> None:
    settings = load_settings({}, dotenv=None)
    assert (settings.log_level, settings.debug) == ("INFO", False)
    with pytest.raises(ConfigError, match="FOOTNOTE_LOG_LEVEL"):
        load_settings({"FOOTNOTE_LOG_LEVEL": "chatty"}, dotenv=None)
    with pytest.raises(ConfigError, match="FOOTNOTE_DEBUG"):
        load_settings({"FOOTNOTE_DEBUG": "maybe"}, dotenv=None)


def test_debug_in_dotenv_shows_the_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FOOTNOTE_DEBUG", raising=False)

    def broken(args: object, settings: object) -> int:
        raise RuntimeError("boom")

    parser = cli.build_parser()
    args = parser.parse_args(["sections"])
    monkeypatch.setattr(args, "func", broken)
    monkeypatch.setattr(cli, "build_parser", lambda: _FixedParser(args))
    assert cli.main(["sections"]) == cli.EXIT_ERROR
    assert "FOOTNOTE_DEBUG=1" in capsys.readouterr().err
    (tmp_path / ".env").write_text("FOOTNOTE_DEBUG=1\n", encoding="utf-8")
    with pytest.raises(RuntimeError, match="boom"):
        cli.main(["sections"])


class _FixedParser:
    def __init__(self, args: object) -> None:
        self.args = args

    def parse_args(self, argv: object) -> object:
        return self.args
