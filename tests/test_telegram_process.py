"""`footnote run` as a real process: long polling against the fake Bot API, SIGHUP, SIGINT.

The deployment path end to end: settings from the environment, the index built on start,
bot.telegram.serve, PTB's own run_polling (post_init included), logging as bot.cli configures it.
"""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from bot.telegram.app import ALLOWED_UPDATES
from bot.telegram.handlers import COMMANDS
from tests.botapi.fixtures import TEST_TOKEN
from tests.botapi.server import FakeBotApi
from tests.helpers.essay import REPO, copy_essay
from tests.helpers.footnote_bot import DOCUMENT, DUAL_TRACK, QUESTION
from tests.helpers.ops import Process

USER = 99001

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")


@pytest_asyncio.fixture
async def footnote_process(fake_botapi: FakeBotApi, tmp_path: Path) -> AsyncIterator[Process]:
    corpus = copy_essay(tmp_path / "corpus")
    env = {
        "PATH": os.environ.get("PATH", ""),
        "PYTHONPATH": str(REPO),
        "TELEGRAM_BOT_TOKEN": TEST_TOKEN,
        "TELEGRAM_API_BASE_URL": fake_botapi.base_url.removesuffix("/bot"),
        "FOOTNOTE_CORPUS": str(corpus),
        "FOOTNOTE_INDEX": str(tmp_path / "index"),
        "FOOTNOTE_MODEL": "fake:hashing",
        "FOOTNOTE_LOG_LEVEL": "DEBUG",  # the most talkative setting must not leak the token
    }
    running = await Process.start([sys.executable, "-m", "bot", "run"], env, cwd=tmp_path)
    try:
        yield running
    finally:
        await running.kill()


async def test_footnote_run_serves_reloads_and_stops_cleanly(
    fake_botapi: FakeBotApi, footnote_process: Process
) -> None:
    server = fake_botapi
    # post_init registers the commands just before polling starts (getUpdates calls are
    # recorded only when answered, and the first long poll waits for an update).
    await server.wait_for(lambda s: s.commands, timeout=20)
    assert [c["command"] for c in server.commands] == [name for name, _, _ in COMMANDS]

    server.push_update(server.private_message(USER, QUESTION))
    await server.wait_for(lambda s: s.sent_messages(USER), timeout=10)
    [reply] = server.sent_messages(USER)
    assert f"{DOCUMENT} › {DUAL_TRACK} · ¶1" in reply.text
    assert reply.reply_markup

    footnote_process.process.send_signal(signal.SIGHUP)
    await footnote_process.wait_for_log("SIGHUP: Index is up to date")

    code = await footnote_process.stop(signal.SIGINT)
    assert code == 0, footnote_process.log
    assert server.violations == [], server.summary()
    assert len(server.sent_messages()) == 1
    polls = server.calls_of("getUpdates")
    assert polls and all(p.params.get("allowed_updates") == ALLOWED_UPDATES for p in polls)
    log = footnote_process.log
    assert "index rebuilt" in log  # no index yet: serve built it first
    assert TEST_TOKEN not in log
    assert TEST_TOKEN.split(":")[1] not in log
