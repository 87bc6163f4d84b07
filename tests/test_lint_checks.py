"""The criteria lint as a list of named checks (issue 14 §5): each check has one name, a kind,
a severity, and fires on the registry record's criteria; each finding names its check."""

from __future__ import annotations

import pytest

from protocol.lint import LINT_CHECKS, lint
from protocol.study import load_study


def test_each_check_is_named_once_and_fires_on_the_record():
    names = [check.name for check in LINT_CHECKS]
    assert len(names) == len(set(names)) == 11
    fired = {finding.check for finding in lint(load_study())}
    # the record's texts and limits agree: that check fires on an amendment (below)
    assert fired == set(names) - {"limit-not-in-text"}
    for check in LINT_CHECKS:
        assert check.severity in ("high", "medium", "low")
    assert {c.name for c in LINT_CHECKS if c.severity == "high"} == {
        "prohibited-study-drug",
        "limit-not-in-text",
    }


def test_a_finding_follows_the_study(varied_study):
    # a maximum disease duration above the exclusion's makes EX02 no longer implied by IN04
    study = varied_study(
        (
            "  disease_duration_maximum:\n    value: 18 month",
            "  disease_duration_maximum:\n    value: 48 month",
        )
    )
    checks = {finding.check for finding in lint(study)}
    assert "exclusion-implied-by-inclusion" not in checks
    assert "exclusion-implied-by-inclusion" in {f.check for f in lint(load_study())}


def test_a_finding_the_log_does_not_cover_is_new(varied_study):
    # the log entry of the duplicated vaccine criterion no longer names both criteria
    study = varied_study(
        (
            "    criteria: [EX26, EX29]\n    record_says: Immunization with a live",
            "    criteria: [EX26]\n    record_says: Immunization with a live",
        )
    )
    identical = [f for f in lint(study) if f.check == "identical-texts"]
    assert identical and all(f.is_new for f in identical)


def test_each_comma_without_a_space_is_a_finding_and_only_a_quoted_one_is_logged(varied_study):
    # EX16's "disease,severe" is quoted in PI17; a second slip in the same criterion is not
    study = varied_study(("heart failure, arrhythmia", "heart failure,arrhythmia"))
    commas = [f for f in lint(study) if f.check == "comma-without-space"]
    by_text = {f.message.split("('")[1].rstrip("')"): f for f in commas}
    assert set(by_text) == {"disease,severe", "failure,arrhythmia", "infection,including"}
    assert by_text["failure,arrhythmia"].is_new
    assert by_text["disease,severe"].logged_as == ("PI17",)
    assert by_text["infection,including"].logged_as == ("PI17",)


def _limits(study) -> list[str]:
    return [f.message for f in lint(study) if f.check == "limit-not-in-text"]


#: Each lab limit of the registry's criteria, as study.yaml writes it, and a moved one: the
#: rule's limit moved while the criterion's text still says the registry's number
MOVED_LIMITS = [
    ('value: "< 8.0 g/dL"', 'value: "< 9.0 g/dL"', "EX24", "Hemoglobin <8.0 g/dL"),
    ('value: "< 3 ×10⁹/L"', 'value: "< 2 ×10⁹/L"', "EX24", "WBC <3 x 10^9/L"),
    # a quote without a number ("TBil > ULN") means once the ULN
    ('value: "> 1 × ULN"', 'value: "> 2 × ULN"', "EX24", "TBil > ULN"),
    ('value: "< 10 mg/dL"', 'value: "< 7 mg/dL"', "EX22", "IgA deficiency (<10 mg/dL)"),
    ('value: "< 50 % predicted"', 'value: "< 45 % predicted"', "EX07", "FVC < 50% of predicted"),
]


def test_the_records_texts_say_every_limit_its_rules_apply():
    assert _limits(load_study()) == []


@pytest.mark.parametrize(("old", "new", "criterion", "quote"), MOVED_LIMITS)
def test_a_limit_moved_without_its_text_is_a_new_high_finding(
    varied_study, old, new, criterion, quote
):
    study = varied_study((old, new))
    findings = [f for f in lint(study) if f.check == "limit-not-in-text"]
    assert findings and all(f.criteria == (criterion,) and f.is_new for f in findings)
    assert any(quote in f.message for f in findings)


def test_a_text_reworded_without_its_limit_is_a_finding(varied_study):
    study = varied_study(("Hemoglobin <8.0 g/dL; WBC", "Hemoglobin <9.0 g/dL; WBC"))
    [message] = _limits(study)
    assert message.startswith("EX24's text does not say the registry's words for Hemoglobin")


def test_a_limit_written_otherwise_with_the_same_number_is_no_finding(varied_study):
    # 8 is the registry's 8.0: the same limit, written without its decimal
    assert _limits(varied_study(('value: "< 8.0 g/dL"', 'value: "< 8 g/dL"'))) == []


#: The same limits restated in other units (equal by hand: 8.0 g/dL = 80 g/L; 3 x 10^9/L =
#: 3000 per microlitre; 10 mg/dL = 0.1 g/L), and the same units moved a little.
RESTATED_LIMITS = [
    ('value: "< 8.0 g/dL"', 'value: "< 80 g/L"', True),
    ('value: "< 8.0 g/dL"', 'value: "< 81 g/L"', False),
    ('value: "< 3 ×10⁹/L"', 'value: "< 3000 /µL"', True),
    ('value: "< 3 ×10⁹/L"', 'value: "< 3100 /µL"', False),
    ('value: "< 10 mg/dL"', 'value: "< 0.1 g/L"', True),
    ('value: "< 10 mg/dL"', 'value: "< 0.11 g/L"', False),
    # the number alone is not the limit: 10 in another unit is a limit moved tenfold
    ('value: "< 10 mg/dL"', 'value: "< 10 mg/L"', False),
]


@pytest.mark.parametrize(("old", "new", "same"), RESTATED_LIMITS)
def test_a_limit_is_compared_with_its_text_in_units_not_words(varied_study, old, new, same):
    # a tester's amendment writing haemoglobin's limit as 80 g/L was a conflict, though diff
    # and registry-check read it as no change
    findings = _limits(varied_study((old, new)))
    assert (findings == []) == same, findings
