from __future__ import annotations

import random
import time

import pytest

from bot.index.sentences import split_sentences


def sentences(text: str) -> list[str]:
    return [text[start:end] for start, end in split_sentences(text)]


def assert_gaps_are_whitespace(text: str, spans: list[tuple[int, int]]) -> None:
    """Every non-space character belongs to exactly one sentence."""
    bounds = [0, *(offset for span in spans for offset in span), len(text)]
    for gap_start, gap_end in zip(bounds[::2], bounds[1::2], strict=True):
        assert not text[gap_start:gap_end].strip()


# Each case lists the expected sentences separated by " | "; the input text is the same
# sentences joined by a single space.
SPACED_CASES = [
    "One sentence without a full stop",
    "First. | Second.",
    "Is it? | Yes! | Good.",
    "Really?! | Truly.",
    # abbreviations inside a sentence
    "Mr. Smith met Dr. Jones. | They talked.",
    "Mrs. Park and Prof. Kim agreed.",
    "Fruit, e.g. apples, is sweet.",
    "Fruit, e.g. Fuji apples, is sweet.",
    "One thing, i.e. Peace, matters.",
    "Apples, pears, etc. are fruit.",
    "We ate apples, pears, etc. | Then we slept.",
    "Cats vs. Dogs is a debate.",
    "See No. 5 for details.",
    "Was it? | No. | The answer was clear.",
    "Look at Fig. 3 and pp. 12-14 now.",
    "It opened on Jan. 5 last year.",
    # initials and initialisms
    "J. R. R. Tolkien wrote it. | He was British.",
    "The U.S. Army is large.",
    "He lives in the U.S. | The weather is fine.",
    "Blame belongs with the U.S. side here.",
    "Debate by experts in U.S. media. | Next one.",
    "The U.S.-ROK exercise was large.",
    "We met at 5 p.m. | The talk began.",
    "He left the U.K. | In June he returned.",
    "Acme Inc. Builds things.",
    "Plan B. | Then plan C.",
    # numbers, ellipsis, dashes
    "It cost 3.5 dollars. | Prices rose 2.25 percent.",
    "Version 1.2.3 shipped.",
    "In 2016. | 2017 was worse.",
    "He paused... then went on.",
    "He paused... | Then he went on.",
    "Wait… | What happened?",
    "Impulses—to the point. | No dash splits—ever.",
    "A pause — or not — here.",
    # quotes and brackets
    "Such impulses may be called “normal.” | With a respect for reason, we go on.",
    'He said "Stop." | She stopped.',
    "“Why?” she asked.",
    "It was ‘odd.’ | Then it passed.",
    "(He left.) | She stayed.",
    "They argued (see Fig. 3. Also Fig. 4.) for hours.",
    "End of war. | “Next” began.",
    # Chinese inside English text
    "A double suspension (双暂停) in March 2017 was proposed.",
    "Goals (国家利益的重心由军事向经济的大转移). | Next.",
]


@pytest.mark.parametrize("case", SPACED_CASES)
def test_split(case: str) -> None:
    expected = case.split(" | ")
    assert sentences(" ".join(expected)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", []),
        ("   \n\t ", []),
        ("  Padded.   Spaces.  ", ["Padded.", "Spaces."]),
        ("我们走吧。他说：“好！”然后走了。", ["我们走吧。", "他说：“好！”", "然后走了。"]),
        ("真的吗？是的！", ["真的吗？", "是的！"]),
        ("注意（这里。不分）结束。", ["注意（这里。不分）结束。"]),
        ("First line\nstill the same sentence.", ["First line\nstill the same sentence."]),
        ("A heading\n\nA paragraph.", ["A heading", "A paragraph."]),
    ],
)
def test_split_unspaced(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "Plain. Text here.",
        "  Leading and trailing whitespace.  Two.  ",
        "Mixed 中文。 And English. 好！",
        "Line one.\nLine two.\n\n\nLine three.",
        "((unbalanced. Parens. Here.",
        "closing) without opening. Yes.",
        "...",
        ". . .",
        "?!",
    ],
)
def test_spans_are_stripped_ordered_and_cover_all_words(text: str) -> None:
    spans = split_sentences(text)
    previous_end = 0
    for start, end in spans:
        assert previous_end <= start < end <= len(text)
        assert text[start:end] == text[start:end].strip()
        previous_end = end
    assert_gaps_are_whitespace(text, spans)


def test_random_text_never_breaks_invariants() -> None:
    rng = random.Random(7)
    alphabet = ["U.S.", "Mr.", "a", "The", "3.5", "...", "?", "!", "。", "(", ")"]
    alphabet += ["“", "”", " ", "\n", "x.", "No.", "5"]
    for _ in range(300):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        spans = split_sentences(text)
        assert_gaps_are_whitespace(text, spans)
        assert all(text[s:e] == text[s:e].strip() and s < e for s, e in spans)


def test_linear_on_long_text() -> None:
    # Ten times the text must cost about ten times the time, not a hundred: looking back for
    # the paragraph's start at every period made a paragraph without blank lines quadratic
    # (x28-64 here). A ratio of best-of-three timings, so a loaded machine slows both sides
    # alike; speed itself is measured by `footnote bench --costs`.
    unit = "Dr. Lee saw the U.S. Army base in 2017. It was large (双暂停)! Was it? Yes. "

    def best_time(repeats: int) -> float:
        text = unit * repeats
        times = []
        for _ in range(3):
            began = time.perf_counter()
            spans = split_sentences(text)
            times.append(time.perf_counter() - began)
        assert len(spans) == 4 * repeats
        return min(times)

    small, large = best_time(300), best_time(3000)
    assert large / small < 20, (small, large)
