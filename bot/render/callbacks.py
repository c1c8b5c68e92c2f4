"""Button state packed into Telegram callback data (at most 64 bytes): no server-side session."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from bot.errors import CallbackDataError

MAX_CALLBACK_BYTES = 64
MAX_RESULTS = 4  # "r0c:" + 4 x (12-hex id + highlight digit) = 56 bytes
MAX_SECTION_NO = 999_999
_ID = r"[0-9a-f]{12}"
_PASSAGE_ID = re.compile(_ID)
# Matched with fullmatch: "$" alone would accept a trailing newline, and \d any Unicode digit.
# "c" after the position marks results whose verdict was "closest", so that paging keeps the
# caution above the quote without asking the question again.
_RESULTS = re.compile(rf"r([0-9])(c?):((?:{_ID}[0-2-]){{1,{MAX_RESULTS}}})")
_PARAGRAPH = re.compile(rf"p:({_ID})")
_SECTION_OF = re.compile(rf"s:({_ID})")
_SECTION = re.compile(r"t:([0-9a-f]{8}):(0|[1-9][0-9]{0,5})")
_CONTENTS = "c"


@dataclass(frozen=True)
class Results:
    """The results of one question: passage ids with the index of the sentence to highlight,
    and whether they are only the closest passages (the verdict "closest"), not answers."""

    items: tuple[tuple[str, int | None], ...]
    closest: bool = False


@dataclass(frozen=True)
class ShowResult:
    results: Results
    position: int


@dataclass(frozen=True)
class ShowParagraph:
    passage_id: str


@dataclass(frozen=True)
class ShowSectionOf:
    passage_id: str


@dataclass(frozen=True)
class ShowSection:
    doc_key: str
    section_no: int


@dataclass(frozen=True)
class ShowContents:
    """The table of contents (the way back from a section with no text)."""


Press = ShowResult | ShowParagraph | ShowSectionOf | ShowSection | ShowContents


def doc_key(doc_id: str) -> str:
    return hashlib.sha1(doc_id.encode("utf-8")).hexdigest()[:8]


def _checked(data: str) -> str:
    if len(data.encode("utf-8")) > MAX_CALLBACK_BYTES:
        raise ValueError(f"callback data over {MAX_CALLBACK_BYTES} bytes: {data!r}")
    return data


def _id(passage_id: str) -> str:
    if not _PASSAGE_ID.fullmatch(passage_id):
        raise ValueError(f"not a passage id: {passage_id!r}")
    return passage_id


def encode_results(results: Results, position: int) -> str:
    items = results.items[:MAX_RESULTS]
    if not items:
        raise ValueError("no results to encode")
    packed = "".join(f"{_id(pid)}{'-' if h is None else min(max(h, 0), 2)}" for pid, h in items)
    mark = "c" if results.closest else ""
    return _checked(f"r{min(max(position, 0), len(items) - 1)}{mark}:{packed}")


def encode_paragraph(passage_id: str) -> str:
    return _checked(f"p:{_id(passage_id)}")


def encode_section_of(passage_id: str) -> str:
    return _checked(f"s:{_id(passage_id)}")


def encode_section(doc_id: str, section_no: int) -> str:
    if not 0 <= section_no <= MAX_SECTION_NO:
        raise ValueError(f"section number out of range: {section_no}")
    return _checked(f"t:{doc_key(doc_id)}:{section_no}")


def encode_contents() -> str:
    return _CONTENTS


def decode(data: str | None) -> Press:
    if not data:
        raise CallbackDataError("empty callback data")
    if match := _RESULTS.fullmatch(data):
        packed = match.group(3)
        items = tuple(
            (packed[i : i + 12], None if packed[i + 12] == "-" else int(packed[i + 12]))
            for i in range(0, len(packed), 13)
        )
        position = int(match.group(1))
        if position >= len(items):
            raise CallbackDataError(f"result {position} of {len(items)}")
        return ShowResult(Results(items, closest=match.group(2) == "c"), position)
    if match := _PARAGRAPH.fullmatch(data):
        return ShowParagraph(match.group(1))
    if match := _SECTION_OF.fullmatch(data):
        return ShowSectionOf(match.group(1))
    if match := _SECTION.fullmatch(data):
        return ShowSection(match.group(1), int(match.group(2)))
    if data == _CONTENTS:
        return ShowContents()
    raise CallbackDataError(f"unknown callback data {data[:70]!r}")
