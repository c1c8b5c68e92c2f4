"""`python -m bot.bench.scale_child KIND JSON`: one job of the scale run (scale_jobs.py)."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from bot.bench.scale_jobs import JOBS, EmbedJob, SearchJob, TextJob, report


def main(argv: Sequence[str]) -> int:
    if len(argv) != 2 or argv[0] not in JOBS:
        print(f"usage: python -m bot.bench.scale_child {{{','.join(JOBS)}}} JSON", file=sys.stderr)
        return 2
    job = JOBS[argv[0]](**json.loads(argv[1]))
    result: dict[str, Any]
    if isinstance(job, SearchJob):
        from bot.bench.scale_search import search_child

        result = search_child(job)
    elif isinstance(job, TextJob):
        from bot.bench.scale_text import text_child

        result = text_child(job)
    else:
        assert isinstance(job, EmbedJob)
        from bot.bench.scale_text import embed_child

        result = embed_child(job)
    report(result)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
