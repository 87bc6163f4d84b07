"""Regimens computed from study.yaml: counts, totals and the counting-rule flag."""

from __future__ import annotations

import pytest

from dosing.regimens import Regimen, regimens_for_arm
from protocol.study import load_study
from protocol.units import Quantity

pytestmark = pytest.mark.traces("interventions", "dosing_rules")


def _regimen(**changes):
    study = load_study()
    regimen = Regimen.from_intervention(study.intervention("telitacicept"), study)
    return Regimen(**{**regimen.__dict__, **changes})


@pytest.mark.traces(
    "interventions.telitacicept.dose",
    "interventions.telitacicept.frequency",
    "interventions.telitacicept.duration",
)
def test_telitacicept_is_48_weekly_injections_of_160_mg():
    study = load_study()
    regimen = Regimen.from_intervention(study.intervention("telitacicept"), study)
    assert regimen.administration_count == 48
    assert regimen.interval == Quantity(1, "week")
    assert regimen.cumulative_dose.to("g").magnitude == pytest.approx(7.68)
    offsets = regimen.administration_offsets()
    assert offsets[0] == Quantity(0, "week") and offsets[-1].to("week").magnitude == 47


@pytest.mark.traces(
    "interventions.mycophenolate_mofetil.dose",
    "interventions.mycophenolate_mofetil.frequency",
    "interventions.mycophenolate_mofetil.duration",
)
def test_mmf_is_672_doses_of_half_a_gram_1_g_a_day():
    study = load_study()
    regimen = Regimen.from_intervention(study.intervention("mycophenolate_mofetil"), study)
    assert regimen.administration_count == 672
    assert regimen.daily_dose.to("g/day").magnitude == pytest.approx(1.0)
    assert regimen.cumulative_dose.to("g").magnitude == pytest.approx(336)
    assert regimen.interval.to("hour").magnitude == pytest.approx(12)


@pytest.mark.traces(
    "dosing_rules.dose_at_end_of_treatment",
)
def test_dosing_at_the_end_of_treatment_adds_one_administration():
    assert _regimen(dose_at_end_of_treatment=True).administration_count == 49
    assert _regimen(dose_at_end_of_treatment=True).cumulative_dose.to("g").magnitude == (
        pytest.approx(7.84)
    )


@pytest.mark.parametrize("weeks", [47, 48, 49])
def test_count_follows_the_duration(weeks):
    assert _regimen(duration=Quantity(weeks, "week")).administration_count == weeks


def test_a_duration_that_is_not_whole_intervals_is_refused():
    with pytest.raises(ValueError, match="not a whole number"):
        _ = _regimen(duration=Quantity(48.5, "week")).administration_count


def test_arms_have_their_interventions_in_record_order():
    assert [r.intervention_id for r in regimens_for_arm("telitacicept_mmf")] == [
        "telitacicept",
        "mycophenolate_mofetil",
    ]
    assert [r.intervention_id for r in regimens_for_arm("mmf")] == ["mycophenolate_mofetil"]
    with pytest.raises(KeyError, match="expected one of"):
        regimens_for_arm("placebo")
