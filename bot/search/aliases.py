"""Common alternative names of countries and institutions: a reader who writes "America" asks
about what an essay calls "the U.S.", and "Pyongyang" is how essays on foreign policy name
North Korea's government. The missing-name rule (bot/search/missing.py) counts a name as
mentioned when the corpus uses any of its alternatives.

A general table, not one fitted to any question set: each group is the country or body, its
demonym, its usual abbreviations and its capital when that stands for its government. A name
may belong to several groups ("Moscow": Russia and the Soviet Union).
"""

from __future__ import annotations

from functools import cache

from bot.index.lexical import tokenize

ALIAS_GROUPS: tuple[tuple[str, ...], ...] = (
    (
        "America",
        "American",
        "United States",
        "United States of America",
        "US",
        "USA",
        "Washington",
    ),
    ("Britain", "British", "Great Britain", "United Kingdom", "UK", "London"),
    ("North Korea", "North Korean", "DPRK", "Pyongyang"),
    ("South Korea", "South Korean", "ROK", "Seoul"),
    ("China", "Chinese", "PRC", "Beijing"),
    ("Taiwan", "Taiwanese", "Taipei"),
    ("Russia", "Russian", "Russian Federation", "Moscow", "Kremlin"),
    ("Soviet Union", "Soviet", "USSR", "Moscow", "Kremlin"),
    ("Japan", "Japanese", "Tokyo"),
    ("United Nations", "UN"),
    ("European Union", "EU", "Brussels"),
    ("NATO", "North Atlantic Treaty Organization"),
    ("France", "French", "Paris"),
    ("Germany", "German", "Berlin"),
    ("India", "Indian", "New Delhi", "Delhi"),
    ("Iran", "Iranian", "Tehran", "Persia"),
    ("Ukraine", "Ukrainian", "Kyiv", "Kiev"),
    ("Netherlands", "Dutch", "Holland"),
)


def _key(name: str) -> tuple[str, ...]:
    # Compared as the index's tokens, so "U.S." and "US", "Americans" and "American" agree.
    return tuple(tokenize(name, keep_stopwords=True))


@cache
def _table() -> dict[tuple[str, ...], tuple[str, ...]]:
    table: dict[tuple[str, ...], list[str]] = {}
    for group in ALIAS_GROUPS:
        for name in group:
            others = table.setdefault(_key(name), [])
            others.extend(other for other in group if other != name and other not in others)
    return {key: tuple(others) for key, others in table.items()}


def alternatives(name: str) -> tuple[str, ...]:
    """The other names of `name` ("Beijing" -> "China", "Chinese", "PRC"), or () when the
    table does not know it."""
    return _table().get(_key(name), ())


# Compass points as they are abbreviated inside names ("NE Asia", "SW China") and the ways
# a text may spell them out.
COMPASS_POINTS = {
    "NE": ("Northeast", "North East", "North-East"),
    "NW": ("Northwest", "North West", "North-West"),
    "SE": ("Southeast", "South East", "South-East"),
    "SW": ("Southwest", "South West", "South-West"),
}


def spelled_out(name: str) -> tuple[str, ...]:
    """`name` with its abbreviated compass points written out ("NE Asia" -> "Northeast
    Asia", "North East Asia", ...), or () when it has none."""
    words = name.split(" ")
    variants = [""]
    found = False
    for word in words:
        options = COMPASS_POINTS.get(word.rstrip("."), (word,))
        found = found or word.rstrip(".") in COMPASS_POINTS
        variants = [f"{v} {o}".strip() for v in variants for o in options]
    return tuple(variants) if found else ()


def is_acronym(name: str) -> bool:
    """An all-capitals name ("US", "UN"): its lower-cased token may be an ordinary word."""
    letters = [c for c in name if c.isalpha()]
    return len(letters) >= 2 and all(c.isupper() for c in letters) and " " not in name
