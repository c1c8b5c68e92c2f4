"""An index build that can be slowed down at one stage, so a test can SIGKILL it there.

Run in a subprocess:

    python -c "from tests.helpers.slow_build import main; main()" CORPUS INDEX MARKER STAGE

STAGE is where the build stalls after writing MARKER:
- "embed": in the embedder, after the first of several batches;
- "write": after the passages file of the new generation is written to the staging dir;
- "swap": after the new generation's files are moved in, just before the manifest rename.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path
from typing import Any

import bot.index.build
from bot.index.embedding import HashingEmbedder
from bot.index.manifest import MANIFEST

STALL_SECONDS = 60.0  # far longer than any test waits: the test kills us first


class SlowEmbedder(HashingEmbedder):
    """The fake embedder (same name, same vectors), sleeping after each batch."""

    def __init__(self, marker: Path, stall: bool) -> None:
        super().__init__()
        self.marker = marker
        self.stall = stall
        self.batches = 0

    def encode(self, texts: list[str], batch_size: int = 64) -> Any:
        vectors = super().encode(texts, batch_size)
        self.batches += 1
        if self.stall:
            self.marker.write_text(f"embedded {self.batches} batches", encoding="utf-8")
            time.sleep(STALL_SECONDS)
        return vectors


def _stall(marker: Path, what: str) -> None:
    marker.write_text(what, encoding="utf-8")
    time.sleep(STALL_SECONDS)


def main(argv: list[str] | None = None) -> None:
    corpus, index, marker_name, stage = (argv if argv is not None else sys.argv[1:])[:4]
    marker = Path(marker_name)
    bot.index.build.EMBED_BATCH = 4  # many batches, so "mid-embedding" is a real point in time
    if stage == "write":
        save = bot.index.build.np.save

        def slow_save(path: Any, array: Any, *args: Any, **kwargs: Any) -> None:
            save(path, array, *args, **kwargs)
            if Path(path).name.startswith("passages-"):
                _stall(marker, f"wrote {path}")

        setattr(bot.index.build.np, "save", slow_save)  # noqa: B010 - the numpy build uses
    elif stage == "swap":
        replace = os.replace

        def slow_replace(src: Any, dst: Any, **kwargs: Any) -> None:
            if Path(dst).name == MANIFEST:
                _stall(marker, "about to swap the manifest")
            replace(src, dst, **kwargs)

        setattr(os, "replace", slow_replace)  # noqa: B010 - the os module bot.index.store uses
    elif stage != "embed":
        raise SystemExit(f"unknown stage {stage!r}")
    embedder = SlowEmbedder(marker, stall=stage == "embed")
    bot.index.build.build_index(Path(corpus), Path(index), embedder, force=True)
    marker.write_text("finished", encoding="utf-8")


if __name__ == "__main__":
    main()
