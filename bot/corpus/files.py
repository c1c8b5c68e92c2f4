"""Which files belong to the corpus: the one place that decides it.

The corpus is a boundary: only regular files whose real path lies inside the corpus folder are
read.  A corpus checked out from git, unpacked from an archive or shared over a network can
carry links to anything (`notes.txt -> /etc/passwd`, or to the bot's own `.env`); whatever
Footnote reads, anyone can make it quote.  So links that leave the folder are named as skipped
unless the operator opts in (FOOTNOTE_FOLLOW_LINKS=1), and files that look like secrets (keys,
`.env` files) are never opened, not even to hash them.
"""

from __future__ import annotations

import fnmatch
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from bot.corpus.model import CorpusProblem

LINK_OUTSIDE = "a link to outside the corpus folder is not followed (set FOOTNOTE_FOLLOW_LINKS=1)"
SECRET_LOOKING = "looks like a secret (keys and .env files are never read)"
# Lower-cased file-name patterns of keys, certificates, password stores and env files.
_SECRET_NAMES = (
    "*.env", "env", "*.pem", "*.key", "*.p12", "*.pfx", "*.jks", "*.keystore", "*.kdbx",
    "id_rsa*", "id_dsa*", "id_ecdsa*", "id_ed25519*", "*.gpg", "credentials", "credentials.*",
    "*.netrc", "secrets", "secrets.*", "*.secret", "*.secrets",
)  # fmt: skip


@dataclass
class CorpusScan:
    """The files to read, in order, and what was passed over with the reason."""

    files: list[Path] = field(default_factory=list)
    skipped: list[CorpusProblem] = field(default_factory=list)


# A saved web page or a PDF named after its subject ("secrets.html": the page of Python's
# `secrets` module) is a published document, not a store of credentials.
_PUBLISHED = (".html", ".htm", ".xhtml", ".pdf")
_SUBJECT_NAMES = ("secrets.*", "credentials.*")


def _one_pattern(patterns: tuple[str, ...]) -> re.Pattern[str]:
    # One regular expression for all the patterns: fnmatchcase on each of 22 patterns was a
    # third of scanning a 1,000-file corpus, which every staleness check does.
    return re.compile("|".join(f"(?:{fnmatch.translate(pattern)})" for pattern in patterns))


_SECRET = _one_pattern(_SECRET_NAMES)
_SECRET_UNLESS_PUBLISHED = _one_pattern(
    tuple(pattern for pattern in _SECRET_NAMES if pattern not in _SUBJECT_NAMES)
)


def looks_secret(name: str) -> bool:
    lowered = name.lower()
    published = lowered.endswith(_PUBLISHED)
    return (_SECRET_UNLESS_PUBLISHED if published else _SECRET).match(lowered) is not None


def scan_corpus(directory: Path, follow_links: bool = False) -> CorpusScan:
    """Walk `directory` (hidden files and folders skipped) without leaving it, unless
    `follow_links` lets links lead elsewhere; sorted by "/"-separated relative path."""
    scan = CorpusScan()
    root = directory.resolve()
    seen_dirs = {root}
    names: dict[Path, str] = {}
    # Each folder with its real path and its name relative to `directory` ("" for the root):
    # a plain entry's real path and name follow from its folder's, so only links are resolved
    # (resolving every file was a third of an incremental build's scan at 1,000 documents).
    pending: list[tuple[Path, Path, str]] = [(directory, root, "")]
    while pending:  # bounded: each real folder is visited once (seen_dirs)
        folder, real_folder, prefix = pending.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as error:
            folder_name = prefix[:-1] if prefix else "."  # prefix ends in "/"
            scan.skipped.append(CorpusProblem(folder_name + "/", _unreadable_folder(error)))
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue  # hidden files and folders (.git, .env, .DS_Store, editor swap files)
            path = Path(entry.path)
            name = prefix + entry.name
            if looks_secret(entry.name):
                scan.skipped.append(CorpusProblem(name, SECRET_LOOKING))
                continue
            if entry.is_symlink():
                try:
                    real = path.resolve(strict=True)
                except (OSError, RuntimeError):  # a dangling or looping link
                    scan.skipped.append(CorpusProblem(name, "a broken link"))
                    continue
                if not (real == root or root in real.parents) and not follow_links:
                    scan.skipped.append(CorpusProblem(name, LINK_OUTSIDE))
                    continue
                is_dir, is_file = real.is_dir(), real.is_file()
            else:
                real = real_folder / entry.name
                is_dir, is_file = _kind(entry)
            if is_dir:
                if real not in seen_dirs:  # a link to a folder already walked is not walked twice
                    seen_dirs.add(real)
                    pending.append((path, real, name + "/"))
            elif is_file:
                if looks_secret(real.name):
                    scan.skipped.append(CorpusProblem(name, SECRET_LOOKING))
                else:
                    scan.files.append(path)
                    names[path] = name
            # FIFOs, sockets and devices are not documents; reading one could block forever.
    scan.files.sort(key=names.__getitem__)
    scan.skipped.sort(key=lambda problem: problem.path)
    return scan


def _kind(entry: os.DirEntry[str]) -> tuple[bool, bool]:
    """Whether a plain (not linked) entry is a folder, a regular file (from the folder's
    listing, without a stat on most filesystems)."""
    try:
        return entry.is_dir(follow_symlinks=False), entry.is_file(follow_symlinks=False)
    except OSError:
        return False, False


def corpus_files(directory: Path, follow_links: bool = False) -> list[Path]:
    """The files of the corpus under `directory`, in reading order (see scan_corpus)."""
    return scan_corpus(directory, follow_links).files


def _unreadable_folder(error: OSError) -> str:
    reason = error.strerror or type(error).__name__
    return f"folder cannot be read ({reason}); its documents are left out"
