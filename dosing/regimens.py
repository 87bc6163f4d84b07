"""Regimens read from study.yaml: dose, frequency and duration as pint quantities.

Counting rule (study.yaml ``dosing_rules``): administrations fall at ``k x interval`` from the
first dose for every ``k`` with ``k x interval < duration`` — so weekly dosing "lasting for 48
weeks" gives weeks 0 to 47, 48 injections. When ``dose_at_end_of_treatment`` is true (an
assumption flag), the dose at exactly ``duration`` is given too (49 injections).
"""

from __future__ import annotations

from dataclasses import dataclass

import pint

from protocol.study import Intervention, Study, load_study
from protocol.units import ureg


@dataclass(frozen=True)
class Regimen:
    """One intervention's planned regimen."""

    intervention_id: str
    name: str
    dose: pint.Quantity
    frequency: pint.Quantity
    duration: pint.Quantity
    route: str
    dose_at_end_of_treatment: bool

    @classmethod
    def from_intervention(cls, intervention: Intervention, study: Study) -> Regimen:
        return cls(
            intervention_id=intervention.id,
            name=intervention.name.value,
            dose=intervention.dose.value,
            frequency=intervention.frequency.value,
            duration=intervention.duration.value,
            route=intervention.route.value,
            dose_at_end_of_treatment=study.dosing_rules.dose_at_end_of_treatment.value,
        )

    @property
    def interval(self) -> pint.Quantity:
        """Time between two administrations (1 week; 12 hours)."""
        return (1 / self.frequency).to("hour")

    @property
    def administration_count(self) -> int:
        intervals = (self.duration * self.frequency).to("dimensionless").magnitude
        whole = round(intervals)
        if abs(intervals - whole) > 1e-9:
            raise ValueError(
                f"{self.name}: a duration of {self.duration:~P} is not a whole number of "
                f"{self.interval:~P} intervals; the counting rule needs one"
            )
        return whole + (1 if self.dose_at_end_of_treatment else 0)

    def administration_offsets(self) -> list[pint.Quantity]:
        """Time of each administration after the first (the first is at 0)."""
        interval = self.interval
        return [(k * interval) for k in range(self.administration_count)]

    @property
    def cumulative_dose(self) -> pint.Quantity:
        return (self.administration_count * self.dose).to(self.dose.units)

    @property
    def daily_dose(self) -> pint.Quantity:
        return (self.dose * self.frequency).to(f"{self.dose.units} / day")


def regimens_for_arm(arm_id: str, study: Study | None = None) -> list[Regimen]:
    """The regimens of one arm, in the order the record lists the arm's interventions."""
    study = study or load_study()
    for arm in study.arms:
        if arm.id == arm_id:
            return [Regimen.from_intervention(i, study) for i in study.arm_interventions(arm)]
    raise KeyError(f"no arm {arm_id!r}; expected one of {[a.id for a in study.arms]}")


def weeks(quantity: pint.Quantity) -> float:
    return quantity.to(ureg.week).magnitude
