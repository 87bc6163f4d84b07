"""Neutrophils are white blood cells: a neutrophil count above the white count is two values
that cannot both be right. EX24 cannot pass on them: it holds a data query (unknown, naming both
values) unless a value fails on its own, in any of the units the lab rules accept, in `screen`
and `prescreen` alike. SYNTHETIC records (variants of worked case 1).

The expected answers come from the units' definitions written out here (1 ×10⁹/L is 1,000 per
µL and per mm³, 10⁹ cells per litre), not from the code's conversions.
"""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prescreen.run import prescreen
from protocol.participant import parse_record
from protocol.screening import screen
from tests.conftest import REPO

CASE_1 = yaml.safe_load((REPO / "book/cases/case01-eligible.yaml").read_text(encoding="utf-8"))
AS_OF = dt.date(2025, 3, 3)  # case 1's screening visit
QUERY = "the count they are part of: one of the two values or units is wrong; confirm both"

#: How many ×10⁹/L one of each unit is (by the units' definitions).
PER_1E9_PER_L = {"10^9/L": 1.0, "10^3/µL": 1.0, "/µL": 1e-3, "/mm³": 1e-3, "cells/L": 1e-9}


def _record(neutrophils: tuple[float, str], wbc: tuple[float, str]) -> dict:
    data = copy.deepcopy(CASE_1)
    data["labs"]["neutrophils"] = {"value": neutrophils[0], "unit": neutrophils[1]}
    data["labs"]["wbc"] = {"value": wbc[0], "unit": wbc[1]}
    return data


def _ex24(data: dict) -> tuple[str, str, list[str]]:
    result = screen(parse_record(data, "synthetic variant of case 1"))
    (ex24,) = [c for c in result.criteria if c.id == "EX24"]
    return ex24.status, ex24.reason, list(ex24.missing)


@pytest.mark.parametrize(
    ("neutrophils", "wbc", "status"),
    [
        ((6.3, "10^9/L"), (6.4, "10^9/L"), "pass"),  # below the white count
        ((6.4, "10^9/L"), (6.4, "10^9/L"), "pass"),  # at it (every white cell a neutrophil)
        ((6.5, "10^9/L"), (6.4, "10^9/L"), "unknown"),  # above it: a query
        ((6400, "/mm³"), (6.4, "10^9/L"), "pass"),  # at it, in another unit
        ((6401, "/µL"), (6.4, "10^9/L"), "unknown"),  # above it by one cell per µL
        ((6.4, "10^3/µL"), (6400, "/mm³"), "pass"),
        ((6.4e9, "cells/L"), (6.399, "10^9/L"), "unknown"),
        # the white count fails on its own (< 3 ×10⁹/L): EX24 fails, the query aside
        ((4.1, "10^9/L"), (2.9, "10^9/L"), "fail"),
    ],
)
def test_neutrophils_above_the_white_count_hold_ex24_open(neutrophils, wbc, status):
    found, reason, missing = _ex24(_record(neutrophils, wbc))
    assert found == status, reason
    above = Decimal(repr(neutrophils[0] * PER_1E9_PER_L[neutrophils[1]])) > Decimal(
        repr(wbc[0] * PER_1E9_PER_L[wbc[1]])
    ) * (1 + Decimal("1e-9"))
    assert (QUERY in reason) == (status == "unknown")
    assert (
        "labs.neutrophils.value" in missing and "labs.wbc.value" in missing
    ) == above  # the query names both values, even where EX24 fails on its own


def test_the_command_says_incomplete_never_eligible(tmp_path, capsys):
    from trialbook.cli import main

    path = tmp_path / "record.yaml"
    path.write_text(
        yaml.safe_dump(_record((7000, "/mm³"), (6.4, "10^9/L")), allow_unicode=True),
        encoding="utf-8",
    )
    assert main(["screen", str(path)]) == 3
    out = capsys.readouterr().out
    assert (
        "Neutrophils 7000 /mm³ (7 ×10⁹/L) above WBC 6.4 ×10⁹/L, the count they are part of: "
        "one of the two values or units is wrong; confirm both (a data query): unknown (EX24)"
    ) in out


def test_an_implausible_value_is_refused_for_itself_not_queried():
    from protocol.errors import ProtocolDataError

    with pytest.raises(ProtocolDataError, match="implausible") as refused:
        _ex24(_record((400, "10^9/L"), (6.4, "10^9/L")))
    assert "part of" not in str(refused.value)


_UNITS = st.sampled_from(sorted(PER_1E9_PER_L))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(
        st.tuples(
            st.decimals(min_value="0.1", max_value="40", places=2),
            _UNITS,
            _UNITS,
            st.decimals(min_value="0.5", max_value="40", places=2),
        ),
        min_size=1,
        max_size=6,
    )
)
def test_screen_and_prescreen_hold_the_same_rows_open(tmp_path_factory, rows):
    """Each row's neutrophils and white count drawn in ×10⁹/L and written in any accepted unit:
    EX24 is open on a query exactly when the neutrophils are the more (and no value fails on
    its own), and prescreen's EX24 is screen's, status, reason and missing fields."""
    table, expected = [], []
    for k, (neutrophils, n_unit, w_unit, wbc) in enumerate(rows):
        # written in the unit: the count in ×10⁹/L over the unit's size, as an exact decimal
        n_written = format(neutrophils / Decimal(repr(PER_1E9_PER_L[n_unit])), "f")
        w_written = format(wbc / Decimal(repr(PER_1E9_PER_L[w_unit])), "f")
        data = _record((float(n_written), n_unit), (float(w_written), w_unit))
        status, reason, missing = _ex24(data)
        fails_alone = neutrophils < Decimal("1.5") or wbc < 3
        if neutrophils > wbc:
            assert status == ("fail" if fails_alone else "unknown"), reason
            assert "labs.neutrophils.value" in missing
        else:
            assert QUERY not in reason
        expected.append((status, reason, missing))
        table.append(
            {
                "participant": f"SYN-N{k}",
                **{
                    f"labs.{name}.{part}": value
                    for name, lab in data["labs"].items()
                    for part, value in lab.items()
                },
                "sex": CASE_1["sex"],
                "dates.birth": str(CASE_1["dates"]["birth"]),
            }
        )
    folder = tmp_path_factory.mktemp("counts")
    pd.DataFrame(table).to_csv(folder / "t.csv", index=False)
    run = prescreen(folder / "t.csv", as_of=AS_OF)
    column = run.evaluation.criteria["EX24"]
    assert not run.evaluation.candidates.refused.any()
    for k, (status, reason, missing) in enumerate(expected):
        assert column.status[k] == status
        assert column.reason[k] == reason
        assert list(dict.fromkeys(column.missing[k])) == list(dict.fromkeys(missing))
