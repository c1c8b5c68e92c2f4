"""Events a question writes in lower case after a name: "the Tallinn grain crisis". The
missing-name rule (bot/search/missing.py) judges such a phrase when the corpus uses its name
("Tallinn") but may never say the event: "The essays never mention the Tallinn grain crisis."
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.index.lexical import tokenize
from bot.search.aliases import alternatives, is_acronym

# The nouns that make an event or a pact of a name written before them in lower case ("the
# Tallinn grain crisis", "the Vilnius trade talks"), with their plurals. Words for ideas and
# plans ("proposal", "plan", "idea") are left out: a reader's "the Chinese plan" paraphrases.
# Event nouns in groups of near-synonyms: a reader's "deal" may be the text's "agreement", and
# the noun's plural or other spelling its own.
_EVENT_GROUPS: tuple[tuple[str, ...], ...] = (
    ("deal", "deals", "accord", "accords", "agreement", "agreements", "treaty", "treaties"),
    ("deal", "pact", "pacts", "convention", "framework", "act"),
    ("talks", "negotiations", "summit", "summits", "conference"),
    ("crisis", "crises", "war", "wars", "conflict", "invasion", "incident", "coup"),
    ("crisis", "uprising", "revolution", "massacre"),
    ("sanctions", "embargo", "blockade"),
)
_EVENT_NOUNS = frozenset(noun for group in _EVENT_GROUPS for noun in group) - {
    "conflict",  # "the Korean conflict" reads as a description, not the name of one event
    "framework",  # a plan's word ("the Beijing framework"), like "plan" and "proposal"
}
# A name after one of these is the subject of the verb that follows ("Did the UN impose
# sanctions?"), not a modifier of a noun. Not "is" or "was": the word after "is the Oslo" is a
# noun ("What is the Oslo peace treaty?"), or a participle, which the rule never takes.
_AUXILIARIES = frozenset(
    {
        "do",
        "does",
        "did",
        "will",
        "would",
        "can",
        "could",
        "should",
        "shall",
        "might",
        "may",
        "must",
        "has",
        "have",
        "had",
    }
)
# The event nouns a verb cannot take without an article ("want talks", "want war" can).
_COPULAS = frozenset({"is", "was", "are", "were"})
_COUNTABLE_EVENTS = frozenset(
    {
        "crisis",
        "deal",
        "accord",
        "agreement",
        "treaty",
        "summit",
        "act",
        "pact",
        "conference",
        "convention",
        "embargo",
        "blockade",
        "invasion",
        "incident",
        "massacre",
        "uprising",
        "coup",
    }
)
# How most adjectives of peoples and places end ("Korean", "Russian", "American", "Cuban",
# "Chinese", "British"): such an adjective before an event says whose it is, as a reader's
# paraphrase may ("the Chinese freeze deal"), while a place's own name ("the Oslo summit",
# "the Iran deal") names one event. Names of places with these endings ("Vatican") are left
# unjudged, which costs nothing but a missed name.
_DEMONYM_ENDINGS = ("ean", "ian", "can", "ban", "ese", "ish")
_LOWER_WORD = re.compile(r"[a-z][a-z\-]*")


def event_phrases(question: str, spans: list[tuple[list[str], int, int]]) -> list[tuple[str, str]]:
    """The events `question` writes after "the" as a name followed in lower case by up to two
    words and an event noun ("the Tallinn grain crisis"), each with its name ("Tallinn").
    `spans` are the question's salient runs with where they stand (missing.salient_spans).

    After an auxiliary ("Did the Tallinn council want talks?") the name may be the subject of
    the verb that follows it: then a word must stand between the name and a singular noun that
    takes an article ("Could the Tallinn grain deal work?"; "war" and plurals, which may be
    objects alone, are left out). Otherwise a noun followed by another ("the Tallinn crisis
    team") is part of a longer name the rule does not judge."""
    phrases: list[tuple[str, str]] = []
    for words, start, end in spans:
        before = re.findall(r"[\w'’]+", question[:start].lower())[-2:]
        if not before or before[-1] != "the":
            continue
        subject = len(before) > 1 and before[0] in _AUXILIARIES
        # A question that opens with "Is" or "Was" may put an adjective after the noun ("Was
        # the Oslo summit useful?"); after "What is" a noun there makes a longer name.
        opening = re.findall(r"[\w'’]+", question[:start].lower())
        predicate = len(opening) == 2 and opening[0] in _COPULAS
        if question[start:end] != " ".join(words) or not words[-1][0].isupper():
            continue  # a possessive ("the Tallinn's"), or a year ("the 1994 deal") closes it
        if is_acronym(words[-1]) and len(words) == 1:
            continue  # an acronym alone: "the UN" is as often a subject as a modifier
        if any(part[:1].islower() for part in words[-1].split("-")[1:]):
            continue  # an adjective made with a hyphen: "the Oslo-based", "the US-led"
        if words[-1].lower().endswith(_DEMONYM_ENDINGS):
            continue  # "the Chinese peace treaty" describes; "the Oslo peace treaty" names
        tail = question[end:].split()[:4]
        for length in range(1, min(len(tail), 3) + 1):
            phrase = [word.rstrip("?!.,;:") for word in tail[:length]]
            if not all(_LOWER_WORD.fullmatch(word) and tokenize(word) for word in phrase):
                break
            head, middle = phrase[-1], phrase[:-1]
            if any(word.endswith(("ed", "ing", "ly")) for word in middle):
                break  # a participle or an adverb: "the Tallinn-based crisis team"
            if head not in _EVENT_NOUNS:
                continue
            if subject and (not middle or head not in _COUNTABLE_EVENTS):
                break
            # The word after the noun, unless punctuation ends the phrase.
            after = tail[length] if len(tail) > length and tail[length - 1] == head else ""
            after = after.rstrip("?!.,;:")
            if not (subject or predicate) and _LOWER_WORD.fullmatch(after) and tokenize(after):
                break  # "the Tallinn crisis team"
            phrases.append((" ".join([*words, *phrase]), " ".join(words)))
            break
    return phrases


def event_said(
    phrase: str,
    name: str,
    mentions: Callable[[str], bool],
    together: Callable[[str, str], bool] | None = None,
) -> bool:
    """Whether the corpus says the event `phrase` of `name`: as written, without the words
    between the name and the noun ("the Tallinn crisis"), by the name's last word ("the
    Korean crisis" for "the North Korean crisis") or by another name of the same thing, with
    the noun or a near-synonym ("agreement" for "deal"), or (`together`: one sentence holds
    both) with the name and the noun apart, as prose puts them ("the summit in Tallinn" for
    "the Tallinn summit")."""
    head = phrase.split()[-1]
    names = [name, name.split()[-1], *alternatives(name)]
    nouns = [head, *(noun for group in _EVENT_GROUPS if head in group for noun in group)]
    nouns = list(dict.fromkeys(nouns))
    if mentions(phrase) or any(mentions(f"{other} {noun}") for other in names for noun in nouns):
        return True
    return together is not None and any(together(other, noun) for other in names for noun in nouns)
