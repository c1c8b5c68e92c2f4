"""Whether an index must be rebuilt: the model, the corpus's fingerprint, its files."""

from __future__ import annotations

from pathlib import Path

from bot.errors import IndexProblem
from bot.index.fingerprint import corpus_fingerprint
from bot.index.manifest import MANIFEST, Manifest, read_manifest


def staleness(
    index_dir: Path,
    corpus_dir: Path,
    model: str,
    follow_links: bool = False,
    fingerprint: str | None = None,
    tokens: bool = False,
) -> str | None:
    """Why the index must be rebuilt, or None when it is up to date (`fingerprint`: the
    corpus's, when the caller has it already; `tokens`: the embedder gives token embeddings,
    so an index without them is out of date)."""
    return staleness_and_manifest(index_dir, corpus_dir, model, follow_links, fingerprint, tokens)[
        0
    ]


def staleness_and_manifest(
    index_dir: Path,
    corpus_dir: Path,
    model: str,
    follow_links: bool,
    fingerprint: str | None,
    tokens: bool = False,
) -> tuple[str | None, Manifest | None]:
    """staleness(), with the manifest it read: an up-to-date index is not parsed twice (its
    manifest is 2 MB of JSON on Python's documentation, ~0.07 s a parse)."""
    try:
        manifest = read_manifest(index_dir)
    except IndexProblem as exc:
        # A first build says so, not read_manifest's advice to run the build that is running.
        first = not (index_dir / MANIFEST).exists()
        return (f"no index in {index_dir} yet" if first else str(exc)), None
    if manifest.model != model:
        return f"the model changed ({manifest.model} -> {model})", manifest
    current = fingerprint or corpus_fingerprint(corpus_dir, follow_links, index_dir)
    if manifest.corpus_hash != current:
        return "the corpus changed", manifest
    missing = [name for name in manifest.files.values() if not (index_dir / name).is_file()]
    if missing:
        return f"index files are missing: {', '.join(missing)}", manifest
    # An index written before token embeddings were stored answers without the late-interaction
    # re-score: it is rebuilt once, or it would stay that way until the corpus changed.
    if tokens and "tokens" not in manifest.files:
        return "the index has no token embeddings yet (late interaction)", manifest
    return None, manifest
