"""Which files belong to the corpus: the one place that decides it."""

from __future__ import annotations

from pathlib import Path


def corpus_files(directory: Path) -> list[Path]:
    """Every file under `directory`, hidden ones skipped, sorted by "/"-separated relative path."""
    files = []
    for path in directory.rglob("*"):
        relative = path.relative_to(directory)
        if any(part.startswith(".") for part in relative.parts):
            continue  # hidden files and folders (.git, .DS_Store, editor swap files)
        if path.is_file():
            files.append(path)
    return sorted(files, key=lambda p: p.relative_to(directory).as_posix())
