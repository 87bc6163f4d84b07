"""Every registry fact of study.yaml agrees with the stored record; any change is caught."""

from __future__ import annotations

import json
import re

import pytest

from protocol.registry_check import (
    RECORD_PATH,
    cross_check,
    load_record,
    quantity_in_words,
    registry_criteria,
    unescape_markdown,
)
from protocol.study import load_study
from protocol.units import ureg
from tests.conftest import SHARED_REGISTRY_TEXT


def test_the_projects_study_agrees_with_the_record():
    assert cross_check(load_study(check_registry=False)) == []


def test_the_record_has_7_inclusion_and_30_exclusion_bullets():
    criteria = registry_criteria(load_record())
    assert [c for c, _ in criteria].count("inclusion") == 7
    assert [c for c, _ in criteria].count("exclusion") == 30


def _mismatches(path):
    return cross_check(load_study(path, check_registry=False))


@pytest.mark.parametrize(
    ("old", "new", "yaml_path"),
    [
        ("value: PHASE2", "value: PHASE3", "design.phase"),
        ("value: 38\n", "value: 40\n", "design.enrollment"),
        ("value: RANDOMIZED", "value: NON_RANDOMIZED", "design.allocation"),
        ("value: PARALLEL", "value: CROSSOVER", "design.intervention_model"),
        ("value: NONE\n", "value: DOUBLE\n", "design.masking"),
        ("value: TREATMENT", "value: PREVENTION", "design.primary_purpose"),
        ("value: 2025-01-06", "value: 2025-01-07", "status.start_date"),
        ("value: 2027-12-31", "value: 2028-12-31", "status.completion_date"),
        ("value: 2025-02-11", "value: 2025-02-12", "status.last_update"),
        ("value: RECRUITING\n", "value: COMPLETED\n", "status.overall_status"),
        ("value: ALL", "value: FEMALE", "population.sex"),
        ("value: 18 year", "value: 16 year", "population.minimum_age"),
        ("value: 70 year", "value: 75 year", "population.maximum_age"),
        ("value: 160 mg", "value: 200 mg", "interventions[0].dose"),
        ("value: 160 mg", "value: 0.16 g", None),  # the same mass in another unit agrees
        ("value: 0.5 g\n", "value: 1 g\n", "interventions[1].dose"),
        ("value: 1/week", "value: 2/week", "interventions[0].frequency"),
        ("value: 2/day", "value: 1/day", "interventions[1].frequency"),
        ("value: SUBCUTANEOUS\n", "value: INTRAVENOUS\n", "interventions[0].route"),
        (
            'value: "Telitacicept is fusion protein',
            'value: "Telitacicept is a fusion protein',
            "interventions[0].description",
        ),
        (
            "value: Mycophenolate Mofetil + Telitacicept",
            "value: Telitacicept + Mycophenolate Mofetil",
            "arms[0].label",
        ),
        ("value: ACTIVE_COMPARATOR", "value: PLACEBO_COMPARATOR", "arms[1].type"),
        ('["Taiai for commercial name MMF"]', '["Taiai"]', "interventions[1].other_names"),
        ("city: Ningbo", "city: Shaoxing", "sites"),
        ('value: "< 8.0 g/dL"', 'value: "< 9.0 g/dL"', "lab_analytes[0].threshold"),
        ('value: "< 8.0 g/dL"', 'value: "> 8.0 g/dL"', "lab_analytes[0].threshold"),
        ('value: "< 8.0 g/dL"', 'value: "< 80 g/L"', None),  # the same threshold in SI units
        ('value: "< 3 ×10⁹/L"', 'value: "< 3000 /µL"', None),
        ('value: "< 1.5 ×10⁹/L"', 'value: "< 1.0 ×10⁹/L"', "lab_analytes[2].threshold"),
        ('value: "< 400 mg/dL"', 'value: "< 4 g/L"', None),
        ('value: "< 400 mg/dL"', 'value: "< 300 mg/dL"', "lab_analytes[10].threshold"),
        ('value: "> 1 × ULN"', 'value: "> 2 × ULN"', "lab_analytes[6].threshold"),
        (
            'value: "< 40 mL/min/1.73 m²"',
            'value: "< 30 mL/min/1.73 m²"',
            "lab_analytes[7].threshold",
        ),
        ('value: "< 50 % predicted"', 'value: "< 55 % predicted"', "lab_analytes[11].threshold"),
        ("quote: at a dose of 160mg per week", "quote: at a dose of 200mg per week", None),
    ],
)
def test_a_changed_registry_fact_is_named_by_its_yaml_path(study_variant, old, new, yaml_path):
    count = 2 if old == "value: 48 week" else 1
    mismatches = _mismatches(study_variant(old, new, count))
    if yaml_path is None and "quote" not in old:
        assert mismatches == []
    elif yaml_path is None:
        assert [m.yaml_path for m in mismatches] == ["interventions[0].dose"]
        assert "the quote is not there" in str(mismatches[0])
    else:
        assert [m.yaml_path for m in mismatches] == [yaml_path]


def test_the_dose_mismatch_says_both_values_and_the_records_words(study_variant):
    (mismatch,) = _mismatches(study_variant("value: 160 mg", "value: 200 mg"))
    text = str(mismatch)
    assert "study.yaml says 200 mg" in text
    assert "160 mg ('at a dose of 160mg per week')" in text
    assert "interventions[0].description" in text


def test_both_48_week_durations_are_checked(study_variant, study_text):
    path = study_variant("quote: lasting for 48 weeks", "quote: lasting for 48 weeks")
    assert _mismatches(path) == []
    changed = study_text.replace(
        "value: 48 week\n      provenance: registry\n      registry_field: "
        "protocolSection.armsInterventionsModule.interventions[0]",
        "value: 52 week\n      provenance: registry\n      registry_field: "
        "protocolSection.armsInterventionsModule.interventions[0]",
    )
    assert changed != study_text
    path.write_text(changed)
    assert [m.yaml_path for m in _mismatches(path)] == ["interventions[0].duration"]


def test_a_missing_criterion_is_reported_as_a_count(study_variant):
    old = "- id: EX30\n  text: Patients anticipated"
    assert old in load_study_text()
    text = load_study_text()
    head, _, _ = text.partition("- id: EX30\n")
    tail = text.split("- id: EX30\n")[1].split("\n", 1)[1]
    path = study_variant("schema_version: 1", "schema_version: 1")
    path.write_text(head + tail)
    messages = [str(m) for m in _mismatches(path)]
    assert "study.yaml says 29 exclusion criteria, but the record" in messages[0]
    assert "says 30 exclusion criteria" in messages[0]


def load_study_text():
    from protocol.study import STUDY_PATH

    return STUDY_PATH.read_text()


def test_a_changed_criterion_gives_a_readable_diff(study_variant):
    path = study_variant(
        "text: IgA deficiency (<10 mg/dL) or IgG deficiency (<400 mg/dL).",
        "text: IgA deficiency (<10 mg/dL) or IgG deficiency (<500 mg/dL).",
    )
    (mismatch,) = _mismatches(path)
    assert mismatch.yaml_path == "criteria[28].text (EX22)"
    assert "-IgA deficiency (<10 mg/dL) or IgG deficiency (<400 mg/dL)." in mismatch.detail
    assert "+IgA deficiency (<10 mg/dL) or IgG deficiency (<500 mg/dL)." in mismatch.detail


def test_a_registry_field_the_record_lacks_is_reported(study_variant):
    path = study_variant(
        "registry_field: protocolSection.designModule.phases[0]",
        "registry_field: protocolSection.designModule.phase",
    )
    (mismatch,) = _mismatches(path)
    assert "has no field 'protocolSection.designModule.phase'" in str(mismatch)


@pytest.mark.parametrize(
    ("words", "dimension", "expected"),
    [
        ("at a dose of 160mg per week", "[mass]", "160 mg"),
        ("at a dose of 0.5g twice daily", "[mass]", "0.5 g"),
        ("lasting for 48 weeks", "[time]", "48 week"),
        ("0.5g twice daily", "1/[time]", "2/day"),
        ("MMF 0.5g twice a day", "1/[time]", "2/day"),
        ("160mg per week", "1/[time]", "1/week"),
        ("Hemoglobin <8.0 g/dL", "[mass]/[length]**3", "8 g/dL"),
    ],
)
def test_quantities_are_read_out_of_the_records_words(words, dimension, expected):
    found = quantity_in_words(words, ureg.get_dimensionality(dimension))
    assert found.to(ureg.Quantity(expected).units).magnitude == pytest.approx(
        ureg.Quantity(expected).magnitude
    )


def test_words_without_exactly_one_quantity_are_refused():
    with pytest.raises(ValueError, match="0 quantities"):
        quantity_in_words("no numbers here", ureg.get_dimensionality("[mass]"))
    with pytest.raises(ValueError, match="2 quantities"):
        quantity_in_words("160 mg then 80 mg", ureg.get_dimensionality("[mass]"))


def test_markdown_escapes_of_the_record_are_removed():
    assert unescape_markdown(r"FVC \< 50% and 10\^9/L") == "FVC < 50% and 10^9/L"


# -- the stored record is a faithful transcription of the record text ------------------------


def _strings(node):
    if isinstance(node, dict):
        for key, value in node.items():
            if key != "_transcription":
                yield from _strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from _strings(value)
    elif isinstance(node, str):
        yield node


@pytest.mark.skipif(
    not SHARED_REGISTRY_TEXT.exists(),
    reason=f"the registry text is not at {SHARED_REGISTRY_TEXT} (outside the project workplace)",
)
def test_every_text_of_the_stored_record_is_in_the_registry_text():
    source = SHARED_REGISTRY_TEXT.read_text(encoding="utf-8")
    record = json.loads(RECORD_PATH.read_text(encoding="utf-8"))
    block = record["protocolSection"]["eligibilityModule"]["eligibilityCriteria"]
    for value in _strings(record):
        if value is block:
            for line in value.splitlines():
                if line.startswith("* "):
                    assert line in source, line
        elif value in {"Drug: Telitacicept", "Drug: Mycophenolate Mofetil", "SPONSOR"}:
            continue  # API forms of "Intervention Type DRUG", "Role SPONSOR"
        else:
            assert value in source, value
    source_bullets = [line for line in source.splitlines() if line.startswith("* ")]
    stored_bullets = [line for line in block.splitlines() if line.startswith("* ")]
    assert stored_bullets == source_bullets


def test_the_stored_record_has_no_telephone_numbers_or_email_addresses():
    text = RECORD_PATH.read_text(encoding="utf-8")
    assert not re.search(r"\d{2}-\d{8,}|\+?86[- ]?1\d{10}", text)
    assert "@" not in text
