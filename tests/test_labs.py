"""Lab thresholds (EX07, EX22, EX24): every analyte, every accepted unit, every boundary."""

from __future__ import annotations

import math

import pytest

from protocol.labs import (
    LabInputError,
    analytes,
    check_lab,
    egfr_ckd_epi_2021,
    parse_unit,
)
from protocol.units import Quantity, read_unit

pytestmark = pytest.mark.traces("lab_analytes", "criteria.EX07", "criteria.EX22", "criteria.EX24")

# Non-ULN analytes with a threshold of their own.
DIRECT = [a for a in analytes().values() if a.threshold is not None and not a.relative_to_uln]
RELATIVE = [a for a in analytes().values() if a.relative_to_uln]

# Just below / above: a relative step large enough to be a real value, small enough to be close.
STEP = 1e-4


def _threshold_in(analyte, unit_text: str) -> float:
    """The protocol threshold written in ``unit_text``, by pint (independently of check_lab)."""
    unit = read_unit(unit_text)
    in_unit = analyte.convert(analyte.threshold.quantity, unit.units)
    return float(in_unit.magnitude / unit.magnitude)


def _expected(comparison: str, side: str) -> str:
    if side == "at":
        return "pass"  # the registry's comparisons are strict
    excluded_side = "below" if comparison == "<" else "above"
    return "fail" if side == excluded_side else "pass"


CASES = [
    (analyte.name, unit, side)
    for analyte in DIRECT
    for unit in analyte.accepted_units
    for side in ("below", "at", "above")
]


@pytest.mark.parametrize(("name", "unit", "side"), CASES)
@pytest.mark.traces(
    "lab_analytes.hemoglobin",
    "lab_analytes.wbc",
    "lab_analytes.neutrophils",
    "lab_analytes.platelets",
    "lab_analytes.egfr",
    "lab_analytes.iga",
    "lab_analytes.igg",
    "lab_analytes.fvc",
    "lab_analytes.dlco",
)
def test_every_direct_threshold_in_every_accepted_unit(name, unit, side):
    analyte = analytes()[name]
    at = _threshold_in(analyte, unit)
    value = {"below": at * (1 - STEP), "at": at, "above": at * (1 + STEP)}[side]
    result = check_lab(name, value, unit)
    assert result.status == _expected(analyte.threshold.comparison, side), result.reason
    assert result.on_boundary == (side == "at")
    assert result.criterion == analyte.criterion


@pytest.mark.parametrize(
    ("name", "unit", "uln_unit", "side"),
    [
        (analyte.name, unit, uln_unit, side)
        for analyte in RELATIVE
        for unit in analyte.accepted_units
        for uln_unit in analyte.accepted_units
        for side in ("below", "at", "above")
    ],
)
@pytest.mark.traces(
    "lab_analytes.alt",
    "lab_analytes.ast",
    "lab_analytes.total_bilirubin",
)
def test_every_uln_threshold_with_value_and_uln_in_every_accepted_unit(name, unit, uln_unit, side):
    analyte = analytes()[name]
    # a plausible ULN (the middle of the accepted ULN range), written in uln_unit
    middle = (analyte.uln_plausible.low + analyte.uln_plausible.high) / 2
    uln = float(analyte.convert(middle, parse_unit(name, uln_unit).units).magnitude) / float(
        parse_unit(name, uln_unit).magnitude
    )
    uln_in_value_unit = float(
        analyte.convert(
            Quantity(uln) * parse_unit(name, uln_unit), parse_unit(name, unit).units
        ).magnitude
        / parse_unit(name, unit).magnitude
    )
    multiple = analyte.threshold_magnitude * {"below": 1 - STEP, "at": 1, "above": 1 + STEP}[side]
    result = check_lab(name, uln_in_value_unit * multiple, unit, uln=uln, uln_unit=uln_unit)
    assert result.status == _expected(">", side), result.reason
    assert result.value_in_protocol_unit == pytest.approx(multiple)


# -- the conversion factors of facts.md §6, written out by hand --------------------------------


@pytest.mark.parametrize(
    ("name", "value", "unit", "in_protocol_unit"),
    [
        ("hemoglobin", 80, "g/L", 8.0),  # x 10
        ("hemoglobin", 8 * 0.6206, "mmol/L", 8.0),  # monomer convention
        ("wbc", 3000, "/µL", 3.0),  # cells/µL x 0.001
        ("wbc", 3, "10^3/µL", 3.0),
        ("platelets", 75000, "/mm³", 75.0),
        ("neutrophils", 1.5e9, "cells/L", 1.5),
        ("igg", 4, "g/L", 400.0),  # mg/dL x 0.01
        ("iga", 100, "mg/L", 10.0),
        ("egfr", 40, "mL/min/1.73m^2", 40.0),
        ("fvc", 50, "%", 50.0),
    ],
)
def test_conversions_match_the_published_factors(name, value, unit, in_protocol_unit):
    result = check_lab(name, value, unit)
    # the published factors are the conversions (PI29): exact, not "about"
    assert result.value_in_protocol_unit == pytest.approx(in_protocol_unit, rel=1e-9)


def test_bilirubin_and_enzyme_factors():
    # 1 mg/dL bilirubin = 17.1 µmol/L: a value of 17.1 µmol/L with a ULN of 1 mg/dL is 1 x ULN
    result = check_lab("total_bilirubin", 17.1, "µmol/L", uln=1, uln_unit="mg/dL")
    assert result.value_in_protocol_unit == pytest.approx(1.0, rel=1e-9) and result.on_boundary
    # 1 µkat/L = 60 U/L
    result = check_lab("alt", 1, "µkat/L", uln=60, uln_unit="U/L")
    assert result.value_in_protocol_unit == pytest.approx(1.0)
    assert check_lab("ast", 61, "IU/L", uln=40, uln_unit="U/L").status == "fail"


# -- the spellings people type -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "unit", "expected"),
    [
        ("hemoglobin", "g/dl", 8.0),
        ("hemoglobin", "g/dL", 8.0),
        ("hemoglobin", "G/L", None),  # grams per litre for haemoglobin (80 G/L = 8.0 g/dL)
        ("wbc", "G/L", 8.0),  # giga per litre for a count
        ("total_bilirubin", "umol/L", None),
        ("total_bilirubin", "µmol/L", None),  # micro sign U+00B5
        ("total_bilirubin", "μmol/L", None),  # Greek mu U+03BC
        ("wbc", "x10^9/L", 8.0),
        ("wbc", "×10⁹/L", 8.0),
        ("wbc", "10*9/L", 8.0),
        ("wbc", "10^9/l", 8.0),
        ("wbc", "X10^9/L", 8.0),
        ("wbc", "/mm3", None),  # 8 /mm³ is implausible; see the refusal tests
        ("alt", "IU/L", None),
        ("egfr", "mL/min/1.73 m²", 8.0),
        ("egfr", "ml/min/1.73m2", 8.0),
    ],
)
def test_unit_spellings(name, unit, expected):
    if expected is None:
        assert parse_unit(name, unit)  # accepted
    else:
        assert check_lab(name, 8, unit).value_in_protocol_unit == pytest.approx(expected)


def test_giga_per_litre_and_cells_per_cubic_millimetre_convert_at_plausible_values():
    assert check_lab("hemoglobin", 80, "G/L").value_in_protocol_unit == pytest.approx(8.0)
    assert check_lab("wbc", 8000, "/mm3").value_in_protocol_unit == pytest.approx(8.0)


def test_the_three_micro_spellings_are_the_same_unit():
    assert (
        parse_unit("creatinine", "umol/L")
        == parse_unit("creatinine", "µmol/L")
        == parse_unit("creatinine", "μmol/L")
    )


# -- bad input: a clear error naming the analyte, the value and the accepted units ---------------


@pytest.mark.parametrize(
    ("args", "kwargs", "fragments"),
    [
        (("hemoglobin", 8, "U/L"), {}, ["Hemoglobin", "'U/L'", "wrong kind", "g/dL, g/L, mmol/L"]),
        (("hemoglobin", 8, "bananas/L"), {}, ["'bananas/L'", "not a unit", "g/dL"]),
        (("hemoglobin", 8, ""), {}, ["no unit given"]),
        (("hemoglobin", -1, "g/dL"), {}, ["-1", "negative"]),
        (("hemoglobin", "eight", "g/dL"), {}, ["'eight'", "not a decimal number", "g/dL, g/L"]),
        (("hemoglobin", math.inf, "g/dL"), {}, ["inf", "not a finite number"]),
        (("hemoglobin", math.nan, "g/dL"), {}, None),  # NaN is a missing value: unknown
        (("hemoglobin", True, "g/dL"), {}, ["value true", "not a number"]),
        (("alt", 50, "U/L"), {}, ["ALT", "upper limit of normal is needed", "U/L, IU/L"]),
        (("alt", 50, "U/L"), {"uln": 0, "uln_unit": "U/L"}, ["ULN 0", "zero"]),
        (("alt", 50, "U/L"), {"uln": 40, "uln_unit": "g/L"}, ["'g/L'", "wrong kind"]),
        (("creatinine", 1, "mg/dL"), {}, ["needs the age", "sex"]),
        (("creatinine", 1, "mg/dL"), {"age": 17, "sex": "female"}, ["17", "adults"]),
        (("creatinine", 1, "mg/dL"), {"age": 40, "sex": "x"}, ["'x'", "female, male"]),
        (("potassium", 4, "mmol/L"), {}, ["'potassium'", "hemoglobin, wbc"]),
    ],
)
def test_bad_input_is_refused_clearly(args, kwargs, fragments):
    if fragments is None:
        assert check_lab(*args, **kwargs).status == "unknown"
        return
    with pytest.raises(LabInputError) as caught:
        check_lab(*args, **kwargs)
    for fragment in fragments:
        assert fragment in str(caught.value)


def test_a_missing_value_is_unknown_never_pass():
    result = check_lab("igg", None, None)
    assert result.status == "unknown"
    assert result.reason == "IgG: no value recorded: unknown (EX22)"


# -- results a coordinator can paste ---------------------------------------------------------------


def test_the_reason_sentences():
    assert (
        check_lab("hemoglobin", 78, "g/L").reason
        == "Hemoglobin 78 g/L = 7.8 g/dL < 8.0 g/dL: excluded (EX24)"
    )
    assert (
        check_lab("igg", 3.9, "g/L").reason
        == "IgG 3.9 g/L = 390 mg/dL < 400 mg/dL: excluded (EX22)"
    )
    assert "exactly at the threshold" in check_lab("hemoglobin", 80, "g/L").reason


def test_a_value_near_the_threshold_is_shown_with_enough_digits():
    result = check_lab("hemoglobin", 7.9999, "g/dL")
    assert result.status == "fail"
    assert "7.9999" in result.reason  # never rounded to "8" while excluded
    result = check_lab("hemoglobin", 4.9650, "mmol/L")  # / 0.6206 = 8.00032 g/dL
    assert result.status == "pass" and "8.0003 g/dL" in result.reason


def test_no_rounding_to_the_thresholds_precision():
    assert check_lab("hemoglobin", 7.96, "g/dL").status == "fail"


# -- eGFR (CKD-EPI 2021) -------------------------------------------------------------------------


def _ckd_epi_reference(scr_mg_dl: float, age: float, female: bool) -> float:
    """facts.md §5, written independently of protocol/labs.py."""
    k, a = (0.7, -0.241) if female else (0.9, -0.302)
    return (
        142
        * min(scr_mg_dl / k, 1) ** a
        * max(scr_mg_dl / k, 1) ** -1.200
        * 0.9938**age
        * (1.012 if female else 1)
    )


def test_the_published_worked_example():
    # creatinine 0.9 mg/dL, woman aged 55 -> "about 76" (75.5 to one decimal, 76 rounded half up)
    egfr = egfr_ckd_epi_2021(Quantity(0.9, "mg/dL"), 55, "female")
    assert round(egfr.magnitude, 1) == 75.5
    assert math.floor(round(egfr.magnitude, 1) + 0.5) == 76
    assert str(egfr.units) == "mL_per_min_per_1_73_m2"


@pytest.mark.parametrize("female", [True, False])
@pytest.mark.parametrize("scr", [0.4, 0.7, 0.9, 1.0, 1.3, 2.0, 3.5])
@pytest.mark.parametrize("age", [18, 40, 70])
def test_egfr_agrees_with_an_independent_computation(scr, age, female):
    egfr = egfr_ckd_epi_2021(Quantity(scr, "mg/dL"), age, "female" if female else "male")
    assert abs(egfr.magnitude - _ckd_epi_reference(scr, age, female)) < 0.1


def test_creatinine_in_umol_per_litre_gives_the_same_egfr():
    in_mg = egfr_ckd_epi_2021(Quantity(1.2, "mg/dL"), 50, "male").magnitude
    in_umol = egfr_ckd_epi_2021(Quantity(1.2 * 88.4, "umol/L"), 50, "male").magnitude
    assert in_umol == pytest.approx(in_mg, rel=1e-4)


def _creatinine_at_egfr_40(age: float, female: bool) -> float:
    """Invert the reference equation above 1 x kappa (where an eGFR of 40 lies)."""
    k = 0.7 if female else 0.9
    rest = 142 * 0.9938**age * (1.012 if female else 1)
    return k * (40 / rest) ** (1 / -1.200)


@pytest.mark.parametrize("female", [True, False])
@pytest.mark.parametrize("side", ["below", "at", "above"])
@pytest.mark.parametrize("unit", ["mg/dL", "µmol/L"])
@pytest.mark.traces(
    "lab_analytes.creatinine",
    "lab_analytes.egfr",
)
def test_creatinine_boundary_at_egfr_40(female, side, unit):
    scr = _creatinine_at_egfr_40(60, female)
    # a higher creatinine is a lower eGFR: "below" the eGFR threshold is above this creatinine
    scr *= {"below": 1 + STEP, "at": 1, "above": 1 - STEP}[side]
    value = scr if unit == "mg/dL" else scr * 88.4  # mg/dL -> µmol/L, the conventional factor
    result = check_lab("creatinine", value, unit, age=60, sex="female" if female else "male")
    assert result.status == _expected("<", side), result.reason
    assert result.egfr == pytest.approx(40, rel=2e-3)


@pytest.mark.parametrize(
    ("unit", "per_1e9_per_l"),
    [
        ("10^9/L", 1.0),
        ("×10⁹/L", 1.0),
        ("10^3/µL", 1.0),
        ("/µL", 1e-3),
        ("/mm³", 1e-3),
        ("cells/L", 1e-9),
        ("10^12/L", 1e3),
    ],
)
def test_cell_counts_per_litre_microlitre_or_cubic_millimetre_are_read(unit, per_1e9_per_l):
    assert math.isclose(read_unit(unit).to("e9_per_L").magnitude, per_1e9_per_l, rel_tol=1e-12)


@pytest.mark.parametrize("unit", ["10^9/dL", "10^6/mL", "cells/dL", "/mL", "10^3/dl"])
def test_a_count_per_decilitre_or_millilitre_is_refused_as_no_laboratory_reports_it(unit):
    """ "10^9/dL" is ten times "10^9/L": a one-letter slip that would make a neutrophil count of
    1.2 (excluded) read as 12 (passing); counts are per L, µL or mm³ only."""
    with pytest.raises(ValueError, match="cells are counted per litre"):
        read_unit(unit)
    with pytest.raises(LabInputError):
        check_lab("neutrophils", 1.2, unit)


def test_a_mass_per_decilitre_is_still_a_unit():
    assert check_lab("hemoglobin", 12.1, "g/dL").status == "pass"
    assert read_unit("mg/mL").to("g/L").magnitude == pytest.approx(1.0)


# 0.6206 mmol/L per g/dL (haemoglobin, as a monomer): 4.9648 mmol/L is 8 g/dL exactly, which the
# conversion gives as 7.999999999999999; the verdict is "at the threshold, passes", and a
# program reading the value beside it must not find it below and fail it again.
@pytest.mark.parametrize(("value", "unit"), [(4.9648, "mmol/L"), (80, "g/L"), (8, "g/dL")])
def test_a_value_at_the_threshold_is_given_as_the_threshold(value, unit):
    import pandas as pd

    from protocol.labs import check_lab_column

    result = check_lab("hemoglobin", value, unit)
    assert (result.status, result.on_boundary) == ("pass", True)
    assert result.value_in_protocol_unit == 8.0
    column = check_lab_column("hemoglobin", pd.Series([value, value * 0.999]), unit)
    assert column["value_in_protocol_unit"].iloc[0] == 8.0
    assert list(column["status"]) == ["pass", "fail"]


def test_an_egfr_at_the_threshold_is_given_as_the_threshold():
    # the creatinine that gives 40 at 46 for a woman: its eGFR is reported as 40 when at it
    from tests.test_prescreen_fast_paths import _creatinine_at

    value = float(f"{_creatinine_at(40.0, 46, True):.15g}")  # 1.60103245976146 mg/dL
    result = check_lab("creatinine", value, "mg/dL", age=46, sex="female")
    assert (result.status, result.on_boundary, result.egfr) == ("pass", True, 40.0)
