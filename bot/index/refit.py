"""When a build fits again what it fitted to the whole library, and when it keeps it.

Two things a build fits to every passage of the library cost far more than the document a
build adds: the verdict thresholds (bot/search/calibration.py ranks a few hundred questions
over the whole library) and the IVF quantizer (k-means over a sample of every vector).  Both
describe the library as a whole, so a small change cannot move them much: they are kept while
the passages changed since they were fitted stay under REFIT_SHARE of the passages they were
fitted on, and fitted again beyond it, on a model change, or when asked to.

What each was fitted on travels in the manifest (`Fit`): the passage count then, and the
passages changed since (embedded + removed, summed over every build that kept it).  An older
manifest without it simply fits again.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Why 10 %: the thresholds are quantiles (90th of 60 off-topic questions' best scores, 10th of
# up to 64 pseudo-questions sampled evenly through the passages).  A change of under a tenth
# of the passages replaces, in expectation, fewer than 7 of the 64 sampled sentences and adds
# under a tenth to the windows any off-topic question can match: the quantiles stay within
# the spread one calibration already has from its own sampling.  For the IVF quantizer, a
# tenth more vectors assigned to centroids trained without them leaves every list's size
# within the imbalance k-means itself leaves (the ANN recall tests check the result).  Far
# above it (a library doubled, a new subject) the fit is redone.
REFIT_SHARE = 0.10


@dataclass(frozen=True)
class Fit:
    """What a fitted part of the index was fitted on: `passages` then, `changed` since."""

    passages: int
    changed: int = 0

    @property
    def share(self) -> float:
        """Passages changed since the fit, as a share of those it was fitted on."""
        return self.changed / self.passages if self.passages > 0 else float("inf")

    def to_json(self) -> dict[str, int]:
        return {"passages": self.passages, "changed": self.changed}

    @classmethod
    def from_json(cls, data: Any) -> Fit | None:
        """None for a manifest that does not say (older, or the part was never fitted)."""
        if not isinstance(data, dict):
            return None
        passages, changed = data.get("passages"), data.get("changed", 0)
        if not isinstance(passages, int) or not isinstance(changed, int) or passages <= 0:
            return None
        return cls(passages, max(changed, 0))


@dataclass(frozen=True)
class Refit:
    """Requests to fit again what a build would otherwise keep (None: the policy decides),
    named as the report says them ("--force", "--recalibrate")."""

    calibration: str | None = None
    quantizer: str | None = None


@dataclass(frozen=True)
class RefitDecision:
    """Whether to fit again, the `Fit` the new manifest records, and why: the share of
    passages changed since the last fit, or (`share` None) the request or the lack of one."""

    refit: bool
    fit: Fit
    share: float | None
    why: str = ""


def decide(
    previous: Fit | None, changed_now: int, passages_now: int, asked: str | None = None
) -> RefitDecision:
    """Keep the previous fit or fit again.  `previous` is None when there is nothing to keep
    (no previous generation, another model, an older manifest); `asked` names an explicit
    request to fit again ("--force", "--recalibrate")."""
    if asked is not None:
        return RefitDecision(True, Fit(passages_now), None, f"{asked} asked for it")
    if previous is None:
        return RefitDecision(True, Fit(passages_now), None, "no earlier fit of this model to keep")
    kept = Fit(previous.passages, previous.changed + changed_now)
    if kept.share < REFIT_SHARE:
        return RefitDecision(False, kept, kept.share)
    return RefitDecision(True, Fit(passages_now), kept.share)


def refit_line(decision: RefitDecision, what: str, fitted: str, pronoun: str) -> str:
    """What the build report says, e.g. "verdict thresholds kept: 0.1 % of passages changed
    since they were calibrated"."""
    if decision.share is None:
        because = decision.why
    else:
        because = f"{_percent(decision.share)} of passages changed since {pronoun} {fitted}"
    return f"{what} {fitted if decision.refit else 'kept'}: {because}"


def _percent(share: float) -> str:
    # One decimal: "0.1 %" for one essay in a large library must not read as "0 %".
    return f"{100 * share:.1f} %"
