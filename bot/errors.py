"""Footnote's domain errors: one family, turned into plain words only at the edges (CLI, bot)."""

from __future__ import annotations


class FootnoteError(Exception):
    """An expected failure whose message is fit to show a user as it is."""


class ConfigError(FootnoteError):
    """A setting is missing or malformed; the message names the key."""


class CorpusError(FootnoteError):
    """The corpus (or one file of it) cannot be read."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = " ".join(reason.split())
        super().__init__(f"cannot read {path}: {self.reason}")


class IndexProblem(FootnoteError):
    """The index is missing, corrupt, or cannot be written."""


class ModelError(FootnoteError):
    """The embedding model cannot be found or loaded."""


class EvalSetError(FootnoteError):
    """A question file is missing or malformed."""


class UsageError(FootnoteError):
    """A command was given options it cannot use."""


class BenchError(FootnoteError):
    """A benchmark cannot run as asked."""


class CallbackDataError(FootnoteError, ValueError):
    """Callback data that this bot did not make (stale, forged or from another version)."""
