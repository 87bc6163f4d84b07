"""A course's recorded first dose (``start``) is a day of use: inside the window it excludes
whatever the last dose, and no randomization is allowed before it leaves the window.

Every expected date below is worked out by hand from the registry's "within N weeks/months
prior to randomization" and study.yaml's ``washout_convention`` (the boundary day is within;
weeks are 7 days; calendar months, a missing month end falling on the month's last day).
"""

from __future__ import annotations

import copy
import json
import re
from datetime import date, timedelta

import pytest
import yaml
from dateutil.relativedelta import relativedelta
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.participant import parse_record
from protocol.screening import screen
from protocol.washout import check_washout, parse_washout_input
from tests.conftest import REPO, examples
from trialbook.cli import main

pytestmark = pytest.mark.traces("medication_classes", "corticosteroid_rule", "criteria")

RANDOMIZATION = date(2025, 3, 17)
SCREENING = date(2025, 3, 3)
STEROID_OVER_LIMIT = {"dose": "20 mg", "frequency": "daily", "route": "oral"}


def _check(medications, randomization=RANDOMIZATION, screening=SCREENING):
    data = {
        "planned_randomization": randomization,
        "screening": screening,
        "medications": medications,
    }
    return check_washout(parse_washout_input(data, "test input"))


# -- at and around each window's first day -----------------------------------------------------

# (medicine, extra fields, planned randomization, screening, start, status, earliest date)
# 4 weeks before 2025-03-17 is 2025-02-17; a randomization R allows a start S once R - 28 days
# is after S. 8 weeks (56 days) before 2025-03-17 is 2025-01-20. 3 calendar months before
# 2025-03-17 is 2024-12-17; before 2025-05-31 it is 2025-02-28 (no 31 February), and
# 2025-05-28 to 2025-05-31 all count back to 2025-02-28, so a start on 2025-02-28 is allowed
# from 2025-06-01 (back to 2025-03-01).
BOUNDARY_CASES = [
    # EX09, 4 weeks
    ("methotrexate", {}, RANDOMIZATION, SCREENING, date(2025, 2, 16), "unknown", date(2025, 3, 17)),
    ("methotrexate", {}, RANDOMIZATION, SCREENING, date(2025, 2, 17), "fail", date(2025, 3, 18)),
    ("methotrexate", {}, RANDOMIZATION, SCREENING, date(2025, 2, 18), "fail", date(2025, 3, 19)),
    # the tester's case: a first dose a week before randomization; 2025-03-10 + 28 days is
    # 2025-04-07, still within (the boundary day), so 2025-04-08
    ("methotrexate", {}, RANDOMIZATION, SCREENING, date(2025, 3, 10), "fail", date(2025, 4, 8)),
    # EX14, 8 weeks
    ("infliximab", {}, RANDOMIZATION, SCREENING, date(2025, 1, 19), "unknown", date(2025, 3, 17)),
    ("infliximab", {}, RANDOMIZATION, SCREENING, date(2025, 1, 20), "fail", date(2025, 3, 18)),
    ("infliximab", {}, RANDOMIZATION, SCREENING, date(2025, 1, 21), "fail", date(2025, 3, 19)),
    # EX09, 3 calendar months
    ("cyclophosphamide", {}, RANDOMIZATION, SCREENING, date(2024, 12, 16), "unknown",
     date(2025, 3, 17)),
    ("cyclophosphamide", {}, RANDOMIZATION, SCREENING, date(2024, 12, 17), "fail",
     date(2025, 3, 18)),
    ("cyclophosphamide", {}, RANDOMIZATION, SCREENING, date(2024, 12, 18), "fail",
     date(2025, 3, 19)),
    # EX09, 3 calendar months ending on a month end
    ("cyclophosphamide", {}, date(2025, 5, 31), date(2025, 5, 20), date(2025, 2, 27), "unknown",
     date(2025, 5, 28)),
    ("cyclophosphamide", {}, date(2025, 5, 31), date(2025, 5, 20), date(2025, 2, 28), "fail",
     date(2025, 6, 1)),
    ("cyclophosphamide", {}, date(2025, 5, 31), date(2025, 5, 20), date(2025, 3, 1), "fail",
     date(2025, 6, 2)),
    # EX11, 4 weeks, 20 mg prednisone a day (over the 10 mg limit)
    ("prednisone", STEROID_OVER_LIMIT, RANDOMIZATION, SCREENING, date(2025, 2, 16), "unknown",
     date(2025, 3, 17)),
    ("prednisone", STEROID_OVER_LIMIT, RANDOMIZATION, SCREENING, date(2025, 2, 17), "fail",
     date(2025, 3, 18)),
    ("prednisone", STEROID_OVER_LIMIT, RANDOMIZATION, SCREENING, date(2025, 2, 18), "fail",
     date(2025, 3, 19)),
    # the tester's prednisone: 2025-03-01 + 28 days is 2025-03-29, within; so 2025-03-30
    ("prednisone", STEROID_OVER_LIMIT, RANDOMIZATION, SCREENING, date(2025, 3, 1), "fail",
     date(2025, 3, 30)),
]  # fmt: skip


@pytest.mark.parametrize(
    "name, extra, randomization, screening, start, status, earliest", BOUNDARY_CASES
)
def test_a_recorded_start_decides_use_within_the_window_without_a_last_dose(
    name, extra, randomization, screening, start, status, earliest
):
    result = _check([{"name": name, "start": start, **extra}], randomization, screening)
    (entry,) = result.entries
    assert entry.status == status, entry.reason
    # the start is recorded: only the last dose is missing, and the reason says so
    assert "no date recorded" not in entry.reason
    assert "last dose" in entry.reason and "not recorded" in entry.reason
    if status == "fail":
        assert f"a randomization before {earliest} is excluded whatever the last dose" in (
            entry.reason
        )
        assert entry.clears_on is None  # when it clears depends on the unrecorded last dose
    # the earliest date is a bound: the last dose may put it later
    assert result.earliest_randomization == earliest
    assert result.summary.startswith(f"Earliest randomization: not before {earliest}")
    assert f"the last dose of {name} is not recorded" in result.summary


@pytest.mark.parametrize(
    "name, start, on_boundary",
    [
        ("methotrexate", date(2025, 2, 17), True),
        ("methotrexate", date(2025, 2, 18), False),
        ("cyclophosphamide", date(2024, 12, 17), True),
        ("cyclophosphamide", date(2024, 12, 18), False),
    ],
)
def test_a_start_on_the_windows_first_day_is_within_and_says_so(name, start, on_boundary):
    (entry,) = _check([{"name": name, "start": start}]).entries
    assert entry.status == "fail" and entry.on_boundary == on_boundary
    assert ("exactly on the first day of the window" in entry.reason) == on_boundary
    assert f"start {start}, last dose not recorded" in entry.reason


def test_an_iv_corticosteroid_begun_on_the_windows_first_day_excludes():
    # any IV corticosteroid within 4 weeks (from 2025-02-17) excludes, whatever the dose
    result = _check([{"name": "methylprednisolone", "start": date(2025, 2, 17), "route": "iv"}])
    (entry,) = result.entries
    assert entry.status == "fail" and entry.on_boundary
    assert "(start 2025-02-17, last dose not recorded)" in entry.reason
    assert "a randomization before 2025-03-18 is excluded" in entry.reason


def test_the_testers_methotrexate_fails_on_the_command_line(tmp_path, capsys):
    path = tmp_path / "input.yaml"
    path.write_text(
        "planned_randomization: 2025-03-17\nscreening: 2025-03-03\n"
        "medications:\n  - {name: methotrexate, start: 2025-03-10}\n"
    )
    assert main(["washout", str(path)]) == 1
    out = capsys.readouterr().out
    assert "[FAIL   ] methotrexate (start 2025-03-10, last dose not recorded)" in out
    assert "no date recorded" not in out
    assert "Earliest randomization: not before 2025-04-08" in out
    # the JSON says the date is a bound, and a recorded last dose makes it the date
    assert main(["washout", str(path), "--json"]) == 1
    found = json.loads(capsys.readouterr().out)
    assert found["earliest_randomization"] == "2025-04-08"
    assert found["earliest_randomization_is_a_bound"] is True
    path.write_text(
        "planned_randomization: 2025-03-17\nscreening: 2025-03-03\n"
        "medications:\n  - {name: methotrexate, start: 2025-03-10, last_dose: 2025-03-10}\n"
    )
    assert main(["washout", str(path), "--json"]) == 1
    found = json.loads(capsys.readouterr().out)
    assert (found["earliest_randomization"], found["earliest_randomization_is_a_bound"]) == (
        "2025-04-08",
        False,
    )


# -- two corticosteroid courses: the first dose day of each is surely a dosing day -------------


def _steroid(name, **dates):
    return {"name": name, "dose": "7.5 mg", "frequency": "daily", "route": "oral", **dates}


def _together(result):
    return next(e for e in result.entries if e.name == "corticosteroids together")


def test_two_courses_begun_on_the_same_day_add_up_on_it():
    # prednisone 7.5 mg and prednisolone 7.5 mg (= prednisone 7.5 mg) both taken on 2025-03-01,
    # inside the window from 2025-02-17: 15 mg that day, more than 10 mg
    result = _check(
        [
            _steroid("prednisone", start=date(2025, 3, 1)),
            _steroid("prednisolone", start=date(2025, 3, 1), ongoing=True),
        ]
    )
    together = _together(result)
    assert together.status == "fail", together.reason
    assert "taken on 2025-03-01 add up to 15 mg" in together.reason


def test_a_course_without_its_last_dose_may_overlap_a_later_one():
    # prednisone from 2025-03-01 (its last dose not recorded) may still be taken from
    # 2025-03-05, when prednisolone began: 15 mg a day then, or not
    result = _check(
        [
            _steroid("prednisone", start=date(2025, 3, 1)),
            _steroid("prednisolone", start=date(2025, 3, 5), ongoing=True),
        ]
    )
    together = _together(result)
    assert together.status == "unknown"
    assert "prednisone's last dose is not recorded" in together.reason
    assert together.reason.endswith("record prednisone's last dose")
    assert "dates are not recorded" not in together.reason


# -- screen uses the same rules ------------------------------------------------------------------

ELIGIBLE = yaml.safe_load((REPO / "book/cases/case01-eligible.yaml").read_text())


def _screened(medications):
    data = copy.deepcopy(ELIGIBLE)  # screening 2025-03-03, planned randomization 2025-03-17
    data["medications"] = medications
    return {c.id: c for c in screen(parse_record(data, "test record")).criteria}


def test_screen_excludes_a_course_begun_inside_its_window():
    criteria = _screened(
        [
            {"name": "methotrexate", "start": date(2025, 3, 10)},
            {"name": "prednisone", "start": date(2025, 3, 1), **STEROID_OVER_LIMIT},
            {"name": "infliximab", "start": date(2025, 2, 1)},
        ]
    )
    for criterion in ("EX09", "EX11", "EX14"):
        assert criteria[criterion].status == "fail", criteria[criterion].reason
        assert "no date recorded" not in criteria[criterion].reason


def test_screen_leaves_a_course_begun_before_its_window_unknown_for_its_last_dose():
    # 2025-02-16 is the day before the 4 weeks from 2025-02-17
    criteria = _screened([{"name": "methotrexate", "start": date(2025, 2, 16)}])
    assert criteria["EX09"].status == "unknown"
    assert "its last dose is not recorded" in criteria["EX09"].reason
    assert "no date recorded" not in criteria["EX09"].reason


# -- any dates -----------------------------------------------------------------------------------

# (name, extra fields, the window as a calendar step back from a randomization date)
_MEDICINES = [
    ("methotrexate", {}, timedelta(weeks=4)),
    ("infliximab", {}, timedelta(weeks=8)),
    ("cyclophosphamide", {}, relativedelta(months=3)),
    ("prednisone", STEROID_OVER_LIMIT, timedelta(weeks=4)),
]


@st.composite
def _courses(draw):
    randomization = date(2024, 1, 1) + timedelta(days=draw(st.integers(0, 800)))
    screening = randomization - timedelta(days=draw(st.integers(0, 28)))
    start = randomization - timedelta(days=draw(st.integers(0, 200)))
    last = draw(
        st.none() | st.integers(0, (randomization - start).days).map(lambda d: start + timedelta(d))
    )
    name, extra, window = draw(st.sampled_from(_MEDICINES))
    return randomization, screening, start, last, name, extra, window


@settings(max_examples=examples(200), deadline=None)
@given(_courses())
def test_a_recorded_start_is_used_whatever_the_other_dates(course):
    randomization, screening, start, last, name, extra, window = course
    medication = {"name": name, "start": start, **extra}
    if last is not None:
        medication["last_dose"] = last
    result = _check([medication], randomization, screening)
    (entry,) = result.entries
    assert "no date recorded" not in entry.reason
    if start >= randomization - window:  # the first dose is within the window
        assert entry.status == "fail", entry.reason
    elif last is None:  # begun before it; it may have ended in it or before it
        assert entry.status == "unknown", entry.reason
    # no randomization whose window still holds the first dose (nor a recorded last dose)
    printed = re.match(r"Earliest randomization: (?:not before )?(\d{4}-\d\d-\d\d)", result.summary)
    for earliest in filter(None, (result.earliest_randomization, printed and printed.group(1))):
        earliest = date.fromisoformat(str(earliest))
        assert earliest - window > start
        assert last is None or earliest - window > last
