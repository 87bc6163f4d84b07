"""Date arithmetic the book states in words ("18 months after 31 August 2023 is 28 February
2025", "a person born on 29 February 2008 is 18 on 28 February 2026") is checked with dateutil,
wherever it is written: study.yaml's readings and the book's pages. A reading once gave 29
February 2025, a day that does not exist."""

from __future__ import annotations

import calendar
import datetime as dt
import re
from pathlib import Path

import pytest
from dateutil.relativedelta import relativedelta

ROOT = Path(__file__).resolve().parents[1]
SOURCES = [
    ROOT / "protocol" / "study.yaml",
    *sorted((ROOT / "book").rglob("*.md")),
    *sorted((ROOT / "book").rglob("*.ipynb")),
]
MONTHS = [
    calendar.month_name[k] for k in range(1, 13)
]  # English: Python keeps the C locale for dates
DATE = r"(\d{1,2}) (" + "|".join(MONTHS) + r") (\d{4})"
SHIFT = re.compile(rf"(\d+) (day|week|month|year)s? (after|before) {DATE} is {DATE}")
AGE = re.compile(rf"born on {DATE} is (\d+) on {DATE}")


def _date(day: str, month: str, year: str) -> dt.date:
    return dt.date(int(year), MONTHS.index(month) + 1, int(day))


def _claims(pattern: re.Pattern[str]) -> list[tuple[str, re.Match[str]]]:
    found = []
    for path in SOURCES:
        text = path.read_text(encoding="utf-8")
        found += [(path.relative_to(ROOT).as_posix(), m) for m in pattern.finditer(text)]
    return found


SHIFTS = _claims(SHIFT)
AGES = _claims(AGE)


def test_the_book_states_such_arithmetic():
    # the checks below would pass vacuously if the patterns found nothing
    assert SHIFTS and AGES


@pytest.mark.parametrize(("where", "claim"), SHIFTS, ids=[m.group(0) for _, m in SHIFTS])
def test_a_stated_date_shift_is_calendar_arithmetic(where, claim):
    count, unit, direction = int(claim.group(1)), claim.group(2), claim.group(3)
    start = _date(*claim.group(4, 5, 6))
    stated = _date(*claim.group(7, 8, 9))  # a day that does not exist raises here
    step = relativedelta(**{f"{unit}s": count})
    expected = start + step if direction == "after" else start - step
    assert stated == expected, f"{where}: {claim.group(0)!r}; dateutil gives {expected}"


@pytest.mark.parametrize(("where", "claim"), AGES, ids=[m.group(0) for _, m in AGES])
def test_a_stated_age_on_a_date_is_completed_years(where, claim):
    born = _date(*claim.group(1, 2, 3))
    age, on = int(claim.group(4)), _date(*claim.group(5, 6, 7))
    assert relativedelta(on, born).years == age, where
    # and it is the first day of that age: the day before, one year younger
    assert relativedelta(on - dt.timedelta(days=1), born).years == age - 1, where
