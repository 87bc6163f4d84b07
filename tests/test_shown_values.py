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

from prescreen.columns import WITHHELD, shown_value
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
