"""A participant's or a candidate's code that holds a birth date or an ID card number among its
other characters is refused, as a code that is one is (a hostile tester's survey: SYN-1978-06-14,
SYN19780614, SYN-14JUN1978 and A110101199003071234 were accepted by `calendar --participant` and
written into every iCalendar event's ID and title). A text that stands for no code ("NA",
"TRUE") is refused as `prescreen` refuses such an ID. SYNTHETIC codes and dates only.
"""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from prescreen.columns import Mapping
from prescreen.table import read_candidates
from protocol.participant import ParticipantRecord

_MONTHS = ["JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"]


def _written(day: dt.date, form: int) -> str:
    """A date as a person writes it (worked out here, not by the code under test)."""
    return [
        f"{day:%Y-%m-%d}",
        f"{day:%Y%m%d}",
        f"{day:%d.%m.%Y}",
        f"{day:%d-%m-%Y}",
        f"{day.day:02d}{_MONTHS[day.month - 1]}{day.year}",
        f"{day:%Y.%m.%d}",
    ][form]


def _refused_by_the_record(code: str) -> bool:
    try:
        ParticipantRecord.model_validate({"participant": code})
    except ValidationError:
        return True
    return False


def _refused_by_prescreen(code: str) -> bool:
    import pandas as pd

    table = read_candidates(
        pd.DataFrame({"participant": [code], "sex": ["female"]}),
        Mapping(),
        "synthetic.csv",
        dt.date(2026, 11, 26),
    )
    return bool(table.refused[0])


@settings(max_examples=200, deadline=None)
@given(
    day=st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)),
    form=st.integers(0, 5),
    before=st.sampled_from(["SYN-", "SYN", "D", "P_", ""]),
    after=st.sampled_from(["", "A", "-01", "_X"]),
)
def test_a_code_holding_a_date_is_refused_by_the_record_and_by_prescreen(day, form, before, after):
    code = f"{before}{_written(day, form)}{after}"
    assert _refused_by_the_record(code), code
    assert _refused_by_prescreen(code), code


@pytest.mark.parametrize(
    "code",
    [
        "A110101199003071234",  # an ID card number's shape: region, birth date, number, check
        "ID11010119900307123X",
        "SYN-110101197806140010",
        "A110101900307123",  # the older 15-digit card: its birth date as YYMMDD
        "SYN-JUN-14-1978",  # a month's name first, or after the year
        "SYN-1978-JUN-14",
        "SYN-1978JUN14",
        "MAY-12-2020X",
        "NA",
        "TRUE",
        "null",
    ],
)
def test_an_id_card_number_inside_a_code_or_a_code_standing_for_none_is_refused(code):
    assert _refused_by_the_record(code)
    assert _refused_by_prescreen(code)


@pytest.mark.parametrize(
    "code",
    # codes as sites write them, digits that are no day of the calendar among them
    ["SYN-01", "SYN-C000001", "SYN-2024-0001", "S13001000001", "SITE-13-001-000001", "P00012",
     "SYN-2025-13-45", "CASE-12345678901234567", "A1", "TEST"],
)  # fmt: skip
def test_a_code_holding_no_date_is_read(code):
    assert not _refused_by_the_record(code)
    assert not _refused_by_prescreen(code)


@settings(max_examples=60, deadline=None)
@given(
    day=st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31)),
    mobile=st.integers(13_000_000_000, 19_999_999_999),
    which=st.sampled_from(["date", "mobile"]),
    as_float=st.booleans(),
)
def test_an_unquoted_code_that_is_a_date_or_a_phone_is_not_shown_back(
    tmp_path_factory, day, mobile, which, as_float
):
    # helper 122: `participant: 19780614` (unquoted, so a number) was refused for its type with
    # its value shown, "participant (line 2) = 19780614: expected text", where the same code
    # quoted is withheld. A birth date written YYYYMMDD, or a mainland mobile (11 digits from
    # 13 to 19: worked out here), as a YAML number, in the record's first line after the code
    from trialbook.cli import main

    number = int(f"{day:%Y%m%d}") if which == "date" else mobile
    written = f"{number}.0" if as_float else str(number)
    path = tmp_path_factory.mktemp("code") / "record.yaml"
    path.write_text(f"participant: {written}\nsex: female\n", encoding="utf-8")
    import contextlib
    import io

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        assert main(["screen", str(path)]) == 2
    lines = err.getvalue().splitlines()
    assert lines and all(str(number) not in line for line in lines), lines
    assert "participant (line 1) = (withheld): expected text" in lines[0]


def test_an_unquoted_code_that_names_no_one_is_shown_back(tmp_path, capsys):
    # a number that is no date nor phone (a site's numeric code) is said as it is written
    from trialbook.cli import main

    path = tmp_path / "record.yaml"
    path.write_text("participant: 20250001\nsex: female\n", encoding="utf-8")
    assert main(["screen", str(path)]) == 2
    assert "participant (line 1) = 20250001: expected text" in capsys.readouterr().err
