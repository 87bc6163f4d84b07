"""Dispensing and adherence, exactly: every count worked out by hand, every refusal word for word.

Facts used (registry and label): telitacicept 160 mg subcutaneously once a week, from 80 mg vials
(2 vials a dose); mycophenolate mofetil 0.5 g twice daily, from 500 mg tablets (1 a dose); 48
weeks. Randomization 2025-03-17 (a Monday) is study day 1; the week-4 visit is day 29
(2025-04-14, window +/- 3 days, so its latest day is 2025-04-17).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dosing.dispensing import (
    Adherence,
    DispensingInputError,
    DispensingLine,
    adherence,
    dispense,
    dispensing_plan,
    parse_overage,
    presentations_for,
    units_per_dose,
)
from dosing.regimens import regimens_for_arm
from protocol.units import ureg

pytestmark = pytest.mark.traces("interventions", "visit_schedule", "presentations", "dosing_rules")

RANDOMIZATION = date(2025, 3, 17)
WEEK_4_LATEST = date(2025, 4, 17)


def _telitacicept(dose=None):
    regimen = next(r for r in regimens_for_arm("telitacicept_mmf") if r.name == "Telitacicept")
    if dose is None:
        return regimen
    return type(regimen)(**{**regimen.__dict__, "dose": dose})


def _vial():
    (vial,) = presentations_for("telitacicept")
    return vial


def _refusal(call, *args, **kwargs):
    with pytest.raises(DispensingInputError) as caught:
        call(*args, **kwargs)
    return caught.value.source, caught.value.problems


# -- units per dose ------------------------------------------------------------------------------


@pytest.mark.parametrize(("mg", "shown"), [(120, "120 mg"), (0, "0 mg"), (40, "40 mg")])
def test_a_dose_that_is_not_whole_vials_is_refused(mg, shown):
    # 120 mg is 1.5 vials of 80 mg; 0 mg and 40 mg are less than one vial
    assert _refusal(units_per_dose, _telitacicept(mg * ureg.mg), _vial()) == (
        "presentations",
        [f"Telitacicept {shown} is not a whole number of 80 mg vials"],
    )


def test_whole_vials_per_dose():
    assert units_per_dose(_telitacicept(), _vial()) == 2  # 160 mg / 80 mg
    assert units_per_dose(_telitacicept(240 * ureg.mg), _vial()) == 3


# -- overage -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overage", "fraction"),
    [("25%", 0.25), (10, 0.10), ("10", 0.10), (" 5 % ", 0.05), (0, 0.0), (100, 1.0), ("100%", 1.0)],
)
def test_overages_from_0_to_100_percent(overage, fraction):
    assert parse_overage(overage) == fraction


@pytest.mark.parametrize("overage", ["10X", 100.5, "101%", -0.5])
def test_an_overage_outside_0_to_100_percent_is_refused_word_for_word(overage):
    assert _refusal(parse_overage, overage) == (
        "overage",
        [f"{overage!r} is not a percentage from 0 to 100 (e.g. '10%')"],
    )


# -- one dispensing --------------------------------------------------------------------------------


def test_four_weeks_of_injections_exactly():
    # injections on 03-17, 03-24, 03-31 and 04-07 (04-14 is the end, excluded): 4 doses, 8 vials
    line = dispense(_telitacicept(), _vial(), RANDOMIZATION, RANDOMIZATION, date(2025, 4, 14))
    assert line == DispensingLine(
        intervention="Telitacicept",
        presentation="80 mg vial",
        from_date=RANDOMIZATION,
        until_date=date(2025, 4, 14),
        doses=4,
        units_needed=8,
        units_to_dispense=8,  # no overage unless asked for
    )


@pytest.mark.parametrize("until", [RANDOMIZATION, RANDOMIZATION - timedelta(days=1)])
def test_an_empty_interval_is_refused_word_for_word(until):
    assert _refusal(dispense, _telitacicept(), _vial(), RANDOMIZATION, RANDOMIZATION, until) == (
        "dispensing",
        [f"the interval 2025-03-17 to {until.isoformat()} is empty"],
    )


# -- adherence -----------------------------------------------------------------------------------


def test_adherence_in_single_units_by_default():
    # 56 tablets dispensed, 7 returned: 49 of 56 taken = 87.5 %, 7 tablets = 7 doses missed
    result = adherence(56, 7, 56)
    assert result == Adherence(
        dispensed=56, returned=7, expected=56, taken=49, percent=87.5, missed=7, extra=0
    )
    assert result.units_per_dose == 1 and result.doses_missed == 7
    assert result.text == (
        "49 of 56 units taken (56 dispensed - 7 returned) = 87.5 % (7 missed: 7 doses)"
    )


def test_adherence_above_the_prescription():
    # 60 taken of 56: 60/56 = 107.14... %, 4 units more, none missed
    result = adherence(60, 0, 56)
    assert (result.taken, result.missed, result.extra) == (60, 0, 4)
    assert result.text == (
        "60 of 56 units taken (60 dispensed - 0 returned) = 107.1 % (4 more than prescribed)"
    )


def test_adherence_exactly_as_prescribed():
    result = adherence(8, 0, 8, units_per_dose=2)
    assert (result.taken, result.missed, result.extra, result.percent) == (8, 0, 0, 100.0)
    assert result.text == "8 of 8 units taken (8 dispensed - 0 returned) = 100.0 % (none missed)"


@pytest.mark.parametrize(
    ("counts", "source", "problem"),
    [
        ((True, 0, 10), "dispensed", "True is not a whole number of units"),
        ((None, 0, 10), "dispensed", "None is not a whole number of units"),
        ((10, 1.5, 10), "returned", "1.5 is not a whole number of units"),
        ((10, -1, 10), "returned", "-1 is negative; a count is zero or more"),
        ((10, 0, "10"), "expected", "'10' is not a whole number of units"),
        ((10, 0, -2), "expected", "-2 is negative; a count is zero or more"),
        ((-3, 0, 10), "dispensed", "-3 is negative; a count is zero or more"),
        (
            (0, 0, 56),
            "dispensed",
            "nothing was dispensed: adherence is not defined for this period",
        ),
        ((10, 12, 10), "returned", "12 returned is more than the 10 dispensed; check the counts"),
        ((10, 0, 0), "expected", "no units were prescribed for the period"),
    ],
)
def test_counts_that_cannot_be_used_are_refused_word_for_word(counts, source, problem):
    assert _refusal(adherence, *counts) == (source, [problem])


# -- the dispensing plan -------------------------------------------------------------------------


def test_the_plan_without_overage_for_the_first_visit():
    lines = dispensing_plan("telitacicept_mmf", RANDOMIZATION)
    # 12 dispensing visits (randomization, weeks 4 to 44), one line per drug: its first
    # presentation only (MMF: the 500 mg tablet, not also the 250 mg capsule)
    assert len(lines) == 24
    assert [line.presentation for line in lines[:2]] == ["80 mg vial", "500 mg tablet"]
    # through the latest day of the week-4 window, 2025-04-17, its doses included (the
    # interval ends the day after, exclusive): injections 03-17, 03-24, 03-31, 04-07, 04-14,
    # five (10 vials); tablets on the 32 days 03-17 to 04-17, twice a day, 64
    after_latest = WEEK_4_LATEST + timedelta(days=1)
    assert lines[0] == DispensingLine(
        "Telitacicept", "80 mg vial", RANDOMIZATION, after_latest, 5, 10, 10
    )
    assert lines[1] == DispensingLine(
        "Mycophenolate Mofetil", "500 mg tablet", RANDOMIZATION, after_latest, 64, 64, 64
    )


def test_the_plan_adds_the_overage_it_is_given():
    lines = dispensing_plan("telitacicept_mmf", RANDOMIZATION, "10%")
    # ceil(10 x 1.1) = 11 vials; ceil(64 x 1.1 = 70.4) = 71 tablets
    assert [(line.units_needed, line.units_to_dispense) for line in lines[:2]] == [
        (10, 11),
        (64, 71),
    ]


def test_the_plan_reads_the_study_it_is_given(varied_study):
    # a variant: 160 mg vials (one a dose) and the week-4 visit moved to day 36 (2025-04-21,
    # latest 2025-04-24, included): injections 03-17, 03-24, 03-31, 04-07, 04-14, 04-21
    study = varied_study(
        ("value: 80 mg", "value: 160 mg"),
        ("{id: week_4, label: Week 4, day: 29", "{id: week_4, label: Week 4, day: 36"),
    )
    lines = dispensing_plan("telitacicept", RANDOMIZATION, study=study)
    assert lines[0] == DispensingLine(
        "Telitacicept", "160 mg vial", RANDOMIZATION, date(2025, 4, 25), 6, 6, 6
    )


def test_a_dispensing_at_the_last_visit_has_no_interval_and_is_refused(varied_study):
    # follow-up, day 365 = 2026-03-16, is the last visit: nothing later bounds its interval
    study = varied_study(
        (
            "day: 365, window_before: P7D, window_after: P7D, "
            "activities: [labs, pregnancy_test, adverse_events]",
            "day: 365, window_before: P7D, window_after: P7D, activities: [labs, dispensing]",
        ),
    )
    assert _refusal(dispensing_plan, "mmf", RANDOMIZATION, study=study) == (
        "dispensing",
        ["the interval 2026-03-16 to 2026-03-16 is empty"],
    )


# the book's assumed schedule, as its table gives it (study day, days before, days after):
# weeks 4 and 8 at +/- 3 days, weeks 12 to 48 at +/- 7 days; dispensing at randomization and
# weeks 4 to 44 (the week-48 visit ends treatment)
_SCHEDULE = [(29, 3, 3), (57, 3, 3)] + [(7 * 4 * k + 1, 7, 7) for k in range(3, 13)]


@settings(max_examples=25, deadline=None)
@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)))
def test_each_dispensing_covers_every_dose_through_the_next_windows_last_day(randomization):
    """Worked from the schedule alone: from each dispensing visit's target day through the last
    day of the next visit's window, both included, telitacicept's weekly doses (day 1, 8, ...,
    for 48 weeks) and mycophenolate's two a day (days 1 to 336) are all dispensed."""

    def day(study_day: int) -> date:
        return randomization + timedelta(days=study_day - 1)

    targets = [day(1)] + [day(d) for d, _, _ in _SCHEDULE[:-1]]  # randomization, weeks 4-44
    last_days = [day(d + after) for d, _, after in _SCHEDULE]  # the next visit's last day
    injections = [day(1 + 7 * k) for k in range(48)]
    tablet_days = [day(d) for d in range(1, 337)]
    lines = dispensing_plan("telitacicept_mmf", randomization)
    assert len(lines) == 2 * len(targets)
    for k, (start, last) in enumerate(zip(targets, last_days, strict=True)):
        telitacicept, mmf = lines[2 * k], lines[2 * k + 1]
        assert telitacicept.from_date == mmf.from_date == start
        assert telitacicept.doses == sum(start <= d <= last for d in injections)
        assert mmf.doses == 2 * sum(start <= d <= last for d in tablet_days)
        assert telitacicept.units_needed == 2 * telitacicept.doses  # two 80 mg vials a dose
