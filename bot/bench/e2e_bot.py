"""The bot of `footnote bench --e2e`, run as a child: `python -m bot.bench.e2e_bot KNOBS`.

It starts exactly as `footnote run` does -- bot/telegram/serve.py's prepare() opens the index,
warms the model and builds the application, then long polling -- with one difference: the
engine, made by prepare's `make_engine` seam, notes when each question starts and ends and
takes the engine knobs (KNOBS, a JSON EngineKnobs).  On SIGINT it stops and prints its
engine's stats and those times (`@@engine-stats`, `@@engine-times`).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.search.answer import Answer
    from bot.search.engine import Engine
    from bot.search.retriever import Retriever

STATS = "@@engine-stats "
TIMES = "@@engine-times "


@dataclass(frozen=True)
class EngineKnobs:
    """The Engine's batching and cache settings; None keeps the Engine's default."""

    batch_wait: float | None = None
    max_batch: int | None = None
    cache_size: int | None = None

    def given(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def timed_engine(retriever: Retriever, knobs: EngineKnobs) -> Engine:
    """The Engine, noting when each question starts and ends (CLOCK_MONOTONIC)."""
    from bot.search.engine import Engine

    class TimedEngine(Engine):
        def __init__(self) -> None:
            super().__init__(retriever, **knobs.given())
            self.times: list[tuple[float, float]] = []

        async def ask(self, question: str, k: int = 4) -> Answer:
            started = time.perf_counter()
            try:
                return await super().ask(question, k)
            finally:
                self.times.append((started, time.perf_counter()))

    return TimedEngine()


def main(argv: Sequence[str]) -> int:
    from bot.config import load_settings
    from bot.telegram.app import ALLOWED_UPDATES
    from bot.telegram.serve import prepare
    from bot.telegram.state import bot_state

    knobs = EngineKnobs(**json.loads(argv[0])) if argv else EngineKnobs()
    logging.basicConfig(level=os.environ.get("FOOTNOTE_LOG_LEVEL", "WARNING").upper())
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # Each question comes from a fresh user; the per-user limit is not what is measured.
    settings = replace(load_settings(dotenv=None), user_rate_limit=0)
    application = prepare(settings, lambda retriever: timed_engine(retriever, knobs))
    engine = bot_state(application).engine
    application.run_polling(allowed_updates=ALLOWED_UPDATES)
    print(STATS + json.dumps(vars(engine.stats)), flush=True)
    print(TIMES + json.dumps(getattr(engine, "times", [])), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
