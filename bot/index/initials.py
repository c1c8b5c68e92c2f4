"""The initials of the corpus's names ("KJU" for "Kim Jong Un", "WPK" for "Workers' Party of
Korea"): a reader may shorten a name the text spells out, and the missing-name rule
(bot/search/missing.py) must not call such an acronym absent.

Built with each index generation and written as `initials-<gen>.npy`: each initials with the
number of paragraphs that give it (a structured array, no pickles). A build that carried
unchanged documents over reads only the paragraphs it did not carry and those it dropped, and
adjusts the previous counts, so it writes the same file as a build from scratch without reading
every paragraph again (a full scan costs ~6 s per 100,000 paragraphs of 500 characters).

An index written before the file existed has none. It still answers the same: the search room
then scans its paragraphs once, at the first acronym the corpus does not write (`initialisms`,
the same rule), and its next build writes the file. A missing file is no reason to force a
rebuild (no format version bump): the table only saves that scan.
"""

from __future__ import annotations

import itertools
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from bot.index.records import Columns

if TYPE_CHECKING:
    from numpy.typing import NDArray

# Two or more capitalised words in a row ("Kim Jong Un", "Moon Jae-in", hyphenated parts kept),
# possibly joined by lower-case function words that initials skip ("Workers' Party of Korea":
# WPK; "Institute for Peace": IP).
_CAPITALISED = r"[A-Z][\w'’]*(?:-\w+)*"
_CAPITALISED_RUN = re.compile(
    rf"\b{_CAPITALISED}(?:(?:\s+(?:of|the|and|for|on|in))*\s+{_CAPITALISED})+"
)
_SKIPPED = frozenset({"of", "the", "and", "for", "on", "in"})


def initialisms(texts: Iterable[str]) -> frozenset[str]:
    """The initials of the names of several capitalised words in `texts`: three letters at
    least, from whole words of one name (two letters, or initials across a sentence's first
    word, would match by chance); any run of adjacent words of a name counts ("JU" is too
    short, "KJU" and "JUN" are not)."""
    initials: set[str] = set()
    for text in texts:
        initials |= _initials_of(text)
    return frozenset(initials)


def _initials_of(text: str) -> set[str]:
    initials: set[str] = set()
    for run in _CAPITALISED_RUN.finditer(text):
        letters = [
            "".join(part[0].upper() for part in word.split("-") if part)
            for word in run.group().split()
            if word not in _SKIPPED
        ]
        for start, end in itertools.combinations(range(len(letters) + 1), 2):
            joined = "".join(letters[start:end])
            if end - start > 1 and len(joined) >= 3:
                initials.add(joined)
    return initials


def _texts(columns: Columns, rows: Iterable[int]) -> Iterator[str]:
    """The texts of paragraphs `rows` of `columns`."""
    blob, table = columns.texts, columns.paragraphs
    for row in rows:
        start, stop = int(table["text_start"][row]), int(table["text_stop"][row])
        yield bytes(blob[start:stop]).decode("utf-8", "surrogatepass")


def _count(counts: Counter[str], texts: Iterable[str], sign: int) -> None:
    for text in texts:
        for initials in _initials_of(text):
            counts[initials] += sign


def initials_table(
    columns: Columns,
    carried_from: NDArray[np.int64],
    previous: tuple[Columns, Path] | None,
) -> NDArray[np.void]:
    """The generation file's contents: each initials of `columns`' names with the number of
    paragraphs that give it, sorted. From the previous generation's table (`previous`: its
    columns and its initials file) when there is one: only the paragraphs not carried over
    (`carried_from`, each passage's previous row or -1) are read, those it dropped
    subtracted; the counts make the result the one a build from scratch writes."""
    table = columns.paragraphs
    first = table["first_passage"]
    has_passages = np.asarray(table["passage_stop"] > first)
    carried = np.zeros(len(table), dtype=bool)
    if len(carried_from):
        carried[has_passages] = carried_from[first[has_passages]] >= 0
    counts: Counter[str] = Counter()
    old = _previous_counts(previous) if previous is not None and carried.any() else None
    if old is None:
        _count(counts, _texts(columns, range(len(table))), 1)
    else:
        assert previous is not None
        old_columns = previous[0]
        counts.update(old)
        kept = np.zeros(len(old_columns.paragraphs), dtype=bool)
        rows = carried_from[carried_from >= 0]
        kept[np.asarray(old_columns.passages["paragraph"][rows], dtype=np.int64)] = True
        _count(counts, _texts(old_columns, np.flatnonzero(~kept).tolist()), -1)
        _count(counts, _texts(columns, np.flatnonzero(~carried).tolist()), 1)
    names = sorted(name for name, count in counts.items() if count > 0)
    width = max((len(name) for name in names), default=1)
    result = np.zeros(len(names), dtype=[("initials", f"<U{width}"), ("paragraphs", "<i8")])
    result["initials"] = names
    result["paragraphs"] = [counts[name] for name in names]
    return result


def _previous_counts(previous: tuple[Columns, Path]) -> dict[str, int] | None:
    """The previous generation's counts, or None when it has no table (built before the file
    existed) or an unreadable one: then every paragraph is read."""
    try:
        array = _load(previous[1])
    except (OSError, ValueError, EOFError):
        return None
    return dict(zip(array["initials"].tolist(), array["paragraphs"].tolist(), strict=True))


def _load(path: Path) -> NDArray[np.void]:
    array: NDArray[np.void] = np.load(path, allow_pickle=False)
    names = array.dtype.names or ()
    if names != ("initials", "paragraphs") or array.ndim != 1:
        raise ValueError(f"{path.name} is not a table of initials")
    return array


def read_initials(path: Path) -> frozenset[str]:
    """The initials a generation wrote (`initials_table`)."""
    return frozenset(_load(path)["initials"].tolist())
