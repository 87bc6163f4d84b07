"""`trialbook washout`: exit codes 0 / 1 / 3 / 2 and the JSON."""

from __future__ import annotations

import json

import pytest

from tests.conftest import REPO
from trialbook.cli import main

pytestmark = pytest.mark.traces("medication_classes", "exposure_events")

EXAMPLE = REPO / "examples" / "washout-synthetic.yaml"


def _write(tmp_path, text):
    path = tmp_path / "input.yaml"
    path.write_text(text)
    return str(path)


def test_the_example_fails_on_its_planned_date_and_passes_on_the_earliest(capsys):
    assert main(["washout", str(EXAMPLE)]) == 1
    out = capsys.readouterr().out
    assert "Earliest randomization: 2025-03-21" in out
    assert main(["washout", str(EXAMPLE), "--randomization", "2025-03-21"]) == 0


def test_json_fields(capsys):
    main(["washout", str(EXAMPLE), "--json"])
    result = json.loads(capsys.readouterr().out)
    assert result["planned_randomization"] == "2025-03-17"
    assert result["earliest_randomization"] == "2025-03-21"
    for entry in result["entries"]:
        for key in (
            "name",
            "matched",
            "criterion",
            "window",
            "anchor",
            "clears_on",
            "status",
            "reason",
        ):
            assert key in entry
    vaccine = result["entries"][-1]
    assert vaccine["criterion"] == "EX26/EX29" and vaccine["clears_on"] == "2025-03-21"


def test_never_is_null(tmp_path, capsys):
    path = _write(
        tmp_path,
        "planned_randomization: 2025-03-17\nmedications:\n"
        "  - {name: Rituxan, last_dose: 2019-05-01}\n",
    )
    assert main(["washout", path, "--json"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["earliest_randomization"] is None and result["never"] is True


def test_unknown_and_nothing_failing_exits_3(tmp_path):
    path = _write(
        tmp_path,
        "planned_randomization: 2025-03-17\nmedications:\n  - {name: aspirin, ongoing: true}\n",
    )
    assert main(["washout", path]) == 3


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        (
            "planned_randomization: 2025-03-17\nmedications:\n"
            "  - {name: mtx, last_dose: 2025-13-01}\n",
            "medications[0] (mtx).last_dose",
        ),
        (
            "planned_randomization: 2025-03-17\nevents:\n  - {kind: tattoo, date: 2025-01-01}\n",
            "events[0] (tattoo).kind",
        ),
        ("planned_randomization: [\n", "not valid YAML"),
    ],
)
def test_bad_input_exits_2_naming_the_entry(tmp_path, capsys, text, fragment):
    assert main(["washout", _write(tmp_path, text)]) == 2
    err = capsys.readouterr().err
    assert fragment in err and "Traceback" not in err


def test_a_bad_randomization_option_or_missing_file_exits_2(tmp_path, capsys):
    assert main(["washout", str(EXAMPLE), "--randomization", "17/03/2025"]) == 2
    assert main(["washout", str(tmp_path / "absent.yaml")]) == 2
    assert "cannot read the file" in capsys.readouterr().err
