"""Footnote on Telegram: thin handlers over the engine; all wiring in build_application()."""

from __future__ import annotations

import asyncio
import html
import logging
import re
import signal
from functools import partial
from typing import Any

from telegram import (
    BotCommand,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    Update,
)
from telegram.constants import ChatType, ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot.config import Settings
from bot.errors import CallbackDataError
from bot.redaction import redact_secrets
from bot.render.callbacks import decode
from bot.render.presses import passage_reply, render_press
from bot.render.reply import (
    Reply,
    about_reply,
    answer_reply,
    format_hit,
    inline_description,
    plain_text,
    section_label,
    toc_reply,
)
from bot.search.engine import Engine, RateLimiter
from bot.telegram.resilience import (
    FairUpdateProcessor,
    ResilientRateLimiter,
    TolerantUpdatesRequest,
)

logger = logging.getLogger(__name__)

COMMANDS: tuple[tuple[str, str, str], ...] = (
    ("ask", "<question>", "Ask a question; I quote the passage that answers it"),
    ("cite", "<phrase>", "Find where a phrase stands (or reply to a message with /cite)"),
    ("sections", "", "The table of contents"),
    ("about", "", "The documents I quote from"),
    ("help", "", "How to use Footnote"),
    ("start", "", "Welcome"),
)
RESULTS_PER_QUESTION = 4
INLINE_RESULTS = 5
INLINE_MIN_CHARS = 3
INLINE_DEBOUNCE = 0.3
INLINE_HELP = "inline-help"  # the deep-link payload of the inline mode's hint buttons
RATE_LIMITED = "You're asking faster than I can quote. Give me a few seconds, then ask again."
STALE_BUTTON = "This button has expired. Ask the question again."
SHOWN_MEMORY = 1024  # messages whose last button edit is remembered, to absorb double taps
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


def _engine(context: ContextTypes.DEFAULT_TYPE) -> Engine:
    engine: Engine = context.bot_data["engine"]
    return engine


def _markup(reply: Reply) -> InlineKeyboardMarkup | None:
    if not reply.buttons:
        return None
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(b.text, callback_data=b.callback_data) for b in row]
            for row in reply.buttons
        ]
    )


async def _send(message: Message, reply: Reply) -> None:
    # Threaded to the asker's message in groups (still sent if they deleted it meanwhile);
    # a plain reply in a private chat.
    await message.reply_text(
        reply.html,
        reply_markup=_markup(reply),
        do_quote=message.chat.type != ChatType.PRIVATE,
        allow_sending_without_reply=True,
    )


def _allowed(context: ContextTypes.DEFAULT_TYPE, update: Update) -> bool:
    limiter: RateLimiter = context.bot_data["rate_limiter"]
    user = update.effective_user
    return user is None or limiter.allow(user.id)


async def _answer_question(
    update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, may_be_quote: bool = False
) -> None:
    message = update.effective_message
    if message is None:
        return
    if not _allowed(context, update):
        await _send(message, Reply(RATE_LIMITED))
        return
    engine = _engine(context)
    # Free text may be a pasted phrase: locate it first (with the phrase highlighted); a
    # question rarely matches a passage that closely, and when it does the passage answers it.
    if may_be_quote:
        answer = await engine.cite_or_ask(text, RESULTS_PER_QUESTION)
    else:
        answer = await engine.ask(text, RESULTS_PER_QUESTION)
    await _send(message, answer_reply(answer))


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Welcome, or open the passage a deep link names."""
    message = update.effective_message
    if message is None:
        return
    welcome = "<b>Footnote</b> quotes the essay, never paraphrases it.\n\n"
    if context.args:
        reply = passage_reply(_engine(context).library, context.args[0])
        if reply is not None:
            await _send(message, reply)
            return
        if context.args[0] != INLINE_HELP:
            # One message, not two: the notice, then the usual welcome.
            welcome = "That link points to a passage that is no longer here.\n\n" + welcome
    await _send(message, Reply(welcome + help_text(context.bot.username)))


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the commands."""
    if update.effective_message:
        await _send(update.effective_message, Reply(help_text(context.bot.username)))


async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer /ask <question>."""
    message = update.effective_message
    if message is None:
        return
    question = " ".join(context.args or [])
    if not question:
        await _send(
            message,
            Reply("Usage: /ask &lt;question&gt; — e.g. /ask What is the dual track proposal?"),
        )
        return
    await _answer_question(update, context, question)


async def cite(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Find where a phrase stands; with no phrase, the message replied to."""
    message = update.effective_message
    if message is None:
        return
    phrase = " ".join(context.args or [])
    replied = message.reply_to_message
    if not phrase and replied is not None and (replied.text or replied.caption):
        if not _allowed(context, update):
            await _send(message, Reply(RATE_LIMITED))
            return
        answer = await _engine(context).cite_or_ask(replied.text or replied.caption or "")
        await _send(message, answer_reply(answer))
        return
    if not phrase:
        await _send(
            message,
            Reply(
                "Usage: /cite &lt;phrase&gt;, or reply to a message with /cite "
                "to find what it quotes."
            ),
        )
        return
    if not _allowed(context, update):
        await _send(message, Reply(RATE_LIMITED))
        return
    await _send(message, answer_reply(await _engine(context).cite(phrase, RESULTS_PER_QUESTION)))


async def sections(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the table of contents."""
    if update.effective_message:
        await _send(update.effective_message, toc_reply(_engine(context).library.sections()))


async def about(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Describe the documents in the corpus."""
    if update.effective_message:
        await _send(update.effective_message, about_reply(_engine(context).library))


async def private_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In a private chat any text is a question (or a pasted phrase)."""
    message = update.effective_message
    if message is None or not message.text:
        return
    await _answer_question(update, context, message.text, may_be_quote=True)


def _mentions_bot(message: Message, username: str) -> bool:
    mentions = message.parse_entities([MessageEntity.MENTION])
    return any(m.lower() == f"@{username.lower()}" for m in mentions.values())


def _without_mention(text: str, username: str) -> str:
    """The question in "@bot, what is…?" / "Hey @Bot: what is…?": the mention (and the comma
    or colon after it) removed."""
    mention = re.compile(rf"(?<![\w@])@{re.escape(username)}(?!\w)[,:;]?", re.IGNORECASE)
    return " ".join(mention.sub(" ", text).split())


async def group_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """In groups, answer only when addressed: a reply to the bot or an @mention."""
    message = update.effective_message
    if message is None or not message.text:
        return
    username = context.bot.username
    replied = message.reply_to_message
    to_bot = (
        replied is not None
        and replied.from_user is not None
        and replied.from_user.id == context.bot.id
    )
    if not (to_bot or _mentions_bot(message, username)):
        return
    question = _without_mention(message.text, username)
    if not question:
        await _send(message, Reply(f"Ask me something after @{html.escape(username)}."))
        return
    await _answer_question(update, context, question, may_be_quote=True)


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice: explain in private chats, stay silent in groups."""
    message = update.effective_message
    if message is not None and message.chat.type == ChatType.PRIVATE:
        await _send(message, Reply("I can only read text. Send me a question about the essay."))


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Next/previous result, full paragraph, neighbours, section: edit the message in place."""
    query = update.callback_query
    if query is None:
        return
    try:
        press = decode(query.data)
    except CallbackDataError:
        await query.answer(STALE_BUTTON)
        return
    reply = render_press(_engine(context).library, press)
    if reply is None:
        await query.answer(STALE_BUTTON)
        return
    await query.answer()
    message = query.message
    markup = _markup(reply)
    if isinstance(message, Message) and _same_content(message, reply, markup):
        return  # Telegram refuses an edit that changes nothing
    # A double tap sends two presses carrying the same, older message: the second must not
    # repeat the edit the first one is already making.
    key = (message.chat.id, message.message_id) if message is not None else None
    shown: dict[tuple[int, int], Reply] = context.bot_data.setdefault("shown", {})
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


async def inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Offer quote cards for @bot <question or phrase>."""
    query = update.inline_query
    if query is None:
        return
    text = query.query.strip()
    if len(text) < INLINE_MIN_CHARS:
        hint = InlineQueryResultsButton(
            text="Type a question or a phrase from the essay", start_parameter=INLINE_HELP
        )
        await query.answer([], button=hint, cache_time=300)
        return
    # Clients send a query per keystroke: answer only the latest one a user typed.
    latest: dict[int, str] = context.bot_data.setdefault("inline_latest", {})
    latest[query.from_user.id] = query.id
    await asyncio.sleep(context.bot_data.get("inline_debounce", INLINE_DEBOUNCE))
    if latest.get(query.from_user.id) != query.id:
        return
    latest.pop(query.from_user.id, None)
    answer = await _engine(context).cite_or_ask(text, INLINE_RESULTS)
    results = [
        InlineQueryResultArticle(
            id=f"{position}-{hit.passage.id}",
            title=section_label(hit.passage.section_title) + f" · ¶{hit.passage.paragraph_no}",
            description=inline_description(hit),
            input_message_content=InputTextMessageContent(
                format_hit(hit), parse_mode=ParseMode.HTML
            ),
        )
        for position, hit in enumerate(answer.hits if answer.found else ())
    ]
    if not results:
        nothing = InlineQueryResultsButton(
            text="Not in the essay — open Footnote", start_parameter=INLINE_HELP
        )
        await query.answer([], button=nothing, cache_time=60)
        return
    await query.answer(results, cache_time=300)


async def reload_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Rebuild the index in the background and swap it in (admins only)."""
    message = update.effective_message
    settings: Settings = context.bot_data["settings"]
    user = update.effective_user
    if message is None:
        return
    if user is None or user.id not in settings.admin_ids:
        await _send(message, Reply("Only the bot's administrators can reload the index."))
        return
    await _send(message, Reply("Reloading the index; questions are still answered meanwhile."))
    try:
        summary = await reload_index(context.application)
    except Exception as exc:
        logger.exception("reload failed")
        await _send(message, Reply(f"Reload failed: {html.escape(str(exc))}"))
        return
    await _send(message, Reply(html.escape(summary)))


async def reload_index(application: Application[Any, Any, Any, Any, Any, Any]) -> str:
    """Rebuild if the corpus changed, then swap the new index in atomically."""
    from bot.search.retriever import open_retriever

    lock: asyncio.Lock = application.bot_data.setdefault("reload_lock", asyncio.Lock())
    settings: Settings = application.bot_data["settings"]
    engine: Engine = application.bot_data["engine"]
    async with lock:
        retriever, report = await asyncio.to_thread(
            partial(
                open_retriever,
                settings.corpus_dir,
                settings.index_dir,
                settings.model,
                config=engine.retriever.config,
                keep_previous=False,  # the engine keeps serving the old index; say it failed
            )
        )
        engine.swap(retriever)
    state = f"rebuilt ({report.reason})" if report.rebuilt else "already up to date"
    problems = "".join(f"\nSkipped {p.path}: {p.reason}" for p in report.problems)
    return f"Index {state}: {report.documents} documents, {report.passages} passages.{problems}"


async def error_handler(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
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


async def post_init(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    await application.bot.set_my_commands(
        [BotCommand(name, description) for name, _, description in COMMANDS]
    )
    if application.bot_data.get("reload_on_sighup"):
        loop = asyncio.get_running_loop()
        loop.add_signal_handler(signal.SIGHUP, _reload_in_background, application)


def _reload_in_background(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    async def reload() -> None:
        try:
            logger.info("SIGHUP: %s", await reload_index(application))
        except Exception:
            logger.exception("SIGHUP reload failed; still serving the previous index")

    application.create_task(reload())


def build_application(
    settings: Settings,
    engine: Engine,
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] | None = None,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """All the wiring: the Telegram application with every handler."""
    # Before anything can log the Bot API URL: no log record may carry the token.
    redact_secrets(settings.require_token(), settings.webhook_secret)
    builder = builder or ApplicationBuilder()
    builder = (
        builder.token(settings.require_token())
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        # Flood limits, retries of transient failures, an inline lane, tolerant polling:
        # see bot/resilience.py.
        .rate_limiter(ResilientRateLimiter())
        .concurrent_updates(FairUpdateProcessor(chat_lanes=64))
        .get_updates_request(TolerantUpdatesRequest())
        .post_init(post_init)
    )
    if settings.telegram_base_url:
        base = settings.telegram_base_url.rstrip("/")
        builder = builder.base_url(f"{base}/bot").base_file_url(f"{base}/file/bot")
    application = builder.build()
    application.bot_data["engine"] = engine
    application.bot_data["settings"] = settings
    application.bot_data["rate_limiter"] = RateLimiter(
        settings.user_rate_limit, settings.user_rate_window
    )

    fresh = filters.UpdateType.MESSAGE  # edited messages are not questions
    application.add_handler(CommandHandler("start", start, filters=fresh))
    application.add_handler(CommandHandler("help", help_command, filters=fresh))
    application.add_handler(CommandHandler("ask", ask, filters=fresh))
    application.add_handler(CommandHandler("cite", cite, filters=fresh))
    application.add_handler(CommandHandler("sections", sections, filters=fresh))
    application.add_handler(CommandHandler("about", about, filters=fresh))
    application.add_handler(CommandHandler("reload", reload_command, filters=fresh))
    text = fresh & filters.TEXT & ~filters.COMMAND
    application.add_handler(MessageHandler(text & filters.ChatType.PRIVATE, private_text))
    application.add_handler(MessageHandler(text & filters.ChatType.GROUPS, group_text))
    not_a_question = fresh & ~filters.TEXT & ~filters.StatusUpdate.ALL  # no service messages
    application.add_handler(MessageHandler(not_a_question, not_text))
    application.add_handler(CallbackQueryHandler(button))
    application.add_handler(InlineQueryHandler(inline_query))
    application.add_error_handler(error_handler)
    return application


ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.CALLBACK_QUERY,
    Update.INLINE_QUERY,
    Update.EDITED_MESSAGE,
]
