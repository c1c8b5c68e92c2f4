"""Lexical terms: a tokenizer for English and Chinese, and the BM25 parameters (the index itself
is bot/index/postings.py)."""

from __future__ import annotations

import itertools
import re

from bot.text import fold

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af"
# CJK characters are word characters too: keep them out of Latin/digit words, so mixed runs
# such as "Yi的双暂停" or "2017年3月" split into words and CJK runs.
_TOKEN = re.compile(rf"[{_CJK}]+|[^\W_{_CJK}]+(?:['’][^\W_{_CJK}]+)*", re.UNICODE)
_CJK_RUN = re.compile(rf"^[{_CJK}]+$")
# "U.S." and "U.N." are one word each, not two single letters.
_DOTTED_ACRONYM = re.compile(r"\b(?:[^\W\d_]\.){2,}")

STOPWORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its
    itself just me more most my myself no nor not of off on once only or other our ours
    ourselves out over own same she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom why will with would you your yours yourself yourselves
    does say says said always also tell told according essay author writer text
    """.split()  # noqa: SIM905 - a word list reads better as text
)


def _stem(word: str) -> str:
    # A deliberately light stemmer: plurals and possessives only. Heavier stemming merges
    # words (e.g. "sanctions"/"sanctioned") that the dense model already relates.
    for suffix in ("'s", "’s"):
        if word.endswith(suffix):
            word = word[: -len(suffix)]
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def tokenize(text: str, keep_stopwords: bool = False) -> list[str]:
    """Lower-cased, lightly stemmed words; Chinese runs become character uni- and bigrams."""
    text = fold(text)
    text = _DOTTED_ACRONYM.sub(lambda m: m.group().replace(".", "") + " ", text)
    tokens: list[str] = []
    for match in _TOKEN.finditer(text):
        piece = match.group()
        if _CJK_RUN.match(piece):
            # No word segmenter offline: overlapping bigrams match multi-character terms
            # such as 双暂停 or 东北亚论坛 without a dictionary.
            tokens.extend(piece)
            tokens.extend(piece[i : i + 2] for i in range(len(piece) - 1))
            continue
        if not keep_stopwords and piece in STOPWORDS:
            continue
        tokens.append(_stem(piece.replace("’", "'")))
    return tokens


def index_terms(text: str) -> list[str]:
    """Words plus adjacent word pairs, so "first phase" outranks "phases" and "first" apart."""
    words = tokenize(text)
    pairs = [
        f"{a}_{b}"
        for a, b in itertools.pairwise(words)
        if not (_CJK_RUN.match(a) or _CJK_RUN.match(b))
    ]
    return words + pairs


BM25_K1 = 1.2
# b below the usual 0.75: passages are windows of 1-3 sentences of the same text, and full
# length normalisation would make a sentence beat the window that holds it and its context
# (measured on the evaluation set, see README).
BM25_B = 0.4
