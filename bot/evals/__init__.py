"""Retrieval-quality evaluation and the shipped question sets (`footnote eval` works installed)."""

from pathlib import Path

QUESTION_SETS = Path(__file__).parent
# The first 46 questions and 20 off-topic ones: weights were chosen on them (all "tune").
KOREAN_CRISIS_QUESTIONS = QUESTION_SETS / "korean_crisis.json"
# Issue 9's sets, written before tuning: reader-style questions split tune/held-out, held-out
# off-topic questions, and held-out questions about names the essay never mentions.
KOREAN_CRISIS_READER = QUESTION_SETS / "korean_crisis_reader.json"
KOREAN_CRISIS_OFF_TOPIC = QUESTION_SETS / "korean_crisis_off_topic.json"
KOREAN_CRISIS_ABSENT = QUESTION_SETS / "korean_crisis_absent.json"
KOREAN_CRISIS_SETS = (
    KOREAN_CRISIS_QUESTIONS,
    KOREAN_CRISIS_READER,
    KOREAN_CRISIS_OFF_TOPIC,
    KOREAN_CRISIS_ABSENT,
)
