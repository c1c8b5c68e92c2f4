"""Typing a sentence into inline mode: keystrokes sent, model calls made, through the real
inline handler (bot/telegram/inline.py) with and without its per-user debounce."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from bot.bench.stats import table

if TYPE_CHECKING:
    from bot.search.retriever import Retriever


class _StubBot:
    """Just enough of a Bot for InlineQuery.answer(): records the answers."""

    def __init__(self) -> None:
        self.answers: list[dict[str, Any]] = []

    async def answer_inline_query(self, *args: Any, **kwargs: Any) -> bool:
        self.answers.append(kwargs)
        return True


async def simulate_typing(
    retriever: Retriever, text: str, keystroke: float, debounce: float
) -> dict[str, Any]:
    """Type `text` one character per `keystroke` seconds into the real inline handler."""
    from telegram import Update

    from bot.search.engine import Engine
    from bot.telegram.inline import InlineDebounce, answer_inline_query

    engine = Engine(retriever)
    bot = _StubBot()
    latest_only = InlineDebounce(debounce)
    tasks: list[asyncio.Task[None]] = []
    started = time.perf_counter()
    for number in range(1, len(text) + 1):
        data = {
            "update_id": number,
            "inline_query": {
                "id": f"q{number}",
                "from": {"id": 4242, "is_bot": False, "first_name": "Typist"},
                "query": text[:number],
                "offset": "",
            },
        }
        query = Update.de_json(data, bot).inline_query  # type: ignore[arg-type]
        assert query is not None
        tasks.append(asyncio.create_task(answer_inline_query(query, engine, latest_only)))
        await asyncio.sleep(keystroke)
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=60 + debounce * len(text))
    answered = [a for a in bot.answers if a.get("results")]
    return {
        "keystrokes": len(text),
        "keystroke_ms": round(keystroke * 1000),
        "debounce_ms": round(debounce * 1000),
        "inline_answers": len(bot.answers),
        "answers_with_results": len(answered),
        "questions_reaching_engine": engine.stats.questions,
        "model_calls": engine.stats.model_calls,
        "seconds": round(time.perf_counter() - started, 3),
    }


async def bench_inline(
    retriever: Retriever, text: str, keystrokes_ms: Sequence[int]
) -> dict[str, Any]:
    from bot.telegram.inline import INLINE_DEBOUNCE

    runs = []
    for keystroke_ms in keystrokes_ms:
        for debounce in (INLINE_DEBOUNCE, 0.0):
            runs.append(await simulate_typing(retriever, text, keystroke_ms / 1000, debounce))
    return {"text": text, "debounce_default_ms": round(INLINE_DEBOUNCE * 1000), "runs": runs}


def format_inline(inline: dict[str, Any]) -> str:
    rows = [
        [
            f"{r['keystroke_ms']} ms/key, debounce {r['debounce_ms']} ms",
            r["keystrokes"],
            r["questions_reaching_engine"],
            r["model_calls"],
            r["inline_answers"],
        ]
        for r in inline["runs"]
    ]
    return "\n".join(
        [
            f"\nInline typing of {inline['text']!r}:",
            table(rows, ["", "keystrokes", "to engine", "model calls", "answers"]),
        ]
    )
