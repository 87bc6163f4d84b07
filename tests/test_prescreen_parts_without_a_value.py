"""A lab's unit, ULN or ULN unit beside an empty value is no result (a site fills its unit and
reference-range columns ahead of the results), but a cell the rules would refuse there is
reported all the same, by row and column, as every unreadable cell is (issue 15: "unparseable
cells (each row reported with its row number and column ...)"). A hostile tester found such
cells silently dropped: a unit `furlong`, a unit `80`, a haemoglobin ULN beside no value,
while the same cells beside a value were reported.

The property is metamorphic: a part beside no value is reported exactly when the same part
beside a plausible value, the lab's other parts good, is reported, and in the same words.
SYNTHETIC rows only.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from prescreen.outputs import NEEDS_REVIEW
from prescreen.run import Run, prescreen
from tests.conftest import examples
from tests.test_cli_prescreen import AS_OF, ELIGIBLE

pytestmark = pytest.mark.traces("lab_analytes")


def _run(tmp_path: Path, rows: list[dict]) -> Run:
    path = tmp_path / "candidates.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    return prescreen(path, as_of=dt.date.fromisoformat(AS_OF))


def _problems(run: Run) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(run.files["problems.csv"].decode("utf-8-sig"))))


def _row(lab: str, parts: dict[str, str | None], participant: str) -> dict:
    row = {**ELIGIBLE, "participant": participant}
    for part in ("value", "unit", "uln", "uln_unit"):
        row[f"labs.{lab}.{part}"] = parts.get(part)
    return row


#: Each cell the rules refuse beside a value, worked out by hand from study.yaml's analytes:
#: (lab, its parts without the value, the column reported, words the problem holds)
REFUSED = {
    "a unit in capitals the book does not read": (
        "hemoglobin", {"unit": "G/DL"}, "labs.hemoglobin.unit", "the unit 'G/DL' is not read"
    ),
    "a number as a unit": (
        "hemoglobin", {"unit": "80"}, "labs.hemoglobin.unit", "the unit '80'"
    ),
    "a ULN where none applies": (
        "hemoglobin", {"unit": "g/dL", "uln": "17"}, "labs.hemoglobin.uln",
        "no upper limit of normal",
    ),
    "a count's ULN": (
        "platelets", {"unit": "10^9/L", "uln": "400", "uln_unit": "10^9/L"},
        "labs.platelets.uln", "no upper limit of normal",
    ),
    "an implausible ULN (5 to 200 U/L)": (
        "alt", {"unit": "U/L", "uln": "500", "uln_unit": "U/L"}, "labs.alt.uln",
        "the upper limit of normal 500 U/L is implausible",
    ),
    "an implausible ULN in its value's unit": (
        "alt", {"unit": "U/L", "uln": "201"}, "labs.alt.uln", "is implausible",
    ),
    "a zero ULN": (
        "ast", {"unit": "U/L", "uln": "0", "uln_unit": "U/L"}, "labs.ast.uln", "is zero",
    ),
    "a ULN unit of another quantity": (
        "alt", {"unit": "U/L", "uln": "40", "uln_unit": "g/L"}, "labs.alt.uln_unit",
        "the ULN's unit 'g/L'",
    ),
}  # fmt: skip

#: Parts a site fills ahead of the results that the rules read: never reported
GOOD = {
    "a unit": ("hemoglobin", {"unit": "g/L"}),
    "a count's unit": ("platelets", {"unit": "10^9/L"}),
    "a ULN at the low end (5 U/L)": ("alt", {"unit": "U/L", "uln": "5", "uln_unit": "U/L"}),
    "a ULN at the high end (200 U/L)": ("ast", {"unit": "U/L", "uln": "200"}),
    "a ULN in another unit (1 µkat/L = 60 U/L)": (
        "alt",
        {"unit": "U/L", "uln": "1", "uln_unit": "µkat/L"},
    ),
    "a ULN and no unit to read it in": ("total_bilirubin", {"uln": "21"}),
}


@pytest.mark.parametrize("kind", sorted(REFUSED))
def test_a_refused_part_beside_no_value_is_reported(tmp_path, kind):
    lab, parts, column, words = REFUSED[kind]
    run = _run(tmp_path, [_row(lab, parts, "SYN-P1")])
    problems = _problems(run)
    assert [(p["Row"], p["Column"]) for p in problems] == [("2", column)]
    assert words in problems[0]["Expected"]
    assert problems[0]["Found"].strip("'") == parts[column.rsplit(".", 1)[1]]
    # the lab is no result all the same: the row needs review for it, as without the cells
    outcome = run.table.set_index("candidate").loc["SYN-P1", "outcome"]
    assert outcome == NEEDS_REVIEW


@pytest.mark.parametrize("kind", sorted(GOOD))
def test_a_part_the_rules_read_beside_no_value_is_not_reported(tmp_path, kind):
    lab, parts = GOOD[kind]
    run = _run(tmp_path, [_row(lab, parts, "SYN-P1")])
    assert _problems(run) == []


#: Plausible values, each lab's in its first unit (the parts drawn beside them)
VALUES = {"hemoglobin": "12", "platelets": "200", "alt": "30", "ast": "30", "total_bilirubin": "10"}
UNITS = ["g/dL", "g/L", "G/DL", "U/L", "IU/L", "µkat/L", "µmol/L", "mg/dL", "10^9/L", "80", "kg"]
ULNS = ["0", "3", "5", "40", "200", "201", "500", "1", "21"]


@settings(
    max_examples=examples(40),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    lab=st.sampled_from(sorted(VALUES)),
    part=st.sampled_from(["unit", "uln", "uln_unit"]),
    unit=st.sampled_from(UNITS),
    uln=st.sampled_from(ULNS),
)
def test_a_part_is_reported_beside_no_value_exactly_as_beside_a_value(
    tmp_path_factory, lab, part, unit, uln
):
    """One part drawn, the lab's other parts good (its own first unit; a ULN of 40 U/L, or
    21 µmol/L, where one applies): reported beside no value exactly when beside a plausible
    value, in the same words (a ULN's unit beside no ULN is read by neither)."""
    good_unit = {"hemoglobin": "g/dL", "platelets": "10^9/L", "total_bilirubin": "µmol/L"}
    relative = lab in ("alt", "ast", "total_bilirubin")
    parts: dict[str, str | None] = {"unit": good_unit.get(lab, "U/L")}
    if relative:
        parts |= {"uln": {"total_bilirubin": "21"}.get(lab, "40"), "uln_unit": parts["unit"]}
    parts[part] = uln if part == "uln" else unit
    if part == "uln_unit" and "uln" not in parts:
        parts["uln"] = None  # a ULN's unit beside no ULN is no ULN: nothing the rules read
    run = _run(
        tmp_path_factory.mktemp("parts"),
        [
            _row(lab, {**parts, "value": VALUES[lab]}, "SYN-V1"),
            _row(lab, parts, "SYN-V2"),
        ],
    )
    by_row: dict[str, set[tuple[str, str, str]]] = {"2": set(), "3": set()}
    for p in _problems(run):
        by_row[p["Row"]].add((p["Column"], p["Found"], p["Expected"]))
    # a value implausible in the drawn unit is the value's own problem, and the rules check
    # nothing behind it: that draw tells nothing of the parts
    assume(not any(column.endswith(".value") for column, _, _ in by_row["2"]))
    assert by_row["3"] == by_row["2"], (parts, by_row)


@pytest.mark.parametrize(
    ("mapped_units", "table_unit", "uln", "reported"),
    [
        # the mapping's unit is the ULN's where the table gives none: 5000 U/L and 4 U/L are
        # outside 5-200 U/L, 40 U/L within
        ("unit: U/L", None, "5000", True),
        ("unit: U/L", None, "4", True),
        ("unit: U/L", None, "40", False),
        # the mapping's ULN unit: 0.5 µkat/L = 30 U/L is plausible, 40 µkat/L = 2400 U/L not,
        # whatever the value's unit column says
        ("uln_unit: µkat/L", "U/L", "0.5", False),
        ("uln_unit: µkat/L", "U/L", "40", True),
    ],
)
def test_a_uln_beside_no_value_is_read_in_the_mappings_unit(
    tmp_path, mapped_units, table_unit, uln, reported
):
    """A hostile reviewer found the mapping's units ignored beside an empty value: a ULN of
    5000 U/L unreported, 0.5 µkat/L reported as 0.5 U/L. Each row is compared with the same
    ULN beside a value, which the rules read."""
    rows = []
    for participant, value in (("SYN-M1", "22"), ("SYN-M2", None)):
        row = _row("alt", {"value": value, "unit": table_unit, "uln": uln}, participant)
        row["ALT"] = row.pop("labs.alt.value")
        if table_unit is None:
            del row["labs.alt.unit"]
        del row["labs.alt.uln_unit"]
        rows.append(row)
    path = tmp_path / "candidates.csv"
    pd.DataFrame(rows).to_csv(path, index=False)
    mapping = tmp_path / "map.yaml"
    mapping.write_text(f"columns:\n  ALT: {{field: labs.alt.value, {mapped_units}}}\n")
    run = prescreen(path, mapping, as_of=dt.date.fromisoformat(AS_OF))
    by_row = {(p["Row"], p["Column"], p["Expected"]) for p in _problems(run)}
    beside_a_value = {e for r, c, e in by_row if r == "2" and c == "labs.alt.uln"}
    beside_none = {e for r, c, e in by_row if r == "3" and c == "labs.alt.uln"}
    assert beside_none == beside_a_value
    assert bool(beside_none) is reported


def test_a_negative_uln_beside_no_value_is_refused_in_the_same_words(tmp_path):
    run = _run(
        tmp_path,
        [
            _row("alt", {"value": "22", "unit": "U/L", "uln": "-5"}, "SYN-N1"),
            _row("alt", {"unit": "U/L", "uln": "-5"}, "SYN-N2"),
        ],
    )
    words = {p["Row"]: p["Expected"] for p in _problems(run)}
    assert words["2"] == words["3"] and "is negative" in words["3"]


def test_cells_of_a_row_that_cannot_be_placed_are_not_reported_as_its_columns(tmp_path):
    """Under a header repeated in another column order, a row's cells stand under other
    columns: the row is reported as not screened, never its ULN as a unit or a unit as a
    ULN (a reviewer saw `40` reported as a unit)."""
    path = tmp_path / "candidates.csv"
    path.write_text(
        "participant,labs.alt.value,labs.alt.unit,labs.alt.uln\n"
        "SYN-1,,U/L,40\n"
        "participant,labs.alt.value,labs.alt.uln,labs.alt.unit\n"
        "SYN-7,,40,U/L\n"
    )
    run = prescreen(path, as_of=dt.date.fromisoformat(AS_OF))
    assert [(p["Row"], p["Column"]) for p in _problems(run)] == [("3", ""), ("4", "")]
    assert "cannot be placed" in _problems(run)[1]["Expected"]
