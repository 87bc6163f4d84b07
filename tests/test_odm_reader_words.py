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
