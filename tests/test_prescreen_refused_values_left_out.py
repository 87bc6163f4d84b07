"""A value the rules refuse in one cell is left out of a pre-screened row, as a cell that
could not be read is (issue 15: "unparseable cells ... each row reported with its row number
and column, the rest still processed"): the row is screened without it, never likely
eligible, and excluded where another criterion excludes it. A hostile tester found such rows
"not screened (bad row)": a unit the book does not read, an implausible value, ULN or lung
function each lost the row's other answers (a candidate of 76 was no longer excluded).

The property is metamorphic: the row with the refused cell decides every criterion as the
same row with that cell's lab (or that lung function) left empty by hand, which the
differential test holds to `trialbook screen`. SYNTHETIC rows only.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prescreen.outputs import EXCLUDED, LIKELY_ELIGIBLE, NEEDS_REVIEW, NOT_SCREENED
from prescreen.run import Run, prescreen
from tests.test_cli_prescreen import AS_OF, ELIGIBLE

_LAB = ("value", "unit", "uln", "uln_unit")

#: Each refused value, and the cells left out with it, worked out by hand: a lab's value or
#: unit leaves the whole lab out (a value is no result without its unit), a ULN leaves the
#: ULN out (the value is then decided over every plausible ULN), a lung function itself.
REFUSED: dict[str, tuple[dict[str, str], str, tuple[str, ...]]] = {
    "a unit the book does not read": (
        {"labs.hemoglobin.unit": "G/DL"},
        "labs.hemoglobin.unit",
        tuple(f"labs.hemoglobin.{p}" for p in _LAB),
    ),
    "a unit of no such quantity": (
        {"labs.igg.unit": "g/furlong"},
        "labs.igg.unit",
        tuple(f"labs.igg.{p}" for p in _LAB),
    ),
    "an implausible count": (
        {"labs.platelets.value": "9999"},
        "labs.platelets.value",
        tuple(f"labs.platelets.{p}" for p in _LAB),
    ),
    "an implausible creatinine": (
        {"labs.creatinine.value": "0.01"},
        "labs.creatinine.value",
        tuple(f"labs.creatinine.{p}" for p in _LAB),
    ),
    "an implausible ULN": (
        {"labs.alt.uln": "500"},
        "labs.alt.uln",
        ("labs.alt.uln", "labs.alt.uln_unit"),
    ),
    "a ULN where none applies": (
        {"labs.hemoglobin.uln": "170"},
        "labs.hemoglobin.uln",
        ("labs.hemoglobin.uln", "labs.hemoglobin.uln_unit"),
    ),
    "an implausible FVC": (
        {"pulmonary.fvc_percent_predicted": "0.5"},
        "pulmonary.fvc_percent_predicted",
        ("pulmonary.fvc_percent_predicted",),
    ),
    "an implausible DLCO": (
        {"pulmonary.dlco_percent_predicted": "400"},
        "pulmonary.dlco_percent_predicted",
        ("pulmonary.dlco_percent_predicted",),
    ),
}

#: Variations of the eligible row: still eligible, excluded by age, open for a missing IgA,
#: excluded by a low haemoglobin (the refused cell then another lab's)
BASES = {
    "eligible": {},
    "aged 76": {"dates.birth": "1948-06-14"},
    "no IgA": {"labs.iga.value": None, "labs.iga.unit": None},
    "low haemoglobin": {"labs.hemoglobin.value": "70"},
}


def _run(tmp_path: Path, rows: list[dict]) -> Run:
    path = tmp_path / "candidates.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return prescreen(path, as_of=dt.date.fromisoformat(AS_OF))


def _statuses(run_table: pd.DataFrame, candidate: str) -> tuple[str, str, str]:
    row = run_table[run_table["candidate"] == candidate].iloc[0]
    return str(row["outcome"]), str(row["failing"]), str(row["reason"])


def _pair(base: dict, refused: dict, left_out: tuple[str, ...]) -> list[dict]:
    """The row with the refused cell, and the same row with the cells left out by hand."""
    with_refused = {**ELIGIBLE, **base, **refused, "participant": "SYN-R1"}
    by_hand = {k: v for k, v in {**ELIGIBLE, **base}.items() if k not in left_out}
    return [with_refused, {**by_hand, "participant": "SYN-R2"}]


@pytest.mark.parametrize("kind", sorted(REFUSED))
def test_a_refused_value_is_left_out_and_the_row_screened(tmp_path, kind):
    changes, column, left_out = REFUSED[kind]
    run = _run(tmp_path, _pair({}, changes, left_out))
    outcome, _, reason = _statuses(run.table, "SYN-R1")
    # the eligible row without the cell: open, never likely eligible, and the cell named
    assert outcome == NEEDS_REVIEW, reason
    assert f"the cell in column {column} could not be read" in reason
    # problems.csv: that cell alone, by row and column, as found
    problems = list(csv.DictReader(io.StringIO(run.files["problems.csv"].decode("utf-8-sig"))))
    assert [(p["Row"], p["Column"]) for p in problems] == [("2", column)]
    assert problems[0]["Found"].strip("'") == changes[column]


def test_a_refused_value_beside_an_excluding_one_is_excluded_and_named(tmp_path):
    # the hostile tester's row: 76 years old, haemoglobin in "G/DL"
    changes, column, left_out = REFUSED["a unit the book does not read"]
    run = _run(tmp_path, _pair(BASES["aged 76"], changes, left_out))
    outcome, failing, reason = _statuses(run.table, "SYN-R1")
    assert (outcome, failing) == (EXCLUDED, "IN01")
    assert reason.startswith("IN01: age 76 years at screening")
    assert f"the cell in column {column} could not be read" in reason


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    kinds=st.lists(st.sampled_from(sorted(REFUSED)), min_size=1, max_size=3, unique=True),
    base=st.sampled_from(sorted(BASES)),
)
def test_a_row_with_refused_cells_decides_as_the_row_without_them(tmp_path, kinds, base):
    changes: dict[str, str] = {}
    left_out: tuple[str, ...] = ()
    for kind in kinds:
        changes |= REFUSED[kind][0]
        left_out += REFUSED[kind][2]
    table = _run(tmp_path, _pair(BASES[base], changes, left_out)).table
    refused_outcome, refused_failing, refused_reason = _statuses(table, "SYN-R1")
    plain_outcome, plain_failing, _ = _statuses(table, "SYN-R2")
    # every criterion decides alike: the same failing criteria, in the same order
    assert refused_failing == plain_failing
    assert refused_outcome != NOT_SCREENED
    # a left-out cell never lets a row pass: what passes without it needs review
    if plain_outcome == LIKELY_ELIGIBLE:
        assert refused_outcome == NEEDS_REVIEW
    else:
        assert refused_outcome == plain_outcome
    assert "could not be read" in refused_reason
