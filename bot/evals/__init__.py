"""Retrieval-quality evaluation and the shipped question sets (`footnote eval` works installed)."""

from pathlib import Path

QUESTION_SETS = Path(__file__).parent
KOREAN_CRISIS_QUESTIONS = QUESTION_SETS / "korean_crisis.json"
