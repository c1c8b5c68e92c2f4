"""Rows copied a run at a time equal rows copied one by one (bot/index/runs.py)."""

from __future__ import annotations

import numpy as np
import pytest

from bot.index.runs import copy_rows, copy_segments, ranges

CASES = {
    # Two long runs with a gap on each side (a removed and an inserted document).
    "runs": (np.r_[0:300, 340:600], np.r_[50:350, 400:660]),
    # Scattered rows: too short to be worth a slice each.
    "scattered": (np.arange(0, 600, 3), np.random.default_rng(1).permutation(700)[:200]),
    "empty": (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_copy_rows_equals_a_gather(case: str) -> None:
    to, of = (np.asarray(rows, dtype=np.int64) for rows in CASES[case])
    source = np.random.default_rng(0).standard_normal((700, 4)).astype(np.float32)
    expected = np.zeros((660, 4), dtype=np.float32)
    expected[to] = source[of]
    copied = np.zeros_like(expected)
    copy_rows(copied, to, source, of)
    assert copied.tobytes() == expected.tobytes()


@pytest.mark.parametrize("case", sorted(CASES))
def test_copy_segments_equals_a_gather(case: str) -> None:
    to, of = (np.asarray(rows, dtype=np.int64) for rows in CASES[case])
    rng = np.random.default_rng(2)
    source_sizes = rng.integers(0, 5, 700)
    sizes = np.zeros(660, dtype=np.int64)
    sizes[to] = source_sizes[of]
    source_starts = np.concatenate([[0], np.cumsum(source_sizes)]).astype(np.int64)
    starts = np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64)
    source = rng.integers(0, 1000, int(source_starts[-1]))
    expected = np.full(int(starts[-1]), -1)
    expected[ranges(starts[to], sizes[to])] = source[ranges(source_starts[of], sizes[to])]
    copied = np.full_like(expected, -1)
    copy_segments(copied, starts, to, source, source_starts, of)
    assert copied.tolist() == expected.tolist()
