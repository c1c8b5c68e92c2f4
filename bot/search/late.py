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
keeps the fused order.  What the verdict does take from the tokens is narrower: the match of
the question's weakest word in the top windows (weakest_word), averaged with the best fused
score (verdict_score); the minimum, not the mean, so "the" and "Korea" cannot carry
"weather".
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

# How much the weakest word's match (weakest_word) counts beside the best fused score in the
# score a verdict compares with its cuts (verdict_score); chosen with the cuts' shares by
# 5-fold cross-validation on the tune data (README "Verdicts").
WEAKEST_WORD_WEIGHT = 1.0

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


def _sentence_bests(
    tokens: StoredTokens, sentence_rows: NDArray[np.int64], vectors: NDArray[np.float32]
) -> dict[int, NDArray[np.float32]]:
    """Per sentence of the windows (`sentence_rows`, -1 padded), each of `vectors`' best
    cosine with its tokens: one gather and one product for every sentence at once (windows
    of a paragraph share sentences). A sentence without tokens is left out."""
    rows = sorted({int(s) for s in sentence_rows.ravel().tolist() if s >= 0})
    parts = [tokens.of_row(row)[0] for row in rows]
    sizes = [len(part) for part in parts]
    if not sum(sizes):
        return {}
    records = np.concatenate(parts)
    values = records["values"].astype(np.float32) * records["scale"][:, None]
    similarity = vectors @ values.T
    starts = np.cumsum([0, *sizes[:-1]])
    held = [i for i, size in enumerate(sizes) if size]
    bests = np.maximum.reduceat(similarity, starts[held], axis=1)
    return {rows[i]: bests[:, n] for n, i in enumerate(held)}


def maxsim(
    tokens: StoredTokens,
    sentence_rows: NDArray[np.int64],
    question: TokenMatrix,
    general: NDArray[np.float32] | None = None,
) -> NDArray[np.float32]:
    """Each window's MaxSim (`sentence_rows`: per window, the rows of its sentences as
    one-sentence windows, -1 padded); `general`: each piece's idf in general text
    (general_idf), multiplied into the corpus's."""
    return _late_scores(tokens, sentence_rows, question, general)[0]


def weakest_word(
    tokens: StoredTokens, sentence_rows: NDArray[np.int64], question: TokenMatrix
) -> float | None:
    """How well the question's worst-matched word is said by the top windows: each word
    piece's best cosine with any token of the windows (`sentence_rows`: theirs, as in
    maxsim), the lowest of them.  An off-topic question keeps a word the corpus has nothing
    near ("weather", "spider", "calories") even when its other words match well; an oblique
    question about the text has every word near one ("squeezing" near "pressure").  None:
    no word piece to judge ("双暂停" is all [UNK]) or no token stored for the windows."""
    return _late_scores(tokens, sentence_rows, question)[1]


def _late_scores(
    tokens: StoredTokens,
    sentence_rows: NDArray[np.int64],
    question: TokenMatrix,
    general: NDArray[np.float32] | None = None,
) -> tuple[NDArray[np.float32], float | None]:
    """maxsim and weakest_word from one pass over the windows' sentences."""
    out = np.zeros(len(sentence_rows), dtype=np.float32)
    keep = question.words if question.words.any() else np.ones(len(question.ids), dtype=bool)
    if not keep.any():
        return out, None  # nothing but [UNK] ("🙂"): no word piece to match
    count, frequency = tokens.document_frequency
    idf = np.maximum(np.log((count + 1) / (frequency[question.ids[keep]] + 0.5)), 0.1)
    if general is not None:
        idf = idf * general[question.ids[keep]]
    bests = _sentence_bests(tokens, sentence_rows, question.vectors[keep])
    for n, sentences in enumerate(sentence_rows):
        held = [bests[int(s)] for s in sentences if int(s) in bests]
        if held:
            best = np.max(held, axis=0)
            out[n] = float(idf @ best / idf.sum())
    if not bests or not question.words.any():
        return out, None  # `keep` is every piece when no word is: judge none of them
    return out, float(np.max(list(bests.values()), axis=0).min())


def verdict_score(best: float, weakest: float | None) -> float:
    """The score a verdict compares with the corpus's cuts: the best fused score, averaged
    with the weakest word's match when there is one (else the fused score alone; the cuts of
    an index without token embeddings are calibrated on that alone too)."""
    if weakest is None:
        return best
    return (best + WEAKEST_WORD_WEIGHT * weakest) / (1.0 + WEAKEST_WORD_WEIGHT)


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
) -> tuple[NDArray[np.int64], NDArray[np.float32], float | None]:
    """Candidate positions best first and their scores: the top LATE_TOP of `fused` (already
    net of `costs`) re-ordered by the re-score, then the rest in fused order; the scores are
    the fused ones in descending order (the i-th window the i-th best fused score); and the
    question's weakest word in those windows (weakest_word)."""
    order = np.argsort(-fused, kind="stable")
    if not len(question.ids):
        return order, fused[order], None
    top = order[:LATE_TOP]
    windows = sentence_rows[features.rows[top]]
    late, weakest = _late_scores(tokens, windows, question, general)
    sentences = (windows >= 0).sum(axis=1)
    # Rounded: windows of one paragraph often tie (a window holds its best sentence), and
    # the question's tokens differ in the 7th digit between a batch and a lone encode; the
    # fused order breaks the ties, so the same question gets the same quote either way.
    scores = np.round(rescore(features, costs, late, top, sentences), ROUNDING)
    inside = np.argsort(-scores, kind="stable")
    ranked = np.concatenate([top[inside], order[LATE_TOP:]]).astype(np.int64)
    return ranked, fused[order], weakest
