"""What a corpus says: the words and names it uses, asked by the missing-name rule
(bot/search/missing.py) through `knows`, `mentions` and `together`."""

from __future__ import annotations

import bisect
import itertools
import re
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from bot.index.initials import initialisms, read_initials
from bot.index.lexical import index_terms, tokenize
from bot.index.store import IndexStore
from bot.search.aliases import is_acronym
from bot.search.missing import phrase_pattern
from bot.text import without_accents

if TYPE_CHECKING:
    from numpy.typing import NDArray

__all__ = ["CorpusWords"]

# Passages read to find a name of several words with a middle name between its words, and
# how many such answers (and `close_to`'s) are kept.
_PHRASE_ROWS = 64
_PHRASE_CACHE = 4096


class CorpusWords:
    """The words, names and initials of one index, looked up lazily and cached."""

    def __init__(self, store: IndexStore) -> None:
        self._store = store
        # Acronyms looked up so far ("US": written in capitals somewhere?), filled lazily.
        self._acronyms: dict[str, bool] = {}
        # Names of several words looked up so far (`_says`).
        self._phrases: dict[str, bool] = {}
        # Words looked up by `close_to` so far: each costs a fuzzy pass over the vocabulary
        # (~6 ms at 100,000 words).
        self._near: dict[str, bool] = {}

    @cached_property
    def _plain_vocabulary(self) -> list[str]:
        """The corpus's words without accents, sorted, so that "Schrodinger" finds
        "Schrödinger" and "China" finds "Chinese" by a binary search.  Built once per index,
        at the first question that needs it rather than at opening: `footnote sections` and
        `cite` never ask, and on Python's documentation it costs ~0.1 s."""
        return sorted({without_accents(term) for term in self._store.bm25.words()})

    def knows(self, word: str) -> bool:
        """Whether the corpus uses `word` (a token as `tokenize` makes it) or a word that
        differs only in accents or in an ending ("China" and "Chinese", "Japan" and
        "Japanese"): at most the last two letters of a word of five or more may differ, a
        word of four may be followed by an ending ("Cuba", "Cuban"), one of two or three
        letters must be the corpus's own ("Xi" is not "xinhua", nor "Abe" "able")."""
        if word in self._store.bm25.idf:
            return True
        plain = without_accents(word)
        stem = plain if len(plain) < 5 else plain[: max(4, len(plain) - 2)]
        vocabulary = self._plain_vocabulary
        at = bisect.bisect_left(vocabulary, stem)
        if len(plain) < 4:
            return at < len(vocabulary) and vocabulary[at] == plain
        return at < len(vocabulary) and vocabulary[at].startswith(stem)

    def close_to(self, word: str) -> bool:
        """Whether the corpus uses a word that `word` (a token as `tokenize` makes it) may be a
        typo or a derivation of: one edit away, a swap of two letters counted as one ("sanctoin"
        for "sanction"; two edits for a word of eight letters or more), or sharing its first
        six letters ("negotiator" and "negotiation"), or with a word of five or more letters
        that it begins with ("disarmament" after "disarm"). The rare-word rule asks it
        (bot/search/rare.py): a word the corpus nearly uses is not one it never mentions."""
        near = self._near.get(word)
        if near is None:
            near = self._close_to(word)
            if len(self._near) >= _PHRASE_CACHE:
                self._near.clear()  # words come from questions: bounded, not kept forever
            self._near[word] = near
        return near

    def _close_to(self, word: str) -> bool:
        from rapidfuzz import process
        from rapidfuzz.distance import OSA

        plain = without_accents(word)
        vocabulary = self._plain_vocabulary
        at = bisect.bisect_left(vocabulary, plain[:6])
        if len(plain) >= 6 and at < len(vocabulary) and vocabulary[at].startswith(plain[:6]):
            return True
        if any(plain[:end] in self._store.bm25.idf for end in range(5, len(plain))):
            return True
        edits = 2 if len(plain) >= 8 else 1
        near = process.extractOne(plain, vocabulary, scorer=OSA.distance, score_cutoff=edits)
        return near is not None

    def mentions(self, name: str) -> bool:
        """Whether the corpus uses the name `name` ("U.S.", "North Korea"): a single word as
        `knows` finds it, a name of several words as its words and word pairs, and an acronym
        only where it is written in capitals ("US" is not the pronoun "us")."""
        terms = index_terms(name)
        if not terms:
            return False
        if is_acronym(name):
            return self._acronym_used(name, terms[0]) or name.upper() in self._initialisms
        if len(terms) == 1:
            return self.knows(terms[0])
        return self._says(name)

    @cached_property
    def _initialisms(self) -> frozenset[str]:
        """The initials of the corpus's names of several words ("KJU" for "Kim Jong Un"): a
        reader may shorten a name the text spells out. Read at the first acronym the corpus
        does not write, from the file its build wrote, or found by reading every paragraph
        for an index built before that file existed (bot/index/initials.py)."""
        path = self._store.initials_file
        if path is not None:
            try:
                return read_initials(path)
            except (OSError, ValueError, EOFError):
                pass  # unreadable: the paragraphs say the same, more slowly
        return initialisms(paragraph.text for paragraph in self._store.paragraphs)

    def together(self, name: str, word: str) -> bool:
        """Whether one sentence holds every word of `name` and `word` (an event's name and its
        noun, said apart: "the summit in Oslo"). A sentence, not a window of three: names
        and nouns of neighbouring sentences are seldom one event."""
        rows: NDArray[np.int64] | None = None
        for term in [*tokenize(name), *tokenize(word)]:
            found = self._store.bm25.rows_with(term)
            rows = found if rows is None else np.intersect1d(rows, found, assume_unique=True)
            if not len(rows):
                return False
        if rows is None:
            return False
        _, first, last = self._windows
        return bool((first[rows] == last[rows]).any())

    @cached_property
    def _windows(self) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.int64]]:
        return self._store.passages.window_columns()

    def _says(self, name: str) -> bool:
        """Whether a passage says the name `name` of several words as a phrase
        (missing.phrase_pattern): each adjacent pair of its words is an indexed word pair,
        else a passage that holds all its words has it with a middle name between them."""
        said = self._phrases.get(name)
        if said is not None:
            return said
        words = tokenize(name)
        bm25 = self._store.bm25
        said = all(f"{a}_{b}" in bm25.idf for a, b in itertools.pairwise(words))
        if not said and all(word in bm25.idf for word in words):
            rows = bm25.rows_with(words[0])
            for word in words[1:]:
                rows = np.intersect1d(rows, bm25.rows_with(word), assume_unique=True)
            pattern = phrase_pattern(name)
            # A few passages suffice: one that says it is enough, and a name whose words
            # share many passages without forming it is rare.
            texts = (self._store.passages[int(row)].text for row in rows[:_PHRASE_ROWS])
            said = any(pattern.search(text) for text in texts)
        if len(self._phrases) >= _PHRASE_CACHE:
            self._phrases.clear()  # names come from questions: bounded, not kept forever
        self._phrases[name] = said
        return said

    def _acronym_used(self, acronym: str, term: str) -> bool:
        used = self._acronyms.get(acronym)
        if used is None:
            letters = [c for c in acronym if c.isalpha()]
            written = re.compile(r"(?<![\w.])" + r"\.?".join(letters) + r"\.?(?!\w)")
            # Once per acronym and index, over the windows that hold its token.
            rows = self._store.bm25.rows_with(term).tolist()
            used = any(written.search(self._store.passages[row].text) for row in rows)
            self._acronyms[acronym] = used
        return used
