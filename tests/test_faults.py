"""Faults: the Bot API answers 429, 500s, slowly, not at all, or goes away for 10 s.

The bot recovers by itself, answers everything afterwards, and never answers twice.
The first part checks the retry and flood-limit rules of bot.telegram.flood on a virtual clock;
the second runs the real application against the fake Bot API with faults injected.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from telegram.error import BadRequest, Forbidden, InvalidToken, NetworkError, RetryAfter, TimedOut
from telegram.ext import ApplicationBuilder

from bot.search.retriever import Retriever
from bot.telegram.flood import ResilientRateLimiter, SlidingWindow, is_transient
from bot.telegram.handlers import SOMETHING_WRONG
from tests.botapi.fixtures import application_builder
from tests.botapi.server import FakeBotApi
from tests.helpers.ops import QUESTIONS, build, duplicates, essay_index, handled, running

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")

# -- the rules, on a virtual clock ------------------------------------------------------------


class VirtualTime:
    def __init__(self) -> None:
        self.now = 1000.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)


def limiter(time_: VirtualTime, **options: Any) -> ResilientRateLimiter:
    return ResilientRateLimiter(clock=time_.clock, sleep=time_.sleep, **options)


async def send(
    rl: ResilientRateLimiter,
    chat_id: int | None = 1,
    endpoint: str = "sendMessage",
    failures: list[Exception] | None = None,
    sent_at: list[float] | None = None,
    clock: Callable[[], float] | None = None,
) -> Any:
    pending = list(failures or [])

    async def callback() -> dict[str, Any]:
        if sent_at is not None and clock is not None:
            sent_at.append(clock())
        if pending:
            raise pending.pop(0)
        return {"ok": True}

    data = {} if chat_id is None else {"chat_id": chat_id}
    return await rl.process_request(callback, (), {}, endpoint, data, None)


def timed_out(cause: Exception) -> TimedOut:
    error = TimedOut()
    error.__cause__ = cause
    return error


async def test_overall_window_is_exact() -> None:
    vt = VirtualTime()
    rl = limiter(vt)
    times: list[float] = []
    for chat in range(61):
        await send(rl, chat_id=chat + 1, sent_at=times, clock=vt.clock)
    # No second (at the server: sends count until they completed) holds more than 30.
    for first, later in zip(times, times[30:], strict=False):
        assert later - first >= 1.0
    assert times[30] - times[0] < 1.2  # ...and the limiter does not wait much longer


async def test_group_window_and_private_chats_unaffected() -> None:
    vt = VirtualTime()
    rl = limiter(vt)
    times: list[float] = []
    for _ in range(21):
        await send(rl, chat_id=-100, sent_at=times, clock=vt.clock)
    assert times[20] - times[0] >= 60.0
    start = vt.now
    await send(rl, chat_id=-200)
    await send(rl, chat_id=5)
    assert vt.now - start < 1.0


async def test_retry_after_pauses_that_group_only() -> None:
    vt = VirtualTime()
    rl = limiter(vt)
    start = vt.now
    await send(rl, chat_id=-100, failures=[RetryAfter(3)])
    assert vt.now - start >= 3.0 and rl.flood_waits == 1
    vt.now = start  # the pause is recorded in absolute time; rewind to check another chat
    rl._group_paused_until[-100] = start + 10
    assert await send(rl, chat_id=-200) == {"ok": True}
    assert vt.now - start < 1.0


async def test_retry_after_gives_up_after_max_flood_retries() -> None:
    vt = VirtualTime()
    rl = limiter(vt, max_flood_retries=2)
    with pytest.raises(RetryAfter):
        await send(rl, failures=[RetryAfter(1)] * 3)


@pytest.mark.parametrize(
    "error",
    [
        NetworkError("Internal Server Error (500)"),
        NetworkError("Bad Gateway"),
        NetworkError("httpx.ConnectError: All connection attempts failed"),
        NetworkError("httpx.RemoteProtocolError: Server disconnected"),
        timed_out(httpx.ConnectTimeout("connect")),
        timed_out(httpx.PoolTimeout("pool")),
    ],
)
async def test_transient_errors_are_retried(error: NetworkError) -> None:
    vt = VirtualTime()
    rl = limiter(vt)
    calls: list[float] = []
    assert await send(rl, failures=[error] * 3, sent_at=calls, clock=vt.clock) == {"ok": True}
    assert len(calls) == 4 and rl.retries == 3
    gaps = [b - a for a, b in itertools.pairwise(calls)]
    assert gaps == sorted(gaps) and gaps[0] >= 0.5  # exponential backoff


@pytest.mark.parametrize(
    "error",
    [
        BadRequest("Bad Request: message text is empty"),
        Forbidden("Forbidden: bot was blocked by the user"),
        InvalidToken("Unauthorized"),
        timed_out(httpx.ReadTimeout("read")),  # may have been delivered: never sent twice
        timed_out(httpx.WriteTimeout("write")),
    ],
)
async def test_permanent_or_ambiguous_errors_are_not_retried(error: Exception) -> None:
    vt = VirtualTime()
    rl = limiter(vt)
    calls: list[float] = []
    with pytest.raises(type(error)):
        await send(rl, failures=[error], sent_at=calls, clock=vt.clock)
    assert len(calls) == 1 and rl.retries == 0


def test_timeouts_retry_only_where_repeating_is_harmless() -> None:
    read = timed_out(httpx.ReadTimeout("read"))
    assert not is_transient(read, "sendMessage")
    assert not is_transient(read, "answerCallbackQuery")
    assert is_transient(read, "getMe")
    assert is_transient(read, "setMyCommands")
    assert is_transient(timed_out(httpx.ConnectTimeout("c")), "sendMessage")


async def test_transient_errors_give_up_after_retry_for() -> None:
    vt = VirtualTime()
    rl = limiter(vt, retry_for=30.0)
    start = vt.now
    with pytest.raises(NetworkError):
        await send(rl, failures=[NetworkError("Bad Gateway")] * 1000)
    assert 29.0 <= vt.now - start <= 31.0
    assert 5 <= rl.retries <= 15  # backoff grows to 4 s: no tight loop


def test_sliding_window_counts_requests_until_they_complete() -> None:
    window = SlidingWindow(2, 1.0)
    first = window.start(0.0)
    window.start(0.0)
    assert window.wait_time(5.0) > 0  # both still in flight: the server may see them late
    first[1] = 5.0
    assert window.wait_time(5.5) > 0
    assert window.wait_time(6.0) == 0.0


# -- the real application against the fake Bot API ----------------------------------------------

GROUP = -100_300
USERS = range(300_001, 300_006)


@pytest.fixture(scope="module")
def essay(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Retriever]:
    root = tmp_path_factory.mktemp("faults")
    return root, essay_index(root)


@pytest.fixture
def root(essay: tuple[Path, Retriever]) -> Path:
    return essay[0]


@pytest.fixture
def retriever(essay: tuple[Path, Retriever]) -> Retriever:
    return essay[1]


@pytest_asyncio.fixture
async def app(fake_botapi: FakeBotApi, retriever: Retriever, root: Path) -> AsyncIterator[Any]:
    async with running(build(fake_botapi, retriever, root)) as application:
        yield application


def ask_everyone(server: FakeBotApi, label: str = "") -> dict[int, int]:
    """One question from each user privately and one in the group; chat -> expected answers."""
    expected: dict[int, int] = {}
    for number, user in enumerate(USERS):
        question = QUESTIONS[number % len(QUESTIONS)]
        server.push_update(server.private_message(user, f"{question} {label}".strip()))
        expected[user] = expected.get(user, 0) + 1
        server.push_update(server.group_message(GROUP, f"/ask {question} {label}", user))
        expected[GROUP] = expected.get(GROUP, 0) + 1
    return expected


def assert_answered_once(server: FakeBotApi, expected: dict[int, int]) -> None:
    for chat, count in expected.items():
        got = server.sent_messages(chat)
        assert len(got) == count, (chat, [m.text[:60] for m in got])
    assert duplicates(server) == []
    assert all(SOMETHING_WRONG not in m.text for m in server.sent_messages())
    assert server.violations == [], server.summary()


async def test_429_500_and_slow_answers_are_absorbed(fake_botapi: FakeBotApi, app: Any) -> None:
    fake_botapi.register_chat(GROUP, "group", title="Readers")
    fake_botapi.fail_next("sendMessage", 2, error_code=429, retry_after=1)
    fake_botapi.answer_500("sendMessage", 3)
    fake_botapi.fail_next("sendMessage", 1, error_code=502)
    fake_botapi.delay("sendMessage", 1.0, 3)
    started = time.monotonic()
    expected = ask_everyone(fake_botapi)
    await fake_botapi.wait_for(lambda s: len(s.sent_messages()) >= 10, timeout=30)
    await handled(fake_botapi, app)
    elapsed = time.monotonic() - started
    assert_answered_once(fake_botapi, expected)
    injected = [c for c in fake_botapi.calls_of("sendMessage") if not c.ok]
    assert len(injected) == 6  # every injected failure was met, then retried
    assert fake_botapi.faults.pending() == {}
    assert elapsed >= 1.0  # the 429's retry_after was honoured
    print(f"\nfaults: 2x429 + 3x500 + 1x502 + 3 slow; 10 questions, 10 answers in {elapsed:.1f}s")


async def test_a_timed_out_send_is_not_sent_again(
    fake_botapi: FakeBotApi, retriever: Retriever, root: Path
) -> None:
    """A read timeout is ambiguous (Telegram may have the message): no retry, an apology."""
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] = application_builder(fake_botapi)
    builder.read_timeout(0.5)
    async with running(build(fake_botapi, retriever, root, builder)) as application:
        fake_botapi.delay("sendMessage", 1.5, 1)
        fake_botapi.push_update(fake_botapi.private_message(USERS[0], QUESTIONS[0]))
        await handled(fake_botapi, application)
        [apology] = fake_botapi.sent_messages(USERS[0])
        assert apology.text == SOMETHING_WRONG
        fake_botapi.push_update(fake_botapi.private_message(USERS[0], QUESTIONS[1]))
        await handled(fake_botapi, application)
    assert len(fake_botapi.sent_messages(USERS[0])) == 2
    assert SOMETHING_WRONG not in fake_botapi.sent_messages(USERS[0])[1].text
    assert fake_botapi.violations == []


async def test_ten_second_outage(
    fake_botapi: FakeBotApi, app: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The API goes away for 10 s: polling backs off (no crash loop), a send cut off
    mid-request is retried, updates that arrive meanwhile are answered after, once each."""
    caplog.set_level(logging.WARNING)
    server = fake_botapi
    server.register_chat(GROUP, "group", title="Readers")
    expected = ask_everyone(server, "before")
    await server.wait_for(lambda s: len(s.sent_messages()) == 10, timeout=15)
    await asyncio.sleep(1.1)  # private chats are paced to 1 message a second: none is held back

    # One answer is on the wire when the server goes away.
    server.delay("sendMessage", 5.0, 1)
    server.push_update(server.private_message(USERS[0], "What is the double suspension?"))
    expected[USERS[0]] += 1
    await server.wait_for(lambda s: not s.pending_updates, timeout=5)
    await asyncio.sleep(0.3)
    down_at = time.monotonic()
    await server.go_down(10.0)
    more = ask_everyone(server, "during")
    for chat, count in more.items():
        expected[chat] += count
    await asyncio.sleep(5)
    assert app.running and app.updater.running  # still up, not crashed
    await server.wait_until_up(timeout=15)
    back_at = time.monotonic()
    total = sum(expected.values())
    await server.wait_for(lambda s: len(s.sent_messages()) >= total, timeout=30)
    recovered = time.monotonic() - back_at
    await handled(server, app)

    assert_answered_once(server, expected)
    polls = [
        r for r in caplog.records if r.name == "telegram.ext.Updater" and r.levelno >= logging.ERROR
    ]
    assert 1 <= len(polls) <= 12, len(polls)  # backing off, not spinning
    resends = [
        r for r in caplog.records if r.name == "bot.telegram.flood" and "retrying" in r.message
    ]
    assert resends, "the send cut off by the outage was retried"
    print(
        f"\noutage: down {back_at - down_at:.1f}s; {total} questions, "
        f"{len(server.sent_messages())} answers, {len(polls)} failed polls, "
        f"{len(resends)} send retries, all answered {recovered:.1f}s after the API came back"
    )


async def test_starting_while_the_api_is_down(
    fake_botapi: FakeBotApi, retriever: Retriever, root: Path
) -> None:
    """getMe, deleteWebhook and setMyCommands at start-up are retried until the API is back
    (within the 30 s retry budget), instead of the process failing and restarting."""
    await fake_botapi.go_down(3.0)
    started = time.monotonic()
    async with running(build(fake_botapi, retriever, root)) as application:
        waited = time.monotonic() - started
        assert waited >= 2.5
        fake_botapi.push_update(fake_botapi.private_message(USERS[0], QUESTIONS[0]))
        await handled(fake_botapi, application)
    assert len(fake_botapi.sent_messages(USERS[0])) == 1
    assert [c.method for c in fake_botapi.calls[:1]] == ["getMe"]
    assert fake_botapi.violations == []
