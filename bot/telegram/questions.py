"""Which messages ask a question: what the handlers answer by searching, and the limit counts.

The handlers are dispatched by python-telegram-bot's filters and CommandHandlers
(build_application); the rate limit runs before any of them (bot/telegram/limits.py), so it
decides from the same filters, and from the command as CommandHandler reads it, which updates
are questions: private text, /ask with a question, /cite with a phrase or in reply to a text,
and group messages that address the bot with something to ask.
"""

from __future__ import annotations

import re

from telegram import Bot, Message, MessageEntity, Update
from telegram.constants import ChatType
from telegram.ext import filters

FRESH = filters.UpdateType.MESSAGE  # an edited question edits its answer (bot/telegram/edits.py)
EDITED_TEXT = filters.UpdateType.EDITED_MESSAGE & filters.TEXT
TEXT = FRESH & filters.TEXT & ~filters.COMMAND
PRIVATE_TEXT = TEXT & filters.ChatType.PRIVATE
GROUP_TEXT = TEXT & filters.ChatType.GROUPS
NOT_TEXT = FRESH & ~filters.TEXT & ~filters.StatusUpdate.ALL  # no service messages


def mentions_bot(message: Message, username: str) -> bool:
    mentions = message.parse_entities([MessageEntity.MENTION])
    return any(m.lower() == f"@{username.lower()}" for m in mentions.values())


def without_mention(text: str, username: str) -> str:
    """The question in "@bot, what is…?" / "Hey @Bot: what is…?": the mention (and the comma
    or colon after it) removed."""
    mention = re.compile(rf"(?<![\w@])@{re.escape(username)}(?!\w)[,:;]?", re.IGNORECASE)
    return " ".join(mention.sub(" ", text).split())


def addressed_question(message: Message, bot: Bot) -> str | None:
    """In a group, what a message addressed to the bot (a reply to it or an @mention) asks,
    mention removed (possibly nothing); None when it is not addressed to the bot."""
    replied = message.reply_to_message
    to_bot = (
        replied is not None and replied.from_user is not None and replied.from_user.id == bot.id
    )
    if not (to_bot or mentions_bot(message, bot.username)):
        return None
    return without_mention(message.text or "", bot.username)


def command(message: Message, username: str) -> tuple[str, list[str]] | None:
    """The command at the start of ``message`` and its arguments, read as CommandHandler reads
    them; None if there is none, or it is meant for another bot."""
    entities = message.entities
    text = message.text
    if not (
        entities
        and entities[0].type == MessageEntity.BOT_COMMAND
        and entities[0].offset == 0
        and text
    ):
        return None
    parts = [*text[1 : entities[0].length].split("@"), username]
    if parts[1].lower() != username.lower():
        return None
    return parts[0].lower(), text.split()[1:]


def costs_work(update: Update, bot: Bot) -> bool:
    """Whether answering ``update`` costs a search or walks the index (what the per-user limit
    counts): a question (as question_of reads it), a button press, or /sections."""
    if update.callback_query is not None:
        return True
    message = update.message
    if message is None or not message.text:
        return False
    if not isinstance(message.text, str):  # malformed (a number): only private_text takes it
        return bool(PRIVATE_TEXT.check_update(update))
    asked = command(message, bot.username)
    if asked is not None and asked[0] == "sections":
        return True
    return question_of(message, bot) is not None


def question_of(message: Message, bot: Bot) -> tuple[str, str] | None:
    """What ``message`` asks, as the handlers answer it: ("ask" | "cite" | "cite_or_ask",
    text), or None when it asks nothing (for an edited message: the edited text)."""
    text = message.text
    if not isinstance(text, str) or not text:
        return None
    entities = message.entities
    if entities and entities[0].type == MessageEntity.BOT_COMMAND and entities[0].offset == 0:
        asked = command(message, bot.username)
        if asked is None or asked[0] not in ("ask", "cite"):
            return None
        name, args = asked
        if args:
            return name, " ".join(args)
        replied = message.reply_to_message
        quoted = (replied.text or replied.caption) if replied is not None else None
        if not quoted:
            return None
        return ("ask" if name == "ask" else "cite_or_ask"), quoted
    if message.chat.type == ChatType.PRIVATE:
        return "cite_or_ask", text
    question = addressed_question(message, bot)
    return ("cite_or_ask", question) if question else None
