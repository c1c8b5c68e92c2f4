"""An embedder that remembers each text's vector: an evaluation asks the same questions of
several rankings and indexes the same windows into several corpora, and pays the model once."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from bot.index.embedding import Embedder

if TYPE_CHECKING:
    from numpy.typing import NDArray


class CachingEmbedder:
    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.cache: dict[str, NDArray[np.float32]] = {}

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
