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
import zlib

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from prescreen.columns import Mapping, fields, read_cell
from prescreen.engine import _AREAS, CodedTexts, Reasons, evaluate
from prescreen.outputs import xlsx_bytes
from prescreen.table import _plain_ids, ages_in_years, as_days, read_candidates
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
            # as a laboratory writes it: 12 significant digits at most (more are refused)
            "labs.creatinine.value": [
                None if value is None else float(f"{value:.12g}") for *_, value, _ in rows
            ],
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
    # and, from the equation alone, the clear cases: 0.1% more creatinine is below 40 at the
    # age, and the eGFR is read at the nearest age IN01 admits (70 for 75 and 90)
    evaluation = evaluate(read_candidates(frame, Mapping(), "synthetic", AS_OF), as_of=AS_OF)
    status = evaluation.criteria["EX24"].status
    for i, (age, sex, value, _) in enumerate(rows):
        step = (-1e-3, -1e-7, -1e-10, 0.0, 1e-10, 1e-7, 1e-3)[i % 7]
        mg_dl = value / (88.4 if unit == "µmol/L" else 1)
        read_at = _ckd_epi_2021(mg_dl, min(age, 70), sex == "female")
        if abs(step) == 1e-3:  # clearly on one side where it is read
            # the other analytes are not recorded: unknown unless the kidneys fail
            assert (status[i] == "fail") == (read_at < 40), (age, sex, step, read_at)


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


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 6), max_size=40))
def test_each_groups_first_row_is_where_its_number_first_appears(values):
    from prescreen.engine import first_rows

    group, _ = pd.factorize(np.array(values, dtype=np.int64))
    expected = [values.index(v) for v in dict.fromkeys(values)]  # by hand: first of each
    assert first_rows(group).tolist() == expected


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 70), st.integers(0, 12), st.data())
def test_rows_are_numbered_by_their_pattern_of_chosen_criteria(lines, rows, data):
    """Rows with the same criteria chosen share a number (in order of first appearance) and
    its pattern; up to 64 criteria as one integer's bits, more as packed bytes."""
    from prescreen.engine import column_patterns

    cells = data.draw(st.lists(st.booleans(), min_size=lines * rows, max_size=lines * rows))
    chosen = np.array(cells, dtype=bool).reshape(lines, rows)
    codes, patterns = column_patterns(chosen)
    columns = [tuple(chosen[:, j].tolist()) for j in range(rows)]
    expected, distinct = _first_appearance(columns)
    assert codes.tolist() == expected
    assert [tuple(p.tolist()) for p in patterns] == distinct


def _first_appearance(texts: list[str]) -> tuple[list[int], list[str]]:
    """Each text's number among the distinct texts in order of first appearance, by hand."""
    numbers: dict[str, int] = {}
    return [numbers.setdefault(t, len(numbers)) for t in texts], list(numbers)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "c", "", "a "]), min_size=1, max_size=25), st.data())
def test_coded_reasons_are_each_distinct_text_once_in_order_of_appearance(texts, data):
    size = len(texts)
    positions = np.array(data.draw(st.lists(st.integers(0, size - 1), max_size=40)), dtype=int)
    expected = _first_appearance([texts[p] for p in positions])

    def per_position(asked: np.ndarray) -> list[str]:
        return [texts[p] for p in asked]

    repeated = texts + texts  # a table repeating every text, with texts no position shows

    def coded(asked: np.ndarray) -> CodedTexts:
        return CodedTexts(asked + size * (asked % 2), repeated)

    split = data.draw(st.integers(0, size))
    order = np.array(data.draw(st.permutations(range(size))), dtype=int)
    first, second = order[:split], order[split:]
    scattered = Reasons.scattered(
        size,
        [(first, Reasons(len(first), lambda a: [texts[p] for p in first[a]])),
         (second, Reasons(size, coded).taken(second))],
    )  # fmt: skip
    for reasons in (Reasons(size, per_position), Reasons(size, coded), scattered):
        codes, distinct = reasons.coded(positions)
        assert (codes.tolist(), distinct) == expected
        assert reasons[positions].tolist() == [texts[p] for p in positions]
        codes, distinct = reasons.coded(positions)  # the texts built already: the same answer
        assert (codes.tolist(), distinct) == expected


# -- IDs read in bulk -------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(max_size=45),
            st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,45}", fullmatch=True),
            st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,10}\n", fullmatch=True),
            st.none(),
        ),
        min_size=1,
        max_size=10,
    )
)
def test_ids_taken_in_bulk_are_exactly_what_the_id_field_keeps(texts):
    spec = fields()["participant"]
    # a column of Python objects and one of pandas' text type (held in Arrow, matched by its
    # RE2), whole and in two pieces (as pandas joins columns)
    pieces = pd.concat(
        [pd.Series(texts[:1], dtype="str"), pd.Series(texts[1:], dtype="str")], ignore_index=True
    )
    for column in (pd.Series(texts, dtype=object), pd.Series(texts, dtype="str"), pieces):
        plain = _plain_ids(column)
        for text, taken in zip(texts, plain, strict=True):
            if text is None:  # a missing ID is never taken
                assert not taken
                continue
            try:
                kept = read_cell(spec, text)
            except ValueError:
                kept = None
            # the rest are read one by one by the field itself; the pattern's own IDs are
            # taken in bulk (the fast path is not merely never taken)
            assert bool(taken) == (kept == text)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.text(max_size=25),
            st.from_regex(r"\s*\+?[0-9][0-9 ().\-]{0,16}[0-9Xx]\s*", fullmatch=True),
            st.from_regex(r"[^@\s]{1,8}@[^@\s]{1,8}\.[A-Za-z]{2,4}\s*", fullmatch=True),
            st.dates().map(str),
        ),
        min_size=1,
        max_size=8,
    )
)
def test_identifying_cells_are_found_as_each_text_alone_finds_them(texts):
    # the column check narrows the texts in Arrow first; it must never drop one that
    # identifying_text finds identifying (Unicode spaces around a phone number included)
    from prescreen.columns import identifier_cells, identifying_text

    expected = any(identifying_text(t) for t in texts)
    assert identifier_cells(pd.Series(texts, dtype=object)) == expected
    assert identifier_cells(pd.Series(texts, dtype="str")) == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.dates(), min_size=1, max_size=20))
def test_dates_taken_apart_over_columns_as_python_does(dates):
    from prescreen.table import ymd

    days = np.array([np.datetime64(d, "D") for d in dates])
    year, month, day = ymd(days)
    assert list(zip(year.tolist(), month.tolist(), day.tolist(), strict=True)) == [
        (d.year, d.month, d.day) for d in dates
    ]


# -- the workbook -----------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.text(max_size=30), st.integers(0, 10**9), st.one_of(st.none(), st.text())),
        min_size=0,
        max_size=8,
    ),
    st.sampled_from([object, "category"]),
)
def test_the_workbook_reads_back_as_written(rows, text_dtype):
    import openpyxl

    # openpyxl deletes every "x005F_" it reads, escape or not: such texts are read back as
    # ECMA-376 decodes them in test_text_shaped_like_the_workbooks_own_escape_reads_back_...
    assume(not any("x005F_" in (text or "") for row in rows for text in (row[0], row[2])))
    frame = pd.DataFrame(rows, columns=["Candidate", "Table row", "Reason"])
    frame["Table row"] = frame["Table row"].astype(int)
    for name in ("Candidate", "Reason"):  # a categorical's distinct texts go to the table once
        frame[name] = frame[name].astype(text_dtype)
    workbook = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(frame, "Worklist")))
    sheet = workbook["Worklist"]
    assert sheet.freeze_panes == "A2"
    found = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert found[0] == ["Candidate", "Table row", "Reason"]

    def kept(text: str | None) -> str | None:
        # characters XML 1.0 cannot hold are shown as the replacement character (a carriage
        # return is written as a character reference, so it is kept)
        if text is None:
            return None
        return re.sub("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]", "\ufffd", text)

    for (candidate, row, reason), cells in zip(rows, found[1:], strict=True):
        assert cells == [kept(candidate), row, kept(reason)]
    assert xlsx_bytes(frame, "Worklist") == xlsx_bytes(frame, "Worklist")


def test_the_workbook_is_deflated_by_isal_and_every_entry_inflates_to_its_crc():
    """ISA-L's deflate takes zipfile's place on this Python, and zlib's inflate reads every
    entry of a workbook back with the CRC zipfile wrote."""
    import zipfile

    from prescreen.outputs import _deflating

    with zipfile.ZipFile(io.BytesIO(), "w") as target, _deflating(target, "x.xml") as stream:
        assert type(stream._compressor).__module__.startswith("isal")
    # a coded column (its texts shared) and a column of plain text (each written in its cell)
    reasons = [f"EX07: FVC {i} % < 50 % predicted" for i in range(300)]
    frame = pd.DataFrame(
        {"Candidate": [f"SYN-{i} <x>" for i in range(300)], "Reason": pd.Categorical(reasons)}
    )
    data = xlsx_bytes(frame, "W")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        assert archive.testzip() is None
        expected = {
            "xl/worksheets/sheet1.xml": b'<t xml:space="preserve">SYN-299 &lt;x&gt;</t>',
            "xl/sharedStrings.xml": b"EX07: FVC 299 % &lt; 50 % predicted",
        }
        for name, text in expected.items():
            assert archive.getinfo(name).compress_type == zipfile.ZIP_DEFLATED
            xml = archive.read(name)
            assert zlib.crc32(xml) == archive.getinfo(name).CRC
            assert text in xml


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


def _lab_table(rows: list[tuple[str, float, str, float | None]]) -> pd.DataFrame:
    """One candidate per (analyte, value, unit, ULN) row, that analyte's cells alone filled."""
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
    return frame.where(frame.notna(), None)


def test_every_lab_at_and_around_its_threshold_in_every_unit_decides_as_screen():
    rows = _lab_rows()
    frame = _lab_table(rows)
    compared_rows, compared = _compare(frame)
    assert compared_rows == len(rows) and compared > 0


def test_creatinine_without_a_sex_or_under_18_decides_as_screen():
    # between the two sexes' thresholds the status depends on the sex (open); beyond both it
    # does not; under 18 (and over 70) the eGFR is read at the nearest age IN01 admits, so no
    # reported eGFR is asked for (IN01 excludes such an age whatever the kidneys)
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
    assert any("sex" in m for m in missing) and not any("labs.egfr" in m for m in missing)


# -- coarse groups: the status once per group of what it depends on --------------------------


def _add_months(day: dt.date, months: int) -> dt.date:
    """``day`` plus whole months, a month end clamped (typed here from the calendar, not from
    dateutil or the engine): 31 August plus 18 months is 28 February, or 29 in a leap year."""
    total = day.year * 12 + day.month - 1 + months
    year, month = divmod(total, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def test_disease_duration_at_each_limit_decides_as_screen_for_every_month_end():
    # IN04 (at most 18 months) and EX02 (more than 36 months excludes) group candidates by the
    # side of first manifestation + the limit the screening date falls on: a day either side
    # of that date, and the date itself, for first manifestations on every month end (the 28th
    # to the 31st and the 1st) of 2021 to 2023, 29 February 2024 included, against screen; and
    # the end of August 1998, whose 18 months end on 29 February 2000 (a century year that is a
    # leap year, every 400 years)
    firsts = [
        dt.date(year, month, day)
        for year in (2021, 2022, 2023)
        for month in range(1, 13)
        for day in (1, 28, 29, 30, 31)
        if day <= calendar.monthrange(year, month)[1]
    ] + [dt.date(2024, 2, 29), *(dt.date(1998, 8, day) for day in (28, 29, 30, 31))]
    rows = []
    for first in firsts:
        for months in (18, 36):
            boundary = _add_months(first, months)
            for offset in (-1, 0, 1):
                screening = boundary + dt.timedelta(days=offset)
                if screening <= AS_OF:
                    rows.append((first, screening))
    frame = pd.DataFrame(
        {
            "participant": [f"SYN-D{i:04d}" for i in range(len(rows))],
            "dates.birth": ["1980-06-15"] * len(rows),
            "ssc.first_non_raynaud_manifestation": [str(f) for f, _ in rows],
            "dates.screening": [str(s) for _, s in rows],
        }
    ).astype(object)
    compared_rows, compared = _compare(frame)
    assert compared_rows == len(rows) > 600 and compared == len(rows) * 37
    # and the verdicts themselves, from the calendar: the limit's own day is within for IN04
    # (at most 18 months) and not excluded by EX02 (more than 3 years)
    evaluation = evaluate(read_candidates(frame, Mapping(), "synthetic", AS_OF), as_of=AS_OF)
    in04 = evaluation.criteria["IN04"].status
    ex02 = evaluation.criteria["EX02"].status
    for i, (first, screening) in enumerate(rows):
        assert in04[i] == ("pass" if screening <= _add_months(first, 18) else "fail"), i
        assert ex02[i] == ("pass" if screening <= _add_months(first, 36) else "fail"), i


def test_disease_duration_without_a_first_manifestation_groups_by_what_bounds_it():
    # no first manifestation: the birth date bounds it (or nothing does); candidates born on
    # different days share a group only when the rule reads them alike
    # a recent birth first (the first date a column numbers), and births that reach the limit
    # on one day by month-end clamping (31, 30 and 29 August + 18 months = 28 February)
    births = [
        "2025-05-26", "1990-01-31", "2000-08-31", "2024-12-31", "2025-02-28", None,
        "2023-08-31", "2023-08-30", "2023-08-29",
    ]  # fmt: skip
    screenings = ["2026-06-30", "2026-08-31", "2026-11-26", "2025-02-28"]
    rows = [(b, s) for b in births for s in screenings]
    frame = pd.DataFrame(
        {
            "participant": [f"SYN-B{i:03d}" for i in range(len(rows))],
            "dates.birth": [b for b, _ in rows],
            "dates.screening": [s for _, s in rows],
        }
    ).astype(object)
    compared_rows, compared = _compare(frame)
    # a birth after the screening date is refused (by screen too), the rest compared
    screened = [(b, s) for b, s in rows if b is None or b <= s]
    assert compared_rows == len(rows) and compared == len(screened) * 37


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.fixed_dictionaries(
            {
                path: st.sampled_from([True, False, None])
                for path in fields()
                if path.startswith("ssc.acr_eular.")
            }
        ),
        min_size=2,
        max_size=30,
    )
)
def test_classification_items_group_as_screen_scores_them(drawn):
    # IN02's status is found once per group of the range's sides, the flags and the items left
    # unrecorded where they decide: any two candidates in one group get screen's one answer
    frame = pd.DataFrame(drawn).astype(object)
    frame.insert(0, "participant", [f"SYN-A{i:03d}" for i in range(len(drawn))])
    _compare(frame.where(frame.notna(), None))


# the dates a table gives besides the birth date, from the earliest a record takes: a first
# manifestation 71 years before screening makes the youngest possible age over 70 (IN01 fails
# whatever the birth date), one under 18 years leaves it open; both kinds in one table
_EARLY_OR_RECENT = st.one_of(
    st.dates(dt.date(1900, 1, 1), dt.date(1960, 12, 31)),
    st.dates(dt.date(1950, 1, 1), AS_OF),
    # around 71 years before the default screening date: the youngest possible age 70 or 71;
    # around 18 years: 17 or 18, the eGFR equation's minimum age
    st.integers(-2, 2).map(lambda d: AS_OF.replace(year=AS_OF.year - 71) + dt.timedelta(d)),
    st.integers(-2, 2).map(lambda d: AS_OF.replace(year=AS_OF.year - 18) + dt.timedelta(d)),
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(
            _EARLY_OR_RECENT,
            st.one_of(st.none(), st.dates(dt.date(1990, 1, 1), AS_OF)),
            st.one_of(st.none(), st.sampled_from([0.6, 1.1, 4.0])),
            st.sampled_from(["female", "male", None]),
        ),
        min_size=2,
        max_size=8,
    )
)
def test_without_a_birth_date_the_ages_the_dates_allow_decide_as_screen(drawn):
    # IN01 and creatinine's eGFR read, without a birth date, the youngest and oldest ages the
    # other dates allow; rows are grouped by which side of the age range each falls (a row
    # under 18 and one over 70 must never share a group)
    frame = pd.DataFrame(
        {
            "participant": [f"SYN-Y{i:03d}" for i in range(len(drawn))],
            "ssc.first_non_raynaud_manifestation": [first.isoformat() for first, *_ in drawn],
            "dates.screening": [(screening or AS_OF).isoformat() for _, screening, _, _ in drawn],
            "labs.creatinine.value": [value for _, _, value, _ in drawn],
            "labs.creatinine.unit": ["mg/dL" if v is not None else None for _, _, v, _ in drawn],
            "sex": [sex for *_, sex in drawn],
        }
    ).astype(object)
    _compare(frame.where(frame.notna(), None))


def test_a_first_manifestation_71_years_back_fails_the_age_without_a_birth_date():
    # the boundary by hand: born on or before a first manifestation 71 years to the day before
    # screening, a candidate is at least 71 there (fails 18-70); a day later, 70 is possible
    on = dt.date(2026, 6, 15)
    firsts = [dt.date(1955, 6, 15), dt.date(1955, 6, 16), dt.date(2020, 1, 1)]
    frame = pd.DataFrame(
        {
            "participant": ["SYN-Z001", "SYN-Z002", "SYN-Z003"],
            "ssc.first_non_raynaud_manifestation": [d.isoformat() for d in firsts],
            "dates.screening": [on.isoformat()] * 3,
        }
    ).astype(object)
    candidates = read_candidates(frame, Mapping(), "synthetic", AS_OF)
    status = list(evaluate(candidates, as_of=AS_OF).criteria["IN01"].status)
    assert status == ["fail", "unknown", "unknown"]
    _compare(frame)


@pytest.mark.parametrize("unit", ["mg/dL", "umol/L", "mmol/L", "g/L"])
def test_creatinine_without_a_birth_date_groups_as_screen_reads_it(unit):
    # without a birth date the part is open whatever a readable value is (the youngest age the
    # dates allow is under 18), so such candidates share a group; a value screen refuses (out of
    # its plausible range, a unit it does not read) is refused row by row, not by its group
    values = [0.001, 0.05, 0.6, 1.1, 4.0, 62.0, 150.0, 900.0, 5000.0, 1e6]
    rows = [(v, sex) for v in values for sex in ("female", "male", None)]
    frame = pd.DataFrame(
        {
            "participant": [f"SYN-N{i:03d}" for i in range(len(rows))],
            "sex": [sex for _, sex in rows],
            "ssc.first_non_raynaud_manifestation": ["2026-09-01"] * len(rows),
            "labs.creatinine.value": [v for v, _ in rows],
            "labs.creatinine.unit": [unit] * len(rows),
        }
    ).astype(object)
    compared_rows, _ = _compare(frame)
    assert compared_rows == len(rows)


def test_skin_areas_group_as_the_subset_names_them():
    # IN03 and EX01 find the LeRoy subset once per group of what it depends on; the reason names
    # the involved proximal areas (diffuse) or distal ones (limited: no proximal area, the back
    # not thickened), so candidates that differ only in those areas need their own reasons
    from prescreen.engine import _AREAS

    rng = np.random.default_rng(3)
    size = 400
    table = {"participant": [f"SYN-L{i:03d}" for i in range(size)]}
    proximal_share = rng.choice([0.0, 0.3], size)  # half the candidates: no proximal area
    for area in _AREAS:
        is_distal = area.endswith(("fingers", "hand", "forearm", "foot", "leg", "face"))
        share = 0.5 if is_distal else proximal_share
        table[area] = np.where(rng.random(size) < share, rng.integers(1, 4, size), 0)
    table["ssc.back_skin_thickening"] = rng.choice([True, False, None], size)
    frame = pd.DataFrame(table).astype(object)
    compared_rows, compared = _compare(frame)
    assert compared_rows == size and compared == size * 37
    reasons = evaluate(read_candidates(frame, Mapping(), "synthetic", AS_OF), as_of=AS_OF)
    texts = set(reasons.criteria["EX01"].reason[:])
    assert any(t.startswith("LeRoy subset: limited (distal involvement only (") for t in texts)
    assert any(t.startswith("LeRoy subset: diffuse (proximal involvement (") for t in texts)


# -- the CSV written column by column ---------------------------------------------------------

_CSV_TEXT = st.one_of(
    st.none(),
    st.text(alphabet=st.sampled_from(list("ab ,\"\n\r=+-@'中1.")), max_size=8),
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(_CSV_TEXT, st.integers(-5, 10**6), _CSV_TEXT), min_size=0, max_size=12),
    st.sampled_from([object, "string", "category"]),
)
def test_the_csv_is_what_the_csv_module_writes_with_formulas_kept_as_text(rows, text_dtype):
    import csv

    from prescreen.outputs import csv_bytes

    frame = pd.DataFrame(rows, columns=["Reason", "Table row", "Found"])
    frame["Table row"] = frame["Table row"].astype(int)
    for name in ("Reason", "Found"):
        frame[name] = frame[name].astype(text_dtype)

    # the oracle: Python's csv module, fed each text with a formula's first character escaped
    # (whatever dtype pandas gave the column: the writer once skipped its "string" columns;
    # a categorical column, as the worklist's are, is written from its distinct texts)
    def as_text(value: str | None) -> str:
        return "" if value is None else ("'" + value if value.startswith(tuple("=+-@")) else value)

    fields = [list(frame.columns)] + [[as_text(r), str(n), as_text(f)] for r, n, f in rows]
    written = csv_bytes(frame)
    assert written.startswith("\ufeff".encode())
    got = written.decode("utf-8")[1:]
    # read back by the csv module: every field as it was, a formula's first character escaped
    assert list(csv.reader(io.StringIO(got, newline=""))) == fields
    # and byte for byte what the csv module writes, except that a lone carriage return is
    # quoted here (CPython 3.11 leaves it bare, and a spreadsheet then breaks the row)
    expected = io.StringIO()
    csv.writer(expected, lineterminator="\n").writerows(fields)
    if not any("\r" in field for row in fields for field in row):
        assert got == expected.getvalue()


def test_an_mrss_total_with_areas_graded_or_not_groups_as_screen_words_it():
    # a recorded total decides IN05 whether no area or some areas are graded, but its reason
    # says which: the two once shared a reason group (found by an independent review)
    from prescreen.engine import _AREAS

    rows = []
    for total in (3, 9, 10, 11, 25):
        rows.append({"ssc.mrss.total": total})  # no area graded
        rows.append({"ssc.mrss.total": total, _AREAS[0]: 0})  # one graded, 16 not
        rows.append({"ssc.mrss.total": total, _AREAS[0]: 1, _AREAS[5]: 1})
    for grades in ((1,) * 17, (0,) * 16 + (3,), (3,) * 3):  # every area, or three, graded
        rows.append(dict(zip(_AREAS, grades, strict=False)))
    frame = pd.DataFrame(rows).astype(object)
    frame = frame.where(frame.notna(), None)
    frame.insert(0, "participant", [f"SYN-M{i:03d}" for i in range(len(rows))])
    compared_rows, compared = _compare(frame)
    assert compared_rows == len(rows) and compared == len(rows) * 37


def test_a_reason_for_a_row_the_rule_refuses_is_an_internal_error_not_a_reason():
    # reasons of rows decided by a shortcut are built after the refused rows are set aside; a
    # refused value there means a shortcut decided what screen refuses: never written as a reason
    from prescreen.engine import _run_grouped
    from protocol.errors import InternalError
    from protocol.study import load_study

    frame = pd.DataFrame(
        {
            "participant": ["SYN-R01"],
            "labs.hemoglobin.value": [5000.0],  # beyond the plausible range: screen refuses it
            "labs.hemoglobin.unit": ["g/L"],
        }
    ).astype(object)
    candidates = read_candidates(frame, Mapping(), "synthetic", AS_OF)
    paths = tuple(f"labs.hemoglobin.{part}" for part in ("value", "unit", "uln", "uln_unit"))
    rows = np.array([0])
    study = load_study()
    _run_grouped(candidates, rows, paths, lambda ctx: ctx.lab("hemoglobin"), study)
    assert candidates.errors  # found while screening: the row is refused, as screen refuses it
    with pytest.raises(InternalError, match="shortcut decided a row that screen refuses"):
        _run_grouped(
            candidates, rows, paths, lambda ctx: ctx.lab("hemoglobin"), study, explaining=True
        )


def test_the_missing_items_of_each_row_are_its_open_criteria_items_in_order():
    # the outcomes group rows by their open criteria's missing items and write each group once;
    # here each row's list is built the slow way, criterion by criterion, from the evaluation
    from prescreen.outputs import NEEDS_REVIEW, in_table, outcomes
    from prescreen.synthetic import candidates as synthetic

    evaluation = evaluate(
        read_candidates(synthetic(600, 21, AS_OF, missing=0.2), Mapping(), "synthetic", AS_OF),
        as_of=AS_OF,
    )
    table = outcomes(evaluation)
    column_of = evaluation.candidates.column_of
    checked = 0
    for i in np.flatnonzero(table["outcome"].to_numpy() == NEEDS_REVIEW):
        items: list[str] = []
        for column in evaluation.criteria.values():
            missing = tuple(column.missing[i])
            if column.status[i] == "unknown" and (not missing or any(map(in_table, missing))):
                items += [m for m in missing if m not in items]
        # what the site can give: items a table holds, a group left out where a part of it
        # is missing too, each column once; the count is of what is shown
        asked = [m for m in items if in_table(m)]
        asked = [m for m in asked if not any(o.startswith(m + ".") for o in asked)]
        # an eGFR is asked for with the creatinine that would complete it
        either = {"labs.egfr": "labs.creatinine"}
        words = list(
            dict.fromkeys(
                f"{column_of(m)} or {column_of(either[m])}" if m in either else column_of(m)
                for m in asked
            )
        )
        assert table["missing_count"].iloc[i] == len(words), i
        assert table["missing"].iloc[i] == "; ".join(words), i
        checked += 1
    assert checked > 100


def test_each_rows_outcome_and_reason_are_what_screen_says_of_the_record():
    # the outcomes number each criterion's reasons and join each distinct combination once;
    # here every row's outcome, criteria and reason are derived from screen's own result for
    # the record, criterion by criterion
    from prescreen.engine import _nested
    from prescreen.outputs import EXCLUDED, LIKELY_ELIGIBLE, NEEDS_REVIEW, in_table, outcomes
    from prescreen.synthetic import candidates as synthetic
    from protocol.participant import ParticipantRecord
    from protocol.screening import screen

    candidates = read_candidates(synthetic(1000, 23, AS_OF), Mapping(), "synthetic", AS_OF)
    table = outcomes(evaluate(candidates, as_of=AS_OF))
    paths = candidates.fields()
    seen = set()
    for i in np.flatnonzero(~candidates.refused):
        data = _nested(paths, [candidates.column(p)[i] for p in paths])
        result = screen(ParticipantRecord.model_validate({**data, "participant": "X1"}))
        failing = [c for c in result.criteria if c.status == "fail"]
        open_ = [
            c
            for c in result.criteria
            if c.status == "unknown" and (not c.missing or any(map(in_table, c.missing)))
        ]
        row = table.iloc[i]
        if failing:
            expected = (EXCLUDED, failing[0].id, " ".join(c.id for c in failing), "")
            reason = f"{failing[0].id}: {failing[0].reason}"
        elif open_:
            expected = (NEEDS_REVIEW, "", "", " ".join(c.id for c in open_))
            reason = "; ".join(f"{c.id}: {c.reason}" for c in open_)
        else:
            expected = (LIKELY_ELIGIBLE, "", "", "")
            reason = "every criterion a table can decide passes"
        found = (row["outcome"], row["first_failing"], row["failing"], row["to_review"])
        assert found == expected, i
        assert row["reason"] == reason, i
        seen.add(row["outcome"])
    assert seen == {EXCLUDED, NEEDS_REVIEW, LIKELY_ELIGIBLE}


def test_each_rows_missing_group_holds_its_own_missing_fields():
    # the outputs number missing fields by the rule's groups where it ran per group; each
    # row's group must hold exactly that row's missing fields (refused rows included)
    from prescreen.synthetic import candidates as synthetic

    evaluation = evaluate(
        read_candidates(
            synthetic(800, 29, AS_OF, missing=0.3, hostile=True), Mapping(), "s", AS_OF
        ),
        as_of=AS_OF,
    )
    assert evaluation.candidates.refused.any()
    grouped = 0
    for column in evaluation.criteria.values():
        if column.missing_groups is None:
            continue
        codes, table = column.missing_groups
        assert [table[c] for c in codes.tolist()] == list(column.missing), column.id
        grouped += 1
    assert grouped >= 30


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.dates().map(str),  # years 1 to 9999: outside the record's years too
            st.dates().map(lambda d: f" {d}"),
            st.from_regex(r"[0-9]{4}-[0-9]{2}-[0-9]{2}\n?", fullmatch=True),  # 2025-02-30, ...
            st.from_regex(r"\d{4}-\d{2}-\d{2}", fullmatch=True),  # any digits, full-width ones
            st.text(max_size=12),
            # within and around the record's years, months 0-19 and days 0-39 (2025-02-30)
            st.builds(
                "{:04d}-{:02d}-{:02d}".format,
                st.integers(1890, 2110),
                st.integers(0, 19),
                st.integers(0, 39),
            ),
            # the record's first and last days and their neighbours; leap days; characters
            # next to the digits ("/" and ":") where a digit stands
            st.sampled_from(
                [
                    "1900-01-01",
                    "1899-12-31",
                    "2100-12-31",
                    "2101-01-01",
                    "2024-02-29",
                    "2023-02-29",
                    "2025-01-1/",
                    "2025-01-1:",
                    "2025-0:-01",
                    "/025-01-01",
                    "2025-01:01",
                    "2025:01-01",
                ]
            ),
            # a real date with any one character in place of one of its own (2025/01-02)
            st.builds(
                lambda day, at, other: str(day)[:at] + other + str(day)[at + 1 :],
                st.dates(dt.date(1899, 1, 1), dt.date(2101, 12, 31)),
                st.integers(0, 9),
                st.characters(),
            ),
        ),
        min_size=1,
        max_size=10,
    )
)
def test_dates_read_at_once_are_the_dates_the_field_reads(texts):
    from prescreen.table import _plain_dates

    spec = fields()["dates.birth"]
    taken = _plain_dates(texts)
    for code, text in enumerate(texts):
        try:
            kept = read_cell(spec, text)
        except ValueError:
            kept = None
        if code in taken:  # the rest go to the validator, which gives the words of a refusal
            assert taken[code] == kept
        elif re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            assert kept is None  # a plain text the fast path left is one the field refuses


# -- coded text columns -----------------------------------------------------------------------

_IDS = st.sampled_from(["", "EX01", "EX01 EX24", "IN04", "EX05"])


@settings(max_examples=80, deadline=None)
@given(st.lists(st.tuples(_IDS, _IDS), max_size=10), st.sampled_from([object, "category"]))
def test_the_screening_logs_codes_are_the_failing_criteria_else_those_to_review(pairs, dtype):
    from prescreen.outputs import _first_given

    failing = pd.Series([f for f, _ in pairs], dtype=object).astype(dtype)
    to_review = pd.Series([r for _, r in pairs], dtype=object).astype(dtype)
    got = _first_given(failing, to_review)
    assert [str(v) for v in got] == [f if f else r for f, r in pairs]


@settings(max_examples=80, deadline=None)
@given(st.lists(st.sampled_from(["a", "b", "", "a"]), min_size=1, max_size=6), st.data())
def test_a_coded_column_shows_each_rows_text_and_each_text_once(texts, data):
    from prescreen.outputs import _Coded

    codes = data.draw(st.lists(st.integers(0, len(texts) - 1), max_size=12))
    column = _Coded(np.array(codes, dtype=np.int64), texts).series()
    assert column.tolist() == [texts[c] for c in codes]
    categories = list(column.cat.categories)
    assert len(categories) == len(set(categories))  # the same words: one category
    assert set(categories) == {texts[c] for c in codes}  # none that no row shows


@settings(max_examples=150, deadline=None)
@given(
    st.integers(1, 4).flatmap(
        lambda lines: st.lists(
            st.lists(
                st.one_of(st.integers(-1, 3), st.sampled_from([2**15 - 1, 2**15, 2**31, 2**40])),
                min_size=lines,
                max_size=lines,
            ),
            max_size=12,
        ).map(lambda rows: np.array(rows, dtype=np.int64).reshape(-1, lines).T)
    )
)
def test_rows_grouped_by_their_codes_as_tuples_group_them(codes):
    """The oracle: each row's codes as a tuple, numbered in order of first appearance."""
    from prescreen.engine import grouped_by_codes

    group, count, (groups_at, lines_at, codes_at) = grouped_by_codes(codes)
    rows = [tuple(codes[:, i].tolist()) for i in range(codes.shape[1])]
    numbered = {row: k for k, row in enumerate(dict.fromkeys(rows))}
    assert group.tolist() == [numbered[row] for row in rows]
    assert count == len(numbered)
    expected = [
        (g, line, code)
        for g, row in enumerate(numbered)
        for line, code in enumerate(row)
        if code >= 0
    ]
    found = zip(groups_at.tolist(), lines_at.tolist(), codes_at.tolist(), strict=True)
    assert list(found) == expected


@settings(max_examples=150, deadline=None)
@given(st.lists(st.one_of(st.none(), st.text()), max_size=8), st.integers(0, 8), st.integers(0, 8))
def test_the_bytes_seen_in_texts_hold_every_byte_of_every_text(texts, start, length):
    """What lets the writers skip an escape: no byte of any text (of a slice too) is missed."""
    import pyarrow as pa

    from prescreen.outputs import _has_bytes

    for arrow in (pa.array(texts, pa.large_string()), pa.array(texts, pa.string())):
        part = arrow.slice(start, length)
        for text in part.to_pylist():
            for byte in (text or "").encode("utf-8"):
                assert _has_bytes(part, [byte])
                assert _has_bytes(part, [0 if byte else 1, byte])  # any of several


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.text()), max_size=8),
    st.lists(st.lists(st.integers(0, 255), max_size=4), min_size=1, max_size=8),
)
def test_the_bytes_found_are_exactly_the_groups_whose_bytes_the_texts_hold(texts, groups):
    """Each group's answer is its own (one bit each), and no group is found that no text holds."""
    from unittest import mock

    import pyarrow as pa

    from prescreen import outputs
    from prescreen.outputs import _bytes_found

    data = b"".join((text or "").encode("utf-8") for text in texts)
    expected = [any(byte in data for byte in group) for group in groups]
    for arrow in (pa.array(texts, pa.large_string()), pa.array(texts, pa.string())):
        assert _bytes_found(arrow, groups) == expected
        with mock.patch.object(outputs, "_CHUNK", 3):  # read in pieces, stopped when all found
            assert _bytes_found(arrow, groups) == expected


@pytest.mark.parametrize("odd", ["\ufffe", "\uffff", "\x01", "\x1f", "\x0b"])
def test_a_character_xml_cannot_hold_alone_in_the_workbook_is_replaced(odd):
    import openpyxl

    frame = pd.DataFrame({"Reason": [f"a{odd}b", "plain"]})
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(frame, "W")))["W"]
    assert [row[0].value for row in sheet.iter_rows()] == ["Reason", "a\ufffdb", "plain"]


def test_the_grades_matrix_holds_the_areas_in_the_order_the_rules_read_them():
    """One matrix serves the record's own check and the rules: its lines are the areas in the
    record's order, as the rules' keys index them."""
    from prescreen.columns import fields
    from prescreen.engine import _AREAS
    from prescreen.table import SKIN_AREAS

    assert [path for path in fields() if path.startswith(SKIN_AREAS)] == list(_AREAS)
    assert len(_AREAS) == 17


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.none(), st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)))))
def test_dates_read_as_days_by_their_ordinals_are_numpys_days(dates):
    expected = [None if d is None else (d - dt.date(1970, 1, 1)).days for d in dates]
    found = as_days(dates)
    assert found.dtype == np.dtype("datetime64[D]")
    assert [None if np.isnat(d) else int(d.astype(np.int64)) for d in found] == expected


@settings(max_examples=300, deadline=None)
@given(st.lists(st.dates(dt.date(1, 1, 1), dt.date(9999, 12, 31)), max_size=30))
def test_the_year_month_and_day_of_numpy_days_are_pythons_calendars(dates):
    from prescreen.table import ymd

    days = np.array([d.isoformat() for d in dates], dtype="datetime64[D]")
    year, month, day = ymd(days)
    assert list(zip(year.tolist(), month.tolist(), day.tolist(), strict=True)) == [
        (d.year, d.month, d.day) for d in dates
    ]


@pytest.mark.parametrize(
    "text",
    ["1900-01-01", "1900-02-28", "1900-03-01", "2000-02-29", "2000-03-01", "2024-02-29",
     "2100-02-28", "2100-03-01", "1969-12-31", "1970-01-01", "2100-12-31"],
)  # fmt: skip
def test_the_calendars_edges_are_taken_apart_exactly(text):
    from prescreen.table import ymd

    year, month, day = ymd(np.array([text], dtype="datetime64[D]"))
    assert (int(year[0]), int(month[0]), int(day[0])) == tuple(map(int, text.split("-")))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.one_of(st.none(), st.sampled_from([0, 1, 2, 3])), min_size=17, max_size=17))
def test_the_grades_matrix_holds_each_rows_grade_and_minus_one_where_none(grades):
    """Each area's grade as the record holds it, -1 where the area is not graded: a row with
    the drawn grades, one with none, one with 1 in every area."""
    from prescreen.synthetic import candidates as synthetic_candidates

    frame = synthetic_candidates(3, 5, AS_OF)
    for area, grade in zip(_AREAS_IN_ORDER, grades, strict=True):
        frame[f"ssc.mrss.areas.{area}"] = [grade, None, 1]
    frame["ssc.mrss.total"] = None
    candidates = read_candidates(frame, Mapping(), "synthetic", AS_OF)
    matrix = candidates.grades()
    assert matrix.dtype == np.int8
    assert matrix[:, 0].tolist() == [-1 if g is None else g for g in grades]
    assert matrix[:, 1].tolist() == [-1] * 17
    assert matrix[:, 2].tolist() == [1] * 17


_AREAS_IN_ORDER = [area.removeprefix("ssc.mrss.areas.") for area in _AREAS]


@pytest.mark.parametrize(
    "column",
    [
        pd.Series(np.array(["SYN-1", "SYN-2", "SYN-3"], dtype=object)),
        pd.Series([np.str_("SYN-1"), np.str_("SYN-2"), np.str_("SYN-3")], dtype=object),
        pd.Series(["SYN-1", "SYN-2", "SYN-3"], dtype="str"),
        pd.concat([pd.Series(["SYN-1"], dtype="str"), pd.Series(["SYN-2", "SYN-3"], dtype="str")]),
        # pandas' text held as Python objects keeps numpy's strings (found by a review)
        pd.Series([np.str_("SYN-1"), np.str_("SYN-2"), np.str_("SYN-3")], dtype="string[python]"),
    ],
)
def test_ids_are_plain_python_text_whatever_column_holds_them(column):
    frame = pd.DataFrame({"participant": column.reset_index(drop=True)})
    frame["dates.screening"] = "2026-11-01"
    candidates = read_candidates(frame, Mapping(), "t.csv", dt.date(2026, 11, 26))
    assert candidates.ids == ["SYN-1", "SYN-2", "SYN-3"]
    assert all(type(found) is str for found in candidates.ids)


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10**6), st.lists(st.integers(0, 39), max_size=12), st.data())
def test_the_rows_of_fields_are_each_cells_own_value(seed, positions, data):
    """Values gathered by their codes for many rows at once are each cell's value."""
    from prescreen.synthetic import candidates as synthetic_candidates

    table = read_candidates(synthetic_candidates(40, seed, AS_OF), Mapping(), "synthetic", AS_OF)
    every = sorted({*table.fields(), "dates.screening", "labs.igg.uln_unit", "not.in.table"})
    paths = tuple(data.draw(st.lists(st.sampled_from(every), max_size=6)))
    at = np.array(positions, dtype=np.int64)
    assert table.rows_of(paths, at) == [tuple(table.column(p)[i] for p in paths) for i in positions]


def test_rows_grouped_by_no_code_or_no_row():
    from prescreen.engine import grouped_by_codes

    group, count, pairs = grouped_by_codes(np.zeros((0, 3), dtype=np.int64))  # no coded line
    assert group.tolist() == [0, 0, 0] and count == 1 and all(len(p) == 0 for p in pairs)
    group, count, pairs = grouped_by_codes(np.zeros((2, 0), dtype=np.int64))  # no row
    assert group.tolist() == [] and count == 0 and all(len(p) == 0 for p in pairs)


def _edge_rows():
    """Every thresholded analyte (creatinine aside) at and a ten-millionth either side of each
    end of its plausible range (screen refuses a value outside it), in each accepted unit; the
    ULN analytes with a ULN at the ends of its own range and one that is not a whole number
    (8.2 U/L: 1.5 x ULN is 12.3); the others with a ULN too (screen reads past it)."""
    from protocol.labs import get_analyte, read_analyte_unit
    from protocol.study import load_study

    rows = []
    for entry in load_study().lab_analytes:
        analyte = get_analyte(entry.name)
        if analyte.computes or analyte.threshold is None or analyte.plausible is None:
            continue
        if f"labs.{entry.name}.value" not in fields():
            continue
        for unit in entry.accepted_units:
            one = analyte.convert(read_analyte_unit(analyte, unit), analyte.value_unit).magnitude
            ends = [
                analyte.convert(end, analyte.value_unit).magnitude
                for end in (analyte.plausible.low, analyte.plausible.high)
            ]
            uln = 40.0 if analyte.relative_to_uln else None
            for end in ends:
                for step in (-1e-7, 0.0, 1e-7):
                    rows.append((entry.name, end * (1 + step) / one, unit, uln))
            if analyte.relative_to_uln:
                limit = analyte.threshold_magnitude
                for uln_value in (8.2, *(
                    analyte.convert(end, analyte.value_unit).magnitude * (1 + step)
                    for end in (analyte.uln_plausible.low, analyte.uln_plausible.high)
                    for step in (-1e-7, 0.0, 1e-7)
                )):  # fmt: skip
                    for factor in (1 - 1e-3, 1.0, 1 + 1e-3):
                        rows.append((entry.name, limit * uln_value * factor / one, unit, uln_value))
            else:  # a ULN where none applies: screen reads past it, and so must the batch
                rows.append((entry.name, ends[1] / 2 / one, unit, 40.0))
    return rows


def test_every_lab_at_the_ends_of_its_plausible_range_decides_or_is_refused_as_screen():
    # a value the rules refuse must never be decided by a shortcut over columns: at, just
    # inside and just outside each end (and a ULN where none applies is read as screen reads it)
    rows = _edge_rows()
    frame = _lab_table(rows)
    compared_rows, _ = _compare(frame)
    assert compared_rows == len(rows)
    candidates = read_candidates(frame, Mapping(), "synthetic", AS_OF)
    evaluate(candidates, as_of=AS_OF)
    # by hand: every row a ten-millionth outside a plausible end has the refused value left
    # out (reported, its cells emptied, the row screened without them), so some rows have a
    # value left out and some none; no row is refused for it
    _assert_refused_values_left_out(candidates, len(rows))


def _assert_refused_values_left_out(candidates, size: int) -> None:
    assert not candidates.refused.any()
    # the values the rules refused (not the cells that could not be read at all: a value of
    # more digits than a measurement has)
    left_out = {
        p.row: p
        for p in candidates.problems
        if "implausible" in p.expected or "no upper limit of normal" in p.expected
    }
    assert 0 < len(left_out) < size
    for position, row in enumerate(candidates.rows.tolist()):
        if row in left_out:
            assert candidates.column(left_out[row].column)[position] is None


def test_creatinine_at_the_ends_of_its_plausible_range_decides_or_is_refused_as_screen():
    # 0.1 to 25 mg/dL (study.yaml): a value a ten-millionth outside either end is refused by
    # screen, whatever the age and sex, and must be refused here (left out, the row screened
    # without it, as screen screens the record without it), never decided over columns
    rows = []
    for age in (16, 40):
        for sex in ("female", "male", None):
            for end in (0.1, 25.0):
                for step in (-1e-7, 0.0, 1e-7):
                    for unit, factor in (("mg/dL", 1.0), ("µmol/L", 88.4)):
                        rows.append((age, sex, end * (1 + step) * factor, unit))
    frame = _creatinine_table(rows)
    frame = frame.where(frame.notna(), None)
    compared_rows, _ = _compare(frame)
    assert compared_rows == len(rows)
    candidates = read_candidates(frame, Mapping(), "synthetic", AS_OF)
    evaluate(candidates, as_of=AS_OF)
    _assert_refused_values_left_out(candidates, len(rows))


def test_creatinine_without_a_birth_date_at_a_youngest_age_of_18_depends_on_the_value():
    # a first manifestation 18 years to the day before screening: the candidate may be 18, when
    # the equation applies, so the value decides (4.0 mg/dL fails at every age, 0.6 passes);
    # a day later, 17 is possible too, an age IN01 excludes whatever the kidneys: the ages IN01
    # admits (18 to 70) still decide it
    on = dt.date(2026, 6, 15)
    rows = [
        (first, value, sex)
        for first in (dt.date(2008, 6, 15), dt.date(2008, 6, 16))
        for value in (0.6, 4.0)
        for sex in ("female", "male")
    ]
    frame = pd.DataFrame(
        {
            "participant": [f"SYN-G{i:03d}" for i in range(len(rows))],
            "ssc.first_non_raynaud_manifestation": [str(f) for f, _, _ in rows],
            "dates.screening": [str(on)] * len(rows),
            "sex": [sex for *_, sex in rows],
            "labs.creatinine.value": [v for _, v, _ in rows],
            "labs.creatinine.unit": ["mg/dL"] * len(rows),
        }
    ).astype(object)
    _compare(frame)
    candidates = read_candidates(frame, Mapping(), "synthetic", AS_OF)
    status = list(evaluate(candidates, as_of=AS_OF).criteria["EX24"].status)
    # the other analytes are not recorded, so EX24 fails only on the creatinine part
    assert [s == "fail" for s in status] == [v == 4.0 for f, v, _ in rows]


# -- a birth date not recorded: the ages IN01 admits decide EX24's kidney part ----------------


def _no_birth_table(rows: list[tuple[str | None, float]]) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "participant": [f"SYN-B{i:04d}" for i in range(len(rows))],
            "sex": [sex for sex, _ in rows],
            "labs.creatinine.value": [value for _, value in rows],
            "labs.creatinine.unit": ["mg/dL"] * len(rows),
        }
    ).astype(object)


@pytest.mark.traces("criteria.EX24")
def test_without_a_birth_date_a_creatinine_decided_at_every_admitted_age_decides_ex24():
    # the equation alone, at the two ends of the ages IN01 admits (18 and 70, the eGFR falls
    # with age): above 40 at 70 passes, below 40 at 18 fails, else the age decides
    rows, expected = [], []
    for sex in ("female", "male", None):
        sexes = [sex == "female"] if sex else [True, False]
        for value in (0.5, 0.9, 1.4, 1.7, 2.0, 4.5, 9.0):
            rows.append((sex, value))
            at_18 = [_ckd_epi_2021(value, 18, female) for female in sexes]
            at_70 = [_ckd_epi_2021(value, 70, female) for female in sexes]
            if min(at_70) >= 40:
                expected.append("pass")
            elif max(at_18) < 40:
                expected.append("fail")
            else:
                expected.append("unknown")
    assert {"pass", "fail", "unknown"} <= set(expected)
    frame = _no_birth_table(rows)
    _compare(frame)  # and screen says the same of each, criterion by criterion
    evaluation = evaluate(read_candidates(frame, Mapping(), "synthetic", AS_OF), as_of=AS_OF)
    status = evaluation.criteria["EX24"].status
    for i, wanted in enumerate(expected):
        # the other analytes are not recorded: EX24 fails on the kidney, or stays unknown
        assert status[i] == ("fail" if wanted == "fail" else "unknown"), (rows[i], wanted)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from([18, 70]),  # the end of the admitted ages whose eGFR is near 40
            st.sampled_from(["female", "male", None]),
            st.sampled_from([-1e-3, -1e-7, -1e-12, 0.0, 1e-12, 1e-7, 1e-3]),
            st.integers(10, 80),  # the youngest age the first manifestation allows
        ),
        min_size=1,
        max_size=8,
    )
)
def test_without_a_birth_date_the_columns_decide_as_screen_near_the_threshold(drawn):
    # the shortcut over whole columns (the eGFR at the ends of the admitted ages) against
    # screen's rule, criterion by criterion: near 40 at 18 or 70, for each sex or none, with
    # a youngest age under, inside and over the ages IN01 admits
    rows = []
    for end, sex, step, youngest in drawn:
        value = _creatinine_at(40.0, end, sex != "male") * (1 + step)
        first = dt.date(AS_OF.year - youngest, AS_OF.month, AS_OF.day)
        rows.append((sex, float(f"{value:.12g}"), first))
    frame = pd.DataFrame(
        {
            "participant": [f"SYN-N{i:03d}" for i in range(len(rows))],
            "sex": [sex for sex, _, _ in rows],
            "labs.creatinine.value": [value for _, value, _ in rows],
            "labs.creatinine.unit": ["mg/dL"] * len(rows),
            "ssc.first_non_raynaud_manifestation": [str(first) for *_, first in rows],
            "dates.screening": [str(AS_OF)] * len(rows),
        }
    ).astype(object)
    frame = frame.where(frame.notna(), None)
    _compare(frame)


def test_a_sex_implied_by_the_record_is_read_as_screen_reads_it():
    # no sex recorded, but childbearing potential, breastfeeding or a positive pregnancy test:
    # a woman's, so the creatinine is read for a woman alone (1.8 mg/dL at 46: 34.7, < 40)
    rows = []
    for cbp, breastfeeding, born in [
        ("true", None, "1978-06-14"), (None, "true", "1978-06-14"), (None, None, "1978-06-14"),
        ("true", None, None), ("false", "false", None), (None, None, None),
    ]:  # fmt: skip
        for value in (0.6, 1.6, 1.8, 4.5):
            rows.append((cbp, breastfeeding, born, value))
    frame = pd.DataFrame(
        {
            "participant": [f"SYN-W{i:03d}" for i in range(len(rows))],
            "childbearing_potential": [r[0] for r in rows],
            "breastfeeding": [r[1] for r in rows],
            "dates.birth": [r[2] for r in rows],
            "dates.screening": [str(AS_OF)] * len(rows),
            "labs.creatinine.value": [r[3] for r in rows],
            "labs.creatinine.unit": ["mg/dL"] * len(rows),
        }
    ).astype(object)
    frame = frame.where(frame.notna(), None)
    _compare(frame)
    evaluation = evaluate(read_candidates(frame, Mapping(), "synthetic", AS_OF), as_of=AS_OF)
    missing = evaluation.criteria["EX24"].missing
    for i, (cbp, breastfeeding, _, _) in enumerate(rows):
        if cbp == "true" or breastfeeding == "true":  # the sex is implied: never asked for
            assert "sex" not in missing[i], rows[i]
