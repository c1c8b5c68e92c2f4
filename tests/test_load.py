"""Load: many questions from many chats, in bursts, through the real application.

Every question is answered exactly once, in its own chat, and Telegram's flood limits hold
(the fake server enforces them: one message too many would be a 429 and a violation).
Telegram's 30 messages/s cap makes 1,000 questions take at least ~35 s, so the default run
is scaled down; FOOTNOTE_FULL_LOAD=1 runs the full 1,000 questions from 100 chats, with one
busy group asking more than its 20-messages-a-minute share.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from bot.telegram.handlers import SOMETHING_WRONG
from bot.telegram.limits import RATE_LIMITED
from tests.botapi.fixtures import TEST_TOKEN
from tests.botapi.server import FakeBotApi
from tests.botapi.spec import BotApiSpec
from tests.helpers.ops import QUESTIONS, build, duplicates, essay_index, handled, running

FULL = os.environ.get("FOOTNOTE_FULL_LOAD") == "1"


@dataclass(frozen=True)
class Plan:
    private_chats: int
    group_chats: int
    per_chat: int
    busy_group_extra: int  # more questions in one group than 20 a minute allows
    burst: int
    gap: float  # seconds between bursts


# The figure: 1,000 questions from 100 chats; then one group gets 25 more, beyond the
# 20 a minute it may be sent, so the group limit really binds (1,025 questions in all).
FULL_PLAN = Plan(
    private_chats=50, group_chats=50, per_chat=10, busy_group_extra=25, burst=100, gap=1.0
)
SMALL_PLAN = Plan(
    private_chats=20, group_chats=20, per_chat=5, busy_group_extra=0, burst=50, gap=0.5
)
PLAN = FULL_PLAN if FULL else SMALL_PLAN
BUSY_GROUP = -100_700_001  # the first group


@dataclass
class Question:
    chat: int
    message_id: int


def make_updates(server: FakeBotApi, plan: Plan) -> tuple[list[dict[str, object]], list[Question]]:
    """Round-robin over the chats, so every burst mixes private chats and groups."""
    updates: list[dict[str, object]] = []
    asked: list[Question] = []
    privates = [700_001 + n for n in range(plan.private_chats)]
    groups = [BUSY_GROUP - n for n in range(plan.group_chats)]
    user = 800_000
    for round_no in range(plan.per_chat):
        for chat in [*privates, *groups]:
            question = QUESTIONS[(chat + round_no) % len(QUESTIONS)]
            if chat > 0:
                update = server.private_message(chat, f"{question} ({round_no})")
            else:
                user += 1  # a different member each time: no per-user limit in play
                form = ("/ask {q}", "@footnote_test_bot {q}", "/ask@footnote_test_bot {q}")
                text = form[round_no % 3].format(q=question)
                update = server.group_message(chat, text, user, chat_type="supergroup")
            updates.append(update)
            message = update["message"]
            assert isinstance(message, dict)
            asked.append(Question(chat, int(message["message_id"])))
    for extra in range(plan.busy_group_extra):
        user += 1
        update = server.group_message(groups[0], f"/ask {QUESTIONS[extra % 5]}", user)
        updates.append(update)
        message = update["message"]
        assert isinstance(message, dict)
        asked.append(Question(groups[0], int(message["message_id"])))
    return updates, asked


async def test_load_in_bursts(botapi_spec: BotApiSpec, tmp_path: Path) -> None:
    plan = PLAN
    retriever = essay_index(tmp_path)
    async with FakeBotApi(TEST_TOKEN, botapi_spec, enforce_flood_limits=True) as server:
        updates, asked = make_updates(server, plan)
        application = build(server, retriever, tmp_path)
        async with running(application):
            started = time.monotonic()
            for begin in range(0, len(updates), plan.burst):
                for update in updates[begin : begin + plan.burst]:
                    server.push_update(update)
                await asyncio.sleep(plan.gap)
            budget = len(asked) / 25 + (70 if plan.busy_group_extra else 20)
            others = len(asked) - plan.busy_group_extra - plan.per_chat  # not the busy group
            await server.wait_for(lambda s: _answered_elsewhere(s, BUSY_GROUP) >= others, budget)
            others_done = time.monotonic() - started
            await server.wait_for(lambda s: len(s.sent_messages()) >= len(asked), budget, 0.1)
            wall = time.monotonic() - started
            await handled(server, application)
            await asyncio.sleep(0.5)  # nothing else trickles out afterwards

    sent = server.sent_messages()
    by_chat: dict[int, list[Question]] = defaultdict(list)
    for question in asked:
        by_chat[question.chat].append(question)
    for chat, questions in by_chat.items():
        answers = server.sent_messages(chat)
        assert len(answers) == len(questions), (chat, len(answers), len(questions))
        if chat < 0:  # group answers quote their question: each one exactly once
            quoted = sorted(a.reply_to_message_id or 0 for a in answers)
            assert quoted == sorted(q.message_id for q in questions)
    assert {m.chat_id for m in sent} == set(by_chat)
    assert not [m for m in sent if m.text in (RATE_LIMITED, SOMETHING_WRONG)]
    assert duplicates(server) == []
    assert server.violations == [], server.violations[:5]
    stats = server.flood_stats()
    assert stats.max_per_second_overall <= 30
    assert stats.max_per_minute_per_group <= 20
    print(
        f"\nload: {len(asked)} questions from {len(by_chat)} chats "
        f"({plan.private_chats} private, {plan.group_chats} groups) in bursts of {plan.burst}; "
        f"{len(sent)} answered, {len(duplicates(server))} duplicates, "
        f"{len(server.violations)} violations; max {stats.max_per_second_overall} msgs/s "
        f"overall, max {stats.max_per_minute_per_group} per group per minute, "
        f"max {stats.max_per_second_per_chat} per chat per second; wall {wall:.1f}s; "
        f"all chats but the busy group answered after {others_done:.1f}s "
        f"({others / others_done:.1f} answers/s)"
    )


def _answered_elsewhere(server: FakeBotApi, busy_chat: int) -> int:
    return sum(1 for m in server.sent_messages() if m.chat_id != busy_chat)
