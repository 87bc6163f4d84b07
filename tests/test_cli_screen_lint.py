"""`trialbook screen`, `trialbook schema` and `trialbook lint`."""

from __future__ import annotations

import json

import pytest

from protocol.lint import lint
from protocol.study import load_study
from tests.conftest import REPO
from trialbook.cli import main

pytestmark = pytest.mark.traces("criteria")

CASES = REPO / "book" / "cases"


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("case01-eligible.yaml", 0),
        ("case03-age-71.yaml", 1),
        ("case14-missing-igg-and-attestation.yaml", 3),
    ],
)
def test_screen_exit_codes(case, code, capsys):
    assert main(["screen", str(CASES / case)]) == code
    out = capsys.readouterr().out
    assert out.startswith("NCT06375005 screening: participant SYN-")


def test_screen_json_has_every_criterion_and_the_missing_list(capsys):
    assert (
        main(["screen", str(CASES / "case14-missing-igg-and-attestation.yaml"), "--format", "json"])
        == 3
    )
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {
        "participant",
        "verdict",
        "criteria",
        "missing",
        "requires_rescreening",
        "rescreening",
    }
    assert result["requires_rescreening"] is False and result["rescreening"] is None
    assert [c["id"] for c in result["criteria"]] == [c.id for c in load_study().criteria]
    assert set(result["criteria"][0]) == {"id", "status", "reason", "text", "kind", "anchor"}
    assert result["missing"] == ["attestations.EX16 (EX16)", "labs.igg (EX22)"]


def test_screen_markdown_is_a_table(capsys):
    main(["screen", str(CASES / "case01-eligible.yaml"), "--format", "markdown"])
    out = capsys.readouterr().out
    assert "| ID | Status | Reason | Kind |" in out and "| EX30 | pass |" in out


def test_screen_bad_input_exits_2(tmp_path, capsys):
    path = tmp_path / "bad.yaml"
    path.write_text("participant: SYN-X1\nsex: other\n")
    assert main(["screen", str(path)]) == 2
    err = capsys.readouterr().err
    assert "sex" in err and "Traceback" not in err
    assert main(["screen", str(tmp_path / "absent.yaml")]) == 2


def test_schema_is_json_schema_of_the_record(capsys):
    assert main(["schema"]) == 0
    schema = json.loads(capsys.readouterr().out)
    assert schema["title"] == "NCT06375005 participant screening record"
    assert "participant" in schema["required"]
    assert {"dates", "labs", "medications", "attestations"} <= set(schema["properties"])


def test_lint_reports_the_known_problems_and_exits_0_when_all_are_logged(capsys):
    assert main(["lint"]) == 0
    out = capsys.readouterr().out
    assert "EX26 and EX29 have the same text" in out
    assert "EX02 (disease duration > 3 years) can never exclude" in out
    assert "prohibits mycophenolate mofetil" in out and "background therapy of both arms" in out
    assert "0 not yet in the protocol issues log" in out


def test_lint_flags_a_finding_the_log_does_not_cover(study_variant):
    path = study_variant("  - id: PI03\n", "  - id: PI03\n")
    text = path.read_text()
    start = text.index("  - id: PI03\n")
    end = text.index("  - id: PI04\n")
    path.write_text(text[:start] + text[end:])
    from protocol.study import load_study as load

    findings = lint(load(path))
    new = [f for f in findings if f.is_new]
    assert [f.criteria for f in new] == [("EX26", "EX29")]


def test_lint_follows_the_thresholds_in_study_yaml(study_variant):
    path = study_variant("value: 3 year\n", "value: 1 year\n")
    from protocol.study import load_study as load

    study = load(path)
    assert not any(f.criteria == ("EX02", "IN04") for f in lint(study))


def test_the_installed_command_runs_one_command_per_process_and_main_leaves_the_collector_alone(
    capsys,
):
    """The console script is ``command`` (which pauses and freezes Python's cycle collector
    for a one-command process); ``main``, called many times in one process by tests and other
    programs, must leave the collector running and freeze nothing, or each call would keep its
    garbage for ever."""
    import gc
    import subprocess
    import sys
    import tomllib

    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["trialbook"] == "trialbook.cli:command"
    frozen = gc.get_freeze_count()
    assert main(["screen", str(REPO / "book/cases/case01-eligible.yaml")]) == 0
    assert gc.isenabled() and gc.get_freeze_count() == frozen
    capsys.readouterr()
    # the console path gives the same verdict and report, and an internal error is still exit 4
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from trialbook.cli import command; sys.exit(command())",
            "screen",
            str(REPO / "book/cases/case01-eligible.yaml"),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    assert done.returncode == 0 and "Verdict: ELIGIBLE" in done.stdout and not done.stderr


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("79.9999999999999999", 2),  # 80.0 as a double: it passed "< 8 g/dL" as 8
        ("'79.9999999999999999'", 2),  # the same written as text
        ("79.9999999999999", 2),  # 15 digits: within the old tolerance of 80, "at" it
        ("79.9999999999", 1),  # 12 digits: below 80 g/L, excluded (EX24)
        ("80.0000000000", 0),  # the threshold with zeros: at it, passes
    ],
)
def test_a_value_with_more_digits_than_a_value_has_is_refused_not_read_as_the_threshold(
    written, code, tmp_path, capsys
):
    text = (CASES / "case01-eligible.yaml").read_text(encoding="utf-8")
    assert "hemoglobin: {value: 121, unit: g/L}" in text
    record = tmp_path / "r.yaml"
    record.write_text(
        text.replace(
            "hemoglobin: {value: 121, unit: g/L}", f"hemoglobin: {{value: {written}, unit: g/L}}"
        ),
        encoding="utf-8",
    )
    assert main(["screen", str(record)]) == code
    if code == 2:
        error = capsys.readouterr().err
        assert "labs.hemoglobin.value" in error and "significant digits" in error


@pytest.mark.parametrize(
    "rewritten",
    [
        "Immunization with a live/attenuated vaccine within 4 weeks prior to randomization .",
        "Immunization  with a live/attenuated vaccine within 4 weeks prior to randomization.",
        "IMMUNIZATION with a live/attenuated vaccine within 4 weeks prior to randomization.",
    ],
)
def test_lint_finds_the_same_criterion_twice_whatever_its_spacing_or_case(study_variant, rewritten):
    # a space before EX29's final point hid the duplicate of EX26 (PI03) from lint
    original = "Immunization with a live/attenuated vaccine within 4 weeks prior to randomization."
    text = study_variant("  - id: PI03\n", "  - id: PI03\n").read_text(encoding="utf-8")
    at = text.index(f"  text: {original}", text.index("- id: EX29"))
    path = study_variant("  - id: PI03\n", "  - id: PI03\n")
    path.write_text(text[:at] + f"  text: {rewritten}" + text[at + len(f"  text: {original}") :])
    from protocol.study import load_study as load

    assert any(f.criteria == ("EX26", "EX29") for f in lint(load(path)))
