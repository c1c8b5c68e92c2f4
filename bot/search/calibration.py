"""Per-corpus verdict thresholds, fitted when the corpus is indexed and kept in its manifest.

A fixed cut point does not travel: a large corpus has some window that is vaguely like any
question, so its off-topic questions score higher than a small corpus's do. So each corpus is
asked two kinds of question at index time:

- generic questions that no essay collection is about (off_topic_questions.json): their best
  scores show where "not in the essays" lies for this corpus;
- pseudo-questions made from the corpus's own sentences (a few of each sampled sentence's
  content words, as a reader who half remembers it would type them): they show where a
  question the corpus does answer lies.

Both are scored as answers are judged (Ranker.best_score: the verdict score, the best fused
score averaged with the question's weakest word's match in the top windows). "absent"
begins below a point between the two; "answer" begins a fixed share further up (the shares
were chosen by 5-fold cross-validation on the tune questions, README "Verdicts").  A
question that says it is about the text ("the author", "the essay", "does he argue") is absent
only below the off-topic questions' own level (`addressed_below`, bot/search/cues.py).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.index.embedding import Embedder, encode_with_tokens
from bot.index.lexical import tokenize
from bot.index.manifest import Manifest
from bot.index.passages import ParagraphRecord, Passage
from bot.index.postings import LexicalIndex
from bot.index.store import IndexStore
from bot.index.tokens import StoredTokens
from bot.search.library import Library
from bot.search.ranking import Ranker, RetrievalConfig
from bot.search.thresholds import UNCALIBRATED, Thresholds

if TYPE_CHECKING:
    from numpy.typing import NDArray

OFF_TOPIC_QUESTIONS = Path(__file__).with_name("off_topic_questions.json")
MODES = ("hybrid", "dense", "lexical")
PSEUDO_QUESTIONS = 64
# Words of a sentence a pseudo-question keeps: enough to recall it, too few to quote it.
PSEUDO_WORDS = 4
# Off-topic scores are taken at this quantile (a generic question may happen to be on topic,
# "How many legs does a spider have?" in an essay about spiders), pseudo-questions at this one.
OFF_TOPIC_QUANTILE = 0.9
ON_TOPIC_QUANTILE = 0.1
# Where between the two "absent" ends, and where "answer" begins (shares of the gap).
# 0.15, down from 0.2 when the weakest word joined the verdict score: every fold of the
# cross-validation chose it (README "Verdicts").
ABSENT_SHARE = 0.15
ANSWER_SHARE = 0.5
# Where "absent" ends for a question addressed to the text: at the off-topic level itself.
ADDRESSED_SHARE = 0.0


def off_topic_questions() -> list[str]:
    data = json.loads(OFF_TOPIC_QUESTIONS.read_text(encoding="utf-8"))
    return [str(question) for question in data["questions"]]


def pseudo_questions(store: IndexStore, limit: int = PSEUDO_QUESTIONS) -> list[str]:
    """Questions a reader might type about sentences spread evenly through the corpus."""
    singles = [p for p in store.passages if p.first_sentence == p.last_sentence]
    if not singles:
        return []
    picks = np.linspace(0, len(singles) - 1, num=min(limit, len(singles))).round().astype(int)
    questions: list[str] = []
    for index in dict.fromkeys(picks.tolist()):
        words = [w for w in tokenize(singles[index].text) if w.isalpha() and len(w) > 2]
        if len(words) < 2:
            continue
        # Every other content word from the middle on: the sentence's topic without its
        # exact wording (a verbatim fragment would score like a citation).
        middle = len(words) // 4
        kept = words[middle::2][:PSEUDO_WORDS]
        questions.append(" ".join(kept))
    return questions


def fit_thresholds(off_topic: Sequence[float], on_topic: Sequence[float]) -> Thresholds:
    low = float(np.quantile(off_topic, OFF_TOPIC_QUANTILE))
    high = float(np.quantile(on_topic, ON_TOPIC_QUANTILE))
    gap = high - low
    if gap <= 0:
        # No clean gap (a corpus about everything): split the overlap evenly.
        return Thresholds((low + high) / 2, (low + high) / 2, (low + high) / 2)
    return Thresholds(
        low + ABSENT_SHARE * gap, low + ANSWER_SHARE * gap, low + ADDRESSED_SHARE * gap
    )


def calibrate(
    manifest: Manifest,
    passages: list[Passage],
    paragraphs: list[ParagraphRecord],
    vectors: NDArray[np.float32],
    embedder: Embedder,
    lexical: LexicalIndex | None = None,
    faiss_index: Any | None = None,
    tokens: StoredTokens | None = None,
) -> dict[str, dict[str, float]]:
    """The manifest's `calibration`: verdict thresholds per ranking mode for this corpus
    (`lexical` and `faiss_index`: what the build made, so neither is made again; `tokens`:
    its sentences' token embeddings, so the cuts see the re-scored scores answers get)."""
    store = IndexStore(manifest, passages, paragraphs, vectors, faiss_index, lexical, tokens)
    off_topic = off_topic_questions()
    pseudo = pseudo_questions(store)
    if len(pseudo) < 4:
        # Too little text to say anything about: the essay-sized defaults.
        return {mode: UNCALIBRATED[mode].to_json() for mode in MODES}
    query_vectors, query_tokens = encode_with_tokens(embedder, off_topic + pseudo)
    library = Library(store)
    calibration: dict[str, dict[str, float]] = {}
    for mode in MODES:
        ranker = Ranker(store, library, RetrievalConfig(mode=mode, thresholds=UNCALIBRATED[mode]))
        scores = [
            ranker.best_score(
                question, query_vectors[row], query_tokens[row] if query_tokens else None
            )
            for row, question in enumerate(off_topic + pseudo)
        ]
        calibration[mode] = fit_thresholds(
            scores[: len(off_topic)], scores[len(off_topic) :]
        ).to_json()
    return calibration
