"""Every registry fact of study.yaml agrees with the stored record; any change is caught."""

from __future__ import annotations

import copy
import json
import pickle
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol.facts import Threshold, Window
from protocol.registry_check import (
    NOT_RULES,
    RECORD_PATH,
    RULE_FACT_PLACES,
    InvalidRecordError,
    cross_check,
    load_record,
    mentions_in,
    not_a_rule,
    quantity_in_words,
    record_mentions,
    registry_criteria,
    rule_facts,
    unescape_markdown,
)
from protocol.study import STUDY_PATH, CriterionRules, load_study
from protocol.units import read_unit, ureg
from tests.conftest import SHARED_REGISTRY_TEXT, examples, study_data

_FREQUENCY = (
    "value: {{}}\n      provenance: registry\n      registry_field: protocolSection."
    "armsInterventionsModule.interventions[{index}].description\n      quote: {quote}\n"
    "    frequency_cdisc:\n      value: {{{{submission_value: {{}}}}}}"
)
_TELITACICEPT_FREQUENCY = _FREQUENCY.format(index=0, quote="160mg per week")
_MMF_FREQUENCY = _FREQUENCY.format(index=1, quote="0.5g twice daily")
# a route changes with its CDISC term, which must agree with it (exported)
_TELITACICEPT_ROUTE = (
    "      value: {0}\n      provenance: registry\n      registry_field: protocolSection."
    "armsInterventionsModule.interventions[0].description\n      quote: subcutaneously "
    "injected\n    route_cdisc:\n      value: {{submission_value: {0}, code: {1}}}\n"
)


def test_the_projects_study_agrees_with_the_record():
    assert cross_check(load_study()) == []


def test_the_record_has_7_inclusion_and_30_exclusion_bullets():
    criteria = registry_criteria(load_record())
    assert [c for c, _ in criteria].count("inclusion") == 7
    assert [c for c, _ in criteria].count("exclusion") == 30


_PAH = "criterion_rules.pah_excluded_risk"


#: What Python's repr writes and a reader would not: a list ("[10.0]", "['high']"), a dict, a
#: date or quantity object, pint's frequency ("2 1/d")
_PYTHON_FORMS = re.compile(r"\[\s*[-'\"\d\]]|\{'|datetime\.|Quantity\(|\d 1/")


def _mismatches(path):
    return cross_check(load_study(path))


@pytest.mark.parametrize(
    ("old", "new", "yaml_path"),
    [
        ("value: PHASE2", "value: PHASE3", "design.phase"),
        ("value: 38\n", "value: 40\n", "design.enrollment"),
        ("value: RANDOMIZED", "value: NON_RANDOMIZED", "design.allocation"),
        ("value: PARALLEL", "value: CROSSOVER", "design.intervention_model"),
        ("value: NONE\n", "value: DOUBLE\n", "design.masking"),
        # (the epochs' CDISC terms also write "submission_value: TREATMENT")
        (
            "purpose:\n    value: TREATMENT",
            "purpose:\n    value: PREVENTION",
            "design.primary_purpose",
        ),
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
        # a frequency changes with its CDISC code, which must agree with it (exported)
        (
            _TELITACICEPT_FREQUENCY.format("1/week", "EVERY WEEK, code: C67069"),
            _TELITACICEPT_FREQUENCY.format("2/day", "BID, code: C64496"),
            "interventions[0].frequency",
        ),
        (
            _MMF_FREQUENCY.format("2/day", "BID, code: C64496"),
            _MMF_FREQUENCY.format("1/week", "EVERY WEEK, code: C67069"),
            "interventions[1].frequency",
        ),
        (
            _TELITACICEPT_ROUTE.format("SUBCUTANEOUS", "C38299"),
            _TELITACICEPT_ROUTE.format("INTRAVENOUS", "C38276"),
            "interventions[0].route",
        ),
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
        # a ten-thousand-millionth away decides 8 g/dL the other way: not "the same"
        ('value: "< 8.0 g/dL"', 'value: "< 8.000000001 g/dL"', "lab_analytes[0].threshold"),
        ('value: "< 8.0 g/dL"', 'value: "< 79.99999999 g/L"', "lab_analytes[0].threshold"),
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
        # the PAH risk categories EX06 excludes: "Intermediate- or high-risk", no more, no less
        ("value: [intermediate, high]", "value: [intermediate]", _PAH),
        ("value: [intermediate, high]", "value: [high]", _PAH),
        ("value: [intermediate, high]", "value: []", _PAH),
        ("value: [intermediate, high]", "value: [low, intermediate, high]", _PAH),
        ("value: [intermediate, high]", "value: [high, intermediate]", None),
        (
            "  mrss_minimum:\n    value: 10",
            "  mrss_minimum:\n    value: 12",
            "criterion_rules.mrss_minimum",
        ),
    ],
)
def test_a_changed_registry_fact_is_named_by_its_yaml_path(study_variant, old, new, yaml_path):
    count = 2 if old == "value: 48 week" else 1
    mismatches = _mismatches(study_variant(old, new, count))
    for mismatch in mismatches:  # in the reader's words, never Python's
        for says in (mismatch.study_says, mismatch.record_says):
            assert not _PYTHON_FORMS.search(says), str(mismatch)
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
    # the treatment epoch lasts as long as the longest treatment: amended with it
    epoch = "duration: 48 week, first_visit: randomization}"
    changed = changed.replace(epoch, epoch.replace("48", "52"))
    assert changed != study_text
    path.write_text(changed)
    assert [m.yaml_path for m in _mismatches(path)] == ["interventions[0].duration"]


def test_a_missing_criterion_is_reported_as_a_count(study_variant):
    old = (
        "- id: EX30\n  short_name: Expected non-compliance\n  short_name_zh: 预计依从性差\n"
        "  text: Patients anticipated"
    )
    assert old in load_study_text()
    text = load_study_text()
    head, _, _ = text.partition("- id: EX30\n")
    tail = text.split("- id: EX30\n")[1].split("\n", 3)[3]  # its short names and text
    path = study_variant("schema_version: 1", "schema_version: 1")
    # its source document for the checklist goes with it
    variant = re.sub(r"\n    EX30: \{en: [^\n]*", "", head + tail)
    path.write_text(variant)
    messages = [str(m) for m in _mismatches(path)]
    assert "study.yaml says 29 exclusion criteria, but the record" in messages[0]
    assert "says 30 exclusion criteria" in messages[0]


def load_study_text():

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


# -- relabelling a registry fact cannot hide a change ------------------------------------------
#
# Every number the record states in its criteria, its intervention and arm descriptions and its
# structured enrollment and age fields must be carried by a registry fact whose value equals it;
# a fact a rule uses must be a registry fact where the record states its rule. A variant of
# study.yaml that relabels such a fact (assumption, literature) fails, with or without a change.

_SAME = object()


class _Dumper(yaml.SafeDumper):
    """Writes study.yaml data back without YAML anchors (the strict loader refuses them)."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _node(data: Any, yaml_path: str) -> Any:
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", yaml_path):
        data = data[int(part[1:-1])] if part.startswith("[") else data[part]
    return data


def fact_path(collection: str, key: str, name: str, attribute: str) -> str:
    """The yaml path of a fact of a list entry found by its key: ('medication_classes', 'id',
    'ivig', 'window') -> 'medication_classes[5].window' (robust to entries being added)."""
    entries = study_data()[collection]
    (index,) = [i for i, entry in enumerate(entries) if entry.get(key) == name]
    return f"{collection}[{index}].{attribute}"


def _write(directory: Path, data: Any, tag: Any) -> Path:
    path = directory / f"study-{abs(hash(repr(tag)))}.yaml"
    text = yaml.dump(data, Dumper=_Dumper, allow_unicode=True, sort_keys=False, width=4096)
    path.write_text(text, encoding="utf-8")
    return path


def round_tripped(directory: Path) -> Path:
    """study.yaml read and written back unchanged (the negative control of :func:`relabelled`)."""
    return _write(directory, study_data(), "same")


def relabelled(
    directory: Path, yaml_path: str, provenance: str, value: Any = _SAME, source: str = ""
) -> Path:
    """study.yaml with the fact at ``yaml_path`` given another provenance (and value): the edit
    that would hide a change from a check that compared registry facts only."""
    data = study_data()
    fact = _node(data, yaml_path)
    fact.pop("registry_field", None)
    fact.pop("quote", None)
    fact["provenance"] = provenance
    if provenance == "assumption":
        fact["note"] = "Relabelled by a test: not in the record, to be confirmed."
    else:
        fact["source"] = source or next(iter(data["references"]))
        assert fact["source"] in data["references"]
    if value is not _SAME:
        fact["value"] = value
    return _write(directory, data, (yaml_path, provenance, repr(value)))


def test_the_real_study_carries_every_rule_the_record_states():
    study, record = load_study(), load_record()
    assert cross_check(study, record) == []
    rules = rule_facts(study, record)
    registry = [r for r in rules if r.fact.provenance == "registry"]
    carried = [m for m in record_mentions(record) if any(m.place in r.places for r in registry)]
    assert len(carried) == len(record_mentions(record))  # every mention has a registry fact


def _stated_rules() -> list[str]:
    """The rule facts of the real study that the record states (their place has a mention)."""
    study, record = load_study(), load_record()
    mentions = record_mentions(record)
    return [
        rule.path
        for rule in rule_facts(study, record)
        if rule.fact.provenance == "registry"
        # the PAH risk classes are words, not numbers: their bullet (EX06) states them
        and (any(m.place in rule.places for m in mentions) or rule.path.endswith("risk"))
    ]


STATED_RULES = _stated_rules()


def test_the_rules_the_record_states_are_the_expected_ones():
    assert len(STATED_RULES) >= 40
    for path in (
        "design.enrollment",
        "population.minimum_age",
        "corticosteroid_rule.daily_limit",
        "criterion_rules.mrss_minimum",
        "criterion_rules.pah_excluded_risk",
        fact_path("lab_analytes", "name", "hemoglobin", "threshold"),
        fact_path("medication_classes", "id", "cyclophosphamide", "window"),
        fact_path("exposure_events", "kind", "iv_antibiotics", "window"),
        fact_path("interventions", "id", "telitacicept", "dose"),
    ):
        assert path in STATED_RULES
    assert "criterion_rules.acr_eular_minimum" not in STATED_RULES  # the record gives no score


@pytest.mark.traces("lab_analytes", "medication_classes", "exposure_events", "criterion_rules")
@pytest.mark.parametrize(
    ("yaml_path", "provenance"),
    [(path, ("assumption", "literature")[i % 2]) for i, path in enumerate(STATED_RULES)],
)
def test_relabelling_any_stated_rule_is_caught_even_without_a_change(
    tmp_path, yaml_path, provenance
):
    """The property: no rule the record states can leave the registry facts unnoticed."""
    path = relabelled(tmp_path, yaml_path, provenance)
    mismatches = _mismatches(path)
    assert yaml_path in [m.yaml_path for m in mismatches]
    (mine,) = [m for m in mismatches if m.yaml_path == yaml_path]
    assert f"provenance {provenance}" in str(mine)
    assert "must carry it as a registry fact" in str(mine)


def test_a_relabelled_fact_shows_the_records_words_and_its_new_value(tmp_path):
    yaml_path = fact_path("exposure_events", "kind", "iv_antibiotics", "window")
    # the record's "4 weeks" of EX20 is still carried by the hospitalised-infection window
    (mismatch,) = _mismatches(relabelled(tmp_path, yaml_path, "assumption", "6 week"))
    text = str(mismatch)
    assert text.startswith(f"{yaml_path}: study.yaml says 6 weeks (provenance assumption)")
    assert "(EX20)" in text and "IV antibiotics within 4 weeks of screening" in text


def test_a_quote_moved_to_other_words_cannot_hide_a_window(study_variant, study_text):
    """A registry fact that quotes words of the record that say its new value does not carry the
    number it used to quote: EX12's 12 weeks is then carried by nothing."""
    yaml_path = fact_path("medication_classes", "id", "ivig", "window")
    block = study_text.split("- id: ivig\n")[1].split("  anchor:")[0]
    changed = block.replace("value: 12 week", "value: 4 week").replace(
        "quote: (IVIG) within 12 weeks", "quote: within 4 weeks prior to randomization"
    )
    assert changed != block
    path = study_variant(block, changed)
    (mismatch,) = _mismatches(path)
    assert mismatch.yaml_path == yaml_path
    assert "'12 weeks'" in str(mismatch) and "(EX12)" in str(mismatch)
    assert "no registry fact carries '12 weeks'" in str(mismatch)


def _record_with(**changes: str) -> dict[str, Any]:
    record = copy.deepcopy(load_record())
    for field, (old, new) in changes.items():
        module, key = {
            "criteria": ("eligibilityModule", "eligibilityCriteria"),
            "summary": ("descriptionModule", "briefSummary"),
        }[field]
        text = record["protocolSection"][module][key]
        assert old in text
        record["protocolSection"][module][key] = text.replace(old, new)
    return record


def test_a_number_the_record_adds_is_carried_by_no_fact_and_says_so():
    record = _record_with(
        criteria=("Any prior history of renal crisis.", "Any history of renal crisis in 6 months.")
    )
    mismatches = cross_check(load_study(), record)
    (new,) = [m for m in mismatches if m.yaml_path == "(no study.yaml fact)"]
    assert "(EX05)" in str(new) and "'6 months'" in str(new) and "NOT_RULES" in str(new)


def test_a_new_number_in_the_summary_is_a_mismatch_too():
    record = _record_with(summary=("clinical trial.", "clinical trial of 38 patients."))
    mismatches = cross_check(load_study(), record)
    # the summary's new number is a rule no fact carries, and the summary (a fact since the
    # exports give it whole) no longer reads as study.yaml's
    assert [m.yaml_path for m in mismatches] == [
        "identification.brief_summary",
        "(no study.yaml fact)",
    ]
    assert "'38'" in str(mismatches[1]) and "briefSummary" in str(mismatches[1])


def test_a_changed_arm_dose_is_caught_although_the_intervention_text_is_unchanged():
    record = copy.deepcopy(load_record())
    arm = record["protocolSection"]["armsInterventionsModule"]["armGroups"][1]
    arm["description"] = arm["description"].replace("MMF 0.5g", "MMF 1g")
    paths = [m.yaml_path for m in cross_check(load_study(), record)]
    assert fact_path("interventions", "id", "mycophenolate_mofetil", "dose") in paths


# -- mentions: the numbers and units the record states -------------------------------------------

Q = ureg.Quantity


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("Men or women aged 18-70 years old.", [Q(18, "year"), Q(70, "year")]),
        ("Disease duration of ≤ 18 months", [Q(18, "month")]),
        ("≥ 10 mRSS units at the screening visit.", [10.0]),
        ("Hemoglobin <8.0 g/dL; WBC <3 x 10^9/L", ["< 8.0 g/dL", "< 3 ×10⁹/L"]),
        ("eGFR < 40mL/min/1.73m^2.", ["< 40 mL/min/1.73 m²"]),
        ("serum ALT or AST > 1.5 x ULN; TBil > ULN;", ["> 1.5 × ULN", "> 1 × ULN"]),
        ("FVC < 50% of predicted", ["< 50 % predicted"]),
        ("prednisone 10 mg daily", [Q(10, "mg")]),
        ("within 12 weeks within 4 weeks", [Q(12, "week"), Q(4, "week")]),
        ("anti-CD20 or IL-6 therapy", []),  # digits inside names are not numbers
        ("38", [38.0]),
        ("18 Years", [Q(18, "year")]),
    ],
)
def test_the_numbers_and_units_of_the_records_words(words, expected):
    found = [m.value for m in mentions_in(words, frozenset({"number"}), "field")]
    assert len(found) == len(expected), found
    for value, want in zip(found, expected, strict=True):
        if isinstance(want, str):
            comparison, _, unit_text = want.partition(" ")
            number, _, unit_text = unit_text.partition(" ")
            assert isinstance(value, Threshold) and value.comparison == comparison
            wanted = float(number) * read_unit(unit_text)
            assert value.quantity.to_base_units().magnitude == pytest.approx(
                wanted.to_base_units().magnitude
            )
        elif isinstance(want, float):
            assert value == want
        else:
            assert value.to(want.units).magnitude == pytest.approx(want.magnitude)


def test_numbers_inside_units_are_part_of_the_unit_never_a_mention():
    """'1.73' of the eGFR unit and '10^9' of the blood counts need no allow-list entry."""
    said = [m.words for m in record_mentions(load_record())]
    assert "< 40mL/min/1.73m^2" in said and "<75 x 10^9/L" in said
    assert not {"1.73", "2", "10", "9", "10^9"} & set(said)


def test_frequencies_and_lifetimes_are_mentions_where_they_are_rules():
    words = "MMF 0.5g twice a day for 48 weeks"
    arm = mentions_in(words, frozenset({"number", "frequency"}), "f")
    assert [m.words for m in arm] == ["0.5g", "twice a day", "48 weeks"]
    for mention, want in zip(arm, [Q(0.5, "g"), Q(2, "1/day"), Q(48, "week")], strict=True):
        assert mention.value.to(want.units).magnitude == pytest.approx(want.magnitude)
    ever = mentions_in("Prior use of rituximab ever.", frozenset({"lifetime"}), "f")
    assert [m.value for m in ever] == [Window(duration=None, lifetime=True)] * 2


def test_every_not_a_rule_entry_matches_the_stored_record_and_has_a_reason():
    """The allow-list stays small and current: each entry excuses exactly one mention."""
    from protocol.registry_check import CRITERIA_FIELD, criteria_with_ids

    bullets = dict(criteria_with_ids(load_record()))
    for entry in NOT_RULES:
        assert len(entry.reason) > 40, entry
        text = bullets[entry.criterion]
        found = mentions_in(text, frozenset({"number"}), CRITERIA_FIELD, entry.criterion)
        excused = [m for m in found if not_a_rule(m) is entry]
        assert len(excused) == 1, f"{entry.pattern!r} matches no mention of {entry.criterion}"
    everything = record_mentions(load_record(), keep_not_rules=True)
    excused = [(m.criterion, m.words) for m in everything if not_a_rule(m)]
    assert excused == [("IN02", "2013"), ("EX12", "4 weeks")]


def test_every_criterion_rule_says_where_the_record_states_it():
    for name in CriterionRules.model_fields:
        assert f"criterion_rules.{name}" in RULE_FACT_PLACES, name


# -- any record that is a study object is compared, never crashed on -----------------------------


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _paths(value, (*prefix, index))
    return found


RECORD_PATHS = [p for p in _paths(load_record()) if len(p) >= 2]
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**12)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30)
    | st.sampled_from(["18 Years", "9**9**9 Years", "<8.0 g/dL", "1e999 weeks", "\\<3 x 10\\^9/L"]),
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=8,
)


@settings(max_examples=examples(300), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    changes=st.lists(
        st.tuples(st.sampled_from(RECORD_PATHS), st.none() | json_values), min_size=1, max_size=4
    )
)
def test_a_damaged_record_gives_mismatches_or_a_refusal_never_a_crash(changes):
    record = copy.deepcopy(load_record())
    for path, value in changes:
        parent = record
        try:
            for part in path[:-1]:
                parent = parent[part]
            if value is None and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = value
        except (KeyError, IndexError, TypeError):
            continue
    study = load_study()
    try:
        mismatches = cross_check(study, record)
    except InvalidRecordError as exc:
        assert str(exc).count("\n") == 0
        assert "protocolSection" in str(exc) or "the record of" in str(exc)
        return
    assert all(str(m) for m in mismatches)


def test_a_hostile_structured_field_is_not_evaluated():
    # refused as a malformed record (exit 2): neither evaluated nor read as a disagreement
    record = copy.deepcopy(load_record())
    record["protocolSection"]["eligibilityModule"]["maximumAge"] = "9**9**9 Years"
    with pytest.raises(InvalidRecordError, match=r"maximumAge is '9\*\*9\*\*9 Years'"):
        cross_check(load_study(), record)


def _record_setting(field: str, value):
    """The stored record with one field of its protocolSection set."""
    record = copy.deepcopy(load_record())
    *parents, last = ["protocolSection", *field.split(".")]
    node = record
    for key in parents:
        node = node[key]
    node[last] = value
    return record


# A tester's damaged records: each was read as a disagreement (exit 1), or, partly read
# ("1,5 Years" as 1), as a second finding; the registry writes dates as YYYY-MM-DD or YYYY-MM,
# ages as a whole number and a unit, counts as whole numbers.
@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("statusModule.lastUpdatePostDateStruct.date", "2025-02-30"),
        ("statusModule.startDateStruct.date", "2025-13-06"),
        ("statusModule.startDateStruct.date", "2025-1-06"),
        ("statusModule.startDateStruct.date", "06/01/2025"),
        ("statusModule.startDateStruct.date", 1736121600),
        ("statusModule.completionDateStruct.date", "2027-12-31T00:00:00Z"),
        ("designModule.enrollmentInfo.count", -5),
        ("designModule.enrollmentInfo.count", True),
        ("designModule.enrollmentInfo.count", "38"),
        ("designModule.enrollmentInfo.count", 38.5),
        ("eligibilityModule.maximumAge", "1,5 Years"),
        ("eligibilityModule.minimumAge", "-18 Years"),
        ("eligibilityModule.minimumAge", "18 years old"),
        ("eligibilityModule.minimumAge", 18),
    ],
)
def test_a_malformed_typed_field_refuses_the_record(field, value):
    record = _record_setting(field, value)
    with pytest.raises(InvalidRecordError) as caught:
        cross_check(load_study(), record)
    assert f"{field.split('.')[-1]} is " in str(caught.value)
    assert str(caught.value).count("\n") == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("statusModule.startDateStruct.date", "2025-01"),  # a month, as the registry writes it
        ("statusModule.startDateStruct.date", "2024-02-29"),
        ("designModule.enrollmentInfo.count", 0),
        ("eligibilityModule.maximumAge", "1 Year"),
    ],
)
def test_a_typed_field_as_the_registry_writes_it_is_read(field, value):
    record = _record_setting(field, value)
    assert all(str(m) for m in cross_check(load_study(), record))  # compared, not refused


def test_the_record_of_another_study_is_refused_not_compared():
    record = copy.deepcopy(load_record())
    record["protocolSection"]["identificationModule"]["nctId"] = "NCT01234567"
    with pytest.raises(InvalidRecordError) as caught:
        cross_check(load_study(), record, source="other.json")
    assert str(caught.value) == (
        "other.json: the record of NCT01234567; expected the record of NCT06375005, "
        "the study of study.yaml (identification.nct_id)"
    )
    assert pickle.loads(pickle.dumps(caught.value)).found == caught.value.found


@pytest.mark.parametrize(
    "written",
    ['"< 8.00000000000001 g/dL"', '"< 7.9999999999999999 g/dL"', '"< 80.0000000000001 g/L"'],
)
def test_a_study_threshold_with_more_digits_than_a_value_has_is_refused(study_variant, written):
    # "< 8.00000000000001 g/dL" was accepted and matched 8 g/dL as at it ("passes, exactly at
    # the threshold") while its text said 8 is below: a threshold is as strict as a value
    from protocol.errors import ProtocolDataError

    with pytest.raises(ProtocolDataError, match="significant digits"):
        load_study(study_variant('value: "< 8.0 g/dL"', f"value: {written}"))


def test_a_changed_date_is_shown_as_the_files_write_it(study_variant):
    # "study.yaml says datetime.date(2025, 2, 6)": Python's spelling, not the files'
    (mismatch,) = _mismatches(study_variant("value: 2025-01-06", "value: 2025-02-06"))
    assert "study.yaml says '2025-02-06'" in str(mismatch)
    assert "datetime" not in str(mismatch)


# A tester's study.yaml dates: Unix seconds and a date-time with a time zone (+14:00, which is
# the 5th in UTC) were read as dates and exported; study.yaml's dates are as strict as a record's.
@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("  start_date:\n    value: 2025-01-06", "  start_date:\n    value: 1736121600"),
        ("  start_date:\n    value: 2025-01-06",
         '  start_date:\n    value: "2025-01-06T00:00:00+14:00"'),
        ("  start_date:\n    value: 2025-01-06", "  start_date:\n    value: 2025-01-06 00:00:00"),
        ("protocol_version:\n  label: registry record of 2025-02-11\n  date: 2025-02-11",
         "protocol_version:\n  label: registry record of 2025-02-11\n  date: 1739232000"),
    ],
)  # fmt: skip
def test_a_study_date_that_is_not_a_calendar_date_is_refused(study_variant, old, new):
    from protocol.errors import ProtocolDataError

    with pytest.raises(ProtocolDataError, match="not a date"):
        load_study(study_variant(old, new))


@settings(max_examples=examples(20), deadline=None)
@given(
    extra=st.dictionaries(
        st.sampled_from(["geoPoint", "zip", "contacts", "countryCode", "facilityId"]),
        st.one_of(st.text(max_size=8), st.integers(), st.just({"lat": 29.87, "lon": 121.55})),
        min_size=1,
    ),
    moved=st.booleans(),
)
def test_a_site_is_compared_by_the_fields_the_study_holds(extra, moved):
    # a record from the registry's API gives geoPoint, zip and contacts for each location:
    # registry-check called every site different (exit 1) though each field it holds agreed
    record = load_record(RECORD_PATH)
    locations = record["protocolSection"]["contactsLocationsModule"]["locations"]
    for location in locations:
        location.update(copy.deepcopy(extra))
    if moved:
        locations[0]["city"] = locations[0]["city"] + " (moved)"
    sites = [m for m in cross_check(load_study(), record) if m.yaml_path == "sites"]
    assert bool(sites) == moved


@settings(max_examples=examples(30), deadline=None)
@given(year=st.integers(1, 9999), month=st.integers(1, 12), with_day=st.booleans())
def test_a_record_date_outside_1900_to_2100_is_refused_not_compared(year, month, with_day):
    # 0001-01-01 or 9999-12-31 as the start date was a disagreement (exit 1): damage in the
    # record, read as a date the study could be told to agree with
    record = load_record(RECORD_PATH)
    written = f"{year:04d}-{month:02d}" + ("-01" if with_day else "")
    record["protocolSection"]["statusModule"]["startDateStruct"]["date"] = written
    if 1900 <= year <= 2100:
        found = [m.yaml_path for m in cross_check(load_study(), record)]
        assert found == ["status.start_date"]  # (the study's 2025-01-06 is never drawn)
    else:
        with pytest.raises(InvalidRecordError, match="from 1900 to 2100"):
            cross_check(load_study(), record)
