"""Where the reader runs beside the bot: on the webhook server when FOOTNOTE_PUBLIC_URL is set
(the webhook route and its secret check unchanged), on FOOTNOTE_WEB_PORT in polling mode; the
log says where.  Real `footnote run` processes against the fake Bot API."""

from __future__ import annotations

import signal
import socket
from pathlib import Path

import aiohttp
import pytest

from bot.config import Settings
from bot.errors import ConfigError
from bot.search.engine import Engine
from bot.telegram.webhook import SECRET_HEADER
from bot.web.serve import ReaderServer
from bot.web.server import CSP, Reader
from tests.botapi.fixtures import TEST_TOKEN
from tests.botapi.server import FakeBotApi
from tests.helpers.footnote_bot import Essay
from tests.helpers.ops import QUESTIONS, Process, essay_index, footnote_env

SECRET = "reader-test-secret-0123456789"
PUBLIC = "https://reader.example.org"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_the_webhook_server_also_serves_the_reader(
    fake_botapi: FakeBotApi, tmp_path: Path
) -> None:
    essay_index(tmp_path)
    port = free_port()
    url = f"http://127.0.0.1:{port}/tg/hook"
    env = footnote_env(
        fake_botapi, tmp_path, FOOTNOTE_WEBHOOK_SECRET=SECRET, FOOTNOTE_PUBLIC_URL=PUBLIC
    )
    listen = ("--listen", "127.0.0.1", "--port", str(port))
    process = await Process.footnote(env, "--webhook", url, *listen)
    try:
        await process.wait_for_log("webhook set")
        assert f"web reader at {PUBLIC}/ (served on the webhook server, 127.0.0.1:{port})" in (
            process.log
        )
        base = f"http://127.0.0.1:{port}"
        user = 731_001
        update = {"update_id": 7, **fake_botapi.private_message(user, QUESTIONS[0])}
        async with aiohttp.ClientSession() as http:
            async with http.get(base + "/") as response:
                assert response.status == 200 and "<h1>Library</h1>" in await response.text()
                assert response.headers["Content-Security-Policy"] == CSP
            async with http.get(base + "/api/ask", params={"q": QUESTIONS[0]}) as response:
                assert (await response.json())["found"] is True
            async with http.post(url, json=update) as response:
                assert response.status == 403  # the secret check, as before
            async with http.post(url, json=update, headers={SECRET_HEADER: SECRET}) as response:
                assert response.status == 200
            async with http.get(base + "/healthz") as response:
                assert response.status == 200
        await fake_botapi.wait_for(lambda s: len(s.sent_messages(user)) == 1, timeout=15)
        [answer] = fake_botapi.sent_messages(user)
        rows = answer.reply_markup["inline_keyboard"] if answer.reply_markup else []
        links = [b["web_app"]["url"] for row in rows for b in row if "web_app" in b]
        assert links and links[0].startswith(f"{PUBLIC}/p/")
        async with aiohttp.ClientSession() as http:
            path = links[0].removeprefix(PUBLIC)
            async with http.get(base + path) as response:
                assert response.status == 200 and '<mark id="quote"' in await response.text()
        assert await process.stop(signal.SIGTERM) == 0
    finally:
        await process.kill()
    assert TEST_TOKEN not in process.log and SECRET not in process.log
    assert fake_botapi.violations == []


async def test_polling_serves_the_reader_on_its_port(
    fake_botapi: FakeBotApi, tmp_path: Path
) -> None:
    essay_index(tmp_path)
    port = free_port()
    env = footnote_env(fake_botapi, tmp_path, FOOTNOTE_WEB_PORT=str(port))
    process = await Process.footnote(env)
    try:
        await process.wait_for_log("web reader listening on")
        assert f"web reader listening on http://127.0.0.1:{port}/" in process.log
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}/") as response,
        ):
            assert response.status == 200 and "<h1>Library</h1>" in await response.text()
        assert await process.stop(signal.SIGINT) == 0
    finally:
        await process.kill()
    assert fake_botapi.violations == []


async def test_a_busy_port_is_a_config_error(essay: Essay) -> None:
    engine = Engine(essay.retriever)
    first = ReaderServer(Reader(lambda: engine, Settings()), "127.0.0.1", 0)
    await first.start()
    try:
        second = ReaderServer(Reader(lambda: engine, Settings()), "127.0.0.1", first.port)
        with pytest.raises(ConfigError, match=f"cannot listen on 127.0.0.1:{first.port}"):
            await second.start()
    finally:
        await first.stop()


def test_footnote_bench_web_measures_the_reader(tmp_path: Path) -> None:
    import json
    import os
    import subprocess
    import sys

    from tests.helpers.essay import REPO, copy_essay

    copy_essay(tmp_path / "corpus")
    env = {**os.environ, "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(
        [
            *(sys.executable, "-m", "bot", "bench", "--model", "fake:hashing", "--rounds", "1"),
            *("--burst", "0", "--keystroke-ms", "", "--web", "--json"),
            *("--corpus", str(tmp_path / "corpus"), "--index", str(tmp_path / "index")),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
        cwd=tmp_path,
        check=True,
    )
    web = json.loads(result.stdout)["web"]
    assert web["words"] >= 10_000
    assert web["get_passage_page"]["n"] == 200 and web["get_passage_page"]["p95_ms"] > 0
    assert web["api_ask"]["n"] == web["cli_answer_path"]["n"] > 0
    assert set(web["ratio"]) == {"p50", "p95"}
