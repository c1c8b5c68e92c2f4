"""Hostile input: malformed and random updates, forged buttons, damaged index and corpus.

Nothing crashes, nothing the bot sends is an invalid request (the fake Bot API checks every
call: violations == []), and the next ordinary question is still answered.
"""

from __future__ import annotations

import copy
import errno
import json
import random
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import pytest_asyncio

from bot.index.lock import LOCK_FILE
from bot.telegram.buttons import STALE_BUTTON
from bot.telegram.handlers import SOMETHING_WRONG
from bot.telegram.limits import RATE_LIMITED
from tests.botapi.server import FakeBotApi
from tests.helpers.essay import EXTRA_ESSAY, write_text
from tests.helpers.ops import QUESTIONS, App, build, essay_index, handled, running

BOT = "footnote_test_bot"
GROUP = -100_600_000
ADMIN = 610_000
Update = dict[str, Any]


@pytest_asyncio.fixture
async def app(fake_botapi: FakeBotApi, tmp_path: Path) -> AsyncIterator[App]:
    retriever = essay_index(tmp_path)
    fake_botapi.register_chat(GROUP, "supergroup", title="Readers")
    application = build(
        fake_botapi, retriever, tmp_path, admin_ids=frozenset({ADMIN}), user_rate_limit=1000
    )
    async with running(application) as started:
        yield started


def edited(update: Update, change: Callable[[dict[str, Any]], None]) -> Update:
    """A copy of a built update (its chat and message known to the fake) with its message
    changed in ways a builder would refuse."""
    copied = copy.deepcopy(update)
    change(copied["message"])
    return copied


def set_fields(**fields: Any) -> Callable[[dict[str, Any]], None]:
    return lambda message: message.update(fields)


def drop(*names: str) -> Callable[[dict[str, Any]], None]:
    def change(message: dict[str, Any]) -> None:
        for name in names:
            message.pop(name, None)

    return change


HOSTILE_TEXTS = {
    "only emoji": "😀🎉👍🏽🇰🇷👨‍👩‍👧",
    "right-to-left": "ما هو المسار المزدوج؟ \u202edual track\u202c מה זה",
    "only zero-width": "\u200b\u200c\u200d\u2060\ufeff",
    "zero-width inside": "dual\u200btrack\u200d proposal\u2060?",
    "control characters": "\x01\x02\x07\x1b[31mdual track\x7f\x9f\x0b\x0c",
    "html injection": '<b>x</b><script>alert(1)</script>&amp;&lt;</blockquote><a href="x">',
    "markdown injection": "*bold* _it_ [x](tg://user?id=1) `code` ```pre``` ~~s~~ ||sp||",
    "entities": "&nbsp; &#0; &#x110000; &bogus; </i></b> <tg-spoiler>",
    # Telegram delivers at most 4,096 characters (a longer raw text only costs more time).
    "longest text": ("the dual track proposal and the freeze " * 110)[:4_096],
    "many lines": "\n".join(["?"] * 5_000),
    "combining marks": "d\u0301\u0302\u0303u\u0336al t\u20dfrack" * 50,
    "only whitespace": " \t \u3000 \u00a0 ",
}


def hostile_updates(server: FakeBotApi) -> list[tuple[str, Update, int]]:
    """(case, update, replies expected in its chat); each case has its own user and chat."""
    cases: list[tuple[str, Update, int]] = []
    users = iter(range(620_001, 621_000))

    def private(text: str) -> Update:
        return server.private_message(next(users), text)

    for name, text in HOSTILE_TEXTS.items():
        update = private("placeholder")
        cases.append((name, edited(update, set_fields(text=text)), 1))
    update = private(f"/cite {HOSTILE_TEXTS['html injection']}")
    cases.append(("/cite html", update, 1))
    update = private("/ask " + "<" * 5_000)
    cases.append(("/ask angle brackets", update, 1))
    for payload in ("../../etc/passwd", "<b>", "a" * 500, "ffffffffffff"):
        update = private(f"/start {payload}")
        cases.append((f"/start {payload[:12]}", update, 1))
    update = private("/cite \ud800 lone surrogate")  # valid JSON escape, not text
    cases.append(("lone surrogate", update, 1))

    # Malformed: PTB cannot parse these; they are dropped (no reply) and do not block polling.
    update = private("missing fields")
    cases.append(("no chat, no date", edited(update, drop("chat", "date")), 0))
    update = private("bad entities")
    cases.append(("entity without offset", edited(update, set_fields(entities=[{}])), 0))
    cases.append(("message is a string", {"message": "hello"}, 0))
    cases.append(("message is a list", {"message": [1, 2, 3]}, 0))
    cases.append(("empty update", {}, 0))
    cases.append(("unknown kind of update", {"future_kind": {"id": 1, "x": [None]}}, 0))

    # Odd but parsable.
    update = private("text")
    cases.append(("text is a number", edited(update, set_fields(text=12345)), 1))
    update = private("What is the dual track?")
    cases.append(("no sender", edited(update, drop("from")), 1))
    mention = server.group_message(GROUP, f"@{BOT} what is the freeze?", next(users))
    broken = edited(mention, set_fields(entities=[{"type": "mention", "offset": 900, "length": 9}]))
    cases.append(("entity out of range", broken, 0))
    injected = server.group_message(GROUP, f"@{BOT} <i>what</i> & </blockquote>?", next(users))
    cases.append(("group mention injection", injected, 1))
    return cases


async def test_hostile_updates(fake_botapi: FakeBotApi, app: App) -> None:
    server = fake_botapi
    cases = hostile_updates(server)
    for _, update, _ in cases:
        server.push_raw_update(update)
    await handled(server, app, timeout=60)
    assert app.running and app.updater is not None and app.updater.running
    group_replies = 0
    for name, update, replies in cases:
        message = update.get("message")
        if not isinstance(message, dict) or "chat" not in message:
            continue
        chat = message["chat"]["id"]
        if chat == GROUP:
            group_replies += replies
            continue
        got = server.sent_messages(chat)
        assert len(got) == replies, (name, [m.text[:80] for m in got])
        assert all(m.text != SOMETHING_WRONG for m in got) or name == "text is a number", name
    assert len(server.sent_messages(GROUP)) == group_replies
    assert server.violations == [], server.summary()
    # ...and an ordinary question right after is answered.
    server.push_update(server.private_message(630_001, QUESTIONS[0]))
    await handled(server, app)
    [answer] = server.sent_messages(630_001)
    assert "<blockquote>" in answer.raw_text
    print(f"\nhostile: {len(cases)} updates, {len(server.sent_messages())} replies, 0 violations")


def random_text(rng: random.Random) -> str:
    pools = [
        "abcdefghijklmnopqrstuvwxyz ",
        "<>&\"';/*_`[]()#=!|~\\",
        "\u200b\u200c\u200d\u2060\ufeff\u202e\u202d\u061c",
        "\x00\x01\x02\x07\x08\x0b\x0c\x0e\x1b\x7f\x85\x9f",
        "😀🎉👍🏽🇰🇷👨‍👩‍👧\U0001f9ec\U000e0001",
        "中文한국어日本語ქართულიعربيעברית",
        "\u0301\u0336\u20df\u1ab0\ufe0f",
        "\n\t\r\u2028\u2029\u3000\u00a0",
    ]
    length = rng.choice([1, 2, 5, 30, 300, 1_000, 4_096])
    return "".join(rng.choice(rng.choice(pools)) for _ in range(length))


async def test_random_texts_each_get_one_valid_reply(fake_botapi: FakeBotApi, app: App) -> None:
    server = fake_botapi
    rng = random.Random(20_240_601)
    sent_to: list[int] = []
    for number in range(40):
        user = 640_001 + number
        text = random_text(rng).lstrip("/") or "x"
        update = server.private_message(user, "placeholder")
        server.push_raw_update(edited(update, set_fields(text=text, entities=[])))
        sent_to.append(user)
    for number in range(10):  # in a group, addressed to the bot
        text = f"@{BOT} " + random_text(rng)
        update = server.group_message(GROUP, "placeholder", 650_001 + number)
        mention = {"type": "mention", "offset": 0, "length": len(BOT) + 1}
        server.push_raw_update(edited(update, set_fields(text=text, entities=[mention])))
    await handled(server, app, timeout=60)
    for user in sent_to:
        [reply] = server.sent_messages(user)
        assert reply.text not in (SOMETHING_WRONG, RATE_LIMITED)
    assert len(server.sent_messages(GROUP)) == 10
    assert server.violations == [], server.summary()


async def test_forged_buttons_and_inline_queries(fake_botapi: FakeBotApi, app: App) -> None:
    server = fake_botapi
    user = 660_001
    server.push_update(server.private_message(user, QUESTIONS[0]))
    await handled(server, app)
    [answer] = server.sent_messages(user)
    forged = [
        "",
        "x" * 64,
        "é" * 32,
        "r9:abc",
        "r0:" + "0" * 12 + "-\n",
        "r٣:" + "0" * 13,
        "p:zzzzzzzzzzzz",
        "p:ffffffffffff",
        "s:ffffffffffff",
        "t:00000000:99",
        "t:00000000:99999999999999999999",
        "<b>bold</b>",
        json.dumps({"a": 1}),
    ]
    for data in forged:
        server.push_raw_update(server.callback_query(user, answer.message_id, data, user))
    no_data = server.callback_query(user, answer.message_id, "p:ffffffffffff", user)
    del no_data["callback_query"]["data"]
    no_data["callback_query"]["game_short_name"] = "snake"
    server.push_raw_update(no_data)
    for query in ("<b>" * 100, "\x00\x1b dual", "x" * 10_000, "😀" * 300, "&amp; dual track"):
        server.push_raw_update(server.inline_query(user + 1, query))
    await handled(server, app, timeout=30)
    answers = server.callback_answers
    assert len(answers) == len(forged) + 1  # every press answered (stale or not)
    assert sum(1 for a in answers if a.get("text") == STALE_BUTTON) >= len(forged) - 1
    assert server.edits == []  # a forged press never changes the message
    assert server.violations == [], server.summary()
    server.push_update(server.private_message(user, QUESTIONS[1]))
    await handled(server, app)
    assert len(server.sent_messages(user)) == 2


# -- damaged index and corpus -----------------------------------------------------------------


async def reload_as_admin(server: FakeBotApi, application: App) -> str:
    before = len(server.sent_messages(ADMIN))
    server.push_update(server.private_message(ADMIN, "/reload"))
    await handled(server, application, timeout=60)
    replies = server.sent_messages(ADMIN)[before:]
    assert replies[0].text.startswith("Reloading the index")
    return replies[-1].text


async def ask(server: FakeBotApi, application: App, user: int, text: str) -> str:
    before = len(server.sent_messages(user))
    server.push_update(server.private_message(user, text))
    await handled(server, application)
    [reply] = server.sent_messages(user)[before:]
    return reply.text


@pytest.mark.parametrize(
    ("damage", "reason"),
    [
        ("delete vectors", "index files are missing"),
        ("delete manifest", "no index in"),
        ("garbage manifest", "is corrupt"),
        ("empty manifest object", "is corrupt"),
        ("garbage vectors", "forced"),  # the files exist but cannot be loaded
        ("truncated passages", "forced"),
    ],
)
async def test_damaged_index_is_rebuilt_and_reported(
    fake_botapi: FakeBotApi, app: App, tmp_path: Path, damage: str, reason: str
) -> None:
    index = tmp_path / "index"
    files = json.loads((index / "manifest.json").read_text())["files"]

    def replace(name: str, content: bytes) -> None:
        path = index / name
        path.unlink()  # a new file: the index in service keeps its memory-mapped vectors
        path.write_bytes(content)

    if damage == "delete vectors":
        (index / files["vectors"]).unlink()
    elif damage == "delete manifest":
        (index / "manifest.json").unlink()
    elif damage == "garbage manifest":
        replace("manifest.json", b"{not json")
    elif damage == "empty manifest object":
        replace("manifest.json", b"[]")
    elif damage == "garbage vectors":
        replace(files["vectors"], b"\x93NUMPY garbage")
    else:
        replace(files["passages"], (index / files["passages"]).read_bytes()[:100])
    # Meanwhile the bot answers from the index it has in memory.
    assert await ask(fake_botapi, app, 670_002, QUESTIONS[1]) != SOMETHING_WRONG
    report = await reload_as_admin(fake_botapi, app)
    assert report.startswith("Indexed 1 document, ") and reason in report, report
    text = await ask(fake_botapi, app, 670_001, QUESTIONS[0])
    assert text != SOMETHING_WRONG
    assert fake_botapi.violations == []


async def test_unreadable_corpus_files_are_named_and_the_rest_served(
    fake_botapi: FakeBotApi, app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = tmp_path / "corpus"
    (corpus / "broken.txt").write_bytes(b"Title\n\nvalid start \xff\xfe\xfa invalid UTF-8\n")
    write_text(corpus / "locked.txt", EXTRA_ESSAY)
    (corpus / "folder.txt").mkdir()  # a directory with a document's name
    (corpus / "folder.txt" / "inner.md").write_text("# Inner\n\nA short inner essay line.\n")
    (corpus / "notes.pdf").write_bytes(b"%PDF-1.4")
    read_bytes = Path.read_bytes

    def unreadable(path: Path) -> bytes:  # tests run as root: chmod 000 would not stop us
        if path.name == "locked.txt":
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return read_bytes(path)

    monkeypatch.setattr(Path, "read_bytes", unreadable)
    report = await reload_as_admin(fake_botapi, app)
    assert report.startswith("Indexed ") and "(the corpus changed)" in report, report
    assert "Skipped broken.txt: not UTF-8 text (invalid byte at position" in report
    assert "Skipped locked.txt: could not open the file (Permission denied)" in report
    assert "Skipped notes.pdf: could not read the PDF" in report
    assert "2 documents" in report  # the essay and folder.txt/inner.md are served
    text = await ask(fake_botapi, app, 680_001, QUESTIONS[1])
    assert text not in (SOMETHING_WRONG,)
    assert fake_botapi.violations == []


async def test_failed_rebuild_keeps_the_previous_index(
    fake_botapi: FakeBotApi, app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index = tmp_path / "index"
    manifest_before = (index / "manifest.json").read_bytes()
    files_before = sorted(p.name for p in index.iterdir() if p.name != LOCK_FILE)
    write_text(tmp_path / "corpus" / "patience.txt", EXTRA_ESSAY)  # the corpus changed
    save = np.save

    def disk_full(*args: Any, **kwargs: Any) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(np, "save", disk_full)  # the module bot.index.store writes with
    report = await reload_as_admin(fake_botapi, app)
    assert report.startswith("Reload failed: cannot write the index in"), report
    assert "No space left on device" in report
    # The previous generation is untouched and still answering.
    assert (index / "manifest.json").read_bytes() == manifest_before
    assert sorted(p.name for p in index.iterdir() if p.name != LOCK_FILE) == files_before
    text = await ask(fake_botapi, app, 690_001, QUESTIONS[0])
    assert text != SOMETHING_WRONG
    cited = await ask(fake_botapi, app, 690_002, "/cite Verification is the hard part")
    assert cited.startswith("I can't find")  # the new essay is not in the old index

    monkeypatch.setattr(np, "save", save)  # the disk has room again
    report = await reload_as_admin(fake_botapi, app)
    assert report.startswith("Indexed 2 documents, "), report
    assert "(the corpus changed)" in report, report
    cited = await ask(fake_botapi, app, 690_003, "/cite Verification is the hard part")
    assert "Verification is the hard part" in cited
    assert fake_botapi.violations == []
