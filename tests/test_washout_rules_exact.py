"""Exact washout rules: EX11's daily sum, the window messages, the input checks, the summaries.

Written after a second mutation run of protocol/washout.py: each test pins a status, date, field
or message that a surviving mutant changed. EX11 (registry NCT06375005): "systemic
corticosteroids exceeding the equivalent of prednisone 10 mg daily, or corticosteroid injections
within 4 weeks prior to randomization". Prednisone equivalents are the BNF table's as study.yaml
cites them (prednisone 5 mg = prednisolone 5 mg = methylprednisolone 4 mg = hydrocortisone
20 mg = dexamethasone 0.75 mg). Weeks are 7 days, months calendar months; a date on the
window's first day is within it, so a 4-week window clears on ``last + 29 days``.

Planned randomization 2025-03-17, screening 2025-03-03 throughout:
- 4 weeks before 2025-03-17 is 2025-02-17 (28 days: 17 March -> 17 February);
- 4 weeks before 2025-03-03 is 2025-02-03; 2 weeks before it is 2025-02-17.
Every date and message below is counted or written by hand.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from protocol.identifiers import identifying_text
from protocol.study import load_study
from protocol.units import read_unit, ureg
from protocol.washout import (
    EventEntry,
    MedicationEntry,
    WashoutInput,
    WashoutInputError,
    _catalogue_index,
    _steroid_amount,
    calendar_offset,
    check_medication,
    check_washout,
    entry_problems,
    half_life_table,
    match_medicine,
    parse_washout_input,
    read_dose,
)
from tests.test_washout_exact import _variant_study

pytestmark = pytest.mark.traces(
    "medication_classes", "exposure_events", "corticosteroid_rule", "criteria"
)

STUDY = load_study()
RANDOMIZATION = date(2025, 3, 17)
SCREENING = date(2025, 3, 3)
BNF = "[BNF]"  # the table, by the label the references list gives it


def _input(medications=(), events=(), screening=SCREENING):
    return parse_washout_input(
        {
            "planned_randomization": RANDOMIZATION,
            "screening": screening,
            "medications": list(medications),
            "events": list(events),
        },
        "rules input",
    )


def _washout(medications=(), events=(), screening=SCREENING, study=None):
    return check_washout(_input(medications, events, screening), study)


def _raw(medications=(), events=(), screening=SCREENING):
    """The input model without entry_problems (to ask entry_problems itself)."""
    return WashoutInput(
        planned_randomization=RANDOMIZATION,
        screening=screening,
        medications=[MedicationEntry(**m) for m in medications],
        events=[EventEntry(**e) for e in events],
    )


def _combined(result):
    together = [e for e in result.entries if e.name == "corticosteroids together"]
    assert len(together) <= 1
    return together[0] if together else None


# -- EX11, one entry at a time ----------------------------------------------------------------


def test_a_local_route_passes_with_its_route_written_with_a_hyphen():
    entry = _washout(
        [{"name": "triamcinolone", "last_dose": RANDOMIZATION, "route": "intra_articular"}]
    )
    (result,) = entry.entries
    assert result.status == "pass"
    assert result.window == "4 weeks"
    assert result.window_start == date(2025, 2, 17)
    assert result.reason == (
        "triamcinolone (intra-articular) is not systemic: EX11 concerns systemic corticosteroids "
        "and intravenous or intramuscular injections (PI12): passes"
    )


def test_a_steroid_stopped_the_day_before_the_window_passes_and_clears_on_the_planned_date():
    # window from 2025-02-17; a last dose on 2025-02-16 is before it;
    # 2025-02-16 + 29 days = 2025-03-17 (12 days to 28 Feb, 17 more to 17 Mar)
    (result,) = _washout(
        [
            {
                "name": "prednisone",
                "last_dose": date(2025, 2, 16),
                "dose": "20 mg",
                "frequency": "daily",
                "route": "oral",
            }
        ]
    ).entries
    assert result.status == "pass"
    assert result.clears_on == date(2025, 3, 17)
    assert result.reason == (
        "prednisone (last dose 2025-02-16) is before the window of 4 weeks prior to "
        "randomization (from 2025-02-17): passes (EX11)"
    )


def test_an_undated_steroid_above_the_limit_is_unknown():
    (result,) = _washout(
        [{"name": "prednisone", "dose": "20 mg", "frequency": "daily", "route": "oral"}]
    ).entries
    assert result.status == "unknown"
    assert result.clears_on is None
    assert result.reason == (
        "prednisone: no date recorded; taken in the 4 weeks before randomization it would "
        "exclude, taken before it it would not: unknown (EX11); record the last dose's date "
        "(PI23)"
    )


def test_an_undated_steroid_within_the_limit_passes_under_its_own_entry():
    (result,) = _washout(
        [{"name": "prednisone", "dose": "10 mg", "frequency": "daily", "route": "oral"}]
    ).entries
    assert (result.entry, result.status) == ("medications[0]", "pass")
    assert result.reason == (
        f"prednisone 10 mg daily = 10 mg/day prednisone equivalent {BNF}, not more than "
        "10 mg/day: passes (EX11)"
    )


def test_an_undated_local_steroid_adds_nothing_to_the_daily_sum():
    result = _washout(
        [
            {"name": "hydrocortisone", "route": "topical"},
            {
                "name": "prednisone",
                "last_dose": date(2025, 3, 10),
                "dose": "10 mg",
                "frequency": "daily",
                "route": "oral",
            },
        ]
    )
    assert [e.status for e in result.entries] == ["pass", "pass"]
    assert _combined(result) is None


def test_an_ongoing_iv_steroid_fails_without_a_clearing_date():
    (result,) = _washout([{"name": "methylprednisolone", "ongoing": True, "route": "iv"}]).entries
    assert result.status == "fail"
    assert result.clears_on is None
    assert result.on_boundary is False
    assert result.reason == (
        "methylprednisolone by IV injection is ongoing, within the 4 weeks before "
        "randomization: excluded (EX11, any IV or IM corticosteroid)"
    )


def test_an_im_steroid_on_the_first_day_of_the_window_fails_and_clears_the_next_day_after():
    # 2025-02-17 is the first day of the window; + 29 days = 2025-03-18 (11 to 28 Feb, 18 more)
    (result,) = _washout(
        [{"name": "triamcinolone", "last_dose": date(2025, 2, 17), "route": "im"}]
    ).entries
    assert result.status == "fail"
    assert result.clears_on == date(2025, 3, 18)
    assert result.on_boundary is True
    assert result.reason == (
        "triamcinolone by IM injection (last dose 2025-02-17), exactly on the first day of the "
        "4 weeks before randomization: excluded (EX11, any IV or IM corticosteroid); clears "
        "from 2025-03-18"
    )


def test_a_non_daily_dose_counts_its_dosing_day_amount():
    # PI26: prednisone 20 mg every other day is 20 mg on each dosing day, above 10
    # last dose 2025-03-10 + 29 days = 2025-04-08 (21 to 31 Mar, 8 more)
    (fails,) = _washout(
        [
            {
                "name": "prednisone",
                "last_dose": date(2025, 3, 10),
                "dose": "20 mg",
                "frequency": "every other day",
                "route": "oral",
            }
        ]
    ).entries
    assert fails.status == "fail"
    assert fails.clears_on == date(2025, 4, 8)
    assert fails.reason == (
        f"prednisone 20 mg every other day = 20 mg on each dosing day (PI26) prednisone "
        f"equivalent {BNF}, more than 10 mg/day within the 4 weeks before randomization: "
        "excluded (EX11); clears from 2025-04-08"
    )
    (passes,) = _washout(
        [
            {
                "name": "prednisone",
                "last_dose": date(2025, 3, 10),
                "dose": "10 mg",
                "frequency": "weekly",
                "route": "oral",
            }
        ]
    ).entries
    assert passes.status == "pass"
    assert passes.clears_on is None
    assert passes.reason == (
        f"prednisone 10 mg weekly = 10 mg on each dosing day (PI26) prednisone equivalent "
        f"{BNF}, not more than 10 mg/day: passes (EX11)"
    )


def test_an_ongoing_steroid_above_the_limit_must_stop_or_fall_to_the_limit():
    # methylprednisolone 12 mg = prednisone 12 * 5 / 4 = 15 mg
    (result,) = _washout(
        [
            {
                "name": "methylprednisolone",
                "ongoing": True,
                "dose": "12 mg",
                "frequency": "once daily",
                "route": "oral",
            }
        ]
    ).entries
    assert result.status == "fail"
    assert result.clears_on is None
    assert result.reason == (
        f"methylprednisolone 12 mg once daily = 15 mg/day prednisone equivalent {BNF}, more "
        "than 10 mg/day within the 4 weeks before randomization: excluded (EX11); it must stop "
        "or fall to the limit"
    )


@pytest.mark.parametrize(
    ("dose", "status"),
    [
        ("10.0000000001 mg", "fail"),  # 1e-11 over, in 12 digits: a dose written above it
        ("10.000000001 mg", "fail"),  # 1e-10 over: a dose written above the limit
        ("10.0000000000 mg", "pass"),  # the limit, with its zeros written
    ],
)
def test_the_limit_keeps_only_a_rounding_tolerance(dose, status):
    (result,) = _washout(
        [
            {
                "name": "prednisone",
                "last_dose": date(2025, 3, 10),
                "dose": dose,
                "frequency": "daily",
                "route": "oral",
            }
        ]
    ).entries
    assert result.status == status


def test_a_dose_with_more_digits_than_any_dose_is_refused_not_read_as_the_limit():
    # 10.00000000000001 mg (16 significant digits) was read as 10 and passed as "at" the limit;
    # 10.0000000000000001 is 10.0 as a float. Neither is decided: bad input (exit 2)
    for dose in ("10.00000000000001 mg", "10.0000000000000001 mg", "9.9999999999999999 mg"):
        with pytest.raises(WashoutInputError, match="significant digits"):
            _washout(
                [
                    {
                        "name": "prednisone",
                        "last_dose": date(2025, 3, 10),
                        "dose": dose,
                        "frequency": "daily",
                        "route": "oral",
                    }
                ]
            )


def test_steroid_amount_needs_a_drug_with_a_prednisone_equivalent():
    med = MedicationEntry(name="corticosteroid", last_dose=date(2025, 3, 10), route="oral")
    with pytest.raises(AssertionError):
        _steroid_amount(med, match_medicine("corticosteroid", STUDY))
    etanercept = match_medicine("etanercept", STUDY)
    with pytest.raises(AssertionError):
        _steroid_amount(MedicationEntry(name="etanercept"), etanercept)


# -- EX11, the courses together -----------------------------------------------------------------


def test_an_undated_course_may_add_up_with_an_ongoing_one():
    # undated prednisolone 5 mg/day may fall on any day of the window; ongoing prednisone
    # 6 mg/day without a start may too: 5 + 6 = 11 > 10 is possible, not sure
    result = _washout(
        [
            {"name": "prednisolone", "dose": "5 mg", "frequency": "daily", "route": "oral"},
            {
                "name": "prednisone",
                "ongoing": True,
                "dose": "6 mg",
                "frequency": "daily",
                "route": "oral",
            },
        ]
    )
    together = _combined(result)
    assert together.status == "unknown"
    assert together.entry == "medications[0], medications[1]"
    assert together.matched == "daily sum of prednisone equivalents"
    assert together.window == "4 weeks"
    assert together.window_start == date(2025, 2, 17)
    assert together.reason == (
        # prednisone surely on the randomization day (ongoing); prednisolone on any day or none
        "prednisolone + prednisone may have been taken on the same days (prednisolone's dates "
        "are not recorded); together that could be 11 mg prednisone equivalent a day, more "
        "than 10 mg: unknown (EX11); record prednisolone's start date and last dose"
    )


@pytest.mark.parametrize(
    ("first", "names"),
    [
        # without a route the course is taken daily from its start: it is on 2025-03-04
        # a course of unknown amount is not named in a sum it is not counted in
        ({"name": "prednisone"}, "prednisolone + hydrocortisone"),
        ({"name": "corticosteroid", "route": "oral"}, "prednisolone + hydrocortisone"),
        # without a dose and frequency only its last dose day (2025-03-05) is sure
        ({"name": "prednisone", "route": "oral"}, "prednisolone + hydrocortisone"),
    ],
)
def test_a_course_of_unknown_amount_is_named_where_it_surely_overlaps(first, names):
    # prednisolone 8 mg/day on 03-03..03-04 and hydrocortisone 20 mg = prednisone 5 mg on
    # 03-04: 8 + 5 = 13 > 10 on 2025-03-04, whatever the first course adds
    first = {**first, "start": date(2025, 3, 3), "last_dose": date(2025, 3, 5)}
    result = _washout(
        [
            first,
            {
                "name": "prednisolone",
                "start": date(2025, 3, 3),
                "last_dose": date(2025, 3, 4),
                "dose": "8 mg",
                "frequency": "daily",
                "route": "oral",
            },
            {
                "name": "hydrocortisone",
                "start": date(2025, 3, 4),
                "last_dose": date(2025, 3, 4),
                "dose": "20 mg",
                "frequency": "daily",
                "route": "oral",
            },
        ]
    )
    together = _combined(result)
    assert together.status == "fail"
    assert together.entry == "medications[0], medications[1], medications[2]"
    assert together.reason == (
        f"{names} taken on 2025-03-04 add up to 13 mg prednisone equivalent that day, more "
        "than 10 mg/day within the 4 weeks before randomization: excluded (EX11)"
    )


@pytest.mark.parametrize(
    "first",
    [
        {"name": "prednisone", "start": date(2025, 3, 3), "ongoing": True},
        {"name": "corticosteroid", "start": date(2025, 3, 3), "ongoing": True, "route": "oral"},
        {"name": "prednisone", "start": date(2025, 3, 3), "last_dose": date(2025, 3, 5)},
    ],
)
def test_a_course_of_unknown_amount_may_make_an_unknown_amount(first):
    result = _washout(
        [
            first,
            {
                "name": "prednisolone",
                "start": date(2025, 3, 3),
                "last_dose": date(2025, 3, 4),
                "dose": "8 mg",
                "frequency": "daily",
                "route": "oral",
            },
        ]
    )
    # both surely taken on 2025-03-03 (the first course's first day): what the first lacks
    # for its amount is named, and only that is asked for
    name = first["name"]
    missing = {
        "prednisone": "prednisone's route, dose and frequency are not recorded",
        "corticosteroid": "which corticosteroid corticosteroid is, is not recorded",
    }[name]
    to_record = {
        "prednisone": "prednisone's route, dose and frequency",
        "corticosteroid": "which corticosteroid corticosteroid is",
    }[name]
    assert _combined(result).status == "unknown"
    assert _combined(result).reason == (
        f"{name} + prednisolone taken on 2025-03-03 could add up to an unknown amount "
        f"prednisone equivalent that day ({missing}), more than 10 mg: unknown (EX11); "
        f"record {to_record}"
    )


def test_a_non_daily_course_surely_counts_on_its_last_dose_day():
    # prednisone 10 mg every other day, last dose 2025-03-10 (a dosing day), and prednisolone
    # 5 mg daily 03-01..03-12: 10 + 5 = 15 > 10 on 2025-03-10
    result = _washout(
        [
            {
                "name": "prednisone",
                "start": date(2025, 3, 1),
                "last_dose": date(2025, 3, 10),
                "dose": "10 mg",
                "frequency": "every other day",
                "route": "oral",
            },
            {
                "name": "prednisolone",
                "start": date(2025, 3, 1),
                "last_dose": date(2025, 3, 12),
                "dose": "5 mg",
                "frequency": "daily",
                "route": "oral",
            },
        ]
    )
    together = _combined(result)
    assert together.status == "fail"
    assert together.reason == (
        "prednisone + prednisolone taken on 2025-03-10 add up to 15 mg prednisone equivalent "
        "that day, more than 10 mg/day within the 4 weeks before randomization: excluded "
        "(EX11)"
    )


def test_the_first_of_equally_bad_days_is_named():
    # prednisone 6 mg daily 03-01..03-12; prednisolone 6 mg daily 03-01..03-02;
    # hydrocortisone 24 mg = prednisone 24 * 5 / 20 = 6 mg daily 03-10..03-12:
    # 12 mg on 03-01 and again on 03-10; the first is named
    result = _washout(
        [
            {
                "name": "prednisone",
                "start": date(2025, 3, 1),
                "last_dose": date(2025, 3, 12),
                "dose": "6 mg",
                "frequency": "daily",
                "route": "oral",
            },
            {
                "name": "prednisolone",
                "start": date(2025, 3, 1),
                "last_dose": date(2025, 3, 2),
                "dose": "6 mg",
                "frequency": "daily",
                "route": "oral",
            },
            {
                "name": "hydrocortisone",
                "start": date(2025, 3, 10),
                "last_dose": date(2025, 3, 12),
                "dose": "24 mg",
                "frequency": "daily",
                "route": "oral",
            },
        ]
    )
    assert _combined(result).reason == (
        "prednisone + prednisolone taken on 2025-03-01 add up to 12 mg prednisone equivalent "
        "that day, more than 10 mg/day within the 4 weeks before randomization: excluded "
        "(EX11)"
    )


def test_small_courses_together_pass_with_their_true_maximum():
    # 0.25 + 0.5 = 0.75 mg on 03-05..03-06
    result = _washout(
        [
            {
                "name": "prednisone",
                "start": date(2025, 3, 1),
                "last_dose": date(2025, 3, 6),
                "dose": "0.25 mg",
                "frequency": "daily",
                "route": "oral",
            },
            {
                "name": "prednisolone",
                "start": date(2025, 3, 5),
                "last_dose": date(2025, 3, 9),
                "dose": "0.5 mg",
                "frequency": "daily",
                "route": "oral",
            },
        ]
    )
    together = _combined(result)
    assert together.status == "pass"
    assert together.name == "corticosteroids together"
    assert together.reason == (
        "the corticosteroid courses together reach at most 0.75 mg prednisone equivalent on any "
        "day of the window: passes (EX11)"
    )


def test_one_course_alone_above_the_limit_is_its_own_entrys_failure():
    # prednisone 15 mg daily 03-01..03-02 and prednisolone 5 mg daily 03-10..03-12 never share
    # a day: the sum is a single course's 15 mg; that course fails on its own entry
    result = _washout(
        [
            {
                "name": "prednisone",
                "start": date(2025, 3, 1),
                "last_dose": date(2025, 3, 2),
                "dose": "15 mg",
                "frequency": "daily",
                "route": "oral",
            },
            {
                "name": "prednisolone",
                "start": date(2025, 3, 10),
                "last_dose": date(2025, 3, 12),
                "dose": "5 mg",
                "frequency": "daily",
                "route": "oral",
            },
        ]
    )
    assert [e.status for e in result.entries] == ["fail", "pass", "pass"]
    assert _combined(result).reason == (
        "no two corticosteroid courses can fall on the same day of the window (each is checked "
        "on its own): passes (EX11)"
    )


def test_a_course_of_unknown_amount_that_may_overlap_another_leaves_the_sum_unknown():
    # Ongoing prednisone with no route, start or dose (unknown amount, any day of the 4 weeks
    # from 2025-02-17 to the 2025-03-17 randomization) and prednisolone 8 mg on 03-03 and 03-04:
    # on those days the sum is unknown, so EX11's combined entry is unknown (it used to pass
    # "at most inf mg" because the first day, with one course, was taken as the worst).
    result = _washout(
        [
            {"name": "prednisone", "ongoing": True},
            {
                "name": "prednisolone",
                "start": date(2025, 3, 3),
                "last_dose": date(2025, 3, 4),
                "dose": "8 mg",
                "frequency": "daily",
                "route": "oral",
            },
        ]
    )
    combined = _combined(result)
    assert combined.status == "unknown"
    assert combined.reason.startswith(
        "prednisone + prednisolone may have been taken on the same days"
    )
    assert "an unknown amount" in combined.reason and "inf" not in combined.reason


# -- the shared window rule ---------------------------------------------------------------------


def test_a_screening_window_without_a_screening_date_is_unknown():
    (result,) = _washout(
        events=[{"kind": "oral_antibiotics", "date": date(2025, 3, 1)}], screening=None
    ).entries
    assert result.status == "unknown"
    assert result.anchor_date is None
    # a screening on 2025-03-16 or later (2 weeks = 14 days after 2025-03-01, and a day) has
    # the course before its window: the day is said, and kept for the earliest date's search
    assert result.reason == (
        "Oral antibiotics: the window counts from screening, and no screening date is given: "
        "unknown (EX20); with a screening visit on or after 2025-03-16 it passes, its window "
        "then beginning after its date"
    )
    assert result.clears_on == date(2025, 3, 16)


def test_an_ongoing_medicine_counted_from_randomization_needs_no_rescreening():
    # a last dose on the screening date 2025-03-03 + 29 days = 2025-04-01
    (result,) = _washout([{"name": "methotrexate", "ongoing": True}]).entries
    assert result.status == "fail"
    assert result.window_start == date(2025, 2, 17)
    assert result.requires_rescreening is False
    assert result.reason == (
        "methotrexate is ongoing: excluded until it stops (EX09, 4 weeks prior to "
        "randomization); stopped after a last dose on 2025-03-03, it would clear on 2025-04-01"
    )


def test_an_ongoing_event_counted_from_screening_needs_rescreening():
    result = _washout(events=[{"kind": "iv_antibiotics", "ongoing": True}])
    (entry,) = result.entries
    assert entry.status == "fail"
    assert entry.window_start == date(2025, 2, 3)
    assert entry.requires_rescreening is True
    assert entry.reason == (
        # an event ends (a stay in hospital has no last dose), and a window counted from the
        # screening visit is cleared by a new screening, not on a day of randomization
        "Intravenous antibiotics is ongoing: excluded until it ends (EX20, 4 weeks of "
        "screening); if it ended on 2025-03-03, a screening on or after 2025-04-01 would clear "
        "it (rescreening needed)"
    )
    assert result.rescreening_from is None
    assert result.summary == (
        "Not on this screening: a window counted from the screening visit is not clear "
        "(Intravenous antibiotics), so no randomization date follows from this screening; "
        "rescreening is needed."
    )


def test_an_undated_medicine_shows_where_its_window_starts():
    (result,) = _washout([{"name": "methotrexate"}]).entries
    assert result.status == "unknown"
    assert result.window_start == date(2025, 2, 17)


def test_an_event_after_screening_cleared_by_the_investigator_passes():
    (result,) = _washout(
        events=[
            {
                "kind": "hospitalised_infection",
                "date": date(2025, 3, 5),
                "investigator_cleared": True,
                "clearance_reason": "resolved, not serious",
            }
        ]
    ).entries
    assert result.status == "pass"
    assert result.window_start == date(2025, 2, 3)
    assert result.reason == (
        "Infection requiring hospitalization (dated 2025-03-05) is after the screening visit "
        "2025-03-03; the investigator clears it (resolved, not serious): passes (EX20, PI15)"
    )


def test_an_event_after_screening_not_cleared_is_for_the_investigator():
    (result,) = _washout(events=[{"kind": "iv_antibiotics", "date": date(2025, 3, 5)}]).entries
    assert result.status == "unknown"
    assert result.window_start == date(2025, 2, 3)


def test_a_dose_on_the_first_day_of_the_window_is_exactly_on_it():
    # 2025-02-17 + 29 days = 2025-03-18
    (result,) = _washout([{"name": "methotrexate", "last_dose": date(2025, 2, 17)}]).entries
    assert result.reason == (
        "methotrexate (last dose 2025-02-17) is exactly on the first day of the window of "
        "4 weeks prior to randomization (2025-02-17 to randomization 2025-03-17): excluded "
        "(EX09); a randomization on or after 2025-03-18 clears it"
    )


def test_a_dose_on_the_anchor_day_is_within_the_span_up_to_it():
    # 2025-03-17 + 29 days = 2025-04-15 (14 days to 31 Mar, 15 more)
    (result,) = _washout([{"name": "methotrexate", "last_dose": RANDOMIZATION}]).entries
    assert result.clears_on == date(2025, 4, 15)
    assert result.reason == (
        "methotrexate (last dose 2025-03-17) is within the window of 4 weeks prior to "
        "randomization (2025-02-17 to randomization 2025-03-17): excluded (EX09); a "
        "randomization on or after 2025-04-15 clears it"
    )


def test_an_investigational_drug_after_screening_is_within_its_window():
    # 3 calendar months before 2025-06-10 is 2025-03-10 (still within), before 2025-06-11 is
    # 2025-03-11 (after the dose): clears on 2025-06-11
    (result,) = _washout(
        events=[{"kind": "investigational_drug", "date": date(2025, 3, 10)}]
    ).entries
    assert result.status == "fail"
    assert result.clears_on == date(2025, 6, 11)
    assert result.reason == (
        "Another investigational drug (last dose) (dated 2025-03-10) is within the window of "
        "3 months of entry into this study (read as the screening visit, PI07) (after "
        "screening 2025-03-03, which the window covers): excluded (EX23); a screening on or "
        "after 2025-06-11 clears it (rescreening needed)"
    )


# -- medicines: fields of each kind of result ---------------------------------------------------


def test_an_unknown_medicine_cleared_by_the_investigator_passes():
    (result,) = _washout(
        [
            {
                "name": "Vitamin D3",
                "last_dose": date(2025, 3, 1),
                "investigator_cleared": True,
                "clearance_reason": "a supplement",
            }
        ]
    ).entries
    assert (result.entry, result.name, result.status) == ("medications[0]", "Vitamin D3", "pass")
    assert result.last_date == date(2025, 3, 1)
    assert result.reason == (
        "Vitamin D3 is not in the catalogue; the investigator attests it is not a prohibited "
        "medicine (a supplement): passes"
    )


def test_an_unknown_medicine_keeps_its_last_dose():
    (result,) = _washout([{"name": "Vitamin D3", "last_dose": date(2025, 3, 1)}]).entries
    assert result.status == "unknown"
    assert result.last_date == date(2025, 3, 1)


def test_a_class_name_carries_a_note_and_fails_within_its_window():
    # 2025-03-01 is inside the 4 weeks before randomization on 2025-03-17: any medicine of the
    # class excludes, so the class name alone decides
    (result,) = _washout([{"name": "immunosuppressant", "last_dose": date(2025, 3, 1)}]).entries
    assert result.notes == [
        "matched the class name 'Immunosuppressive therapies', not a medicine of it"
    ]
    assert result.status == "fail"


@settings(max_examples=80, deadline=None)
@given(
    alias=st.sampled_from(
        [alias for group in load_study().medication_classes for alias in group.aliases]
    ),
    days_before=st.integers(0, 3000),
)
@example(alias="immunosuppressant", days_before=75)  # past 4 weeks, within 3 months
def test_a_class_name_passes_only_where_no_medicine_it_names_could_fail(alias, days_before):
    # a hostile review found "immunosuppressant" last taken 2025-01-01 passing EX09 on the
    # class's 4 weeks, though cyclophosphamide (3 months) and rituximab (ever) are
    # immunosuppressants too: missing the medicine's name never makes a participant eligible
    study = load_study()
    last = date.fromordinal(RANDOMIZATION.toordinal() - days_before)
    (result,) = _washout([{"name": alias, "last_dose": last}]).entries
    group = next(g for g in study.medication_classes if alias in g.aliases)
    named = [group] + [g for g in study.medication_classes if g.id in group.aliases_also_name]
    # independently: each medicine the word may name, by one of its drugs
    answers = {
        _washout([{"name": g.drugs[0].name, "last_dose": last}]).entries[0].status for g in named
    }
    if result.status == "pass":
        assert answers == {"pass"}, (alias, last, answers)


def test_a_class_name_outside_its_window_is_unknown_and_the_named_drug_passes():
    (generic,) = _washout([{"name": "immunosuppressant", "last_dose": date(2025, 1, 1)}]).entries
    assert generic.status == "unknown"
    assert "Cyclophosphamide: 3 months" in generic.reason
    assert "unknown until the medicine is named" in generic.reason
    (named,) = _washout([{"name": "methotrexate", "last_dose": date(2025, 1, 1)}]).entries
    assert named.status == "pass"


def test_a_lifetime_exclusion_keeps_its_fields():
    (result,) = _washout([{"name": "Rituxan", "last_dose": date(2020, 5, 1)}]).entries
    assert result.entry == "medications[0]"
    assert result.matched == "rituximab (B-cell depleting therapies (and belimumab))"
    assert result.window == "ever (lifetime)"
    assert result.last_date == date(2020, 5, 1)
    assert result.lifetime is True


def test_a_biologic_without_a_window_names_its_class_in_lower_case():
    data = [{"name": "etanercept", "last_dose": date(2025, 3, 1)}]
    (unknown,) = _washout(data).entries
    assert unknown.reason == (
        "etanercept is one of the other biologics or small molecule targeted therapies of EX14, "
        "for which the record gives no window (PI06): unknown, the investigator decides "
        "(investigator_cleared with a reason)"
    )
    cleared = [{**data[0], "investigator_cleared": True, "clearance_reason": "stopped in 2023"}]
    (passes,) = _washout(cleared).entries
    assert passes.reason == (
        "etanercept is one of the other biologics or small molecule targeted therapies of EX14, "
        "for which the record gives no window; the investigator clears it (stopped in 2023): "
        "passes (PI06)"
    )


def test_a_variant_study_decides_with_its_own_catalogue():
    # an amendment giving methotrexate's class no window: the variant study's rule applies
    variant = _variant_study("immunosuppressants", rule="no_window", window=None)
    data = _input([{"name": "methotrexate", "last_dose": date(2025, 3, 1)}])
    (result,) = check_washout(data, variant).entries
    assert result.status == "unknown"
    assert result.window is None


# -- input checks ----------------------------------------------------------------------------


def test_a_variant_studys_catalogue_and_dose_range_decide_the_input_checks():
    # a class renamed in the variant study: 'tomcat' is in it, so its look-alike spelling is
    # caught and an investigator may not clear it; a narrower plausible dose range refuses 7 mg
    groups = [
        g.model_copy(update={"drugs": [d.model_copy(update={"name": "tomcat"}) for d in g.drugs]})
        if g.id == "anakinra"
        else g
        for g in STUDY.medication_classes
    ]
    narrow = STUDY.dose_plausible_range.model_copy(
        update={
            "value": STUDY.dose_plausible_range.value.model_copy(
                update={"high": 5 * read_unit("mg"), "written": "0.01 to 5 mg"}
            )
        }
    )
    variant = STUDY.model_copy(
        update={"medication_classes": groups, "dose_plausible_range": narrow}
    )
    data = _raw(
        [
            {"name": "tomcat", "investigator_cleared": True, "clearance_reason": "r"},
            {"name": "томсат"},  # all Cyrillic
            {"name": "prednisone", "dose": "7 mg"},
        ]
    )
    assert entry_problems(data, variant) == [
        "medications[0] (tomcat).investigator_cleared = true: tomcat (Anakinra) is decided by "
        "the protocol (EX14), not by the investigator; expected no clearance",
        "medications[1] (томсат).name = 'томсат': its letters imitate 'tomcat' in another "
        "script; expected the name in Latin letters or in Chinese",
        "medications[2] (prednisone).dose = '7 mg': implausible: check the value and its unit"
        "; expected 0.01 to 5 mg per dose",
    ]


@pytest.mark.parametrize(
    ("typed", "imitated"),
    [
        ("сус", "cyclophosphamide"),  # Cyrillic с у с: the alias CYC
        ("ТКІ", "Tyrosine kinase inhibitors (anti-fibrotic)"),  # Cyrillic: the class name TKI
        ("сосо", None),  # Cyrillic, imitating nothing catalogued
    ],
)
def test_a_name_imitating_a_catalogued_one_is_refused(typed, imitated):
    problems = entry_problems(_raw([{"name": typed}]), STUDY)
    if imitated is None:
        assert problems == []
    else:
        assert problems == [
            f"medications[0] ({typed}).name = '{typed}': its letters imitate '{imitated}' in "
            "another script; expected the name in Latin letters or in Chinese"
        ]


def test_event_kind_and_date_problems_are_each_named():
    kinds = (
        "hospitalised_infection, investigational_drug, iv_antibiotics, live_vaccine, "
        "major_surgery, oral_antibiotics, planned_major_surgery"
    )
    data = _raw(
        events=[
            {"kind": "flu"},
            {"kind": "bad_kind"},
            {"kind": "iv_antibiotics", "date": date(2025, 3, 1), "ongoing": True},
            {"kind": "major_surgery", "ongoing": True},
            {"kind": "live_vaccine", "date": RANDOMIZATION},
            {
                "kind": "major_surgery",
                "date": date(2025, 1, 1),
                "investigator_cleared": True,
                "clearance_reason": "minor",
            },
        ]
    )
    assert entry_problems(data, STUDY) == [
        f"events[0] (flu).kind = 'flu': unknown event kind; expected one of: {kinds}",
        f"events[1] (bad_kind).kind = 'bad_kind': unknown event kind; expected one of: {kinds}",
        "events[2] (iv_antibiotics): both a date and 'ongoing: true'; expected one of them, "
        "'date: YYYY-MM-DD' or 'ongoing: true' (neither if the date is not known)",
        "events[3] (major_surgery).ongoing = true: a major surgery happens on a day and cannot "
        "be ongoing; expected its date alone, or neither if the date is not known",
        "events[5] (major_surgery).investigator_cleared = true: the protocol decides major "
        "surgery (EX08), not the investigator; expected no clearance",
    ]


def test_an_ongoing_event_without_a_date_is_no_problem():
    assert entry_problems(_raw(events=[{"kind": "iv_antibiotics", "ongoing": True}]), STUDY) == []


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            {"investigator_cleared": True},
            "investigator_cleared = true needs clearance_reason (why the investigator clears it)",
        ),
        (
            {"clearance_reason": "why"},
            "clearance_reason is given without investigator_cleared = true",
        ),
    ],
)
def test_clearance_problems_are_written_out(entry, message):
    with pytest.raises(ValidationError) as med:
        MedicationEntry(name="etanercept", **entry)
    assert message in str(med.value)
    with pytest.raises(ValidationError) as event:
        EventEntry(kind="iv_antibiotics", **entry)
    assert message in str(event.value)


@pytest.mark.parametrize(
    ("text", "mg"),
    [("1.5E1 mg", 15.0), ("1.5e1 mg", 15.0), ("500 µg", 0.5), ("500 μg", 0.5), ("2 g", 2000.0)],
)
def test_doses_in_every_written_form(text, mg):
    dose = read_dose(text, STUDY)
    assert str(dose.units) == "milligram"
    assert dose.magnitude == pytest.approx(mg)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("fifteen mg", "not a dose; expected a number and a mass unit, such as '15 mg'"),
        ("15 mL", "not a dose; expected a number and a mass unit, such as '15 mg'"),
        ("6 g", "implausible: check the value and its unit; expected 0.01 to 5000 mg per dose"),
    ],
)
def test_dose_messages_are_written_out(text, message):
    with pytest.raises(ValueError) as exc:
        read_dose(text, STUDY)
    assert str(exc.value) == message


def test_a_window_in_hours_is_refused_by_name():
    with pytest.raises(ValueError) as exc:
        calendar_offset(ureg.Quantity(5, "hour"))
    assert str(exc.value) == "5 hours is not in days, weeks, months or years"


# -- the catalogue index is built once per study ---------------------------------------------


def test_the_catalogue_index_is_built_once_per_study_and_at_most_33_studies_are_kept():
    from protocol.study import _DERIVED

    assert _catalogue_index(STUDY) is _catalogue_index(STUDY)
    variants = [STUDY.model_copy() for _ in range(34)]
    _DERIVED.clear()
    for variant in variants[:33]:
        _catalogue_index(variant)
    assert len(_DERIVED) == 33
    assert _catalogue_index(variants[0]) is not _catalogue_index(variants[1])  # each its own
    _catalogue_index(variants[33])  # the 34th: the cache is emptied first
    assert len(_DERIVED) == 1


# -- summaries -------------------------------------------------------------------------------


def test_never_names_every_lifetime_exclusion():
    result = _washout(
        [
            {"name": "rituximab", "last_dose": date(2020, 1, 1)},
            {"name": "alemtuzumab", "last_dose": date(2019, 1, 1)},
        ]
    )
    assert result.summary == "Never: a lifetime exclusion applies (rituximab, alemtuzumab)."


def test_no_date_yet_joins_the_blocking_reasons():
    result = _washout(
        [{"name": "methotrexate", "ongoing": True}, {"name": "leflunomide", "ongoing": True}]
    )
    assert result.summary == (
        "No date yet: methotrexate is ongoing: excluded until it stops (EX09, 4 weeks prior to "
        "randomization); stopped after a last dose on 2025-03-03, it would clear on 2025-04-01; "
        "leflunomide is ongoing: excluded until it stops (EX09, 4 weeks prior to "
        "randomization); stopped after a last dose on 2025-03-03, it would clear on "
        "2025-04-01."
    )


def test_rescreening_names_each_screening_window():
    # oral antibiotics 2025-02-20: 2 weeks before 2025-03-03 is 2025-02-17, within;
    # 2025-02-20 + 15 days = 2025-03-07. IV antibiotics 2025-02-10: within 2025-02-03..;
    # 2025-02-10 + 29 days = 2025-03-11 (18 to 28 Feb, 11 more). The later is 2025-03-11.
    result = _washout(
        events=[
            {"kind": "oral_antibiotics", "date": date(2025, 2, 20)},
            {"kind": "iv_antibiotics", "date": date(2025, 2, 10)},
        ]
    )
    assert result.rescreening_from == date(2025, 3, 11)
    assert result.summary == (
        "Not on this screening: a window counted from the screening visit is not clear "
        "(Oral antibiotics; Intravenous antibiotics), so no randomization date follows from "
        "this screening; rescreening is needed, on or after 2025-03-11."
    )


def test_unknown_entries_are_flagged_in_the_summary():
    # an entry the investigator decides may move the date later: the date is a bound ("not
    # before"), as the JSON's earliest_randomization_is_a_bound says; the text had printed it
    # as the date
    result = _washout([{"name": "etanercept", "last_dose": date(2025, 3, 1)}])
    assert result.summary == (
        "Earliest randomization: not before 2025-03-03. Unknown entries remain: the "
        "investigator must decide them first."
    )
    assert result.earliest_is_a_bound
    undated = _washout([{"name": "methotrexate"}])
    assert undated.summary.startswith("Earliest randomization: not before 2025-03-03.")
    assert undated.earliest_is_a_bound


# -- half-lives ------------------------------------------------------------------------------


def test_every_drug_with_a_half_life_is_in_the_table():
    # antifibrotics list colchicine (no half-life) before nintedanib and pirfenidone
    drugs = [row.drug for row in half_life_table(STUDY)]
    assert {"nintedanib", "pirfenidone", "baricitinib", "upadacitinib"} <= set(drugs)
    assert "colchicine" not in drugs


def test_a_half_life_without_a_source_has_an_empty_source():
    group = next(g for g in STUDY.medication_classes if g.id == "anakinra")
    (drug,) = group.drugs
    half_life = drug.half_life.model_copy(update={"source": None})
    variant = _variant_study("anakinra", drugs=[drug.model_copy(update={"half_life": half_life})])
    (row,) = [r for r in half_life_table(variant) if r.drug == "anakinra"]
    assert row.source == ""


def test_check_medication_matches_against_the_given_study():
    variant = _variant_study("immunosuppressants", rule="no_window", window=None)
    med = MedicationEntry(name="methotrexate", last_dose=date(2025, 3, 1))
    data = _raw([{"name": "methotrexate", "last_dose": date(2025, 3, 1)}])
    assert check_medication(med, 0, data, variant).status == "unknown"


def test_courses_adding_up_to_the_limit_pass_together():
    # sure overlap on 03-05..03-10: prednisone 5 mg + dexamethasone 0.75 mg (5 mg prednisone
    # equivalent) = 10 mg a day, at the limit (its arithmetic's rounding aside)
    both_dated = _washout(
        [
            {
                "name": "prednisone",
                "start": date(2025, 3, 1),
                "last_dose": date(2025, 3, 10),
                "dose": "5 mg",
                "frequency": "daily",
                "route": "oral",
            },
            {
                "name": "dexamethasone",
                "start": date(2025, 3, 5),
                "last_dose": date(2025, 3, 12),
                "dose": "0.75 mg",
                "frequency": "daily",
                "route": "oral",
            },
        ]
    )
    assert _combined(both_dated).status == "pass"
    # without start dates they may overlap on any day up to 03-05: the same possible sum
    no_starts = _washout(
        [
            {
                "name": "prednisone",
                "last_dose": date(2025, 3, 5),
                "dose": "5 mg",
                "frequency": "daily",
                "route": "oral",
            },
            {
                "name": "dexamethasone",
                "last_dose": date(2025, 3, 10),
                "dose": "0.75 mg",
                "frequency": "daily",
                "route": "oral",
            },
        ]
    )
    assert _combined(no_starts).status == "pass"


def test_pre_study_mmf_note_when_an_amended_class_has_no_window():
    variant = _variant_study("immunosuppressants", rule="no_window", window=None)
    (result,) = check_washout(
        _input([{"name": "CellCept", "last_dose": date(2025, 3, 1)}]), variant
    ).entries
    assert result.notes[0].startswith(
        "Mycophenolate mofetil taken before the study must stop at least  before randomization "
        "(EX09); protocol MMF 0.5 g twice daily"
    )


@pytest.mark.parametrize(
    "ongoing",
    [
        # prednisone without its route, and a corticosteroid not named: amounts unknown
        {"name": "prednisone", "start": date(2025, 3, 10), "ongoing": True},
        {"name": "corticosteroid", "start": date(2025, 3, 10), "ongoing": True, "route": "oral"},
    ],
)
def test_an_ongoing_course_of_unknown_amount_counts_from_its_start(ongoing):
    # Started 2025-03-10 and ongoing to randomization (2025-03-17); prednisolone 8 mg daily
    # 03-01..03-04 ended before it: no day has both, so their sum cannot exceed 10 mg.
    result = _washout(
        [
            ongoing,
            {
                "name": "prednisolone",
                "start": date(2025, 3, 1),
                "last_dose": date(2025, 3, 4),
                "dose": "8 mg",
                "frequency": "daily",
                "route": "oral",
            },
        ]
    )
    assert _combined(result).status == "pass"
    assert _combined(result).reason == (
        "no two corticosteroid courses can fall on the same day of the window (each is checked "
        "on its own): passes (EX11)"
    )


def test_a_medicine_the_catalogue_does_not_know_is_for_the_investigator_in_plain_words():
    # the criteria it may fall under are those of study.yaml's open classes (a list that is not
    # closed: immunosuppressants, antifibrotics and TKIs, corticosteroids, B-cell depletion,
    # JAK inhibitors and other biologics, cell depletion); screen holds each of them open
    (entry,) = _washout([{"name": "zzzdrug", "last_dose": date(2025, 3, 1)}]).entries
    assert entry.status == "unknown"
    assert entry.reason == (
        "zzzdrug is not in the prohibited-medicines catalogue: unknown, never allowed by "
        "default; the investigator decides whether it falls under EX09, EX10, EX11, EX13, EX14 "
        "or EX15 (and may clear it in the record, giving the reason)"
    )
    assert entry.criteria == ("EX09", "EX10", "EX11", "EX13", "EX14", "EX15")
    assert entry.criterion is None  # no one criterion: the text output names none


def test_a_cleared_unknown_medicine_still_names_the_criteria_it_was_cleared_for():
    cleared = {
        "name": "zzzdrug",
        "last_dose": date(2025, 3, 1),
        "investigator_cleared": True,
        "clearance_reason": "a vitamin",
    }
    (entry,) = _washout([cleared]).entries
    assert entry.status == "pass"
    assert entry.criteria == ("EX09", "EX10", "EX11", "EX13", "EX14", "EX15")


@pytest.mark.parametrize(("day", "refused"), [(2, True), (3, True), (4, False)])
def test_an_infection_clearance_is_only_for_an_infection_after_screening(day, refused):
    # PI15: the investigator decides an infection after screening (2025-03-03); a clearance
    # on one before it was silently unused, the window deciding anyway
    event = {
        "kind": "oral_antibiotics",
        "date": date(2025, 3, day),
        "investigator_cleared": True,
        "clearance_reason": "a short course for a dental abscess",
    }
    problems = entry_problems(_raw(events=[event]), load_study())
    assert any("after screening" in str(p) for p in problems) == refused


def test_a_non_daily_course_over_days_is_the_reason_days_are_open_not_a_missing_record():
    # every date and dose recorded: prednisone every other day over 18-20 February may have been
    # taken on the 19th, when dexamethasone was; the reason said "their start dates or doses
    # are not all recorded", and asked for what was already there
    result = _washout(
        [
            {"name": "prednisone", "start": date(2025, 2, 18), "last_dose": date(2025, 2, 20),
             "dose": "7.5 mg", "frequency": "every other day", "route": "oral"},
            {"name": "dexamethasone", "start": date(2025, 2, 19), "last_dose": date(2025, 2, 19),
             "dose": "0.75 mg", "frequency": "once", "route": "oral"},
        ]
    )  # fmt: skip
    together = _combined(result)
    assert together.status == "unknown"
    assert together.reason == (
        "prednisone + dexamethasone may have been taken on the same days (prednisone is not "
        "taken every day, so which days of its course it was taken on is not known); together "
        "that could be 12.5 mg prednisone equivalent a day, more than 10 mg: unknown (EX11); "
        "the investigator decides from the dosing days"
    )


# -- a course whose route is not recorded, in the daily sum -----------------------------------
# A tester's records: prednisone 5 mg daily without a route beside dexamethasone (6 mg
# prednisone equivalent), both last taken on 2025-03-01. The sum said "prednisone's dose is not
# recorded" (it was; its route was not) and "may have been taken on the same days" (both surely
# were), and a sum that did not count prednisone named it.


def _no_route_prednisone(mg: float) -> dict:
    return {"name": "prednisone", "last_dose": date(2025, 3, 1), "dose": f"{mg} mg",
            "frequency": "daily"}  # fmt: skip


def _dexamethasone(mg: float) -> dict:
    return {"name": "dexamethasone", "last_dose": date(2025, 3, 1), "dose": f"{mg} mg",
            "frequency": "daily", "route": "oral"}  # fmt: skip


def test_a_course_without_its_route_counts_at_most_its_dose_as_if_systemic():
    # 5 + 0.9 mg dexamethasone (x 5/0.75 = 6): 11 mg if prednisone is systemic, 6 if not
    together = _combined(_washout([_no_route_prednisone(5), _dexamethasone(0.9)]))
    assert together.status == "unknown"
    assert together.reason == (
        "prednisone + dexamethasone taken on 2025-03-01 could add up to 11 mg prednisone "
        "equivalent that day (prednisone's route is not recorded), more than 10 mg: unknown "
        "(EX11); record prednisone's route"
    )
    # 2 + 6 = 8 mg at most: the sum passes whatever the route (prednisone's own entry still
    # asks for its route: an injection would exclude)
    result = _washout([_no_route_prednisone(2), _dexamethasone(0.9)])
    assert _combined(result).status == "pass"
    assert "at most 8 mg" in _combined(result).reason
    assert result.entries[0].status == "unknown"


def test_a_sum_names_only_the_courses_it_counts():
    # dexamethasone 6 + methylprednisolone 4 mg (5 mg prednisone) = 11 mg, surely, whatever
    # prednisone (no route) adds
    methylprednisolone = {"name": "methylprednisolone", "last_dose": date(2025, 3, 1),
                          "dose": "4 mg", "frequency": "daily", "route": "oral"}  # fmt: skip
    together = _combined(
        _washout([_no_route_prednisone(5), _dexamethasone(0.9), methylprednisolone])
    )
    assert together.status == "fail"
    assert together.reason.startswith(
        "dexamethasone + methylprednisolone taken on 2025-03-01 add up to 11 mg"
    )


@settings(max_examples=150, deadline=None)
@given(
    prednisone=st.sampled_from([0.5, 1, 2.5, 3, 4, 4.5, 5, 7.5, 10]),
    dexamethasone=st.sampled_from([0.15, 0.3, 0.45, 0.6, 0.75, 0.9, 1.2]),
)
def test_the_sum_without_a_route_is_decided_only_where_every_route_agrees(
    prednisone, dexamethasone
):
    # the combined entry with prednisone's route missing against its completions: oral
    # (systemic, counted) and topical (not counted); a decided status holds in both
    missing = _combined(_washout([_no_route_prednisone(prednisone), _dexamethasone(dexamethasone)]))
    completed = {
        route: _combined(
            _washout(
                [
                    {**_no_route_prednisone(prednisone), "route": route},
                    _dexamethasone(dexamethasone),
                ]
            )
        )
        for route in ("oral", "topical")
    }
    # a topical course is no course of the sum: with one course left there is no sum entry
    statuses = {c.status if c else "pass" for c in completed.values()}
    if missing.status != "unknown":
        assert statuses == {missing.status}
    else:
        assert statuses == {"pass", "fail"}


# -- a course whose frequency is not recorded, in the daily sum -------------------------------
# A tester: prednisone 6 mg (no frequency) taken on 2025-03-15 only, beside ongoing
# prednisolone 5 mg daily: every frequency gives at least 6 mg that day, so at least 11 mg, and
# the sum said "unknown".


def _one_day_prednisone(mg: float, frequency: str | None) -> dict:
    entry = {"name": "prednisone", "start": date(2025, 3, 10), "last_dose": date(2025, 3, 10),
             "dose": f"{mg} mg", "route": "oral"}  # fmt: skip
    return entry | ({"frequency": frequency} if frequency else {})


_PREDNISOLONE_DAILY = {"name": "prednisolone", "start": date(2025, 1, 1), "ongoing": True,
                       "dose": "5 mg", "frequency": "daily", "route": "oral"}  # fmt: skip


def test_a_dose_without_its_frequency_counts_at_least_once_in_the_sum():
    together = _combined(_washout([_one_day_prednisone(6, None), _PREDNISOLONE_DAILY]))
    assert together.status == "fail"
    assert together.reason.startswith(
        "prednisone + prednisolone taken on 2025-03-10 add up to at least 11 mg"
    )


@settings(max_examples=100, deadline=None)
@given(mg=st.sampled_from([0.5, 1, 1.25, 2, 2.5, 3, 4, 5, 5.5, 7.5, 10]))
def test_the_sum_without_a_frequency_is_decided_only_where_every_frequency_agrees(mg):
    # every frequency a record takes, on that one day: once to four times
    missing = _combined(_washout([_one_day_prednisone(mg, None), _PREDNISOLONE_DAILY]))
    statuses = {
        _combined(_washout([_one_day_prednisone(mg, f), _PREDNISOLONE_DAILY])).status
        for f in ("once", "twice daily", "three times daily", "four times daily")
    }
    if missing.status == "unknown":
        assert statuses == {"pass", "fail"}
    else:
        assert statuses == {missing.status}


def test_washout_names_the_criteria_screen_holds_open_for_an_unknown_medicine():
    # helper's finding: washout listed no criterion for it, while screen held six open; read by
    # criterion, washout showed EX11 passed (from another entry) where screen said unknown
    from pathlib import Path

    from protocol.participant import load_record
    from protocol.screening import screen

    case = Path(__file__).parents[1] / "book" / "cases" / "case16-unknown-drug-and-urine-test.yaml"
    record = load_record(case)
    result = screen(record, load_study())
    names = [m.name for m in record.medications]
    washout = check_washout(
        parse_washout_input(
            {
                "planned_randomization": record.dates.planned_randomization,
                "screening": record.dates.screening,
                "medications": [m.model_dump(exclude_none=True) for m in record.medications],
            },
            "case16",
        ),
        load_study(),
    )
    unknown_entries = [e for e in washout.entries if e.status == "unknown"]
    assert unknown_entries and all(e.name in names for e in unknown_entries)
    held_open = {c for e in unknown_entries for c in e.criteria}
    medicine_criteria = {"EX09", "EX10", "EX11", "EX12", "EX13", "EX14", "EX15"}
    unknown_in_screen = {
        c.id for c in result.criteria if c.status == "unknown" and c.id in medicine_criteria
    }
    assert held_open == unknown_in_screen == {"EX09", "EX10", "EX11", "EX13", "EX14", "EX15"}


# -- the window's first day is named alike for every kind of entry -----------------------------

#: One entry of each way a medicine is decided: a class window (methotrexate, EX09), an IV
#: corticosteroid (EX11, any dose) and an oral course over the daily limit (EX11, by its dose)
_BOUNDARY_ENTRIES = {
    "methotrexate": {"name": "methotrexate"},
    "IV methylprednisolone": {"name": "methylprednisolone", "dose": "40 mg", "route": "iv"},
    "oral prednisone over the limit": {
        "name": "prednisone", "dose": "20 mg", "frequency": "daily", "route": "oral",
    },
}  # fmt: skip


@settings(max_examples=60, deadline=None)
@given(
    kind=st.sampled_from(sorted(_BOUNDARY_ENTRIES)),
    offset=st.integers(-3, 10),
    randomization=st.dates(date(2024, 1, 1), date(2030, 12, 31)),
)
def test_a_last_dose_on_the_windows_first_day_is_on_the_boundary_for_every_kind(
    kind, offset, randomization
):
    # an oral corticosteroid over the limit whose last dose was the window's first day did not
    # say so, where methotrexate and an IV corticosteroid on the same day did (a verifier's
    # find). Every one of these windows is 4 weeks before randomization (the registry's EX09,
    # EX11): its first day is randomization - 28 days, worked out here by hand
    first_day = date.fromordinal(randomization.toordinal() - 28)
    last_dose = date.fromordinal(first_day.toordinal() + offset)
    data = parse_washout_input(
        {
            "planned_randomization": randomization,
            "screening": date.fromordinal(randomization.toordinal() - 7),
            "medications": [{**_BOUNDARY_ENTRIES[kind], "last_dose": last_dose}],
            "events": [],
        },
        "boundary input",
    )
    (entry,) = check_washout(data).entries
    assert entry.window_start == first_day
    assert entry.status == ("fail" if offset >= 0 else "pass")
    assert entry.on_boundary == (offset == 0)
    assert ("exactly on the first day" in entry.reason) == (offset == 0)


def test_an_ongoing_course_begun_on_the_windows_first_day_is_not_on_the_boundary():
    first_day = date.fromordinal(RANDOMIZATION.toordinal() - 28)
    (entry,) = _washout(
        [{**_BOUNDARY_ENTRIES["oral prednisone over the limit"], "start": first_day,
          "ongoing": True}]
    ).entries  # fmt: skip
    assert (entry.status, entry.on_boundary) == ("fail", False)


# -- EX11's daily sum, compared exactly -------------------------------------------------------

#: The BNF's equivalents of prednisolone 5 mg (by hand, from the BNF's table of
#: corticosteroid equivalences), each in mg.
BNF_5MG = {
    "prednisone": Fraction(5),
    "prednisolone": Fraction(5),
    "methylprednisolone": Fraction(4),
    "triamcinolone": Fraction(4),
    "hydrocortisone": Fraction(20),
    "cortisone acetate": Fraction(25),
    "dexamethasone": Fraction(3, 4),
    "betamethasone": Fraction(3, 4),
    "deflazacort": Fraction(6),
}
TIMES_A_DAY = {"once daily": 1, "twice daily": 2, "three times daily": 3, "four times daily": 4}


@pytest.mark.parametrize(
    ("doses", "status"),
    [
        # helper 143: 9.99 + 0.0100000000001 = 10.0000000000001 mg/day, more than 10: it passed,
        # read within a float's tolerance of the limit
        ((("prednisone", "9.99 mg"), ("prednisone", "0.0100000000001 mg")), "fail"),
        ((("prednisone", "9.99 mg"), ("prednisone", "0.01 mg")), "pass"),  # exactly 10
        ((("prednisone", "9.98 mg"), ("prednisone", "0.0199999999999 mg")), "pass"),
        # 9.9975 + 0.0100000000003 / 4 = 10.000000000000075 mg/day
        ((("prednisone", "9.9975 mg"), ("hydrocortisone", "0.0100000000003 mg")), "fail"),
        ((("prednisone", "9.9975 mg"), ("hydrocortisone", "0.01 mg")), "pass"),  # exactly 10
        # 0.75 mg of dexamethasone is 5 mg: 750 mcg twice is exactly 10
        ((("dexamethasone", "750 mcg"), ("dexamethasone", "0.75 mg")), "pass"),
        ((("dexamethasone", "750.000000001 mcg"), ("dexamethasone", "0.75 mg")), "fail"),
    ],
)
def test_courses_that_add_up_to_more_than_the_limit_by_any_amount_fail(doses, status):
    result = _washout(
        [
            {"name": name, "ongoing": True, "dose": dose, "frequency": "daily", "route": "oral"}
            for name, dose in doses
        ]
    )
    together = _combined(result)
    assert together is not None and together.status == status, together


#: The drugs whose equivalent is a terminating decimal of prednisone's (a sum can be written
#: to within 10^-12 mg of the limit in a second course of prednisone).
TERMINATING = ["prednisone", "methylprednisolone", "hydrocortisone", "cortisone acetate"]


@settings(max_examples=200, deadline=None)
@given(
    first=st.sampled_from(TERMINATING),
    first_dose=st.decimals(min_value="0.01", max_value="8", places=4, allow_nan=False),
    power=st.integers(6, 12),
    side=st.sampled_from([-1, 0, 1]),
)
@example(first="prednisone", first_dose=Decimal("9.99"), power=13, side=1)  # helper 143's
def test_the_daily_sum_is_compared_with_the_limit_exactly(first, first_dose, power, side):
    # two courses taken on the same days whose prednisone equivalents add up to the limit,
    # or to 10^-power mg above or below it: above excludes (EX11), at or below passes, worked
    # in exact fractions from the BNF's equivalents written above (a float's tolerance of
    # 10^-14 of the limit had read 10.0000000000001 mg as at 10)
    first_mg = Fraction(first_dose) * 5 / BNF_5MG[first]
    second = Fraction(10) - first_mg + side * Fraction(1, 10**power)
    as_decimal = Decimal(second.numerator) / Decimal(second.denominator)
    assume(as_decimal >= Decimal("0.01") and Fraction(as_decimal) == second)
    assume(len(as_decimal.normalize().as_tuple().digits) <= 12)
    # (a dose whose digits read as a phone number, 9.09999999999 mg, is refused as one)
    assume(not identifying_text(f"{as_decimal.normalize():f} mg", free_text=True))
    result = _washout(
        [
            {
                "name": first,
                "ongoing": True,
                "dose": f"{first_dose.normalize():f} mg",
                "frequency": "daily",
                "route": "oral",
            },
            {
                "name": "prednisone",
                "ongoing": True,
                "dose": f"{as_decimal.normalize():f} mg",
                "frequency": "daily",
                "route": "oral",
            },
        ]
    )
    together = _combined(result)
    assert together is not None
    assert together.status == ("fail" if side > 0 else "pass"), together.reason


@settings(max_examples=100, deadline=None)
@given(
    # a share of one significant digit leaves room for 10^-13 within 12 digits (0.0100000000001)
    hundredths=st.one_of(st.integers(1, 9), st.integers(10, 99)),
    power=st.integers(11, 13),
    side=st.sampled_from([-1, 0, 1]),
    frequency=st.sampled_from(["once daily", "twice daily"]),
)
@example(hundredths=1, power=13, side=1, frequency="once daily")
def test_a_sum_within_a_floats_tolerance_of_the_limit_is_decided_exactly(
    hundredths, power, side, frequency
):
    # 10 mg of prednisone a day split into two courses, the second 10^-power mg (as little as
    # 10^-13, a relative 10^-14: the tolerance the sum had) more or less than its share
    times = TIMES_A_DAY[frequency]
    share = Fraction(hundredths, 100)
    first = (Fraction(10) - share) / times
    second = share + side * Fraction(1, 10**power)
    as_text = [f"{Decimal(x.numerator) / Decimal(x.denominator):f} mg" for x in (first, second)]
    assume(all(len(Decimal(t[:-3]).normalize().as_tuple().digits) <= 12 for t in as_text))
    assume(Fraction(Decimal(as_text[0][:-3])) == first and second >= Fraction(1, 100))
    # (a dose whose digits read as a phone number, 0.02999999999 mg, is refused as one)
    assume(not any(identifying_text(t, free_text=True) for t in as_text))
    result = _washout(
        [
            {
                "name": "prednisone",
                "ongoing": True,
                "dose": as_text[0],
                "frequency": frequency,
                "route": "oral",
            },
            {
                "name": "prednisone",
                "ongoing": True,
                "dose": as_text[1],
                "frequency": "daily",
                "route": "oral",
            },
        ]
    )
    together = _combined(result)
    assert together is not None
    assert together.status == ("fail" if side > 0 else "pass"), together.reason


@pytest.mark.parametrize("dose", ["10 MG", "10 Mg", "7.5 MCG"])
def test_a_dose_in_capitals_is_refused_and_shown_back_as_a_dose(dose):
    # "10 MG" was withheld as a text that may name a person: a number and a mass unit is a
    # dose mistyped, shown so the site can find it
    with pytest.raises(WashoutInputError) as refused:
        _washout(
            [
                {
                    "name": "prednisone",
                    "ongoing": True,
                    "dose": dose,
                    "frequency": "daily",
                    "route": "oral",
                }
            ]
        )
    assert f"dose = '{dose}'" in str(refused.value) and "withheld" not in str(refused.value)


@pytest.mark.parametrize(
    ("written", "mg"),
    [("0.0069 g", Fraction(69, 10)), ("10 mg", Fraction(10)), ("750 microgram", Fraction(3, 4))],
)
def test_a_study_amount_in_any_mass_unit_is_read_as_the_decimal_written(written, mg):
    # 0.0069 g was 6.8999999999999995 mg through a float: an amended limit of 0.0069 g/day
    # would exclude a dose of exactly 6.9 mg
    from protocol.washout import _exact_mg

    assert _exact_mg(ureg.Quantity(written)) == mg
