"""A fake Telegram Bot API server (spec-validated) for tests; see server.FakeBotApi."""

from .faults import FloodStats
from .limits import ApiError
from .server import Call, FakeBotApi, SentMessage
from .spec import (
    BotApiSpec,
    BotApiSpecNotFoundError,
    default_spec_path,
    load_spec,
    require_spec,
)
from .telegram_html import (
    ParsedText,
    TelegramHtmlError,
    parse_telegram_html,
    parse_telegram_html_entities,
    text_length_after_parsing,
    utf16_len,
)

__all__ = [
    "ApiError",
    "BotApiSpec",
    "BotApiSpecNotFoundError",
    "Call",
    "FakeBotApi",
    "FloodStats",
    "ParsedText",
    "SentMessage",
    "TelegramHtmlError",
    "default_spec_path",
    "load_spec",
    "parse_telegram_html",
    "parse_telegram_html_entities",
    "require_spec",
    "text_length_after_parsing",
    "utf16_len",
]
