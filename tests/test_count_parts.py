"""Neutrophils are white blood cells: a neutrophil count above the white count is two values
that cannot both be right, and is refused (exit 2) by `screen` and by `prescreen` alike, in any
of the units the lab rules accept. SYNTHETIC records (variants of worked case 1).

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
from protocol.errors import ProtocolDataError
from protocol.participant import parse_record
from protocol.screening import screen
from tests.conftest import REPO

CASE_1 = yaml.safe_load((REPO / "book/cases/case01-eligible.yaml").read_text(encoding="utf-8"))
AS_OF = dt.date(2025, 3, 3)  # case 1's screening visit

#: How many ×10⁹/L one of each unit is (by the units' definitions).
PER_1E9_PER_L = {"10^9/L": 1.0, "10^3/µL": 1.0, "/µL": 1e-3, "/mm³": 1e-3, "cells/L": 1e-9}


def _record(neutrophils: tuple[float, str], wbc: tuple[float, str]) -> dict:
    data = copy.deepcopy(CASE_1)
    data["labs"]["neutrophils"] = {"value": neutrophils[0], "unit": neutrophils[1]}
    data["labs"]["wbc"] = {"value": wbc[0], "unit": wbc[1]}
    return data


def _screen_refuses(data: dict) -> list[str] | None:
    """The problems screen refuses the record with, or None when it screens it."""
    try:
        screen(parse_record(data, "synthetic variant of case 1"))
    except ProtocolDataError as exc:
        return [str(p) for p in exc.problems]
    return None


@pytest.mark.parametrize(
    ("neutrophils", "wbc", "refused"),
    [
        ((6.3, "10^9/L"), (6.4, "10^9/L"), False),  # below the white count
        ((6.4, "10^9/L"), (6.4, "10^9/L"), False),  # at it (every white cell a neutrophil)
        ((6.5, "10^9/L"), (6.4, "10^9/L"), True),  # above it
        ((6400, "/mm³"), (6.4, "10^9/L"), False),  # at it, in another unit
        ((6401, "/µL"), (6.4, "10^9/L"), True),  # above it by one cell per µL
        ((6.4, "10^3/µL"), (6400, "/mm³"), False),
        ((6.4e9, "cells/L"), (6.399, "10^9/L"), True),
        ((1.2, "10^9/L"), (1.1, "10^9/L"), True),  # both already excluding: still refused
    ],
)
def test_neutrophils_above_the_white_count_are_refused(neutrophils, wbc, refused):
    problems = _screen_refuses(_record(neutrophils, wbc))
    if not refused:
        assert problems is None
        return
    assert problems is not None and len(problems) == 1
    field, rest = problems[0].split(" = ", 1)
    number, unit = rest.split(":", 1)[0].split(" ", 1)
    assert (field, float(number), unit) == ("labs.neutrophils.value", *neutrophils)
    assert "Neutrophils at most the WBC count they are part of" in problems[0]


def test_an_implausible_value_is_refused_for_itself_not_compared():
    problems = _screen_refuses(_record((400, "10^9/L"), (6.4, "10^9/L")))
    assert problems is not None and len(problems) == 1
    assert "implausible" in problems[0] and "part of" not in problems[0]


def test_the_command_refuses_it_with_exit_2_naming_the_field(tmp_path, capsys):
    from trialbook.cli import main

    path = tmp_path / "record.yaml"
    path.write_text(
        yaml.safe_dump(_record((7000, "/mm³"), (6.4, "10^9/L")), allow_unicode=True),
        encoding="utf-8",
    )
    assert main(["screen", str(path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        f"error: {path}: labs.neutrophils.value = 7000 /mm³: Neutrophils at most the WBC count "
        "they are part of: 7 ×10⁹/L is above WBC 6.4 ×10⁹/L; check both values and their units"
    ]


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
def test_screen_and_prescreen_refuse_exactly_the_counts_above_their_whole(tmp_path_factory, rows):
    """Each row's neutrophils and white count drawn in ×10⁹/L and written in any accepted unit:
    refused by both exactly when the neutrophils are the more, the rest screened by both."""
    table = []
    expected = []
    for k, (neutrophils, n_unit, w_unit, wbc) in enumerate(rows):
        # written in the unit: the count in ×10⁹/L over the unit's size, as an exact decimal
        n_written = format(neutrophils / Decimal(repr(PER_1E9_PER_L[n_unit])), "f")
        w_written = format(wbc / Decimal(repr(PER_1E9_PER_L[w_unit])), "f")
        data = _record((float(n_written), n_unit), (float(w_written), w_unit))
        problems = _screen_refuses(data)
        above = neutrophils > wbc
        assert (problems is not None) == above, (neutrophils, wbc, problems)
        expected.append(above)
        table.append(
            {
                "participant": f"SYN-N{k}",
                "labs.neutrophils.value": n_written,
                "labs.neutrophils.unit": n_unit,
                "labs.wbc.value": w_written,
                "labs.wbc.unit": w_unit,
            }
        )
    folder = tmp_path_factory.mktemp("counts")
    pd.DataFrame(table).to_csv(folder / "t.csv", index=False)
    if all(expected):
        with pytest.raises(ProtocolDataError, match="at least one row that can be screened"):
            prescreen(folder / "t.csv", as_of=AS_OF)
        return
    run = prescreen(folder / "t.csv", as_of=AS_OF)
    assert list(run.evaluation.candidates.refused) == expected
    for problem in run.evaluation.candidates.problems:
        assert problem.column == "labs.neutrophils.value"
        assert "Neutrophils at most the WBC count they are part of" in problem.expected
