"""The shortcuts that make pre-screening fast give the answers of the slow path (issue 15).

- creatinine's eGFR decided over whole columns: equal to ``screen`` at and around the EX24
  threshold, in both units, for both sexes and across ages (the boundary creatinine is found
  here by bisecting the published CKD-EPI 2021 equation, typed from the paper, not read from
  study.yaml);
- ages counted over whole columns: equal to the record's own count (dateutil), 29 February
  included;
- reasons built when asked for: only the rows asked for, each once;
- IDs read in bulk: only text the ID field itself keeps unchanged;
- the workbook written as its own XML: read back by openpyxl as written.

Every table here is SYNTHETIC.
"""

from __future__ import annotations

import calendar
import datetime as dt
import io
import re

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prescreen.columns import Mapping, fields, read_cell
from prescreen.engine import Reasons, evaluate
from prescreen.outputs import xlsx_bytes
from prescreen.table import _plain_ids, ages_in_years, read_candidates
from protocol.participant import age_in_years
from tests.test_prescreen_equals_screen import AS_OF, _compare

# -- creatinine at the eGFR threshold ---------------------------------------------------------


def _ckd_epi_2021(scr_mg_dl: float, age: int, female: bool) -> float:
    """Inker et al., N Engl J Med 2021;385:1737 (race-free CKD-EPI creatinine equation)."""
    kappa, alpha = (0.7, -0.241) if female else (0.9, -0.302)
    ratio = scr_mg_dl / kappa
    return (
        142
        * min(ratio, 1) ** alpha
        * max(ratio, 1) ** -1.200
        * 0.9938**age
        * (1.012 if female else 1.0)
    )


def _creatinine_at(egfr: float, age: int, female: bool) -> float:
    """The creatinine (mg/dL) that gives ``egfr``: the equation falls as creatinine rises."""
    low, high = 0.01, 30.0
    for _ in range(200):
        middle = (low + high) / 2
        if _ckd_epi_2021(middle, age, female) > egfr:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def _born(age: int, extra_days: int = 0) -> str:
    """A birth date that makes the candidate ``age`` on AS_OF (``extra_days`` earlier)."""
    return str(dt.date(AS_OF.year - age, AS_OF.month, AS_OF.day) - dt.timedelta(days=extra_days))


def _creatinine_table(rows: list[tuple[int, str, float, str]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "participant": [f"SYN-K{i:04d}" for i in range(len(rows))],
            "dates.birth": [_born(age, 100) for age, *_ in rows],
            "sex": [sex for _, sex, _, _ in rows],
            "labs.creatinine.value": [value for *_, value, _ in rows],
            "labs.creatinine.unit": [unit for *_, unit in rows],
        }
    ).astype(object)


@pytest.mark.parametrize("unit", ["mg/dL", "µmol/L"])
def test_creatinine_at_and_around_the_egfr_threshold_decides_as_screen(unit):
    rows = []
    for age in (18, 30, 45, 60, 75, 90):
        for sex in ("female", "male"):
            at = _creatinine_at(40.0, age, sex == "female")
            for step in (-1e-3, -1e-7, -1e-10, 0.0, 1e-10, 1e-7, 1e-3):
                value = at * (1 + step) * (88.4 if unit == "µmol/L" else 1)
                rows.append((age, sex, value, unit))
    frame = _creatinine_table(rows)
    compared_rows, compared = _compare(frame)
    assert compared_rows == len(rows) and compared >= len(rows) * 37
    # and, from the equation alone, the clear cases: 0.1% more creatinine is below 40
    evaluation = evaluate(read_candidates(frame, Mapping(), "synthetic", AS_OF), as_of=AS_OF)
    status = evaluation.criteria["EX24"].status
    for i, (_, _, _, _) in enumerate(rows):
        step = (-1e-3, -1e-7, -1e-10, 0.0, 1e-10, 1e-7, 1e-3)[i % 7]
        if step == 1e-3:
            assert status[i] == "fail"
        if step == -1e-3:
            assert status[i] != "fail"  # the other analytes are not recorded: unknown


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(18, 100),
            st.sampled_from(["female", "male"]),
            st.floats(-0.05, 0.05),
            st.sampled_from(["mg/dL", "µmol/L"]),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_creatinine_near_the_threshold_decides_as_screen_for_drawn_candidates(drawn):
    rows = [
        (
            age,
            sex,
            _creatinine_at(40.0, age, sex == "female")
            * (1 + step)
            * (88.4 if unit == "µmol/L" else 1),
            unit,
        )
        for age, sex, step, unit in drawn
    ]
    _compare(_creatinine_table(rows))


# -- ages over whole columns ------------------------------------------------------------------

_DATES = st.one_of(
    st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)),
    st.sampled_from([y for y in range(1904, 2097, 4) if calendar.isleap(y)]).map(
        lambda y: dt.date(y, 2, 29)
    ),
    st.integers(1900, 2100).map(lambda y: dt.date(y, 2, 28)),
    st.integers(1900, 2100).map(lambda y: dt.date(y, 3, 1)),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_DATES, _DATES), min_size=1, max_size=20))
def test_ages_over_columns_count_as_the_record_counts(pairs):
    pairs = [(min(a, b), max(a, b)) for a, b in pairs]
    births = np.array([b for b, _ in pairs], dtype=object)
    ons = np.array([o for _, o in pairs], dtype=object)
    expected = [age_in_years(b, o) for b, o in pairs]
    assert ages_in_years(births, ons).tolist() == expected


def test_a_29_february_birthday_is_reached_on_28_february():
    births = np.array([dt.date(2000, 2, 29)] * 3, dtype=object)
    ons = np.array([dt.date(2018, 2, 27), dt.date(2018, 2, 28), dt.date(2020, 2, 28)], dtype=object)
    assert ages_in_years(births, ons).tolist() == [17, 18, 19]


# -- reasons when asked -----------------------------------------------------------------------


def test_reasons_are_built_only_for_the_rows_asked_and_once():
    asked: list[list[int]] = []

    def build(positions: np.ndarray) -> list[str]:
        asked.append(positions.tolist())
        return [f"row {p}" for p in positions]

    reasons = Reasons(6, build)
    assert reasons[np.array([False, True, False, True, False, False])].tolist() == [
        "row 1",
        "row 3",
    ]
    assert reasons[3] == "row 3"
    assert reasons[np.array([0, 1])].tolist() == ["row 0", "row 1"]
    assert asked == [[1, 3], [0]]
    taken = reasons.taken(np.array([5, 1]))
    assert taken[np.array([0, 1])].tolist() == ["row 5", "row 1"]
    whole = Reasons.scattered(6, [(np.array([4, 2]), Reasons.of(["four", "two"]))], default="none")
    assert whole[np.arange(6)].tolist() == ["none", "none", "two", "none", "four", "none"]


# -- IDs read in bulk -------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(max_size=45),
            st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,45}", fullmatch=True),
            st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,10}\n", fullmatch=True),
        ),
        min_size=1,
        max_size=10,
    )
)
def test_ids_taken_in_bulk_are_exactly_what_the_id_field_keeps(texts):
    plain = _plain_ids(pd.Series(texts, dtype=object))
    spec = fields()["participant"]
    for text, taken in zip(texts, plain, strict=True):
        try:
            kept = read_cell(spec, text)
        except ValueError:
            kept = None
        if taken:  # the rest are read one by one by the field itself
            assert kept == text


# -- the workbook -----------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.text(max_size=30), st.integers(0, 10**9), st.one_of(st.none(), st.text())),
        min_size=0,
        max_size=8,
    )
)
def test_the_workbook_reads_back_as_written(rows):
    import openpyxl

    frame = pd.DataFrame(rows, columns=["Candidate", "Table row", "Reason"])
    frame["Table row"] = frame["Table row"].astype(int)
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(frame, "Worklist")))
    sheet = workbook["Worklist"]
    assert sheet.freeze_panes == "A2"
    found = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert found[0] == ["Candidate", "Table row", "Reason"]

    def kept(text: str | None) -> str | None:
        # characters XML 1.0 cannot hold are shown as the replacement character, and an XML
        # reader reads a carriage return as a line feed
        if text is None:
            return None
        text = re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "\ufffd", text)
        return text.replace("\r\n", "\n").replace("\r", "\n")

    for (candidate, row, reason), cells in zip(rows, found[1:], strict=True):
        assert cells == [kept(candidate), row, kept(reason)]
    assert xlsx_bytes(frame, "Worklist") == xlsx_bytes(frame, "Worklist")


def test_the_workbook_streamed_in_chunks_reads_as_one(monkeypatch):
    import openpyxl

    from prescreen import outputs

    frame = pd.DataFrame({"Candidate": [f"SYN-{i}" for i in range(23)], "Row": list(range(23))})
    whole = outputs.xlsx_bytes(frame, "Worklist")
    monkeypatch.setattr(outputs, "XLSX_CHUNK", 5)
    chunked = outputs.xlsx_bytes(frame, "Worklist")

    def cells(data):
        sheet = openpyxl.load_workbook(io.BytesIO(data))["Worklist"]
        return [[c.value for c in row] for row in sheet.iter_rows()]

    assert (
        cells(chunked)
        == cells(whole)
        == [["Candidate", "Row"]] + [[f"SYN-{i}", i] for i in range(23)]
    )


def _lab_rows():
    """Every thresholded analyte (creatinine aside) at, just below and just above its threshold,
    in each unit study.yaml accepts for it; ALT, AST and bilirubin against a ULN of 40."""
    from protocol.labs import get_analyte, read_analyte_unit
    from protocol.study import load_study
    from protocol.units import ureg

    rows = []
    for entry in load_study().lab_analytes:
        analyte = get_analyte(entry.name)
        if (
            analyte.computes
            or analyte.threshold is None
            or f"labs.{entry.name}.value" not in fields()
        ):
            continue  # creatinine has its own test; FVC and DLCO are lung function, not labs
        limit = analyte.threshold_magnitude
        for unit in entry.accepted_units:
            for step in (-1e-3, -1e-7, 0.0, 1e-7, 1e-3):
                if analyte.relative_to_uln:
                    value, uln = limit * 40 * (1 + step), 40.0
                else:
                    quantity = ureg.Quantity(limit * (1 + step), analyte.protocol_unit)
                    one = read_analyte_unit(analyte, unit)  # one of the unit, as screen reads it
                    value = float(
                        analyte.convert(quantity, analyte.value_unit).magnitude
                        / analyte.convert(one, analyte.value_unit).magnitude
                    )
                    uln = None
                rows.append((entry.name, value, unit, uln))
    return rows


def test_every_lab_at_and_around_its_threshold_in_every_unit_decides_as_screen():
    rows = _lab_rows()
    frame = pd.DataFrame(
        {"participant": [f"SYN-L{i:04d}" for i in range(len(rows))]}
        | {
            f"labs.{name}.{part}": [
                (value if part == "value" else unit if part == "unit" else uln)
                if row_name == name
                else None
                for row_name, value, unit, uln in rows
            ]
            for name in sorted({r[0] for r in rows})
            for part in ("value", "unit", "uln")
        }
    ).astype(object)
    frame = frame.where(frame.notna(), None)
    compared_rows, compared = _compare(frame)
    assert compared_rows == len(rows) and compared > 0


def test_creatinine_without_a_sex_or_under_18_decides_as_screen():
    # between the two sexes' thresholds the status depends on the sex (open); beyond both it
    # does not; under 18 a reported eGFR is needed whatever the value
    rows = []
    for age in (16, 17, 18, 40, 75):
        low = _creatinine_at(40.0, age, True)
        high = _creatinine_at(40.0, age, False)
        for value in (low * 0.9, low, (low + high) / 2, high, high * 1.1):
            for unit, factor in (("mg/dL", 1), ("µmol/L", 88.4)):
                rows.append((age, None, value * factor, unit))
    frame = _creatinine_table(rows)
    frame = frame.where(frame.notna(), None)
    compared_rows, compared = _compare(frame)
    assert compared_rows == len(rows) and compared >= len(rows) * 37
    evaluation = evaluate(read_candidates(frame, Mapping(), "synthetic", AS_OF), as_of=AS_OF)
    missing = evaluation.criteria["EX24"].missing
    assert any("sex" in m for m in missing) and any("labs.egfr" in m for m in missing)
