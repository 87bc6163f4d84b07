"""The lab checks' exact words, fields and boundaries (issue 11: mutants that survived).

Every expected text is written by hand: the registry thresholds, the plausible ranges of
study.yaml and unit arithmetic a reader can redo (1 dL = 0.1 L, so 300 g/L = 30 g/dL;
150 000 000 000 cells/L = 150 × 10⁹/L). None is copied from the code's output.
"""

from __future__ import annotations

import dataclasses
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from protocol import labs
from protocol.facts import parse_range
from protocol.labs import (
    LabInputError,
    LabResult,
    check_lab,
    check_lab_column,
    check_plausible,
    check_value,
    get_analyte,
    parse_number,
    unknown_result,
)
from protocol.units import ureg

pytestmark = pytest.mark.traces("lab_analytes", "criteria.EX24")

PLAUSIBLE_HB = "check the value and its unit; expected 1 to 25 g/dL"
HB_UNITS = "g/dL, g/L, mmol/L"
ALT = "Alanine aminotransferase (ALT)"
NOT_A_DECIMAL = (
    "is not a decimal number; expected digits with at most one decimal point, such as 7.5"
)


def _refusal(call, *args, **kwargs) -> tuple[str, str | None]:
    with pytest.raises(LabInputError) as raised:
        call(*args, **kwargs)
    return str(raised.value), raised.value.field


# -- reading one value --------------------------------------------------------------------


def test_a_value_that_is_not_a_number_is_refused_naming_the_value_field():
    assert _refusal(parse_number, get_analyte("hemoglobin"), "abc") == (
        f"Hemoglobin: the value 'abc' {NOT_A_DECIMAL}; in a unit such as {HB_UNITS}",
        "value",
    )
    assert _refusal(check_value, "hemoglobin", "abc", "g/dL") == (
        f"Hemoglobin: the value 'abc' {NOT_A_DECIMAL}; in a unit such as {HB_UNITS}",
        "value",
    )


def test_a_uln_that_is_not_a_number_is_refused_naming_the_uln_field():
    assert _refusal(parse_number, get_analyte("alt"), "abc", what="ULN") == (
        f"{ALT}: the ULN 'abc' {NOT_A_DECIMAL}; in a unit such as U/L, IU/L, µkat/L",
        "uln",
    )
    assert _refusal(parse_number, get_analyte("alt"), "abc", what="count")[1] is None


def test_check_value_refuses_a_missing_unit_and_an_implausible_value_in_words():
    assert _refusal(check_value, "hemoglobin", "9", None) == (
        f"Hemoglobin: no unit given; expected a unit such as {HB_UNITS}",
        "unit",
    )
    # Same unit as the plausible range: nothing converted is shown.
    assert _refusal(check_value, "hemoglobin", "30", "g/dL") == (
        f"Hemoglobin: the value 30 g/dL is implausible: {PLAUSIBLE_HB}",
        "value",
    )
    # 300 g/L is 30 g/dL (1 dL = 0.1 L), shown beside what was typed.
    assert _refusal(check_value, "hemoglobin", "300", "g/L") == (
        f"Hemoglobin: the value 300 g/L (= 30 g/dL) is implausible: {PLAUSIBLE_HB}",
        "value",
    )
    assert check_value("hemoglobin", "250", "g/L") == ureg.Quantity(25, "g/dL")


def test_the_uln_is_checked_against_the_uln_range_not_the_value_range():
    # 3000 U/L is a plausible ALT value (1 to 20000 U/L) but no laboratory's upper limit.
    assert _refusal(check_lab, "alt", "30", "U/L", uln="3000") == (
        f"{ALT}: the upper limit of normal 3000 U/L is implausible: check the value and its "
        "unit; expected 5 to 200 U/L",
        "uln",
    )
    assert _refusal(check_lab, "alt", "30", "U/L", uln="4")[1] == "uln"
    assert check_lab("alt", "30", "U/L", uln="5").status == "fail"  # 6 × ULN > 1.5 × ULN
    assert check_lab("alt", "300", "U/L", uln="200").status == "pass"  # exactly 1.5 × ULN


def test_a_uln_without_its_unit_names_the_uln_unit_field():
    assert _refusal(check_lab, "alt", "30", "U/L", uln="40", uln_unit="") == (
        f"{ALT}: no ULN's unit given; expected a unit such as U/L, IU/L, µkat/L",
        "uln_unit",
    )


def test_the_age_for_egfr_is_read_as_an_age():
    message, field = _refusal(check_lab, "creatinine", "1", "mg/dL", age="abc", sex="f")
    assert message == (
        "Serum creatinine: the age 'abc' is not a number; expected the age in completed years, "
        "such as 46"
    )
    assert field is None
    # only what is missing is asked for: the sex was given
    assert _refusal(check_lab, "creatinine", "1", "mg/dL", age=None, sex="f")[0] == (
        "Serum creatinine: eGFR by CKD-EPI 2021 needs the age in completed years"
    )
    assert _refusal(check_lab, "creatinine", "1", "mg/dL", age=40, sex=None)[0] == (
        "Serum creatinine: eGFR by CKD-EPI 2021 needs the sex (female or male)"
    )


# -- the reason a site reads ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "unit", "reason"),
    [
        ("9", "g/dL", "Hemoglobin 9 g/dL, not < 8.0 g/dL: passes (EX24)"),
        ("7.5", "g/dL", "Hemoglobin 7.5 g/dL < 8.0 g/dL: excluded (EX24)"),
        ("90", "g/L", "Hemoglobin 90 g/L = 9 g/dL, not < 8.0 g/dL: passes (EX24)"),
        ("75", "g/L", "Hemoglobin 75 g/L = 7.5 g/dL < 8.0 g/dL: excluded (EX24)"),
        (
            "150000000000",
            "cells/L",
            "Platelets 150000000000 cells/L = 150 ×10⁹/L, not < 75 ×10⁹/L: passes (EX24)",
        ),
    ],
)
def test_the_reason_states_the_value_its_conversion_and_the_threshold(value, unit, reason):
    analyte = "platelets" if unit == "cells/L" else "hemoglobin"
    assert check_lab(analyte, value, unit).reason == reason


def test_within_the_arithmetics_rounding_of_the_threshold_is_at_it_and_passes():
    # 4.9648 mmol/L is exactly 8.0 g/dL by the 0.6206 factor; converted in binary it comes out
    # 7.999999999999999 g/dL (1.1e-16 below relatively): noise, at the threshold
    noise = check_lab("hemoglobin", "4.9648", "mmol/L")
    assert (noise.status, noise.on_boundary) == ("pass", True)
    # 7.9999999999999 g/dL (14 significant digits) was "at" 8 and passed: more digits than a
    # value may have are refused, never decided
    with pytest.raises(LabInputError, match="significant digits"):
        check_lab("hemoglobin", "7.9999999999999", "g/dL")
    # 7.99999999999 g/dL (12 digits) is 1.25e-12 below: under the threshold
    below = check_lab("hemoglobin", "7.99999999999", "g/dL")
    assert (below.status, below.on_boundary) == ("fail", False)
    # a column of numbers (a Parquet file's doubles): each decided as the double it is
    column = check_lab_column(
        "hemoglobin", [7.9999999999999, 7.9999999999, 7.99999999, 8.00000001, 8.0], "g/dL"
    )
    assert list(column["status"]) == ["fail", "fail", "fail", "pass", "pass"]
    assert list(column["on_boundary"]) == [False, False, False, False, True]


def test_a_missing_value_gives_the_whole_unknown_result():
    assert unknown_result("hemoglobin") == LabResult(
        analyte="hemoglobin",
        label="Hemoglobin",
        value=None,
        unit=None,
        value_in_protocol_unit=None,
        protocol_unit="g/dL",
        threshold="< 8.0 g/dL",
        status="unknown",
        criterion="EX24",
        reason="Hemoglobin: no value recorded: unknown (EX24)",
    )
    # Creatinine is compared through eGFR: the threshold shown is eGFR's.
    creatinine = unknown_result("creatinine", "not done")
    assert (creatinine.analyte, creatinine.label, creatinine.protocol_unit) == (
        "creatinine",
        "Serum creatinine",
        "mg/dL",
    )
    assert creatinine.threshold == "< 40 mL/min/1.73 m²"
    assert creatinine.reason == "Serum creatinine: not done: unknown (EX24)"


@pytest.mark.parametrize(
    ("value", "threshold", "shown"),
    [
        (1.23456, None, "1.235"),  # four significant digits at least
        (7.9996, 8.0, "7.9996"),  # 4 digits would show 8.000, the threshold itself
        (8.00004, 8.0, "8.00004"),
        (1250.0, None, "1250"),  # no exponent
        (1e16, None, "10000000000000000"),
        (0.1, None, "0.1"),
    ],
)
def test_numbers_are_shown_with_enough_digits_to_tell_the_side(value, threshold, shown):
    assert labs._number(value, threshold) == shown


def test_tiny_numbers_are_written_out_without_an_exponent():
    assert labs._plain(1.5e-12, 2) == "0.0000000000015"


def test_a_plausible_range_written_in_molar_units_is_compared_through_the_molar_mass():
    # 0.1 to 25 mg/dL of creatinine is 8.84 to 2210 µmol/L (88.4 µmol/L per mg/dL).
    creatinine = dataclasses.replace(
        get_analyte("creatinine"), plausible=parse_range("8.84 to 2210 µmol/L")
    )
    check_plausible(creatinine, ureg.Quantity(24.9, "mg/dL"), 24.9, "mg/dL")
    message = _refusal(check_plausible, creatinine, ureg.Quantity(26, "mg/dL"), 26.0, "mg/dL")
    assert message == (
        "Serum creatinine: the value 26 mg/dL is implausible: check the value and its unit"
        "; expected 8.84 to 2210 µmol/L",
        "value",
    )
    with pytest.raises(LabInputError, match=r"1 value\(s\) are implausible \(rows 1\)"):
        labs._check_column_plausible(
            creatinine, np.array([24.9, 26.0]), pd.RangeIndex(2), creatinine.plausible, "value"
        )


# -- the vectorized path -------------------------------------------------------------------


def test_the_rows_named_stop_at_five_with_an_ellipsis_after():
    with pytest.raises(LabInputError) as five:
        check_lab_column("hemoglobin", ["x"] * 5 + ["9"], "g/dL")
    assert str(five.value) == (
        "Hemoglobin: 5 value(s) are not finite non-negative numbers (rows 0, 1, 2, 3, 4); "
        f"expected numbers in a unit such as {HB_UNITS}"
    )
    with pytest.raises(LabInputError, match=r"6 value\(s\) .*\(rows 0, 1, 2, 3, 4, \.\.\.\);"):
        check_lab_column("hemoglobin", ["x"] * 6, "g/dL")
    with pytest.raises(LabInputError) as implausible:
        check_lab_column("hemoglobin", [30] * 5, "g/dL")
    assert str(implausible.value) == (
        f"Hemoglobin: 5 value(s) are implausible (rows 0, 1, 2, 3, 4): {PLAUSIBLE_HB}"
    )
    with pytest.raises(
        LabInputError, match=r"6 value\(s\) are implausible \(rows 0, 1, 2, 3, 4, \.\.\.\)"
    ):
        check_lab_column("hemoglobin", [30] * 6, "g/dL")


def test_the_ends_of_the_plausible_range_are_accepted_in_columns():
    result = check_lab_column("hemoglobin", [1, 25], "g/dL")
    assert list(result["status"]) == ["fail", "pass"]


def test_a_bad_uln_column_is_refused_as_a_uln():
    with pytest.raises(LabInputError) as raised:
        check_lab_column("alt", [30, 30], "U/L", uln=["40", "x"])
    assert str(raised.value) == (
        f"{ALT}: 1 ULN(s) are not finite non-negative numbers (rows 1); expected numbers in "
        "a unit such as U/L, IU/L, µkat/L"
    )
    with pytest.raises(LabInputError, match=r"1 ULN\(s\) are implausible \(rows 0\)"):
        check_lab_column("alt", [30], "U/L", uln=[0])


def test_egfr_columns_need_both_columns_and_read_them_strictly():
    with pytest.raises(LabInputError) as raised:
        check_lab_column("creatinine", [0.9], "mg/dL", sex=["female"])
    assert str(raised.value) == (
        "Serum creatinine: eGFR by CKD-EPI 2021 needs an age and a sex column"
    )
    with pytest.raises(LabInputError) as age:
        check_lab_column(
            "creatinine", [0.9, 0.9], "mg/dL", age=[55, "fifty"], sex=["female", "male"]
        )
    assert str(age.value) == (
        "Serum creatinine: 1 age(s) are not finite non-negative numbers (rows 1); expected "
        "the age in completed years"
    )
    for bad in (17, 121, 55.5):
        with pytest.raises(LabInputError) as outside:
            check_lab_column(
                "creatinine", [0.9, 0.9], "mg/dL", age=[55, bad], sex=["female", "female"]
            )
        assert str(outside.value) == (
            "Serum creatinine: 1 age(s) are not whole years from 18 to 120 (rows 1); "
            "CKD-EPI 2021 is for adults"
        )


@pytest.mark.parametrize("age", [18, 120])
@pytest.mark.parametrize("sex", ["Female", " female ", "FEMALE", "Male", "MALE", " male"])
def test_egfr_columns_accept_the_age_bounds_and_every_spelling_of_sex(age, sex):
    # every case and the spaces around, never an abbreviation (F, M, Woman are refused)
    scalar = check_lab("creatinine", "0.9", "mg/dL", age=age, sex=sex)
    column = check_lab_column("creatinine", [0.9], "mg/dL", age=[age], sex=[sex])
    assert column["status"].iloc[0] == scalar.status
    assert column["egfr"].iloc[0] == pytest.approx(scalar.egfr, rel=1e-12)


def test_columns_keep_their_row_labels_and_align_age_and_sex_by_label():
    values = pd.Series([0.9, 3.0], index=["b", "a"])
    # "a" is a 30-year-old man with creatinine 3.0 mg/dL; "b" a 70-year-old woman with 0.9.
    sex = pd.Series({"a": "male", "b": "female"})
    age = pd.Series({"a": 30, "b": 70})
    result = check_lab_column("creatinine", values, "mg/dL", age=age, sex=sex)
    assert list(result.index) == ["b", "a"]
    woman = check_lab("creatinine", "0.9", "mg/dL", age=70, sex="female")
    man = check_lab("creatinine", "3.0", "mg/dL", age=30, sex="male")
    assert result.loc["b", "egfr"] == pytest.approx(woman.egfr, rel=1e-12)
    assert result.loc["a", "egfr"] == pytest.approx(man.egfr, rel=1e-12)
    hb = check_lab_column("hemoglobin", pd.Series([7, 9], index=[10, 20]), "g/dL")
    assert list(hb.index) == [10, 20]
    assert list(hb["status"].cat.categories) == ["pass", "fail", "unknown"]


# -- check_lab's own refusals and words ----------------------------------------------------------


def test_negative_values_and_ulns_are_refused_naming_their_field():
    assert _refusal(check_lab, "hemoglobin", "-1", "g/dL") == (
        "Hemoglobin: the value '-1' is negative; expected zero or more (a concentration, count "
        "or percentage)",
        "value",
    )
    assert _refusal(check_lab, "alt", "30", "U/L", uln="-40")[1] == "uln"


def test_a_bad_or_zero_uln_is_refused_as_the_uln():
    assert _refusal(check_lab, "alt", "30", "U/L", uln="x") == (
        f"{ALT}: the ULN 'x' {NOT_A_DECIMAL}; in a unit such as U/L, IU/L, µkat/L",
        "uln",
    )
    assert _refusal(check_lab, "alt", "30", "U/L", uln="0") == (
        f"{ALT}: the ULN '0' is zero; expected a positive upper limit of normal",
        "uln",
    )


def test_an_implausible_value_is_refused_by_check_lab_in_the_words_typed():
    assert _refusal(check_lab, "hemoglobin", "30", "g/dL") == (
        f"Hemoglobin: the value 30 g/dL is implausible: {PLAUSIBLE_HB}",
        "value",
    )


def test_a_uln_age_or_sex_where_the_analyte_takes_none_is_refused():
    assert _refusal(check_lab, "hemoglobin", "9", "g/dL", uln="10") == (
        "Hemoglobin: no upper limit of normal (a ULN applies only to ALT, AST and total bilirubin)",
        "uln",
    )
    age_only = _refusal(check_lab, "hemoglobin", "9", "g/dL", age=40)
    sex_only = _refusal(check_lab, "hemoglobin", "9", "g/dL", sex="female")
    expected = (
        "Hemoglobin: an age or sex was given; they are used only to compute eGFR from creatinine",
        None,
    )
    assert age_only == sex_only == expected


def test_the_uln_reason_states_the_ratio_and_the_result_carries_the_label():
    # 30 U/L over a ULN of 40 U/L is 0.75 × ULN.
    result = check_lab("alt", "30", "U/L", uln="40")
    assert (
        result.reason == "ALT 30 U/L with ULN 40 U/L = 0.75 × ULN, not > 1.5 × ULN: passes (EX24)"
    )
    assert (result.label, result.uln, result.uln_unit) == (ALT, 40.0, "U/L")
    # 59.996 / 40 = 1.4999: four digits would show 1.500, the threshold itself.
    close = check_lab("alt", "59.996", "U/L", uln="40")
    assert "= 1.4999 × ULN, not > 1.5 × ULN: passes" in close.reason


def _ckd_epi_2021(scr_mg_dl: float, age: int, female: bool) -> float:
    """CKD-EPI 2021 (Inker et al., NEJM 2021), written out here as the test's own oracle."""
    kappa, alpha = (0.7, -0.241) if female else (0.9, -0.302)
    ratio = scr_mg_dl / kappa
    value = 142 * min(ratio, 1) ** alpha * max(ratio, 1) ** -1.200 * 0.9938**age
    return value * (1.012 if female else 1)


def test_an_egfr_just_above_40_is_shown_above_40():
    # Bisect the independent formula for a creatinine whose eGFR is 40.0002 (a 55-year-old man).
    low, high = 0.5, 5.0
    for _ in range(80):
        middle = (low + high) / 2
        low, high = (middle, high) if _ckd_epi_2021(middle, 55, False) > 40.0002 else (low, middle)
    creatinine = f"{low:.11f}"  # 12 significant digits: as many as a value may have
    result = check_lab("creatinine", creatinine, "mg/dL", age=55, sex="male")
    assert result.egfr == pytest.approx(40.0002, abs=1e-6)
    shown = result.reason.split("eGFR (CKD-EPI 2021) = ")[1].split(" ")[0]
    assert float(shown) > 40 and shown != "40", shown
    assert result.status == "pass"


_IN_PROTOCOL_UNITS = {  # analyte: (threshold, its unit), from the registry's "<" criteria
    "hemoglobin": ("8.0", "g/dL"),
    "wbc": ("3", "10^9/L"),
    "neutrophils": ("1.5", "10^9/L"),
    "platelets": ("75", "10^9/L"),
}


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(sorted(_IN_PROTOCOL_UNITS)),
    st.integers(min_value=1, max_value=12),
    st.integers(min_value=2, max_value=12),  # within 9 % of the threshold: a plausible value
    st.integers(min_value=-9, max_value=9),
)
def test_any_value_reported_to_twelve_digits_is_compared_as_written(name, digits, power, step):
    """A value written with up to twelve significant digits, however close to the threshold
    (a relative step of up to 9 in the twelfth digit), is on the side its written decimals put
    it (compared here as decimals): only the arithmetic's own rounding, far beyond the twelfth
    digit, counts as at the threshold."""
    from decimal import Decimal, localcontext

    threshold, unit = _IN_PROTOCOL_UNITS[name]
    limit = Decimal(threshold)
    with localcontext() as context:
        context.prec = 30
        moved = limit * (1 + Decimal(step) * Decimal(10) ** -power)
        context.prec = digits  # then written with ``digits`` significant digits
        written = +moved
    text = format(written, "f")
    expected = "fail" if written < limit else "pass"
    assert check_lab(name, text, unit).status == expected, text


@settings(max_examples=150, deadline=None)
@given(
    st.integers(min_value=18, max_value=120),
    st.sampled_from(["female", "male"]),
    st.decimals(min_value="40", max_value="400", places=2),
)
@example(55, "female", Decimal("135.09"))  # eGFR 39.997; shown as 1.528 mg/dL it gave 40.002
@example(55, "female", Decimal("135.08"))
def test_a_converted_creatinine_typed_back_gives_the_same_verdict(age, sex, micromolar):
    """The mg/dL a creatinine in µmol/L is shown as is what a coordinator copies: typed back
    in, it must give the eGFR verdict the µmol/L gave (near eGFR 40 a rounded 1.528 mg/dL
    passed where 135.09 µmol/L fails)."""
    import re

    given = check_lab("creatinine", str(micromolar), "µmol/L", age=age, sex=sex)
    shown = re.search(r"= ([0-9.]+) mg/dL", given.reason).group(1)
    again = check_lab("creatinine", shown, "mg/dL", age=age, sex=sex)
    assert again.status == given.status, (given.reason, again.reason)


# -- a plausible range's ends ----------------------------------------------------------------
# A tester: a dose of 5000.000001 mg was read as in "0.01 to 5000 mg" (and 0.009999999995 mg),
# the range's ends widened by a relative 1e-9 even where no unit was converted.


@settings(max_examples=200, deadline=None)
@given(
    end=st.sampled_from(["0.01", "5000"]),
    digits=st.integers(min_value=1, max_value=12),
)
def test_a_value_past_a_plausible_end_by_its_last_digit_is_out(end, digits):
    from decimal import Decimal

    from protocol.facts import parse_range

    plausible = parse_range("0.01 to 5000 mg")
    # the end moved by one unit in the last of 12 significant digits (or fewer), outwards
    step = Decimal(1).scaleb(Decimal(end).adjusted() - digits + 1)
    beyond = Decimal(end) + step if end == "5000" else Decimal(end) - step
    assert not plausible.contains(ureg.Quantity(float(beyond), "mg"))
    assert plausible.contains(ureg.Quantity(float(Decimal(end)), "mg"))
    # the same ends written in grams: exact after conversion, and still out past them
    assert plausible.contains(ureg.Quantity(float(Decimal(end) / 1000), "g"))
    assert not plausible.contains(ureg.Quantity(float(beyond / 1000), "g"))


def test_a_uln_is_read_only_for_the_analytes_the_registry_reads_against_one():
    """EX24 reads ALT, AST and total bilirubin against the site's ULN (the registry's "×ULN");
    every other analyte refuses one, and the refusal names the three. A ULN just above zero is
    read; zero and below are refused."""
    assert labs.uln_analytes() == "ALT, AST and total bilirubin"
    for name in ("alt", "ast", "total_bilirubin"):
        analyte = get_analyte(name)
        assert labs.read_uln(analyte, "0.001") == 0.001
        assert labs.read_uln(analyte, 40) == 40.0
        assert _refusal(labs.read_uln, analyte, "0") == (
            f"{analyte.label}: the ULN '0' is zero; expected a positive upper limit of normal",
            "uln",
        )
        assert _refusal(labs.read_uln, analyte, "-0.001")[1] == "uln"
    for name in ("hemoglobin", "wbc", "neutrophils", "platelets", "egfr", "creatinine", "iga"):
        analyte = get_analyte(name)
        assert _refusal(labs.read_uln, analyte, 40) == (
            f"{analyte.label}: no upper limit of normal (a ULN applies only to ALT, AST and "
            "total bilirubin)",
            "uln",
        )
