"""Button presses: next/previous result, full paragraph, neighbours, section, in place.

A press edits the message that carries the button.  The callback data names what to show
(bot/render/callbacks.py); a press whose passage is no longer in the index, or whose data
cannot be read, gets the STALE_BUTTON notice instead.
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest

from bot.errors import CallbackDataError
from bot.render.callbacks import decode
from bot.render.presses import render_press
from bot.render.reply import Reply, plain_text
from bot.telegram.send import is_private, keyboard
from bot.telegram.state import Context

STALE_BUTTON = "This button has expired. Ask the question again."
SHOWN_MEMORY = 1024  # messages whose last button edit is remembered, to absorb double taps


async def button(update: Update, context: Context) -> None:
    """Next/previous result, full paragraph, neighbours, section: edit the message in place."""
    query = update.callback_query
    if query is None:
        return
    try:
        press = decode(query.data)
    except CallbackDataError:
        await query.answer(STALE_BUTTON)
        return
    state = context.bot_data
    reply = render_press(state.engine.library, press, state.reader_url)
    if reply is None:
        await query.answer(STALE_BUTTON)
        return
    await query.answer()
    message = query.message
    markup = keyboard(reply, isinstance(message, Message) and is_private(message))
    if isinstance(message, Message) and _same_content(message, reply, markup):
        return  # Telegram refuses an edit that changes nothing
    # A double tap sends two presses carrying the same, older message: the second must not
    # repeat the edit the first one is already making.
    key = (message.chat.id, message.message_id) if message is not None else None
    shown = state.shown
    if key is not None and shown.get(key) == reply:
        return
    if key is not None:
        shown.pop(key, None)
        shown[key] = reply
        while len(shown) > SHOWN_MEMORY:
            del shown[next(iter(shown))]
    try:
        await query.edit_message_text(reply.html, reply_markup=markup)
    except Exception as exc:
        if key is not None and shown.get(key) is reply:
            del shown[key]
        if not (isinstance(exc, BadRequest) and "not modified" in str(exc).lower()):
            raise


def _same_content(message: Message, reply: Reply, markup: InlineKeyboardMarkup | None) -> bool:
    return message.text == plain_text(reply.html) and message.reply_markup == markup
