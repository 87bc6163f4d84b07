"""Screening's exact reasons and missing fields when dates, sex or lists are not recorded
(issue 11: mutants that survived).

Every record is the synthetic worked case 1 (book/cases/case01-eligible.yaml) with one or two
things changed. Ages, windows and dates are counted by hand in the comments; the earliest a
missing screening date can be is the latest of consent, the first manifestation, the pregnancy
test and the attestations (case 1: all 2025-03-03), the latest is the planned randomization
(2025-03-17); a missing birth date lies between 1900-01-01 and the first manifestation
(2024-05-20).
"""

from __future__ import annotations

import copy
from datetime import date

import pytest
import yaml
from hypothesis import example, given
from hypothesis import strategies as st

from protocol.errors import ProtocolDataError
from protocol.participant import parse_record
from protocol.reports import format_markdown, format_text
from protocol.screening import (
    CriterionResult,
    ScreeningResult,
    admitted_ages_within,
    screen,
    screen_file,
)
from protocol.study import load_study
from tests.conftest import REPO, study_data

CASE_1 = yaml.safe_load((REPO / "book/cases/case01-eligible.yaml").read_text(encoding="utf-8"))


def _screen(change) -> dict[str, tuple[str, str, list[str]]]:
    data = copy.deepcopy(CASE_1)
    change(data)
    result = screen(parse_record(data, "synthetic variant of case 1"))
    return {c.id: (c.status, c.reason, list(c.missing)) for c in result.criteria}


def _without_screening_date(birth: date):
    def change(data):
        data["dates"]["birth"] = birth
        del data["dates"]["screening"]

    return change


# -- age (IN01) when a date is missing --------------------------------------------------------


@pytest.mark.traces("criteria.IN01")
def test_age_without_a_birth_date_is_unknown_over_every_possible_age():
    # Born between 1900-01-01 and 2024-05-20, screened 2025-03-03: 0 to 125 years, and 120 is the
    # oldest plausible age at screening (older is refused): 0 to 120.
    result = _screen(lambda d: d["dates"].pop("birth"))
    assert result["IN01"] == (
        "unknown",
        "age 0 to 120 years at screening (not all dates recorded); 18-70 required",
        ["dates.birth"],
    )


@pytest.mark.traces("criteria.IN01")
@pytest.mark.parametrize(
    ("birth", "expected"),
    [
        # 2025-03-03 to 2025-03-17 with a birthday on 03-10: 34 then 35, within 18-70 either way
        (
            date(1990, 3, 10),
            (
                "pass",
                "age 34 to 35 years at screening (not all dates recorded): within 18-70 "
                "whatever the dates (PI09)",
                [],
            ),
        ),
        # 17 on 2025-03-03, 18 from 2025-03-10: it depends on the screening date
        (
            date(2007, 3, 10),
            (
                "unknown",
                "age 17 to 18 years at screening (not all dates recorded); 18-70 required",
                ["dates.screening"],
            ),
        ),
        # 70 until 2025-03-09, 71 from 2025-03-10: it depends
        (
            date(1954, 3, 10),
            (
                "unknown",
                "age 70 to 71 years at screening (not all dates recorded); 18-70 required",
                ["dates.screening"],
            ),
        ),
        # 71 on 2025-03-03 (birthday 03-01), 71 on 2025-03-17: too old whatever the date
        (
            date(1954, 3, 1),
            ("fail", "age 71 years at screening; 18-70 required (PI09)", []),
        ),
        # 17 on 2025-03-03 and 17 on 2025-03-17 (birthday 03-20): too young whatever the date
        (
            date(2007, 3, 20),
            ("fail", "age 17 years at screening; 18-70 required (PI09)", []),
        ),
    ],
)
def test_age_without_a_screening_date_is_decided_only_when_every_date_agrees(birth, expected):
    assert _screen(_without_screening_date(birth))["IN01"] == expected


@pytest.mark.traces("criteria.IN01")
def test_age_outside_the_range_whatever_the_dates_fails():
    # Born 1940-01-01, screened on or after 2025-03-03 (no consent, screening or randomization
    # date; the attestations and the test are dated 2025-03-03) and by 2100-12-31: 85 to 160,
    # and at most the plausible 120.
    def change(data):
        data["dates"] = {"birth": date(1940, 1, 1)}

    assert _screen(change)["IN01"] == (
        "fail",
        "age 85 to 120 years at screening (not all dates recorded): outside 18-70 whatever the "
        "dates (PI09)",
        [],
    )


@pytest.mark.traces("criteria.IN01")
@pytest.mark.parametrize("later", ["consent", "pregnancy_test", "attestation", "malignancy"])
def test_every_dated_step_before_screening_moves_the_earliest_screening_date(later):
    # Born 2007-03-04: 17 on 2025-03-03, 18 from 2025-03-04. With one step dated 2025-03-05 the
    # screening (not recorded) is on or after 2025-03-05, so the age is 18 whatever the date.
    def change(data):
        data["dates"]["birth"] = date(2007, 3, 4)
        del data["dates"]["screening"]
        data["dates"]["consent"] = date(2025, 3, 3)
        if later == "consent":
            data["dates"]["consent"] = date(2025, 3, 5)
        elif later == "pregnancy_test":
            data["pregnancy_test"]["date"] = date(2025, 3, 5)
        elif later == "attestation":
            data["attestations"]["EX16"]["date"] = date(2025, 3, 5)
        else:
            data["history"]["malignancies"] = [
                {"type": "basal cell carcinoma", "date": date(2025, 3, 5), "excepted_type": True}
            ]

    status, reason, missing = _screen(change)["IN01"]
    assert (status, missing) == ("pass", []), reason


@pytest.mark.traces("criteria.IN01")
def test_dates_that_cannot_be_in_order_are_refused():
    # The pregnancy test (on or before screening) is after the planned randomization.
    data = copy.deepcopy(CASE_1)
    del data["dates"]["screening"]
    data["pregnancy_test"]["date"] = date(2025, 3, 20)
    with pytest.raises(ProtocolDataError) as raised:
        screen(parse_record(data, "synthetic"))
    assert (
        "dates: the recorded dates cannot all be in order; expected tests, attestations and "
        "history on or before screening, doses on or before the planned randomization"
    ) in str(raised.value)


# -- eGFR from creatinine (EX24) when sex or age is missing -----------------------------------
# CKD-EPI 2021 at 46 years (0.9938^46 = 0.7512), creatinine 1.7 mg/dL:
#   woman: 142 × (1.7/0.7)^-1.200 × 0.7512 × 1.012 = 142 × 0.3448 × 0.7512 × 1.012 = 37.2 (< 40)
#   man:   142 × (1.7/0.9)^-1.200 × 0.7512         = 142 × 0.4662 × 0.7512         = 49.7
# so the sex decides; 4.5 mg/dL is far below 40 and 0.7 mg/dL far above for either sex.


def _creatinine(value, *removed):
    def change(data):
        data["labs"]["creatinine"] = {"value": value, "unit": "mg/dL"}
        # without the sex, without what implies a woman too: the sex then is not known at all
        removed_too = ("childbearing_potential",) if "sex" in removed else ()
        for path in (*removed, *removed_too):
            node = data
            *parents, last = path.split(".")
            for key in parents:
                node = node[key]
            del node[last]

    return change


@pytest.mark.traces("criteria.EX24")
def test_egfr_reads_the_sex_a_record_without_one_implies():
    # a tester's record: no sex, but childbearing potential (a woman's); 1.8 mg/dL at 46 gives
    # 142 x (1.8/0.7)^-1.200 x 0.9938^46 x 1.012 = 34.7 for a woman (< 40), 48 for a man
    def change(data):
        data["labs"]["creatinine"] = {"value": 1.8, "unit": "mg/dL"}
        del data["sex"]

    status, reason, missing = _screen(change)["EX24"]
    assert (status, missing) == ("fail", [])
    assert "(female, 46 years)" in reason
    assert "the sex not recorded, female as childbearing potential implies" in reason


@pytest.mark.traces("criteria.EX24")
def test_egfr_that_depends_on_the_missing_sex_is_unknown_naming_sex():
    assert _screen(_creatinine(1.7, "sex"))["EX24"] == (
        "unknown",
        "eGFR from creatinine depends on sex, not recorded (aged 46)",
        ["sex"],
    )


@pytest.mark.traces("criteria.EX24")
def test_egfr_that_depends_on_missing_dates_is_unknown_naming_them():
    status, reason, missing = _screen(_creatinine(1.7, "dates.birth", "dates.screening"))["EX24"]
    assert status == "unknown"
    assert missing == ["dates.birth", "dates.screening"]
    assert reason.startswith("eGFR from creatinine depends on dates.birth and dates.screening")
    assert reason.endswith(
        "(the age could be 0 to 120 years; at 18 to 70, the ages IN01 admits, it is on both "
        "sides of the threshold)"
    )


@pytest.mark.traces("criteria.EX24")
@pytest.mark.parametrize(("value", "status"), [(4.5, "fail"), (0.7, "pass")])
def test_egfr_the_same_for_either_sex_is_decided_and_says_so(value, status):
    decided, reason, missing = _screen(_creatinine(value, "sex"))["EX24"]
    assert (decided, missing) == (status, [])
    assert reason.endswith("(the same for every age and sex the record allows)")


@pytest.mark.traces("criteria.EX24")
def test_a_childs_egfr_is_read_at_the_youngest_age_in01_admits():
    # Born 2010-01-01: 15 at the 2025-03-03 screening. IN01 excludes a 15-year-old whatever the
    # kidneys, so the eGFR is read at 18, the nearest age IN01 admits (a reported eGFR, asked
    # for before, could not make the record eligible). Creatinine 62 µmol/L = 0.7014 mg/dL; for
    # a woman at 18: 142 x (0.7014/0.7)^-1.200 x 0.9938^18 x 1.012 = 128.2, not < 40.
    def change(data):
        data["dates"]["birth"] = date(2010, 1, 1)

    status, reason, missing = _screen(change)["EX24"]
    assert (status, missing) == ("pass", [])
    assert "0.7014 mg/dL (female, 18 years): eGFR (CKD-EPI 2021) = 128.2" in reason
    assert reason.endswith(
        "(aged 15: read at 18, the nearest age IN01 admits; IN01 excludes the rest)"
    )
    assert _screen(change)["IN01"][0] == "fail"


@pytest.mark.traces("criteria.EX24")
def test_a_uln_not_recorded_leaves_the_liver_test_unknown_naming_the_uln():
    def change(data):
        data["labs"]["alt"] = {"value": 22, "unit": "U/L"}

    assert _screen(change)["EX24"] == (
        "unknown",
        "ALT: the site's upper limit of normal is not recorded",
        ["labs.alt.uln"],
    )


@pytest.mark.traces("criteria.EX24")
def test_an_implausible_value_without_its_uln_is_still_refused():
    data = copy.deepcopy(CASE_1)
    data["labs"]["alt"] = {"value": 30000, "unit": "U/L"}
    with pytest.raises(
        ProtocolDataError, match=r"labs\.alt\.value = 30000: Alanine aminotransferase"
    ):
        screen(parse_record(data, "synthetic"))


# -- lists and fields not recorded --------------------------------------------------------------


@pytest.mark.traces("criteria.EX09", "criteria.EX11")
def test_a_missing_medication_list_leaves_the_medicine_criteria_unknown():
    result = _screen(lambda d: d.pop("medications"))
    for criterion in ("EX09", "EX10", "EX11", "EX12", "EX13", "EX14", "EX15"):
        assert result[criterion] == (
            "unknown",
            "the medications list is not recorded",
            ["medications"],
        ), criterion


@pytest.mark.traces("criteria.EX08", "criteria.EX26")
def test_a_missing_event_list_leaves_the_event_criteria_unknown():
    result = _screen(lambda d: d.pop("events"))
    for criterion in ("EX08", "EX23", "EX26", "EX29"):
        assert result[criterion] == ("unknown", "the events list is not recorded", ["events"])


@pytest.mark.traces("criteria.EX09", "criteria.EX14")
def test_a_medicine_the_catalogue_does_not_know_is_for_the_investigator_in_open_classes():
    def change(data):
        data["medications"].append({"name": "zzzdrug", "last_dose": date(2025, 2, 20)})

    result = _screen(change)
    for criterion in ("EX09", "EX10", "EX11", "EX14"):
        status, reason, missing = result[criterion]
        assert status == "unknown", criterion
        assert reason.startswith("zzzdrug is not in the prohibited-medicines catalogue")
        assert missing == ["medications[2] (zzzdrug): investigator to confirm"]


@pytest.mark.traces("criteria.EX05", "criteria.EX17", "criteria.EX18", "criteria.EX19")
def test_infection_results_and_history_flags():
    missing_b = _screen(lambda d: d["infection_screening"].pop("hepatitis_b"))["EX17"]
    assert missing_b == (
        "unknown",
        "hepatitis B not recorded",
        ["infection_screening.hepatitis_b"],
    )
    chronic_c = _screen(lambda d: d["infection_screening"].update(hepatitis_c="chronic"))
    assert chronic_c["EX17"] == ("fail", "hepatitis C: chronic", [])
    latent = _screen(lambda d: d["infection_screening"].update(tuberculosis="latent"))
    assert latent["EX18"] == ("fail", "tuberculosis: latent", [])
    positive = _screen(lambda d: d["infection_screening"].update(hiv="positive"))
    assert positive["EX19"] == ("fail", "HIV: positive", [])
    assert _screen(lambda d: None)["EX17"] == (
        "pass",
        "hepatitis B: negative; hepatitis C: negative",
        [],
    )
    renal = _screen(lambda d: d["history"].pop("renal_crisis"))["EX05"]
    assert renal == ("unknown", "history.renal_crisis is not recorded", ["history.renal_crisis"])


@pytest.mark.traces("criteria.IN06", "criteria.EX27")
@pytest.mark.parametrize(
    ("removed", "missing"),
    [
        (("sex", "childbearing_potential"), ["pregnancy_test", "sex", "childbearing_potential"]),
        (("childbearing_potential",), ["pregnancy_test", "childbearing_potential"]),
    ],
)
def test_a_missing_test_names_what_would_settle_childbearing_potential(removed, missing):
    def change(data):
        data.pop("pregnancy_test")
        for key in removed:
            data.pop(key)

    result = _screen(change)
    assert result["IN06"] == ("unknown", "no pregnancy test recorded", missing)
    assert result["EX27"] == ("unknown", "pregnancy status unknown: no test", missing)


@pytest.mark.traces("criteria.IN06", "criteria.EX27")
def test_a_man_needs_no_test_and_no_childbearing_potential():
    def change(data):
        data["sex"] = "male"
        for key in ("childbearing_potential", "pregnancy_test", "breastfeeding"):
            data.pop(key)

    result = _screen(change)
    assert result["IN06"] == (
        "pass",
        "not a woman of childbearing potential: no test required",
        [],
    )
    assert result["EX27"] == ("pass", "not applicable to men", [])


# -- washout windows when a date is missing ------------------------------------------------------


@pytest.mark.traces("criteria.EX09")
def test_a_washout_decided_for_any_screening_date_says_so():
    # Methotrexate last 2025-01-20; 4 weeks before the 2025-03-17 randomization is 2025-02-17;
    # 2025-01-20 + 4 weeks = 2025-02-17 (within), so it clears from 2025-02-18.
    result = _screen(lambda d: d["dates"].pop("screening"))
    assert result["EX09"] == (
        "pass",
        "methotrexate (last dose 2025-01-20) is before the window of 4 weeks prior to "
        "randomization (from 2025-02-17): passes (EX09); cleared from 2025-02-18 (for any "
        "screening date)",
        [],
    )


@pytest.mark.traces("criteria.EX09")
def test_a_washout_that_depends_on_missing_dates_is_unknown_naming_them():
    # Methotrexate last 2025-02-20; randomization could be 2025-03-03 (window from 2025-02-03:
    # within) or any later day up to 2100 (from 2025-03-21, 2025-02-20 + 4 weeks + 1 day: clear).
    def change(data):
        data["medications"][0] = {"name": "methotrexate", "last_dose": date(2025, 2, 20)}
        del data["dates"]["screening"]
        del data["dates"]["planned_randomization"]

    status, reason, missing = _screen(change)["EX09"]
    assert status == "unknown"
    assert missing == ["dates.screening", "dates.planned_randomization"]
    assert reason.startswith(
        "depends on the screening date and planned randomization date, not recorded; at some "
        "dates the record allows: "
        "methotrexate (last dose 2025-02-20) is within the window of 4 weeks prior to "
        "randomization (2025-02-03 to randomization 2025-03-03): excluded (EX09); a "
        "randomization on or after 2025-03-21 clears it"
    )


@pytest.mark.traces("criteria.EX08", "criteria.EX09")
def test_a_planned_surgery_does_not_bound_the_randomization_date():
    # A surgery planned for 2025-06-01 is after randomization by nature: it must not push the
    # earliest randomization to June (which would clear methotrexate's window for certain).
    def change(data):
        data["medications"][0] = {"name": "methotrexate", "last_dose": date(2025, 2, 20)}
        del data["dates"]["planned_randomization"]
        data["events"].append({"kind": "planned_major_surgery", "date": date(2025, 6, 1)})

    status, _, missing = _screen(change)["EX09"]
    assert (status, missing) == ("unknown", ["dates.planned_randomization"])


# -- the reports a coordinator prints -------------------------------------------------------------


def _report() -> ScreeningResult:
    """A hand-made result (not computed): the reports are checked against hand-written text."""
    return ScreeningResult(
        participant="SYN-99",
        verdict="not_eligible",
        criteria=[
            CriterionResult("IN01", "pass", "age 40 years", "Aged 18-70.", "computed", None),
            CriterionResult("EX16", "fail", "attests it applies", "x", "attested", None),
            CriterionResult(
                "EX22", "unknown", "IgG | not\nrecorded", "x", "computed", None, ["labs.igg"]
            ),
        ],
        missing=["labs.igg", "a | b"],
    )


@pytest.mark.traces("criteria.EX16", "criteria.EX22")
def test_the_text_report_is_laid_out_for_the_screening_file():
    record = parse_record(copy.deepcopy(CASE_1), "synthetic")
    assert format_text(_report(), record) == "\n".join(
        [
            "NCT06375005 screening: participant SYN-99",
            "Verdict: NOT ELIGIBLE: at least one criterion fails",
            "Screening 2025-03-03, planned randomization 2025-03-17",
            "",
            "IN01  pass     age 40 years",
            "EX16  FAIL     attests it applies [attested]",
            "EX22  UNKNOWN  IgG | not\nrecorded",
            "",
            "Missing (to complete before a verdict):",
            "  - labs › IgG",
            "  - a | b",
            "",
            "Failed: EX16",
        ]
    )
    undated = copy.deepcopy(CASE_1)
    del undated["dates"]["screening"], undated["dates"]["planned_randomization"]
    lines = format_text(_report(), parse_record(undated, "synthetic")).splitlines()
    assert lines[2] == "Screening -, planned randomization -"
    assert format_text(_report()).splitlines()[2] == ""  # no record: no dates line


def test_a_report_without_failures_or_missing_items_has_no_such_sections():
    result = _report()
    result.criteria = result.criteria[:1]
    result.missing = []
    result.verdict = "eligible"
    assert format_text(result) == "\n".join(
        [
            "NCT06375005 screening: participant SYN-99",
            # the count is the study's criteria, here the one left (37 in the record)
            "Verdict: ELIGIBLE: its one criterion passes",
            "",
            "IN01  pass     age 40 years",
        ]
    )
    assert "Missing" not in format_markdown(result)


@pytest.mark.traces("criteria.EX16", "criteria.EX22")
def test_the_markdown_report_escapes_pipes_and_line_breaks():
    assert format_markdown(_report()) == "\n".join(
        [
            "**Participant SYN-99: NOT ELIGIBLE: at least one criterion fails**",
            "",
            "| ID | Status | Reason | Kind |",
            "|---|---|---|---|",
            "| IN01 | pass | age 40 years | computed |",
            "| EX16 | fail | attests it applies | attested |",
            "| EX22 | unknown | IgG \\| not recorded | computed |",
            "",
            "Missing:",
            "",
            "- labs › IgG",
            "- a \\| b",
        ]
    )


def test_a_record_file_is_screened_and_its_problems_name_the_file(tmp_path):
    path = tmp_path / "record.yaml"
    data = copy.deepcopy(CASE_1)
    data["labs"]["hemoglobin"] = {"value": 121, "unit": "g/mL"}
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ProtocolDataError) as raised:
        screen_file(path)
    assert raised.value.source == str(path)
    good = tmp_path / "good.yaml"
    good.write_text(yaml.safe_dump(CASE_1, allow_unicode=True), encoding="utf-8")
    assert screen_file(good).verdict == "eligible"


# -- the inclusion criteria's reasons when something is missing or on an edge ------------------


def _set(path: str, value):
    """A change to case 1: set (or, with value None, delete) the field at a dotted path."""

    def change(data):
        node = data
        *parents, last = path.split(".")
        for key in parents:
            node = node[key]
        if value is None:
            del node[last]
        else:
            node[last] = value

    return change


def _both(*changes):
    def change(data):
        for each in changes:
            each(data)

    return change


@pytest.mark.traces("criteria.IN07")
@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            lambda d: None,
            (
                "pass",
                "the investigator attests on 2025-03-03 that it applies; consent signed on "
                "2025-03-03",
                [],
            ),
        ),
        (_set("dates.consent", None), ("unknown", "no consent date", ["dates.consent"])),
        (
            _set("attestations.IN07", None),
            (
                "unknown",
                "the investigator's attestation is not recorded",
                ["attestations.IN07"],
            ),
        ),
    ],
)
def test_consent_needs_the_attestation_and_a_date(change, expected):
    assert _screen(change)["IN07"] == expected


@pytest.mark.traces("criteria.IN06")
@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (
            _set("pregnancy_test.sample", "urine"),
            (
                "unknown",
                "a urine test is recorded; a serum test is required",
                ["pregnancy_test"],
            ),
        ),
        (
            _set("pregnancy_test.date", date(2025, 3, 1)),
            (
                "unknown",
                "the serum test of 2025-03-01 is not dated at the screening visit",
                ["pregnancy_test.date"],
            ),
        ),
        (
            _set("dates.screening", None),
            (
                "unknown",
                "the serum test of 2025-03-03 is negative; whether it is dated at the screening "
                "visit needs the screening date",
                ["dates.screening"],
            ),
        ),
        (
            _set("pregnancy_test.result", "positive"),
            ("fail", "pregnancy test positive (serum, 2025-03-03)", []),
        ),
        (
            _both(_set("childbearing_potential", False), _set("pregnancy_test", None)),
            ("pass", "not a woman of childbearing potential: no test required", []),
        ),
    ],
)
def test_the_pregnancy_test_must_be_serum_negative_and_on_the_screening_day(change, expected):
    assert _screen(change)["IN06"] == expected


ACR = "ssc.acr_eular"


@pytest.mark.traces("criteria.IN02")
@pytest.mark.parametrize(
    ("change", "expected"),
    [
        # 9 (proximal) + 4 (sclerodactyly, the higher finger item) + 2 + 3 + 3 = 21
        (
            lambda d: None,
            (
                "pass",
                "ACR/EULAR 2013 total 21 >= 9 (Skin thickening of the fingers of both hands "
                "extending proximal to the MCP joints 9, Skin thickening of the fingers 4, "
                "Abnormal nailfold capillaries 2, Raynaud's phenomenon 3, SSc-related "
                "autoantibodies 3)",
                [],
            ),
        ),
        (
            _set(f"{ACR}.better_explained_by_other_disorder", True),
            ("fail", "the ACR/EULAR 2013 criteria are not applicable to this patient", []),
        ),
        (
            _set(f"{ACR}.better_explained_by_other_disorder", None),
            (
                "unknown",
                "ACR/EULAR 2013 total 21 >= 9, but whether the criteria apply (skin thickening "
                "sparing the fingers, a better explanation) is not recorded",
                [f"{ACR}.better_explained_by_other_disorder"],
            ),
        ),
        (
            _both(
                *(
                    _set(f"{ACR}.{item}", False)
                    for item in (
                        "skin_thickening_proximal_to_mcp",
                        "puffy_fingers",
                        "sclerodactyly",
                        "abnormal_nailfold_capillaries",
                        "raynaud",
                        "anti_topoisomerase_i",
                    )
                )
            ),
            ("fail", "ACR/EULAR 2013 total 0 < 9 (no item met)", []),
        ),
        # nailfold 2 + Raynaud 3 + antibodies 3 = 8; telangiectasia (2) unrecorded: 8 to 10
        (
            _both(
                *(
                    _set(f"{ACR}.{item}", False)
                    for item in (
                        "skin_thickening_proximal_to_mcp",
                        "puffy_fingers",
                        "sclerodactyly",
                    )
                ),
                _set(f"{ACR}.telangiectasia", None),
            ),
            (
                "unknown",
                "ACR/EULAR 2013 total 8 to 10: the unrecorded items decide",
                [f"{ACR}.telangiectasia"],
            ),
        ),
    ],
)
def test_the_acr_eular_reason_shows_the_total_and_what_decides(change, expected):
    assert _screen(change)["IN02"] == expected


AREAS = "ssc.mrss.areas"


@pytest.mark.traces("criteria.IN03", "criteria.IN05", "criteria.EX01")
def test_mrss_and_leroy_with_areas_not_recorded():
    # Case 1 without face, hands and forearms: 21 - 1 - 2×2 - 2×2 = 12 from the graded areas.
    missing_areas = _screen(
        _both(
            *(
                _set(f"{AREAS}.{area}", None)
                for area in ("right_hand", "left_hand", "right_forearm", "left_forearm", "face")
            )
        )
    )
    assert missing_areas["IN05"] == ("pass", "mRSS at least 12 (the graded areas) >= 10", [])
    assert missing_areas["IN03"] == (
        "pass",
        "LeRoy subset: diffuse, whatever the areas not graded would show",
        [],
    )

    # Every area 0 but the right foot, not recorded: at most 3 (that area at grade 3) < 10.
    def all_zero_but_one(data):
        areas = data["ssc"]["mrss"]["areas"]
        areas.update({area: 0 for area in areas})
        del areas["right_foot"]

    one_left = _screen(all_zero_but_one)
    assert one_left["IN05"] == ("fail", "mRSS at most 3 (every ungraded area at 3) < 10", [])

    # a recorded total with an area ungraded: the total decides, and the reason says it is the
    # recorded total (it once read "at least 3 (the graded areas)" for a total of 3)
    def total_with_one_left(data):
        all_zero_but_one(data)
        data["ssc"]["mrss"]["total"] = 3

    recorded = _screen(total_with_one_left)
    assert recorded["IN05"] == (
        "fail",
        "mRSS 3 (recorded total; not every area graded) < 10",
        [],
    )
    # the fingers thickened among the classification items (sclerodactyly, thickening
    # proximal to the MCPs) are the distal involvement already: the foot cannot change the
    # subset, and only the back, not recorded, decides it (diffuse with it, limited without);
    # the foot was asked, and once given the back was asked next (helper 123)
    assert one_left["EX01"] == (
        "unknown",
        "LeRoy subset unknown: no proximal mRSS area is involved; whether the back is involved "
        "is not recorded",
        ["ssc.back_skin_thickening"],
    )

    # Only the face (1) and right fingers (2) involved: 3 < 10; no proximal area, back unknown.
    def distal_only(data):
        areas = data["ssc"]["mrss"]["areas"]
        areas.update({a: 0 for a in areas if a not in ("face", "right_fingers")})

    distal = _screen(distal_only)
    assert distal["IN05"] == ("fail", "mRSS 3 (sum of the areas) < 10", [])
    assert distal["IN03"] == (
        "unknown",
        "LeRoy subset unknown: no proximal mRSS area is involved; whether the back is involved "
        "is not recorded",
        ["ssc.back_skin_thickening"],
    )


FIRST = "ssc.first_non_raynaud_manifestation"


@pytest.mark.traces("criteria.IN04", "criteria.EX02")
def test_disease_duration_when_dates_are_missing():
    assert _screen(_set(FIRST, None))["IN04"] == (
        "unknown",
        "disease duration depends on the first non-Raynaud manifestation's date, not recorded",
        [FIRST],
    )
    both = _screen(_both(_set(FIRST, None), _set("dates.screening", None)))
    assert both["EX02"][2] == [FIRST, "dates.screening"]
    assert both["EX02"][1] == (
        "disease duration depends on the first non-Raynaud manifestation's date and the "
        "screening date, not recorded"
    )
    # the first manifestation recorded, the screening date not, and the duration open: only
    # the screening date is named
    near = _screen(_both(_set(FIRST, date(2023, 9, 10)), _set("dates.screening", None)))
    assert near["IN04"] == (
        "unknown",
        "disease duration depends on the screening date, not recorded",
        ["dates.screening"],
    )
    # First manifestation 2023-09-10, screening 2025-03-03 to 2025-03-17: 17 months 21 days to
    # 18 months 7 days, so IN04 (at most 18 months) depends on the date and EX02 (more than 3
    # years) passes whatever it is.
    near = _screen(_both(_set(FIRST, date(2023, 9, 10)), _set("dates.screening", None)))
    assert near["IN04"][0::2] == ("unknown", ["dates.screening"])
    assert near["EX02"] == (
        "pass",
        "disease duration at most 18 months 7 days whatever the dates; limit 36 months; not all "
        "dates recorded",
        [],
    )
    # First 2021-01-10, screening on or after 2025-03-03: at least 4 years 1 month 21 days.
    long_ago = _screen(_both(_set(FIRST, date(2021, 1, 10)), _set("dates.screening", None)))
    assert long_ago["IN04"] == (
        "fail",
        "disease duration at least 49 months 21 days whatever the dates; limit 18 months; not "
        "all dates recorded",
        [],
    )
    assert _screen(lambda d: None)["IN04"] == (
        "pass",
        "disease duration 9 months 11 days at screening (from 2024-05-20); limit 18 months (PI10)",
        [],
    )


# -- every criterion's own words, one field of case 1 changed at a time ---------------------------
# Dates counted by hand: 5 years before the 2025-03-03 screening is 2020-03-03 (within, PI20);
# with the screening date missing it lies between 2025-03-03 and 2025-03-17, so the window
# starts between 2020-03-03 and 2020-03-17.

S = _set
B = _both

ONE_CHANGE = [
    pytest.param(
        "EX27",
        S("sex", None),
        (
            "pass",
            "not breastfeeding; pregnancy test negative on 2025-03-03; willing to use adequate "
            "contraception",
            [],
        ),
        id="EX27 sex None",
    ),
    pytest.param(
        "EX27",
        B(S("sex", None), S("breastfeeding", None)),
        ("unknown", "sex and breastfeeding are not recorded", ["sex", "breastfeeding"]),
        id="EX27 sex+bf None",
    ),
    pytest.param(
        "EX27", S("breastfeeding", True), ("fail", "breastfeeding", []), id="EX27 bf true"
    ),
    pytest.param(
        "EX27",
        S("breastfeeding", None),
        ("unknown", "breastfeeding is not recorded", ["breastfeeding"]),
        id="EX27 bf None",
    ),
    pytest.param(
        "EX27",
        S("contraception_agreed", False),
        ("fail", "not willing to use adequate contraception", []),
        id="EX27 contra false",
    ),
    pytest.param(
        "EX27",
        S("contraception_agreed", None),
        ("unknown", "contraception_agreed is not recorded", ["contraception_agreed"]),
        id="EX27 contra None",
    ),
    pytest.param(
        "EX27",
        B(S("childbearing_potential", False), S("contraception_agreed", None)),
        ("pass", "not breastfeeding; not of childbearing potential", []),
        id="EX27 cbp false",
    ),
    pytest.param(
        "EX27",
        B(S("childbearing_potential", None), S("contraception_agreed", False)),
        (
            "unknown",
            "not willing to use contraception; whether she is of childbearing potential is not "
            "recorded",
            ["childbearing_potential"],
        ),
        id="EX27 cbp None contra false",
    ),
    pytest.param(
        "EX27",
        S("pregnancy_test.result", "positive"),
        ("fail", "pregnant (pregnancy test positive, 2025-03-03)", []),
        id="EX27 positive",
    ),
    pytest.param(
        "EX27",
        B(
            S("sex", "male"),
            S("childbearing_potential", None),
            S("pregnancy_test", None),
            S("breastfeeding", None),
        ),
        ("pass", "not applicable to men", []),
        id="EX27 male",
    ),
    pytest.param("EX25", lambda d: None, ("pass", "no malignancy recorded", []), id="EX25 none"),
    pytest.param(
        "EX25",
        S("history.malignancies", None),
        ("unknown", "the malignancy history is not recorded", ["history.malignancies"]),
        id="EX25 hist None",
    ),
    pytest.param(
        "EX25",
        S(
            "history.malignancies",
            [{"type": "basal cell carcinoma", "date": date(2024, 1, 1), "excepted_type": True}],
        ),
        ("pass", "basal cell carcinoma: an excepted local skin or cervical cancer", []),
        id="EX25 excepted",
    ),
    pytest.param(
        "EX25",
        S("history.malignancies", [{"type": "breast cancer", "excepted_type": False}]),
        ("unknown", "breast cancer: no date", ["history.malignancies[0].date"]),
        id="EX25 no date",
    ),
    pytest.param(
        "EX25",
        S(
            "history.malignancies",
            [{"type": "breast cancer", "date": date(2019, 1, 1), "excepted_type": False}],
        ),
        ("pass", "breast cancer on 2019-01-01, before 2020-03-03", []),
        id="EX25 old",
    ),
    pytest.param(
        "EX25",
        S(
            "history.malignancies",
            [{"type": "breast cancer", "date": date(2020, 3, 3), "excepted_type": False}],
        ),
        (
            "fail",
            "breast cancer on 2020-03-03, within 5 years before screening (from 2020-03-03) "
            "(exactly on its first day, which is within, PI20): excluded (EX25)",
            [],
        ),
        id="EX25 boundary",
    ),
    pytest.param(
        "EX25",
        S(
            "history.malignancies",
            [{"type": "breast cancer", "date": date(2020, 3, 2), "excepted_type": False}],
        ),
        ("pass", "breast cancer on 2020-03-02, before 2020-03-03", []),
        id="EX25 day before boundary",
    ),
    pytest.param(
        "EX25",
        S(
            "history.malignancies",
            [{"type": "breast cancer", "date": date(2022, 3, 3), "excepted_type": False}],
        ),
        (
            "fail",
            "breast cancer on 2022-03-03, within 5 years before screening (from 2020-03-03): "
            "excluded (EX25)",
            [],
        ),
        id="EX25 recent",
    ),
    pytest.param(
        "EX25",
        B(
            S("dates.screening", None),
            S(
                "history.malignancies",
                [{"type": "breast cancer", "date": date(2020, 3, 10), "excepted_type": False}],
            ),
        ),
        (
            "unknown",
            "breast cancer on 2020-03-10: within 5 years of screening or not, depending on the "
            "screening date",
            ["dates.screening"],
        ),
        id="EX25 screening missing depends",
    ),
    pytest.param(
        "EX25",
        B(
            S("dates.screening", None),
            S(
                "history.malignancies",
                [{"type": "breast cancer", "date": date(2022, 3, 10), "excepted_type": False}],
            ),
        ),
        (
            "fail",
            "breast cancer on 2022-03-10, within 5 years before screening (from 2020-03-17 "
            "whatever the screening date): excluded (EX25)",
            [],
        ),
        id="EX25 screening missing within",
    ),
    pytest.param(
        "EX07",
        S("pulmonary.fvc_percent_predicted", None),
        ("unknown", "FVC not recorded", ["pulmonary.fvc_percent_predicted"]),
        id="EX07 fvc None",
    ),
    pytest.param(
        "EX07",
        S("pulmonary.oxygen_therapy", True),
        ("fail", "requires oxygen therapy", []),
        id="EX07 oxygen true",
    ),
    pytest.param(
        "EX07",
        S("pulmonary.oxygen_therapy", None),
        ("unknown", "pulmonary.oxygen_therapy is not recorded", ["pulmonary.oxygen_therapy"]),
        id="EX07 oxygen None",
    ),
    pytest.param(
        "EX07",
        S("pulmonary.fvc_percent_predicted", 45),
        ("fail", "FVC 45 % < 50 % predicted: excluded (EX07)", []),
        id="EX07 fvc 45",
    ),
    # the category not recorded: the classification item settles it where it can (no PAH:
    # none; a PAH: low, intermediate or high, which EX06 tells apart)
    pytest.param(
        "EX06",
        _both(S("pah_risk", None), S("ssc.acr_eular.pah", None)),
        ("unknown", "the PAH risk category is not recorded", ["pah_risk"]),
        id="EX06 None",
    ),
    pytest.param(
        "EX06",
        _both(S("pah_risk", None), S("ssc.acr_eular.pah", True)),
        ("unknown", "the PAH risk category is not recorded", ["pah_risk"]),
        id="EX06 None with a PAH",
    ),
    pytest.param(
        "EX06",
        _both(S("pah_risk", None), S("ssc.acr_eular.pah", False)),
        (
            "pass",
            "PAH risk category not recorded; the ACR/EULAR item records no PAH, so it is none",
            [],
        ),
        id="EX06 None without a PAH",
    ),
    # a risk category is a PAH's: the classification item says so too (else a contradiction)
    pytest.param(
        "EX06",
        _both(S("pah_risk", "high"), S("ssc.acr_eular.pah", True)),
        ("fail", "PAH risk: high", []),
        id="EX06 high",
    ),
    pytest.param(
        "EX06",
        _both(S("pah_risk", "low"), S("ssc.acr_eular.pah", True)),
        ("pass", "PAH risk: low", []),
        id="EX06 low",
    ),
    # the record's category "none" is said as what it means to a reader
    pytest.param(
        "EX06",
        _both(S("pah_risk", "none"), S("ssc.acr_eular.pah", False)),
        ("pass", "PAH risk: none (no pulmonary arterial hypertension)", []),
        id="EX06 none",
    ),
    pytest.param(
        "EX24",
        S("labs.creatinine", None),
        ("unknown", "eGFR: no eGFR or creatinine recorded", ["labs.egfr"]),
        id="EX24 no egfr no creat",
    ),
    pytest.param(
        "EX24",
        B(S("labs.creatinine", None), S("labs.egfr", {"value": 35, "unit": "mL/min/1.73 m²"})),
        ("fail", "eGFR 35 mL/min/1.73 m² < 40 mL/min/1.73 m²: excluded (EX24)", []),
        id="EX24 egfr reported",
    ),
    pytest.param(
        "EX16",
        S("attestations.EX16.applies", True),
        ("fail", "the investigator attests on 2025-03-03 that it applies", []),
        id="EX16 applies",
    ),
    pytest.param(
        "IN07",
        S("attestations.IN07.applies", False),
        ("fail", "the investigator attests on 2025-03-03 that it does not apply", []),
        id="IN07 not applies",
    ),
    pytest.param(
        "EX20",
        S("infection_screening.active_infection", True),
        ("fail", "a known active infection", []),
        id="EX20 active",
    ),
    pytest.param(
        "EX03",
        S("history.other_rheumatic_autoimmune_disease", True),
        ("fail", "another rheumatic autoimmune disease is recorded", []),
        id="EX03 yes",
    ),
    pytest.param(
        "EX04",
        S("history.environmental_ssc_like_illness", True),
        ("fail", "an environmental SSc-like illness is recorded", []),
        id="EX04 yes",
    ),
    pytest.param(
        "EX04",
        S("history.environmental_ssc_like_illness", None),
        (
            "unknown",
            "history.environmental_ssc_like_illness is not recorded",
            ["history.environmental_ssc_like_illness"],
        ),
        id="EX04 None",
    ),
    pytest.param(
        "EX05",
        S("history.renal_crisis", True),
        ("fail", "a prior renal crisis is recorded", []),
        id="EX05 yes",
    ),
    pytest.param(
        "EX21",
        S("history.immunodeficiency", True),
        ("fail", "an immunodeficiency is recorded", []),
        id="EX21 yes",
    ),
    pytest.param(
        "EX28",
        S("history.antibody_allergy", True),
        ("fail", "an allergic reaction to monoclonal antibodies is recorded", []),
        id="EX28 yes",
    ),
]


@pytest.mark.traces(
    "criteria.EX03",
    "criteria.EX04",
    "criteria.EX05",
    "criteria.EX06",
    "criteria.EX07",
    "criteria.EX16",
    "criteria.EX20",
    "criteria.EX21",
    "criteria.EX24",
    "criteria.EX25",
    "criteria.EX27",
    "criteria.EX28",
    "criteria.IN07",
)
@pytest.mark.parametrize(("criterion", "change", "expected"), ONE_CHANGE)
def test_each_criterion_states_its_status_reason_and_missing_fields(criterion, change, expected):
    assert _screen(change)[criterion] == expected


# -- boundaries of the ranges a missing date leaves ----------------------------------------------


@pytest.mark.traces("criteria.IN01")
@pytest.mark.parametrize(
    ("birth", "youngest", "oldest"),
    [
        # born 2006-03-10: 18 on 2025-03-03, 19 from 2025-03-10
        (date(2006, 3, 10), 18, 19),
        # born 1955-03-10: 69 on 2025-03-03, 70 from 2025-03-10
        (date(1955, 3, 10), 69, 70),
    ],
)
def test_an_age_range_touching_a_bound_from_inside_passes(birth, youngest, oldest):
    assert _screen(_without_screening_date(birth))["IN01"] == (
        "pass",
        f"age {youngest} to {oldest} years at screening (not all dates recorded): within 18-70 "
        "whatever the dates (PI09)",
        [],
    )


@pytest.mark.traces("criteria.IN05")
def test_an_incomplete_mrss_that_could_reach_exactly_10_is_unknown():
    # Graded: face 3 + anterior chest 3 + abdomen 1 = 7; right foot not graded (0 to 3): 7 to 10.
    def change(data):
        areas = data["ssc"]["mrss"]["areas"]
        areas.update({area: 0 for area in areas})
        areas.update(face=3, anterior_chest=3, abdomen=1)
        del areas["right_foot"]

    assert _screen(change)["IN05"] == (
        "unknown",
        "the mRSS is incomplete (7 to 10)",
        ["ssc.mrss.areas.right_foot"],
    )


@pytest.mark.traces("criteria.EX24")
def test_every_failing_part_of_a_criterion_is_given_in_order():
    def change(data):
        data["labs"]["hemoglobin"] = {"value": 75, "unit": "g/L"}
        data["labs"]["wbc"] = {"value": 2, "unit": "10^9/L"}
        data["labs"]["neutrophils"] = {"value": 1.6, "unit": "10^9/L"}  # a part of the 2

    assert _screen(change)["EX24"] == (
        "fail",
        "Hemoglobin 75 g/L = 7.5 g/dL < 8.0 g/dL: excluded (EX24); "
        "WBC 2 10^9/L < 3 ×10⁹/L: excluded (EX24)",
        [],
    )


@pytest.mark.traces("criteria.IN04", "criteria.EX02")
def test_disease_duration_ranges_that_end_exactly_on_a_limit():
    # First manifestation 2023-09-17: 18 months later is 2025-03-17, the latest screening date
    # (screening not recorded, 2025-03-03 to 2025-03-17), so at most 18 months whatever the date.
    within = _screen(_both(_set(FIRST, date(2023, 9, 17)), _set("dates.screening", None)))
    assert within["IN04"][0] == "pass"
    assert within["IN04"][1].startswith("disease duration at most 18 months whatever the dates")
    # First 2022-03-03: 3 years later is 2025-03-03, the earliest screening: exactly 3 years
    # passes, a later screening fails, so EX02 depends on the date.
    edge = _screen(_both(_set(FIRST, date(2022, 3, 3)), _set("dates.screening", None)))
    assert edge["EX02"][0::2] == ("unknown", ["dates.screening"])


def test_a_status_other_than_pass_fail_or_unknown_cannot_be_made():
    from protocol.screening import CheckResult

    with pytest.raises(ValueError, match="a criterion's status is one of"):
        CheckResult("PASS", "x")  # type: ignore[arg-type]


@pytest.mark.traces("criteria.EX10")
def test_unknown_at_every_possible_date_still_lists_the_date_with_what_to_confirm():
    # An uncatalogued medicine is unknown on any screening date; once the investigator confirms
    # it, the other entries may still depend on the date, so both are listed as missing.
    def change(data):
        data["medications"].append({"name": "zzzdrug", "last_dose": date(2025, 2, 20)})
        del data["dates"]["screening"]

    status, reason, missing = _screen(change)["EX10"]
    assert status == "unknown"
    assert missing == ["dates.screening", "medications[2] (zzzdrug): investigator to confirm"]
    assert reason.startswith(
        "depends on the screening date, not recorded; at some dates the record allows: zzzdrug "
        "is not in "
        "the prohibited-medicines catalogue"
    )


# Case 1 with the areas above the elbows and knees (and the face and trunk) at 0 and the back
# not involved: distal involvement only, the limited subset (IN03 fails, EX01 fails).
def _limited(data):
    areas = data["ssc"]["mrss"]["areas"]
    for area in (
        "face",
        "anterior_chest",
        "abdomen",
        "right_upper_arm",
        "left_upper_arm",
        "right_thigh",
        "left_thigh",
    ):
        areas[area] = 0
    data["ssc"]["back_skin_thickening"] = False


MORE_CHANGES = [
    pytest.param(
        "IN02",
        B(
            S(f"{ACR}.skin_thickening_proximal_to_mcp", False),
            S(f"{ACR}.puffy_fingers", False),
            S(f"{ACR}.sclerodactyly", False),
            S(f"{ACR}.telangiectasia", True),
            S(f"{ACR}.fingertip_pitting_scars", None),
        ),
        (
            "pass",
            "ACR/EULAR 2013 total at least 10 >= 9 (Telangiectasia 2, Abnormal nailfold "
            "capillaries 2, Raynaud's phenomenon 3, SSc-related autoantibodies 3)",
            [],
        ),
        id="IN02 at least 10 with an item unrecorded",
    ),
    pytest.param(
        "IN02",
        B(
            S(f"{ACR}.skin_thickening_proximal_to_mcp", False),
            S(f"{ACR}.puffy_fingers", False),
            S(f"{ACR}.sclerodactyly", False),
            S(f"{ACR}.telangiectasia", None),
            S(f"{ACR}.better_explained_by_other_disorder", None),
        ),
        (
            "unknown",
            "ACR/EULAR 2013 total 8 to 10: the unrecorded items decide",
            ["ssc.acr_eular.telangiectasia", "ssc.acr_eular.better_explained_by_other_disorder"],
        ),
        id="IN02 low and flags missing",
    ),
    pytest.param(
        "IN02",
        S(f"{ACR}.telangiectasia", None),
        (
            "pass",
            "ACR/EULAR 2013 total at least 21 >= 9 (Skin thickening of the fingers of both "
            "hands extending proximal to the MCP joints 9, Skin thickening of the fingers 4, "
            "Abnormal nailfold capillaries 2, Raynaud's phenomenon 3, SSc-related "
            "autoantibodies 3)",
            [],
        ),
        id="IN02 high whatever",
    ),
    pytest.param(
        "EX03",
        S("history.other_rheumatic_autoimmune_disease", None),
        (
            "unknown",
            "history.other_rheumatic_autoimmune_disease is not recorded",
            ["history.other_rheumatic_autoimmune_disease"],
        ),
        id="EX03 None",
    ),
    pytest.param(
        "EX21",
        S("history.immunodeficiency", None),
        ("unknown", "history.immunodeficiency is not recorded", ["history.immunodeficiency"]),
        id="EX21 None",
    ),
    pytest.param(
        "EX28",
        S("history.antibody_allergy", None),
        ("unknown", "history.antibody_allergy is not recorded", ["history.antibody_allergy"]),
        id="EX28 None",
    ),
    pytest.param(
        "EX20",
        S("infection_screening.active_infection", None),
        (
            "unknown",
            "infection_screening.active_infection is not recorded",
            ["infection_screening.active_infection"],
        ),
        id="EX20 None",
    ),
    pytest.param(
        "EX05",
        S("history.renal_crisis", None),
        ("unknown", "history.renal_crisis is not recorded", ["history.renal_crisis"]),
        id="EX05 None",
    ),
    pytest.param(
        "EX01",
        _limited,
        (
            "fail",
            "LeRoy subset: limited (distal involvement only (right fingers, left fingers, "
            "right hand, left hand, right forearm, left forearm, right lower leg, "
            "left lower leg))",
            [],
        ),
        id="EX01 limited",
    ),
    pytest.param(
        "IN03",
        _limited,
        (
            "fail",
            "LeRoy subset: limited (distal involvement only (right fingers, left fingers, "
            "right hand, left hand, right forearm, left forearm, right lower leg, "
            "left lower leg))",
            [],
        ),
        id="IN03 limited",
    ),
    pytest.param(
        "EX09",
        B(S("dates.screening", None), S("dates.planned_randomization", None)),
        (
            "pass",
            "methotrexate (last dose 2025-01-20) is before the window of 4 weeks prior to "
            "randomization (from 2025-02-03): passes (EX09); cleared from 2025-02-18 (for any "
            "screening and planned randomization date the visit schedule allows)",
            [],
        ),
        id="EX09 both dates missing decided",
    ),
    pytest.param(
        "EX22",
        S("labs.igg", None),
        ("unknown", "IgG: no value recorded: unknown (EX22)", ["labs.igg"]),
        id="EX22 igg missing",
    ),
]


@pytest.mark.traces(
    "criteria.IN02",
    "criteria.IN03",
    "criteria.EX01",
    "criteria.EX03",
    "criteria.EX05",
    "criteria.EX09",
    "criteria.EX20",
    "criteria.EX21",
    "criteria.EX22",
    "criteria.EX28",
)
@pytest.mark.parametrize(("criterion", "change", "expected"), MORE_CHANGES)
def test_more_criteria_state_their_status_reason_and_missing_fields(criterion, change, expected):
    assert _screen(change)[criterion] == expected


# -- case 1's own reasons and anchors, and the report's lists -------------------------------------


@pytest.mark.traces(
    "criteria.IN05",
    "criteria.EX03",
    "criteria.EX05",
    "criteria.EX07",
    "criteria.EX20",
    "criteria.EX21",
    "criteria.EX22",
    "criteria.EX26",
    "criteria.EX28",
)
def test_case_1_passes_each_criterion_for_the_reason_its_record_gives():
    result = screen(parse_record(copy.deepcopy(CASE_1), "synthetic"))
    reasons = {c.id: (c.status, c.reason) for c in result.criteria}
    assert reasons["IN05"] == ("pass", "mRSS 21 (sum of the areas) >= 10")
    assert reasons["EX03"] == reasons["EX04"] == reasons["EX28"] == ("pass", "none recorded")
    assert reasons["EX05"] == ("pass", "no prior renal crisis")
    assert reasons["EX21"] == ("pass", "no immunodeficiency")
    assert reasons["EX20"] == (
        "pass",
        "no known active infection; nothing EX20 excludes is recorded in events",
    )
    assert reasons["EX07"] == (
        "pass",
        "FVC 78 %, not < 50 % predicted: passes (EX07); DLCO (hemoglobin-corrected) 61 %, not "
        "< 40 % predicted: passes (EX07); no oxygen therapy",
    )
    # 2.1 g/L = 210 mg/dL; 12.5 g/L = 1250 mg/dL (1 g/L = 100 mg/dL)
    assert reasons["EX22"] == (
        "pass",
        "IgA 2.1 g/L = 210 mg/dL, not < 10 mg/dL: passes (EX22); IgG 12.5 g/L = 1250 mg/dL, not "
        "< 400 mg/dL: passes (EX22)",
    )
    # the vaccine of 2024-10-02 clears 4 weeks later, from 2024-10-31
    assert reasons["EX26"][1].endswith("passes (EX26/EX29); cleared from 2024-10-31")


def test_each_criterion_names_the_date_it_is_anchored_to():
    anchors = {c.id: c.anchor for c in screen(parse_record(copy.deepcopy(CASE_1), "x")).criteria}
    assert anchors["IN01"] == "screening 2025-03-03"
    assert anchors["EX09"] == "planned randomization 2025-03-17"
    assert anchors["EX03"] is None
    undated = copy.deepcopy(CASE_1)
    del undated["dates"]["screening"], undated["dates"]["planned_randomization"]
    anchors = {c.id: c.anchor for c in screen(parse_record(undated, "x")).criteria}
    assert anchors["IN01"] == "screening (not recorded)"
    assert anchors["EX09"] == "planned randomization (not recorded)"


def test_the_missing_list_names_each_item_once_with_the_criteria_that_need_it():
    result = screen(parse_record(copy.deepcopy({**CASE_1, "medications": None}), "x"))
    assert result.missing == ["medications (EX09, EX10, EX11, EX12, EX13, EX14, EX15)"]


def test_a_record_refused_without_a_source_is_called_the_participant_record():
    data = copy.deepcopy(CASE_1)
    data["labs"]["hemoglobin"] = {"value": 121, "unit": "g/mL"}
    with pytest.raises(ProtocolDataError, match=r"^participant record: 1 problem"):
        screen(parse_record(data, "x"))


def test_the_text_report_lists_every_failed_criterion():
    result = _report()
    result.criteria[0].status = "fail"
    assert format_text(result).splitlines()[-1] == "Failed: IN01, EX16"


@pytest.mark.traces("criteria.IN02", "criteria.IN06", "criteria.EX10")
@pytest.mark.parametrize(
    ("criterion", "change", "expected"),
    [
        # sclerodactyly 4 + nailfold 2 + Raynaud 3 = 9 with telangiectasia unrecorded: 9 to 11
        (
            "IN02",
            _both(
                _set(f"{ACR}.skin_thickening_proximal_to_mcp", False),
                _set(f"{ACR}.puffy_fingers", False),
                _set(f"{ACR}.anti_topoisomerase_i", False),
                _set(f"{ACR}.telangiectasia", None),
            ),
            (
                "pass",
                "ACR/EULAR 2013 total at least 9 >= 9 (Skin thickening of the fingers 4, "
                "Abnormal nailfold capillaries 2, Raynaud's phenomenon 3)",
                [],
            ),
        ),
        (
            "IN06",
            _both(_set("childbearing_potential", None), _set("pregnancy_test.sample", "urine")),
            (
                "unknown",
                "a urine test is recorded; a serum test is required",
                ["pregnancy_test", "childbearing_potential"],
            ),
        ),
        (
            "EX10",
            _set("dates.screening", None),
            (
                "pass",
                "nothing EX10 excludes is recorded in medications (for any screening date)",
                [],
            ),
        ),
        (
            "EX10",
            lambda d: d["medications"].append(
                {
                    "name": "zzzdrug",
                    "last_dose": date(2025, 2, 20),
                    "investigator_cleared": True,
                    "clearance_reason": "a topical emollient",
                }
            ),
            # the cleared medicine is named where it is decided, never "none recorded"
            (
                "pass",
                "zzzdrug is not in the catalogue; the investigator attests it is not a prohibited "
                "medicine (a topical emollient): passes",
                [],
            ),
        ),
    ],
)
def test_edges_of_scores_tests_and_open_classes(criterion, change, expected):
    assert _screen(change)[criterion] == expected


@pytest.mark.traces("criteria.EX09")
def test_the_washout_windows_come_from_the_study_screened_against(study_variant):
    # With EX09's window at 8 weeks, methotrexate last taken 2025-01-20 is on the first day of
    # the window before the 2025-03-17 randomization (2025-01-20): within, so EX09 fails.
    from protocol.study import load_study

    variant = load_study(
        study_variant(
            "  window:\n    value: 4 week\n    provenance: registry\n    registry_field: "
            "protocolSection.eligibilityModule.eligibilityCriteria\n    quote: and mycophenolate",
            "  window:\n    value: 8 week\n    provenance: registry\n    registry_field: "
            "protocolSection.eligibilityModule.eligibilityCriteria\n    quote: and mycophenolate",
        ),
    )
    result = screen(parse_record(copy.deepcopy(CASE_1), "x"), study=variant)
    assert next(c for c in result.criteria if c.id == "EX09").status == "fail"


@pytest.mark.traces("criteria.IN01")
def test_without_a_birth_date_the_first_manifestation_bounds_the_youngest_age():
    # Born by 2010-01-01 at the latest (the first manifestation), screened 2025-03-03: at least
    # 15; born 1900-01-01 at the earliest: at most 125, and no more than the plausible 120.
    def change(data):
        del data["dates"]["birth"]
        data["ssc"]["first_non_raynaud_manifestation"] = date(2010, 1, 1)

    assert _screen(change)["IN01"] == (
        "unknown",
        "age 15 to 120 years at screening (not all dates recorded); 18-70 required",
        ["dates.birth"],
    )


# -- a third mutation run: missing lists, a variant study's rules, messages of open dates -------


@pytest.mark.traces("criteria")
def test_a_record_with_nothing_but_its_id_is_incomplete_on_every_criterion():
    # No date at all: the screening date can be any day, so nothing can be decided and nothing
    # may crash for want of a date to count from.
    result = screen(parse_record({"participant": "SYN-EMPTY1"}, "synthetic empty record"))
    assert result.verdict == "incomplete"
    assert {c.status for c in result.criteria} == {"unknown"}
    assert "dates.birth (IN01)" in result.missing
    assert "dates.screening (IN01, IN04, EX02)" in result.missing
    assert "labs.egfr (EX24)" in result.missing


# Creatinine 1.6 mg/dL in a woman (CKD-EPI 2021, kappa 0.7, alpha -0.241, x 1.012):
# 142 x (1.6/0.7)^-1.200 x 0.9938^age x 1.012 = 40.03 at 46, 39.78 at 47 (mL/min/1.73 m²);
# EX24 excludes < 40, so the age decides. Born 1978-03-10: 46 on 2025-03-03 to 03-09, 47 from
# 2025-03-10 (a screening date missing ranges 2025-03-03 to 2025-03-17).
@pytest.mark.traces("criteria.EX24")
@pytest.mark.parametrize(
    ("change", "reason", "missing"),
    [
        (
            _both(_creatinine(1.6, "dates.screening"), _set("dates.birth", date(1978, 3, 10))),
            "eGFR from creatinine depends on dates.screening, not recorded (the age could be 46 "
            "to 47 years)",
            ["dates.screening"],
        ),
        # born between 1900-01-01 and 2024-05-20 (the first manifestation): 0 to 120 (the
        # oldest plausible) at 2025-03-03; IN01 admits 18 to 70, where 1.6 mg/dL gives 47.6
        # at 18 and 34.5 at 70 (a woman): the age decides, so it stays open
        (
            _creatinine(1.6, "dates.birth"),
            "eGFR from creatinine depends on dates.birth, not recorded (the age could be 0 to "
            "120 years; at 18 to 70, the ages IN01 admits, it is on both sides of the "
            "threshold)",
            ["dates.birth"],
        ),
        (
            _creatinine(1.6, "dates.birth", "sex"),
            "eGFR from creatinine depends on sex and dates.birth, not recorded (the age could be "
            "0 to 120 years; at 18 to 70, the ages IN01 admits, it is on both sides of the "
            "threshold)",
            ["sex", "dates.birth"],
        ),
    ],
)
def test_egfr_names_exactly_the_missing_fields_that_decide_it(change, reason, missing):
    assert _screen(change)["EX24"] == ("unknown", reason, missing)


@pytest.mark.traces("criteria.EX09")
def test_the_medicine_checks_refuse_what_the_screened_study_refuses(varied_study):
    # A protocol version that catalogues "zzzdrug" as an immunosuppressant decides it (EX09):
    # an investigator's clearance is then refused under that version, not under today's.
    variant = varied_study(("  - immunosuppressant\n", "  - immunosuppressant\n  - zzzdrug\n"))
    data = copy.deepcopy(CASE_1)
    data["medications"].append(
        {
            "name": "zzzdrug",
            "last_dose": date(2024, 12, 1),
            "investigator_cleared": True,
            "clearance_reason": "a topical emollient",
        }
    )
    record = parse_record(data, "synthetic variant of case 1")
    assert screen(record).verdict == "eligible"
    with pytest.raises(ProtocolDataError, match=r"medications\[2\] \(zzzdrug\)\.investigator_"):
        screen(record, study=variant)


def _immunosuppressants(*last_doses):
    def change(data):
        data["medications"] = [
            {"name": name, "last_dose": day}
            for name, day in zip(
                ("methotrexate", "azathioprine", "tacrolimus", "ciclosporin")[: len(last_doses)],
                last_doses,
                strict=True,
            )
        ]
        del data["dates"]["planned_randomization"]

    return change


def _within(name, last, window_start, randomization, clears):
    return (
        f"{name} (last dose {last}) is within the window of 4 weeks prior to randomization "
        f"({window_start} to randomization {randomization}): excluded (EX09); a randomization "
        f"on or after {clears} clears it"
    )


@pytest.mark.traces("criteria.EX09")
def test_an_open_randomization_date_names_each_distinct_reason_once():
    # Screening 2025-03-03, randomization not recorded (2025-03-03 at the earliest). Methotrexate
    # last 2025-02-20 clears on 2025-03-21 (02-20 + 28 days = 03-20 is the window's first day);
    # azathioprine last 2025-03-01 clears on 2025-03-30. Randomized 2025-03-03 both exclude;
    # 2025-03-21 azathioprine alone; from 2025-03-30 neither (not a reason: it passes).
    status, reason, missing = _screen(_immunosuppressants(date(2025, 2, 20), date(2025, 3, 1)))[
        "EX09"
    ]
    assert (status, missing) == ("unknown", ["dates.planned_randomization"])
    at_0303 = "2025-02-03", "2025-03-03"
    assert reason == (
        "depends on the planned randomization date, not recorded; at some dates the record "
        "allows: "
        + _within("methotrexate", "2025-02-20", *at_0303, "2025-03-21")
        + "; "
        + _within("azathioprine", "2025-03-01", *at_0303, "2025-03-30")
        + "; "
        + _within("azathioprine", "2025-03-01", "2025-02-21", "2025-03-21", "2025-03-30")
        # the dates beyond the last clearance pass: said, so the reasons read as some dates'
        + "; at others it passes"
    )


@pytest.mark.traces("criteria.EX09")
def test_three_reasons_are_named_without_a_count_of_more():
    # 02-20, 03-01, 03-02 clear on 03-21, 03-30, 03-31: randomized on 03-03, 03-21 or 03-30
    # some still exclude: three reasons, the last tacrolimus alone on 03-30.
    _, reason, _ = _screen(
        _immunosuppressants(date(2025, 2, 20), date(2025, 3, 1), date(2025, 3, 2))
    )["EX09"]
    # on 03-30 the window opens on 03-02, tacrolimus's last dose: on its first day, within
    assert reason.endswith(
        "2025-03-21): excluded (EX09); a randomization on or after 2025-03-31 clears it; "
        "tacrolimus (last "
        "dose 2025-03-02) is exactly on the first day of the window of 4 weeks prior to "
        "randomization (2025-03-02 to randomization 2025-03-30): excluded (EX09); a "
        "randomization on or after 2025-03-31 clears it; at others it passes"
    )


@pytest.mark.traces("criteria.EX09")
def test_an_open_randomization_date_names_at_most_three_reasons():
    # Four courses last taken 02-18, 02-20, 03-01, 03-02 clear on 03-19, 03-21, 03-30, 03-31,
    # all within the 28 days the schedule allows after the screening of 03-03: randomized on
    # 03-03, 03-19, 03-21 or 03-30 some still exclude, each time differently; from 03-31 none.
    status, reason, _ = _screen(
        _immunosuppressants(
            date(2025, 2, 18), date(2025, 2, 20), date(2025, 3, 1), date(2025, 3, 2)
        )
    )["EX09"]
    assert status == "unknown"
    assert reason.endswith(
        "; "
        + _within("tacrolimus", "2025-03-01", "2025-02-21", "2025-03-21", "2025-03-30")
        + "; "
        + _within("ciclosporin", "2025-03-02", "2025-02-21", "2025-03-21", "2025-03-31")
        + "; and 1 more at other possible dates; at others it passes"
    )


def test_a_course_that_clears_only_beyond_the_schedule_s_reach_fails_at_every_date():
    # ciclosporin last taken on the screening day (03-03) clears on 04-01, 29 days after it:
    # no randomization this screening reaches is clear (a new screening is needed)
    status, reason, _ = _screen(
        _immunosuppressants(date(2025, 2, 20), date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 3))
    )["EX09"]
    assert status == "fail"
    assert "ciclosporin (last dose 2025-03-03)" in reason


ITEMS_OFF = ("skin_thickening_proximal_to_mcp", "puffy_fingers", "anti_topoisomerase_i")


@pytest.mark.traces("criteria.IN02")
@pytest.mark.parametrize(
    ("change", "expected"),
    [
        # nothing met; telangiectasia 2 + Raynaud 3 unrecorded: at most 5
        (
            _both(
                *(_set(f"{ACR}.{i}", False) for i in ITEMS_OFF),
                _set(f"{ACR}.sclerodactyly", False),
                _set(f"{ACR}.abnormal_nailfold_capillaries", False),
                _set(f"{ACR}.telangiectasia", None),
                _set(f"{ACR}.raynaud", None),
            ),
            (
                "fail",
                "ACR/EULAR 2013 total at most 5 < 9 even if every unrecorded item were met "
                "(no item met)",
                [],
            ),
        ),
        # nailfold 2 met; telangiectasia 2 + Raynaud 3 unrecorded: 2 to 7
        (
            _both(
                *(_set(f"{ACR}.{i}", False) for i in ITEMS_OFF),
                _set(f"{ACR}.sclerodactyly", False),
                _set(f"{ACR}.telangiectasia", None),
                _set(f"{ACR}.raynaud", None),
            ),
            (
                "fail",
                "ACR/EULAR 2013 total at most 7 < 9 even if every unrecorded item were met "
                "(Abnormal nailfold capillaries 2)",
                [],
            ),
        ),
        # sclerodactyly 4 + nailfold 2 + Raynaud 3 = exactly 9, applicability not recorded
        (
            _both(
                *(_set(f"{ACR}.{i}", False) for i in ITEMS_OFF),
                _set(f"{ACR}.better_explained_by_other_disorder", None),
            ),
            (
                "unknown",
                "ACR/EULAR 2013 total 9 >= 9, but whether the criteria apply (skin thickening "
                "sparing the fingers, a better explanation) is not recorded",
                [f"{ACR}.better_explained_by_other_disorder"],
            ),
        ),
    ],
)
def test_acr_eular_totals_below_and_exactly_at_the_minimum(change, expected):
    assert _screen(change)["IN02"] == expected


@pytest.mark.traces("criteria.IN02")
def test_acr_eular_points_come_from_the_screened_study(varied_study):
    # Sclerodactyly alone: 4 points < 9; a version scoring it 9 makes it enough.
    variant = varied_study(
        (
            "items: {puffy_fingers: 2, sclerodactyly: 4}",
            "items: {puffy_fingers: 2, sclerodactyly: 9}",
        )
    )
    data = copy.deepcopy(CASE_1)
    _both(
        *(_set(f"{ACR}.{i}", False) for i in ITEMS_OFF),
        _set(f"{ACR}.abnormal_nailfold_capillaries", False),
        _set(f"{ACR}.raynaud", False),
    )(data)
    record = parse_record(data, "synthetic variant of case 1")
    today = next(c for c in screen(record).criteria if c.id == "IN02")
    amended = next(c for c in screen(record, study=variant).criteria if c.id == "IN02")
    assert (today.status, today.reason) == (
        "fail",
        "ACR/EULAR 2013 total 4 < 9 (Skin thickening of the fingers 4)",
    )
    assert (amended.status, amended.reason) == (
        "pass",
        "ACR/EULAR 2013 total 9 >= 9 (Skin thickening of the fingers 9)",
    )


@pytest.mark.traces("criteria.IN03", "criteria.EX01")
def test_the_leroy_areas_come_from_the_screened_study(varied_study):
    # Case 1 limited to the face and the areas below the elbows and knees: the face is not a
    # proximal area, so limited; a version counting the face as proximal makes it diffuse.
    variant = varied_study(
        (
            "- {name: face, proximal: false, distal: false}",
            "- {name: face, proximal: true, distal: false}",
        )
    )
    data = copy.deepcopy(CASE_1)
    _limited(data)
    data["ssc"]["mrss"]["areas"]["face"] = 1
    record = parse_record(data, "synthetic variant of case 1")
    today = {c.id: c for c in screen(record).criteria}
    amended = {c.id: c for c in screen(record, study=variant).criteria}
    assert (today["IN03"].status, today["EX01"].status) == ("fail", "fail")
    assert today["IN03"].reason.startswith(
        "LeRoy subset: limited (involvement of the face and distal areas only (face, right"
    )
    assert (amended["IN03"].status, amended["EX01"].status) == ("pass", "pass")
    assert amended["IN03"].reason == (
        "LeRoy subset: diffuse (proximal involvement (face) and distal involvement)"
    )


@pytest.mark.traces("criteria.IN03")
def test_a_subset_open_between_limited_and_none_is_not_diffuse():
    # No proximal area and no back involvement; the fingers and hands not graded, the other
    # distal areas 0 and no finger item met: limited or no skin thickening, never diffuse.
    def change(data):
        _limited(data)
        areas = data["ssc"]["mrss"]["areas"]
        for area in list(areas):
            areas[area] = 0
        for area in ("right_fingers", "left_fingers", "right_hand", "left_hand"):
            del areas[area]
        for item in ("skin_thickening_proximal_to_mcp", "sclerodactyly", "puffy_fingers"):
            data["ssc"]["acr_eular"][item] = False

    assert _screen(change)["IN03"] == (
        "fail",
        "LeRoy subset not fully recorded; it could be: limited, no skin thickening",
        [],
    )


@pytest.mark.traces("criteria.IN06", "criteria.EX27")
@pytest.mark.parametrize(
    ("criterion", "change", "expected"),
    [
        # childbearing potential recorded (so a woman): the missing sex does not matter
        (
            "IN06",
            _both(_set("sex", None), _set("pregnancy_test.sample", "urine")),
            (
                "unknown",
                "a urine test is recorded; a serum test is required",
                ["pregnancy_test"],
            ),
        ),
        (
            "IN06",
            _both(_set("childbearing_potential", None), _set("dates.screening", None)),
            (
                "unknown",
                "the serum test of 2025-03-03 is negative; whether it is dated at the screening "
                "visit needs the screening date",
                ["dates.screening", "childbearing_potential"],
            ),
        ),
        (
            "IN06",
            _both(
                _set("childbearing_potential", None), _set("pregnancy_test.date", date(2025, 3, 1))
            ),
            (
                "unknown",
                "the serum test of 2025-03-01 is not dated at the screening visit",
                ["pregnancy_test.date", "childbearing_potential"],
            ),
        ),
        (
            "EX27",
            _both(_set("childbearing_potential", None), _set("pregnancy_test", None)),
            (
                "unknown",
                "pregnancy status unknown: no test",
                ["pregnancy_test", "childbearing_potential"],
            ),
        ),
        (
            "EX27",
            _both(_set("childbearing_potential", None), _set("contraception_agreed", None)),
            (
                "unknown",
                "contraception_agreed is not recorded",
                ["contraception_agreed", "childbearing_potential"],
            ),
        ),
        (
            "EX27",
            _both(_set("childbearing_potential", None), _set("contraception_agreed", False)),
            (
                "unknown",
                "not willing to use contraception; whether she is of childbearing potential is "
                "not recorded",
                ["childbearing_potential"],
            ),
        ),
    ],
)
def test_childbearing_potential_is_named_missing_exactly_where_it_decides(
    criterion, change, expected
):
    assert _screen(change)[criterion] == expected


@pytest.mark.traces("criteria.EX07")
def test_a_missing_fvc_does_not_hide_a_failing_dlco():
    status, reason, missing = _screen(
        _both(
            _set("pulmonary.fvc_percent_predicted", None),
            _set("pulmonary.dlco_percent_predicted", 35),
        )
    )["EX07"]
    assert status == "fail"
    assert "DLCO" in reason and "35" in reason
    assert missing == ["pulmonary.fvc_percent_predicted"]


@pytest.mark.traces("criteria.EX07")
def test_both_implausible_lung_function_values_are_refused_together():
    data = copy.deepcopy(CASE_1)
    data["pulmonary"]["fvc_percent_predicted"] = 900
    data["pulmonary"]["dlco_percent_predicted"] = 900
    with pytest.raises(ProtocolDataError) as refused:
        screen(parse_record(data, "synthetic variant of case 1"))
    message = str(refused.value)
    assert "pulmonary.fvc_percent_predicted = 900:" in message
    assert "pulmonary.dlco_percent_predicted = 900:" in message


@pytest.mark.traces("criteria.EX25")
@pytest.mark.parametrize(
    ("day", "expected"),
    [
        # the earliest screening 2025-03-03 opens the 5 years on 2020-03-03, the latest
        # (2025-03-17) on 2020-03-17: a cancer on 2020-03-03 is within for the first only
        (
            date(2020, 3, 3),
            (
                "unknown",
                "breast cancer on 2020-03-03: within 5 years of screening or not, depending on "
                "the screening date",
                ["dates.screening"],
            ),
        ),
        (date(2020, 3, 2), ("pass", "breast cancer on 2020-03-02, before 2020-03-03", [])),
    ],
)
def test_a_malignancy_on_the_widest_windows_first_day_depends_on_the_date(day, expected):
    def change(data):
        data["history"]["malignancies"] = [
            {"type": "breast cancer", "date": day, "excepted_type": False}
        ]
        del data["dates"]["screening"]

    assert _screen(change)["EX25"] == expected


@pytest.mark.traces("criteria.IN04", "criteria.EX02")
def test_disease_duration_reasons_name_the_limit_and_only_in04_the_reading():
    # 2024-05-20 to 2025-03-03: 9 months to 2025-02-20, then 11 days (February 2025 has 28).
    result = _screen(lambda d: None)
    text = "disease duration 9 months 11 days at screening (from 2024-05-20)"
    assert result["IN04"] == ("pass", f"{text}; limit 18 months (PI10)", [])
    assert result["EX02"] == ("pass", f"{text}; limit 36 months", [])


@pytest.mark.traces("criteria.IN06")
def test_a_test_before_the_earliest_possible_screening_day_needs_a_new_test_not_a_date():
    # Consent on 2025-03-05 puts the screening visit on 03-05 at the earliest: the serum test of
    # 03-03 cannot be dated at it, whatever the screening date (found by the brute-force property).
    assert _screen(_both(_set("dates.screening", None), _set("dates.consent", date(2025, 3, 5))))[
        "IN06"
    ] == (
        "unknown",
        "the serum test of 2025-03-03 is not dated at the screening visit",
        ["pregnancy_test.date"],
    )


@pytest.mark.traces("criteria.IN06")
def test_a_screening_date_the_record_leaves_one_possible_day_for_is_that_day():
    # Consent and the tests on 2025-03-03, randomization planned on 2025-03-03: screening can
    # only be 2025-03-03, so the serum test of that day is at the screening visit.
    change = _both(
        _set("dates.screening", None), _set("dates.planned_randomization", date(2025, 3, 3))
    )
    assert _screen(change)["IN06"] == (
        "pass",
        "serum pregnancy test negative on 2025-03-03 (screening)",
        [],
    )


@pytest.mark.parametrize(
    "analyte", ["hemoglobin", "wbc", "neutrophils", "platelets", "creatinine", "iga", "igg"]
)
@pytest.mark.parametrize(("part", "given"), [("uln", 17)])
def test_a_uln_where_none_applies_is_refused_as_the_lab_command_refuses_it(analyte, part, given):
    """Only ALT, AST and total bilirubin are read against a ULN; a ULN given with another lab
    (a column read one to the side) is refused, never ignored."""

    def change(data):
        data["labs"][analyte][part] = given

    with pytest.raises(ProtocolDataError) as refused:
        _screen(change)
    assert [p.path for p in refused.value.problems] == [f"labs.{analyte}.{part}"]
    assert "a ULN applies only to ALT, AST and total bilirubin" in str(refused.value)


def test_prescreen_leaves_out_a_uln_where_none_applies(tmp_path):
    # screen refuses the record; the batch leaves the ULN out, as a cell it cannot read, and
    # screens the row without it: the haemoglobin is read, and the row needs review
    import datetime as dt

    import pandas as pd

    from prescreen.run import prescreen

    pd.DataFrame(
        {
            "participant": ["SYN-U1", "SYN-U2"],
            "labs.hemoglobin.value": ["12.1", "12.1"],
            "labs.hemoglobin.unit": ["g/dL", "g/dL"],
            "labs.hemoglobin.uln": ["17", None],
        }
    ).to_csv(tmp_path / "t.csv", index=False)
    run = prescreen(tmp_path / "t.csv", as_of=dt.date(2025, 3, 3))
    candidates = run.evaluation.candidates
    assert list(candidates.refused) == [False, False]
    assert [p.column for p in candidates.problems] == ["labs.hemoglobin.uln"]
    assert list(candidates.column("labs.hemoglobin.uln")) == [None, None]
    assert list(candidates.column("labs.hemoglobin.value")) == [12.1, 12.1]
    reasons = [str(r) for r in run.table["reason"]]
    assert "labs.hemoglobin.uln could not be read" in reasons[0]
    assert "could not be read" not in reasons[1]


# Without a birth date (the first manifestation 2024-05-20, screening 2025-03-03), the record
# allows 0 to 120 years; IN01 admits 18 to 70, and at any other age the participant is not
# eligible whatever the kidneys. CKD-EPI 2021 for a woman, 142 x min(Scr/0.7, 1)^-0.241 x
# max(Scr/0.7, 1)^-1.200 x 0.9938^age x 1.012: 4.5 mg/dL gives 13.8 at 18 (< 40 at every admitted
# age); 0.7 mg/dL gives 143.7 x 0.9938^age, 93.0 at 70 (>= 40 at every admitted age).
@pytest.mark.traces("criteria.EX24")
@pytest.mark.parametrize(("value", "status"), [(4.5, "fail"), (0.7, "pass")])
def test_egfr_without_a_birth_date_is_decided_over_the_ages_in01_admits(value, status):
    decided, reason, missing = _screen(_creatinine(value, "dates.birth"))["EX24"]
    assert (decided, missing) == (status, [])
    assert reason.endswith(
        "(the same for every age from 18 to 70 the record allows; IN01 excludes any other age)"
    )


def test_a_creatinine_that_fails_at_every_admitted_age_makes_the_record_not_eligible():
    data = copy.deepcopy(CASE_1)
    _creatinine(4.5, "dates.birth")(data)
    result = screen(parse_record(data, "synthetic variant of case 1"))
    assert [c.id for c in result.criteria if c.status == "fail"] == ["EX24"]
    assert result.verdict == "not_eligible"


@pytest.mark.parametrize(
    ("youngest", "oldest", "admitted"),
    [
        (10, 100, (18, 70)), (17, 18, (18, 18)), (18, 19, (18, 19)), (69, 71, (69, 70)),
        (70, 71, (70, 70)), (71, 120, (70, 70)), (0, 17, (18, 18)), (40, 40, (40, 40)),
        (15, 15, (18, 18)), (80, 80, (70, 70)), (17, 17, (18, 18)), (71, 71, (70, 70)),
    ],
)  # fmt: skip
def test_the_ages_in01_admits_within_an_age_range(youngest, oldest, admitted):
    assert admitted_ages_within(youngest, oldest, load_study()) == admitted


# -- an age over 120 that a dated entry implies ----------------------------------------------
# A tester: without a birth date, a malignancy dated 1900 was read as "age 125 years" (IN01
# fails), where the same age from a birth date is refused as implausible.


@pytest.mark.parametrize(
    ("path", "day", "refused"),
    [
        (("history", "malignancies"), date(1900, 1, 1), True),
        (("ssc", "first_non_raynaud_manifestation"), date(1904, 3, 3), True),  # 121
        (("ssc", "first_non_raynaud_manifestation"), date(1904, 3, 4), False),  # 120
    ],
)
def test_a_dated_entry_over_120_years_before_screening_is_refused_without_a_birth_date(
    path, day, refused
):
    data = copy.deepcopy(CASE_1)
    del data["dates"]["birth"]
    data["dates"]["screening"] = date(2025, 3, 3)
    data["dates"]["consent"] = date(2025, 3, 1)
    if path[-1] == "malignancies":
        data["history"]["malignancies"] = [
            {"type": "breast cancer", "date": day, "excepted_type": False}
        ]
    else:
        data["ssc"]["first_non_raynaud_manifestation"] = day
    if refused:
        with pytest.raises(ProtocolDataError, match="implausible"):
            parse_record(data, "synthetic")
    else:
        result = screen(parse_record(data, "synthetic"))
        in01 = next(c for c in result.criteria if c.id == "IN01")
        assert in01.status == "fail" and "120" in in01.reason


def test_a_washout_criterion_is_anchored_where_study_yaml_anchors_its_entries(study_variant):
    # EX23's investigational drug counts from the screening visit (study.yaml, PI07); screen's
    # report and the criteria page had said "planned randomization", from a hard-coded label
    record = parse_record(copy.deepcopy(CASE_1), "x")
    anchors = {c.id: c.anchor for c in screen(record).criteria}
    assert anchors["EX23"] == "screening 2025-03-03"
    assert anchors["EX20"] == "screening 2025-03-03"
    assert (
        anchors["EX08"]
        == anchors["EX26"]
        == anchors["EX29"]
        == ("planned randomization 2025-03-17")
    )
    assert anchors["EX13"] is None and anchors["EX15"] is None  # any use ever: no date
    # each washout criterion, against its entries as study.yaml writes them (written here
    # from the file, not from the rules)
    study_text = study_data()
    written: dict[str, set[str]] = {}
    for entry in [*study_text["medication_classes"], *study_text["exposure_events"]]:
        for criterion in [entry["criterion"], *entry.get("also_criteria", [])]:
            if entry["rule"] != "lifetime":
                written.setdefault(criterion, set()).add(entry["anchor"])
    words = {
        "screening": "screening 2025-03-03",
        "randomization": "planned randomization 2025-03-17",
    }
    for criterion, found in written.items():
        assert anchors[criterion] == "; ".join(words[a] for a in sorted(found, reverse=True))
    # an amendment anchoring EX23 at randomization is said so
    amended = load_study(
        study_variant(
            "  anchor: screening\n  anchor_as_written: of entry into this study",
            "  anchor: randomization\n  anchor_as_written: of entry into this study",
        )
    )
    moved = {c.id: c.anchor for c in screen(record, amended).criteria}
    assert moved["EX23"] == "planned randomization 2025-03-17"


#: Text as a record may hold it (no character reference: "&amp;" is shown as "&", no harm)
_RECORD_TEXT = st.lists(
    st.sampled_from(["*", "**", "_", "`", "<b>", "</b>", "[x](http://e.com)", "<http://e>", "|"])
    | st.sampled_from(list("ab 1<>[]()!#~\\"))
    | st.characters(blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters="&"),
    max_size=20,
).map("".join)


@example("foo | EX99 | pass <script>alert(1)</script> **bold** [x](http://e.com)")
@given(_RECORD_TEXT)
def test_a_record_text_in_the_markdown_report_stays_text(written):
    # a tester's round: a medicine named "foo <script>alert(1)</script> **bold** [x](http://e)"
    # came through `screen --format markdown` as HTML, emphasis and a link
    from markdown_it import MarkdownIt

    result = _report()
    result.criteria[1].reason = written
    tokens = MarkdownIt("commonmark").enable("table").parse(format_markdown(result))
    kinds = [t.type for t in tokens]
    table = tokens[kinds.index("table_open") : kinds.index("table_close")]
    cells = [t for t in table if t.type == "inline"]
    assert len(cells) == 4 * 4  # the header and three rows of four: the text never splits one
    reason = cells[4 * 2 + 2]
    for token in reason.children or []:
        assert token.type in ("text", "softbreak"), (written, token.type)
    shown = "".join(t.content for t in reason.children or [] if t.type == "text")
    assert shown == written.strip()  # as written, every sign shown


@pytest.mark.traces("criteria.EX24")
def test_a_missing_egfr_is_asked_for_with_the_creatinine_that_would_complete_it():
    # EX24 takes a reported eGFR or the creatinine it is computed from: the report asks for
    # either (it named the eGFR alone), the JSON keeps the field's path
    data = copy.deepcopy(CASE_1)
    del data["labs"]["creatinine"]
    record = parse_record(data, "synthetic")
    result = screen(record)
    assert result.missing == ["labs.egfr (EX24)"]
    assert "  - labs › eGFR or labs › creatinine (EX24)" in format_text(result, record)
    assert "- labs › eGFR or labs › creatinine (EX24)" in format_markdown(result)


# -- skin thickening recorded as sparing the fingers: an ungraded finger is at 0 ---------------


@st.composite
def _spared_fingers(draw: st.DrawFn) -> tuple[dict, dict]:
    """CASE_1 with thickening recorded as sparing the fingers (the finger items absent), the
    15 other areas graded at random, one finger or both left ungraded, and the back drawn;
    beside it the twin with those fingers written 0, the one grade the record allows."""
    data = copy.deepcopy(CASE_1)
    items = data["ssc"]["acr_eular"]
    items |= {"skin_thickening_sparing_fingers": True, "sclerodactyly": False}
    items |= {"skin_thickening_proximal_to_mcp": False}
    areas = data["ssc"]["mrss"]["areas"]
    for area in areas:
        areas[area] = draw(st.sampled_from([0, 0, 1, 2, 3]))
    ungraded = draw(st.sampled_from([("right_fingers",), ("left_fingers",), FINGERS]))
    for finger in FINGERS:
        areas[finger] = 0
    data["ssc"]["back_skin_thickening"] = draw(st.sampled_from([None, True, False]))
    graded = copy.deepcopy(data)
    for finger in ungraded:
        del areas[finger]
    if draw(st.booleans()):  # a recorded total: the graded areas' sum, as it must be
        data["ssc"]["mrss"]["total"] = sum(areas.values())
    return data, graded


FINGERS = ("right_fingers", "left_fingers")


@pytest.mark.traces("criteria.IN03", "criteria.IN05", "criteria.EX01")
@given(_spared_fingers())
def test_a_finger_left_ungraded_beside_thickening_sparing_the_fingers_is_read_at_0(pair):
    # IN03, IN05 and EX01 were unknown though a grade of 1-3 on that finger is refused: only 0
    # is a record. Derived independently: the same record with the finger written 0
    ungraded, graded = pair
    by_implied = screen(parse_record(ungraded, "synthetic"))
    by_zero = screen(parse_record(graded, "synthetic"))
    statuses = {c.id: c.status for c in by_implied.criteria}
    expected = {c.id: c.status for c in by_zero.criteria}
    assert statuses == expected
    assert not any("fingers" in item for item in by_implied.missing)


def _note_case(total: int | None) -> dict:
    data = copy.deepcopy(CASE_1)
    items = data["ssc"]["acr_eular"]
    items |= {"skin_thickening_sparing_fingers": True, "sclerodactyly": False}
    items |= {"skin_thickening_proximal_to_mcp": False, "puffy_fingers": False}
    areas = data["ssc"]["mrss"]["areas"]
    areas |= dict.fromkeys(areas, 0) | {"anterior_chest": 3, "abdomen": 3, "right_thigh": 2}
    del areas["right_fingers"]
    if total is not None:
        data["ssc"]["mrss"]["total"] = total
    return data


@pytest.mark.traces("criteria.IN03", "criteria.IN05", "criteria.EX01")
def test_the_notes_case_is_decided_with_its_reason():
    # graded areas 8, the right fingers left out: 8, not 8 to 11
    result = {c.id: c for c in screen(parse_record(_note_case(None), "synthetic")).criteria}
    assert (result["IN03"].status, result["IN05"].status, result["EX01"].status) == (
        "fail",
        "fail",
        "pass",
    )
    assert result["IN05"].reason == (
        "mRSS 8 (sum of the areas; right fingers at 0: skin thickening recorded as sparing the "
        "fingers) < 10"
    )


@pytest.mark.parametrize(("total", "refused"), [(7, True), (8, False), (9, True), (11, True)])
def test_a_total_above_the_other_areas_beside_spared_fingers_is_refused(total, refused):
    # the spared fingers are at 0: a total of 9 to 11 would put the rest on them (it was read
    # as the total, with the fingers' 0-3 left open); 7 is below the graded areas already
    if not refused:
        parse_record(_note_case(total), "synthetic")
        return
    with pytest.raises(ProtocolDataError, match="total"):
        parse_record(_note_case(total), "synthetic")
