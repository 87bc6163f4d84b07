"""study.yaml is validated at load, and a malformed file is refused with a readable error."""

from __future__ import annotations

import pint
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.errors import ProtocolDataError, RegistryMismatchError
from protocol.facts import Mass
from protocol.registry_check import load_checked_study
from protocol.study import load_study
from protocol.units import ureg
from tests.conftest import examples


def test_the_projects_study_loads_and_holds_the_trials_identity():
    study = load_study()
    assert study.identification.nct_id.value == "NCT06375005"
    assert study.identification.org_study_id.value == "2024-0381"
    assert study.design.enrollment.value == 38
    assert [c.id for c in study.criteria] == [f"IN{i:02d}" for i in range(1, 8)] + [
        f"EX{i:02d}" for i in range(1, 31)
    ]
    assert len(study.sites.value) == 9
    assert study.intervention("telitacicept").dose.value == ureg.Quantity(160, "mg")
    assert study.intervention("mycophenolate_mofetil").dose.value == ureg.Quantity(500, "mg")


def test_no_site_carries_a_telephone_number(study_text):
    import re

    assert not re.search(r"\d{2}-\d{8,}", study_text)


def _problems(path) -> str:
    with pytest.raises(ProtocolDataError) as caught:
        load_study(path)
    return str(caught.value)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # wrong type: the field, the value and what was expected
        (
            "    value: 38\n",
            "    value: thirty-eight\n",
            ["design.enrollment.value", "'thirty-eight'", "expected a whole number"],
        ),
        # unknown unit
        (
            "      value: 160 mg\n",
            "      value: 160 mgg\n",
            ["interventions[0].dose.value", "'160 mgg'", "expected a mass such as '160 mg'"],
        ),
        # a unit of the wrong dimension
        (
            "      value: 160 mg\n",
            "      value: 160 mL\n",
            ["interventions[0].dose.value", "'160 mL'", "is not a mass"],
        ),
        # a bare number where a quantity is needed
        (
            "      value: 160 mg\n",
            "      value: 160\n",
            ["interventions[0].dose.value", "160", "expected a mass"],
        ),
        # a frequency written as a duration
        (
            "      value: 1/week\n",
            "      value: 1 week\n",
            ["interventions[0].frequency.value", "'1 week'", "is not a frequency"],
        ),
        # a negative duration
        (
            "value: 48 week\n      provenance: registry\n      registry_field: "
            "protocolSection.armsInterventionsModule.interventions[0].description\n"
            "      quote: lasting",
            "value: -48 week\n      provenance: registry\n      registry_field: "
            "protocolSection.armsInterventionsModule.interventions[0].description\n"
            "      quote: lasting",
            ["interventions[0].duration.value", "'-48 week'", "negative"],
        ),
        # missing provenance
        (
            "    value: PHASE2\n    provenance: registry\n",
            "    value: PHASE2\n",
            ["design.phase.provenance", "missing"],
        ),
        # a provenance that is not one of the four
        (
            "    value: PHASE2\n    provenance: registry\n",
            "    value: PHASE2\n    provenance: hearsay\n",
            ["design.phase.provenance", "'hearsay'", "'registry', 'label', 'literature'"],
        ),
        # a registry fact that does not say where the record says it
        (
            "    registry_field: protocolSection.designModule.phases[0]\n",
            "",
            ["design.phase", "needs 'registry_field'"],
        ),
        # literature without a citation
        (
            "  provenance: literature\n  source: crick-nct06375005\n",
            "  provenance: literature\n",
            ["primary_outcome", "needs 'source'"],
        ),
        # a citation key that is not in references
        (
            "  source: crick-nct06375005\n",
            "  source: nobody-2099\n",
            ["primary_outcome.source", "'nobody-2099'", "not a key of 'references'"],
        ),
        # an assumption without what to confirm
        (
            "    provenance: assumption\n    note: >-\n",
            "    provenance: assumption\n    comment: >-\n",
            ["dosing_rules.dose_at_end_of_treatment"],
        ),
        # duplicate criterion ID
        ("- id: EX05\n", "- id: EX04\n", ["criteria[11].id", "'EX04' is a duplicate"]),
        # an ID out of registry order
        ("- id: IN03\n", "- id: IN04\n", ["criteria[2].id", "expected 'IN03'"]),
        # a malformed ID
        ("- id: EX30\n", "- id: X30\n", ["criteria[36].id", "'X30'", "expected IN or EX"]),
        # an unknown field (a typo)
        ("  allocation:\n", "  alocation:\n", ["design.alocation", "unknown field"]),
        # an arm that names an intervention study.yaml does not define
        (
            '      value: ["Drug: Mycophenolate Mofetil"]\n',
            '      value: ["Drug: Mycophenolate"]\n',
            ["arms[1].intervention_names.value", "'Drug: Mycophenolate'", "names no intervention"],
        ),
        # a protocol issue that points at no criterion
        ("    criteria: [EX12]\n", "    criteria: [EX99]\n", ["protocol_issues[1].criteria"]),
        # the same key twice (PyYAML would silently keep the last)
        ("schema_version: 1\n", "schema_version: 1\nschema_version: 1\n", ["appears twice"]),
        # not YAML at all
        ("schema_version: 1\n", "schema_version: [1\n", ["not valid YAML"]),
    ],
    ids=lambda value: value if isinstance(value, str) and len(value) < 20 else None,
)
def test_a_malformed_study_is_refused_with_the_path_value_and_expectation(
    study_variant, old, new, expected
):
    message = _problems(study_variant(old, new))
    for fragment in expected:
        assert fragment in message, f"{fragment!r} missing from:\n{message}"


def test_the_error_gives_the_yaml_line_of_the_bad_value(study_variant, study_text):
    path = study_variant("    value: 38\n", "    value: thirty-eight\n")
    line = study_text.splitlines().index("    value: 38") + 1
    assert f"design.enrollment.value (line {line})" in _problems(path)


def test_a_criterion_text_that_differs_from_the_record_is_refused(study_variant):
    path = study_variant(
        "text: Any prior history of renal crisis.", "text: Any history of renal crisis."
    )
    load_study(path)  # a valid study: loading is one step
    with pytest.raises(RegistryMismatchError) as caught:  # the cross-check another
        load_checked_study(path)
    message = str(caught.value)
    assert "criteria[11].text (EX05)" in message
    assert "-Any prior history of renal crisis." in message  # a readable diff
    assert "+Any history of renal crisis." in message


def test_a_missing_file_is_reported_by_name(tmp_path):
    with pytest.raises(ProtocolDataError, match=r"absent\.yaml: 1 problem"):
        load_study(tmp_path / "absent.yaml")


def test_a_file_that_is_not_a_mapping_is_refused(tmp_path):
    path = tmp_path / "list.yaml"
    path.write_text("- just\n- a list\n")
    with pytest.raises(ProtocolDataError, match="expected a mapping at the top level"):
        load_study(path)


@settings(max_examples=examples(300), deadline=None)
@given(st.text(max_size=30))
def test_any_text_is_read_as_a_mass_or_refused_with_a_value_error(text):
    from pydantic import TypeAdapter, ValidationError

    try:
        quantity = TypeAdapter(Mass).validate_python(text)
    except ValidationError as exc:
        assert "mass" in str(exc) or "negative" in str(exc)
    else:
        assert isinstance(quantity, pint.Quantity)
        assert quantity.dimensionality == ureg.get_dimensionality("[mass]")
        assert quantity.magnitude >= 0


_TREATMENT_EPOCH = "duration: 48 week, first_visit: randomization}"


@pytest.mark.parametrize(
    ("epoch", "treatment", "refused"),
    [
        ("48 week", "48 week", False),
        ("336 day", "48 week", False),  # the same length in days
        ("52 week", "48 week", True),  # longer than any intervention is given
        ("47 week", "48 week", True),
        ("48 week", "24 week", True),  # the drugs amended to 24 weeks, the epoch not
        ("24 week", "24 week", False),
    ],
)
def test_the_treatment_epoch_lasts_as_long_as_the_treatment(
    study_text, tmp_path, epoch, treatment, refused
):
    # an amendment to 24 weeks of treatment exported a treatment epoch of 48 weeks beside 24
    # weeks of administrations, and validated
    drug = "      value: 48 week\n      provenance: registry\n"
    assert study_text.count(drug) == 2
    text = study_text.replace(drug, drug.replace("48 week", treatment)).replace(
        _TREATMENT_EPOCH, _TREATMENT_EPOCH.replace("48 week", epoch)
    )
    path = tmp_path / "study.yaml"
    path.write_text(text, encoding="utf-8")
    if refused:
        with pytest.raises(ProtocolDataError, match=r"trial_design\.epochs\.value\[1\]\.duration"):
            load_study(path)
    else:
        load_study(path)


# -- criterion IDs: the first misplaced one of each prefix, with the ID its place needs ---------


def _order_problems(criteria) -> list[str]:
    from protocol.study import _criteria_problems

    return [p for p in _criteria_problems(criteria) if "out of order" in p]


def test_two_swapped_criteria_name_the_first_with_the_id_its_place_needs():
    criteria = list(load_study().criteria)
    at = [c.id for c in criteria].index("EX03")
    criteria[at], criteria[at + 1] = criteria[at + 1], criteria[at]
    # not EX03 "expected 'EX05'" nor EX05 "expected 'EX04'", as when measured from the last ID
    assert _order_problems(criteria) == [
        f"criteria[{at}].id: 'EX04' is out of order; expected 'EX03' (registry order, no gaps)"
    ]


def test_a_gap_is_named_once_where_it_starts():
    criteria = list(load_study().criteria)
    at = [c.id for c in criteria].index("EX02")
    del criteria[at]
    assert _order_problems(criteria) == [
        f"criteria[{at}].id: 'EX03' is out of order; expected 'EX02' (registry order, no gaps)"
    ]


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_reordering_names_the_first_misplaced_id_of_each_prefix(data):
    criteria = list(load_study().criteria)
    order = [c.id for c in criteria]
    reordered = []
    for prefix in ("IN", "EX"):
        block = [c for c in criteria if c.id.startswith(prefix)]
        reordered += data.draw(st.permutations(block))
    expected = []
    for prefix in ("IN", "EX"):
        wrong = [
            i
            for i, (c, want) in enumerate(zip(reordered, order, strict=True))
            if want.startswith(prefix) and c.id != want
        ]
        if wrong:  # the first place whose ID is not the one it needs, and no other
            i = wrong[0]
            expected.append(
                f"criteria[{i}].id: {reordered[i].id!r} is out of order; expected "
                f"{order[i]!r} (registry order, no gaps)"
            )
    assert _order_problems(reordered) == expected
