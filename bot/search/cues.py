"""What kind of answer a question asks for, and whether a window holds one: "How many…" wants
a number, "When…" a date or a time, "Who…"/"Where…" a name the question does not already
say, "What is the term for…" a window that names something ("called", "known as").
A weak signal (one of the fused ones, bot/search/features.py), but one the dense model
misses: "How many proposals does the author discuss?" is answered by "four possible
structures", which shares no word with it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

AnswerType = Literal["number", "time", "name", "term", ""]

_NUMBER_QUESTION = re.compile(
    r"\bhow\s+(?:many|much|long|old|far|large|big|often|high|fast)\b"
    r"|\bwhat\s+(?:percentage|percent|number|amount|proportion|share)\b",
    re.IGNORECASE,
)
_TIME_QUESTION = re.compile(
    r"\bwhen\b|\b(?:what|which)\s+(?:year|date|day|month|time|century|decade|period)\b",
    re.IGNORECASE,
)
# "What is the term for…", "What is it called?", "What did Aristotle refer to it as?"
_TERM_QUESTION = re.compile(
    r"\b(?:term|terms|called|call|named|known\s+as|refer(?:s|red)?\s+to\b.*\bas)\b",
    re.IGNORECASE,
)
_NAME_QUESTION = re.compile(r"\b(?:who|whom|whose|where)\b", re.IGNORECASE)

_NUMBER_WORDS = (
    "one two three four five six seven eight nine ten eleven twelve thirteen fifteen twenty "
    "thirty forty fifty hundred hundreds thousand thousands million millions billion dozen "
    "dozens several half twice once double triple first second third fourth fifth"
)
_NUMBER = re.compile(rf"\d|\b(?:{'|'.join(_NUMBER_WORDS.split())})\b", re.IGNORECASE)
_TIME = re.compile(
    r"\b\d{3,4}s?\b|\b(?:January|February|March|April|May|June|July|August|September|October"
    r"|November|December|spring|summer|autumn|winter|century|centuries|decade|decades|year"
    r"|years|month|months|week|weeks|today|now|since|until|after|before|during|later"
    r"|earlier|ago)\b",
    re.IGNORECASE,
)
# A capitalised word that does not open a sentence: a name, as a reader would spot one.
_NAME = re.compile(r"(?<![.!?:;\"“]\s)(?<!^)\b[A-Z][\w'’\-]*[a-z][\w'’\-]*")
_TERM = re.compile(
    r"\b(?:called|known\s+as|named|termed|term|dubbed|referred\s+to\s+as|so-called)\b",
    re.IGNORECASE,
)
_WORD = re.compile(r"\w+")
# A question that names the text it is asked of: "the author", "the writer's view", "this
# essay", "the article", "does he argue". Generic English for any collection of essays, not
# words of one essay; "the author of Hamlet" is someone else's author, so not this. A name
# after it that the corpus lacks still makes the answer absent (bot/search/missing.py):
# "What does the author say about Japan?" stays refused.
_ADDRESSED = re.compile(
    r"(?:\b(?:the|this|that|these)\s+(?:essays?|article|piece)"
    r"|\b(?:author|writer|essayist)(?:'s|’s|s)?"
    r"|\bdoes\s+(?:he|she)\s+(?:argue|claim|suggest|mean|propose|think"
    r"|believe|say|want|recommend|describe|lay)"
    r")\b(?!\s+of\b)",
    re.IGNORECASE,
)


def answer_type(question: str) -> AnswerType:
    """The kind of answer `question` asks for, or "" when it does not say."""
    if _NUMBER_QUESTION.search(question):
        return "number"
    if _TIME_QUESTION.search(question):
        return "time"
    if _NAME_QUESTION.search(question):
        return "name"
    if _TERM_QUESTION.search(question):
        return "term"
    return ""


def addresses_text(question: str) -> bool:
    """Whether `question` says it is about the text itself (the author, the essay)."""
    return bool(_ADDRESSED.search(question))


def question_words(question: str) -> frozenset[str]:
    """The question's words, lower-cased: a name it already says is not an answer."""
    return frozenset(word.casefold() for word in _WORD.findall(question))


def names_in(text: str) -> frozenset[str]:
    """The capitalised words of a window that do not open a sentence, lower-cased."""
    return frozenset(match.group().casefold() for match in _NAME.finditer(text))


def holds_number(text: str) -> bool:
    return bool(_NUMBER.search(text))


def holds_time(text: str) -> bool:
    return bool(_TIME.search(text))


def holds_term(text: str) -> bool:
    return bool(_TERM.search(text))


class AnswerTypes:
    """Per index: which windows hold a number, a time, which names; each window is read the
    first time it is a candidate and remembered (opening an index reads none)."""

    def __init__(self, texts: Callable[[int], str], size: int) -> None:
        self._text = texts
        self._number = np.full(size, -1, dtype=np.int8)
        self._time = np.full(size, -1, dtype=np.int8)
        self._term = np.full(size, -1, dtype=np.int8)
        self._names: dict[int, frozenset[str]] = {}

    def match(self, rows: NDArray[np.int64], question: str) -> NDArray[np.float32]:
        """1.0 for each window in `rows` holding what `question` asks for, else 0.0 (all 0.0
        for a question that does not say what it wants)."""
        wanted = answer_type(question)
        if wanted == "number":
            return self._flags(rows, self._number, holds_number)
        if wanted == "time":
            return self._flags(rows, self._time, holds_time)
        if wanted == "term":
            return self._flags(rows, self._term, holds_term)
        if wanted == "name":
            asked = question_words(question)
            return np.array([bool(self._names_of(int(r)) - asked) for r in rows], np.float32)
        return np.zeros(len(rows), dtype=np.float32)

    def _flags(
        self, rows: NDArray[np.int64], table: NDArray[np.int8], test: Callable[[str], bool]
    ) -> NDArray[np.float32]:
        flags = table[rows]
        for i in np.flatnonzero(flags < 0).tolist():
            flags[i] = table[rows[i]] = test(self._text(int(rows[i])))
        return flags.astype(np.float32)

    def _names_of(self, row: int) -> frozenset[str]:
        names = self._names.get(row)
        if names is None:
            names = self._names[row] = names_in(self._text(row))
        return names
