"""Rare words of a question that the corpus never uses: "The essays never mention byungjin."

The missing-name rule (bot/search/missing.py) judges what a question capitalises. A word in
lower case is judged here, by how common it is in English (the `wordfreq` package's English
list, bundled with it, so it works offline): a paraphrase uses common words ("pointless",
"backfire", "roadmap"), a topic the essays never touch is often a rare one ("byungjin", or a
lower-case place, "yeonpyeong"). Two cuts, both in Zipf units (log10 of uses per billion
words; 3 is once per million):

- below `RARE_BELOW` a word the corpus never uses makes the question absent, named. No
  reader question of the tune sets uses an unknown word below 2.4 (see README "Verdicts").
- below `NAMED_BELOW` such a word is only *named* when the question is refused anyway (its
  score is below the corpus's cut): "cryptocurrency" (3.3) is as common as "roadmap" (3.2),
  which readers use for the essay's "plan", so it may not decide; it may say why.

Before a word counts as unused it must survive the guards a demanding reader needs: function
words are skipped; the corpus's own words are found across endings and accents
(`knows`), across British and American spellings ("denuclearisation"), across a typo or a
derivation (`close_to`: "sanctoins", "negotiator"); and a rare word one letter from a common
English word, or two common words run together, is taken for a typo ("dificult", "whatare").
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Iterator

from bot.index.lexical import tokenize
from bot.search.missing import salient_spans
from bot.text import without_accents

__all__ = [
    "NAMED_BELOW",
    "RARE_BELOW",
    "english_zipf",
    "load_word_frequencies",
    "spellings",
    "unused_words",
]

# Zipf units; chosen on the tune questions (README "Verdicts").
RARE_BELOW = 2.0
NAMED_BELOW = 3.5
# Shorter words are mostly abbreviations, chat ("tl", "lol") or typos: not judged.
_MIN_LETTERS = 4

_LATIN_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_POSSESSIVE = re.compile(r"['’]s$")

# British and American spellings, each way: "denuclearisation" is the essay's
# "denuclearization", "defense" a text's "defence". Used only to look words up, so a variant
# that is no English word ("mattre" of "matter") costs nothing.
_SPELLINGS: tuple[tuple[str, str], ...] = (
    ("isation", "ization"),
    ("ization", "isation"),
    (r"is(e|ed|es|ing|er|ers)$", r"iz\1"),
    (r"iz(e|ed|es|ing|er|ers)$", r"is\1"),
    (r"ys(e|ed|es|ing)$", r"yz\1"),
    (r"yz(e|ed|es|ing)$", r"ys\1"),
    (r"our", "or"),
    (r"([^aeiou])or(s|ed|ing|ful|able|ite|ites)?$", r"\1our\2"),
    (r"tre(s?)$", r"ter\1"),
    (r"ter(s?)$", r"tre\1"),
    (r"ence$", "ense"),
    (r"ense$", "ence"),
    (r"ogue$", "og"),
    (r"og$", "ogue"),
    (r"ll(ed|ing|er|ers)$", r"l\1"),
    (r"([^l])l(ed|ing|er|ers)$", r"\1ll\2"),
)


def spellings(word: str) -> list[str]:
    """`word` and its other spellings, British to American and back."""
    found = [word]
    for pattern, replacement in _SPELLINGS:
        other = re.sub(pattern, replacement, word)
        if other not in found:
            found.append(other)
    return found


@functools.cache
def _english() -> dict[str, int]:
    """Each English word used at least `RARE_BELOW` (Zipf) times, with its bucket in the list
    (wordfreq's "cBpack": bucket i holds the words of Zipf 9 - i/100). Read once, at the first
    word that needs it (`footnote --help`, `sections` and `cite` never import wordfreq), and
    only that part kept, ~96,000 words: with wordfreq's import, ~0.3 s and ~40 MB of the
    process's memory, where its own look-up (`zipf_frequency`) keeps all 321,000 words twice
    and costs ~65 MB."""
    from wordfreq import available_languages, read_cBpack

    buckets = read_cBpack(available_languages("large")["en"])
    words: dict[str, int] = {}
    for bucket, listed in enumerate(buckets):
        if _zipf(bucket) < RARE_BELOW:
            break
        for word in listed:
            words.setdefault(word, bucket)
    return words


def _zipf(bucket: int) -> float:
    return round(9 - bucket / 100, 2)


def load_word_frequencies() -> None:
    """Load the English word list now (a server's start-up), not at the first question."""
    _common_english()


def english_zipf(word: str) -> float:
    """How common `word` is in English, in Zipf units, the most common of its spellings; 0 for
    a word used less than `RARE_BELOW`."""
    english = _english()
    folded = unicodedata.normalize("NFC", word.lower())
    buckets = [english[spelling] for spelling in spellings(folded) if spelling in english]
    return _zipf(min(buckets)) if buckets else 0.0


@functools.cache
def _common_english() -> frozenset[str]:
    """The words used once per million words or more (Zipf 3): those a typo is most likely
    of."""
    return frozenset(word for word, bucket in _english().items() if _zipf(bucket) >= 3)


def _slip_of_common(word: str) -> bool:
    """Whether `word` is a common English word mistyped: one edit from one (a swap of two
    letters counts as one: "pointlesss", "excercise"), or two run together ("whatare"). One
    edit only: two from some common word is true of many rare words ("presbyters",
    "presenters"); a corpus's own words are found at two (`close_to`)."""
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    common = _common_english()
    run_together = any(
        word[:cut] in common and word[cut:] in common for cut in range(3, len(word) - 2)
    )
    if run_together:
        return True
    return process.extractOne(word, common, scorer=OSA.distance, score_cutoff=1) is not None


def _candidates(question: str) -> Iterator[str]:
    """The lower-case words of `question`, and its capitalised first words, as written:
    capitalised words past a sentence's first are names, the missing-name rule's."""
    spans = [(start, end) for _, start, end in salient_spans(question)]
    for match in _LATIN_WORD.finditer(question):
        if any(start <= match.start() < end for start, end in spans):
            continue
        word = _POSSESSIVE.sub("", match.group())
        # English frequencies say nothing of another script's words ("双轨制").
        latin = without_accents(word)
        if (
            len(word) >= _MIN_LETTERS
            and word.isalpha()
            and latin.isascii()
            and len(latin) == len(word)
        ):
            yield word


def unused_words(
    question: str,
    knows: Callable[[str], bool],
    close_to: Callable[[str], bool],
    below: float = NAMED_BELOW,
) -> list[tuple[str, float]]:
    """The words of `question` the corpus never uses and English uses less than `below`
    (Zipf), each with its Zipf frequency, as the question writes them.

    `knows` is the corpus's word look-up (a token as `tokenize` makes it, across endings),
    `close_to` whether the corpus uses a word this one may be a typo or a derivation of.
    """
    found: list[tuple[str, float]] = []
    for word in _candidates(question):
        tokens = tokenize(word)
        if not tokens:
            continue  # a function word
        if any(
            knows(token) or close_to(token)
            for spelling in spellings(word.lower())
            for token in tokenize(spelling)
        ):
            continue
        zipf = english_zipf(word)
        # A word English uses is no slip, though it may split into two ("photosynthesis");
        # the English list holds common misspellings too, seldom ("develpment": 1.0).
        if zipf >= below or (zipf < RARE_BELOW and _slip_of_common(word.lower())):
            continue
        if word not in (w for w, _ in found):
            found.append((word, zipf))
    return found
