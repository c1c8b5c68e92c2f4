"""The shipped essay and small utilities for building throw-away corpora and indexes."""

from __future__ import annotations

import shutil
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
ESSAY = REPO / "corpus" / "4-ways-out-of-the-korean-crisis.txt"
ESSAY_ID = ESSAY.stem
SAMPLES = REPO / "tests" / "data" / "corpus_samples"
EVAL_SET = REPO / "bot" / "evals" / "korean_crisis.json"

EMPTY_SECTION = "Cooperation Spiral Solution"
SECTION_TITLES = ("", "China’s Dual Track Solution", EMPTY_SECTION)
# Sentences per paragraph of the essay, in reading order.
ESSAY_SENTENCES = (1, 1, 11, 10)
ESSAY_PASSAGES = 59  # 1 + 1 + (11 + 10 + 9) + (10 + 9 + 8)

EXTRA_ESSAY = """On Patience

Opening

Diplomacy rewards patience more often than it rewards pressure. A freeze that holds for a
year is worth more than a grand bargain that is never signed.

Closing

Verification is the hard part. Trust grows in small steps, and each step must be checked.
"""


def copy_essay(directory: Path) -> Path:
    """A corpus folder holding a copy of the shipped essay."""
    directory.mkdir(parents=True, exist_ok=True)
    shutil.copy(ESSAY, directory / ESSAY.name)
    return directory


def write_text(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8", newline="")
    return path


def add_note(corpus: Path, number: int) -> Path:
    """A short document of texts no other has, sorting before the others: every row after it
    moves (the add incremental builds are tested with)."""
    text = f"Note {number}\n\nNote {number} holds item {number} alone. Item {number} is new.\n"
    return write_text(corpus / f"0-{number:02d}.txt", text)


def edit_remove_insert(corpus: Path) -> None:
    """One document edited, one removed ("a-patience.txt") and one added before the others
    (every row of the library moves): the change incremental builds are tested against."""
    essay = corpus / ESSAY.name
    essay.write_text(
        essay.read_text(encoding="utf-8").replace("deterrence", "deterrence, always", 1),
        encoding="utf-8",
    )
    (corpus / "a-patience.txt").unlink()
    write_text(corpus / "0-first.txt", EXTRA_ESSAY.replace("Patience", "Firmness"))
