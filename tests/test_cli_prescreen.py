"""`trialbook prescreen`: reading a site's table, refusing what must be refused, and writing the
worklist, screening log and flow diagram without overwriting anything (issue 15).

Tables are SYNTHETIC and written here; expected outcomes are worked out by hand from the rows.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pandas as pd
import pytest

from prescreen.columns import identifier_column, template_columns
from prescreen.outputs import EXCLUDED, LIKELY_ELIGIBLE, NEEDS_REVIEW, outcomes, worklist
from prescreen.run import prescreen
from prescreen.synthetic import candidates as synthetic
from protocol.errors import Problem, ProtocolDataError
from tests.conftest import REPO
from trialbook.cli import main

AS_OF = "2026-11-26"

# SYN-01 of the worked cases as a table row (screened on its own screening date)
ELIGIBLE = {
    "participant": "SYN-P01",
    "dates.birth": "1978-06-14",
    "dates.screening": "2025-03-03",
    "sex": "female",
    "childbearing_potential": "true",
    "pregnancy_test.result": "negative",
    "pregnancy_test.sample": "serum",
    "pregnancy_test.date": "2025-03-03",
    "breastfeeding": "false",
    "contraception_agreed": "true",
    "ssc.first_non_raynaud_manifestation": "2024-05-10",
    **{
        f"ssc.acr_eular.{item}": value
        for item, value in {
            "skin_thickening_proximal_to_mcp": "true",
            "puffy_fingers": "true",
            "sclerodactyly": "true",
            "digital_tip_ulcers": "false",
            "fingertip_pitting_scars": "false",
            "telangiectasia": "false",
            "abnormal_nailfold_capillaries": "true",
            "pah": "false",
            "ild": "false",
            "raynaud": "true",
            "anticentromere": "false",
            "anti_topoisomerase_i": "true",
            "anti_rna_polymerase_iii": "false",
            "skin_thickening_sparing_fingers": "false",
            "better_explained_by_other_disorder": "false",
        }.items()
    },
    **{
        f"ssc.mrss.areas.{area}": grade
        for area, grade in {
            "face": 1,
            "anterior_chest": 1,
            "abdomen": 1,
            "right_fingers": 2,
            "left_fingers": 2,
            "right_hand": 2,
            "left_hand": 2,
            "right_forearm": 2,
            "left_forearm": 2,
            "right_upper_arm": 1,
            "left_upper_arm": 1,
            "right_thigh": 1,
            "left_thigh": 1,
            "right_lower_leg": 1,
            "left_lower_leg": 1,
            "right_foot": 0,
            "left_foot": 0,
        }.items()
    },
    "history.renal_crisis": "false",
    "history.other_rheumatic_autoimmune_disease": "false",
    "history.environmental_ssc_like_illness": "false",
    "history.immunodeficiency": "false",
    "history.antibody_allergy": "false",
    "pah_risk": "none",
    "pulmonary.fvc_percent_predicted": "78",
    "pulmonary.dlco_percent_predicted": "61",
    "pulmonary.oxygen_therapy": "false",
    "labs.hemoglobin.value": "121",
    "labs.hemoglobin.unit": "g/L",
    "labs.wbc.value": "6.4",
    "labs.wbc.unit": "10^9/L",
    "labs.neutrophils.value": "4.1",
    "labs.neutrophils.unit": "10^9/L",
    "labs.platelets.value": "245",
    "labs.platelets.unit": "10^9/L",
    "labs.alt.value": "22",
    "labs.alt.unit": "U/L",
    "labs.alt.uln": "40",
    "labs.ast.value": "25",
    "labs.ast.unit": "U/L",
    "labs.ast.uln": "40",
    "labs.total_bilirubin.value": "11",
    "labs.total_bilirubin.unit": "umol/L",
    "labs.total_bilirubin.uln": "21",
    "labs.creatinine.value": "62",
    "labs.creatinine.unit": "umol/L",
    "labs.iga.value": "2.1",
    "labs.iga.unit": "g/L",
    "labs.igg.value": "12.5",
    "labs.igg.unit": "g/L",
    "infection_screening.hepatitis_b": "negative",
    "infection_screening.hepatitis_c": "negative",
    "infection_screening.tuberculosis": "negative",
    "infection_screening.hiv": "negative",
    "infection_screening.active_infection": "false",
}


def _table(tmp_path: Path, rows: list[dict], name: str = "candidates.csv") -> Path:
    path = tmp_path / name
    pd.DataFrame(rows).to_csv(path, index=False)
    return path


def _read(path: Path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def test_the_template_lists_every_column_and_nothing_identifying(capsys):
    assert main(["prescreen", "--template"]) == 0
    header = capsys.readouterr().out.strip().split(",")
    assert header == template_columns()
    assert header[0] == "participant"
    assert {"dates.birth", "labs.hemoglobin.value", "labs.hemoglobin.unit"} <= set(header)
    assert not any(p.startswith(("medications", "events", "attestations")) for p in header)
    assert "history.malignancies" not in header
    assert not any(identifier_column(column) for column in header)


def test_one_eligible_one_excluded_one_to_review(tmp_path, capsys):
    old = {**ELIGIBLE, "participant": "SYN-P02", "dates.birth": "1950-01-01"}  # 75: IN01 fails
    unknown = {k: v for k, v in ELIGIBLE.items() if not k.startswith("labs.igg")}
    unknown["participant"] = "SYN-P03"  # no IgG: EX22 open
    table = _table(tmp_path, [old, ELIGIBLE, unknown])
    out = tmp_path / "out"
    assert main(["prescreen", str(table), "--as-of", AS_OF, "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "excluded: 1" in printed and "likely eligible: 1" in printed
    assert "needs review: 1" in printed
    rows = _read(out / "worklist.csv")
    assert [r["Candidate"] for r in rows] == ["SYN-P01", "SYN-P03", "SYN-P02"]
    assert [r["Outcome"] for r in rows] == [LIKELY_ELIGIBLE, NEEDS_REVIEW, EXCLUDED]
    assert rows[2]["First excluding criterion"] == "IN01"
    assert rows[2]["Reason"].startswith("IN01: age 75 years at screening; 18-70 required")
    assert rows[1]["Criteria to review"] == "EX22"
    assert rows[1]["What is missing"] == "labs.igg.value"  # the table's own column
    log = _read(out / "screening-log.csv")
    assert [(r["Screening number"], r["Candidate"], r["Reason codes"]) for r in log] == [
        ("P00001", "SYN-P02", "IN01"),
        ("P00002", "SYN-P01", ""),
        ("P00003", "SYN-P03", "EX22"),
    ]
    assert {r["Date"] for r in log} == {AS_OF}
    svg = ET.fromstring((out / "flow.svg").read_text(encoding="utf-8"))
    texts = [t.text for t in svg.iter("{http://www.w3.org/2000/svg}text")]
    assert "Candidates in the table (n = 3)" in texts
    assert "Excluded (n = 1)" in texts and "IN01: 1" in texts
    assert "Likely eligible (n = 1)" in texts and "Needs review (n = 1)" in texts
    workbook = pd.read_excel(out / "worklist.xlsx")
    assert list(workbook["Candidate"]) == ["SYN-P01", "SYN-P03", "SYN-P02"]


@pytest.mark.parametrize(
    "column",
    [
        "name",
        "Patient Name",
        "phone",
        "mobile_phone",
        "id_card_number",
        "home address",
        "姓名",
        "身份证号",
    ],
)
def test_a_column_that_identifies_a_person_is_refused_before_anything_is_read(
    tmp_path, capsys, column
):
    table = _table(tmp_path, [{**ELIGIBLE, column: "x"}])
    assert main(["prescreen", str(table), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"column {column!r}" in err and "identifies a person" in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("cell", ["13812345678", "+86 13812345678", "11010519491231002X", "a@b.cn"])
def test_a_cell_that_is_an_identifier_is_refused_whatever_its_column(tmp_path, capsys, cell):
    table = _table(tmp_path, [{**ELIGIBLE, "participant": cell}])
    assert main(["prescreen", str(table), "--out", str(tmp_path / "out")]) == 2
    assert "looks like a phone number, an ID card number or an e-mail" in capsys.readouterr().err


def test_bad_cells_are_reported_by_row_and_column_and_the_rest_is_processed(tmp_path, capsys):
    rows = [
        ELIGIBLE,
        {**ELIGIBLE, "participant": "SYN-P02", "dates.birth": "14/06/1978"},
        {**ELIGIBLE, "participant": "SYN-P03", "labs.hemoglobin.value": "12,1"},
        {**ELIGIBLE, "participant": "SYN-P04", "labs.hemoglobin.unit": "g/furlong"},
        {**ELIGIBLE, "participant": "SYN-P05", "breastfeeding": "yes"},
    ]
    out = tmp_path / "out"
    assert (
        main(["prescreen", str(_table(tmp_path, rows)), "--as-of", AS_OF, "--out", str(out)]) == 0
    )
    err = capsys.readouterr().err
    # a birth date identifies a person: its cell is named, never its value
    assert "row 3, column 'dates.birth': (withheld: a birth date identifies a person)" in err
    assert "14/06/1978" not in err
    assert "row 4, column 'labs.hemoglobin.value': '12,1'" in err
    assert "row 5, column 'labs.hemoglobin.unit': 'g/furlong'" in err
    assert "row 6, column 'breastfeeding': 'yes': 'yes' is not true or false" in err
    problems = _read(out / "problems.csv")
    assert {p["Row"] for p in problems} == {"3", "4", "5", "6"}
    outcome = {r["Candidate"]: r["Outcome"] for r in _read(out / "worklist.csv")}
    assert outcome["SYN-P01"] == LIKELY_ELIGIBLE
    # an unreadable birth date is missing: the age is open; an unreadable haemoglobin too
    assert outcome["SYN-P02"] == NEEDS_REVIEW and outcome["SYN-P03"] == NEEDS_REVIEW
    # a unit the book cannot read: the lab is left out as an unreadable cell is (screen
    # refuses the record; the row is screened without it, and is never likely eligible)
    assert outcome["SYN-P04"] == NEEDS_REVIEW
    assert outcome["SYN-P05"] == NEEDS_REVIEW


def test_an_id_on_two_rows_leaves_both_unscreened(tmp_path, capsys):
    # which of the two rows is right is not known: neither is screened, the rest is
    rows = [
        ELIGIBLE,
        {**ELIGIBLE, "history.renal_crisis": "true"},
        {**ELIGIBLE, "participant": "SYN-P09"},
    ]
    out = tmp_path / "out"
    assert (
        main(["prescreen", str(_table(tmp_path, rows)), "--as-of", AS_OF, "--out", str(out)]) == 0
    )
    err = capsys.readouterr().err
    assert (
        "row 2, column 'participant': 'SYN-P01': a candidate ID used once; rows 2, 3 all have it"
        in err
    )
    assert "row 3, column 'participant'" in err
    outcome = {(r["Candidate"], r["Table row"]): r["Outcome"] for r in _read(out / "worklist.csv")}
    assert outcome[("SYN-P01", "2")].startswith("not screened")
    assert outcome[("SYN-P01", "3")].startswith("not screened")
    assert outcome[("SYN-P09", "4")] == LIKELY_ELIGIBLE


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("", "an empty file: a header row"),
        ("a,b\n1,2,\n", "row 2 = 3 fields: 2 fields, as the header has"),
        ("participant,sex,sex\nSYN-1,male,male\n", "column 'sex' = twice or more"),
        ("participant\n", "at least one candidate row"),
        ("participant,not_a_field\nSYN-1,1\n", "column 'not_a_field'"),
        ("dates.birth\n1978-01-01\n", "column 'participant'"),
    ],
)
def test_a_table_nothing_can_be_processed_from_exits_2(tmp_path, capsys, content, words):
    table = tmp_path / "t.csv"
    table.write_text(content, encoding="utf-8")
    assert main(["prescreen", str(table), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def test_every_row_refused_exits_2(tmp_path, capsys):
    # a value without its unit cannot be read at all: the row is not screened (a unit the book
    # cannot read leaves the lab out, the row screened; see above)
    rows = [{**ELIGIBLE, "labs.hemoglobin.unit": None}]
    assert main(["prescreen", str(_table(tmp_path, rows)), "--out", str(tmp_path / "o")]) == 2
    # one problem, one line: why no row can be screened, with the row and column
    [line] = capsys.readouterr().err.splitlines()
    assert line.startswith("error: ") and "no row can be screened: row 2, columns " in line


def test_a_mapping_renames_columns_and_gives_a_unit(tmp_path, capsys):
    row = {
        k: v
        for k, v in ELIGIBLE.items()
        if k not in ("labs.hemoglobin.value", "labs.hemoglobin.unit")
    }
    row["Hb"] = "12.1"  # g/dL, given once in the mapping
    row["ID"] = row.pop("participant")
    mapping = tmp_path / "map.yaml"
    mapping.write_text(
        "id_column: ID\ncolumns:\n  Hb: {field: labs.hemoglobin.value, unit: g/dL}\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    args = ["prescreen", str(_table(tmp_path, [row])), "--map", str(mapping), "--out", str(out)]
    assert main([*args, "--as-of", AS_OF]) == 0
    (result,) = _read(out / "worklist.csv")
    assert result["Outcome"] == LIKELY_ELIGIBLE and result["Candidate"] == "SYN-P01"


@pytest.mark.parametrize(
    ("mapping", "words"),
    [
        ("columns:\n  Hb: {field: labs.haemoglobin.value}\n", "not a field a candidate table"),
        ("columns:\n  Hb: {field: sex, unit: g/L}\n", "a unit belongs to a lab value"),
        ("columns:\n  Missing: {field: labs.hemoglobin.value}\n", "columns.Missing"),
        ("colums: {}\n", "unknown field"),
    ],
)
def test_a_bad_mapping_exits_2_naming_it(tmp_path, capsys, mapping, words):
    path = tmp_path / "map.yaml"
    path.write_text(mapping, encoding="utf-8")
    table = _table(tmp_path, [ELIGIBLE])
    assert main(["prescreen", str(table), "--map", str(path), "--out", str(tmp_path / "o")]) == 2
    assert words in capsys.readouterr().err


def test_nothing_is_overwritten_without_force_and_two_runs_are_identical(tmp_path, capsys):
    table = _table(tmp_path, synthetic(50, 3, dt.date(2026, 11, 26)).to_dict("records"))
    out = tmp_path / "out"
    args = ["prescreen", str(table), "--as-of", AS_OF, "--out", str(out)]
    assert main(args) == 0
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    assert set(first) == {
        "worklist.csv",
        "worklist.xlsx",
        "screening-log.csv",
        "flow.svg",
        "problems.csv",
    }
    (out / "flow.svg").write_text("kept", encoding="utf-8")
    assert main(args) == 2
    assert "not overwritten" in capsys.readouterr().err
    assert (out / "flow.svg").read_text(encoding="utf-8") == "kept"
    assert main([*args, "--force"]) == 0
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first


def test_no_progress_bar_when_the_output_is_not_a_terminal(tmp_path, capsys):
    table = _table(tmp_path, [ELIGIBLE])
    assert main(["prescreen", str(table), "--as-of", AS_OF, "--out", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err
    assert "criteria" not in err and "\r" not in err


def test_the_worklist_orders_review_by_fewest_missing_items():
    run = prescreen_frame(synthetic(300, 9, dt.date(2026, 11, 26)))
    ranked = worklist(outcomes(run.evaluation))
    order = {LIKELY_ELIGIBLE: 0, NEEDS_REVIEW: 1, EXCLUDED: 2}
    keys = [
        (order.get(o, 3), m if o == NEEDS_REVIEW else 0)
        for o, m in zip(ranked["outcome"], ranked["missing_count"], strict=True)
    ]
    assert keys == sorted(keys)


def prescreen_frame(frame: pd.DataFrame):
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "t.parquet"
        frame.to_parquet(path)
        return prescreen(path, as_of=dt.date(2026, 11, 26))


def test_the_book_chapters_mapping_file_is_valid():
    from prescreen.columns import load_mapping

    mapping = load_mapping(REPO / "book" / "screening" / "prescreen-mapping.yaml")
    assert mapping.id_column


def test_the_workbook_is_the_same_bytes_a_second_later():
    # openpyxl stamps the time of saving into the workbook: it is fixed, or two runs differ
    import time

    from prescreen.outputs import xlsx_bytes

    frame = pd.DataFrame({"Candidate": ["SYN-1"], "Outcome": ["excluded"]})
    first = xlsx_bytes(frame, "Worklist")
    time.sleep(1.1)
    assert xlsx_bytes(frame, "Worklist") == first


def test_the_cycle_collector_is_as_it_was_after_a_run_or_a_failure(tmp_path):
    # a run pauses Python's cycle collector (speed); it must never leave it paused, nor turn on
    # one a caller had turned off
    import gc

    from prescreen.run import prescreen
    from protocol.errors import ProtocolDataError

    good = _table(tmp_path, [ELIGIBLE])
    bad = _table(tmp_path, [{"no such column": 1}], name="bad.csv")
    assert gc.isenabled()
    prescreen(good)
    assert gc.isenabled()
    with pytest.raises(ProtocolDataError):
        prescreen(bad)
    assert gc.isenabled()
    gc.disable()
    try:
        prescreen(good)
        assert not gc.isenabled()
    finally:
        gc.enable()


# values the rules refuse, or at an edge, that whole-column arithmetic meets first (a review
# found numpy's "divide by zero" printed on stderr for a creatinine of 0)
_EDGE_VALUES = [
    {"labs.creatinine.value": "0"},
    {"labs.creatinine.value": "-0"},
    {"labs.creatinine.value": "-1"},
    {"labs.creatinine.value": "1e308"},
    {"labs.alt.uln": "0"},
    {"labs.alt.value": "0", "labs.alt.uln": "0"},
    {"labs.hemoglobin.value": "-5"},
    {"pulmonary.fvc_percent_predicted": "0"},
    {"ssc.mrss.total": "0"},
]


def _edge_rows() -> list[dict]:
    return [
        {**ELIGIBLE, **changes, "participant": f"SYN-E{k:02}"}
        for k, changes in enumerate([{}, *_EDGE_VALUES])
    ]


def test_values_at_the_edges_print_only_the_commands_own_lines(tmp_path):
    """stderr holds the command's own lines (warnings about cells, or one error line), never a
    library's warning, in a new process where Python shows warnings."""
    import subprocess
    import sys

    table = _table(tmp_path, _edge_rows())
    done = subprocess.run(
        [sys.executable, "-W", "default", "-m", "trialbook.cli", "prescreen", str(table),
         "--as-of", AS_OF, "--out", str(tmp_path / "out")],
        capture_output=True, text=True, cwd=REPO,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    assert all(line.startswith("warning: ") for line in lines), lines
    assert "Warning" not in done.stderr


def test_a_run_raises_no_warning_even_where_warnings_are_errors(tmp_path):
    import warnings

    table = _table(tmp_path, _edge_rows())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run = prescreen(table, as_of=dt.date(2026, 11, 26))
    assert sum(run.counts.values()) == len(_EDGE_VALUES) + 1


def test_a_librarys_warning_never_reaches_site_staff_but_debug_shows_it(tmp_path, monkeypatch):
    import warnings

    import prescreen.run

    def noisy(*args, **kwargs):
        warnings.warn("a library's notice", FutureWarning, stacklevel=1)
        raise ProtocolDataError("t.csv", [Problem("a readable table")])

    monkeypatch.setattr(prescreen.run, "_prescreen", noisy)
    table = _table(tmp_path, [ELIGIBLE])
    for argv, shown in (([], 0), (["--debug"], 1)):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert main(["prescreen", str(table), *argv]) == 2
        assert len(caught) == shown


@pytest.mark.parametrize("name", ["worklist.csv", "screening-log.csv", "problems.csv"])
def test_an_input_is_never_overwritten_even_with_force(tmp_path, capsys, name):
    # the candidate list saved under an output's name in the output folder: refused, kept
    table = _table(tmp_path, [ELIGIBLE], name)
    before = table.read_bytes()
    code = main(["prescreen", str(table), "--as-of", AS_OF, "--out", str(tmp_path), "--force"])
    assert code == 2
    err = capsys.readouterr().err
    assert "is the input" in err and err.count("\n") == 1
    assert table.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]  # nothing else written


def test_an_input_is_refused_before_the_table_is_read_and_again_as_files_are_written(
    tmp_path, capsys, monkeypatch
):
    from prescreen.outputs import write_outputs

    table = _table(tmp_path, [ELIGIBLE], "screening-log.csv")
    ran = []
    monkeypatch.setattr("prescreen.run.prescreen", lambda *a, **k: ran.append(a))
    args = ["prescreen", str(table), "--as-of", AS_OF, "--out", str(tmp_path), "--force"]
    assert main(args) == 2 and not ran
    assert "its screening-log.csv is the input" in capsys.readouterr().err
    # the writer refuses it too (a file that became the input between the check and the write)
    with pytest.raises(Exception, match="is the input"):
        write_outputs({"screening-log.csv": b"x"}, tmp_path, force=True, inputs=[table])
    assert table.read_text(encoding="utf-8").startswith("participant")


def test_an_empty_output_folder_name_is_refused(tmp_path, capsys):
    table = _table(tmp_path, [ELIGIBLE])
    assert main(["prescreen", str(table), "--as-of", AS_OF, "--out", ""]) == 2
    assert (
        capsys.readouterr().err
        == "error: trialbook prescreen: --out = '': expected a folder name\n"
    )


def test_the_mapping_is_never_overwritten_either(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    table = _table(tmp_path / "in", [ELIGIBLE])
    mapping = tmp_path / "problems.csv"  # a mapping saved under an output's name
    mapping.write_text("columns: {}\n", encoding="utf-8")
    args = ["prescreen", str(table), "--map", str(mapping), "--as-of", AS_OF]
    code = main([*args, "--out", str(tmp_path), "--force"])
    assert code == 2 and "is the input" in capsys.readouterr().err
    assert mapping.read_text(encoding="utf-8") == "columns: {}\n"


def test_an_output_folder_that_cannot_be_made_is_refused_before_the_table_is_read(
    tmp_path, capsys, monkeypatch
):
    import trialbook.cli as cli

    table = _table(tmp_path, [ELIGIBLE])
    read = []
    monkeypatch.setattr("prescreen.run.prescreen", lambda *a, **k: read.append(a))
    parent = tmp_path / "locked"
    parent.mkdir()
    real_access = os.access
    # a folder this user cannot write (root writes everywhere, so the refusal is simulated)
    monkeypatch.setattr(
        cli.os, "access", lambda p, m: False if Path(p) == parent else real_access(p, m)
    )
    code = main(["prescreen", str(table), "--as-of", AS_OF, "--out", str(parent / "new")])
    assert code == 2 and not read
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot be written" in err and "locked" in err


def test_an_output_folder_the_system_will_not_make_exits_2_not_4(tmp_path, capsys, monkeypatch):
    # /proc takes no new folder, whoever asks; the early check is told it can, so the folder
    # is refused when it is made, after the run
    monkeypatch.setattr("dosing.calendar.writable_folder", lambda folder: True)
    table = _table(tmp_path, [ELIGIBLE])
    code = main(["prescreen", str(table), "--as-of", AS_OF, "--out", "/proc/trialbook-test"])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and "cannot be made" in err and "nothing was written" in err


def test_the_progress_bar_redraws_on_a_terminal_with_real_carriage_returns(monkeypatch):
    import trialbook.cli as cli

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr(cli.sys, "stderr", cli._SafeStream(terminal))
    step = cli._progress_bar(3)
    for name in ("IN01", "IN02", "IN03"):
        step(name)
    step.close()
    shown = terminal.getvalue()
    assert "\r" in shown and "\\r" not in shown and "criteria" in shown


def test_a_failure_while_the_parser_is_built_is_one_line_not_a_traceback(monkeypatch, capsys):
    import trialbook.cli as cli

    def broken() -> None:
        raise PermissionError(13, "Permission denied", "/home/x/.cache/trialbook")

    monkeypatch.setattr(cli, "_build_parser", broken)
    assert main(["prescreen", "--template"]) == 4
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "internal error" in err and "Traceback" not in err

    def interrupted() -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_build_parser", interrupted)
    assert main(["screen", "x.yaml"]) == 130
    assert capsys.readouterr().err == "interrupted\n"


def test_an_unreadable_study_cache_is_read_past(tmp_path, monkeypatch):
    from protocol import study as study_module

    cache = tmp_path / "locked" / "study-x.pickle"

    def unreadable(self: Path) -> bool:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "is_file", unreadable)
    assert study_module._cached_study(cache) is None


def test_a_termination_while_writing_leaves_no_staged_file(tmp_path, monkeypatch):
    # SIGTERM after the first output is staged: the command stops (143, as a shell reports a
    # terminated command) and no temporary file is left beside the outputs
    import signal

    import dosing.calendar as writer

    table = _table(tmp_path, [ELIGIBLE])
    out = tmp_path / "out"
    staged = []
    real_stage = writer._stage

    def terminate_then_stage(target, data):
        if len(staged) == 1:  # the first output staged, a termination before the second
            os.kill(os.getpid(), signal.SIGTERM)
        staged.append(real_stage(target, data))
        return staged[-1]

    monkeypatch.setattr(writer, "_stage", terminate_then_stage)
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(SystemExit) as stopped:
        main(["prescreen", str(table), "--as-of", AS_OF, "--out", str(out)])
    assert stopped.value.code == 128 + signal.SIGTERM
    assert len(staged) == 1 and list(out.iterdir()) == []
    assert signal.getsignal(signal.SIGTERM) == before  # the handler is put back


def test_thousands_of_bad_columns_are_not_thousands_of_lines(tmp_path, capsys):
    from trialbook.cli import MAX_ERROR_LINES

    table = tmp_path / "wide.csv"
    names = ["participant", *(f"extra{i}" for i in range(500))]
    table.write_text(",".join(names) + "\n" + ",".join(["P1"] + ["1"] * 500) + "\n", "utf-8")
    assert main(["prescreen", str(table), "--as-of", AS_OF, "--out", str(tmp_path / "o")]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == MAX_ERROR_LINES + 1
    assert lines[-1].endswith(
        f"{500 - MAX_ERROR_LINES} more problems of the same input not shown; correct these first"
    )


@pytest.mark.parametrize("name", ["flow.svg", "worklist.csv", "worklist.xlsx"])
def test_an_output_linked_to_the_study_in_use_is_refused_even_with_force(
    tmp_path, capsys, monkeypatch, name
):
    """An output's name in the folder is a link to the study (the default one, not given with
    --study) or to the registry record: refused before the table is read, and by the writer,
    with the linked file kept. The project's files stand in as copies here."""
    from prescreen.outputs import write_outputs

    kept = tmp_path / "study.yaml"
    kept.write_text("kept\n", encoding="utf-8")
    monkeypatch.setattr("dosing.calendar.protected_files", lambda: (kept,))
    table = _table(tmp_path, [ELIGIBLE])
    out = tmp_path / "out"
    out.mkdir()
    (out / name).symlink_to(kept)
    code = main(["prescreen", str(table), "--as-of", AS_OF, "--out", str(out), "--force"])
    err = capsys.readouterr().err
    assert code == 2 and "source of truth" in err and err.count("\n") == 1
    with pytest.raises(Exception, match="source of truth"):
        write_outputs({name: b"x"}, out, force=True)
    assert kept.read_text(encoding="utf-8") == "kept\n"
    assert sorted(p.name for p in out.iterdir()) == [name]


@pytest.mark.parametrize(
    "beside, named",
    [
        (["some.csv"], "TABLE"),
        (["--out", "folder"], "--out"),
        (["--map", "m.yaml"], "--map"),
        (["--as-of", "2026-11-26"], "--as-of"),
        (["--force"], "--force"),
        (["--study", "study.yaml"], "--study"),
        (["--out", "folder", "some.csv"], "TABLE, --out"),
    ],
)
def test_the_template_is_printed_on_its_own(tmp_path, capsys, monkeypatch, beside, named):
    # an option beside --template would be silently unused: nothing read, nothing written
    monkeypatch.chdir(tmp_path)
    assert main(["prescreen", "--template", *beside]) == 2
    captured = capsys.readouterr()
    assert not captured.out and captured.err.count("\n") == 1
    assert f"--template with {named}:" in captured.err
    assert list(tmp_path.iterdir()) == []


def test_an_empty_mapping_name_is_refused_not_taken_for_no_mapping(tmp_path, capsys):
    table = _table(tmp_path, [ELIGIBLE])
    code = main(
        ["prescreen", str(table), "--map", "", "--as-of", AS_OF, "--out", str(tmp_path / "o")]
    )
    assert code == 2
    assert capsys.readouterr().err == (
        "error: trialbook prescreen: --map = '': expected a mapping file\n"
    )
    assert not (tmp_path / "o").exists()


def test_a_dash_for_the_output_folder_is_refused(tmp_path, monkeypatch, capsys):
    # "--out -" made a folder named "-" and wrote the files into it ("wrote -/worklist.csv")
    monkeypatch.chdir(tmp_path)
    table = _table(tmp_path, [ELIGIBLE])
    assert main(["prescreen", str(table), "--out", "-", "--as-of", AS_OF]) == 2
    assert not (tmp_path / "-").exists()
    assert "--out = '-'" in capsys.readouterr().err
    (tmp_path / "-").mkdir()  # export: not even into a folder so named
    assert main(["export", "--out", "-"]) == 2
    assert list((tmp_path / "-").iterdir()) == []


def test_an_empty_unit_column_leaves_the_unit_to_the_mapping(tmp_path, capsys):
    """A table begun from --template keeps every column: an empty unit column beside a
    mapping's unit is no second unit (a hostile tester found the table refused)."""
    row = {**ELIGIBLE, "labs.hemoglobin.unit": None}  # 121, in g/L by the mapping
    assert ELIGIBLE["labs.hemoglobin.value"] == "121" and ELIGIBLE["labs.hemoglobin.unit"] == "g/L"
    mapped = "columns:\n  labs.hemoglobin.value: {field: labs.hemoglobin.value, unit: g/L}\n"
    assert _mapped_run(tmp_path, row, mapped)["Outcome"] == LIKELY_ELIGIBLE
    # the same mapping in g/dL reads 121 g/dL, beyond what is plausible: the unit is applied
    capsys.readouterr()
    result = _mapped_run(tmp_path, row, mapped.replace("g/L", "g/dL"))
    assert result["Outcome"] == NEEDS_REVIEW
    assert "the value 121 g/dL is implausible" in capsys.readouterr().err


def test_a_unit_in_the_mapping_and_in_the_column_names_the_mapping_entry(tmp_path, capsys):
    mapping = tmp_path / "map.yaml"
    mapping.write_text(
        "columns:\n  labs.hemoglobin.value: {field: labs.hemoglobin.value, unit: g/L}\n",
        encoding="utf-8",
    )
    table = _table(tmp_path, [ELIGIBLE])  # its unit column holds g/dL
    assert main(["prescreen", str(table), "--map", str(mapping), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"error: {mapping}: columns.labs.hemoglobin.value.unit = 'g/L': ")
    assert "'labs.hemoglobin.unit'" in err and not (tmp_path / "o").exists()


def test_a_mapped_column_the_table_lacks_names_the_mapping_and_the_table(tmp_path, capsys):
    mapping = tmp_path / "map.yaml"
    mapping.write_text("columns:\n  Missing: {field: labs.hemoglobin.value}\n", encoding="utf-8")
    table = _table(tmp_path, [ELIGIBLE])
    assert main(["prescreen", str(table), "--map", str(mapping), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {mapping}: columns.Missing = no such column: ")
    assert str(table) in err


def test_a_lab_the_table_lacks_is_asked_for_by_its_value_column(tmp_path, capsys):
    """What is missing names the column a site fills in: a lab's value column (the template's
    name where the table has none), never the lab's group name nor its unit's column (a
    hostile tester saw a unit column, mapped alone, named as what was missing)."""
    row = {k: v for k, v in ELIGIBLE.items() if not k.startswith(("labs.iga", "labs.hemoglobin"))}
    row["HB unit"] = "g/L"  # the haemoglobin's unit column alone, mapped
    result = _mapped_run(tmp_path, row, "columns:\n  HB unit: {field: labs.hemoglobin.unit}\n")
    assert result["Outcome"] == NEEDS_REVIEW
    assert result["What is missing"].split("; ") == ["labs.iga.value", "labs.hemoglobin.value"]
    assert result["Missing items"] == "2"


def _mapped_run(tmp_path: Path, row: dict, mapping_text: str) -> dict:
    """One row pre-screened through a mapping (outputs replaced): its worklist line."""
    mapping = tmp_path / "map.yaml"
    mapping.write_text(mapping_text, encoding="utf-8")
    out = tmp_path / "out"
    table = _table(tmp_path, [row])
    args = ["prescreen", str(table), "--map", str(mapping), "--out", str(out), "--as-of", AS_OF]
    assert main([*args, "--force"]) == 0
    (result,) = _read(out / "worklist.csv")
    return result


def test_a_mapping_file_is_at_most_64_kib(tmp_path, capsys):
    """A mapping names at most every field once: a larger file is refused before it is parsed
    (25,000 entries took 13 s to refuse). A mapping padded with comments to the limit is read."""
    table = _table(tmp_path, [ELIGIBLE])
    mapping = tmp_path / "map.yaml"
    entry = "columns:\n  labs.hemoglobin.value: {field: labs.hemoglobin.value}\n"
    padding = "# a site's note\n" * ((64 * 1024 - len(entry)) // 16)
    mapping.write_text(entry + padding + "#" * (64 * 1024 - len(entry) - len(padding) - 1) + "\n")
    assert mapping.stat().st_size == 64 * 1024
    out = tmp_path / "out"
    assert main(["prescreen", str(table), "--map", str(mapping), "--out", str(out)]) == 0
    mapping.write_text(mapping.read_text() + "\n")  # one byte more
    capsys.readouterr()
    assert main(["prescreen", str(table), "--map", str(mapping), "--out", str(out), "--force"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(mapping) in err and "65536" in err


def test_two_columns_mapped_to_one_field_are_refused(tmp_path, capsys):
    row = {**ELIGIBLE, "Gender": "female", "Sex2": "female"}
    del row["sex"]
    mapping = tmp_path / "map.yaml"
    mapping.write_text("columns:\n  Gender: {field: sex}\n  Sex2: {field: sex}\n")
    table = _table(tmp_path, [row])
    assert main(["prescreen", str(table), "--map", str(mapping), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err == f"error: {mapping}: columns = two columns for 'sex': one column per field\n"


def test_a_unit_column_empty_but_for_a_repeated_header_leaves_the_unit_to_the_mapping(
    tmp_path, capsys
):
    table = tmp_path / "candidates.csv"
    header = "participant,hb,labs.hemoglobin.unit"
    table.write_text(f"{header}\nSYN-1,121,\n{header}\nSYN-2,110,\n")
    mapping = tmp_path / "map.yaml"
    mapping.write_text("columns:\n  hb: {field: labs.hemoglobin.value, unit: g/L}\n")
    out = tmp_path / "out"
    args = ["prescreen", str(table), "--map", str(mapping), "--out", str(out), "--as-of", AS_OF]
    assert main(args) == 0


@pytest.mark.parametrize("columns_kept", ["both empty", "neither column"])
def test_a_missing_egfr_names_the_creatinine_that_would_complete_it_as_well(
    tmp_path, capsys, columns_kept
):
    """EX24 is completed by a reported eGFR or by the creatinine it is computed from: with
    neither, both are asked for (only the eGFR was named), as `screen` names both."""
    row = {k: v for k, v in ELIGIBLE.items() if not k.startswith("labs.creatinine")}
    if columns_kept == "both empty":
        row |= {"labs.creatinine.value": "", "labs.creatinine.unit": "", "labs.egfr.value": ""}
    out = tmp_path / "out"
    table = _table(tmp_path, [row])
    assert main(["prescreen", str(table), "--out", str(out), "--as-of", AS_OF]) == 0
    (result,) = _read(out / "worklist.csv")
    assert result["Outcome"] == NEEDS_REVIEW
    assert result["What is missing"] == "labs.egfr.value or labs.creatinine.value"
    assert result["Missing items"] == "1"


@pytest.mark.parametrize("made", ["file", "nothing"])
def test_an_out_folder_under_a_file_or_nothing_is_named_for_what_it_is(tmp_path, capsys, made):
    # "--out afile/sub" said "its folder 'afile' does not exist" where afile is a file
    parent = tmp_path / "afile"
    if made == "file":
        parent.write_text("kept\n", encoding="utf-8")
    table = _table(tmp_path, [ELIGIBLE])
    assert main(["prescreen", str(table), "--as-of", AS_OF, "--out", str(parent / "sub")]) == 2
    err = capsys.readouterr().err
    said = "is not a folder" if made == "file" else "does not exist"
    assert f"its folder {str(parent)!r} {said}" in err
    if made == "file":
        assert parent.read_text(encoding="utf-8") == "kept\n"
