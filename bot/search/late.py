"""Late interaction: the top windows re-scored by MaxSim over stored token embeddings.

For each word piece of the question, its best cosine with the window's token embeddings
(the union of its sentences', stored at index time: bot/index/tokens.py), averaged with idf
weights: the corpus's (over its sentences) times the piece's rarity in general text, read off
the bundled model's vocabulary, which lists its learned pieces most frequent first (the
product cross-validated 177/182 and 226/276 against 175/182 and 222/276 for the corpus's idf
alone, README "Calibration and quality"); punctuation pieces match but do not weigh.  The
question's token embeddings come out of the same forward pass as its vector, so the answer
path stays one encode and one search plus a few small matrix products.

Only the present fused score's top LATE_TOP windows are re-ordered, by weights fitted for
that (scripts/fit_fusion.py --late; README "Calibration and quality": 5-fold CV on the
tune data 175/182 SQuAD unchanged, 180 -> 194/236 essay, quotes no longer).  The re-score
chooses the quote, not the verdict: the re-ordered windows take the fused scores' ladder
(the best of them the best fused score), so the verdict cuts calibrated on the fused score
keep their meaning (letting the re-score decide verdicts too called "What's the weather in
Seoul?" closest, its function words and "Seoul" matching "the" and "Korea" softly).  An
index without tokens, or a question without a word piece to match ("双暂停" is all [UNK]),
keeps the fused order.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from bot.config import DEFAULT_MODEL, split_variant
from bot.index.tokens import StoredTokens, TokenMatrix
from bot.search.features import SIGNALS, CandidateFeatures, FusionWeights

if TYPE_CHECKING:
    from numpy.typing import NDArray

LATE_TOP = 10

# The fused signals' weights in the re-score, and MaxSim's beside them (fitted together on
# the tune data by scripts/fit_fusion.py --late).
LATE_WEIGHTS = FusionWeights(
    window_dense=0.0,
    sentence_dense=0.0,
    rare_term_coverage=0.0,
    variant_coverage=0.08,
    term_coverage=0.0,
    paragraph_coverage=0.06,
    bm25=0.0,
    paragraph_dense=0.19,
    pair_coverage=0.0,
    answer_type=0.02,
)
LATE_MAXSIM = 1.0
# A window's MaxSim never falls when a sentence is added (its tokens are a union): without a
# cost per extra sentence the re-score widened quotes from 1.74 to 2.13 sentences on average
# (the tune data); at 0.01 they are 1.63 and the essay's gain stays (README).
LATE_EXTRA_SENTENCE = 0.01
# Decimals of the re-score compared (late_order).
ROUNDING = 4
# The bundled model's WordPiece vocabulary (bert-base-uncased's) lists its learned pieces from
# "the" (id 1996) down to the rarest (id 29611) by frequency in its training text (Spearman
# 0.79 against wordfreq's English frequencies); before them come the specials and single
# characters, after them single characters as suffixes.  By Zipf's law a piece's frequency is
# about 1/rank, so log(rank) is its idf in general text; the pieces outside the ranked run
# count as the rarest.  A small corpus's own idf is noisy (the essay has 23 sentences: a common
# word that happens to stand in one of them weighs as much as a rare name); the product keeps
# the corpus's idf (what sets its passages apart) and tempers it with the language's.
_RANKED = (1996, 29612)


def general_idf(model: str) -> NDArray[np.float32] | None:
    """Each word-piece id's rarity in general text, log(rank + 1), for the bundled model's
    vocabulary (with or without int8 weights); None for another model, whose re-score keeps
    the corpus's idf alone."""
    if split_variant(model)[0] != DEFAULT_MODEL:
        return None
    first, end = _RANKED
    # "the" is rank 1; every piece outside the ranked run ranks after the last one.
    ranks = np.full(1 << 16, end - first + 1, dtype=np.float32)
    ranks[first:end] = np.arange(1, end - first + 1, dtype=np.float32)
    return np.asarray(np.log1p(ranks), dtype=np.float32)


def maxsim(
    tokens: StoredTokens,
    sentence_rows: NDArray[np.int64],
    question: TokenMatrix,
    general: NDArray[np.float32] | None = None,
) -> NDArray[np.float32]:
    """Each window's MaxSim (`sentence_rows`: per window, the rows of its sentences as
    one-sentence windows, -1 padded); `general`: each piece's idf in general text
    (general_idf), multiplied into the corpus's."""
    out = np.zeros(len(sentence_rows), dtype=np.float32)
    keep = question.words if question.words.any() else np.ones(len(question.ids), dtype=bool)
    if not keep.any():
        return out  # nothing but [UNK] ("🙂"): no word piece to match
    count, frequency = tokens.document_frequency
    idf = np.maximum(np.log((count + 1) / (frequency[question.ids[keep]] + 0.5)), 0.1)
    if general is not None:
        idf = idf * general[question.ids[keep]]
    vectors = question.vectors[keep]
    for n, sentences in enumerate(sentence_rows):
        matrix = tokens.matrix([int(s) for s in sentences if s >= 0])
        if len(matrix):
            best = (vectors @ matrix.T).max(axis=1)
            out[n] = float(idf @ best / idf.sum())
    return out


def rescore(
    features: CandidateFeatures,
    costs: NDArray[np.float32],
    late: NDArray[np.float32],
    top: NDArray[np.int64],
    sentences: NDArray[np.int64],
) -> NDArray[np.float32]:
    """The scores of the candidates `top` (positions in `features`, of `sentences` sentences
    each) with MaxSim `late`."""
    total = LATE_WEIGHTS.total + LATE_MAXSIM
    score = np.float32(LATE_MAXSIM) * late - np.float32(total * LATE_EXTRA_SENTENCE) * (
        sentences - 1
    ).astype(np.float32)
    for name in SIGNALS:
        weight = getattr(LATE_WEIGHTS, name)
        if weight:
            score = score + np.float32(weight) * getattr(features, name)[top]
    return np.asarray(score / np.float32(total) - costs[top], dtype=np.float32)


def late_order(
    features: CandidateFeatures,
    fused: NDArray[np.float32],
    costs: NDArray[np.float32],
    tokens: StoredTokens,
    sentence_rows: NDArray[np.int64],
    question: TokenMatrix,
    general: NDArray[np.float32] | None = None,
) -> tuple[NDArray[np.int64], NDArray[np.float32]]:
    """Candidate positions best first and their scores: the top LATE_TOP of `fused` (already
    net of `costs`) re-ordered by the re-score, then the rest in fused order; the scores are
    the fused ones in descending order (the i-th window the i-th best fused score)."""
    order = np.argsort(-fused, kind="stable")
    if not len(question.ids):
        return order, fused[order]
    top = order[:LATE_TOP]
    windows = sentence_rows[features.rows[top]]
    late = maxsim(tokens, windows, question, general)
    sentences = (windows >= 0).sum(axis=1)
    # Rounded: windows of one paragraph often tie (a window holds its best sentence), and
    # the question's tokens differ in the 7th digit between a batch and a lone encode; the
    # fused order breaks the ties, so the same question gets the same quote either way.
    scores = np.round(rescore(features, costs, late, top, sentences), ROUNDING)
    inside = np.argsort(-scores, kind="stable")
    return np.concatenate([top[inside], order[LATE_TOP:]]).astype(np.int64), fused[order]
