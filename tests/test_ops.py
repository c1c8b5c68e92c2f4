"""Operations: webhook (secret, health), hot reload (/reload, SIGHUP), abuse limits, secrets."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import pytest_asyncio

import bot.search.retriever
import bot.telegram.webhook as webhook_module
from bot.config import Settings, load_settings
from bot.index.embedding import HashingEmbedder
from bot.redaction import REDACTED
from bot.search.retriever import Retriever
from bot.telegram.inline import INLINE_DEBOUNCE
from bot.telegram.limits import RATE_LIMITED
from bot.telegram.state import bot_state
from bot.telegram.webhook import SECRET_HEADER, WebhookServer
from tests.botapi.fixtures import TEST_TOKEN
from tests.botapi.server import FakeBotApi
from tests.helpers.essay import ESSAY_PASSAGES, EXTRA_ESSAY, write_text
from tests.helpers.ops import (
    QUESTIONS,
    App,
    Process,
    build,
    essay_index,
    footnote_env,
    handled,
    running,
    stop,
)
from tests.helpers.secrets import SECRETS

SECRET = "webhook-secret-Footnote-0123456789"
SECRETS.add(SECRET)
ADMIN = 710_000
NEW_ESSAY_PHRASE = "Verification is the hard part"


@pytest.fixture
def essay(tmp_path: Path) -> Retriever:
    return essay_index(tmp_path)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# -- webhook ----------------------------------------------------------------------------------


@pytest_asyncio.fixture
async def webhook(
    fake_botapi: FakeBotApi, essay: Retriever, tmp_path: Path
) -> AsyncIterator[tuple[App, WebhookServer, str]]:
    application = build(fake_botapi, essay, tmp_path, webhook_secret=SECRET)
    server = WebhookServer(
        application, secret=SECRET, path="/telegram/hook", listen="127.0.0.1", port=0
    )
    await application.initialize()
    await application.start()
    await server.start()
    try:
        yield application, server, f"http://127.0.0.1:{server.port}"
    finally:
        await server.stop()
        await stop(application)


async def test_webhook_checks_the_secret_and_feeds_the_application(
    fake_botapi: FakeBotApi, webhook: tuple[App, WebhookServer, str], essay: Retriever
) -> None:
    application, server, base = webhook
    hook = base + "/telegram/hook"
    update = {"update_id": 1, **fake_botapi.private_message(720_001, QUESTIONS[0])}
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {SECRET_HEADER: "wrong"}, {SECRET_HEADER: SECRET + "x"}):
            async with http.post(hook, json=update, headers=headers) as response:
                assert response.status == 403
        assert server.received == 0 and server.refused == 3
        async with http.post(hook, json=update, headers={SECRET_HEADER: SECRET}) as response:
            assert response.status == 200
        await fake_botapi.wait_for(lambda s: len(s.sent_messages(720_001)) == 1, timeout=10)
        headers = {SECRET_HEADER: SECRET}
        async with http.post(hook, data=b"{not json", headers=headers) as response:
            assert response.status == 400
        malformed = {"update_id": 2, "message": {"text": "no chat"}}
        async with http.post(hook, json=malformed, headers=headers) as response:
            assert response.status == 200  # dropped: Telegram must not send it again
        async with http.get(hook) as response:
            assert response.status == 405
        async with http.get(base + "/healthz") as response:
            assert response.status == 200
            health = await response.json()
        assert health["status"] == "ok"
        assert health["index"]["loaded"] is True
        assert health["index"]["passages"] == len(essay.store.passages) == 59
        assert health["index"]["documents"] == 1
        assert health["uptime_seconds"] >= 0
        await application.stop()  # stopping: no more updates, and not healthy
        async with http.post(hook, json=update, headers=headers) as response:
            assert response.status == 503
        async with http.get(base + "/healthz") as response:
            assert response.status == 503
    assert server.received == 1
    assert fake_botapi.violations == []


async def test_footnote_run_webhook_mode(fake_botapi: FakeBotApi, tmp_path: Path) -> None:
    """`footnote run --webhook`: sets the webhook with the secret, serves it and /healthz,
    and stops cleanly on SIGTERM."""
    essay_index(tmp_path)
    port = free_port()
    url = f"http://127.0.0.1:{port}/tg/{SECRET[:8]}"
    env = footnote_env(fake_botapi, tmp_path, FOOTNOTE_WEBHOOK_SECRET=SECRET)
    listen = ("--listen", "127.0.0.1", "--port", str(port))
    process = await Process.footnote(env, "--webhook", url, *listen)
    try:
        await process.wait_for_log("webhook set")
        [call] = fake_botapi.calls_of("setWebhook")
        assert call.params["url"] == url and call.params["secret_token"] == SECRET
        update = {"update_id": 5, **fake_botapi.private_message(721_001, QUESTIONS[1])}
        async with aiohttp.ClientSession() as http:
            async with http.post(url, json=update) as response:
                assert response.status == 403
            async with http.post(url, json=update, headers={SECRET_HEADER: SECRET}) as response:
                assert response.status == 200
            async with http.get(f"http://127.0.0.1:{port}/healthz") as response:
                assert response.status == 200
                assert (await response.json())["index"]["passages"] == 59
        await fake_botapi.wait_for(lambda s: len(s.sent_messages(721_001)) == 1, timeout=15)
        assert await process.stop(signal.SIGTERM) == 0
    finally:
        await process.kill()
    assert TEST_TOKEN not in process.log and SECRET not in process.log
    assert fake_botapi.violations == []


async def test_webhook_refuses_deep_json_and_slow_clients(
    fake_botapi: FakeBotApi, essay: Retriever, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(webhook_module, "HEADER_TIMEOUT", 0.5)
    monkeypatch.setattr(webhook_module, "BODY_TIMEOUT", 0.5)
    application = build(fake_botapi, essay, tmp_path, webhook_secret=SECRET)
    server = WebhookServer(application, secret=SECRET, path="/hook", listen="127.0.0.1", port=0)
    await application.initialize()
    await application.start()
    await server.start()
    try:
        headers = {SECRET_HEADER: SECRET}
        async with aiohttp.ClientSession() as http:
            deep = b"[" * 50_000 + b"]" * 50_000
            async with http.post(
                f"http://127.0.0.1:{server.port}/hook", data=deep, headers=headers
            ) as response:
                assert response.status == 400
        # Headers that never end: the connection is closed, not held.
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(b"POST /hook HTTP/1.1\r\nHost: x\r\n")
        await writer.drain()
        assert await asyncio.wait_for(reader.read(), timeout=5) == b""
        writer.close()
        # A body that never arrives: 408, the connection released.
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        writer.write(
            f"POST /hook HTTP/1.1\r\nHost: x\r\n{SECRET_HEADER}: {SECRET}\r\n"
            "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{".encode()
        )
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout=10)
        assert answer.startswith(b"HTTP/1.1 408"), answer[:60]
        writer.close()
    finally:
        await server.stop()
        await stop(application)
    assert server.received == 0


def test_webhook_needs_a_secret(essay: Retriever, tmp_path: Path) -> None:
    from bot.errors import ConfigError

    with pytest.raises(ConfigError, match="secret"):
        WebhookServer(object(), secret="")  # type: ignore[arg-type]


# -- hot reload -------------------------------------------------------------------------------


class SlowBuildEmbedder(HashingEmbedder):
    """The fake embedder (same name and vectors), slow for index builds only: an incremental
    build embeds only the new essay's passages, which no question quotes."""

    def encode(self, texts: list[str], batch_size: int = 64) -> Any:
        if any("rewards patience" in text for text in texts):
            time.sleep(2.0)
        return super().encode(texts, batch_size)


async def test_reload_rebuilds_in_the_background_for_admins_only(
    fake_botapi: FakeBotApi, essay: Retriever, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    server = fake_botapi
    application = build(server, essay, tmp_path, admin_ids=frozenset({ADMIN}))
    async with running(application):
        server.push_update(server.private_message(730_001, "/reload"))
        await handled(server, application)
        [refusal] = server.sent_messages(730_001)
        assert refusal.text == "Only the bot's administrators can reload the index."

        write_text(tmp_path / "corpus" / "patience.txt", EXTRA_ESSAY)
        monkeypatch.setattr(
            bot.search.retriever, "make_embedder", lambda model: SlowBuildEmbedder()
        )
        server.push_update(server.private_message(ADMIN, "/reload"))
        await server.wait_for(lambda s: len(s.sent_messages(ADMIN)) == 1, timeout=5)
        started = time.monotonic()
        users = range(730_101, 730_106)
        for number, user in enumerate(users):
            server.push_update(server.private_message(user, QUESTIONS[number]))
        await server.wait_for(lambda s: all(s.sent_messages(u) for u in users), timeout=5)
        answered_in = time.monotonic() - started
        assert len(server.sent_messages(ADMIN)) == 1, "answered while the rebuild still runs"
        await server.wait_for(lambda s: len(s.sent_messages(ADMIN)) == 2, timeout=20)
        summary = server.sent_messages(ADMIN)[1].text
        assert summary.startswith("Indexed 2 documents, "), summary
        assert f"(the corpus changed); vectors: {ESSAY_PASSAGES} reused, " in summary, summary
        server.push_update(server.private_message(730_200, f"/cite {NEW_ESSAY_PHRASE}"))
        await handled(server, application)
        assert NEW_ESSAY_PHRASE in server.sent_messages(730_200)[0].text
    assert answered_in < 1.5
    assert server.violations == []


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
async def test_sighup_reloads_in_process(
    fake_botapi: FakeBotApi, essay: Retriever, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="bot.telegram.reload")
    application = build(fake_botapi, essay, tmp_path)
    bot_state(application).reload_on_sighup = True
    async with running(application):
        assert signal.getsignal(signal.SIGHUP) not in (signal.SIG_DFL, signal.SIG_IGN, None)
        write_text(tmp_path / "corpus" / "patience.txt", EXTRA_ESSAY)
        os.kill(os.getpid(), signal.SIGHUP)
        deadline = time.monotonic() + 15
        while not any("SIGHUP: Indexed " in r.getMessage() for r in caplog.records):
            assert time.monotonic() < deadline, "no reload after SIGHUP"
            await asyncio.sleep(0.05)
        [logged] = [r.getMessage() for r in caplog.records if "SIGHUP: Index" in r.getMessage()]
        # The incremental path: the essay's vectors are reused, only the new essay is embedded.
        assert f"vectors: {ESSAY_PASSAGES} reused, " in logged, logged
        fake_botapi.push_update(fake_botapi.private_message(731_001, f"/cite {NEW_ESSAY_PHRASE}"))
        await handled(fake_botapi, application)
        assert NEW_ESSAY_PHRASE in fake_botapi.sent_messages(731_001)[0].text


# -- abuse ------------------------------------------------------------------------------------


async def test_per_user_rate_limit_is_polite_and_configurable(
    fake_botapi: FakeBotApi, essay: Retriever, tmp_path: Path
) -> None:
    settings = load_settings({"FOOTNOTE_RATE_LIMIT": "3", "FOOTNOTE_RATE_WINDOW": "60"}, None)
    assert (settings.user_rate_limit, settings.user_rate_window) == (3, 60.0)
    server = fake_botapi
    application = build(server, essay, tmp_path, user_rate_limit=3, user_rate_window=60.0)
    async with running(application):
        for number in range(5):
            server.push_update(server.private_message(740_001, QUESTIONS[number]))
            await handled(server, application)
        server.push_update(server.private_message(740_002, QUESTIONS[0]))
        await handled(server, application)
    replies = [m.text for m in server.sent_messages(740_001)]
    assert len(replies) == 5
    assert replies[3:] == [RATE_LIMITED, RATE_LIMITED]
    assert RATE_LIMITED not in replies[:3]
    assert [m.text for m in server.sent_messages(740_002)] != [RATE_LIMITED]
    assert server.violations == []


async def test_presses_and_contents_share_the_rate_limit(
    fake_botapi: FakeBotApi, essay: Retriever, tmp_path: Path
) -> None:
    server = fake_botapi
    application = build(server, essay, tmp_path, user_rate_limit=3, user_rate_window=60.0)
    user = 741_001
    async with running(application):
        server.push_update(server.private_message(user, QUESTIONS[0]))  # 1: a question
        await handled(server, application)
        answer = server.sent_messages(user)[-1]
        data = answer.reply_markup["inline_keyboard"][-1][0]["callback_data"]
        server.push_update(server.private_message(user, "/sections"))  # 2: the contents
        await handled(server, application)
        for _ in range(3):  # 3: a press; then two over the limit
            server.push_update(server.callback_query(user, answer.message_id, data, user))
            await handled(server, application)
    toasts = [a.get("text") for a in server.callback_answers]
    assert toasts[-2:] == [RATE_LIMITED, RATE_LIMITED] and RATE_LIMITED not in toasts[:-2]
    assert [m.text for m in server.sent_messages(user)].count(RATE_LIMITED) == 0
    assert server.violations == []


async def test_inline_flood_does_not_starve_chats(
    fake_botapi: FakeBotApi, essay: Retriever, tmp_path: Path
) -> None:
    server = fake_botapi
    application = build(server, essay, tmp_path)
    bot_state(application).inline.delay = INLINE_DEBOUNCE  # as in production
    async with running(application):
        typed = "What is the dual track proposal and why does China back it"
        for end in range(3, len(typed) + 1):  # one user typing, a query per keystroke...
            for _ in range(17):  # ...a very fast (or hostile) client: ~1,000 queries
                final = server.inline_query(750_001, typed[:end])
                server.push_update(final)
        for user in range(750_100, 750_200):  # and 100 other users typing at once
            server.push_update(server.inline_query(user, "freeze for freeze"))
        pushed_at = time.monotonic()
        server.push_update(server.private_message(750_500, QUESTIONS[0]))
        await server.wait_for(lambda s: bool(s.sent_messages(750_500)), timeout=20)
        private_latency = time.monotonic() - pushed_at
        await handled(server, application, timeout=60)
        await asyncio.sleep(INLINE_DEBOUNCE + 0.2)
    answers = server.inline_answers
    # What the typing user finally typed is answered; what they typed on from is not.
    assert [a for a in answers if a["inline_query_id"] == final["inline_query"]["id"]]
    assert len(answers) <= 150
    processor = application.update_processor
    skipped = getattr(processor, "inline_skipped", 0)
    print(
        f"\ninline flood: {17 * (len(typed) - 2) + 100} inline queries; private question "
        f"answered in {private_latency * 1000:.0f} ms; {len(answers)} inline answers, "
        f"{skipped} superseded queries skipped"
    )
    assert private_latency < 2.0
    assert server.violations == []


# -- secrets ----------------------------------------------------------------------------------


def test_settings_repr_hides_secrets() -> None:
    settings = load_settings(
        {"TELEGRAM_BOT_TOKEN": TEST_TOKEN, "FOOTNOTE_WEBHOOK_SECRET": SECRET}, dotenv=None
    )
    for text in (repr(settings), str(settings), repr(Settings(telegram_token=TEST_TOKEN))):
        assert TEST_TOKEN not in text and TEST_TOKEN.split(":")[1] not in text
        assert SECRET not in text


async def test_log_records_never_hold_the_token(
    fake_botapi: FakeBotApi, essay: Retriever, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="httpx")  # even the request URLs
    application = build(fake_botapi, essay, tmp_path, webhook_secret=SECRET)
    async with running(application):
        # PTB's repr of the bot quotes the token; a log record of it must not.
        logging.getLogger("test").warning("bot is %r; secret %s", application.bot, SECRET)
        try:
            raise RuntimeError(f"failed calling {fake_botapi.base_url}{TEST_TOKEN}/getMe")
        except RuntimeError:
            logging.getLogger("test").exception("with a traceback")
        fake_botapi.push_update(fake_botapi.private_message(760_001, QUESTIONS[0]))
        await handled(fake_botapi, application)
    assert any(REDACTED in r.getMessage() for r in caplog.records if r.name == "test")
    assert any(r.name == "httpx" for r in caplog.records)
    for record in caplog.records:
        text = logging.Formatter().format(record)
        assert TEST_TOKEN.split(":")[1] not in text and SECRET not in text, record.name
    for message in fake_botapi.sent_messages():
        assert TEST_TOKEN.split(":")[1] not in message.raw_text


async def test_rejected_token_is_reported_without_quoting_it(
    fake_botapi: FakeBotApi, tmp_path: Path
) -> None:
    essay_index(tmp_path)
    wrong = "123456789:AAWrongTokenWrongTokenWrongTokenXy"
    env = footnote_env(fake_botapi, tmp_path, TELEGRAM_BOT_TOKEN=wrong)
    process = await Process.footnote(env)
    try:
        code = await asyncio.wait_for(process.process.wait(), 60)
        await process.stop()
    finally:
        await process.kill()
    assert code == 78, process.log  # EX_CONFIG: restarting cannot fix a revoked token
    assert "TELEGRAM_BOT_TOKEN was rejected by Telegram" in process.log
    assert wrong.split(":")[1] not in process.log
