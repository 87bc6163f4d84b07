"""`trialbook washout`: exit codes 0 / 1 / 3 / 2 and the JSON."""

from __future__ import annotations

import contextlib
import io
import json
import re
from datetime import date, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


_EDGE_MEDICINES = ["methotrexate", "cyclophosphamide", "IVIG", "rituximab", "anakinra"]
_EDGE_EVENTS = ["live_vaccine", "oral_antibiotics", "planned_major_surgery", "major_surgery"]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    planned=st.dates(date(1900, 1, 1), date(1900, 6, 30))
    | st.dates(date(2100, 6, 1), date(2100, 12, 31)),
    screening_before=st.one_of(st.none(), st.integers(0, 28)),
    medicines=st.lists(
        st.tuples(st.sampled_from(_EDGE_MEDICINES), st.one_of(st.none(), st.integers(0, 200))),
        max_size=2,
    ),
    events=st.lists(st.tuples(st.sampled_from(_EDGE_EVENTS), st.integers(-200, 400)), max_size=2),
)
def test_no_answer_prints_a_date_outside_1900_to_2100(
    tmp_path_factory, planned, screening_before, medicines, events
):
    """The README: a window or date the answer would print outside 1900-2100 is refused (exit
    2). An ongoing course on a planned date of 2100-12-31 had printed "it would clear on
    2101-01-29" with exit 1. Any input near either end: refused, or every date printed lies
    within those years."""
    screening = None if screening_before is None else planned - timedelta(screening_before)
    data: dict = {"planned_randomization": planned.isoformat()}
    if screening is not None and screening.year >= 1900:
        data["screening"] = screening.isoformat()
    data["medications"] = [
        {"name": name, "ongoing": True}
        if before is None
        else {
            "name": name,
            "last_dose": max(planned - timedelta(before), date(1900, 1, 1)).isoformat(),
        }
        for name, before in medicines
    ]
    data["events"] = []
    for kind, offset in events:
        day = planned + timedelta(offset)
        if kind != "planned_major_surgery":
            day = min(day, planned)  # a past event: on or before the planned date
        if date(1900, 1, 1) <= day <= date(2100, 12, 31):
            data["events"].append({"kind": kind, "date": day.isoformat()})
    path = tmp_path_factory.mktemp("edge") / "input.yaml"
    path.write_text(json.dumps(data))
    for form in ([], ["--json"]):
        out, err = io.StringIO(), io.StringIO()
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["washout", str(path), *form])
        assert code in (0, 1, 2, 3), err.getvalue()
        if code == 2:
            assert "expected" in err.getvalue()
            continue
        years = {int(year) for year in re.findall(r"\b(\d{4})-\d{2}-\d{2}\b", out.getvalue())}
        assert all(1900 <= year <= 2100 for year in years), out.getvalue()


@pytest.mark.parametrize(
    "lists",
    [
        "",
        "medications: []\n",
        "events: []\n",
        "medications: []\nevents: []\n",
        "medications:\n  - {name: methotrexate, last_dose: 2025-03-01}\n",
        "events:\n  - {kind: live_vaccine, date: 2025-03-01}\n",
    ],
)
def test_a_list_left_out_is_named_as_not_checked_and_the_verdict_is_of_the_entries_given(
    tmp_path, capsys, lists
):
    # a file without an events list said "allowed" with no word that vaccines, infections,
    # surgery and investigational drugs were never asked about
    head = "planned_randomization: 2025-03-17\nscreening: 2025-03-03\n"
    complete = lists + "".join(
        f"{key}: []\n" for key in ("medications", "events") if key not in lists
    )
    code = main(["washout", _write(tmp_path, head + lists)])
    out = capsys.readouterr().out
    path = tmp_path / "complete.yaml"
    path.write_text(head + complete)
    assert code == main(["washout", str(path)])  # the verdict of the entries given
    full = capsys.readouterr().out
    assert "Not checked" not in full
    left_out = [key for key in ("medications", "events") if f"{key}:" not in lists]
    for key in ("medications", "events"):
        said = f"as the file has no {key} list (write {key}: [] to say there are none)"
        assert (said in out) == (key in left_out)
    assert out.startswith(full)  # the answer itself unchanged, the lines after it
    main(["washout", _write(tmp_path, head + lists), "--json"])
    assert json.loads(capsys.readouterr().out)["lists_left_out"] == left_out
