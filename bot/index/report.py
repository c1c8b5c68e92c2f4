"""What a build did: rebuilt or not and why, vectors reused and embedded, what was left out."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from bot.corpus import CorpusProblem
from bot.corpus.model import DROPPED_KINDS


@dataclass
class BuildReport:
    rebuilt: bool
    reason: str
    documents: int
    passages: int
    seconds: float
    problems: list[CorpusProblem] = field(default_factory=list)
    # Set when the index could not be refreshed and the one already there is served instead.
    warning: str | None = None
    # Per document path: what its reader left out of quotes, by kind (see DROPPED_KINDS).
    dropped: dict[str, dict[str, int]] = field(default_factory=dict)
    # Passages whose vector came from the previous generation, distinct texts embedded now,
    # and passages of the previous generation whose text is gone.
    reused: int = 0
    embedded: int = 0
    removed: int = 0
    # Whether the verdict thresholds and the IVF quantizer were kept or fitted again, and why
    # (bot/index/refit.py): "verdict thresholds kept: 0.1 % of passages changed since ...".
    fits: list[str] = field(default_factory=list)

    def dropped_lines(self) -> list[str]:
        """One line per document that lost something on purpose, then the totals."""
        totals: Counter[str] = Counter()
        lines = []
        for path, kinds in self.dropped.items():
            if kinds:
                totals.update(kinds)
                lines.append(f"Left out of {path}: {_counts(kinds)}")
        if totals:
            lines.append(f"Left out in all: {_counts(totals)}")
        return lines


def _counts(kinds: dict[str, int]) -> str:
    ordered = sorted(kinds.items(), key=lambda item: _KIND_ORDER.get(item[0], len(_KIND_ORDER)))
    return ", ".join(f"{count} {_kind_name(kind, count)}" for kind, count in ordered)


def _kind_name(kind: str, count: int) -> str:
    singular, plural = _KIND_NAMES.get(kind, (kind, kind))
    return singular if count == 1 else plural


_KIND_ORDER = {kind: number for number, kind in enumerate(DROPPED_KINDS)}
_KIND_NAMES = {
    "boilerplate": ("boilerplate (navigation, contents, page furniture)",) * 2,
    "code": ("code block", "code blocks"),
    "table": ("table", "tables"),
    "empty": ("empty block", "empty blocks"),
}
