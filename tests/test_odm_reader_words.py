"""The eCRF (ODM) in a data manager's words, with the record's own bounds as hard edits.

A reviewer found item groups named by internal keys (``ssc``, ``mrss``, ``wbc``), every lab
value's question "a decimal number with a point", route decodes ``iv``/``sc``, a "site's upper
limit of normal" asked for every analyte (eGFR, haemoglobin), and the 17 mRSS grades without
their 0-3 range.
"""

from __future__ import annotations

import re

import pytest

from exports import odm
from protocol.labs import get_analyte
from protocol.study import load_study

VERSION = odm.build().Study[0].MetaDataVersion[0]
ITEMS = {i.OID: i for i in VERSION.ItemDef}
GROUPS = {g.OID: g for g in VERSION.ItemGroupDef}
CODE_LISTS = {c.OID: c for c in VERSION.CodeList}


def _question(oid: str) -> str:
    return ITEMS[oid].Question.TranslatedText[0]._content


def test_no_question_or_group_is_a_type_description_a_key_or_an_id_alone():
    keys = {"ssc", "mrss", "history", "pulmonary", "wbc", "alt", "iga", "igg", "pah", "ild"}
    for oid in ITEMS:
        text = _question(oid)
        assert text not in odm.TYPE_DESCRIPTIONS and text.lower() not in keys, oid
        assert not re.fullmatch(r"(IN|EX)\d\d", text), oid
        assert "_" not in text.split(" (")[0] or "investigator_cleared" in text, (oid, text)
    for oid, group in GROUPS.items():
        assert group.Name.lower() not in keys, oid


@pytest.mark.parametrize(
    "oid, words",
    [
        ("IT.LABS.HEMOGLOBIN.VALUE", "Hemoglobin: the value the laboratory reports"),
        ("IT.LABS.WBC.UNIT", "WBC: its unit, such as 10^9/L"),
        ("IT.SSC.MRSS.AREAS.FACE", "mRSS grade of the skin of the face"),
        ("IT.BREASTFEEDING", "Breastfeeding (EX27)"),
        ("IT.INFECTION_SCREENING.TUBERCULOSIS", "Tuberculosis (EX18)"),
    ],
)
def test_questions_say_what_is_asked(oid, words):
    assert _question(oid).startswith(words)


def test_group_names_are_the_analytes_and_sections_names():
    assert GROUPS["IG.LABS.WBC"].Name == "White blood cells (WBC)"
    assert GROUPS["IG.SSC.MRSS"].Name.startswith("The modified Rodnan skin score")
    assert GROUPS["IG.PULMONARY"].Name.startswith("Lung function")


def test_routes_are_decoded_in_full():
    routes = CODE_LISTS["CL.MEDICATIONS.ROUTE"]
    decodes = {i.CodedValue: i.Decode.TranslatedText[0]._content for i in routes.CodeListItem}
    assert decodes["iv"] == "Intravenous" and decodes["sc"] == "Subcutaneous"
    assert decodes["im"] == "Intramuscular" and decodes["intra_articular"] == "Intra-articular"
    assert decodes["oral"] == "Oral"


def test_a_uln_is_asked_only_where_the_threshold_is_a_multiple_of_it():
    study = load_study()
    for analyte in ("hemoglobin", "wbc", "neutrophils", "platelets", "alt", "ast",
                    "total_bilirubin", "egfr", "creatinine", "iga", "igg"):  # fmt: skip
        asked = f"IT.LABS.{analyte.upper()}.ULN" in ITEMS
        assert asked == bool(get_analyte(analyte, study).relative_to_uln), analyte
        assert (f"IT.LABS.{analyte.upper()}.ULN_UNIT" in ITEMS) == asked


def _bounds(oid: str) -> list[tuple[str, str]]:
    return [(c.Comparator, c.CheckValue[0]._content) for c in ITEMS[oid].RangeCheck]


def test_the_skin_score_carries_its_ranges_as_hard_edits():
    areas = [oid for oid in ITEMS if oid.startswith("IT.SSC.MRSS.AREAS.")]
    assert len(areas) == 17
    for oid in areas:
        assert _bounds(oid) == [("GE", "0"), ("LE", "3")]
        assert all(c.SoftHard == "Hard" for c in ITEMS[oid].RangeCheck)
    assert _bounds("IT.SSC.MRSS.TOTAL") == [("GE", "0"), ("LE", "51")]
    # a value whose unit the site chooses has no bound in one unit: none is written
    assert _bounds("IT.LABS.HEMOGLOBIN.VALUE") == []


def test_the_ecrf_still_passes_both_validators():
    assert odm.validate_xml(odm.xml_bytes(odm.build())) == []
    assert odm.validate_oids(odm.build()) == []


@pytest.mark.parametrize(
    "analyte, label", [("ALT", "ALT"), ("AST", "AST"), ("TOTAL_BILIRUBIN", "TBil")]
)
def test_each_uln_question_names_its_analyte(analyte, label):
    assert _question(f"IT.LABS.{analyte}.ULN") == f"{label}: the site's upper limit of normal"
    assert _question(f"IT.LABS.{analyte}.ULN_UNIT").startswith(f"{label}: the unit of the upper")


def _coded_values(item_oid: str) -> list[str]:
    code_list = CODE_LISTS[ITEMS[item_oid].CodeListRef.CodeListOID]
    return [entry.CodedValue for entry in code_list.CodeListItem]


def test_an_events_kind_is_chosen_from_the_kinds_the_rules_read():
    # the seven kinds of the exposure events (EX08, EX20, EX23, EX26/EX29), by hand from
    # study.yaml; free text here let a site type a kind the washout rules refuse
    assert set(_coded_values("IT.EVENTS.KIND")) == {
        "major_surgery",
        "planned_major_surgery",
        "live_vaccine",
        "investigational_drug",
        "hospitalised_infection",
        "iv_antibiotics",
        "oral_antibiotics",
    }
    decodes = {
        i.CodedValue: i.Decode.TranslatedText[0]._content
        for i in CODE_LISTS["CL.EVENTS.KIND"].CodeListItem
    }
    assert decodes["live_vaccine"] == "Live or attenuated vaccine"


def test_a_medicines_frequency_is_chosen_from_one_spelling_of_each_frequency_the_rules_read():
    from protocol.washout import FREQUENCIES, frequency_of

    offered = _coded_values("IT.MEDICATIONS.FREQUENCY")
    # (doses on a dosing day, days between dosing days): each meaning once, worked by hand
    meanings = [frequency_of(value) for value in offered]
    assert sorted(meanings, key=str) == sorted(
        [(1, None), (1, 1), (2, 1), (3, 1), (4, 1), (1, 2), (1, 7), (1, 14), (1, 30)], key=str
    )
    assert set(meanings) == set(FREQUENCIES.values())  # none the rules read is left out


def test_every_choice_the_ecrf_offers_is_an_entry_the_washout_rules_accept():
    from protocol.washout import parse_washout_input

    data = {
        "planned_randomization": "2025-03-17",
        "screening": "2025-03-03",
        "medications": [
            {
                "name": "methotrexate",
                "last_dose": "2025-01-06",
                "dose": "15 mg",
                "frequency": frequency,
                "route": route,
            }
            for frequency in _coded_values("IT.MEDICATIONS.FREQUENCY")
            for route in _coded_values("IT.MEDICATIONS.ROUTE")
        ],
        "events": [
            {"kind": kind, "date": "2024-01-02"} for kind in _coded_values("IT.EVENTS.KIND")
        ],
    }
    import yaml

    parsed = parse_washout_input(yaml.safe_load(yaml.safe_dump(data)), "the eCRF's choices")
    assert len(parsed.medications) == 9 * 10 and len(parsed.events) == 7


def test_an_event_kind_an_amendment_adds_is_offered_on_the_ecrf():
    from protocol.study import parse_study
    from tests.conftest import study_data

    data = study_data()
    added = dict(data["exposure_events"][2], kind="yellow_fever_vaccine", label="Yellow fever")
    data["exposure_events"].append(added)
    version = odm.build(parse_study(data, "amended study.yaml")).Study[0].MetaDataVersion[0]
    kinds = {c.OID: c for c in version.CodeList}["CL.EVENTS.KIND"]
    assert "yellow_fever_vaccine" in [entry.CodedValue for entry in kinds.CodeListItem]


@pytest.mark.parametrize(
    ("analyte", "units"),
    [  # by hand from study.yaml's accepted units (the units the sites' laboratories report)
        ("hemoglobin", {"g/dL", "g/L", "mmol/L"}),
        ("platelets", {"10^9/L", "10^3/µL", "/µL", "/mm³", "cells/L"}),
        ("alt", {"U/L", "IU/L", "µkat/L"}),
        ("creatinine", {"mg/dL", "µmol/L"}),
        ("egfr", {"mL/min/1.73 m²"}),
        ("igg", {"mg/dL", "g/L", "mg/L"}),
    ],
)
def test_a_lab_unit_is_chosen_from_the_units_the_rules_read(analyte, units):
    from protocol.labs import read_analyte_unit

    offered = _coded_values(f"IT.LABS.{analyte.upper()}.UNIT")
    assert set(offered) == units
    for unit in offered:  # each is read by the rules as the analyte's quantity
        read_analyte_unit(get_analyte(analyte), unit)
    if get_analyte(analyte).relative_to_uln:
        assert set(_coded_values(f"IT.LABS.{analyte.upper()}.ULN_UNIT")) == units
