"""`trialbook calendar`."""

from __future__ import annotations

import pytest

from trialbook.cli import main

pytestmark = pytest.mark.traces("interventions", "visit_schedule")


def test_table_on_screen(capsys):
    assert main(["calendar", "--arm", "MMF + telitacicept", "--randomization", "2025-03-17"]) == 0
    out = capsys.readouterr().out
    assert "Telitacicept 160 mg x 48 (2025-03-17 to 2026-02-09)" in out
    assert "ASSUMPTION" in out and "Week 4" in out


def test_files_are_written_and_not_overwritten(tmp_path, capsys):
    csv_path, ics_path = tmp_path / "c.csv", tmp_path / "c.ics"
    argv = [
        "calendar",
        "--arm",
        "mmf",
        "--randomization",
        "2024-02-29",
        "--csv",
        str(csv_path),
        "--ics",
        str(ics_path),
    ]
    assert main(argv) == 0 and csv_path.exists() and ics_path.exists()
    ics_path.write_text("keep me")
    csv_before = csv_path.read_text()
    csv_path.unlink()
    assert main(argv) == 2  # the .ics exists: nothing is written, not even the .csv
    assert not csv_path.exists() and ics_path.read_text() == "keep me"
    assert "--force" in capsys.readouterr().err
    assert main([*argv, "--force"]) == 0 and csv_path.read_text() == csv_before


def test_bad_input(capsys):
    assert main(["calendar", "--arm", "placebo", "--randomization", "2025-03-17"]) == 2
    assert "expected one of: telitacicept_mmf" in capsys.readouterr().err
    assert main(["calendar", "--arm", "mmf", "--randomization", "2025-02-30"]) == 2
    assert "not a date" in capsys.readouterr().err
    assert main(["calendar", "--arm", "mmf"]) == 2
