"""Text folding and sentence-span arithmetic: the only copy of each, used by every stage."""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

Span = tuple[int, int]

_QUOTES = str.maketrans(
    {c: None for c in "\"'“”„‟«»‘’‚‛‹›`´"} | {"—": " ", "–": " ", "-": " ", "‐": " "}
)


def collapse_whitespace(text: str) -> str:
    """Runs of whitespace folded to one space, ends trimmed."""
    return " ".join(text.split())


def fold(text: str) -> str:
    """The comparison form of text: compatibility-normalised (NFKC) and case-folded ("ß" = "ss")."""
    return unicodedata.normalize("NFKC", text).casefold()


def question_key(text: str) -> str:
    """Two questions with the same key are the same question (cache key)."""
    return collapse_whitespace(fold(text))


def fold_with_map(text: str) -> tuple[str, list[int]]:
    """`fold`ed text without quotes or punctuation, whitespace collapsed, with each character's
    position in `text` (citation lookup matches pasted phrases in this form)."""
    out: list[str] = []
    positions: list[int] = []
    for index, char in enumerate(text):
        for piece in fold(char).translate(_QUOTES):
            if not (piece.isalnum() or piece.isspace()):
                piece = " " if unicodedata.category(piece).startswith("P") else piece
            if piece.isspace():
                if not out or out[-1] == " ":
                    continue
                piece = " "
            out.append(piece)
            positions.append(index)
    while out and out[-1] == " ":
        out.pop()
        positions.pop()
    return "".join(out), positions


# -- sentence spans --------------------------------------------------------------------------
# A paragraph's sentences are spans into its text; a window is sentences first..last.  A span
# "within the window" is relative to the window's first character.


def window_span(sentences: Sequence[Span], first: int, last: int) -> Span:
    """The window's span within its paragraph."""
    return sentences[first][0], sentences[last][1]


def sentence_in_window(sentences: Sequence[Span], first: int, number: int) -> Span:
    """Sentence `number`'s span within the window that starts at sentence `first`."""
    offset = sentences[first][0]
    begin, end = sentences[number]
    return begin - offset, end - offset


def sentence_index_in_window(
    sentences: Sequence[Span], first: int, last: int, span: Span
) -> int | None:
    """Which sentence of the window (0 = its first) `span` is exactly, if any."""
    for number in range(first, last + 1):
        if sentence_in_window(sentences, first, number) == span:
            return number - first
    return None


def sentences_covering(sentences: Sequence[Span], begin: int, end: int) -> list[int]:
    """The sentences that overlap text[begin:end]."""
    return [i for i, (s, e) in enumerate(sentences) if s < end and begin < e]
