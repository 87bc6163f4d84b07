"""`--study FILE` on every command (issue 14 §1): the command runs against that version of
study.yaml; a version the stored registry record does not show yet is used with one warning
line naming the differing facts; a file that is not a valid study is bad input (exit 2)."""

from __future__ import annotations

from pathlib import Path

import pytest

from protocol.study import STUDY_PATH
from tests.conftest import REPO
from trialbook.cli import main

CASE = str(REPO / "book" / "cases" / "case01-eligible.yaml")
WASHOUT = str(REPO / "examples" / "washout-synthetic.yaml")


@pytest.fixture
def variant(tmp_path: Path) -> str:
    # haemoglobin < 12.5 g/dL instead of the registry's < 8.0 g/dL: SYN-01 (121 g/L) now fails
    text = STUDY_PATH.read_text(encoding="utf-8")
    assert text.count('value: "< 8.0 g/dL"') == 1
    path = tmp_path / "amended.yaml"
    path.write_text(text.replace('value: "< 8.0 g/dL"', 'value: "< 12.5 g/dL"'), encoding="utf-8")
    return str(path)


def _warning_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("warning:")]


def test_lab_decides_by_the_chosen_version(variant, capsys):
    assert main(["lab", "hemoglobin", "121", "g/L"]) == 0
    capsys.readouterr()
    assert main(["lab", "hemoglobin", "121", "g/L", "--study", variant]) == 1
    out, err = capsys.readouterr()
    assert "12.1 g/dL < 12.5 g/dL: excluded (EX24)" in out
    (warning,) = _warning_lines(err)
    assert variant in warning and "lab_analytes[0].threshold" in warning


def test_screen_decides_by_the_chosen_version(variant, capsys):
    assert main(["screen", CASE]) == 0
    capsys.readouterr()
    assert main(["screen", CASE, "--study", variant, "--format", "json"]) == 1
    out, err = capsys.readouterr()
    assert '"verdict": "not_eligible"' in out and "< 12.5 g/dL" in out
    assert len(_warning_lines(err)) == 1


@pytest.mark.parametrize(
    "command",
    [
        ["lint"],
        ["washout", WASHOUT],
        ["calendar", "--arm", "mmf", "--randomization", "2025-03-17"],
        ["lab", "hemoglobin", "121", "g/L"],
        ["screen", CASE],
    ],
)
def test_every_command_takes_a_study_and_refuses_one_that_is_not_valid(
    command, variant, tmp_path, capsys
):
    main([*command, "--study", variant])
    assert len(_warning_lines(capsys.readouterr().err)) == 1
    bad = tmp_path / "bad.yaml"
    bad.write_text("schema_version: 1\n", encoding="utf-8")
    assert main([*command, "--study", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}: references" in err and "missing" in err
    assert main([*command, "--study", str(tmp_path / "absent.yaml")]) == 2
    assert "absent.yaml" in capsys.readouterr().err


def test_the_project_study_named_explicitly_gives_no_warning(capsys):
    assert main(["lab", "hemoglobin", "121", "g/L", "--study", str(STUDY_PATH)]) == 0
    assert _warning_lines(capsys.readouterr().err) == []


_EX29 = (
    "- id: EX29\n  short_name: Live or attenuated vaccine (repeated in the record)\n"
    "  short_name_zh: 减毒活疫苗（记录中重复）\n"
    "  text: Immunization with a live/attenuated vaccine within 4 weeks prior to randomization.\n"
)
_NON_COMPLIANCE = (
    "- id: EX29\n  short_name: Expected non-compliance\n  short_name_zh: 预计依从性差\n"
    "  text: Patients anticipated to be non-compliant with the protocol requirements or expected "
    "not to complete the trial as planned (e.g., those with psychiatric disorders, history of "
    "alcohol abuse, drug abuse, or substance misuse).\n"
)


def test_a_criterion_its_rule_was_not_written_for_is_refused(study_variant, capsys):
    # an amendment that drops EX29 and renumbers EX30 had the vaccine rule check the
    # non-compliance criterion (and "all 37 criteria pass" for 36): screen, washout and diff
    # refuse it instead

    path = study_variant(_EX29, _NON_COMPLIANCE)
    case = str(REPO / "book" / "cases" / "case01-eligible.yaml")
    assert main(["screen", case, "--study", str(path)]) == 2
    err = capsys.readouterr().err
    assert "criteria[35].text" in err and "it reads like EX30" in err
    assert main(["diff", str(STUDY_PATH), str(path)]) == 2
    assert "it reads like EX30" in capsys.readouterr().err


def test_a_reworded_criterion_keeps_its_rule(study_variant, capsys):

    path = study_variant(
        "within 4 weeks prior to randomization.\n- id: EX30",
        "within 4 weeks before randomization.\n- id: EX30",
    )
    case = str(REPO / "book" / "cases" / "case01-eligible.yaml")
    assert main(["screen", case, "--study", str(path)]) == 0
    assert "ELIGIBLE: all 37 criteria pass" in capsys.readouterr().out
