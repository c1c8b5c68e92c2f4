"""Telegram's HTML parse mode, as a pure validator/parser.

Mirrors https://core.telegram.org/bots/api#html-style: the supported tags, the
four named entities plus numeric ones, and Telegram's error wording ("can't parse
entities: ... at byte offset N", offsets in UTF-8 bytes).  It is deliberately a
little stricter than the real server in two places, because both hide bugs in a
bot that Telegram would silently paper over:

* a bare ``&`` that does not start an entity is an error (Telegram keeps it);
* formatting nested inside ``code``/``pre``, a blockquote inside a blockquote
  and a link inside a link are errors (Telegram drops the inner entity).

Lengths are counted in UTF-16 code units, as Telegram does for its limits and
for entity offsets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "CAPTION_LIMIT",
    "MESSAGE_TEXT_LIMIT",
    "ParsedText",
    "TelegramHtmlError",
    "parse_telegram_html",
    "parse_telegram_html_entities",
    "parse_text",
    "text_length_after_parsing",
    "utf16_len",
]

MESSAGE_TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024

# Tag -> MessageEntity type.  span needs class="tg-spoiler"; a/tg-emoji/code/
# blockquote get their details from attributes below.
_TAG_ENTITY: dict[str, str] = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "tg-emoji": "custom_emoji",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(#[0-9]+|#[xX][0-9a-fA-F]+|[a-zA-Z][a-zA-Z0-9]*);")
_TAG_NAME_RE = re.compile(r"[a-zA-Z][a-zA-Z0-9-]*")
_ATTR_NAME_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_-]*")
_UNQUOTED_VALUE_RE = re.compile(r"[^\s>]+")


class TelegramHtmlError(ValueError):
    """Raised for text Telegram would reject; str() is the text after "Bad Request: "."""


@dataclass
class ParsedText:
    """Plain text after entity parsing plus the MessageEntity dicts Telegram would build."""

    text: str
    entities: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class _Open:
    tag: str
    entity: dict[str, Any] | None  # None: merged into the parent (code inside pre)
    start16: int
    byte_offset: int


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units (what Telegram counts): an emoji outside the BMP is 2."""
    return len(text.encode("utf-16-le")) // 2


def _error(detail: str) -> TelegramHtmlError:
    return TelegramHtmlError(f"can't parse entities: {detail}")


class _Parser:
    def __init__(self, source: str) -> None:
        self.src = source
        self.pos = 0
        self.out: list[str] = []
        self.len16 = 0
        self.stack: list[_Open] = []
        self.entities: list[dict[str, Any]] = []

    def byte_offset(self, index: int) -> int:
        return len(self.src[:index].encode("utf-8"))

    def emit(self, chunk: str) -> None:
        self.out.append(chunk)
        self.len16 += utf16_len(chunk)

    def run(self) -> ParsedText:
        src = self.src
        while self.pos < len(src):
            char = src[self.pos]
            if char == "&":
                self.emit(self.read_entity())
            elif char == "<" and src.startswith("</", self.pos):
                self.read_end_tag()
            elif char == "<":
                self.read_start_tag()
            else:
                # Copy the run of ordinary characters in one go.
                nxt = len(src)
                for special in "&<":
                    found = src.find(special, self.pos)
                    if found != -1:
                        nxt = min(nxt, found)
                self.emit(src[self.pos : nxt])
                self.pos = nxt
        if self.stack:
            raise _error(f'Can\'t find end tag corresponding to start tag "{self.stack[-1].tag}"')
        self.entities.sort(key=lambda e: (e["offset"], -e["length"]))
        return ParsedText("".join(self.out), self.entities)

    def read_entity(self) -> str:
        match = _ENTITY_RE.match(self.src, self.pos)
        if match is None:
            raise _error(
                "character '&' must be escaped as &amp; (bare '&' at byte offset "
                f"{self.byte_offset(self.pos)})"
            )
        self.pos = match.end()
        return _decode_entity(match.group(1), self.byte_offset(match.start()))

    def read_end_tag(self) -> None:
        start = self.pos
        close = self.src.find(">", start)
        if close == -1:
            raise _error(f"Unclosed end tag at byte offset {self.byte_offset(start)}")
        name = self.src[start + 2 : close].strip().lower()
        self.pos = close + 1
        if not self.stack:
            raise _error(f"Unexpected end tag at byte offset {self.byte_offset(start)}")
        top = self.stack[-1]
        if name != top.tag:
            raise _error(
                f"Unmatched end tag at byte offset {self.byte_offset(start)}, "
                f'expected "</{top.tag}>", found "</{name}>"'
            )
        self.stack.pop()
        if top.entity is not None and self.len16 > top.start16:
            top.entity["offset"] = top.start16
            top.entity["length"] = self.len16 - top.start16
            self.entities.append(top.entity)

    def read_start_tag(self) -> None:
        start = self.pos
        offset = self.byte_offset(start)
        name_match = _TAG_NAME_RE.match(self.src, start + 1)
        if name_match is None:
            raise _error(
                f"character '<' must be escaped as &lt; (bare '<' at byte offset {offset})"
            )
        tag = name_match.group(0).lower()
        self.pos = name_match.end()
        attrs = self.read_attributes(tag, offset)
        if tag not in _TAG_ENTITY:
            raise _error(f'Unsupported start tag "{tag}" at byte offset {offset}')
        self.check_nesting(tag, offset)
        entity = self.make_entity(tag, attrs, offset)
        self.stack.append(_Open(tag, entity, self.len16, offset))

    def read_attributes(self, tag: str, offset: int) -> dict[str, str]:
        attrs: dict[str, str] = {}
        src = self.src
        while True:
            while self.pos < len(src) and src[self.pos].isspace():
                self.pos += 1
            if self.pos >= len(src):
                raise _error(f"Unclosed start tag at byte offset {offset}")
            if src[self.pos] == ">":
                self.pos += 1
                return attrs
            name_match = _ATTR_NAME_RE.match(src, self.pos)
            if name_match is None:
                raise _error(f'Empty attribute name in the tag "{tag}" at byte offset {offset}')
            attr = name_match.group(0).lower()
            self.pos = name_match.end()
            value = ""
            if src.startswith("=", self.pos):
                self.pos += 1
                value = self.read_attribute_value(tag, offset)
            attrs[attr] = value

    def read_attribute_value(self, tag: str, offset: int) -> str:
        src = self.src
        if self.pos < len(src) and src[self.pos] in "\"'":
            quote = src[self.pos]
            end = src.find(quote, self.pos + 1)
            if end == -1:
                raise _error(f'Unclosed attribute value in the tag "{tag}" at byte offset {offset}')
            raw = src[self.pos + 1 : end]
            self.pos = end + 1
        else:
            match = _UNQUOTED_VALUE_RE.match(src, self.pos)
            if match is None:
                raise _error(f'Empty attribute value in the tag "{tag}" at byte offset {offset}')
            raw = match.group(0)
            self.pos = match.end()
        return _ENTITY_RE.sub(lambda m: _decode_entity(m.group(1), offset), raw)

    def check_nesting(self, tag: str, offset: int) -> None:
        for index, open_tag in enumerate(self.stack):
            is_top = index == len(self.stack) - 1
            if open_tag.tag == "pre" and tag == "code" and is_top:
                continue  # <pre><code class="language-x"> is the documented form
            if open_tag.tag in ("code", "pre"):
                raise _error(
                    f'tag "{tag}" can\'t be nested inside "{open_tag.tag}" at byte offset {offset}'
                )
            if open_tag.tag == tag and tag in ("blockquote", "a", "tg-emoji"):
                raise _error(f'tag "{tag}" can\'t be nested in itself at byte offset {offset}')

    def make_entity(self, tag: str, attrs: dict[str, str], offset: int) -> dict[str, Any] | None:
        kind = _TAG_ENTITY[tag]
        entity: dict[str, Any] = {"type": kind}
        if tag == "span" and attrs.get("class") != "tg-spoiler":
            raise _error(f'Tag "span" must have class "tg-spoiler" at byte offset {offset}')
        if tag == "a":
            href = attrs.get("href")
            if not href:
                return None  # Telegram keeps the text and creates no link
            entity["url"] = href
        if tag == "tg-emoji":
            emoji_id = attrs.get("emoji-id", "")
            if not emoji_id.isdigit():
                raise _error(
                    "Custom emoji entity must contain a valid custom emoji identifier "
                    f"at byte offset {offset}"
                )
            entity["custom_emoji_id"] = emoji_id
        if tag == "blockquote" and "expandable" in attrs:
            entity["type"] = "expandable_blockquote"
        if tag == "code" and self.stack and self.stack[-1].tag == "pre":
            language = attrs.get("class", "")
            parent = self.stack[-1].entity
            if language.startswith("language-") and parent is not None:
                parent["language"] = language[len("language-") :]
            return None  # Telegram folds it into the enclosing pre entity
        return entity


def _decode_entity(body: str, byte_offset: int) -> str:
    if body.startswith("#"):
        digits = body[1:]
        code = int(digits[1:], 16) if digits[:1] in ("x", "X") else int(digits)
        if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
            raise _error(f"Invalid numeric HTML entity &{body}; at byte offset {byte_offset}")
        return chr(code)
    if body in _NAMED_ENTITIES:
        return _NAMED_ENTITIES[body]
    raise _error(
        f'Unsupported HTML entity "&{body};" at byte offset {byte_offset}; '
        "only &lt; &gt; &amp; &quot; and numeric entities are supported"
    )


def parse_telegram_html_entities(text: str) -> ParsedText:
    """Parse Telegram HTML into plain text and MessageEntity dicts (UTF-16 offsets)."""
    return _Parser(text).run()


def parse_telegram_html(text: str) -> str:
    """Plain text Telegram would store for ``text`` in HTML parse mode; raises TelegramHtmlError."""
    return parse_telegram_html_entities(text).text


def parse_text(text: str, parse_mode: str | None) -> ParsedText:
    """Apply a parse mode.  Only HTML is parsed; Markdown modes are passed through as-is
    (the fake does not model them, so their length is an upper bound)."""
    if parse_mode is None or parse_mode == "":
        return ParsedText(text)
    if parse_mode.lower() == "html":
        return parse_telegram_html_entities(text)
    if parse_mode.lower() in ("markdown", "markdownv2"):
        return ParsedText(text)
    raise TelegramHtmlError(f"unsupported parse_mode {parse_mode!r}")


def text_length_after_parsing(text: str, parse_mode: str | None = "HTML") -> int:
    """UTF-16 length Telegram checks against the 4096 (message) / 1024 (caption) limits."""
    return utf16_len(parse_text(text, parse_mode).text)
