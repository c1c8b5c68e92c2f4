"""The initials of the corpus's names ("KJU" for "Kim Jong Un", "WPK" for "Workers' Party of
Korea"): a reader may shorten a name the text spells out, and the missing-name rule
(bot/search/missing.py) must not call such an acronym absent.

Built with each index generation, from every paragraph of the finished columns, and written as
`initials-<gen>.npy` (sorted strings, no pickles). Built from the columns rather than from the
documents read, so a build that carried unchanged documents over writes the same file as one
from scratch. An index written before the file existed has none: the search room then scans its
paragraphs once, at the first acronym the corpus does not write (`initialisms`, the same
function), rather than forcing a rebuild on every deployment for a table that is only a
speed-up.
"""

from __future__ import annotations

import itertools
import re
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
    return frozenset(initials)


def paragraph_texts(columns: Columns) -> Iterator[str]:
    """Every paragraph's text in `columns`, in order."""
    blob = columns.texts
    for start, stop in zip(
        columns.paragraphs["text_start"].tolist(),
        columns.paragraphs["text_stop"].tolist(),
        strict=True,
    ):
        yield bytes(blob[start:stop]).decode("utf-8", "surrogatepass")


def initials_array(columns: Columns) -> NDArray[np.str_]:
    """The generation file's contents: the initials of `columns`' names, sorted."""
    return np.array(sorted(initialisms(paragraph_texts(columns))), dtype=np.str_)


def read_initials(path: Path) -> frozenset[str]:
    """The initials a generation wrote (`initials_array`)."""
    array = np.load(path, allow_pickle=False)
    if array.dtype.kind != "U" or array.ndim != 1:
        raise ValueError(f"{path.name} is not a list of initials")
    return frozenset(array.tolist())
