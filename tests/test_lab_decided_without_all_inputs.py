"""`trialbook lab` decides a value without the ULN, the age or the sex where every completion
the protocol allows gives the same status, as `screen` decides a record without them.

A tester found `lab alt 301 U/L` and `lab creatinine 250 umol/L --sex male` refused (exit 2:
"needs --uln", "needs the age and the sex") while `screen` excluded the same values. The
oracle here is independent of the rule's shortcut (the ends of each range): every whole age
18-70, both sexes, and ULNs across 5-200 U/L, with the test's own CKD-EPI 2021.
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.errors import LabInputError
from protocol.labs import check_lab, check_lab_where_decided
from tests.test_labs_exact import _ckd_epi_2021
from trialbook.cli import main

UMOL_PER_MG_DL = 88.4  # facts.md §5


def _status_by_oracle(creatinine_umol: float, age: int, female: bool) -> str:
    return "fail" if _ckd_epi_2021(creatinine_umol / UMOL_PER_MG_DL, age, female) < 40 else "pass"


@settings(max_examples=150, deadline=None)
@given(
    st.integers(30, 400),
    st.sampled_from([None, "female", "male"]),
    st.one_of(st.none(), st.integers(18, 70)),
)
def test_creatinine_is_decided_exactly_when_every_age_and_sex_agree(umol, sex, age):
    ages = [age] if age is not None else list(range(18, 71))
    sexes = [sex] if sex is not None else ["female", "male"]
    statuses = {_status_by_oracle(umol, a, s == "female") for a in ages for s in sexes}
    try:
        result = check_lab_where_decided("creatinine", str(umol), "umol/L", age=age, sex=sex)
    except LabInputError:
        assert len(statuses) == 2
        return
    assert {result.status} == statuses


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 700), st.sampled_from(["alt", "ast"]))
def test_alt_and_ast_are_decided_exactly_when_every_uln_agrees(value, analyte):
    # ULNs a laboratory reports: 5 to 200 U/L (study.yaml's uln_plausible_range)
    statuses = {"fail" if value > 1.5 * uln else "pass" for uln in range(5, 201)}
    try:
        result = check_lab_where_decided(analyte, str(value), "U/L")
    except LabInputError:
        assert len(statuses) == 2
        return
    assert {result.status} == statuses


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(
        [("alt", "U/L"), ("ast", "U/L"), ("total_bilirubin", "mg/dL"), ("creatinine", "umol/L")]
    ),
    st.decimals("0.10", "800", places=2),
)
def test_no_field_of_a_decided_result_comes_from_an_input_not_given(lab, value):
    # a tester's round: `lab alt 400 U/L --json` gave "value_in_protocol_unit": 2.0 (x ULN)
    # beside "uln": null, and `lab alt 7.5 U/L --json` "on_boundary": true: both read at a
    # ULN of the protocol's range, not the participant's. The reason says which reading it
    # shows; the fields hold only what the inputs given decide
    analyte, unit = lab
    try:
        result = check_lab_where_decided(analyte, str(value), unit)
    except LabInputError:
        return  # not the same at every ULN, age and sex: asked for
    assert result.uln is None and result.uln_unit is None
    assert result.egfr is None and result.egfr_age is None
    assert result.on_boundary is False
    if analyte != "creatinine":  # a multiple of a ULN no one gave
        assert result.value_in_protocol_unit is None
    else:  # the creatinine itself, in the protocol's mg/dL, whatever the age
        assert result.value_in_protocol_unit == pytest.approx(float(value) / UMOL_PER_MG_DL)


def test_with_every_input_given_it_is_check_lab():
    given_all = check_lab("alt", "100", "U/L", uln=40, uln_unit="U/L")
    assert check_lab_where_decided("alt", "100", "U/L", uln=40, uln_unit="U/L") == given_all


@pytest.mark.parametrize(
    "args, code, words",
    [
        (["alt", "301", "U/L"], 1, "the same for every ULN from 5 to 200 U/L"),
        (["alt", "7", "U/L"], 0, "the same for every ULN from 5 to 200 U/L"),
        (["alt", "100", "U/L"], 2, "upper limit of normal is needed"),
        (["creatinine", "250", "umol/L", "--sex", "male"], 1, "every age from 18 to 70"),
        (["creatinine", "60", "umol/L", "--age", "46"], 0, "either sex"),
        (["creatinine", "130", "umol/L"], 2, "needs the age in completed years and the sex"),
        (["creatinine", "abc", "umol/L"], 2, "not a decimal number"),
    ],
)
def test_the_testers_commands(capsys, args, code, words):
    assert main(["lab", *args]) == code
    captured = capsys.readouterr()
    assert words in captured.out + captured.err


def test_the_reading_shown_is_the_one_nearest_the_threshold(capsys):
    # ALT 400 U/L fails at every ULN: shown against the highest, 2 x ULN, not 80 x ULN at 5
    assert main(["lab", "alt", "400", "U/L"]) == 1
    assert "with ULN 200 U/L = 2 × ULN" in capsys.readouterr().out
