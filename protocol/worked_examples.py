"""Which worked case illustrates each criterion on the criteria page, and which calculator page
checks it.

A case where the criterion fails shows its rule best; then one where it is unknown; then the
eligible case. A medicine the catalogue does not know makes every open class unknown at once,
so such a case illustrates only the first of them: the others show a case of their own.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.screening import CHECKS, CriterionResult, ScreeningResult
from protocol.study import Study

UNCATALOGUED = "is not in the prohibited-medicines catalogue"

#: The criteria the classification page works through (LeRoy subset, ACR/EULAR, mRSS).
CLASSIFICATION_CRITERIA = frozenset({"IN02", "IN03", "IN05", "EX01"})


@dataclass(frozen=True)
class WorkedExample:
    case: str  # the case file's stem, e.g. "case03-age-71"
    participant: str  # its synthetic participant ID
    result: CriterionResult


def worked_examples(
    cases: dict[str, ScreeningResult], study: Study, fallback: str = "case01-eligible"
) -> dict[str, WorkedExample]:
    """One example per criterion of ``study``, from ``cases`` (in their order)."""
    shown_uncatalogued: set[str] = set()

    def example(criterion_id: str) -> WorkedExample:
        for wanted in ("fail", "unknown"):
            for name, screened in cases.items():
                found = next(c for c in screened.criteria if c.id == criterion_id)
                if found.status != wanted:
                    continue
                if UNCATALOGUED in found.reason:
                    if name in shown_uncatalogued:
                        continue
                    shown_uncatalogued.add(name)
                return WorkedExample(name, screened.participant, found)
        screened = cases[fallback]
        found = next(c for c in screened.criteria if c.id == criterion_id)
        return WorkedExample(fallback, screened.participant, found)

    return {criterion.id: example(criterion.id) for criterion in study.criteria}


def calculator(criterion_id: str, study: Study) -> str | None:
    """The calculator page that checks a criterion on its own: labs, washout, classification."""
    if criterion_id in {analyte.criterion for analyte in study.lab_analytes}:
        return "labs"
    if criterion_id in CLASSIFICATION_CRITERIA:
        return "classification"
    uses_washout = any(g.criterion == criterion_id for g in study.medication_classes) or any(
        criterion_id in (e.criterion, *e.also_criteria) for e in study.exposure_events
    )
    how = CHECKS[criterion_id].how if criterion_id in CHECKS else ""
    if uses_washout or how.startswith("by the washout calculator"):
        return "washout"
    return None
