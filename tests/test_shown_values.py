"""How a refused value is shown back, from a tester's round: Python's own writing of a
workbook's or Parquet file's cells (datetime.datetime(2025, 3, 3, 12, 0), Timedelta('0 days
00:00:01'), b'female') in problems.csv, "-0" beside a lab value, and "a no suffix"."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from prescreen.columns import WITHHELD, fields, read_cell, shown_value
from protocol.inputs import read_decimal
from trialbook.cli import main


@pytest.mark.parametrize(
    ("cell", "shown"),
    [
        (dt.datetime(2025, 3, 3, 12, 0), "'2025-03-03 12:00:00'"),
        (pd.Timestamp("2025-03-03 12:00"), "'2025-03-03 12:00:00'"),
        (np.datetime64("2025-03-03T12:00"), "'2025-03-03 12:00:00'"),
        (dt.date(2025, 3, 3), "'2025-03-03'"),
        (pd.Timedelta(seconds=1), "a duration of 0 days 00:00:01"),
        (b"female", "'female'"),
        (b"\xff\xfe", "2 bytes that are no text"),
        (b"13812345678", WITHHELD),
    ],
)
def test_a_cell_is_shown_as_a_site_reads_it(cell, shown):
    assert shown_value(cell) == shown


@given(st.sampled_from(["-0", "-0.0", "-0.000", "+0", "0"]))
def test_zero_is_read_without_a_sign(text):
    assert math.copysign(1, read_decimal(text)) == 1
    assert str(read_decimal(text)) == "0.0"


def test_a_folder_for_a_table_is_told_it_has_no_suffix(tmp_path, capsys):
    assert main(["prescreen", str(tmp_path), "--out", str(tmp_path / "out")]) == 2
    assert "no suffix" in capsys.readouterr().err


#: A workbook's or Parquet file's cells that no field reads as its value: a time of day, a
#: duration, bytes, numpy's scalars of those, and dates and datetimes where they are no date
_FOREIGN_CELLS = st.one_of(
    st.times().map(lambda t: t.replace(microsecond=t.microsecond // 1000 * 1000)),
    st.timedeltas(dt.timedelta(0), dt.timedelta(days=400)),
    st.timedeltas(dt.timedelta(0), dt.timedelta(days=400)).map(pd.Timedelta),
    st.binary(min_size=1, max_size=12),
    st.text("abcdefmale", min_size=1, max_size=8).map(str.encode),
    st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2100, 1, 1)),
    st.datetimes(dt.datetime(1900, 1, 1), dt.datetime(2100, 1, 1)).map(pd.Timestamp),
    st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1)),
    st.dates(dt.date(1900, 1, 1), dt.date(2100, 1, 1)).map(np.datetime64),
)


@given(st.sampled_from(sorted(fields())), _FOREIGN_CELLS)
def test_a_refused_cell_is_named_in_a_sites_words_never_pythons(path, cell):
    # a tester's round: "datetime.time(0, 0, 0, 100000) is not a number", "Timedelta('0 days
    # 00:00:03') is not a number" in problems.csv, and a Parquet bytes column's 'female' "is
    # not one of: female, male"
    try:
        read_cell(fields()[path], cell)
    except ValueError as exc:
        message = str(exc)
    else:  # a date or datetime a date field reads: nothing to show
        assert fields()[path].kind == "date"
        return
    for python in ("datetime.", "Timedelta(", "Timestamp(", "np.", "numpy", "b'", 'b"'):
        assert python not in message, message
    if isinstance(cell, bytes):
        assert "bytes" in message
