"""Dosing calendar, CSV and iCalendar round trips, dispensing and adherence."""

from __future__ import annotations

import csv
import dataclasses
import io
import itertools
import pickle
from datetime import UTC, date, datetime, timedelta

import pytest
from icalendar import Calendar as ICalendar

from dosing.calendar import (
    CalendarFileError,
    CalendarInputError,
    administrations,
    build_calendar,
    calendar_csv,
    calendar_ics,
    resolve_arm,
    study_day_date,
    visit_dates,
    write_file,
)
from dosing.dispensing import (
    DispensingInputError,
    adherence,
    dispense,
    dispensing_plan,
    parse_overage,
    presentations_for,
    units_per_dose,
)
from dosing.regimens import regimens_for_arm
from protocol.errors import ProtocolDataError
from protocol.study import load_study
from protocol.units import ureg

pytestmark = pytest.mark.traces("interventions", "visit_schedule", "presentations", "dosing_rules")

RANDOMIZATION = date(2025, 3, 17)


def _regimen(intervention_id):
    return next(
        r for r in regimens_for_arm("telitacicept_mmf") if r.intervention_id == intervention_id
    )


# -- counts and totals in both arms --------------------------------------------------------


def test_both_arms_doses_and_totals():
    experimental = build_calendar("telitacicept_mmf", RANDOMIZATION)
    comparator = build_calendar("mmf", RANDOMIZATION)
    teli = [d for d in experimental.doses if d.intervention == "Telitacicept"]
    mmf = [d for d in experimental.doses if d.intervention == "Mycophenolate Mofetil"]
    assert len(teli) == 48 and len(mmf) == 672
    assert [d.intervention for d in comparator.doses] == ["Mycophenolate Mofetil"] * 672
    assert teli[0].date == RANDOMIZATION and teli[-1].date == RANDOMIZATION + timedelta(weeks=47)
    assert mmf[-1].date == RANDOMIZATION + timedelta(days=335) and mmf[-1].slot == "evening"
    assert _regimen("telitacicept").cumulative_dose.to("g").magnitude == pytest.approx(7.68)
    assert _regimen("mycophenolate_mofetil").cumulative_dose.to("g").magnitude == pytest.approx(336)


def test_weekly_doses_are_7_days_apart_and_mmf_twice_each_day():
    doses = administrations(_regimen("telitacicept"), RANDOMIZATION)
    assert {(b.date - a.date).days for a, b in itertools.pairwise(doses)} == {7}
    mmf = administrations(_regimen("mycophenolate_mofetil"), RANDOMIZATION)
    per_day = {}
    for dose in mmf:
        per_day.setdefault(dose.date, []).append(dose.slot)
    assert set(map(tuple, per_day.values())) == {("morning", "evening")}
    assert len(per_day) == 336


@pytest.mark.parametrize(
    ("randomization", "dose", "expected"),
    [
        (date(2024, 2, 29), 2, date(2024, 3, 7)),  # from a leap day
        (date(2024, 2, 22), 2, date(2024, 2, 29)),  # onto a leap day
        (date(2025, 1, 31), 2, date(2025, 2, 7)),  # across a month end
        (date(2025, 12, 29), 2, date(2026, 1, 5)),  # across a year end
    ],
)
def test_dates_across_month_ends_and_29_february(randomization, dose, expected):
    doses = administrations(_regimen("telitacicept"), randomization)
    assert doses[dose - 1].date == expected


def test_study_days_have_no_day_zero():
    assert study_day_date(RANDOMIZATION, 1) == RANDOMIZATION
    assert study_day_date(RANDOMIZATION, -1) == RANDOMIZATION - timedelta(days=1)
    assert study_day_date(RANDOMIZATION, 29) == RANDOMIZATION + timedelta(weeks=4)


def test_visit_windows():
    visits = {v.visit.id: v for v in visit_dates(RANDOMIZATION)}
    week_4 = visits["week_4"]
    assert week_4.target == date(2025, 4, 14)
    assert (week_4.earliest, week_4.latest) == (date(2025, 4, 11), date(2025, 4, 17))
    screening = visits["screening"]
    assert screening.latest == RANDOMIZATION - timedelta(days=1)
    assert visits["week_48"].target == RANDOMIZATION + timedelta(weeks=48)


def test_the_visit_schedule_is_an_assumption():
    assert load_study().visit_schedule.provenance == "assumption"


# -- arms --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "arm"),
    [
        ("telitacicept_mmf", "telitacicept_mmf"),
        ("Mycophenolate Mofetil + Telitacicept", "telitacicept_mmf"),
        ("MMF + telitacicept", "telitacicept_mmf"),
        ("TELITACICEPT", "telitacicept_mmf"),
        ("mmf", "mmf"),
        ("Mycophenolate", "mmf"),
        ("mycophenolate mofetil", "mmf"),
    ],
)
def test_forgiving_arm_names(typed, arm):
    assert resolve_arm(typed).id == arm


@pytest.mark.parametrize("typed", ["placebo", "rituximab", "", "mmf + placebo"])
def test_an_unknown_arm_lists_the_valid_names(typed):
    with pytest.raises(CalendarInputError) as caught:
        resolve_arm(typed)
    assert "telitacicept_mmf (Mycophenolate Mofetil + Telitacicept)" in str(caught.value)


# -- CSV and iCalendar round trips -------------------------------------------------------------


def test_csv_round_trip():
    calendar = build_calendar("telitacicept_mmf", RANDOMIZATION)
    rows = list(csv.DictReader(io.StringIO(calendar_csv(calendar))))
    assert len(rows) == len(calendar.visits) + 48 + 672
    assert rows == calendar.rows()
    assert [r["date"] for r in rows] == sorted(r["date"] for r in rows)


def test_ics_round_trip():
    calendar = build_calendar("telitacicept_mmf", RANDOMIZATION)
    parsed = ICalendar.from_ical(calendar_ics(calendar))
    events = list(parsed.walk("VEVENT"))
    # visits, injections and one event for the whole oral course, not one per oral dose
    assert len(events) == len(calendar.visits) + 48 + 1
    assert len({str(e["UID"]) for e in events}) == len(events)
    visits = [e for e in events if "visit" in str(e["UID"])]
    first = next(e for e in visits if "randomization" in str(e["UID"]))
    assert first.decoded("DTSTART") == RANDOMIZATION
    assert "ASSUMPTION" in str(first["DESCRIPTION"])
    injections = sorted(e.decoded("DTSTART") for e in events if "-telitacicept-" in str(e["UID"]))
    assert len(injections) == 48
    assert injections[-1] == RANDOMIZATION + timedelta(weeks=47)
    assert parsed["VERSION"] == "2.0" and "PRODID" in parsed


def test_the_ics_file_is_reproducible():
    calendar = build_calendar("mmf", RANDOMIZATION)
    assert calendar_ics(calendar) == calendar_ics(build_calendar("mmf", RANDOMIZATION))


def _course_last_day(randomization):
    """study.yaml dosing_rules: administrations over [day 1, day 1 + 48 weeks), i.e. days
    1..336: the last oral dose falls on the day before the 48-week anniversary."""
    return randomization + timedelta(weeks=48) - timedelta(days=1)


def _events(calendar):
    return list(ICalendar.from_ical(calendar_ics(calendar)).walk("VEVENT"))


@pytest.mark.parametrize("arm", ["telitacicept_mmf", "mmf"])
@pytest.mark.parametrize("randomization", [RANDOMIZATION, date(2024, 2, 29), date(2025, 12, 31)])
def test_the_ics_states_the_oral_mmf_course_in_both_arms(arm, randomization):
    events = _events(build_calendar(arm, randomization))
    courses = [e for e in events if str(e["UID"]).endswith("-course@nct06375005.protocol-book")]
    assert len(courses) == 1
    (course,) = courses
    last = _course_last_day(randomization)
    assert str(course["SUMMARY"]) == (
        "Mycophenolate Mofetil 0.5 g twice daily (oral), "  # the registry's "0.5g twice daily"
        f"{randomization.isoformat()} to {last.isoformat()}"
    )
    assert course.decoded("DTSTART") == randomization
    assert course.decoded("DTEND") == last + timedelta(days=1)  # all-day: DTEND is exclusive
    assert course.decoded("DTEND") == randomization + timedelta(weeks=48)  # the week-48 visit
    description = str(course["DESCRIPTION"])
    assert "672 doses" in description and "study day 1" in description
    assert "study day 336" in description and "morning and evening" in description
    assert str(course["TRANSP"]) == "TRANSPARENT"


def test_the_course_is_read_from_the_regimen_not_typed():
    calendar = build_calendar("mmf", RANDOMIZATION)
    (regimen,) = calendar.regimens
    changed = dataclasses.replace(regimen, dose=1 * ureg.g, frequency=3 / ureg.day)
    doses = administrations(changed, RANDOMIZATION)
    other = dataclasses.replace(calendar, regimens=[changed], doses=doses)
    (course,) = [e for e in _events(other) if "-course@" in str(e["UID"])]
    assert str(course["SUMMARY"]) == (
        f"Mycophenolate Mofetil 1 g three times daily (oral), {RANDOMIZATION.isoformat()} "
        f"to {_course_last_day(RANDOMIZATION).isoformat()}"
    )
    assert "1008 doses" in str(course["DESCRIPTION"])


def test_the_injections_are_unchanged_and_only_in_the_experimental_arm():
    experimental = _events(build_calendar("telitacicept_mmf", RANDOMIZATION))
    injections = [e for e in experimental if "-telitacicept-" in str(e["UID"])]
    assert [str(e["SUMMARY"]) for e in injections] == [
        f"Telitacicept 160 mg subcutaneous (dose {n})" for n in range(1, 49)
    ]
    assert all(e.decoded("DTEND") - e.decoded("DTSTART") == timedelta(days=1) for e in injections)
    comparator = _events(build_calendar("mmf", RANDOMIZATION))
    assert not [e for e in comparator if "telitacicept" in str(e["UID"])]


def test_every_event_is_stamped_with_the_randomization_date_not_now():
    for event in _events(build_calendar("telitacicept_mmf", RANDOMIZATION)):
        assert event.decoded("DTSTAMP") == datetime(2025, 3, 17, tzinfo=UTC)


def test_an_existing_file_is_not_overwritten_without_force(tmp_path):
    path = tmp_path / "calendar.csv"
    path.write_text("precious")
    with pytest.raises(CalendarInputError, match="--force"):
        write_file(path, "new")
    assert path.read_text() == "precious"
    write_file(path, "new", force=True)
    assert path.read_text() == "new"


def test_a_refused_file_is_one_line_for_people(tmp_path):
    with pytest.raises(CalendarFileError) as caught:
        write_file(tmp_path, "new", force=True, option="--csv")
    expected = (
        f"--csv {str(tmp_path)!r}: it is a folder, and --force replaces only regular files, "
        f"never a folder; expected a file name such as {tmp_path / 'calendar.csv'}"
    )
    assert str(caught.value) == expected and caught.value.problems == [expected]
    assert isinstance(caught.value, ProtocolDataError)  # callers catching the root error see it
    assert str(pickle.loads(pickle.dumps(caught.value))) == expected
    assert list(tmp_path.iterdir()) == []


# -- dispensing and adherence -----------------------------------------------------------------


@pytest.mark.traces(
    "presentations.telitacicept.vial",
    "presentations.mycophenolate_mofetil.tablet",
    "presentations.mycophenolate_mofetil.capsule",
)
def test_presentations_and_units_per_dose():
    vial = presentations_for("telitacicept")[0]
    assert units_per_dose(_regimen("telitacicept"), vial) == 2  # 160 mg from 80 mg vials
    tablet, capsule = presentations_for("mycophenolate_mofetil")
    assert units_per_dose(_regimen("mycophenolate_mofetil"), tablet) == 1
    assert units_per_dose(_regimen("mycophenolate_mofetil"), capsule) == 2


def test_dispensing_with_overage():
    vial = presentations_for("telitacicept")[0]
    line = dispense(
        _regimen("telitacicept"),
        vial,
        RANDOMIZATION,
        RANDOMIZATION,
        RANDOMIZATION + timedelta(weeks=4),
        "10%",
    )
    assert (line.doses, line.units_needed, line.units_to_dispense) == (4, 8, 9)  # ceil(8.8)
    exact = dispense(
        _regimen("telitacicept"),
        vial,
        RANDOMIZATION,
        RANDOMIZATION,
        RANDOMIZATION + timedelta(weeks=4),
        0,
    )
    assert exact.units_to_dispense == 8


def test_the_plan_covers_every_dose_until_the_last_window():
    lines = dispensing_plan("telitacicept_mmf", RANDOMIZATION, 0)
    first = next(line for line in lines if line.intervention == "Telitacicept")
    assert first.until_date == date(2025, 4, 17)  # latest day of the week-4 window
    assert first.doses == 5


@pytest.mark.parametrize("overage", ["-5%", "150", "ten", "nan", None])
def test_an_overage_that_is_not_a_percentage_is_refused(overage):
    with pytest.raises(DispensingInputError, match="not a percentage"):
        parse_overage(overage)


@pytest.mark.parametrize(
    ("dispensed", "returned", "expected", "percent", "missed"),
    [(56, 0, 56, 100.0, 0), (56, 7, 56, 87.5, 7), (60, 0, 56, 107.1, 0), (56, 56, 56, 0.0, 56)],
)
def test_adherence(dispensed, returned, expected, percent, missed):
    result = adherence(dispensed, returned, expected)
    assert round(result.percent, 1) == percent and result.missed == missed


def test_doses_missed_counts_whole_doses_of_two_vials():
    result = adherence(9, 3, 8, units_per_dose=2)
    assert result.missed == 2 and result.doses_missed == 1
    assert "2 missed: 1 dose" in result.text


@pytest.mark.parametrize(
    ("dispensed", "returned", "expected", "message"),
    [
        (0, 0, 56, "nothing was dispensed"),
        (10, 12, 10, "more than the 10 dispensed"),
        (-1, 0, 10, "negative"),
        (10, 1.5, 10, "not a whole number"),
        (10, 0, 0, "no units were prescribed"),
    ],
)
def test_adherence_edge_cases_give_clear_errors(dispensed, returned, expected, message):
    with pytest.raises(DispensingInputError, match=message):
        adherence(dispensed, returned, expected)
