"""Every inline button: edits the same message in place, twice is harmless, forgeries are
answered politely."""

from __future__ import annotations

import random
from typing import Any

import pytest

from bot.telegram.buttons import STALE_BUTTON
from bot.telegram.handlers import SOMETHING_WRONG
from tests.botapi.server import Call, FakeBotApi, SentMessage
from tests.helpers.footnote_bot import (
    DOCUMENT,
    DUAL_TRACK,
    EMPTY_SECTION,
    OFF_TOPIC,
    QUESTION,
    App,
    Essay,
    assert_clean,
    button_data,
    exchange,
    settle,
    the_reply,
)

USER = 31337
GROUP = -100888


@pytest.fixture
def bot_chats() -> list[tuple[int, str, str | None]]:
    return [(GROUP, "group", None)]


async def send(server: FakeBotApi, app: App, text: str, chat: int = USER) -> SentMessage:
    update = (
        server.private_message(chat, text) if chat > 0 else server.group_message(chat, text, USER)
    )
    return the_reply(await exchange(server, app, update), chat)


class Pressed:
    """What one button press did: the callback answer and the edits (no new messages)."""

    def __init__(self, answer: dict[str, Any], edits: list[Call]) -> None:
        self.answer = answer
        self.edits = edits

    @property
    def message(self) -> dict[str, Any]:
        assert len(self.edits) == 1, self.edits
        result: dict[str, Any] = self.edits[0].response["result"]
        return result

    @property
    def text(self) -> str:
        return str(self.message["text"])


async def press(
    server: FakeBotApi, app: App, chat: int, message_id: int, data: str, user: int = USER
) -> Pressed:
    answers, edits, sent = len(server.callback_answers), len(server.edits), len(server.calls)
    server.push_update(server.callback_query(chat, message_id, data, user))
    await settle(server, app)
    new_calls = server.calls[sent:]
    assert all(c.method != "sendMessage" for c in new_calls), "a press never sends a message"
    new_answers = server.callback_answers[answers:]
    assert len(new_answers) == 1, "every press is answered exactly once"
    new_edits = server.edits[edits:]
    for edit in new_edits:
        assert edit.method == "editMessageText"
        assert edit.params["chat_id"] == chat and edit.params["message_id"] == message_id
    return Pressed(new_answers[0], new_edits)


def current(server: FakeBotApi, chat: int, message_id: int) -> dict[str, Any]:
    message = server.message(chat, message_id)
    assert message is not None
    return message


async def test_next_and_previous_walk_the_results_in_place(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    answer = await send(fake_botapi, app, QUESTION)
    shown = [answer.text]
    message_id = answer.message_id
    state: dict[str, Any] = answer.message
    while "Next ▶" in button_data(state):
        pressed = await press(fake_botapi, app, USER, message_id, button_data(state)["Next ▶"])
        assert "text" not in pressed.answer  # a silent acknowledgement
        state = pressed.message
        shown.append(pressed.text)
    assert len(shown) == 4 == len(set(shown))
    for number, text in enumerate(shown, start=1):
        assert text.endswith(f" · {number}/4")
        assert text.split("\n")[-1].startswith(f"{DOCUMENT} › ")
    assert "◀ Previous" in button_data(state)
    while "◀ Previous" in button_data(state):
        back = await press(fake_botapi, app, USER, message_id, button_data(state)["◀ Previous"])
        state = back.message
    assert state["text"] == shown[0]
    assert current(fake_botapi, USER, message_id)["text"] == shown[0]
    assert len(fake_botapi.sent_messages()) == 1  # everything happened in the one message
    assert_clean(fake_botapi, caplog)


async def test_full_paragraph_and_its_neighbours(
    fake_botapi: FakeBotApi, app: App, essay: Essay, caplog: pytest.LogCaptureFixture
) -> None:
    answer = await send(fake_botapi, app, QUESTION)
    message_id = answer.message_id
    full = await press(fake_botapi, app, USER, message_id, button_data(answer)["¶ Full paragraph"])
    paragraphs = essay.retriever.store.paragraphs
    dual_track = next(p for p in paragraphs if p.section_title == DUAL_TRACK)
    assert full.text.startswith(dual_track.text[:200])
    assert dual_track.text in full.text
    assert full.text.endswith(f"{DOCUMENT} › {DUAL_TRACK} · ¶1")
    kinds = {e["type"] for e in full.message.get("entities", [])}
    assert "expandable_blockquote" in kinds  # a long paragraph is folded
    assert "bold" in kinds  # the quoted sentence stands out
    buttons = button_data(full.message)
    assert set(buttons) == {"◀ ¶ before", "§ Section"}  # the essay's last paragraph
    before = await press(fake_botapi, app, USER, message_id, buttons["◀ ¶ before"])
    assert before.text.startswith(paragraphs[dual_track.row - 1].text[:100])
    assert before.text.endswith(f"{DOCUMENT} › opening · ¶3")
    after_buttons = button_data(before.message)
    assert {"◀ ¶ before", "¶ after ▶", "§ Section"} == set(after_buttons)
    again = await press(fake_botapi, app, USER, message_id, after_buttons["¶ after ▶"])
    assert again.text == full.text
    first = before
    while "◀ ¶ before" in button_data(first.message):
        first = await press(
            fake_botapi, app, USER, message_id, button_data(first.message)["◀ ¶ before"]
        )
    assert first.text.endswith(f"{DOCUMENT} › opening · ¶1")
    assert "◀ ¶ before" not in button_data(first.message)
    assert len(fake_botapi.sent_messages()) == 1
    assert_clean(fake_botapi, caplog)


async def test_section_view_and_its_paragraph_buttons(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    answer = await send(fake_botapi, app, QUESTION)
    section = await press(
        fake_botapi, app, USER, answer.message_id, button_data(answer)["§ Section"]
    )
    assert section.text.startswith(f"{DUAL_TRACK}\n{DOCUMENT}\n\n¶1 Chinese diplomats")
    assert list(button_data(section.message)) == ["¶1"]
    paragraph = await press(
        fake_botapi, app, USER, answer.message_id, button_data(section.message)["¶1"]
    )
    assert paragraph.text.startswith("Chinese diplomats")
    back = await press(
        fake_botapi, app, USER, answer.message_id, button_data(paragraph.message)["§ Section"]
    )
    assert back.text == section.text
    assert_clean(fake_botapi, caplog)


async def test_every_section_of_the_contents_opens_including_the_empty_one(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    toc = await send(fake_botapi, app, "/sections")
    texts: dict[str, str] = {}
    for label, data in button_data(toc).items():
        # Each press starts from the contents, as a user re-opening /sections would.
        fresh = await send(fake_botapi, app, "/sections")
        pressed = await press(fake_botapi, app, USER, fresh.message_id, data)
        texts[label] = pressed.text
        if label == f"§ {EMPTY_SECTION}":
            assert pressed.text.startswith(f"{EMPTY_SECTION}\n{DOCUMENT}")
            assert "no text" in pressed.text
        else:
            assert "¶1 " in pressed.text
            assert button_data(pressed.message)
    assert texts["§ opening"].startswith(f"opening\n{DOCUMENT}")
    assert texts["§ opening"].count("\n¶") == 3
    assert_clean(fake_botapi, caplog)


async def test_off_topic_section_suggestions_open(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    refusal = await send(fake_botapi, app, OFF_TOPIC)
    data = button_data(refusal)[f"§ {DUAL_TRACK}"]
    pressed = await press(fake_botapi, app, USER, refusal.message_id, data)
    assert pressed.text.startswith(DUAL_TRACK)
    assert_clean(fake_botapi, caplog)


async def test_pressing_the_same_button_twice_is_harmless(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    answer = await send(fake_botapi, app, QUESTION)
    for label in ("Next ▶", "¶ Full paragraph", "§ Section"):
        data = button_data(answer)[label]
        first = await press(fake_botapi, app, USER, answer.message_id, data)
        assert len(first.edits) == 1
        second = await press(fake_botapi, app, USER, answer.message_id, data)
        assert second.edits == []  # nothing to change: no "message is not modified" error
        assert "text" not in second.answer
    toc = await send(fake_botapi, app, "/sections")
    empty = button_data(toc)[f"§ {EMPTY_SECTION}"]
    await press(fake_botapi, app, USER, toc.message_id, empty)
    assert (await press(fake_botapi, app, USER, toc.message_id, empty)).edits == []
    assert_clean(fake_botapi, caplog)


async def test_a_double_tap_edits_once(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    """Two presses of one button arrive together, both carrying the message before the edit."""
    answer = await send(fake_botapi, app, f"/ask {QUESTION}", chat=GROUP)
    data = button_data(answer)["Next ▶"]
    fake_botapi.push_update(fake_botapi.callback_query(GROUP, answer.message_id, data, USER))
    fake_botapi.push_update(fake_botapi.callback_query(GROUP, answer.message_id, data, USER + 1))
    await settle(fake_botapi, app)
    assert len(fake_botapi.callback_answers) == 2
    assert len(fake_botapi.edits) == 1  # the second press saw the edit under way
    assert current(fake_botapi, GROUP, answer.message_id)["text"].endswith(" · 2/4")
    assert_clean(fake_botapi, caplog)


FORGED = [
    "r9:zzz",
    "p:000000000000",
    "s:000000000000",
    "t:00000000:0",
    "t:874db4eb:99",
    "r0:000000000000-",
    "r3:0123456789ab-",
    "p:0123456789ab\n",
    "more:1",
    "x" * 64,
    "é" * 32,
    "🧨" * 16,
]


def random_data(seed: int) -> str:
    rng = random.Random(seed)
    raw = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
    text = raw.decode("utf-8", "replace")
    while len(text.encode("utf-8")) > 64:
        text = text[:-1]
    return text or "?"


@pytest.mark.parametrize("data", FORGED + [random_data(seed) for seed in range(4)])
async def test_stale_or_forged_data_gets_a_polite_answer(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture, data: str
) -> None:
    answer = await send(fake_botapi, app, QUESTION)
    before = current(fake_botapi, USER, answer.message_id)
    pressed = await press(fake_botapi, app, USER, answer.message_id, data)
    assert pressed.answer.get("text") == STALE_BUTTON
    assert pressed.edits == []
    assert current(fake_botapi, USER, answer.message_id) == before
    assert not [r for r in caplog.records if r.levelname == "ERROR"]
    # ... and the next, genuine press still works.
    good = await press(fake_botapi, app, USER, answer.message_id, button_data(answer)["Next ▶"])
    assert good.text.endswith(" · 2/4")
    assert_clean(fake_botapi, caplog)


async def test_a_press_without_data_is_answered(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    """A game button or an old keyboard can send a callback query with no data at all."""
    answer = await send(fake_botapi, app, QUESTION)
    update = fake_botapi.callback_query(USER, answer.message_id, "x", USER)
    del update["callback_query"]["data"]
    answers = len(fake_botapi.callback_answers)
    fake_botapi.push_update(update)
    await settle(fake_botapi, app)
    assert fake_botapi.callback_answers[answers:] == [
        {"callback_query_id": update["callback_query"]["id"], "text": STALE_BUTTON}
    ]
    assert_clean(fake_botapi, caplog)


async def test_a_failing_edit_is_logged_and_the_user_told(
    fake_botapi: FakeBotApi, app: App, caplog: pytest.LogCaptureFixture
) -> None:
    answer = await send(fake_botapi, app, QUESTION)
    data = button_data(answer)["Next ▶"]
    fake_botapi.fail_next(
        "editMessageText",
        1,
        error_code=400,
        retry_after=None,
        description="Bad Request: message to edit not found",
    )
    sent = await exchange(
        fake_botapi, app, fake_botapi.callback_query(USER, answer.message_id, data, USER)
    )
    assert [m.text for m in sent] == [SOMETHING_WRONG]
    assert len(fake_botapi.callback_answers) == 1
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1 and "to edit not found" in str(errors[0].exc_info)
    # The failed edit is forgotten: pressing again really edits.
    assert (await press(fake_botapi, app, USER, answer.message_id, data)).text.endswith("2/4")
    assert_clean(fake_botapi, caplog)
