"""Footnote on Telegram: all the wiring, in build_application() (handlers live elsewhere)."""

from __future__ import annotations

from typing import Any

from telegram import BotCommand, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    InlineQueryHandler,
    MessageHandler,
    TypeHandler,
)

from bot.config import Settings
from bot.redaction import redact_secrets
from bot.search.engine import Engine
from bot.telegram.buttons import button
from bot.telegram.edits import edited_question
from bot.telegram.flood import ResilientRateLimiter
from bot.telegram.handlers import (
    COMMANDS,
    about,
    ask,
    cite,
    error_handler,
    group_text,
    help_command,
    inline_query,
    not_text,
    private_text,
    rate_limit,
    sections,
    start,
)
from bot.telegram.lanes import FairUpdateProcessor
from bot.telegram.polling import TolerantUpdatesRequest
from bot.telegram.questions import EDITED_TEXT, FRESH, GROUP_TEXT, NOT_TEXT, PRIVATE_TEXT
from bot.telegram.reload import reload_command, reload_on_sighup
from bot.telegram.state import CONTEXT_TYPES, bot_state

# The update kinds the handlers serve; an edited question edits its answer (edits.py).
ALLOWED_UPDATES = [
    Update.MESSAGE,
    Update.EDITED_MESSAGE,
    Update.CALLBACK_QUERY,
    Update.INLINE_QUERY,
]


async def post_init(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    await application.bot.set_my_commands(
        [BotCommand(name, description) for name, _, description in COMMANDS]
    )
    if bot_state(application).reload_on_sighup:
        reload_on_sighup(application)


def build_application(
    settings: Settings,
    engine: Engine,
    builder: ApplicationBuilder[Any, Any, Any, Any, Any, Any] | None = None,
) -> Application[Any, Any, Any, Any, Any, Any]:
    """All the wiring: the Telegram application with every handler."""
    # Before anything can log the Bot API URL: no log record may carry the token.
    redact_secrets(settings.require_token(), settings.webhook_secret)
    builder = (
        (builder or ApplicationBuilder())
        .token(settings.require_token())
        .context_types(CONTEXT_TYPES)  # context.bot_data is a BotState (bot/telegram/state.py)
        .defaults(
            Defaults(
                parse_mode=ParseMode.HTML,
                link_preview_options=LinkPreviewOptions(is_disabled=True),
            )
        )
        # Flood limits and retries, an inline lane, polling that survives malformed updates:
        # see bot/telegram/flood.py, lanes.py and polling.py.
        .rate_limiter(ResilientRateLimiter())
        .concurrent_updates(FairUpdateProcessor(chat_lanes=64))
        .get_updates_request(TolerantUpdatesRequest())
        .post_init(post_init)
    )
    if settings.telegram_base_url:
        # A server root (https://host) or python-telegram-bot's own form (https://host/bot).
        base = settings.telegram_base_url.rstrip("/").removesuffix("/bot")
        builder = builder.base_url(f"{base}/bot").base_file_url(f"{base}/file/bot")
    application = builder.build()
    application.bot_data.attach(engine, settings)

    # Group -1 runs first: a question over its asker's rate limit stops there.
    application.add_handler(TypeHandler(Update, rate_limit), group=-1)
    application.add_handler(CommandHandler("start", start, filters=FRESH))
    application.add_handler(CommandHandler("help", help_command, filters=FRESH))
    application.add_handler(CommandHandler("ask", ask, filters=FRESH))
    application.add_handler(CommandHandler("cite", cite, filters=FRESH))
    application.add_handler(CommandHandler("sections", sections, filters=FRESH))
    application.add_handler(CommandHandler("about", about, filters=FRESH))
    application.add_handler(CommandHandler("reload", reload_command, filters=FRESH))
    application.add_handler(MessageHandler(PRIVATE_TEXT, private_text))
    application.add_handler(MessageHandler(GROUP_TEXT, group_text))
    application.add_handler(MessageHandler(NOT_TEXT, not_text))
    application.add_handler(MessageHandler(EDITED_TEXT, edited_question))
    application.add_handler(CallbackQueryHandler(button))
    application.add_handler(InlineQueryHandler(inline_query))
    application.add_error_handler(error_handler)
    return application
