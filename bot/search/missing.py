"""Salient terms of a question that the corpus never uses: "The essays never mention Japan."

A salient term is a name (a run of capitalised words past the question's first word, "Kim Jong
Il", "United Nations Security Council"), an acronym ("THAAD") or a number of three digits or
more (a year). Lower-case words are left out on purpose: without a dictionary of English
there is no telling a rare word from a plain paraphrase ("pointless", "backfire"), and naming
those would call an answerable question absent.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.index.lexical import tokenize
from bot.search.aliases import alternatives, is_acronym, spelled_out

_WORD = re.compile(r"[^\W_](?:[\w'’.\-]*[^\W_])?")
_SENTENCE_END = re.compile(r"[.?!]")
_POSSESSIVE = re.compile(r"['’]s$")


def _salient(word: str, first: bool) -> bool:
    letters = [c for c in word if c.isalpha()]
    if len(letters) >= 2 and all(c.isupper() for c in letters):
        return True  # an acronym, wherever it stands
    if word.isdigit():
        return len(word) >= 3
    # Every question starts with a capital: its first word says nothing.
    return not first and word[0].isupper()


def _spans(question: str) -> list[tuple[list[str], int, int]]:
    """The salient runs of `question`, each with where it begins and ends in the text."""
    runs: list[tuple[list[str], int, int]] = []
    open_run = False
    previous_end = -1
    for match in _WORD.finditer(question):
        word = _POSSESSIVE.sub("", match.group())
        gap = question[previous_end : match.start()] if previous_end >= 0 else ""
        first = previous_end < 0 or bool(_SENTENCE_END.search(gap))
        if not _salient(word, first):
            open_run = False  # the next name starts afresh
        elif open_run and gap.strip() == "":
            words, start, _ = runs[-1]
            runs[-1] = ([*words, word], start, match.end())
        else:
            runs.append(([word], match.start(), match.end()))
            open_run = True
        if word != match.group():
            open_run = False  # a possessive ends its name: "Holm's Baltic Exchange" is two
        previous_end = match.end()
    return runs


def salient_runs(question: str) -> list[str]:
    """The names, acronyms and long numbers of a question, adjacent words joined."""
    return [" ".join(words) for words, _, _ in _spans(question)]


def salient_names(question: str) -> list[tuple[str, list[str]]]:
    """The salient runs of `question` grouped into the names a reader wrote, each with the
    name as written: runs joined by a possessive ("Korean People's Army") or by a lower-case
    "of" ("Bank of England"), or by "and" when a name of two or more words follows it
    ("Peace and Cooperation Initiative"; "Britain and France" stays two names). A run is
    judged alone (a possessive usually names an owner the text may know on its own), but a
    name none of whose runs the corpus uses is reported whole, as the question wrote it."""
    groups: list[tuple[int, int, list[str]]] = []
    for words, start, end in _spans(question):
        run = " ".join(words)
        # A number next to "of" or "and" is a date or a count, not part of a name ("the
        # Korean War of 1950").
        # Nor is an acronym before or after one a part: a title or a party ("the CEO of
        # Samsung", "NATO and the Warsaw Pact").
        previous = groups[-1][2][-1].split(" ")[-1] if groups else ""
        if groups and _joinable(previous) and _joinable(words[0]):
            gap = question[groups[-1][1] : start]
            after_possessive = _POSSESSIVE.search(question[: groups[-1][1]]) is not None
            joined = (after_possessive and gap.strip() == "") or re.fullmatch(
                r"\s+of\s+", gap
            ) is not None
            joined = joined or (re.fullmatch(r"\s+and\s+", gap) is not None and len(words) > 1)
            if joined:
                first, _, runs = groups[-1]
                groups[-1] = (first, end, [*runs, run])
                continue
        groups.append((start, end, [run]))
    return [(question[start:end], runs) for start, end, runs in groups]


def _joinable(word: str) -> bool:
    return not word.isdigit() and not is_acronym(word)


def missing_terms(
    question: str,
    known: Callable[[str], bool],
    mentions: Callable[[str], bool] | None = None,
) -> tuple[str, ...]:
    """The salient runs of `question` the corpus lacks, unless the corpus `mentions` another
    name of the same thing ("America" in an essay that says "U.S.").

    A one-word name is judged by `known` (the corpus's words, across endings: "China" finds
    "Chinese"). A name of several words is judged as a whole by `mentions` (the corpus says
    the phrase), because its words alone mislead: "Kim Yo Jong" shares two of three with "Kim
    Jong Un", "Cuban Missile Crisis" ends in a word any essay on a crisis uses, and "United
    Nations" is made of "United" (States) and "nations". Without `mentions` (a word list, no
    text), a name is judged by all of its words. A number inside a name ("the 1994 Agreed
    Framework") is judged alone: a question may place it where the text does not.
    """
    missing: list[str] = []
    for written, runs in salient_names(question):
        group_absent: list[str] = []
        whole = True
        for run in runs:
            terms = _terms(run)
            absent = [
                term
                for term in terms
                if not _present(term, known, mentions)
                and not (mentions is not None and _named_otherwise(term, mentions))
            ]
            whole = whole and len(absent) == len(terms)
            if len(terms) > 1 and len(absent) == len(terms):
                # Nothing of it is used: named as the reader wrote it ("the 2018 World Cup").
                absent = [" ".join(_trimmed(run.split(" ")))]
            group_absent.extend(absent)
        if len(runs) > 1 and whole:
            # No part of a name of several runs is used: "Bank of England", not "Bank" and
            # "England".
            group_absent = [" ".join(_trimmed(written.split()))]
        missing.extend(term for term in group_absent if term not in missing)
    return tuple(missing)


def _terms(run: str) -> list[str]:
    """`run` cut into its numbers, its hyphenated acronyms and the names between them,
    leading and trailing function words dropped ("The Holy Club" quoted at a question's start
    is the Holy Club). A hyphenated pair of acronyms ("EU-UK") names the parties of what
    follows, not the thing itself: each party is judged alone, like a number."""
    terms: list[str] = []
    name: list[str] = []
    for word in run.split(" "):
        parts = word.split("-")
        parties = len(parts) > 1 and all(is_acronym(part) for part in parts)
        if word.isdigit() or parties:
            terms.extend([" ".join(_trimmed(name)), *parts])
            name = []
        else:
            name.append(word)
    terms.append(" ".join(_trimmed(name)))
    return [term for term in terms if term]


def _trimmed(words: list[str]) -> list[str]:
    def function_word(word: str) -> bool:
        return not tokenize(word) and not is_acronym(word)

    while words and function_word(words[0]):
        words = words[1:]
    while words and function_word(words[-1]):
        words = words[:-1]
    return words


def _present(
    term: str, known: Callable[[str], bool], mentions: Callable[[str], bool] | None
) -> bool:
    words = tokenize(term)
    if not words:
        return True  # nothing to look for ("The" alone)
    if len(words) == 1 or is_acronym(term):
        return known(words[-1])
    if mentions is None:
        return all(known(word) for word in words)
    return mentions(term)


def _named_otherwise(run: str, mentions: Callable[[str], bool]) -> bool:
    # The whole run ("North Korean"), else its last word, the head of a head-last name
    # ("Tokyo" of "Greater Tokyo").
    last = _WORD.findall(run)[-1] if _WORD.search(run) else run
    names = alternatives(run) or alternatives(_POSSESSIVE.sub("", last))
    # A compass point abbreviated ("NE Asia" for "Northeast Asia"), and an acronym that may
    # be the initials of a name the corpus spells out ("JFK"); `mentions` knows those.
    names += spelled_out(run)
    if is_acronym(run):
        names += (run,)
    return any(mentions(name) for name in names)


def phrase_pattern(name: str) -> re.Pattern[str]:
    """Where a text says the name `name`: its words in order, each with a plural or possessive
    ending, across spaces and hyphens ("Moon Jae-in", "Moon Jae In"), with up to two
    capitalised words or name particles between them ("James Clerk Maxwell" says "James
    Maxwell", "George W. Bush" says "George Bush")."""
    words = [w for w in re.findall(r"[^\W_]+", _POSSESSIVE.sub("", name)) if w]
    parts = []
    for word in words:
        base = word[:-1] if len(word) > 3 and word.lower().endswith("s") else word
        parts.append(rf"(?i:{re.escape(base)}(?:e?s|['’]s)?)")
    between = r"(?:['’]s)?[\s\-‐–]+"
    particle = r"(?i:of|the|de|da|del|der|van|von|bin|al)"
    inserted = rf"(?:(?:[A-Z][\w'’\-]*\.?|{particle}){between}){{0,2}}"
    return re.compile(r"(?<!\w)" + (between + inserted).join(parts) + r"(?!\w)")
