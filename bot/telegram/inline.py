"""Inline mode: quote cards for "@bot <question or phrase>", typed in any chat.

Clients send a query per keystroke, so each user's queries are debounced: a query is answered
only if it is still that user's latest one ``INLINE_DEBOUNCE`` seconds after it arrived
(InlineDebounce).  Queries superseded even before they get a lane are skipped by the update
processor (bot/telegram/lanes.py).
"""

from __future__ import annotations

import asyncio

from telegram import (
    InlineQuery,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
)
from telegram.constants import ParseMode

from bot.render.reply import (
    Reply,
    format_hit,
    inline_description,
    inline_refusal,
    inline_title,
    reader_button,
    verdict_lead,
)
from bot.search.engine import Engine
from bot.telegram.send import keyboard

INLINE_RESULTS = 5
INLINE_MIN_CHARS = 3
INLINE_DEBOUNCE = 0.3
INLINE_HELP = "inline-help"  # the deep-link payload of the inline mode's hint buttons


class InlineDebounce:
    """Of each user's inline queries, only the latest one is answered."""

    def __init__(self, delay: float = INLINE_DEBOUNCE) -> None:
        self.delay = delay
        self._latest: dict[int, str] = {}  # user -> id of the last query they typed

    async def is_latest(self, user_id: int, query_id: str) -> bool:
        """Note ``query_id`` as the user's latest query, wait ``delay`` seconds, and tell
        whether it still is (the user typed nothing more meanwhile)."""
        self._latest[user_id] = query_id
        await asyncio.sleep(self.delay)
        if self._latest.get(user_id) != query_id:
            return False
        self._latest.pop(user_id, None)
        return True


async def answer_inline_query(
    query: InlineQuery,
    engine: Engine,
    debounce: InlineDebounce,
    reader_url: str | None = None,
) -> None:
    """Offer quote cards for @bot <question or phrase> (each with a "Read in context" link
    when the web reader has a public URL; a URL, never a Mini App: cards go to any chat)."""
    text = query.query.strip()
    if len(text) < INLINE_MIN_CHARS:
        hint = InlineQueryResultsButton(
            text="Type a question or a phrase from the essay", start_parameter=INLINE_HELP
        )
        await query.answer([], button=hint, cache_time=300)
        return
    # Clients send a query per keystroke: answer only the latest one a user typed.
    if not await debounce.is_latest(query.from_user.id, query.id):
        return
    answer = await engine.cite_or_ask(text, INLINE_RESULTS)
    results = [
        InlineQueryResultArticle(
            id=f"{position}-{hit.passage.id}",
            title=inline_title(hit, answer),
            description=inline_description(hit),
            # The card posted to the chat keeps the verdict's caution with the quote.
            input_message_content=InputTextMessageContent(
                format_hit(hit, lead=verdict_lead(answer)), parse_mode=ParseMode.HTML
            ),
            reply_markup=keyboard(Reply("", (reader_button(reader_url, hit.passage.id),)))
            if reader_url
            else None,
        )
        for position, hit in enumerate(answer.hits if answer.found else ())
    ]
    if not results:
        nothing = InlineQueryResultsButton(text=inline_refusal(answer), start_parameter=INLINE_HELP)
        await query.answer([], button=nothing, cache_time=60)
        return
    await query.answer(results, cache_time=300)
