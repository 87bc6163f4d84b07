"""The criteria lint as a list of named checks (issue 14 §5): each check has one name, a kind,
a severity, and fires on the registry record's criteria; each finding names its check."""

from __future__ import annotations

from protocol.lint import LINT_CHECKS, lint
from protocol.study import load_study


def test_each_check_is_named_once_and_fires_on_the_record():
    names = [check.name for check in LINT_CHECKS]
    assert len(names) == len(set(names)) == 10
    fired = {finding.check for finding in lint(load_study())}
    assert fired == set(names)
    for check in LINT_CHECKS:
        assert check.severity in ("high", "medium", "low")
    assert {c.name for c in LINT_CHECKS if c.severity == "high"} == {"prohibited-study-drug"}


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
