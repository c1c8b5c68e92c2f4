"""Restart: stopping the bot and starting it again neither loses nor repeats an update.

python-telegram-bot confirms the last offset with one more getUpdates when it stops, and
answers every update it already took before the process ends.  Checked in-process
(Updater.stop + Application.stop + shutdown) and with SIGTERM to a real `footnote run`,
both times with answers still on the wire when the stop comes.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.botapi.fixtures import TEST_TOKEN
from tests.botapi.server import FakeBotApi
from tests.helpers.ops import (
    QUESTIONS,
    Process,
    build,
    duplicates,
    essay_index,
    footnote_env,
    handled,
    running,
    stop,
)

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")

GROUP = -100_400


def delivered_ids(server: FakeBotApi) -> Counter[int]:
    """How often each update id was handed out by getUpdates."""
    return Counter(
        int(update["update_id"])
        for call in server.calls_of("getUpdates")
        if call.ok
        for update in call.response["result"]
    )


def push_questions(server: FakeBotApi, users: range, label: str) -> list[tuple[int, int]]:
    """One question per user, alternately in private and in the group: (update id, chat)."""
    pushed = []
    for number, user in enumerate(users):
        question = f"{QUESTIONS[number % len(QUESTIONS)]} {label}"
        if number % 2:
            update = server.group_message(GROUP, f"/ask {question}", user)
            pushed.append((server.push_update(update), GROUP))
        else:
            pushed.append((server.push_update(server.private_message(user, question)), user))
    return pushed


def assert_each_answered_once(server: FakeBotApi, pushed: list[tuple[int, int]]) -> None:
    handed_out = delivered_ids(server)
    assert [handed_out[update_id] for update_id, _ in pushed] == [1] * len(pushed), handed_out
    assert server.pending_updates == []
    for chat, asked in Counter(chat for _, chat in pushed).items():
        assert len(server.sent_messages(chat)) == asked, chat
    assert len(server.sent_messages()) == len(pushed)
    assert duplicates(server) == []
    assert server.violations == [], server.summary()


async def test_stop_and_start_in_process(fake_botapi: FakeBotApi, tmp_path: Path) -> None:
    server = fake_botapi
    server.register_chat(GROUP, "group", title="Readers")
    retriever = essay_index(tmp_path)
    users = range(500_001, 500_021)
    first = build(server, retriever, tmp_path)
    async with running(first):
        ids = push_questions(server, users[:10], "a")
        await handled(server, first)
        # Five more, their answers slowed down: the stop comes while they are on the wire.
        server.delay("sendMessage", 1.0, 5)
        ids += push_questions(server, users[10:15], "b")
        await server.wait_for(lambda s: not s.pending_updates, timeout=5)
        await stop(first)  # inside the block: running()'s own stop is then a no-op
        assert len(server.sent_messages()) == 15
    ids += push_questions(server, users[15:20], "c")  # while nobody polls
    second = build(server, retriever, tmp_path)
    async with running(second):
        await server.wait_for(lambda s: len(s.sent_messages()) == 20, timeout=15)
        await handled(server, second)
    assert_each_answered_once(server, ids)
    print(f"\nrestart in-process: {len(ids)} updates, {len(server.sent_messages())} answers")


async def test_sigterm_restart_of_footnote_run(fake_botapi: FakeBotApi, tmp_path: Path) -> None:
    server = fake_botapi
    server.register_chat(GROUP, "group", title="Readers")
    essay_index(tmp_path)  # built once; each process opens it
    env = footnote_env(server, tmp_path)
    users = range(510_001, 510_013)
    process = await Process.footnote(env)
    try:
        await process.wait_for_log("Application started")
        ids = push_questions(server, users[:5], "a")
        await server.wait_for(lambda s: len(s.sent_messages()) == 5, timeout=15)
        server.delay("sendMessage", 1.5, 3)
        ids += push_questions(server, users[5:8], "b")
        await server.wait_for(lambda s: not s.pending_updates, timeout=5)
        await asyncio.sleep(0.2)  # fetched and being answered (slowly)
        assert len(server.sent_messages()) == 5
        code = await process.stop(signal.SIGTERM)
        assert code == 0, process.log
        assert len(server.sent_messages()) == 8  # what it took, it answered before exiting
        ids += push_questions(server, users[8:12], "c")  # while it is down

        process = await Process.footnote(env)
        await server.wait_for(lambda s: len(s.sent_messages()) == 12, timeout=30)
        await asyncio.sleep(1.0)  # nothing more comes
        code = await process.stop(signal.SIGTERM)
        assert code == 0, process.log
    finally:
        await process.kill()
    assert_each_answered_once(server, ids)
    assert TEST_TOKEN not in process.log
    print(f"\nrestart by SIGTERM: {len(ids)} updates, {len(server.sent_messages())} answers")
