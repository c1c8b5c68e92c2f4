"""/reload on a library of ~100,000 passages (fake embedder): the rebuild is incremental, and
the bot keeps answering from the old generation until the new one is swapped in, then from the
new one only -- never from a mix, never an error.  About a minute on 2 busy CPUs, most of it
building the library the reload starts from."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from bot.bench.incremental import write_library
from bot.index.build import build_index
from bot.index.embedding import HashingEmbedder
from bot.search.engine import Engine
from bot.search.retriever import Retriever, open_retriever
from bot.telegram.handlers import SOMETHING_WRONG
from bot.telegram.state import bot_state
from tests.botapi.server import FakeBotApi, SentMessage
from tests.helpers.essay import EXTRA_ESSAY, REPO, write_text
from tests.helpers.footnote_bot import button_data
from tests.helpers.ops import build, running
from tests.test_ops import ADMIN, NEW_ESSAY_PHRASE
from tests.test_telegram_buttons import press

LIBRARY_DOCUMENTS = 1_050  # ~96 passages each: 100,695 passages
MIN_PASSAGES = 95_000
PROBES_AFTER_SWAP = 2
FIRST_USER = 750_000
NOT_FOUND = "I can't find"


def quoted(reply: SentMessage) -> bool:
    """The reply quotes a passage (its buttons open the paragraph), rather than refusing."""
    return "¶ Full paragraph" in button_data(reply) and not reply.text.startswith(NOT_FOUND)


def passage_id(reply: SentMessage) -> str:
    """The passage a quote came from, read from its "Full paragraph" button."""
    return button_data(reply)["¶ Full paragraph"].removeprefix("p:")


def library_phrase(corpus: Path) -> str:
    """Eight words that stand in the library's first essay (found in every generation)."""
    text = (corpus / "essay-00001.txt").read_text(encoding="utf-8")
    return " ".join(text.split("\n\n")[1].split()[:8])


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("library")
    write_library(root / "corpus", LIBRARY_DOCUMENTS, REPO / "corpus")
    # Not calibrated, to save a third of the time: the reload under test calibrates.
    build_index(root / "corpus", root / "index", HashingEmbedder(), allow_large=True)
    return root


async def test_reload_of_100k_passages_answers_from_one_generation_at_a_time(
    fake_botapi: FakeBotApi, library: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = time.monotonic()
    server = fake_botapi
    old, report = open_retriever(library / "corpus", library / "index", "fake:hashing")
    assert not report.rebuilt
    old_passages = len(old.store.passages)
    assert old_passages >= MIN_PASSAGES
    application = build(server, old, library, admin_ids=frozenset({ADMIN}))
    engine: Engine = bot_state(application).engine
    swapped: list[Retriever] = []
    swap = engine.swap

    def recording_swap(retriever: Retriever) -> None:
        swapped.append(retriever)
        swap(retriever)

    monkeypatch.setattr(engine, "swap", recording_swap)
    phrase = library_phrase(library / "corpus")
    # (swapped before the probe was asked, the new essay's reply, the library's quote, the
    # generation in service when the probe was asked)
    probes: list[tuple[bool, SentMessage, SentMessage, Retriever]] = []
    user = FIRST_USER
    async with running(application):
        write_text(library / "corpus" / "patience.txt", EXTRA_ESSAY)
        server.push_update(server.private_message(ADMIN, "/reload"))
        await server.wait_for(lambda s: len(s.sent_messages(ADMIN)) == 1, timeout=10)
        after_swap = 0
        while after_swap < PROBES_AFTER_SWAP:
            asked_after_swap = bool(swapped)
            serving = engine.retriever
            users = (user, user + 1)
            user += 2  # fresh users: the probes never meet the per-user rate limit
            server.push_update(server.private_message(users[0], f"/cite {NEW_ESSAY_PHRASE}"))
            server.push_update(server.private_message(users[1], f"/cite {phrase}"))
            await server.wait_for(
                lambda s, users=users: all(s.sent_messages(u) for u in users), timeout=30
            )
            [new_cite] = server.sent_messages(users[0])
            [library_cite] = server.sent_messages(users[1])
            for reply in (new_cite, library_cite):
                assert reply.text != SOMETHING_WRONG
            assert phrase in library_cite.text, library_cite.text  # every generation has it
            if not quoted(new_cite):  # the refusal repeats the phrase: tell them apart
                assert new_cite.text.startswith(NOT_FOUND), new_cite.text
            probes.append((asked_after_swap, new_cite, library_cite, serving))
            after_swap += asked_after_swap
            assert time.monotonic() - started < 300, "the reload never finished"
        await server.wait_for(lambda s: len(s.sent_messages(ADMIN)) == 2, timeout=120)
        summary = server.sent_messages(ADMIN)[1].text
        # A quote shown by the old generation still opens once the new one serves.
        first_quote = probes[0][2]
        data = button_data(first_quote)["¶ Full paragraph"]
        chat = first_quote.chat_id
        full = await press(server, application, chat, first_quote.message_id, data, chat)
        assert phrase in full.text
    [new] = swapped
    new_passages = len(new.store.passages)
    added = new_passages - old_passages
    assert 0 < added < 20  # the short essay
    assert summary.startswith("Indexed 1051 documents, "), summary
    changed = f"(the corpus changed); vectors: {old_passages} reused, {added} embedded, 0 removed."
    assert changed in summary, summary
    found = [quoted(new_cite) for _, new_cite, _, _ in probes]
    during = [flag for (after, *_), flag in zip(probes, found, strict=True) if not after]
    assert during, "no question was answered while the rebuild ran"
    # Old until the swap, new after: the new essay appears once and stays.  Probes go one at
    # a time, so only the last one asked before the swap may be answered after it.
    assert not any(during[:-1]), f"the new essay was quoted before the swap: {found}"
    first_found = found.index(True)
    assert all(found[first_found:]), found
    assert all(flag for (after, *_), flag in zip(probes, found, strict=True) if after)
    for (_, new_cite, library_cite, serving), flag in zip(probes, found, strict=True):
        # Each quote exists in the generation that served it; the new essay's only in the new.
        assert serving.library.passage(passage_id(library_cite)) is not None
        if flag:
            assert new.library.passage(passage_id(new_cite)) is not None
            assert old.library.passage(passage_id(new_cite)) is None
    print(
        f"\n{old_passages} -> {new_passages} passages; {len(during)} probes answered during the "
        f"rebuild; {time.monotonic() - started:.1f} s from opening the library; {summary}"
    )
