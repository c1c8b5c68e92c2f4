"""Where "absent" ends and "closest" becomes "answer": the cut points a verdict compares the
question's verdict score with (the best window's fused score, averaged with its weakest
word's match: bot/search/late.py verdict_score), calibrated for each corpus when it is
indexed."""

from __future__ import annotations

from dataclasses import dataclass

from bot.index.manifest import Manifest


@dataclass(frozen=True)
class Thresholds:
    # Below this best score the essays do not hold the answer ("absent").
    absent_below: float
    # From this best score on the quote answers; between the two it is only the closest.
    answer_from: float
    # The "absent" cut for a question that says it is about the text ("What does the author
    # think…", "the essay", "this piece", "he argues"; bot/search/cues.py): a reader asking
    # about the essay's own argument is on topic even when the words miss, so only a score
    # as low as the off-topic questions' makes it absent. None: the same as absent_below.
    addressed_below: float | None = None

    def absent_cut(self, addressed: bool) -> float:
        """Below this best score the answer is "absent" (`addressed`: the question names
        the text)."""
        if addressed and self.addressed_below is not None:
            return min(self.addressed_below, self.absent_below)
        return self.absent_below

    def to_json(self) -> dict[str, float]:
        cuts = {
            "absent_below": round(self.absent_below, 4),
            "answer_from": round(self.answer_from, 4),
        }
        if self.addressed_below is not None:
            cuts["addressed_below"] = round(self.addressed_below, 4)
        return cuts


# For an index that carries no calibration (one assembled in memory by a benchmark): the
# values calibration gives the shipped essay, so behaviour there is unchanged.
UNCALIBRATED = {
    "hybrid": Thresholds(0.198, 0.3143, 0.1481),
    "dense": Thresholds(0.1861, 0.2312, 0.1667),
    "lexical": Thresholds(0.1516, 0.2609, 0.1048),
}


def thresholds_for(manifest: Manifest, mode: str) -> Thresholds:
    """The cut points calibrated for this index and ranking mode, if it has them."""
    stored = manifest.calibration.get(mode)
    if stored is None:
        return UNCALIBRATED.get(mode, UNCALIBRATED["hybrid"])
    addressed = stored.get("addressed_below")
    return Thresholds(
        float(stored["absent_below"]),
        float(stored["answer_from"]),
        None if addressed is None else float(addressed),
    )
