"""`trialbook registry-check`: exit codes and messages."""

from __future__ import annotations

from trialbook.cli import main


def test_the_projects_files_agree(capsys):
    assert main(["registry-check"]) == 0
    out = capsys.readouterr().out
    assert "schema valid" in out and "37 criteria agree" in out


def test_quiet_prints_nothing_when_all_agree(capsys):
    assert main(["registry-check", "--quiet"]) == 0
    assert capsys.readouterr().out == ""


def test_a_disagreement_exits_1_and_lists_it(study_variant, capsys):
    path = study_variant("value: 160 mg", "value: 200 mg")
    assert main(["registry-check", "--study", str(path)]) == 1
    err = capsys.readouterr().err
    assert "interventions[0].dose: study.yaml says 200 mg" in err


def test_a_malformed_study_exits_2_without_a_traceback(study_variant, capsys):
    path = study_variant("value: 160 mg", "value: 160 mgg")
    assert main(["registry-check", "--study", str(path)]) == 2
    err = capsys.readouterr().err
    assert "interventions[0].dose.value" in err and "Traceback" not in err


def test_an_unreadable_record_exits_2(tmp_path, capsys):
    bad = tmp_path / "record.json"
    bad.write_text("{not json")
    assert main(["registry-check", "--record", str(bad)]) == 2
    assert "cannot read the stored record" in capsys.readouterr().err


def test_no_command_is_a_usage_error(capsys):
    assert main([]) == 2
    assert main(["no-such-command"]) == 2
