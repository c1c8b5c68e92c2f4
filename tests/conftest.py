"""Shared pytest fixtures.

The fake Telegram Bot API fixtures live in tests/botapi/fixtures.py; importing them here
makes ``botapi_spec`` and ``fake_botapi`` available to every test.
"""

from __future__ import annotations

import sys
from pathlib import Path

# `tests.botapi` must be importable even under a bare `pytest` (python -m pytest already
# puts the repo root on sys.path; setting pythonpath = ["."] in pyproject would too).
_REPO_ROOT = str(Path(__file__).resolve().parents[1])
if _REPO_ROOT not in sys.path:
    sys.path.insert(0, _REPO_ROOT)

import logging  # noqa: E402
from collections.abc import AsyncIterator, Iterator  # noqa: E402

import pytest  # noqa: E402
import pytest_asyncio  # noqa: E402

from tests.botapi.fixtures import botapi_spec, fake_botapi  # noqa: E402
from tests.botapi.server import FakeBotApi  # noqa: E402
from tests.helpers.footnote_bot import (  # noqa: E402
    App,
    Essay,
    assert_clean,
    build_essay,
    capture_logs,
    footnote,
)
from tests.helpers.secrets import SECRETS  # noqa: E402

__all__ = ["app", "bot_chats", "botapi_spec", "essay", "fake_botapi", "no_secret_in_logs"]


# -- Footnote on the fake Bot API (modules may override `bot_chats`, or these fixtures) --------


@pytest.fixture(scope="module")
def essay(tmp_path_factory: pytest.TempPathFactory) -> Essay:
    """The shipped essay indexed with the fake embedder, once per module."""
    return build_essay(tmp_path_factory.mktemp("essay"))


@pytest.fixture
def bot_chats() -> list[tuple[int, str, str | None]]:
    """Group chats (id, type, title) the fake server knows before the bot starts."""
    return []


@pytest_asyncio.fixture
async def app(
    fake_botapi: FakeBotApi,
    essay: Essay,
    caplog: pytest.LogCaptureFixture,
    bot_chats: list[tuple[int, str, str | None]],
) -> AsyncIterator[App]:
    """The real application, polling the fake server; clean on the way out too."""
    capture_logs(caplog)
    for chat_id, kind, title in bot_chats:
        fake_botapi.register_chat(chat_id, kind, title=title)
    async with footnote(fake_botapi, essay) as application:
        yield application
    assert_clean(fake_botapi, caplog)  # shutting down must not misbehave either


# -- the token never reaches a log record ------------------------------------------------------
# A session-wide handler on the root logger formats every record (message and traceback);
# the session fails if any holds one of SECRETS (tests/helpers/secrets.py: the test token,
# its secret half, and whatever secrets tests add).


class _RecordingHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.NOTSET)
        self.leaks: list[str] = []
        self.formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)  # includes the formatted traceback (exc_text)
        except Exception as exc:  # a broken record must not hide the others
            text = f"{record.name}: unformattable record ({exc!r}) {record.msg!r} {record.args!r}"
        for secret in SECRETS:
            if secret and secret in text:
                self.leaks.append(f"{record.name} {record.levelname}: {text[:300]}")
                break


@pytest.fixture(scope="session", autouse=True)
def no_secret_in_logs() -> Iterator[_RecordingHandler]:
    """Fail the session if a token or webhook secret appears in any log record.

    httpx logs each request URL (which holds the token) at INFO; production silences it in
    bot.cli.configure_logging, and so does this check, to see what the bot itself logs.
    """
    handler = _RecordingHandler()
    root = logging.getLogger()
    httpx_logger = logging.getLogger("httpx")
    httpx_level = httpx_logger.level
    httpx_logger.setLevel(logging.WARNING)
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)
    httpx_logger.setLevel(httpx_level)
    if handler.leaks:
        pytest.fail("a secret appeared in log records:\n" + "\n".join(handler.leaks[:10]))
