"""BM25 postings merged from the previous generation's equal postings inverted from scratch
(bot/index/merge.py), whatever changed: documents added before the others, removed, edited."""

from __future__ import annotations

import numpy as np
import pytest

from bot.index.merge import PreviousPostings, merge_postings
from bot.index.postings import Postings, WordCounts, count_words, decode_words, invert
from tests.helpers.essay import ESSAY

PARAGRAPHS = [p for p in ESSAY.read_text(encoding="utf-8").split("\n") if p.strip()]
# Documents of a few sentences each, cut from the essay; the last uses a word no other does.
DOCUMENTS = [
    sentences
    for paragraph in PARAGRAPHS
    for sentences in (paragraph.split(". ")[i : i + 4] for i in range(0, 12, 4))
    if sentences
] + [["Zanzibarian quokkas wander alone.", "Quokkas again."]]


def counted(texts: list[str]) -> WordCounts:
    return count_words(texts, np.full(len(texts), -1, dtype=np.int64), None)


def no_fallback(words: WordCounts, k1: float, b: float) -> Postings:
    raise AssertionError("the merge fell back to inverting everything")


def library(numbers: list[int]) -> list[tuple[int, str]]:
    """(document number, passage text) of each passage of these documents, in order."""
    return [(number, text) for number in numbers for text in DOCUMENTS[number]]


def rebuild(before: list[int], after: list[int], changed: set[int]) -> tuple[Postings, Postings]:
    """The postings of `after` merged from those of `before` (documents in `changed` cut
    again, the others carried), and inverted from scratch."""
    old = library(before)
    old_words = counted([text for _, text in old])
    inverted = invert(old_words)
    previous = PreviousPostings.of(len(old), inverted, set(decode_words(inverted.words)))
    assert previous is not None
    new = library(after)
    carried_from = np.full(len(new), -1, dtype=np.int64)
    for row, (number, _) in enumerate(new):
        if number in before and number not in changed:
            # Its row in the previous generation: the same passage of the same document.
            offset = row - next(r for r, (n, _) in enumerate(new) if n == number)
            carried_from[row] = next(r for r, (n, _) in enumerate(old) if n == number) + offset
    texts = ["" if carried_from[row] >= 0 else text for row, (_, text) in enumerate(new)]
    words = count_words(texts, carried_from, old_words)
    merged = merge_postings(words, carried_from, previous, fallback=no_fallback)
    return merged, invert(counted([text for _, text in new]))


def same(one: Postings, two: Postings) -> None:
    for name in ("vocabulary", "lexicon", "postings", "words", "frequencies"):
        first, second = getattr(one, name), getattr(two, name)
        assert first.dtype == second.dtype and first.tobytes() == second.tobytes(), name


LAST = len(DOCUMENTS) - 1
CASES = {
    "added at the end": (list(range(LAST)), list(range(LAST + 1)), set()),
    "added before the others": (list(range(1, LAST)), list(range(LAST)), set()),
    "removed in the middle": (list(range(LAST)), [n for n in range(LAST) if n != 3], set()),
    "edited": (list(range(LAST)), list(range(LAST)), {2}),
    # The only document with "quokka" is removed: the term and the word leave the index.
    "a word's last document removed": (list(range(LAST + 1)), list(range(LAST)), set()),
    "all at once": (
        list(range(1, LAST + 1)),
        [n for n in range(LAST) if n != 4],
        {6},
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_merged_postings_equal_postings_inverted_from_scratch(case: str) -> None:
    merged, fresh = rebuild(*CASES[case])
    same(merged, fresh)


def test_a_removed_words_last_passage_takes_the_word_with_it() -> None:
    merged, _ = rebuild(*CASES["a word's last document removed"])
    assert b"quokka" not in merged.words.tobytes()


def test_carried_rows_out_of_order_fall_back_to_inverting() -> None:
    old_words = counted(["one two", "three four"])
    previous = PreviousPostings.of(2, invert(old_words))
    carried_from = np.array([1, 0], dtype=np.int64)  # the two passages swapped
    words = count_words(["", ""], carried_from, old_words)
    calls: list[int] = []

    def fallback(words: WordCounts, k1: float, b: float) -> Postings:
        calls.append(len(words.sizes))
        return invert(words, k1, b)

    same(
        merge_postings(words, carried_from, previous, fallback=fallback),
        invert(counted(["three four", "one two"])),
    )
    assert calls == [2]


def test_counts_wider_than_two_bytes_are_kept() -> None:
    texts = ["word " * 70_000, "other words"]
    postings = invert(counted(texts))
    assert postings.frequencies is not None and postings.frequencies.dtype == np.uint32
    assert int(postings.frequencies.max()) == 70_000
