"""The logic behind two reader pages, moved out of hidden notebook cells (issue 14 §7): the data
dictionary's "Used by" column and the criteria page's choice of worked examples and calculators.

Expected values are read from the synthetic case files and the registry's criteria by hand:
haemoglobin is used by EX24 only; SYN-03 is 71 (fails IN01) and is the first case in file order
to fail it; SYN-10's haemoglobin of 79 g/L fails EX24 before SYN-18's eGFR does.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from protocol.data_dictionary import dictionary, entry_fields, type_text, used_by
from protocol.screening import screen_file
from protocol.study import load_study
from protocol.worked_examples import calculator, worked_examples
from tests.conftest import REPO

CASES = REPO / "book" / "cases"


@pytest.fixture(scope="module")
def complete() -> dict:
    return yaml.safe_load((CASES / "case01-eligible.yaml").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("path", "criteria"),
    [
        ("labs.hemoglobin", "EX24"),
        ("labs.igg", "EX22"),
        ("ssc.mrss", "IN03, IN05, EX01"),
        ("ssc.first_non_raynaud_manifestation", "IN04, EX02"),
        # SYN-01 records no PAH among the ACR/EULAR items, which settles the category (none):
        # removing it changes nothing there
        ("pah_risk", ""),
        ("ssc.acr_eular", "IN02"),
        ("history.malignancies", "EX25"),
        ("pulmonary.oxygen_therapy", "EX07"),
    ],
)
def test_used_by_names_the_criteria_a_field_decides(complete, path, criteria):
    assert used_by(path, complete) == criteria


def test_used_by_tries_a_choice_s_other_values():
    # removed, SYN-01's PAH risk category is settled by the ACR/EULAR item (no PAH): the
    # dictionary had found no criterion for it; SYN-22's intermediate risk, made low, passes EX06
    with_pah = yaml.safe_load(
        (CASES / "case22-pah-intermediate-risk.yaml").read_text(encoding="utf-8")
    )
    assert used_by("pah_risk", with_pah) == "EX06"
    assert used_by("pah_risk", [with_pah, with_pah]) == "EX06"


def test_used_by_for_a_required_field_and_one_not_in_the_example(complete):
    assert used_by("participant", complete) == "required"
    assert used_by("labs.egfr", complete) == "(not in the examples)"  # SYN-01 gives creatinine
    assert used_by("medications", complete) == "EX09, EX10, EX11, EX12, EX13, EX14, EX15"
    assert used_by("no_such_section.field", complete) == "(not in the examples)"


@pytest.fixture(scope="module")
def dictionary_of_cases() -> dict[str, str]:
    records = [yaml.safe_load(p.read_text(encoding="utf-8")) for p in sorted(CASES.glob("*.yaml"))]
    return {row.field: row.used_by for row in dictionary(records)}


@pytest.mark.parametrize(
    ("path", "criteria"),
    [
        # fields that change nothing in SYN-01 alone, found through the other worked cases:
        # the washout windows count back from the planned randomization (SYN-12, SYN-21; not
        # planned, it is within the 28 days after screening, where SYN-13's steroids decide
        # EX11 alike); a man needs no pregnancy test (SYN-02), and sex enters the eGFR (SYN-18)
        ("dates.planned_randomization", "EX09, EX26, EX29"),
        ("sex", "IN06, EX24, EX27"),
        ("childbearing_potential", "IN06"),  # reversed: a woman who could bear children
        # one classification item moves no case across 9 points: it counts through its group
        ("ssc.acr_eular.puffy_fingers", "IN02 (through its group)"),
        ("ssc.acr_eular.better_explained_by_other_disorder", "IN02"),
        ("labs.hemoglobin.value", "required when the group above is given"),
        ("participant", "required"),
        ("labs.egfr.value", "(not in the examples)"),
    ],
)
def test_the_dictionary_finds_each_field_s_criteria_across_the_worked_cases(
    dictionary_of_cases, path, criteria
):
    assert dictionary_of_cases[path] == criteria


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ({"type": "string", "format": "date"}, "date"),
        ({"anyOf": [{"type": "integer"}, {"type": "null"}]}, "integer"),
        ({"enum": ["female", "male"]}, "one of: female, male"),
        ({"const": 1}, "1"),
        ({"type": "array", "items": {"type": "number"}}, "list of number"),
        ({"$ref": "#/$defs/Labs"}, "group (the fields below)"),
        ({"type": "array", "items": {"$ref": "#/$defs/Malignancy"}}, "list of malignancy entries"),
    ],
)
def test_type_text(spec, words):
    assert type_text(spec) == words


@pytest.fixture(scope="module")
def cases():
    return {path.stem: screen_file(path) for path in sorted(CASES.glob("*.yaml"))}


def test_each_criterion_is_shown_failing_where_a_case_fails_it(cases):
    examples = worked_examples(cases, load_study())
    assert examples["IN01"].case == "case03-age-71"
    assert examples["IN01"].result.status == "fail"
    assert examples["EX24"].case == "case10-hemoglobin-79-g-per-l"
    assert examples["IN04"].case == "case07-duration-18-months-and-a-day"
    # no case fails EX05 (renal crisis): the eligible case shows it passing
    assert examples["EX05"].case == "case01-eligible" and examples["EX05"].result.status == "pass"
    for criterion, example in examples.items():
        failing = [
            n
            for n, r in cases.items()
            if any(c.id == criterion and c.status == "fail" for c in r.criteria)
        ]
        if failing:
            assert example.result.status == "fail", criterion


def test_a_case_with_an_uncatalogued_medicine_illustrates_one_open_class_only(cases):
    examples = worked_examples(cases, load_study())
    uncatalogued = [
        c
        for c, e in examples.items()
        if "is not in the prohibited-medicines catalogue" in e.result.reason
    ]
    assert len({examples[c].case for c in uncatalogued}) == len(uncatalogued)


@pytest.mark.parametrize(
    ("criterion", "page"),
    [
        ("EX24", "labs"),
        ("EX22", "labs"),
        ("EX07", "labs"),
        ("IN05", "classification"),
        ("EX01", "classification"),
        ("EX09", "washout"),
        ("EX11", "washout"),
        ("EX13", "washout"),  # a lifetime class of the catalogue
        ("EX20", "washout"),  # infection events
        ("IN01", None),
        ("EX25", None),
        ("EX30", None),
    ],
)
def test_each_criterion_links_the_calculator_that_checks_it(criterion, page):
    assert calculator(criterion, load_study()) == page


def test_the_case_directory_is_there():
    assert Path(CASES).is_dir()


def test_entry_fields_are_in_words_with_the_study_s_event_kinds():
    study = load_study()
    events = {row.field: row for row in entry_fields("events", study)}
    assert events["kind"].type == "one of: " + ", ".join(e.kind for e in study.exposure_events)
    assert "planned_major_surgery: Planned major surgery" in events["kind"].meaning
    assert events["kind"].used_by == "required" and events["date"].used_by == ""
    malignancy = {row.field: row.used_by for row in entry_fields("history.malignancies", study)}
    assert malignancy == {"type": "required", "date": "", "excepted_type": "required"}
    medication = [row.field for row in entry_fields("medications", study)]
    assert medication[:3] == ["name", "start", "last_dose"]


def test_every_field_of_the_dictionary_has_a_meaning_in_words():
    """A reader looks a field up by its name and reads what it means: no row is left blank
    (the classification items, the skin areas and the lab parts had none)."""
    rows = dictionary([])
    assert [row.field for row in rows if not row.meaning.strip()] == []
    meaning = {row.field: row.meaning for row in rows}
    assert meaning["ssc.acr_eular.ild"] == (
        "ACR/EULAR 2013 item: interstitial lung disease (ILD) (yes or no; IN02)"
    )
    assert meaning["ssc.mrss.areas.left_forearm"] == (
        "mRSS grade of the skin of the left forearm: 0 (normal) to 3 (severe)"
    )
    assert meaning["labs.platelets.unit"].endswith("such as 10^9/L, 10^3/µL, /µL, /mm³, cells/L")


def test_a_lab_without_an_upper_limit_of_normal_is_offered_none():
    """The record has ULN fields for every lab; the dictionary says which labs take one, as the
    rules refuse a ULN for any other (told "the site's upper limit of normal" for haemoglobin,
    a coordinator would fill one in and have the record refused)."""
    from protocol.labs import get_analyte
    from protocol.participant import Labs

    meaning = {row.field: row.meaning for row in dictionary([])}
    taking_one = []
    for name in Labs.model_fields:
        analyte = get_analyte(name)
        for part in ("uln", "uln_unit"):
            said = meaning[f"labs.{name}.{part}"]
            if analyte.relative_to_uln:
                assert said in (
                    "The site's upper limit of normal",
                    "Unit of the ULN if not that of the value",
                )
                taking_one.append(name)
            else:
                assert said == (
                    f"{analyte.short_label}: none; an upper limit of normal applies only to "
                    "ALT, AST and total bilirubin (one given here is refused)"
                ), (name, said)
    # the three the protocol reads against a ULN (EX24: "> 1.5 x ULN", "TBil > ULN")
    assert sorted(set(taking_one)) == ["alt", "ast", "total_bilirubin"]
