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
from tests.conftest import study_data

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
    # screening may fall on day 1 itself, before randomization, as screen and washout allow
    assert screening.latest == RANDOMIZATION
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


@pytest.mark.parametrize(
    "typed",
    # a sign before or after the names ("-mmf": without MMF?) names no arm either
    ["placebo", "rituximab", "", "mmf + placebo", "-mmf", "+mmf", "mmf +", " - telitacicept"],
)
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


# -- calendar rules against dates written by hand --------------------------------------------
#
# Every expected date below was worked out by hand from the documented conventions (study day 1
# is randomization, day d >= 1 is randomization + (d - 1) days, day -1 the day before
# randomization, no day 0; weeks are 7 days; study.yaml visit_schedule and dosing_rules), never
# by the code under test. 2025-03-17 is a Monday in a common year; 2024-02-29 is a leap day, so
# its schedule crosses the end of a 29-day February and ends in a common year.

LEAP_DAY = date(2024, 2, 29)

# randomization -> visit id -> (target, first day of the window, last day of the window)
HAND_VISITS = {
    RANDOMIZATION: {
        # day -28, P0D..P28D: to day 1 (no day 0), the randomization day, as screen and
        # washout allow a screening on it
        "screening": ("2025-02-17", "2025-02-17", "2025-03-17"),
        "randomization": ("2025-03-17", "2025-03-17", "2025-03-17"),  # day 1, no window
        "week_4": ("2025-04-14", "2025-04-11", "2025-04-17"),  # day 29, +/- 3 days
        "week_8": ("2025-05-12", "2025-05-09", "2025-05-15"),  # day 57, +/- 3 days
        "week_12": ("2025-06-09", "2025-06-02", "2025-06-16"),  # day 85, +/- 7 days
        "week_16": ("2025-07-07", "2025-06-30", "2025-07-14"),
        "week_20": ("2025-08-04", "2025-07-28", "2025-08-11"),
        "week_24": ("2025-09-01", "2025-08-25", "2025-09-08"),
        "week_28": ("2025-09-29", "2025-09-22", "2025-10-06"),
        "week_32": ("2025-10-27", "2025-10-20", "2025-11-03"),
        "week_36": ("2025-11-24", "2025-11-17", "2025-12-01"),
        "week_40": ("2025-12-22", "2025-12-15", "2025-12-29"),
        "week_44": ("2026-01-19", "2026-01-12", "2026-01-26"),
        "week_48": ("2026-02-16", "2026-02-09", "2026-02-23"),  # day 337, +/- 7 days
        "follow_up": ("2026-03-16", "2026-03-09", "2026-03-23"),  # day 365, +/- 7 days
    },
    LEAP_DAY: {
        "screening": ("2024-02-01", "2024-02-01", "2024-02-29"),
        "randomization": ("2024-02-29", "2024-02-29", "2024-02-29"),
        "week_4": ("2024-03-28", "2024-03-25", "2024-03-31"),
        "week_8": ("2024-04-25", "2024-04-22", "2024-04-28"),
        "week_12": ("2024-05-23", "2024-05-16", "2024-05-30"),
        "week_16": ("2024-06-20", "2024-06-13", "2024-06-27"),
        "week_20": ("2024-07-18", "2024-07-11", "2024-07-25"),
        "week_24": ("2024-08-15", "2024-08-08", "2024-08-22"),
        "week_28": ("2024-09-12", "2024-09-05", "2024-09-19"),
        "week_32": ("2024-10-10", "2024-10-03", "2024-10-17"),
        "week_36": ("2024-11-07", "2024-10-31", "2024-11-14"),
        "week_40": ("2024-12-05", "2024-11-28", "2024-12-12"),
        "week_44": ("2025-01-02", "2024-12-26", "2025-01-09"),  # the window spans new year
        "week_48": ("2025-01-30", "2025-01-23", "2025-02-06"),
        "follow_up": ("2025-02-27", "2025-02-20", "2025-03-06"),  # across a 28-day February
    },
}

# randomization -> (2nd injection, last (48th) injection = +329 days, last MMF day = +335 days,
# the MMF course's exclusive DTEND = +336 days = the week-48 visit)
HAND_DOSES = {
    RANDOMIZATION: ("2025-03-24", "2026-02-09", "2026-02-15", "2026-02-16"),
    LEAP_DAY: ("2024-03-07", "2025-01-23", "2025-01-29", "2025-01-30"),
}


@pytest.mark.traces("visit_schedule")
@pytest.mark.parametrize(
    ("randomization", "day", "expected"),
    [
        (RANDOMIZATION, 1, "2025-03-17"),  # day 1 is randomization itself
        (RANDOMIZATION, 2, "2025-03-18"),
        (RANDOMIZATION, -1, "2025-03-16"),  # the day before: there is no day 0
        (RANDOMIZATION, -28, "2025-02-17"),  # the screening visit
        (RANDOMIZATION, 29, "2025-04-14"),  # week 4: exactly 4 weeks after randomization
        (RANDOMIZATION, 337, "2026-02-16"),  # week 48
        (RANDOMIZATION, 365, "2026-03-16"),  # follow-up, week 52
        (LEAP_DAY, 1, "2024-02-29"),
        (LEAP_DAY, 2, "2024-03-01"),
        (LEAP_DAY, -1, "2024-02-28"),
        (LEAP_DAY, -28, "2024-02-01"),
        (LEAP_DAY, 29, "2024-03-28"),
        (LEAP_DAY, 337, "2025-01-30"),
        (LEAP_DAY, 365, "2025-02-27"),
    ],
)
def test_study_days_against_dates_written_by_hand(randomization, day, expected):
    assert study_day_date(randomization, day).isoformat() == expected


@pytest.mark.traces("visit_schedule")
@pytest.mark.parametrize("randomization", [RANDOMIZATION, LEAP_DAY])
def test_every_visit_target_and_window_against_dates_written_by_hand(randomization):
    found = {
        v.visit.id: (v.target.isoformat(), v.earliest.isoformat(), v.latest.isoformat())
        for v in visit_dates(randomization)
    }
    assert found == HAND_VISITS[randomization]


def _named(ids: str) -> str:
    """Activities as study.yaml's activity_labels name them for readers, in the same order."""
    labels = load_study().activity_labels
    return ", ".join(labels[i] for i in ids.split(", "))


RANDOMIZATION_ACTIVITIES = _named(
    "eligibility, mrss, labs, pregnancy_test, dispensing, first_injection_on_site"
)
WEEK_4_ACTIVITIES = _named("mrss, labs, pregnancy_test, dispensing, accountability, adverse_events")
WEEK_48_ACTIVITIES = _named(
    "mrss, labs, pulmonary_function, pregnancy_test, accountability, adverse_events"
)
TELITACICEPT = "Telitacicept 160 mg subcutaneous"
MMF_MORNING = "Mycophenolate Mofetil 0.5 g oral (morning)"
MMF_EVENING = "Mycophenolate Mofetil 0.5 g oral (evening)"


@pytest.mark.traces(
    "visit_schedule",
    "interventions.telitacicept.frequency",
    "interventions.mycophenolate_mofetil.frequency",
    "dosing_rules.dose_at_end_of_treatment",
)
def test_rows_of_a_shared_day_come_in_the_documented_order():
    # The rule (Calendar.rows, regimens_for_arm): rows go by date; on a shared day the visit
    # comes first, then the doses, in the order the record lists the arm's interventions
    # (telitacicept, then mycophenolate mofetil), each intervention's doses in their time of day
    # (morning before evening). The CSV file lists them in that order.
    calendar = build_calendar("telitacicept_mmf", RANDOMIZATION)
    rows = list(csv.DictReader(io.StringIO(calendar_csv(calendar))))

    def day(iso):
        return [(r["kind"], r["what"], r["window"], r["detail"]) for r in rows if r["date"] == iso]

    assert day("2025-02-17") == [  # screening, day -28: its visit only
        (
            "visit",
            "Screening",
            "2025-02-17 to 2025-03-17",
            _named("consent, eligibility, mrss, labs, pregnancy_test, pulmonary_function"),
        )
    ]
    assert day("2025-03-16") == []  # day -1: nothing
    assert day("2025-03-17") == [  # day 1
        ("visit", "Randomization (day 1)", "2025-03-17 to 2025-03-17", RANDOMIZATION_ACTIVITIES),
        ("dose", TELITACICEPT, "", "dose 1, study day 1"),
        ("dose", MMF_MORNING, "", "dose 1, study day 1"),
        ("dose", MMF_EVENING, "", "dose 2, study day 1"),
    ]
    assert day("2025-04-14") == [  # week 4 = day 29: injection 5, tablets 2 x 28 + 1 and + 2
        ("visit", "Week 4", "2025-04-11 to 2025-04-17", WEEK_4_ACTIVITIES),
        ("dose", TELITACICEPT, "", "dose 5, study day 29"),
        ("dose", MMF_MORNING, "", "dose 57, study day 29"),
        ("dose", MMF_EVENING, "", "dose 58, study day 29"),
    ]
    assert day("2026-02-09") == [  # day 330 = randomization + 47 weeks: the last injection
        ("dose", TELITACICEPT, "", "dose 48, study day 330"),
        ("dose", MMF_MORNING, "", "dose 659, study day 330"),
        ("dose", MMF_EVENING, "", "dose 660, study day 330"),
    ]
    assert day("2026-02-15") == [  # day 336: the last tablets
        ("dose", MMF_MORNING, "", "dose 671, study day 336"),
        ("dose", MMF_EVENING, "", "dose 672, study day 336"),
    ]
    assert day("2026-02-16") == [  # week 48 = day 337: a visit, no dose (dosing_rules)
        ("visit", "Week 48 (end of treatment)", "2026-02-09 to 2026-02-23", WEEK_48_ACTIVITIES)
    ]
    # without the daily detail (the book's table) the same order, without the tablets
    brief = [(r["date"], r["kind"], r["what"]) for r in calendar.rows(daily_detail=False)]
    assert brief[:4] == [
        ("2025-02-17", "visit", "Screening"),
        ("2025-03-17", "visit", "Randomization (day 1)"),
        ("2025-03-17", "dose", TELITACICEPT),
        ("2025-03-24", "dose", TELITACICEPT),
    ]


def _ics_events(arm, randomization):
    """The VEVENTs of the .ics bytes, parsed by the icalendar package, by kind."""
    events = ICalendar.from_ical(calendar_ics(build_calendar(arm, randomization))).walk("VEVENT")
    visits, injections, courses = {}, [], []
    for event in events:
        uid = str(event["UID"])
        assert uid.endswith("@nct06375005.protocol-book")
        if "-visit-" in uid:
            visits[uid.split("-visit-")[1].split("@")[0]] = event
        elif "-telitacicept-" in uid:
            injections.append(event)
        else:
            assert uid.endswith("-course@nct06375005.protocol-book"), uid
            courses.append(event)
    return events, visits, injections, courses


def _all_day(event):
    """(first day, exclusive end) of an all-day event, which has DATE values, not DATE-TIMEs."""
    start, end = event.decoded("DTSTART"), event.decoded("DTEND")
    assert type(start) is date and type(end) is date  # not a datetime (a date subclass)
    assert event["DTSTART"].params["VALUE"] == "DATE" == event["DTEND"].params["VALUE"]
    return start.isoformat(), end.isoformat()


@pytest.mark.traces("visit_schedule")
@pytest.mark.parametrize("arm", ["telitacicept_mmf", "mmf"])
@pytest.mark.parametrize("randomization", [RANDOMIZATION, LEAP_DAY])
def test_ics_visit_events_against_dates_written_by_hand(arm, randomization):
    # Each visit is one all-day event on its target day (RFC 5545: DTEND is the day after it,
    # exclusive); its window, first and last day, is written in the description.
    _, visits, _, _ = _ics_events(arm, randomization)
    assert set(visits) == set(HAND_VISITS[randomization])
    for visit_id, (target, first, last) in HAND_VISITS[randomization].items():
        event = visits[visit_id]
        day_after = (date.fromisoformat(target) + timedelta(days=1)).isoformat()
        assert _all_day(event) == (target, day_after), visit_id
        assert str(event["DESCRIPTION"]).startswith(f"Window {first} to {last}. "), visit_id


@pytest.mark.traces("visit_schedule")
@pytest.mark.parametrize(
    ("randomization", "dtends"),
    [
        (RANDOMIZATION, ("2025-02-18", "2025-03-18", "2026-02-17", "2026-03-17")),
        (LEAP_DAY, ("2024-02-02", "2024-03-01", "2025-01-31", "2025-02-28")),
    ],
)
def test_ics_visit_dtend_is_the_day_after_written_by_hand(randomization, dtends):
    # The same rule at the edges of the schedule, each DTEND typed out rather than target + 1:
    # screening (day -28), randomization (day 1: DTEND is day 2, 1 March after a leap day),
    # week 48 (day 337) and follow-up (day 365).
    _, visits, _, _ = _ics_events("telitacicept_mmf", randomization)
    found = tuple(
        _all_day(visits[v])[1] for v in ("screening", "randomization", "week_48", "follow_up")
    )
    assert found == dtends


@pytest.mark.traces(
    "interventions.telitacicept.frequency",
    "interventions.telitacicept.duration",
    "interventions.mycophenolate_mofetil.duration",
    "dosing_rules.dose_at_end_of_treatment",
)
@pytest.mark.parametrize("randomization", [RANDOMIZATION, LEAP_DAY])
def test_ics_dose_events_against_dates_written_by_hand(randomization):
    events, visits, injections, courses = _ics_events("telitacicept_mmf", randomization)
    second, last_injection, last_tablet, course_end = HAND_DOSES[randomization]
    day_1 = randomization.isoformat()
    assert len(events) == 64  # 15 visits + 48 injections + 1 MMF course
    assert (len(visits), len(injections), len(courses)) == (15, 48, 1)
    spans = sorted(_all_day(e) for e in injections)
    assert spans[0][0] == day_1  # the first injection on the day of randomization
    assert spans[1][0] == second  # then one week later
    assert spans[-1][0] == last_injection  # randomization + 47 weeks = + 329 days
    assert len({start for start, _ in spans}) == 48  # 48 different days
    for start, end in spans:  # each injection is a single day
        assert date.fromisoformat(end) - date.fromisoformat(start) == timedelta(days=1)
        assert date.fromisoformat(start).weekday() == randomization.weekday()  # weekly
    (course,) = courses
    assert _all_day(course) == (day_1, course_end)  # + 335 days inclusive, DTEND + 336 days
    assert str(course["SUMMARY"]).endswith(f", {day_1} to {last_tablet}")
    assert course_end == _all_day(visits["week_48"])[0]  # the course ends as week 48 begins


@pytest.mark.traces("visit_schedule", "interventions.telitacicept.duration")
@pytest.mark.parametrize(
    ("arm", "count"),
    [("telitacicept_mmf", 64), ("mmf", 16)],  # 15 visits + 48 injections + 1 course; no injection
)
@pytest.mark.parametrize(
    ("randomization", "screening_start", "after_follow_up_window"),
    [
        (RANDOMIZATION, "2025-02-17", "2026-03-24"),  # the follow-up window ends 2026-03-23
        (LEAP_DAY, "2024-02-01", "2025-03-07"),  # ... ends 2025-03-06
    ],
)
def test_no_event_lies_outside_the_schedule(
    arm, count, randomization, screening_start, after_follow_up_window
):
    events, _, _, _ = _ics_events(arm, randomization)
    assert len(events) == count
    spans = [_all_day(e) for e in events]
    assert min(start for start, _ in spans) == screening_start  # nothing before screening
    # all-day DTEND is exclusive: no event runs past the last day of the follow-up window
    assert all(end <= after_follow_up_window for _, end in spans)


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
    # through 2025-04-17, the latest day of the week-4 window (its doses included): the
    # interval ends the day after
    assert first.until_date == date(2025, 4, 18)
    assert first.doses == 5
    mmf = next(line for line in lines if line.intervention == "Mycophenolate Mofetil")
    assert mmf.doses == 64  # 32 days, 03-17 to 04-17, twice a day


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


# -- an activity of one arm only ----------------------------------------------------------------


@pytest.mark.parametrize("arm", [a.id for a in load_study().arms])
def test_only_an_arm_that_injects_has_the_first_injection_at_the_site(arm):
    # the comparator arm takes mycophenolate by mouth: its day 1 said "first injection at the
    # site" in the CSV, the .ics and the card
    study = load_study()
    calendar = build_calendar(arm, RANDOMIZATION)
    routes = {
        i.route.value
        for i in study.interventions
        if i.id in {r.intervention_id for r in calendar.regimens}
    }
    injects = any(r.startswith(("SUBCUTANEOUS", "INTRAVENOUS", "INTRAMUSCULAR")) for r in routes)
    activities = [a for v in calendar.visits for a in v.activities]
    assert ("first injection at the site" in activities) == injects
    assert injects == (arm != "mmf")  # the registry: telitacicept is injected, MMF is oral
    day_one = next(row for row in calendar.rows() if row["date"] == RANDOMIZATION.isoformat())
    assert ("first injection" in day_one["detail"]) == injects
    # the rest of the day's activities are every arm's
    assert "dispensing" in day_one["detail"] and "eligibility check" in day_one["detail"]


def test_an_injection_activity_must_be_a_named_activity():

    from protocol.study import parse_study

    data = study_data()
    data["injection_activities"] = ["first_injection_at_home"]
    with pytest.raises(ProtocolDataError, match="injection_activities"):
        parse_study(data, "amended study.yaml")


@pytest.mark.parametrize(
    ("route", "expected"),
    [("SUBCUTANEOUS", True), ("INTRAVENOUS DRIP", True), ("intramuscular", True),
     ("INTRADERMAL", True), ("ORAL", False), ("TOPICAL", False), (" Subcutaneous ", True)],
)  # fmt: skip
def test_a_route_is_injected_by_its_cdisc_term_however_qualified(route, expected):
    # an amendment's INTRAVENOUS DRIP lost the arm's first injection at the site
    from dosing.calendar import injected

    assert injected(route) is expected
