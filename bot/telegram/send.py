"""Sending a rendered Reply: its buttons as an inline keyboard, threaded as a chat expects."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.constants import ChatType

from bot.render.reply import Reply


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.text, callback_data=b.callback_data) for b in row]
            for row in reply.buttons
        ]
    )


async def send(message: Message, reply: Reply) -> None:
    # Threaded to the asker's message in groups (still sent if they deleted it meanwhile);
    # a plain reply in a private chat.
    await message.reply_text(
        reply.html,
        reply_markup=keyboard(reply),
        do_quote=message.chat.type != ChatType.PRIVATE,
        allow_sending_without_reply=True,
    )
