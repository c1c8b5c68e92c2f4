"""Split text into verbatim sentence spans.

A candidate boundary is a run of terminators (. ! ? … or the Chinese 。！？) plus any
closing quotes or brackets after it. A Latin candidate must be followed by whitespace
(so "3.5" and "U.S.-ROK" never split) and by something that can start a sentence
(a lowercase next word means the sentence goes on: "e.g. the", "U.S. side", except a code
identifier after a single period: "… a float. x is converted …" splits).

Abbreviation rules for a single period followed by a capital or digit:
- titles and Latin abbreviations (Mr., Dr., e.g., i.e., vs.) never end a sentence;
- number abbreviations (No., Fig., pp., Jan.) do not end one before a digit ("No. 5");
- initialisms (U.S., U.K., a.m.), single-letter initials (J. R. R. Tolkien) and company
  suffixes (Inc., Jr.) are ambiguous: "in the U.S. The ..." ends a sentence but
  "the U.S. Army" does not. We split only when the next word is a typical sentence
  starter (The, It, In, But, ...), because wrongly gluing two sentences into one quote
  costs less than cutting a quote in half.

Nothing splits inside a short matched pair of parentheses, so "(双暂停)" or
"(see Fig. 3. Also ...)" stay whole. Blank lines always end a sentence.
"""

from __future__ import annotations

import itertools
import re

_CANDIDATE = re.compile(
    r"(?P<latin>[.!?…]+[\"'”’»)\]]*)(?=\s|$)"
    r"|(?P<cjk>[。！？]+[\"'”’」』）)\]]*)"
)
_BLANK_LINE = re.compile(r"\n[ \t\r\f\v]*\n\s*")
_WORD = re.compile(r"\w+")
_INITIALISM = re.compile(r"(?:[A-Za-z]\.){2,}")
_ENUMERATOR = re.compile(r"\d{1,3}(?:\.\d{1,3})*|[A-Za-z]|[ivxlIVXL]{1,5}")
# A lowercase word that is code, not prose: a one-letter name other than "a" ("x is"), or a
# name with an underscore, a call or an attribute ("sys.argv", "len()", "max_size").
_IDENTIFIER = re.compile(r"(?:[b-hj-z]|[a-z]\w*_\w*|[a-z]\w*\(\)|[a-z]\w*\.[a-z_]\w*)(?=[\s,;:]|$)")
_OPENERS = "\"'“‘«([{¿¡—–-"
_TOKEN_LEADERS = "\"'“‘«([{¿¡*_"
_MAX_PAREN = 200


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Abbreviations are compared lowercased, without the final period.
_ALWAYS_JOIN = _words(
    """mr mrs ms mx dr prof rev hon gen gov sen rep lt col capt sgt cmdr adm maj cpl pres
    amb fr messrs mme mlle e.g i.e cf vs viz approx ca esp incl al"""
)
_JOIN_BEFORE_DIGIT = _words(
    """no nos nr fig figs vol vols p pp ch chap sec sect art para op ed eq eqs ref tab jan
    feb mar apr jun jul aug sep sept oct nov dec"""
)
_AMBIGUOUS = _words("jr sr st inc ltd co corp bros plc llc")
_STARTERS = _words(
    """The A An This That These Those It Its He She They We I You His Her Their Our My Your
    There Here In On At By For From With Without To Of As But And Or Nor So Yet If When
    Whenever While Where After Before Since Although Though Because Meanwhile Moreover
    Furthermore However Nevertheless Nonetheless Still Then Thus Therefore Hence Now
    Today Yesterday What Why How Who Which Whether Many Most Some Such Each Every All
    Both Few Several Another Instead Indeed Also Even Only Perhaps Finally Later Next
    Unlike Despite During Until Once Not No Yes"""
)


def split_sentences(text: str) -> list[tuple[int, int]]:
    """Spans (start, end) of the sentences of `text`, each stripped of outer whitespace."""
    spans: list[tuple[int, int]] = []
    inside = _paren_interiors(text)
    block_start = 0
    for blank in _BLANK_LINE.finditer(text):
        spans.extend(_split_block(text, block_start, blank.start(), inside))
        block_start = blank.end()
    spans.extend(_split_block(text, block_start, len(text), inside))
    return spans


def _split_block(text: str, start: int, end: int, inside: bytearray) -> list[tuple[int, int]]:
    cuts = [start]
    for match in _CANDIDATE.finditer(text, start, end):
        if _is_boundary(text, match, start, end, inside):
            cuts.append(match.end())
    cuts.append(end)
    spans = []
    for left, right in itertools.pairwise(cuts):
        span = _strip(text, left, right)
        if span is not None:
            spans.append(span)
    return spans


def _strip(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _paren_interiors(text: str) -> bytearray:
    """Mark positions inside short matched (…) or （…） pairs."""
    inside = bytearray(len(text) + 1)
    stack: list[int] = []
    for index, char in enumerate(text):
        if char in "(（":
            stack.append(index)
        elif char in ")）" and stack:
            opening = stack.pop()
            if index - opening <= _MAX_PAREN:
                # A boundary right after "." but before ")" is inside; one after ")" is not.
                inside[opening + 1 : index + 1] = b"\1" * (index - opening)
    return inside


def _is_boundary(
    text: str, match: re.Match[str], start: int, end: int, inside: bytearray
) -> bool:
    if inside[match.end()]:
        return False
    if match.group("cjk"):
        return True
    if _is_leading_enumerator(text, match, start):
        return False  # "1. Definitions" or "(a) The licence": a number, not a sentence
    position = match.end()
    while position < end and (text[position].isspace() or text[position] in _OPENERS):
        position += 1
    if position >= end:
        return True
    first = text[position]
    if first.islower():
        # A lowercase next word goes on the sentence ("e.g. the"), unless it is a code
        # identifier starting a new one: "... to a float. x is converted first."
        return (
            match.group("latin") == "."
            and _IDENTIFIER.match(text, position, end) is not None
            and not _abbreviation_continues(_token_before(text, match.start()), "", first)
        )
    terminators = match.group("latin").rstrip("\"'”’»)]")
    if terminators != ".":
        return True  # ? ! … and "..." end a sentence before a capital
    word_match = _WORD.match(text, position, end)
    next_word = word_match.group() if word_match else ""
    return not _abbreviation_continues(_token_before(text, match.start()), next_word, first)


def _is_leading_enumerator(text: str, match: re.Match[str], block_start: int) -> bool:
    """Whether the period ends a clause or list number that opens its paragraph."""
    if match.group("latin") != ".":
        return False
    token = _token_before(text, match.start())
    if _ENUMERATOR.fullmatch(token) is None:
        return False
    # Only whitespace back to the paragraph's start; walked backwards, since scanning from
    # the start made a long paragraph without blank lines quadratic.
    position = match.start() - len(token)
    while position > block_start and text[position - 1].isspace():
        position -= 1
    return position == block_start


def _token_before(text: str, period: int) -> str:
    start = period
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    token = re.split(r"[—–/]", text[start:period])[-1]
    return token.lstrip(_TOKEN_LEADERS)


def _abbreviation_continues(token: str, next_word: str, next_char: str) -> bool:
    """Whether the period after `token` is an abbreviation inside a sentence."""
    key = token.lower()
    if key in _ALWAYS_JOIN:
        return True
    if key in _JOIN_BEFORE_DIGIT:
        return next_char.isdigit()
    ambiguous = (
        key in _AMBIGUOUS
        or _INITIALISM.fullmatch(token + ".") is not None
        or (len(token) == 1 and token.isupper())
    )
    return ambiguous and next_word not in _STARTERS
