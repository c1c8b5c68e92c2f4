"""What the fake Bot API recorded: each request with its answer, and sent messages."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

__all__ = ["Call", "RecordedTraffic", "SentMessage"]


class Call(NamedTuple):
    """One request: canonical method name, decoded params (raw ones if undecodable), answer."""

    method: str
    params: dict[str, Any]
    response: dict[str, Any]

    @property
    def ok(self) -> bool:
        return bool(self.response.get("ok"))


@dataclass
class SentMessage:
    """A successful sendMessage: what the bot asked for and the Message it got back."""

    params: dict[str, Any]
    message: dict[str, Any]

    @property
    def text(self) -> str:
        """Plain text after parse_mode parsing (what the user sees)."""
        return str(self.message["text"])

    @property
    def raw_text(self) -> str:
        """The text parameter as sent (e.g. with HTML tags)."""
        return str(self.params["text"])

    @property
    def chat_id(self) -> int:
        return int(self.message["chat"]["id"])

    @property
    def message_id(self) -> int:
        return int(self.message["message_id"])

    @property
    def parse_mode(self) -> str | None:
        return self.params.get("parse_mode")

    @property
    def reply_markup(self) -> dict[str, Any] | None:
        return self.params.get("reply_markup")

    @property
    def entities(self) -> list[dict[str, Any]]:
        return list(self.message.get("entities", []))

    @property
    def reply_to_message_id(self) -> int | None:
        reply = self.message.get("reply_to_message")
        return int(reply["message_id"]) if reply else None


class RecordedTraffic:
    """Queries over the requests the fake answered; mixed into FakeBotApi."""

    calls: list[Call]
    violations: list[str]

    def calls_of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method.lower() == method.lower()]

    def sent_messages(self, chat_id: int | None = None) -> list[SentMessage]:
        """Successful sendMessage calls, optionally only those to ``chat_id``."""
        sent = [SentMessage(c.params, c.response["result"]) for c in self._ok("sendMessage")]
        return [s for s in sent if chat_id is None or s.chat_id == chat_id]

    @property
    def edits(self) -> list[Call]:
        """Successful editMessageText / editMessageReplyMarkup calls."""
        names = ("editMessageText", "editMessageReplyMarkup")
        return [c for c in self.calls if c.method in names and c.ok]

    @property
    def callback_answers(self) -> list[dict[str, Any]]:
        return [c.params for c in self._ok("answerCallbackQuery")]

    @property
    def inline_answers(self) -> list[dict[str, Any]]:
        return [c.params for c in self._ok("answerInlineQuery")]

    def _ok(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.ok]

    def assert_no_violations(self) -> None:
        assert not self.violations, "Bot API violations:\n" + "\n".join(self.violations)
