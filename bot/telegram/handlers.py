"""The handlers: thin, flat callbacks over the engine (build_application wires them).

Each reads what it needs from ``context.bot_data`` (a BotState, bot/telegram/state.py) and
answers with a rendered Reply; user text only ever reaches Telegram html.escape'd.  Buttons,
/reload and the inline mode's answers have their own modules.
"""

from __future__ import annotations

import html
import logging

from telegram import Message, Update
from telegram.constants import ChatType
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from bot.render.callbacks import MAX_RESULTS
from bot.render.presses import passage_reply
from bot.render.reply import Reply, about_reply, answer_reply, toc_reply
from bot.search.answer import Answer
from bot.telegram.inline import INLINE_HELP, answer_inline_query
from bot.telegram.limits import RATE_LIMITED, over_limit
from bot.telegram.questions import addressed_question
from bot.telegram.send import send
from bot.telegram.state import Context

logger = logging.getLogger(__name__)

COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("ask", "<question>", "Ask a question (or reply to a message with /ask to check it)"),
    ("cite", "<phrase>", "Find where a phrase stands (or reply to a message with /cite)"),
    ("sections", "", "The table of contents"),
    ("about", "", "The documents I quote from"),
    ("help", "", "How to use Footnote"),
    ("start", "", "Welcome"),
)
# As many results as a reply can page through (its buttons carry their ids).
RESULTS_PER_QUESTION = MAX_RESULTS
SOMETHING_WRONG = "Sorry, something went wrong while answering. Please try again."


def help_text(bot_username: str) -> str:
    lines = [
        "I answer questions about the essays I hold by quoting the passage that answers them, "
        "word for word, with where it stands.",
        "",
        "In this chat, just send a question, or a phrase to look it up.",
        "In groups, use /ask, reply to one of my messages, "
        f"or mention @{html.escape(bot_username)}.",
        f"Anywhere, type @{html.escape(bot_username)} and a question to share a quote.",
        "",
    ]
    for name, args, description in COMMANDS:
        usage = f"/{name} {html.escape(args)}".rstrip()
        lines.append(f"{usage} — {html.escape(description)}")
    return "\n".join(lines)


async def _answer_question(
    message: Message, context: Context, text: str, may_be_quote: bool = False
) -> None:
    engine = context.bot_data.engine
    # Free text may be a pasted phrase: locate it first (with the phrase highlighted); a
    # question rarely matches a passage that closely, and when it does the passage answers it.
    if may_be_quote:
        answer = await engine.cite_or_ask(text, RESULTS_PER_QUESTION)
    else:
        answer = await engine.ask(text, RESULTS_PER_QUESTION)
    await _reply(message, context, answer)


async def _reply(message: Message, context: Context, answer: Answer) -> None:
    """Send the answer to ``message``, remembered so that editing the question edits it."""
    state = context.bot_data
    reply = answer_reply(answer, reader_url=state.reader_url)
    sent = await send(message, reply)
    state.remember_answer(message.chat.id, message.message_id, sent.message_id, reply)


async def rate_limit(update: Update, context: Context) -> None:
    """Before every handler: a question over its asker's limit gets a notice and no answer."""
    if not over_limit(update, context.bot, context.bot_data.limiter):
        return
    try:
        if update.callback_query is not None:
            await update.callback_query.answer(RATE_LIMITED)
        elif update.effective_message is not None:
            await send(update.effective_message, Reply(RATE_LIMITED))
    except Exception as error:  # reported like any handler's error, and still not answered
        await context.application.process_error(update, error)
    raise ApplicationHandlerStop


async def start(update: Update, context: Context) -> None:
    """Welcome, or open the passage a deep link names."""
    message = update.effective_message
    if message is None:
        return
    welcome = "<b>Footnote</b> quotes the essay, never paraphrases it.\n\n"
    if context.args:
        state = context.bot_data
        reply = passage_reply(state.engine.library, context.args[0], state.reader_url)
        if reply is not None:
            await send(message, reply)
            return
        if context.args[0] != INLINE_HELP:
            # One message, not two: the notice, then the usual welcome.
            welcome = "That link points to a passage that is no longer here.\n\n" + welcome
    await send(message, Reply(welcome + help_text(context.bot.username)))


async def help_command(update: Update, context: Context) -> None:
    """List the commands."""
    if update.effective_message:
        await send(update.effective_message, Reply(help_text(context.bot.username)))


async def ask(update: Update, context: Context) -> None:
    """Answer /ask <question>; with no question, the message replied to (a member's claim,
    checked against the essays)."""
    message = update.effective_message
    if message is None:
        return
    question = " ".join(context.args or [])
    replied = message.reply_to_message
    if not question and replied is not None:
        question = replied.text or replied.caption or ""
    if not question:
        await send(
            message,
            Reply(
                "Usage: /ask &lt;question&gt; — e.g. /ask What is the dual track proposal? "
                "Or reply to a message with /ask to check it against the essays."
            ),
        )
        return
    await _answer_question(message, context, question)


async def cite(update: Update, context: Context) -> None:
    """Find where a phrase stands; with no phrase, the message replied to."""
    message = update.effective_message
    if message is None:
        return
    engine = context.bot_data.engine
    phrase = " ".join(context.args or [])
    replied = message.reply_to_message
    if not phrase and replied is not None and (replied.text or replied.caption):
        answer = await engine.cite_or_ask(replied.text or replied.caption or "")
        await _reply(message, context, answer)
        return
    if not phrase:
        await send(
            message,
            Reply(
                "Usage: /cite &lt;phrase&gt;, or reply to a message with /cite "
                "to find what it quotes."
            ),
        )
        return
    await _reply(message, context, await engine.cite(phrase, RESULTS_PER_QUESTION))


async def sections(update: Update, context: Context) -> None:
    """Show the table of contents."""
    if update.effective_message:
        library = context.bot_data.engine.library
        await send(update.effective_message, toc_reply(library.sections()))


async def about(update: Update, context: Context) -> None:
    """Describe the documents in the corpus."""
    if update.effective_message:
        await send(update.effective_message, about_reply(context.bot_data.engine.library))


async def private_text(update: Update, context: Context) -> None:
    """In a private chat any text is a question (or a pasted phrase)."""
    message = update.effective_message
    if message is None or not message.text:
        return
    await _answer_question(message, context, message.text, may_be_quote=True)


async def group_text(update: Update, context: Context) -> None:
    """In groups, answer only when addressed: a reply to the bot or an @mention."""
    message = update.effective_message
    if message is None or not message.text:
        return
    question = addressed_question(message, context.bot)
    if question is None:
        return
    if not question:
        username = html.escape(context.bot.username)
        await send(message, Reply(f"Ask me something after @{username}."))
        return
    await _answer_question(message, context, question, may_be_quote=True)


async def not_text(update: Update, context: Context) -> None:
    """Stickers, photos, voice: explain in private chats, stay silent in groups."""
    message = update.effective_message
    if message is not None and message.chat.type == ChatType.PRIVATE:
        await send(message, Reply("I can only read text. Send me a question about the essay."))


async def inline_query(update: Update, context: Context) -> None:
    """Offer quote cards for @bot <question or phrase> (bot/telegram/inline.py)."""
    if update.inline_query is not None:
        state = context.bot_data
        await answer_inline_query(update.inline_query, state.engine, state.inline, state.reader_url)


async def error_handler(update: object, context: Context) -> None:
    """Log the error with its context and tell the user briefly."""
    kind = type(update).__name__
    summary = ""
    if isinstance(update, Update):
        chat = update.effective_chat
        summary = f"update {update.update_id} in chat {chat.id if chat else '-'}"
    logger.error("error while handling %s %s", kind, summary, exc_info=context.error)
    if isinstance(update, Update) and update.effective_message is not None:
        try:
            await update.effective_message.reply_text(
                SOMETHING_WRONG, parse_mode=None, allow_sending_without_reply=True
            )
        except TelegramError:
            logger.warning("could not tell the user about the error", exc_info=True)
