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
from bot.search.aliases import alternatives

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


def salient_runs(question: str) -> list[str]:
    """The names, acronyms and long numbers of a question, adjacent words joined."""
    runs: list[list[str]] = []
    previous_end = -1
    for match in _WORD.finditer(question):
        word = _POSSESSIVE.sub("", match.group())
        gap = question[previous_end : match.start()] if previous_end >= 0 else ""
        first = previous_end < 0 or bool(_SENTENCE_END.search(gap))
        if not _salient(word, first):
            if runs and runs[-1]:
                runs.append([])  # close the run: the next name starts afresh
        elif runs and runs[-1] and gap.strip() == "":
            runs[-1].append(word)
        else:
            runs.append([word])
        previous_end = match.end()
    return [" ".join(run) for run in runs if run]


def missing_terms(
    question: str,
    known: Callable[[str], bool],
    mentions: Callable[[str], bool] | None = None,
) -> tuple[str, ...]:
    """The salient runs of `question` whose last word `known` (the corpus) lacks, unless the
    corpus `mentions` another name of the same thing ("America" in an essay that says "U.S.").

    The last word because names are head-last: "Kim Jong Il" is missing from an essay about
    Kim Jong Un, "South Korea" is not missing from one that only says "Korea" and "south"
    nowhere, "United Nations Security Council" is missing from one about the United States.
    """
    missing: list[str] = []
    for run in salient_runs(question):
        words = tokenize(run)
        if not words or known(words[-1]) or run in missing:
            continue
        if mentions is not None and _named_otherwise(run, mentions):
            continue
        missing.append(run)
    return tuple(missing)


def _named_otherwise(run: str, mentions: Callable[[str], bool]) -> bool:
    # The whole run ("North Korean"), else its last word, the head of a head-last name
    # ("Tokyo" of "Greater Tokyo").
    last = _WORD.findall(run)[-1] if _WORD.search(run) else run
    names = alternatives(run) or alternatives(_POSSESSIVE.sub("", last))
    return any(mentions(name) for name in names)
