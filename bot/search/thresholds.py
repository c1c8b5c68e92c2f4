"""Where "absent" ends and "closest" becomes "answer": the cut points a verdict compares the
best window's score with, calibrated for each corpus when it is indexed."""

from __future__ import annotations

from dataclasses import dataclass

from bot.index.manifest import Manifest


@dataclass(frozen=True)
class Thresholds:
    # Below this best score the essays do not hold the answer ("absent").
    absent_below: float
    # From this best score on the quote answers; between the two it is only the closest.
    answer_from: float

    def to_json(self) -> dict[str, float]:
        return {
            "absent_below": round(self.absent_below, 4),
            "answer_from": round(self.answer_from, 4),
        }


# For an index that carries no calibration (one assembled in memory by a benchmark): the
# values calibration gives the shipped essay, so behaviour there is unchanged.
UNCALIBRATED = {
    "hybrid": Thresholds(0.194, 0.2966),
    "dense": Thresholds(0.1925, 0.2312),
    "lexical": Thresholds(0.1672, 0.2609),
}


def thresholds_for(manifest: Manifest, mode: str) -> Thresholds:
    """The cut points calibrated for this index and ranking mode, if it has them."""
    stored = manifest.calibration.get(mode)
    if stored is None:
        return UNCALIBRATED.get(mode, UNCALIBRATED["hybrid"])
    return Thresholds(float(stored["absent_below"]), float(stored["answer_from"]))
