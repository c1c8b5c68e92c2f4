"""Callback data (bot/callbacks.py): at most 64 bytes, exact round trips, forgeries refused."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.render.callbacks import (
    MAX_CALLBACK_BYTES,
    MAX_RESULTS,
    MAX_SECTION_NO,
    CallbackDataError,
    Results,
    ShowParagraph,
    ShowResult,
    ShowSection,
    ShowSectionOf,
    decode,
    doc_key,
    encode_paragraph,
    encode_results,
    encode_section,
    encode_section_of,
)

passage_ids = st.text(alphabet="0123456789abcdef", min_size=12, max_size=12)
highlights = st.one_of(st.none(), st.integers(min_value=0, max_value=2))
result_lists = st.lists(st.tuples(passage_ids, highlights), min_size=1, max_size=MAX_RESULTS)


def fits(data: str) -> str:
    assert 1 <= len(data.encode("utf-8")) <= MAX_CALLBACK_BYTES
    return data


@given(result_lists, st.integers(min_value=0, max_value=MAX_RESULTS - 1), st.booleans())
def test_results_round_trip(
    items: list[tuple[str, int | None]], position: int, closest: bool
) -> None:
    results = Results(tuple(items), closest=closest)
    data = fits(encode_results(results, position))
    press = decode(data)
    assert press == ShowResult(results, min(position, len(items) - 1))
    assert isinstance(press, ShowResult) and press.results.closest is closest


def test_results_beyond_the_limit_are_dropped_and_positions_clamped() -> None:
    items = tuple((f"{i:012x}", i % 3) for i in range(MAX_RESULTS + 3))
    data = fits(encode_results(Results(items), 99))
    press = decode(data)
    assert isinstance(press, ShowResult)
    assert press.results.items == items[:MAX_RESULTS]
    assert press.position == MAX_RESULTS - 1
    assert decode(encode_results(Results(items), -5)) == ShowResult(Results(items[:MAX_RESULTS]), 0)
    # A highlight past the third sentence is clamped (a window holds at most 3 sentences).
    assert decode(encode_results(Results((("0" * 12, 7),)), 0)) == ShowResult(
        Results((("0" * 12, 2),)), 0
    )


@given(passage_ids)
def test_paragraph_and_section_of_round_trip(passage_id: str) -> None:
    assert decode(fits(encode_paragraph(passage_id))) == ShowParagraph(passage_id)
    assert decode(fits(encode_section_of(passage_id))) == ShowSectionOf(passage_id)


@given(st.text(min_size=0, max_size=300), st.integers(min_value=0, max_value=MAX_SECTION_NO))
def test_section_round_trip(doc_id: str, section_no: int) -> None:
    data = fits(encode_section(doc_id, section_no))
    assert decode(data) == ShowSection(doc_key(doc_id), section_no)


def test_encoders_refuse_what_they_could_not_decode() -> None:
    for bad in ("", "ABCDEF012345", "0123456789a", "0123456789abc", "<b>x</b>"):
        with pytest.raises(ValueError):
            encode_paragraph(bad)
        with pytest.raises(ValueError):
            encode_section_of(bad)
        with pytest.raises(ValueError):
            encode_results(Results(((bad, None),)), 0)
    with pytest.raises(ValueError):
        encode_results(Results(()), 0)
    for number in (-1, MAX_SECTION_NO + 1):
        with pytest.raises(ValueError):
            encode_section("doc", number)


FORGED = [
    None,
    "",
    "r9:zzz",
    "r0:",
    "r4:0123456789ab-",  # position past the results
    "r9:0123456789ab-0123456789ab0",
    "r0:0123456789ab3",  # highlight index out of range
    "r0:" + "0123456789ab-" * 5,  # more results than a button ever holds
    "r0x:0123456789ab-",  # an unknown verdict mark
    "r0cc:0123456789ab-",
    "rc0:0123456789ab-",
    "r١:0123456789ab-",  # a non-ASCII digit
    "p:0123456789AB",
    "p:0123456789a",
    "p:0123456789abc",
    "p:0123456789ab\n",  # "$" would have let the newline through
    "\np:0123456789ab",
    " p:0123456789ab",
    "s:",
    "s:xyz",
    "t:0123abcd:",
    "t:0123abcd:-1",
    "t:0123abcd:0001",
    "t:0123abcd:1234567",
    "t:0123abcd:١٢",
    "t:0123ABCD:1",
    "x",
    "more:1",
    "\x00" * 64,
    "é" * 32,
    "A" * 64,
    "p:" + "0" * 62,
]


@pytest.mark.parametrize("data", FORGED)
def test_forged_data_raises(data: str | None) -> None:
    with pytest.raises(CallbackDataError):
        decode(data)


def test_random_garbage_raises_callback_data_error_only() -> None:
    rng = random.Random(20240601)
    for _ in range(2000):
        size = rng.randint(1, MAX_CALLBACK_BYTES)
        data = bytes(rng.randrange(256) for _ in range(size)).decode("utf-8", "replace")
        for candidate in (data, "r0:" + data, "p:" + data, "t:" + data):
            try:
                press = decode(candidate)
            except CallbackDataError:
                continue
            # The odd random string that happens to be well-formed must decode exactly.
            assert isinstance(press, ShowResult | ShowParagraph | ShowSectionOf | ShowSection)


def test_callback_data_error_is_a_value_error() -> None:
    assert issubclass(CallbackDataError, ValueError)
    with pytest.raises(ValueError, match="unknown callback data"):
        decode("nonsense")
