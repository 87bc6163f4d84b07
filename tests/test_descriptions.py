"""How each criterion is described, and the half-life table, follow study.yaml (issue 11).

The criteria page's "How it is checked" sentences and the washout chapter's half-life table are
generated. Expected words come from the registry text (ages 18 to 70, ACR/EULAR at least 9,
mRSS at least 10, disease duration at most 18 months and more than 3 years, the EX24
thresholds) and from arithmetic a reader can redo (5 × 10 hours = 50 hours = 2.083 days).
"""

from __future__ import annotations

import pytest

from protocol.screening import CHECKS, _ordinal, describe
from protocol.study import load_study
from protocol.washout import half_life_table


@pytest.mark.parametrize(
    ("number", "written"),
    [
        (1, "1st"),
        (2, "2nd"),
        (3, "3rd"),
        (4, "4th"),
        (10, "10th"),
        (11, "11th"),
        (12, "12th"),
        (13, "13th"),
        (20, "20th"),
        (21, "21st"),
        (22, "22nd"),
        (23, "23rd"),
        (71, "71st"),
        (101, "101st"),
        (111, "111th"),
        (112, "112th"),
        (113, "113th"),
        (121, "121st"),
    ],
)
def test_ordinals_are_written_as_in_english(number, written):
    assert _ordinal(number) == written


@pytest.mark.traces("criteria.IN01", "criteria.IN02", "criteria.IN04", "criteria.IN05")
def test_the_inclusion_descriptions_carry_the_registry_values():
    assert describe("IN01") == (
        "age in completed years on the screening date; 18 years to 70 years inclusive "
        "(the day before the 71st birthday is the last)"
    )
    assert describe("IN02").startswith(
        "ACR/EULAR 2013 total (the highest weight per category) of at least 9;"
    )
    assert describe("IN04") == (
        "calendar months from the first non-Raynaud manifestation to screening; at most "
        "18 months (exactly 18 months passes, one day more fails)"
    )
    assert describe("IN05") == "mRSS (17 areas, 0-51) of at least 10"


@pytest.mark.traces(
    "criteria.EX02",
    "criteria.EX06",
    "criteria.EX11",
    "criteria.EX22",
    "criteria.EX24",
    "criteria.EX25",
)
def test_the_exclusion_descriptions_carry_the_registry_values():
    assert describe("EX02") == (
        "disease duration (as IN04) of more than 3 years fails; exactly 3 years passes"
    )
    assert describe("EX06") == (
        "the PAH risk category: intermediate and high fail; low risk and no PAH pass. Where no "
        "category is recorded, the ACR/EULAR item on PAH decides where it can (no PAH passes)"
    )
    assert describe("EX11").startswith(
        "prednisone-equivalent dose (BNF table) of all systemic courses taken on the same day "
        "above 10 mg/day"
    )
    assert describe("EX22") == "IgA < 10 mg/dL, IgG < 400 mg/dL, in any unit (strict)"
    assert describe("EX24") == (
        "haemoglobin < 8.0 g/dL, WBC < 3 ×10⁹/L, neutrophils < 1.5 ×10⁹/L, platelets "
        "< 75 ×10⁹/L, ALT or AST > 1.5 × ULN, total bilirubin > 1 × ULN, eGFR "
        "< 40 mL/min/1.73 m² (reported, or CKD-EPI 2021 from creatinine); strict comparisons"
    )
    assert describe("EX25").startswith("a malignancy dated within 5 years before screening")


@pytest.mark.traces("criteria.EX08", "criteria.EX09", "criteria.EX20", "criteria.EX23")
def test_the_washout_descriptions_list_every_window_of_the_criterion():
    assert (
        "(immunosuppressive therapies: 4 weeks prior to randomization; cyclophosphamide: "
        "3 months prior to randomization)" in describe("EX09")
    )
    assert (
        "(major surgery: 8 weeks prior to randomization; planned major surgery: during the "
        "trial period, read as the 48 weeks after randomization, or within 8 weeks before it "
        "(PI24))" in describe("EX08")
    )
    assert (
        "(infection requiring hospitalization: 4 weeks of screening; intravenous antibiotics: "
        "4 weeks of screening; oral antibiotics: 2 weeks prior to screening)" in describe("EX20")
    )
    assert "another investigational drug (last dose): 3 months of entry" in describe("EX23")


def test_every_criterion_has_a_description_with_every_placeholder_filled():
    for criterion in CHECKS:
        text = describe(criterion)
        assert text and "{" not in text and "None" not in text, criterion


@pytest.mark.traces("criteria.IN01", "criteria.EX24", "criteria.EX09")
def test_descriptions_follow_the_study_they_are_given(study_variant):
    variant = load_study(study_variant("value: 70 year", "value: 75 year"))
    assert describe("IN01", variant).endswith(
        "18 years to 75 years inclusive (the day before the 76th birthday is the last)"
    )


@pytest.mark.traces("medication_classes")
def test_the_half_life_table_compares_each_window_with_five_half_lives():
    rows = {row.drug: row for row in half_life_table()}
    methotrexate = rows["methotrexate"]
    assert (methotrexate.criterion, methotrexate.window, methotrexate.half_life) == (
        "EX09",
        "4 weeks",
        "10 hours",
    )
    # 5 × 10 hours = 50 hours = 2.083 days, well inside 28 days.
    assert methotrexate.five_half_lives.to("hour").magnitude == pytest.approx(50)
    assert (methotrexate.window_shorter, methotrexate.flag) == (False, "")
    assert methotrexate.source == "Methotrexate label"  # the citation, not its key
    assert methotrexate.half_life_note == "low dose: 3-10 hours"
    # Hydroxychloroquine: 5 × 50 days = 250 days against 4 weeks.
    hydroxychloroquine = rows["hydroxychloroquine"]
    assert hydroxychloroquine.five_half_lives.to("day").magnitude == pytest.approx(250)
    assert hydroxychloroquine.flag == "window shorter than 5 half-lives"
    # Infliximab: 5 × 10 days = 50 days, inside its 8 weeks (56 days).
    assert rows["infliximab"].window_shorter is False
    # A lifetime window has no comparison.
    assert (rows["rituximab"].window_shorter, rows["rituximab"].flag) == (
        None,
        "lifetime window",
    )
    # Drugs without a half-life in study.yaml are not in the table.
    assert "prednisone" not in rows


@pytest.mark.traces("medication_classes")
@pytest.mark.parametrize(
    ("half_life", "shorter"), [("11.1 day", False), ("11.2 day", False), ("11.3 day", True)]
)
def test_a_window_equal_to_five_half_lives_is_not_flagged(study_variant, half_life, shorter):
    # Infliximab's window is 8 weeks = 56 days: 5 × 11.2 days is exactly 56 days.
    path = study_variant(
        "    half_life:\n      value: 10 day\n      provenance: label\n"
        "      source: label-infliximab",
        f"    half_life:\n      value: {half_life}\n      provenance: label\n"
        "      source: label-infliximab",
    )
    rows = {row.drug: row for row in half_life_table(load_study(path))}
    assert rows["infliximab"].window_shorter is shorter


# The key words of each criterion's "How it is checked", written from the registry's criteria
# and the book's readings (not copied from describe()): a description that lost its threshold,
# its window, its strictness or its reading would miss one.
KEY_WORDS = {
    "IN01": ("18 years to 70 years inclusive", "screening date"),
    "IN02": ("at least 9", "not applicable (fails)"),
    "IN03": ("LeRoy", "diffuse when a proximal area and a distal area are involved"),
    "IN04": ("at most 18 months", "exactly 18 months passes"),
    "IN05": ("at least 10", "17 areas"),
    "IN06": ("childbearing potential", "negative serum test", "others pass"),
    "IN07": ("attestation", "consent date on or before screening"),
    "EX01": ("limited cutaneous SSc fails",),
    "EX02": ("more than 3 years fails", "exactly 3 years passes"),
    "EX03": ("yes fails",),
    "EX04": ("yes fails",),
    "EX05": ("yes fails",),
    "EX06": ("intermediate and high fail",),
    "EX07": ("FVC < 50 % predicted", "DLCO < 40 % predicted", "oxygen therapy", "strict"),
    "EX08": ("major surgery: 8 weeks prior to randomization", "48 weeks after randomization"),
    "EX09": ("4 weeks prior to randomization", "cyclophosphamide: 3 months"),
    "EX10": ("anti-fibrotic", "4 weeks prior to randomization"),
    "EX11": ("above 10 mg/day", "IV/IM injection", "exactly 10 mg/day passes"),
    "EX12": ("intravenous immunoglobulin: 12 weeks prior to randomization",),
    "EX13": ("any use ever", "B-cell depleting", "belimumab"),
    "EX14": ("anakinra: 1 week", "ixekizumab: 2 weeks", "janus kinase inhibitors: 2 weeks"),
    "EX15": ("any use ever", "cell depletion"),
    "EX16": ("attestation",),
    "EX17": ("hepatitis B and C", "active or chronic fails"),
    "EX18": ("TB", "active or latent fails"),
    "EX19": ("HIV", "positive"),
    "EX20": ("active infection", "intravenous antibiotics: 4 weeks", "oral antibiotics: 2 weeks"),
    "EX21": ("yes fails",),
    "EX22": ("IgA < 10 mg/dL", "IgG < 400 mg/dL", "strict"),
    "EX23": ("3 months of entry", "screening visit"),
    "EX24": ("haemoglobin < 8.0 g/dL", "platelets < 75", "ALT or AST > 1.5 × ULN", "eGFR < 40"),
    "EX25": (
        "within 5 years before screening",
        "exactly 5 years before is within them",
        "carcinoma in situ of the uterine cervix",
    ),
    "EX26": ("live or attenuated vaccine: 4 weeks prior to randomization",),
    "EX27": ("pregnant", "breastfeeding", "contraception"),
    "EX28": ("yes fails",),
    "EX29": ("as EX26",),
    "EX30": ("attestation",),
}


def test_the_key_words_cover_every_criterion():
    assert set(KEY_WORDS) == {c.id for c in load_study().criteria}


@pytest.mark.parametrize("criterion", sorted(KEY_WORDS))
def test_each_description_says_its_rule(criterion):
    text = describe(criterion)
    for words in KEY_WORDS[criterion]:
        assert words in text, (criterion, words, text)


def test_a_criterion_of_events_alone_speaks_of_events_not_medicines():
    # EX08 (surgery), EX23 (another trial's drug) and EX26 (vaccines) once said "a medicine
    # the catalogue does not know is unknown": the criteria of the medications list say so
    study = load_study()
    of_medicines = {g.criterion for g in study.medication_classes}
    of_events = {e.criterion for e in study.exposure_events} - of_medicines
    assert {"EX08", "EX23", "EX26"} <= of_events
    for cid in sorted(of_events - {"EX20"}):  # EX20 reads its own infection fields too
        text = describe(cid, study)
        assert "medicine" not in text and "events list" in text, (cid, text)
