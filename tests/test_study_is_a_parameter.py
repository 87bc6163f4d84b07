"""The study is a parameter of every rule (issue 14 §1): screening a record against a variant
study decides by the variant's thresholds and windows, and says so, in every criterion family.
A variant that used the default study anywhere would keep the default's status or number.

Each variant changes one fact of study.yaml so that the synthetic SYN-01 (eligible under the
registry's rules) fails the criterion; the expected words are the variant's, written by hand.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from protocol.participant import load_record
from protocol.screening import describe, screen
from tests.conftest import REPO

CASE = REPO / "book" / "cases" / "case01-eligible.yaml"

VARIANTS = [
    # (family, (old, new), criterion, words in the reason, words in the description)
    (
        "age",
        ("  maximum_age:\n    value: 70 year", "  maximum_age:\n    value: 45 year"),
        "IN01",
        "age 46 years at screening; 18-45 required",
        "45",
    ),
    (
        "classification score",
        ("  acr_eular_minimum:\n    value: 9", "  acr_eular_minimum:\n    value: 22"),
        "IN02",
        "ACR/EULAR 2013 total 21",
        "22",
    ),
    (
        "disease duration (inclusion)",
        (
            "  disease_duration_maximum:\n    value: 18 month",
            "  disease_duration_maximum:\n    value: 9 month",
        ),
        "IN04",
        "limit 9 months",
        "9 months",
    ),
    (
        "disease duration (exclusion)",
        (
            "  disease_duration_exclusion:\n    value: 3 year",
            "  disease_duration_exclusion:\n    value: 6 month",
        ),
        "EX02",
        "limit 6 months",
        "6 months",
    ),
    (
        "skin score",
        ("  mrss_minimum:\n    value: 10", "  mrss_minimum:\n    value: 22"),
        "IN05",
        "mRSS 21 (sum of the areas)",
        "22",
    ),
    (
        "laboratory (EX24)",
        ('value: "< 8.0 g/dL"', 'value: "< 12.5 g/dL"'),
        "EX24",
        "12.1 g/dL < 12.5 g/dL",
        "< 12.5 g/dL",
    ),
    (
        "laboratory (EX22)",
        ('value: "< 400 mg/dL"', 'value: "< 1300 mg/dL"'),
        "EX22",
        "1250 mg/dL < 1300 mg/dL",
        "< 1300 mg/dL",
    ),
    (
        "pulmonary function",
        ('value: "< 50 % predicted"', 'value: "< 80 % predicted"'),
        "EX07",
        "FVC 78 % < 80 % predicted",
        "< 80 % predicted",
    ),
    (
        "medicine washout",
        (
            "    value: 4 week\n    provenance: registry\n"
            "    registry_field: protocolSection.eligibilityModule.eligibilityCriteria\n"
            "    quote: and mycophenolate mofetil within 4 weeks",
            "    value: 8 week\n    provenance: registry\n"
            "    registry_field: protocolSection.eligibilityModule.eligibilityCriteria\n"
            "    quote: and mycophenolate mofetil within 4 weeks",
        ),
        "EX09",
        # methotrexate last taken 2025-01-20, exactly 8 weeks before randomization 2025-03-17
        "8 weeks prior to randomization",
        "8 weeks",
    ),
    (
        "event window",
        (
            "    value: 4 week\n    provenance: registry\n"
            "    registry_field: protocolSection.eligibilityModule.eligibilityCriteria\n"
            "    quote: Immunization with a live",
            "    value: 24 week\n    provenance: registry\n"
            "    registry_field: protocolSection.eligibilityModule.eligibilityCriteria\n"
            "    quote: Immunization with a live",
        ),
        "EX26",
        # the vaccine of 2024-10-02 is within 24 weeks (168 days) of 2025-03-17
        "24 weeks prior to randomization",
        "24 weeks",
    ),
    (
        "corticosteroid dose",
        ("  daily_limit:\n    value: 10 mg", "  daily_limit:\n    value: 5 mg"),
        "EX11",
        "7.5 mg/day prednisone equivalent [BNF], more than 5 mg/day",
        "5 mg",
    ),
]


@pytest.mark.parametrize(
    ("family", "replacement", "criterion", "reason_words", "description_words"),
    VARIANTS,
    ids=[v[0] for v in VARIANTS],
)
def test_a_variant_study_decides_and_describes_by_its_own_rule(
    varied_study, family, replacement, criterion, reason_words, description_words
):
    record = load_record(CASE)
    default = {c.id: c for c in screen(record).criteria}[criterion]
    assert default.status == "pass", (family, default.reason)
    variant = varied_study(replacement)
    result = {c.id: c for c in screen(record, variant).criteria}[criterion]
    assert result.status == "fail", (family, result.reason)
    assert reason_words in result.reason, (family, result.reason)
    assert description_words in describe(criterion, variant), family
    # and the default study is untouched by the variant's use
    assert {c.id: c for c in screen(record).criteria}[criterion].status == "pass"


def test_every_family_of_threshold_and_window_is_covered():
    families = {v[0] for v in VARIANTS}
    assert len(families) == len(VARIANTS) >= 11
    assert {v[2] for v in VARIANTS} >= {
        "IN01",
        "IN02",
        "IN04",
        "IN05",
        "EX02",
        "EX07",
        "EX09",
        "EX11",
        "EX22",
        "EX24",
        "EX26",
    }


def test_the_case_file_exists():
    assert Path(CASE).is_file()


def test_the_reasons_cite_the_issues_log_by_its_current_numbers(varied_study):
    # renumber an entry of the log: the sentences of the rule that applies its reading follow
    from datetime import date

    from protocol.washout import check_washout, parse_washout_input

    data = parse_washout_input(
        {
            "planned_randomization": date(2025, 3, 17),
            "medications": [{"name": "methotrexate"}],  # no date: the undated-entry reading
        },
        "synthetic",
    )
    study = varied_study(
        ("  - id: PI23\n    rule: undated_entries", "  - id: PI96\n    rule: undated_entries")
    )
    (entry,) = check_washout(data, study).entries
    assert "(PI96)" in entry.reason and "PI23" not in entry.reason
    assert "(PI23)" in check_washout(data).entries[0].reason
    record = load_record(CASE)
    renumbered = varied_study(
        (
            "  - id: PI09\n    rule: age_on_screening_date",
            "  - id: PI97\n    rule: age_on_screening_date",
        )
    )
    assert {c.id: c for c in screen(record, renumbered).criteria}["IN01"].reason.endswith("(PI97)")
    assert {c.id: c for c in screen(record).criteria}["IN01"].reason.endswith("(PI09)")


def test_a_variant_molar_mass_converts_by_the_variants(varied_study):
    # pint's chemistry context takes the molar mass as a parameter: a variant with the tetramer
    # convention (0.155 mmol/L per g/dL) converts by it, not by a context the default registered.
    # By hand: 1.3 mmol/L / 0.155 = 8.39 g/dL (passes < 8.0); / 0.6206 = 2.09 g/dL (fails).
    from protocol.labs import check_lab

    assert check_lab("hemoglobin", "1.3", "mmol/L").status == "fail"
    tetramer = varied_study(
        ("      value: 0.6206 mmol/L per g/dL", "      value: 0.155 mmol/L per g/dL"),
        ("      value: 16114.5 g/mol", "      value: 64458 g/mol"),
    )
    result = check_lab("hemoglobin", "1.3", "mmol/L", study=tetramer)
    assert result.status == "pass" and "= 8.387 g/dL" in result.reason
    assert check_lab("hemoglobin", "1.3", "mmol/L").status == "fail"  # the default unchanged
