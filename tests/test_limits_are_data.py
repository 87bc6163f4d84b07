"""A limit's boundary is data that both the check and its sentence read (issue 14 §3).

study.yaml says, for each upper limit on elapsed time (IN04's disease duration, EX02's, EX25's
malignancy window), whether the limit's own value is within it (``boundary: within``). The
registry's words settle it where they can ("≤ 18 months", "greater than 3 years"); a study whose
``boundary`` contradicts its own quote is refused. Flipping the field flips both the status on
the boundary day and the words: they cannot diverge.

Expected boundary dates are worked out by hand from calendar months (2025-03-03 back 18 months
is 2023-09-03; back 3 years is 2022-03-03; back 5 years is 2020-03-03), and in the property test
by month arithmetic on (year, month, day) written here, not by the engine's relativedelta.
"""

from __future__ import annotations

import calendar
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.errors import ProtocolDataError
from protocol.facts import Limit, quote_boundary
from protocol.participant import ParticipantRecord, load_record
from protocol.screening import describe, screen
from tests.conftest import REPO

CASE06 = REPO / "book" / "cases" / "case06-duration-exactly-18-months.yaml"  # exactly 18 months

MAXIMUM_QUOTE = "    quote: Disease duration of ≤ 18 months\n"
EXCLUSION_QUOTE = "    quote: Disease duration of greater than 3 years\n"
WITHIN = "    boundary: within\n"


def _status(record: ParticipantRecord, criterion: str, study=None) -> tuple[str, str]:
    result = {c.id: c for c in screen(record, study).criteria}[criterion]
    return result.status, result.reason


def _record(tmp_path, old: str, new: str) -> ParticipantRecord:
    text = CASE06.read_text(encoding="utf-8")
    assert text.count(old) == 1
    path = tmp_path / "record.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return load_record(path)


@pytest.mark.traces("criteria.IN04")
def test_exactly_the_maximum_duration_follows_the_boundary_field(varied_study):
    record = load_record(CASE06)
    assert _status(record, "IN04")[0] == "pass"
    assert "at most 18 months (exactly 18 months passes" in describe("IN04")
    # the quote "≤" would refuse "outside"; a version of the protocol reading "< 18 months"
    outside = varied_study(
        (MAXIMUM_QUOTE + "    note: Calendar", "    note: Calendar"),
        ("eligible (PI10).\n" + WITHIN, "eligible (PI10).\n    boundary: outside\n"),
    )
    status, reason = _status(record, "IN04", outside)
    assert status == "fail"
    assert "limit 18 months, exactly the limit fails" in reason
    assert describe("IN04", outside).endswith("less than 18 months (exactly 18 months fails)")


@pytest.mark.traces("criteria.EX02")
def test_exactly_the_exclusion_duration_follows_the_boundary_field(tmp_path, varied_study):
    record = _record(
        tmp_path,
        "first_non_raynaud_manifestation: 2023-09-03",
        "first_non_raynaud_manifestation: 2022-03-03",  # exactly 3 years before 2025-03-03
    )
    assert _status(record, "EX02")[0] == "pass"
    assert _status(record, "IN04")[0] == "fail"
    outside = varied_study((EXCLUSION_QUOTE + WITHIN, "    boundary: outside\n"))
    assert _status(record, "EX02", outside)[0] == "fail"
    assert describe("EX02", outside) == "disease duration (as IN04) of 3 years or more fails"
    # a day shorter passes under either reading
    shorter = _record(
        tmp_path,
        "first_non_raynaud_manifestation: 2023-09-03",
        "first_non_raynaud_manifestation: 2022-03-04",
    )
    assert _status(shorter, "EX02", outside)[0] == "pass"


@pytest.mark.traces("criteria.EX25")
@pytest.mark.parametrize(
    ("malignancy_date", "within_status", "outside_status"),
    [
        ("2020-03-02", "pass", "pass"),  # the day before the window's first day
        ("2020-03-03", "fail", "pass"),  # exactly 5 years before screening: the boundary day
        ("2020-03-04", "fail", "fail"),  # inside under either reading
    ],
)
def test_a_malignancy_on_the_windows_first_day_follows_the_boundary_field(
    tmp_path, varied_study, malignancy_date, within_status, outside_status
):
    record = _record(
        tmp_path,
        "  malignancies: []",
        f"  malignancies: [{{type: synthetic lymphoma, date: {malignancy_date}, "
        "excepted_type: false}]",
    )
    assert _status(record, "EX25")[0] == within_status
    outside = varied_study(
        (
            "prior to screening\n    # the record does not say; the boundary day is read as "
            "within, as for the washout windows\n    # (the issues log's boundary_day entry)\n"
            + WITHIN,
            "prior to screening\n    boundary: outside\n",
        )
    )
    status, reason = _status(record, "EX25", outside)
    assert status == outside_status
    if malignancy_date == "2020-03-03":
        assert "the window's first day, which is outside" in reason
    assert "(one dated exactly 5 years before is outside them)" in describe("EX25", outside)
    assert "(one dated exactly 5 years before is within them)" in describe("EX25")


def test_a_boundary_that_contradicts_the_registrys_words_is_refused(varied_study):
    with pytest.raises(ProtocolDataError) as caught:
        varied_study(("eligible (PI10).\n" + WITHIN, "eligible (PI10).\n    boundary: outside\n"))
    assert "disease_duration_maximum" in str(caught.value)
    assert "'≤ 18 months'" in str(caught.value) or "≤ 18 months" in str(caught.value)


def test_a_limit_without_a_boundary_is_refused(varied_study):
    with pytest.raises(ProtocolDataError) as caught:
        varied_study((EXCLUSION_QUOTE + WITHIN, EXCLUSION_QUOTE))
    assert "disease_duration_exclusion.boundary" in str(caught.value)


@pytest.mark.parametrize(
    ("quote", "side"),
    [
        ("Disease duration of ≤ 18 months", "within"),
        ("at most 18 months", "within"),
        ("no more than 18 months", "within"),
        ("Disease duration of greater than 3 years", "within"),
        ("more than 3 years", "within"),
        ("≥ 3 years", "outside"),
        ("at least 3 years", "outside"),
        ("less than 18 months", "outside"),
        ("Malignant disease within 5 years prior to screening", None),
        ("", None),
    ],
)
def test_the_registrys_words_settle_the_side_where_they_can(quote, side):
    assert quote_boundary(quote) == side


def _months_later(day: date, months: int) -> date:
    """Calendar months by hand: the same day number, clamped to the target month's last day."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


@settings(max_examples=300, deadline=None)
@given(
    first=st.dates(min_value=date(2015, 1, 1), max_value=date(2026, 1, 1)),
    offset=st.integers(min_value=-40, max_value=40),
    boundary=st.sampled_from(["within", "outside"]),
)
def test_in04_on_and_around_its_boundary_in_any_month(first, offset, boundary):
    """Around the 18-month boundary date (± 40 days), for any first manifestation (month ends
    included), IN04 passes exactly when screening is before the boundary date, or on it when
    the boundary is within."""
    from datetime import timedelta

    from protocol.screening import _Context, in04_duration
    from protocol.study import load_study

    study = load_study()
    rules = study.criterion_rules
    limit = Limit[object](
        value=rules.disease_duration_maximum.value,
        provenance="assumption",
        note="synthetic",
        boundary=boundary,
    )
    varied = study.model_copy(
        update={"criterion_rules": rules.model_copy(update={"disease_duration_maximum": limit})}
    )
    record = load_record(CASE06)
    last_day = _months_later(first, 18)
    screening = last_day + timedelta(days=offset)
    record = record.model_copy(
        update={
            "ssc": record.ssc.model_copy(update={"first_non_raynaud_manifestation": first}),
            "dates": record.dates.model_copy(update={"screening": screening}),
        }
    )
    expected = "pass" if screening < last_day or (boundary == "within" and offset == 0) else "fail"
    assert in04_duration(_Context(record, varied)).status == expected
