"""Dispensing and adherence: how many vials and tablets to hand out, and whether they were taken.

Dispensing for an interval covers every planned administration from the visit date up to (not
including) the latest date of the next visit's window, so a participant who comes late still has
enough; a configurable overage (a percentage) is added and the count rounded up to whole units.

Adherence (%) follows the usual pill-count formula:
``(units dispensed - units returned) / units prescribed for the period x 100``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from dosing.calendar import administrations
from dosing.regimens import Regimen
from protocol.errors import ProtocolDataError
from protocol.study import Presentation, Study, load_study


class DispensingInputError(ProtocolDataError):
    """A count, an overage or a presentation that cannot be used."""


def presentations_for(intervention_id: str, study: Study | None = None) -> list[Presentation]:
    study = study or load_study()
    return [p for p in study.presentations if p.intervention == intervention_id]


def units_per_dose(regimen: Regimen, presentation: Presentation) -> int:
    """Whole units of a presentation per dose (160 mg from 80 mg vials: 2)."""
    ratio = float((regimen.dose / presentation.strength.value).to("dimensionless").magnitude)
    units = round(ratio)
    if abs(ratio - units) > 1e-9 or units < 1:
        raise DispensingInputError(
            "presentations",
            [
                f"{regimen.name} {regimen.dose:~P} is not a whole number of "
                f"{presentation.strength.value:~P} {presentation.dispensing_unit}s"
            ],
        )
    return units


def parse_overage(overage: Any) -> float:
    """An overage as a fraction: '10%', '10', 10 -> 0.10. Refuses anything not 0-100 %."""
    text = str(overage).strip().rstrip("%").strip()
    try:
        percent = float(text)
    except ValueError:
        percent = math.nan
    if not math.isfinite(percent) or not 0 <= percent <= 100:
        raise DispensingInputError(
            "overage", [f"{overage!r} is not a percentage from 0 to 100 (e.g. '10%')"]
        )
    return percent / 100


@dataclass(frozen=True)
class DispensingLine:
    intervention: str
    presentation: str
    from_date: date
    until_date: date  # exclusive
    doses: int
    units_needed: int
    units_to_dispense: int


def dispense(
    regimen: Regimen,
    presentation: Presentation,
    randomization: date,
    from_date: date,
    until_date: date,
    overage: Any = 0,
    administered: Sequence[Any] | None = None,
) -> DispensingLine:
    """Units to dispense for the doses of ``[from_date, until_date)``, with an overage
    (``administered``: the regimen's doses from ``randomization``, made already)."""
    if until_date <= from_date:
        raise DispensingInputError(
            "dispensing", [f"the interval {from_date} to {until_date} is empty"]
        )
    fraction = parse_overage(overage)
    if administered is None:
        administered = administrations(regimen, randomization)
    doses = [d for d in administered if from_date <= d.date < until_date]
    needed = len(doses) * units_per_dose(regimen, presentation)
    return DispensingLine(
        intervention=regimen.name,
        presentation=f"{presentation.strength.value:~P} {presentation.dispensing_unit}",
        from_date=from_date,
        until_date=until_date,
        doses=len(doses),
        units_needed=needed,
        units_to_dispense=math.ceil(needed * (1 + fraction) - 1e-9),
    )


def _count(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value):
        raise DispensingInputError(what, [f"{value!r} is not a whole number of units"])
    if value < 0:
        raise DispensingInputError(what, [f"{value!r} is negative; a count is zero or more"])
    return int(value)


@dataclass(frozen=True)
class Adherence:
    dispensed: int
    returned: int
    expected: int
    taken: int
    percent: float
    missed: int  # units
    extra: int  # units taken beyond those prescribed
    units_per_dose: int = 1

    @property
    def doses_missed(self) -> float:
        return self.missed / self.units_per_dose

    @property
    def text(self) -> str:
        doses = f"{self.doses_missed:g} dose{'' if self.doses_missed == 1 else 's'}"
        if self.missed:
            detail = f"{self.missed} missed: {doses}"
        else:
            detail = f"{self.extra} more than prescribed" if self.extra else "none missed"
        return (
            f"{self.taken} of {self.expected} units taken "
            f"({self.dispensed} dispensed - {self.returned} returned) = "
            f"{self.percent:.1f} % ({detail})"
        )


def adherence(dispensed: Any, returned: Any, expected: Any, units_per_dose: int = 1) -> Adherence:
    """Pill-count adherence in units (a 160 mg dose is 2 vials); doses missed from the units."""
    dispensed_n = _count(dispensed, "dispensed")
    returned_n = _count(returned, "returned")
    expected_n = _count(expected, "expected")
    if dispensed_n == 0:
        raise DispensingInputError(
            "dispensed", ["nothing was dispensed: adherence is not defined for this period"]
        )
    if returned_n > dispensed_n:
        raise DispensingInputError(
            "returned",
            [f"{returned_n} returned is more than the {dispensed_n} dispensed; check the counts"],
        )
    if expected_n == 0:
        raise DispensingInputError("expected", ["no units were prescribed for the period"])
    taken = dispensed_n - returned_n
    return Adherence(
        dispensed=dispensed_n,
        returned=returned_n,
        expected=expected_n,
        taken=taken,
        percent=100 * taken / expected_n,
        missed=max(expected_n - taken, 0),
        extra=max(taken - expected_n, 0),
        units_per_dose=units_per_dose,
    )


def dispensing_plan(
    arm_text: str, randomization: date, overage: Any = 0, study: Study | None = None
) -> list[DispensingLine]:
    """Units to dispense at each visit: every dose from its target day through the latest day
    of the next visit's window, that day's doses included (a participant who comes on the
    window's last day takes that morning's dose before the visit)."""
    from dosing.calendar import build_calendar

    study = study or load_study()
    calendar = build_calendar(arm_text, randomization, study)
    dispensing_visits = [v for v in calendar.visits if "dispensing" in v.visit.activities]
    # each regimen's doses made once (a 48-week twice-daily regimen is 672 doses)
    administered = [administrations(r, randomization) for r in calendar.regimens]
    lines = []
    for visit in dispensing_visits:
        later = [v for v in calendar.visits if v.target > visit.target]
        # (the interval's end is exclusive: the day after the latest day)
        until = later[0].latest + timedelta(days=1) if later else visit.target
        for regimen, doses in zip(calendar.regimens, administered, strict=True):
            for presentation in presentations_for(regimen.intervention_id, study)[:1]:
                lines.append(
                    dispense(
                        regimen,
                        presentation,
                        randomization,
                        visit.target,
                        until,
                        overage,
                        doses,
                    )
                )
    return lines
