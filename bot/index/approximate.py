"""The approximate (FAISS) index a build writes, on the previous generation's trained IVF
quantizer while the library changed little (bot/index/refit.py decides)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.index.ann import build_faiss, ivf_reusing_quantizer, read_ivf
from bot.index.refit import Fit, Refit, RefitDecision, decide
from bot.index.reuse import Previous

if TYPE_CHECKING:
    from numpy.typing import NDArray


def approximate_index(
    index_dir: Path,
    vectors: NDArray[np.float32],
    faiss_type: str,
    params: dict[str, int],
    previous: Previous | None,
    reused_from: NDArray[np.int64],
    changed: int,
    refit: Refit,
) -> tuple[Any | None, RefitDecision | None]:
    """The FAISS index to write (None: exact search, made at load), and for IVF whether the
    previous generation's trained quantizer was kept (`changed`: passages embedded or
    removed by this build)."""
    if faiss_type == "flat":
        return None, None
    before = previous.manifest if previous is not None else None
    comparable = (
        before is not None
        and before.faiss_type == faiss_type
        and before.faiss_params.get("nlist") == params["nlist"]
        and "faiss" in before.files
    )
    fit = Fit.from_json(before.quantizer_fit) if before is not None and comparable else None
    decision = decide(fit, changed, len(vectors), refit.quantizer)
    if not decision.refit:
        assert before is not None
        old = read_ivf(index_dir / before.files["faiss"], vectors.shape[1], params["nlist"])
        if old is not None:
            return ivf_reusing_quantizer(vectors, params, old, reused_from), decision
        decision = RefitDecision(True, Fit(len(vectors)), None, "the previous one is unreadable")
    return build_faiss(vectors, faiss_type, params), decision
