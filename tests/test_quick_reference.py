"""The criteria quick reference: short names and thresholds from study.yaml (issue 12).

Expected thresholds are the registry's words and unit arithmetic a reader can redo:
8.0 g/dL = 80 g/L (1 dL = 0.1 L); 10 mg/dL = 0.1 g/L; 400 mg/dL = 4 g/L.
"""

from __future__ import annotations

import pytest

from protocol.quick_reference import lab_threshold, quick_reference
from protocol.study import load_study

pytestmark = pytest.mark.traces("criteria")


def _rows(study=None):
    return {row.id: row for row in quick_reference(study)}


def test_every_criterion_has_a_short_name_a_threshold_and_a_kind():
    rows = _rows()
    assert list(rows) == [c.id for c in load_study().criteria]
    for row in rows.values():
        assert 2 <= len(row.short_name) <= 60, row.id
        assert row.threshold and "{" not in row.threshold and "None" not in row.threshold
        assert row.kind in ("computed", "attested")
    assert [r.id for r in rows.values() if r.kind == "attested"] == ["IN07", "EX16", "EX30"]


def test_laboratory_thresholds_are_shown_in_both_units_where_they_differ():
    rows = _rows()
    assert rows["EX24"].threshold == (
        "haemoglobin < 8.0 g/dL (< 80 g/L); WBC < 3 ×10⁹/L; neutrophils < 1.5 ×10⁹/L; "
        "platelets < 75 ×10⁹/L; ALT or AST > 1.5 × ULN; total bilirubin > 1 × ULN; "
        "eGFR < 40 mL/min/1.73 m²"
    )
    assert rows["EX22"].threshold == "IgA < 10 mg/dL (< 0.1 g/L); IgG < 400 mg/dL (< 4 g/L)"
    assert rows["EX07"].threshold == (
        "FVC < 50 % predicted; DLCO < 40 % predicted; or oxygen therapy"
    )


def test_the_other_thresholds_carry_the_registry_values():
    rows = _rows()
    assert rows["IN01"].threshold == "18 years to 70 years on the screening date"
    assert rows["IN04"].threshold == "at most 18 months"
    assert rows["IN05"].threshold == "at least 10"
    assert rows["EX02"].threshold == "more than 3 years"
    # the record's "within 12 weeks within 4 weeks" is read as the longer window (PI02)
    assert rows["EX12"].threshold == (
        "within 12 weeks prior to randomization (the longer of the record's two windows, PI02)"
    )
    # the exceptions and the condition the registry gives, not broader ones: a melanoma is
    # not excepted, and a man or a woman who cannot conceive is not excluded for contraception
    assert rows["EX25"].threshold == (
        "within 5 years before screening (except an excised or cured local basal or squamous "
        "cell carcinoma of the skin, or a carcinoma in situ of the uterine cervix)"
    )
    assert rows["EX27"].threshold == (
        "pregnant or breastfeeding, or a woman of childbearing potential not willing to use "
        "adequate contraception"
    )
    assert rows["EX13"].threshold == "ever"
    assert rows["EX09"].threshold == (
        "immunosuppressive therapies: within 4 weeks prior to randomization; "
        "cyclophosphamide: within 3 months prior to randomization"
    )
    # the registry names four antibodies against TNF, not etanercept (an "other biologic")
    assert (
        "antibodies against TNF, abatacept and tocilizumab (etanercept is among the other "
        "biologics): within 8 weeks" in rows["EX14"].threshold
    )
    assert rows["EX24"].short_name == "Blood counts, liver and kidney tests"


def test_the_quick_reference_follows_the_study_it_is_given(study_variant):
    variant = load_study(
        study_variant('value: "< 8.0 g/dL"', 'value: "< 9.0 g/dL"'),
    )
    assert lab_threshold(variant, "hemoglobin") == "< 9.0 g/dL (< 90 g/L)"
    assert _rows(variant)["EX24"].threshold.startswith("haemoglobin < 9.0 g/dL (< 90 g/L);")


def test_the_criteria_page_has_each_criterion_as_a_section_generated_from_study_yaml():
    # Headings in a code cell's output render as rubrics (not in the page contents, not a
    # search target), so each heading is a markdown cell; they must match study.yaml exactly
    # (tools/write_criteria_cells.py regenerates them after a change).
    import nbformat

    from protocol.quick_reference import criterion_heading
    from tests.conftest import REPO

    study = load_study()
    cells = nbformat.read(REPO / "book/eligibility/criteria.ipynb", as_version=4).cells
    headings = [c for c in cells if c.cell_type == "markdown" and "\n### " in c.source]
    assert [c.source for c in headings] == [criterion_heading(study, c.id) for c in study.criteria]
    for heading in headings:
        check = cells[cells.index(heading) + 1]
        criterion_id = heading.source.rsplit("### ", 1)[1].split()[0]
        assert check.source == f'Markdown(block("{criterion_id}"))'
        assert check.outputs, f"{criterion_id}: the check cell is not executed"


def test_a_criterion_is_found_by_its_id_names_and_analytes_in_english_and_chinese():
    from protocol.quick_reference import criterion_heading, search_terms

    study = load_study()
    terms = search_terms(study, "EX24")
    for term in (
        "EX24",
        "Blood counts, liver and kidney tests",
        "血常规、肝肾功能",
        "Hemoglobin",
        "haemoglobin",
        "血红蛋白",
        "Alanine aminotransferase (ALT)",
        "血肌酐",
    ):
        assert term in terms, term
    assert search_terms(study, "EX18") == ["EX18", "Tuberculosis", "结核病"]
    heading = criterion_heading(study, "EX18")
    assert heading == (
        ":::{index} !single: EX18\n:::\n:::{index} !single: Tuberculosis\n:::\n"
        ":::{index} !single: 结核病\n:::\n\n(ex18)=\n### EX18 Tuberculosis"
    )


def test_a_planned_surgery_is_said_with_both_of_its_spans():
    # registry: "major surgery within 8 weeks prior to randomization or planned major surgery
    # during the trial period"; the trial period is read as 48 weeks after randomization (PI24)
    assert _rows()["EX08"].threshold == (
        "major surgery: within 8 weeks prior to randomization; planned major surgery: within "
        "8 weeks before randomization, or planned in the 48 weeks after it (the trial period, "
        "PI24)"
    )
