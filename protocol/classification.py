"""Calculators of the SSc criteria: ACR/EULAR 2013, LeRoy subset, mRSS, disease duration, age.

Each returns its value together with the fields it could not find (``missing``): a calculator
never guesses a missing item, and the screening engine turns any missing field into *unknown*.
The weights, areas and thresholds come from study.yaml.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from dateutil.relativedelta import relativedelta

from protocol.participant import AcrEularFindings, Mrss, SscFindings
from protocol.study import Study, load_study


@dataclass(frozen=True)
class AcrEularScore:
    total: int | None  # None when an item is missing
    applicable: bool | None  # False when skin thickening spares the fingers, etc.
    points: list[tuple[str, int]]  # each category and the points it scored
    missing: list[str] = field(default_factory=list)

    def classified(self, minimum: int) -> bool | None:
        if self.applicable is False:
            return False
        if self.total is None or self.applicable is None:
            return None
        return self.total >= minimum


def acr_eular_score(findings: AcrEularFindings | None, study: Study | None = None) -> AcrEularScore:
    """The 2013 total: the highest weight met in each category, summed (Table 1)."""
    criteria = (study or load_study()).acr_eular_2013.value
    prefix = "ssc.acr_eular"
    if findings is None:
        return AcrEularScore(None, None, [], [prefix])
    values = findings.model_dump()
    missing = [f"{prefix}.{item}" for item in criteria.item_names if values.get(item) is None]
    missing += [
        f"{prefix}.{flag}" for flag in criteria.not_applicable_when if values.get(flag) is None
    ]
    points = []
    for category in criteria.categories:
        met = [weight for item, weight in category.items.items() if values.get(item)]
        points.append((category.name, max(met, default=0)))
    flags = [values.get(flag) for flag in criteria.not_applicable_when]
    applicable = False if any(flags) else (None if None in flags else True)
    item_missing = any(values.get(item) is None for item in criteria.item_names)
    total = None if item_missing else sum(p for _, p in points)
    return AcrEularScore(total, applicable, points, missing)


@dataclass(frozen=True)
class MrssScore:
    total: int | None
    source: Literal["areas", "recorded total", "none"]
    missing: list[str] = field(default_factory=list)


def mrss_total(mrss: Mrss | None) -> MrssScore:
    """The modified Rodnan skin score: the 17 area grades summed, or a recorded total."""
    if mrss is None or (mrss.areas is None and mrss.total is None):
        return MrssScore(None, "none", ["ssc.mrss"])
    if mrss.areas is not None:
        grades = mrss.areas.model_dump()
        missing = [f"ssc.mrss.areas.{name}" for name, grade in grades.items() if grade is None]
        if missing:
            return MrssScore(None, "areas", missing)
        return MrssScore(sum(grades.values()), "areas")
    return MrssScore(mrss.total, "recorded total")


@dataclass(frozen=True)
class LeroySubset:
    subset: Literal["diffuse", "limited", "no skin thickening"] | None
    reason: str
    missing: list[str] = field(default_factory=list)


def leroy_subset(ssc: SscFindings, study: Study | None = None) -> LeroySubset:
    """LeRoy 1988 from the graded areas: diffuse = proximal (or trunk) and distal involvement.

    An area is involved when its mRSS grade is 1 or more. The back is not an mRSS area; it is
    asked separately, and only needed when no proximal mRSS area is involved.
    """
    areas = (study or load_study()).skin_score.value.areas
    if ssc.mrss is None or ssc.mrss.areas is None:
        return LeroySubset(None, "the subset needs the graded mRSS areas", ["ssc.mrss.areas"])
    grades = ssc.mrss.areas.model_dump()
    missing = [f"ssc.mrss.areas.{a.name}" for a in areas if grades[a.name] is None]
    if missing:
        return LeroySubset(None, "the subset needs all 17 graded areas", missing)
    proximal = [a.name for a in areas if a.proximal and grades[a.name] >= 1]
    distal = [a.name for a in areas if not a.proximal and grades[a.name] >= 1]
    if proximal and distal:
        return LeroySubset(
            "diffuse", f"proximal involvement ({', '.join(proximal)}) and distal involvement"
        )
    if ssc.back_skin_thickening is None:
        return LeroySubset(
            None,
            "no proximal mRSS area is involved; whether the back is involved is not recorded",
            ["ssc.back_skin_thickening"],
        )
    if ssc.back_skin_thickening and distal:
        return LeroySubset("diffuse", "back (trunk) involvement and distal involvement")
    if distal:
        return LeroySubset("limited", f"distal involvement only ({', '.join(distal)})")
    return LeroySubset("no skin thickening", "no distal skin involvement is graded")


@dataclass(frozen=True)
class Duration:
    years: int
    months: int
    days: int

    @property
    def total_months(self) -> int:
        return 12 * self.years + self.months

    def __str__(self) -> str:
        return f"{self.total_months} months {self.days} days"


def calendar_duration(start: date, end: date) -> Duration:
    """Whole calendar years, months and days from ``start`` to ``end`` (dateutil)."""
    delta = relativedelta(end, start)
    return Duration(delta.years, delta.months, delta.days)


def age_in_completed_years(birth: date, on: date) -> int:
    """Age on a date in completed years. A 29 February birthday is reached on 28 February in a
    common year (dateutil clamps the month end, as for washout months)."""
    return relativedelta(on, birth).years
