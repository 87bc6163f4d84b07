"""A pregnancy test speaks of pregnancy on its own day: IN06 needs a negative serum test at the
screening visit, and EX27 excludes a woman pregnant at screening. A positive test before the
visit therefore leaves both open (the test at the visit decides), as does a negative one before
the visit (it does not say she is not pregnant at the visit); one dated before birth is
refused."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pytest
import yaml
from hypothesis import example, given, settings
from hypothesis import strategies as st

from protocol.participant import ParticipantRecord
from protocol.screening import screen

REPO = Path(__file__).resolve().parents[1]
CASE_1 = yaml.safe_load((REPO / "book/cases/case01-eligible.yaml").read_text(encoding="utf-8"))
SCREENING = CASE_1["dates"]["screening"]


def _statuses(test_date: dt.date, result: str) -> tuple[str, str, str]:
    data = copy.deepcopy(CASE_1)
    data["pregnancy_test"] = {"result": result, "sample": "serum", "date": test_date}
    report = screen(ParticipantRecord.model_validate(data))
    by_id = {c.id: c for c in report.criteria}
    return by_id["IN06"].status, by_id["EX27"].status, report.verdict


@pytest.mark.parametrize(
    ("days_before", "result", "expected"),
    [
        (0, "positive", ("fail", "fail", "not_eligible")),
        (1, "positive", ("unknown", "unknown", "incomplete")),
        (365, "positive", ("unknown", "unknown", "incomplete")),
        (0, "negative", ("pass", "pass", "eligible")),
        (1, "negative", ("unknown", "unknown", "incomplete")),
        (365, "negative", ("unknown", "unknown", "incomplete")),
    ],
)
def test_a_test_counts_on_the_day_of_the_screening_visit(days_before, result, expected):
    assert _statuses(SCREENING - dt.timedelta(days=days_before), result) == expected


def test_a_test_before_birth_is_refused():
    with pytest.raises(ValueError, match=r"pregnancy_test\.date = 1960-01-01 is before"):
        _statuses(dt.date(1960, 1, 1), "positive")


@settings(max_examples=60, deadline=None)
@example(days_before=0, sample="urine", childbearing=None)
@example(days_before=1, sample="serum", childbearing=True)
@given(
    days_before=st.integers(0, 3000),
    sample=st.sampled_from(["serum", "urine"]),
    childbearing=st.sampled_from([True, None]),
)
def test_only_a_negative_test_of_the_screening_day_passes_ex27(days_before, sample, childbearing):
    # a negative test of another day says nothing of pregnancy at the visit: EX27 never passes
    # on it; the day's test, serum or urine, says she is not pregnant
    data = copy.deepcopy(CASE_1)
    data["pregnancy_test"] = {
        "result": "negative",
        "sample": sample,
        "date": SCREENING - dt.timedelta(days=days_before),
    }
    data["childbearing_potential"] = childbearing
    if childbearing is None:
        del data["childbearing_potential"]
    report = screen(ParticipantRecord.model_validate(data))
    ex27 = next(c for c in report.criteria if c.id == "EX27")
    if days_before == 0:  # whether or not she could conceive, she is not pregnant
        assert ex27.status == "pass"
    else:
        assert ex27.status == "unknown"
        assert ("pregnancy_test.date" in ex27.missing) == (days_before > 0)
