"""The literature facts of study.yaml are checked against their publications' values.

A tester changed CKD-EPI 2021's kappa for women from 0.7 to 0.9 in a copy of study.yaml:
`registry-check` said everything agreed, and worked case 18 turned from not eligible to
eligible. The published values are now stored (protocol/registry/published.yaml) and compared;
this file holds that copy to facts.md's own transcription, and shows that every value, changed
either way, is reported at its place and nowhere else.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from protocol.registry_check import (
    PUBLISHED_PATH,
    check_published,
    cross_check,
    published_count,
    published_values,
)
from protocol.study import STUDY_PATH, load_study
from trialbook.cli import main

REPO = Path(__file__).resolve().parents[1]
FACTS = REPO.parent / "shared" / "reference" / "facts.md"
STUDY_TEXT = STUDY_PATH.read_text(encoding="utf-8")


# -- the stored copy against facts.md's transcription ----------------------------------------


@pytest.fixture(scope="module")
def facts() -> str:
    if not FACTS.exists():
        pytest.skip(f"facts.md is not at {FACTS} (outside the project's workplace)")
    return FACTS.read_text(encoding="utf-8")


def test_the_equation_is_the_one_facts_md_gives(facts):
    equation = published_values()["egfr_equation"]["value"]
    line = re.search(
        r"eGFR = (\d+) x min\(Scr/k, 1\)\^a x max\(Scr/k, 1\)\^(-[\d.]+) x "
        r"([\d.]+)\^age x ([\d.]+) \[female\]",
        facts,
    )
    assert line, "facts.md's equation line"
    constant, above, age_base, female = line.groups()
    assert equation["constant"] == float(constant)
    assert equation["exponent_above"] == float(above)
    assert equation["age_base"] == float(age_base)
    assert equation["female_factor"] == float(female)
    kappa = re.search(r"k = ([\d.]+) \(female\), ([\d.]+) \(male\)", facts).groups()
    alpha = re.search(r"a = (-[\d.]+) \(female\), (-[\d.]+) \(male\)", facts).groups()
    assert (equation["kappa_female"], equation["kappa_male"]) == tuple(map(float, kappa))
    assert (equation["alpha_female"], equation["alpha_male"]) == tuple(map(float, alpha))


def test_the_acr_eular_weights_are_table_1s(facts):
    section = facts.split("## 2.")[1].split("## 3.")[0]
    weights = [int(w) for w in re.findall(r"\| (\d+) \|\n", section)]
    categories = published_values()["acr_eular_2013.categories"]["value"]
    # facts.md lists each category's items in one row each, in Table 1's order; a category
    # of alternatives with one weight (PAH/ILD, the antibodies) is one row
    published = []
    for category in categories:
        distinct = list(dict.fromkeys(category.values()))
        published += distinct if len(set(category.values())) > 1 else [distinct[0]]
    assert published == weights
    assert "total >= 9 classifies" in section
    assert published_values()["criterion_rules.acr_eular_minimum"]["value"] == 9


def test_the_mrss_areas_are_khanna_2017s(facts):
    section = facts.split("## 4.")[1].split("## 5.")[0]
    assert "17 areas, each 0-3" in section
    areas = published_values()["skin_score.areas"]["value"]
    assert len(areas) == len(set(areas)) == 17
    assert published_values()["skin_score.grades"]["value"] == [0, 1, 2, 3]
    proximal = published_values()["skin_score.proximal_areas"]["value"]
    # "upper arms, thighs, chest, abdomen", each arm and thigh on both sides
    assert sorted(proximal) == sorted(
        [
            "right_upper_arm",
            "left_upper_arm",
            "right_thigh",
            "left_thigh",
            "anterior_chest",
            "abdomen",
        ]
    )


@pytest.mark.parametrize(
    "analyte, factor, molar_mass",
    [("hemoglobin", "0.6206", "16,114.5"), ("total_bilirubin", "17.1", "584.66"),
     ("creatinine", "88.4", "113.12")],
)  # fmt: skip
def test_the_factors_and_molar_masses_are_facts_mds(facts, analyte, factor, molar_mass):
    assert factor in facts and molar_mass in facts
    values = published_values()
    assert values[f"lab_analytes[{analyte}].conversion_factor"]["value"].startswith(factor + " ")
    assert values[f"lab_analytes[{analyte}].molar_mass"]["value"] == (
        molar_mass.replace(",", "") + " g/mol"
    )


# -- the book's own study agrees; each value changed is found at its place --------------------


def test_the_books_study_agrees_with_every_publication():
    assert check_published(load_study()) == []
    assert cross_check(load_study()) == []


def _study_with(tmp_path: Path, old: str, new: str):
    assert STUDY_TEXT.count(old) == 1, old
    path = tmp_path / "study.yaml"
    path.write_text(STUDY_TEXT.replace(old, new), encoding="utf-8")
    return load_study(path)


# the equation's constants: (field, as study.yaml writes it, a value below, a value above)
EQUATION = [
    ("constant", "142", "141", "143"),
    ("kappa_female", "0.7", "0.69", "0.9"),
    ("kappa_male", "0.9", "0.7", "0.91"),
    ("alpha_female", "-0.241", "-0.302", "-0.24"),
    ("alpha_male", "-0.302", "-0.303", "-0.241"),
    ("exponent_above", "-1.200", "-1.201", "-1.1"),
    ("age_base", "0.9938", "0.9937", "0.9939"),
    ("female_factor", "1.012", "1.011", "1.013"),
    ("minimum_age", "18", "17", "19"),
]
# (text in study.yaml, a value below, a value above, the place reported)
CHANGES = [
    *(
        (f"    {field}: {value}\n", f"    {field}: {below}\n", f"    {field}: {above}\n",
         f"egfr_equation.{field}")
        for field, value, below, above in EQUATION
    ),
    ("items: {raynaud: 3}", "items: {raynaud: 2}", "items: {raynaud: 4}",
     "acr_eular_2013.categories[6].raynaud"),
    ("sclerodactyly: 4}", "sclerodactyly: 3}", "sclerodactyly: 5}",
     "acr_eular_2013.categories[1].sclerodactyly"),
    ("  acr_eular_minimum:\n    value: 9\n", "  acr_eular_minimum:\n    value: 8\n",
     "  acr_eular_minimum:\n    value: 10\n", "criterion_rules.acr_eular_minimum"),
]  # fmt: skip


@pytest.mark.parametrize("side", [1, 2])
@pytest.mark.parametrize("change", CHANGES, ids=[c[3] for c in CHANGES])
def test_a_published_value_changed_either_way_is_reported_at_its_place(tmp_path, change, side):
    study = _study_with(tmp_path, change[0], change[side])
    found = check_published(study)
    assert [m.yaml_path for m in found] == [change[3]]
    assert "study.yaml says" in str(found[0]) and "the publication" in str(found[0])


def test_a_factor_and_its_molar_mass_changed_together_are_reported(tmp_path):
    # 88.0 umol/L per mg/dL with a molar mass of 113.6366 g/mol agree with each other (the
    # study's own validation) but not with the published table
    path = tmp_path / "study.yaml"
    text = STUDY_TEXT.replace(
        "      value: 88.4 umol/L per mg/dL\n", "      value: 88 umol/L per mg/dL\n"
    )
    text = text.replace("      value: 113.12 g/mol\n", "      value: 113.6363636 g/mol\n")
    path.write_text(text, encoding="utf-8")
    found = check_published(load_study(path))
    assert [m.yaml_path for m in found] == [
        "lab_analytes[creatinine].conversion_factor",
        "lab_analytes[creatinine].molar_mass",
    ]


def test_a_molar_mass_in_another_unit_is_the_same_value(tmp_path):
    study = _study_with(tmp_path, "      value: 113.12 g/mol\n", "      value: 0.11312 kg/mol\n")
    assert check_published(study) == []


def test_a_proximal_area_taken_away_is_reported(tmp_path):
    study = _study_with(
        tmp_path,
        "{name: right_thigh, proximal: true, distal: false}",
        "{name: right_thigh, proximal: false, distal: true}",
    )
    # the thigh made distal: both lists differ
    assert [m.yaml_path for m in check_published(study)] == [
        "skin_score.proximal_areas",
        "skin_score.distal_areas",
    ]


@pytest.mark.parametrize(
    "relabelled",
    [
        ("  source: inker-2021\n  value:\n    name: CKD-EPI 2021",
         "  source: si-conversion-tables\n  value:\n    name: CKD-EPI 2021"),
        ("egfr_equation:\n  provenance: literature\n  source: inker-2021\n",
         "egfr_equation:\n  provenance: assumption\n  note: our own variant\n"),
    ],
)  # fmt: skip
def test_relabelling_the_equation_is_no_escape(tmp_path, relabelled):
    # a tester gave the changed equation another source, or called it an assumption: it had
    # passed (exit 0, "12 published values" agreeing) and lab printed the changed eGFR
    old, new = relabelled
    assert STUDY_TEXT.count(old) == 1
    text = STUDY_TEXT.replace(old, new).replace(
        "    kappa_female: 0.7\n", "    kappa_female: 0.9\n"
    )
    path = tmp_path / "study.yaml"
    path.write_text(text, encoding="utf-8")
    found = check_published(load_study(path))
    assert [m.yaml_path for m in found] == ["egfr_equation.kappa_female"]


def test_an_equation_of_another_name_is_another_publications(tmp_path):
    # an amendment moving to another equation names it: the copy of Inker 2021 says nothing
    # of its constants, and the count says one value fewer was compared
    text = STUDY_TEXT.replace(
        "    name: CKD-EPI 2021 creatinine equation (race-free)\n",
        "    name: CKD-EPI 2009 creatinine equation\n",
    ).replace("    kappa_female: 0.7\n", "    kappa_female: 0.9\n")
    path = tmp_path / "study.yaml"
    path.write_text(text, encoding="utf-8")
    study = load_study(path)
    assert check_published(study) == []
    assert published_count(study) == len(published_values()) - 1
    assert published_count(load_study()) == len(published_values())


def test_spacing_in_the_equations_name_is_no_difference(tmp_path):
    study = _study_with(
        tmp_path,
        "    name: CKD-EPI 2021 creatinine equation (race-free)\n",
        "    name: CKD-EPI  2021 creatinine equation  (race-free)\n",
    )
    assert check_published(study) == []


@pytest.mark.parametrize(
    "old, new",
    [
        ("{name: face, proximal: false, distal: false}",
         "{name: face, proximal: false, distal: true}"),
        ("{name: right_forearm, proximal: false, distal: true}",
         "{name: right_forearm, proximal: false, distal: false}"),
    ],
)  # fmt: skip
def test_a_distal_area_added_or_taken_away_is_reported(tmp_path, old, new):
    assert [m.yaml_path for m in check_published(_study_with(tmp_path, old, new))] == [
        "skin_score.distal_areas"
    ]


def test_a_factor_is_shown_as_study_yaml_writes_it(tmp_path):
    text = STUDY_TEXT.replace(
        "      value: 88.4 umol/L per mg/dL\n", "      value: 88 umol/L per mg/dL\n"
    )
    text = text.replace("      value: 113.12 g/mol\n", "      value: 113.6363636 g/mol\n")
    path = tmp_path / "study.yaml"
    path.write_text(text, encoding="utf-8")
    shown = str(check_published(load_study(path))[0])
    assert (
        "study.yaml says '88 umol/L per mg/dL'" in shown
        and "gives '88.4 umol/L per mg/dL'" in shown
    )


def test_registry_check_reports_the_testers_kappa_and_exits_1(tmp_path, capsys):
    _study_with(tmp_path, "    kappa_female: 0.7\n", "    kappa_female: 0.9\n")
    assert main(["registry-check", "--study", str(tmp_path / "study.yaml")]) == 1
    err = capsys.readouterr().err
    assert (
        "egfr_equation.kappa_female: study.yaml says 0.9, but the publication Inker 2021 gives 0.7"
        in err
    )
    assert main(["registry-check"]) == 0
    out = capsys.readouterr().out
    assert f"{len(published_values())} published values with {PUBLISHED_PATH.name}" in out


def test_screen_warns_when_run_with_an_equation_changed(tmp_path, capsys):
    _study_with(tmp_path, "    kappa_female: 0.7\n", "    kappa_female: 0.9\n")
    case = REPO / "book/cases/case01-eligible.yaml"
    main(["screen", str(case), "--study", str(tmp_path / "study.yaml")])
    err = capsys.readouterr().err
    assert err.startswith("warning:") and "published values" in err and "kappa_female" in err
