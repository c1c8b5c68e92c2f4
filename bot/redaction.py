"""Keep the bot token (and the webhook secret) out of every log record.

python-telegram-bot logs the Bot API URL, token included, at DEBUG level when a bot is
created, and httpx logs every request URL at INFO.  Rather than a filter on some handlers, this
redacts each record as it is created, so no handler -- the CLI's, one added later, by a
library, or by a test harness -- can ever see a secret.  The CLI installs it when it configures
logging, the Telegram application again when it is built.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

REDACTED = "<redacted>"
_MIN_SECRET = 8  # never "redact" something short enough to occur by chance

_lock = threading.Lock()
_secrets: tuple[str, ...] = ()
_installed = False


def secret_parts(secret: str) -> list[str]:
    """A secret and, for a bot token, its secret half (it may appear URL-encoded)."""
    parts = [secret]
    _, colon, tail = secret.partition(":")
    if colon and len(tail) >= _MIN_SECRET:
        parts.append(tail)
    return parts


def redact_secrets(*secrets: str | None) -> None:
    """From now on, replace each of ``secrets`` by <redacted> in every new log record."""
    global _secrets, _installed
    found = {p for s in secrets if s and len(s) >= _MIN_SECRET for p in secret_parts(s)}
    with _lock:
        # Longest first: a token is replaced whole before its secret half is looked for.
        _secrets = tuple(sorted(set(_secrets) | found, key=len, reverse=True))
        if _installed or not _secrets:
            return
        previous = logging.getLogRecordFactory()

        def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            redact_record(record)
            return record

        logging.setLogRecordFactory(factory)
        _installed = True


def redact(text: str) -> str:
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def redact_record(record: logging.LogRecord) -> None:
    if not _secrets:
        return
    try:
        message = record.getMessage()
    except Exception:  # a malformed record is logging's problem to report, not ours
        message = None
    if message is not None and redact(message) != message:
        record.msg, record.args = redact(message), None
    if record.exc_info and record.exc_info[1] is not None:
        text = logging.Formatter().formatException(record.exc_info)
        if redact(text) != text:
            record.exc_text, record.exc_info = redact(text), None
    if record.stack_info and redact(record.stack_info) != record.stack_info:
        record.stack_info = redact(record.stack_info)
