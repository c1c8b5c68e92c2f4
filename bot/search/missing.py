"""Salient terms of a question that the corpus never uses: "The essays never mention Japan."

A salient term is a name (a run of capitalised words past the question's first word, "Kim Jong
Il", "United Nations Security Council"), an acronym ("THAAD") or a number of three digits or
more (a year). Lower-case words are judged apart, by how common they are in English
(bot/search/rare.py): only a word rarer than a paraphrase ever is ("byungjin", not
"pointless" or "backfire") may call a question absent. An event written in lower case after a
name ("the Iran hostage crisis") is judged here, as a phrase (bot/search/events.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from bot.index.lexical import tokenize
from bot.search.aliases import alternatives, is_acronym, spelled_out
from bot.search.events import event_phrases, event_said

_WORD = re.compile(r"[^\W_](?:[\w'’.\-]*[^\W_])?")
_SENTENCE_END = re.compile(r"[.?!]")
_POSSESSIVE = re.compile(r"['’]s$")
# An initial, or initials written with full stops ("W", "A.Q", "U.S"): the full stop after it
# belongs to the name ("George W. Bush", "A.Q. Khan", "J. R. R. Tolkien"), not a sentence end.
_INITIALS = re.compile(r"[A-Z](?:\.[A-Z])*")


def _salient(word: str, first: bool) -> bool:
    letters = [c for c in word if c.isalpha()]
    if len(letters) >= 2 and all(c.isupper() for c in letters):
        return True  # an acronym, wherever it stands
    if word.isdigit():
        return len(word) >= 3
    # Every question starts with a capital: its first word says nothing.
    return not first and word[0].isupper()


def salient_spans(question: str) -> list[tuple[list[str], int, int]]:
    """The salient runs of `question`, each with where it begins and ends in the text."""
    runs: list[tuple[list[str], int, int]] = []
    open_run = False
    previous_end = -1
    for match in _WORD.finditer(question):
        written, end = match.group(), match.end()
        if _INITIALS.fullmatch(written) and question[end : end + 1] == ".":
            written, end = written + ".", end + 1
        word = _POSSESSIVE.sub("", written)
        gap = question[previous_end : match.start()] if previous_end >= 0 else ""
        first = previous_end < 0 or bool(_SENTENCE_END.search(gap))
        if not _salient(word, first):
            open_run = False  # the next name starts afresh
        elif open_run and gap.strip() == "":
            words, start, _ = runs[-1]
            runs[-1] = ([*words, word], start, end)
        else:
            runs.append(([word], match.start(), end))
            open_run = True
        if word != written:
            open_run = False  # a possessive ends its name: "Holm's Baltic Exchange" is two
        previous_end = end
    return runs


def salient_runs(question: str) -> list[str]:
    """The names, acronyms and long numbers of a question, adjacent words joined."""
    return [" ".join(words) for words, _, _ in salient_spans(question)]


# What may stand between two parts of one name: "Bank of England", "Institute for Peace",
# "Ministry of the Interior". Not "on" or "in", which mostly place one name on another
# ("Python on Windows", "Kim in Beijing").
_INNER_JOIN = re.compile(r"\s+(?:of|for)(?:\s+the)?\s+")


@dataclass(frozen=True)
class _Part:
    run: str
    start: int
    end: int
    # How the part joins the one before it: "" (first), "possessive", "of" (or "for")
    # or "and".
    join: str


def _groups(question: str) -> list[list[_Part]]:
    groups: list[list[_Part]] = []
    for words, start, end in salient_spans(question):
        run = " ".join(words)
        # A number next to "of" or "and" is a date or a count, not part of a name ("the
        # Korean War of 1950").
        # Nor is an acronym before or after one a part: a title or a party ("the CEO of
        # Samsung", "NATO and the Warsaw Pact").
        previous = groups[-1][-1] if groups else None
        if previous is not None and _joinable(previous.run.split(" ")[-1]) and _joinable(words[0]):
            gap = question[previous.end : start]
            after_possessive = _POSSESSIVE.search(question[: previous.end]) is not None
            join = ""
            if after_possessive and gap.strip() == "":
                join = "possessive"
            elif _INNER_JOIN.fullmatch(gap):
                join = "of"
            elif re.fullmatch(r"\s+and\s+", gap) is not None and len(words) > 1:
                join = "and"
            if join:
                groups[-1].append(_Part(run, start, end, join))
                continue
        groups.append([_Part(run, start, end, "")])
    return groups


def _written(question: str, parts: list[_Part]) -> str:
    """The parts as the question writes them, without a closing possessive ("the Ministry of
    Unification's position" names the Ministry of Unification)."""
    text = _POSSESSIVE.sub("", question[parts[0].start : parts[-1].end])
    return " ".join(_trimmed(text.split()))


def salient_names(question: str) -> list[tuple[str, list[str]]]:
    """The salient runs of `question` grouped into the names a reader wrote, each with the
    name as written: runs joined by a possessive ("Korean People's Army"), by a lower-case
    "of" or "for" ("Bank of England", "Institute for Peace"), or by "and" when a name of
    two or more words follows it ("Peace and Cooperation Initiative"; "Britain and France"
    stays two names)."""
    return [
        (question[group[0].start : group[-1].end], [part.run for part in group])
        for group in _groups(question)
    ]


def _segments(group: list[_Part]) -> list[list[_Part]]:
    """`group` cut where a part may name something of its own: before "and" ("Hamburg and
    Rotterdam Shipping") and after an owner's possessive followed by a name of several words
    ("Lindqvist's Harbour Board"). A possessive before one word is inside a name ("Korean
    People's Army"), as are "of" and "for"."""
    segments: list[list[_Part]] = []
    for part in group:
        owner = part.join == "possessive" and " " in part.run
        if not segments or part.join == "and" or owner:
            segments.append([part])
        else:
            segments[-1].append(part)
    return segments


def _joinable(word: str) -> bool:
    return not word.isdigit() and not is_acronym(word)


def missing_terms(
    question: str,
    known: Callable[[str], bool],
    mentions: Callable[[str], bool] | None = None,
    together: Callable[[str, str], bool] | None = None,
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

    A name of several parts is reported as the question wrote it when a part of it is new
    ("Ministry of Unification", not "Unification"), but a part that may name something of
    its own is reported alone (`_segments`). An event written in lower case after a name the
    corpus uses ("the Tallinn grain crisis") is judged as a phrase (`event_phrases`), said
    also when one sentence holds the name and the noun (`together`).
    """
    missing: list[str] = []

    def add(term: str) -> None:
        if term and term not in missing:
            missing.append(term)

    for group in _groups(question):
        judged = [_absent(part.run, known, mentions) for part in group]
        if len(group) > 1 and all(whole for _, whole in judged):
            # No part of a name of several runs is used: "Bank of England", not "Bank" and
            # "England".
            add(_written(question, group))
            continue
        at = 0
        for segment in _segments(group):
            absent = [term for terms, _ in judged[at : at + len(segment)] for term in terms]
            at += len(segment)
            if len(segment) > 1 and absent:
                # "Ministry of Unification", not "Unification": the name the reader wrote.
                absent = [_written(question, segment)]
            for term in absent:
                add(term)
    if mentions is not None:
        for phrase, name in event_phrases(question, salient_spans(question)):
            if name not in missing and not event_said(phrase, name, mentions, together):
                add(phrase)
    return tuple(missing)


def _absent(
    run: str, known: Callable[[str], bool], mentions: Callable[[str], bool] | None
) -> tuple[list[str], bool]:
    """The terms of one run the corpus lacks, and whether it lacks them all; a run of several
    terms none of which it uses is one term, named as the reader wrote it ("the 2018 World
    Cup"). A name the corpus lacks is named with the hyphenated parties written directly
    before it ("the EU-Mercosur Trade Accord", not "Trade Accord"): they are part of the name
    as written, though each is judged alone."""
    terms = _terms(run)
    absent = [
        term
        for term in terms
        if not _present(term.text, known, mentions)
        and not (mentions is not None and _named_otherwise(term.text, mentions))
    ]
    whole = len(absent) == len(terms)
    if len(terms) > 1 and whole:
        return [" ".join(_trimmed(run.split(" ")))], whole
    # The hyphenated words whose name, written after them, is absent: named with it.
    led = {term.compound for term in absent if not term.party and term.compound >= 0}
    words = run.split(" ")
    named = []
    for term in absent:
        if term.party and term.compound in led:
            continue  # inside the name it leads
        lead = "" if term.party or term.compound < 0 else words[term.compound] + " "
        named.append(lead + term.text)
    return named, whole


@dataclass(frozen=True)
class _Term:
    text: str
    # A party ("EU" of "EU-UK") or a name or number.
    party: bool = False
    # Which word of the run is the hyphenated word of a party, or, for a name, the one
    # written directly before it; -1 for none.
    compound: int = -1


def _terms(run: str) -> list[_Term]:
    """`run` cut into its numbers, its hyphenated acronyms and the names between them,
    leading and trailing function words dropped ("The Holy Club" quoted at a question's start
    is the Holy Club). A hyphenated pair of acronyms ("EU-UK"), or of an acronym and a name
    ("US-China"), names the parties of what follows, not the thing itself: each party is
    judged alone, like a number."""
    terms: list[_Term] = []
    name: list[str] = []
    lead = -1  # the hyphenated word of parties directly before the name being read

    def close() -> None:
        text = " ".join(_trimmed(name))
        if text:
            terms.append(_Term(text, compound=lead))

    for at, word in enumerate(run.split(" ")):
        parts = word.split("-")
        # "EU-UK", "US-China": acronyms, or names beside one, joined by a hyphen.
        parties = (
            len(parts) > 1
            and any(is_acronym(part) for part in parts)
            and all(part[:1].isupper() for part in parts)
        )
        if word.isdigit() or parties:
            close()
            if parties:
                terms.extend(_Term(part, party=True, compound=at) for part in parts if part)
            else:
                terms.append(_Term(word))
            name, lead = [], at if parties else -1
        else:
            name.append(word)
    close()
    return terms


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
    return any(mentions(spelling) for spelling in _initials_spellings(term))


_SPACED_INITIALS = re.compile(r"\b[A-Z]\.(?:\s+[A-Z]\.)+")
_JOINED_INITIALS = re.compile(r"\b[A-Z](?:\.[A-Z])+\.")


def _initials_spellings(name: str) -> list[str]:
    """`name` as written, and with its initials joined or spaced the other way ("P. J.
    Aaltonen", "P.J. Aaltonen"): the index reads "P.J." as one word, "P. J." as two."""
    joined = _SPACED_INITIALS.sub(lambda m: re.sub(r"\s+", "", m.group()), name)
    spaced = _JOINED_INITIALS.sub(lambda m: m.group().replace(".", ". ").rstrip(), name)
    return list(dict.fromkeys([name, joined, spaced]))


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
    Maxwell", "George W. Bush" says "George Bush"), initials written with or without full
    stops ("A.Q. Khan", "A. Q. Khan")."""
    words = [w for w in re.findall(r"[^\W_]+", _POSSESSIVE.sub("", name)) if w]
    between = r"(?:['’]s)?[\s\-‐–]+"
    particle = r"(?i:of|the|de|da|del|der|van|von|bin|al)"
    inserted = rf"(?:(?:[A-Z][\w'’\-]*\.?|{particle}){between}){{0,2}}"
    # After an initial, its full stop: "A.Q. Khan", "A. Q. Khan" (not "Lars. Holm").
    after_initial = rf"(?:\.?{between}|\.)"
    pattern = ""
    for at, word in enumerate(words):
        if at:
            pattern += (after_initial if len(words[at - 1]) == 1 else between) + inserted
        base = word[:-1] if len(word) > 3 and word.lower().endswith("s") else word
        pattern += rf"(?i:{re.escape(base)}(?:e?s|['’]s)?)"
    return re.compile(r"(?<!\w)" + pattern + r"(?!\w)")
