"""An embedder that remembers each text's vector: an evaluation asks the same questions of
several rankings and indexes the same windows into several corpora, and pays the model once."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from bot.index.embedding import Embedder, encode_with_tokens, gives_tokens
from bot.index.tokens import TokenMatrix

if TYPE_CHECKING:
    from numpy.typing import NDArray


class CachingEmbedder:
    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.cache: dict[str, NDArray[np.float32]] = {}
        self.tokens: dict[str, TokenMatrix] = {}
        self.tokens_given = gives_tokens(inner)

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def encode(self, texts: list[str], batch_size: int = 64) -> NDArray[np.float32]:
        missing = list(dict.fromkeys(t for t in texts if t not in self.cache))
        if missing:
            vectors = self.inner.encode(missing, batch_size=batch_size)
            self.cache.update(zip(missing, vectors, strict=True))
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self.cache[t] for t in texts]).astype(np.float32)

    def encode_with_tokens(
        self, texts: list[str], batch_size: int = 64
    ) -> tuple[NDArray[np.float32], list[TokenMatrix]]:
        """As `encode`, with each text's token embeddings (remembered too); the inner
        embedder must give them (bot/index/embedding.gives_tokens)."""
        missing = list(dict.fromkeys(t for t in texts if t not in self.tokens))
        if missing:
            vectors, tokens = encode_with_tokens(self.inner, missing, batch_size)
            assert tokens is not None
            self.cache.update(zip(missing, vectors, strict=True))
            self.tokens.update(zip(missing, tokens, strict=True))
        return self.encode(texts, batch_size), [self.tokens[t] for t in texts]
