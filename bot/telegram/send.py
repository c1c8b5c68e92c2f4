"""Sending a rendered Reply: its buttons as an inline keyboard, threaded as a chat expects."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, WebAppInfo
from telegram.constants import ChatType

from bot.render.reply import Button, Reply


def _button(button: Button, private: bool) -> InlineKeyboardButton:
    if not button.url:
        return InlineKeyboardButton(button.text, callback_data=button.callback_data)
    # A link to the web reader: in a private chat it opens inside Telegram as a Mini App
    # (Telegram allows web_app buttons only there, and only over HTTPS); elsewhere a URL.
    if private and button.url.startswith("https://"):
        return InlineKeyboardButton(button.text, web_app=WebAppInfo(button.url))
    return InlineKeyboardButton(button.text, url=button.url)


def keyboard(reply: Reply, private: bool = False) -> InlineKeyboardMarkup | None:
    """The reply's buttons; `private`: the chat is a private one (Mini App links allowed)."""
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup([[_button(b, private) for b in row] for row in reply.buttons])


def is_private(message: Message) -> bool:
    return message.chat.type == ChatType.PRIVATE


async def send(message: Message, reply: Reply) -> Message:
    # Threaded to the asker's message in groups (still sent if they deleted it meanwhile);
    # a plain reply in a private chat.
    private = is_private(message)
    return await message.reply_text(
        reply.html,
        reply_markup=keyboard(reply, private),
        do_quote=not private,
        allow_sending_without_reply=True,
    )
