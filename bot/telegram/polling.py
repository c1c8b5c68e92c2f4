"""Polling that survives malformed updates: ``TolerantUpdatesRequest`` (getUpdates transport).

A ``BaseRequest`` for getUpdates (python-telegram-bot's extension point for it, wired in by
build_application), it drops updates that python-telegram-bot cannot parse.  Without it one
malformed update makes every getUpdates call fail to parse, the offset never advances, and
the bot re-fetches the same batch forever, answering nothing.  It also replaces lone UTF-16
surrogates (valid JSON escapes, not text) by U+FFFD, so that quoting a user's text back can
always be encoded.  The webhook (bot/telegram/webhook.py) checks each update it receives with
the same two functions, ``scrub_surrogates`` and ``unparsable_update``.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from telegram import Update
from telegram.request import BaseRequest, HTTPXRequest, RequestData

logger = logging.getLogger(__name__)


class TolerantUpdatesRequest(HTTPXRequest):
    """getUpdates transport that replaces unparsable updates by empty ones (same update_id).

    The empty update matches no handler, and its id still advances the polling offset.
    """

    def __init__(self, connection_pool_size: int = 1, **kwargs: Any) -> None:
        super().__init__(connection_pool_size=connection_pool_size, **kwargs)
        self.dropped = 0

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = BaseRequest.DEFAULT_NONE,
        write_timeout: Any = BaseRequest.DEFAULT_NONE,
        connect_timeout: Any = BaseRequest.DEFAULT_NONE,
        pool_timeout: Any = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        code, payload = await super().do_request(
            url,
            method,
            request_data=request_data,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            connect_timeout=connect_timeout,
            pool_timeout=pool_timeout,
        )
        if code == 200 and url.endswith("/getUpdates"):
            payload = self._sanitize(payload)
        return code, payload

    def _sanitize(self, payload: bytes) -> bytes:
        try:
            body = json.loads(payload.decode("utf-8", "replace"))
        except ValueError:
            return payload  # PTB reports an unparsable answer itself
        updates = body.get("result") if isinstance(body, dict) else None
        if not isinstance(updates, list):
            return payload
        changed = False
        if b"\\ud" in payload.lower():  # JSON escapes of UTF-16 surrogates (emoji have pairs)
            updates, changed = scrub_surrogates(updates)
        for position, raw in enumerate(updates):
            problem = unparsable_update(raw)
            if problem is None:
                continue
            update_id = raw.get("update_id") if isinstance(raw, dict) else None
            if not isinstance(update_id, int):
                # Without an id the offset cannot move past it: nothing sensible to keep.
                logger.error("getUpdates returned an update without an id; dropped")
                continue
            logger.warning("dropped unparsable update %d: %s", update_id, problem)
            updates[position] = {"update_id": update_id}
            self.dropped += 1
            changed = True
        body["result"] = [u for u in updates if isinstance(u, dict) and "update_id" in u]
        if not changed and len(body["result"]) == len(updates):
            return payload
        return json.dumps(body).encode("utf-8")


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def scrub_surrogates(value: Any) -> tuple[Any, bool]:
    """``value`` with lone UTF-16 surrogates (valid JSON escapes, but not text: they cannot be
    encoded again to answer) replaced by U+FFFD, and whether anything was replaced."""
    if isinstance(value, str):
        scrubbed = _LONE_SURROGATE.sub("\ufffd", value)
        return scrubbed, scrubbed != value
    if isinstance(value, list):
        items = [scrub_surrogates(item) for item in value]
        return [item for item, _ in items], any(changed for _, changed in items)
    if isinstance(value, dict):
        fields = {key: scrub_surrogates(item) for key, item in value.items()}
        scrubbed_fields = {key: item for key, (item, _) in fields.items()}
        return scrubbed_fields, any(changed for _, changed in fields.values())
    return value, False


def unparsable_update(raw: object) -> str | None:
    """Why python-telegram-bot cannot turn ``raw`` into an Update, or None if it can."""
    if not isinstance(raw, dict):
        return f"not an object ({type(raw).__name__})"
    if not isinstance(raw.get("update_id"), int) or isinstance(raw.get("update_id"), bool):
        return "update_id is missing or not an integer"
    try:
        Update.de_json(raw, None)
    except Exception as error:
        return f"{type(error).__name__}: {str(error)[:200]}"
    return None
