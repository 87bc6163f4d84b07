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

from protocol.data_dictionary import dictionary, type_text, used_by
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
        ("pah_risk", "EX06"),
        ("history.malignancies", "EX25"),
        ("pulmonary.oxygen_therapy", "EX07"),
    ],
)
def test_used_by_names_the_criteria_a_field_decides(complete, path, criteria):
    assert used_by(path, complete) == criteria


def test_used_by_for_a_required_field_and_one_not_in_the_example(complete):
    assert used_by("participant", complete) == "required"
    assert used_by("labs.egfr", complete) == "(not in SYN-01)"  # SYN-01 gives creatinine
    assert used_by("medications", complete) == "EX09, EX10, EX11, EX12, EX13, EX14, EX15"
    assert used_by("no_such_section.field", complete) == ""


def test_the_dictionary_lists_every_field_once_with_a_type(complete):
    rows = dictionary(complete)
    paths = [row.field for row in rows]
    assert len(paths) == len(set(paths))
    assert {"dates.birth", "labs.hemoglobin", "ssc.mrss", "medications", "events"} <= set(paths)
    assert not any(p.startswith(("medications.", "events.")) for p in paths)  # own pages
    assert all(row.type for row in rows)
    assert {r.field: r.type for r in rows}["dates.birth"] == "date"


@pytest.mark.parametrize(
    ("spec", "words"),
    [
        ({"type": "string", "format": "date"}, "date"),
        ({"anyOf": [{"type": "integer"}, {"type": "null"}]}, "integer"),
        ({"enum": ["female", "male"]}, "one of: female, male"),
        ({"const": 1}, "1"),
        ({"type": "array", "items": {"type": "number"}}, "list of number"),
        ({"$ref": "#/$defs/Labs"}, "Labs"),
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
