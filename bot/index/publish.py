"""Making a new generation visible, atomically.

Its files are written into a temporary directory inside the index directory, fsynced and moved
in, then manifest.json is replaced in one atomic rename: until that rename the previous
generation is the one every reader sees, so a crash or a full disk mid-build leaves the old
index answering."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bot.errors import IndexProblem
from bot.index.manifest import FORMER_STEMS, GENERATION_STEMS, MANIFEST, Manifest

if TYPE_CHECKING:
    from numpy.typing import NDArray

# Files written at once (the machine this was measured on has 2 vCPUs; see publish_generation).
WRITERS = 2


def publish_generation(
    index_dir: Path,
    arrays: dict[str, NDArray[Any]],
    manifest: Manifest,
) -> None:
    """Write `arrays` (by their name in `manifest.files`), then swap in `manifest`."""
    files = manifest.files
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        previous_files = read_manifest_files(index_dir)
        with tempfile.TemporaryDirectory(prefix=".build-", dir=index_dir) as tmp:
            staging = Path(tmp)
            writes: list[Callable[[], None]] = [
                partial(_save, staging / files[name], array) for name, array in arrays.items()
            ]
            writes.append(partial(_save_manifest, staging / MANIFEST, manifest))
            # Two at a time: writing ~420 MB into the page cache is CPU work of the writing
            # thread (np.save and fsync release the GIL), so a second writer overlaps with it:
            # 0.31 s instead of 0.43 s (medians of 4 alternated, the 95k-passage generation on
            # the shared 2-vCPU machine).  Every file is fsynced before any is moved in.
            with ThreadPoolExecutor(max_workers=WRITERS) as pool:
                for done in [pool.submit(write) for write in writes]:
                    done.result()
            # Only what was written: a generation also names files of earlier ones.
            for name in arrays:
                os.replace(staging / files[name], index_dir / files[name])
            _fsync_dir(index_dir)
            # The one step that makes the new generation visible.
            os.replace(staging / MANIFEST, index_dir / MANIFEST)
            _fsync_dir(index_dir)
    except OSError as exc:
        raise IndexProblem(f"cannot write the index in {index_dir}: {exc.strerror or exc}") from exc
    # The generation the manifest names now is kept whatever happened meanwhile.
    keep = set(files.values()) | previous_files | read_manifest_files(index_dir)
    _remove_stale_generations(index_dir, keep)


def _save(path: Path, array: NDArray[Any]) -> None:
    np.save(path, array)
    _fsync(path)


def _save_manifest(path: Path, manifest: Manifest) -> None:
    path.write_text(json.dumps(manifest.to_json(), ensure_ascii=False, indent=1), encoding="utf-8")
    _fsync(path)


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def read_manifest_files(index_dir: Path) -> set[str]:
    try:
        data = json.loads((index_dir / MANIFEST).read_text(encoding="utf-8"))
        return set(data.get("files", {}).values())
    except (OSError, ValueError, AttributeError, TypeError, RecursionError):
        return set()


def _remove_stale_generations(index_dir: Path, keep: set[str]) -> None:
    # The previous generation is kept too: a reader that loaded the old manifest a moment
    # ago may still be opening its files.
    for path in index_dir.iterdir():
        stem = path.name.split("-", 1)[0]
        if path.is_file() and (stem in GENERATION_STEMS or stem in FORMER_STEMS):
            if path.name not in keep:
                with contextlib.suppress(OSError):
                    path.unlink()
        elif path.is_dir() and path.name.startswith(".build-") and _older_than(path, 3600):
            shutil.rmtree(path, ignore_errors=True)


def _older_than(path: Path, seconds: float) -> bool:
    try:
        return time.time() - path.stat().st_mtime > seconds
    except OSError:
        return False
