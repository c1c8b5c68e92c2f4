"""Text folding and sentence-span arithmetic: the only copy of each, used by every stage."""

from __future__ import annotations

import re
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


def without_accents(word: str) -> str:
    """`word` with its accents and other combining marks taken off ("Pyŏngyang" -> "Pyongyang")."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def question_key(text: str) -> str:
    """Two questions with the same key are the same question (cache key)."""
    return collapse_whitespace(fold(text))


def _lookup_piece(char: str) -> str:
    """What one character becomes in lookup form: folded, quotes dropped, punctuation and
    whitespace as a space (runs of spaces are collapsed afterwards)."""
    out = []
    for piece in fold(char).translate(_QUOTES):
        if unicodedata.category(piece) == "Cf":
            continue  # zero-width spaces and joiners, soft hyphens: invisible, so not compared
        if piece.isspace() or (not piece.isalnum() and unicodedata.category(piece).startswith("P")):
            piece = " "
        out.append(piece)
    return "".join(out)


_LOOKUP_TABLE: dict[int, str] = {}


def fold_for_lookup(text: str) -> str:
    """The lookup form of `text` (see fold_with_map) at C speed: a translation table built for
    the characters the text holds, then whitespace collapsed; equal to fold_with_map's text."""
    for char in set(text):
        if ord(char) not in _LOOKUP_TABLE:
            _LOOKUP_TABLE[ord(char)] = _lookup_piece(char)
    # After translation every whitespace character is a space, so split() cuts only there.
    return " ".join(text.translate(_LOOKUP_TABLE).split())


def fold_with_map(text: str) -> tuple[str, list[int]]:
    """`fold`ed text without quotes or punctuation, whitespace collapsed, with each character's
    position in `text` (citation lookup matches pasted phrases in this form)."""
    out: list[str] = []
    positions: list[int] = []
    for index, char in enumerate(text):
        for piece in _lookup_piece(char):
            if piece == " " and (not out or out[-1] == " "):
                continue
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


# -- terminal and log output -----------------------------------------------------------------

# Control characters, and the format characters that reorder or hide text on a terminal
# (bidirectional overrides and isolates): written raw they can move the cursor, recolour,
# retitle the window or forge lines ("\nSkipped ..."), so they are shown escaped.
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def printable(text: str, keep: str = "") -> str:
    """`text` safe for a terminal or a log line: control characters escaped (`\\x1b`),
    except those in `keep` (say "\\n" for text whose lines are its own)."""

    def escaped(match: re.Match[str]) -> str:
        char = match.group()
        if char in keep:
            return char
        if char in _NAMED:
            return _NAMED[char]
        code = ord(char)
        return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"

    return _UNPRINTABLE.sub(escaped, text)
