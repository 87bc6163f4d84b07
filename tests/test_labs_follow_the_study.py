"""Every lab function uses the study it is given, down to the eGFR equation, the age limit, the
creatinine factor, the analyte's label and plausible range (issue 14 §1). Found by mutation
testing: replacing `study` by None in any of these calls left the suite green.

Each variant changes one fact; the expected numbers are worked by hand from CKD-EPI 2021
(eGFR = 142 × min(Scr/κ, 1)^α × max(Scr/κ, 1)^-1.200 × 0.9938^age × 1.012 if female).
"""

from __future__ import annotations

import pytest

from protocol.errors import LabInputError
from protocol.labs import check_lab, check_value, egfr_ckd_epi_2021, parse_unit, unknown_result
from protocol.units import ureg


@pytest.fixture
def vary(varied_study):
    return varied_study


def test_the_egfr_threshold_of_the_study_decides_creatinine(vary):
    # creatinine 0.9 mg/dL, male, 55: Scr/κ = 1 -> eGFR = 142 × 0.9938^55 = 100.8: passes < 40
    assert check_lab("creatinine", "0.9", "mg/dL", age="55", sex="male").status == "pass"
    study = vary(('value: "< 40 mL/min/1.73 m²"', 'value: "< 110 mL/min/1.73 m²"'))
    result = check_lab("creatinine", "0.9", "mg/dL", age="55", sex="male", study=study)
    assert result.status == "fail" and "< 110 mL/min/1.73 m²" in result.reason


def test_the_egfr_equation_of_the_study_computes(vary):
    # constant 142 -> 71 halves the eGFR: 100.8 -> 50.4 (male, 55, Scr/κ = 1)
    study = vary(("    constant: 142\n", "    constant: 71\n"))
    default = egfr_ckd_epi_2021(ureg.Quantity(0.9, "mg/dL"), 55, "male").magnitude
    halved = egfr_ckd_epi_2021(ureg.Quantity(0.9, "mg/dL"), 55, "male", study).magnitude
    assert default == pytest.approx(142 * 0.9938**55)
    assert halved == pytest.approx(default / 2)
    lab = check_lab("creatinine", "0.9", "mg/dL", age="55", sex="male", study=study)
    assert "= 50.4" in lab.reason


def test_the_creatinine_factor_of_the_study_converts(vary):
    # 88.4 µmol/L is 1.0 mg/dL at 88.4 µmol/L per mg/dL, and 0.884 mg/dL at 100 per mg/dL:
    # a male of 55 then has Scr/κ = 0.982 < 1: eGFR = 142 × 0.982^-0.302 × 0.9938^55 = 101.4
    study = vary(
        ("      value: 88.4 umol/L per mg/dL", "      value: 100 umol/L per mg/dL"),
        ("      value: 113.12 g/mol", "      value: 100 g/mol"),
    )
    default = egfr_ckd_epi_2021(ureg.Quantity(88.4, "umol/L"), 55, "male").magnitude
    varied = egfr_ckd_epi_2021(ureg.Quantity(88.4, "umol/L"), 55, "male", study).magnitude
    scr = 0.884 / 0.9
    assert varied == pytest.approx(142 * scr**-0.302 * 0.9938**55, rel=1e-6)
    assert default == pytest.approx(142 * (1.0 / 0.9) ** -1.200 * 0.9938**55, rel=1e-6)


def test_the_minimum_age_of_the_study_is_checked(vary):
    study = vary(("    minimum_age: 18\n", "    minimum_age: 30\n"))
    assert check_lab("creatinine", "0.9", "mg/dL", age="25", sex="male").status == "pass"
    with pytest.raises(LabInputError, match="outside 30-120 years"):
        check_lab("creatinine", "0.9", "mg/dL", age="25", sex="male", study=study)


def test_the_label_and_plausible_range_of_the_study_are_used(vary):
    study = vary(
        ("    label: Hemoglobin\n", "    label: Haemoglobin (Hb)\n"),
        ("      value: 1 to 25 g/dL", "      value: 1 to 40 g/dL"),
    )
    # an unrecorded value names the variant's analyte
    assert unknown_result("hemoglobin", study=study).reason.startswith("Hb: ")
    assert check_lab("hemoglobin", None, None, study=study).reason.startswith("Hb: ")
    assert unknown_result("hemoglobin").reason.startswith("Hemoglobin: ")
    # 30 g/dL is implausible for the registry's study, plausible for the variant
    with pytest.raises(LabInputError, match="implausible"):
        check_value("hemoglobin", "30", "g/dL")
    assert check_value("hemoglobin", "30", "g/dL", study).magnitude == 30
    # a refused unit is named by the variant's analyte
    with pytest.raises(LabInputError, match=r"^Haemoglobin \(Hb\): the unit 'kg' "):
        parse_unit("hemoglobin", "kg", study=study)


def test_an_empty_unit_is_named_by_what_was_asked_for():
    with pytest.raises(LabInputError) as caught:
        parse_unit("hemoglobin", "")
    assert str(caught.value).startswith("Hemoglobin: no unit given; expected a unit such as")
    assert caught.value.field == "unit"
    with pytest.raises(LabInputError) as caught:
        parse_unit("alt", " ", what="ULN's unit")
    assert "no ULN's unit given" in str(caught.value) and caught.value.field == "uln_unit"


def test_the_column_checks_follow_the_study(vary):
    import pandas as pd

    from protocol.labs import check_lab_column

    values = pd.Series([12.1, 13.0])
    default = check_lab_column("hemoglobin", values, "g/dL")
    assert list(default["status"]) == ["pass", "pass"]
    study = vary(('value: "< 8.0 g/dL"', 'value: "< 12.5 g/dL"'))
    assert list(check_lab_column("hemoglobin", values, "g/dL", study=study)["status"]) == [
        "fail",
        "pass",
    ]
    # creatinine 0.9 mg/dL, male, 55: eGFR 100.8; halved by the variant's constant to 50.4,
    # which the variant's threshold (< 60) excludes and the registry's (< 40) does not
    halved = vary(
        ("    constant: 142\n", "    constant: 71\n"),
        ('value: "< 40 mL/min/1.73 m²"', 'value: "< 60 mL/min/1.73 m²"'),
    )
    creatinine = pd.Series([0.9])
    kwargs = {"age": pd.Series([55]), "sex": pd.Series(["male"])}
    assert list(check_lab_column("creatinine", creatinine, "mg/dL", **kwargs)["status"]) == ["pass"]
    column = check_lab_column("creatinine", creatinine, "mg/dL", **kwargs, study=halved)
    assert list(column["status"]) == ["fail"]


def test_an_age_in_part_years_cites_the_age_reading():
    with pytest.raises(LabInputError, match=r"as screening counts it \(PI09\)$"):
        check_lab("creatinine", "0.9", "mg/dL", age="55.5", sex="male")


@pytest.mark.parametrize(
    ("low", "refused"),
    [("0", True), ("0.0", True), ("0.001", False), ("0.1", False)],
)
def test_a_creatinine_range_must_start_above_zero(vary, low, refused):
    # the eGFR divides creatinine by kappa and raises it to a negative power: a creatinine of
    # 0 has no eGFR (it read as an infinite one that passes, then as an internal error), so a
    # study whose plausible creatinine reaches 0 is refused; a range just above 0 is a study
    from protocol.errors import ProtocolDataError

    change = ("      value: 0.1 to 25 mg/dL", f"      value: {low} to 25 mg/dL")
    if not refused:
        study = vary(change)
        assert check_lab("creatinine", low, "mg/dL", age="45", sex="female", study=study)
        return
    with pytest.raises(ProtocolDataError, match=r"expected a lowest plausible value above 0"):
        vary(change)
