"""Defects a fourth round of hostile testing found, each with the class it belongs to:

- a candidate's or participant's code of letters alone (``Maria``, ``ZhangWei``) was accepted
  as pseudonymous and copied into every file: a code must hold a digit (a screening number
  does; a name or initials do not), in ``screen``, ``calendar`` and ``prescreen`` alike;
- headers that name a hospital's numbers or a name in pinyin were not refused;
- a withheld value was taken out of a message's own words too ("such as 7(withheld)5");
- ``--force`` replaced a read-only file (the shared registry record, mode 0444) when run by
  the administrator's account, which the operating system lets write anything;
- two rules of the rescreening check that no test held (a hand-rolled mutation run).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
from pathlib import Path

import pandas as pd
import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from prescreen.columns import WITHHELD_ID, Mapping, identifier_column
from prescreen.table import read_candidates
from protocol.documents import taken_out, withheld_from
from protocol.errors import LabInputError
from protocol.identifiers import CODE_PATTERN, date_shaped_id, identifying_text
from protocol.labs import check_lab
from protocol.participant import ParticipantRecord
from protocol.screening import screen
from trialbook.cli import main

REPO = Path(__file__).resolve().parents[1]
CASE01 = REPO / "book/cases/case01-eligible.yaml"
CASE02 = REPO / "book/cases/case02-eligible-male-aged-70.yaml"
AS_OF = dt.date(2025, 3, 3)

# -- a word of letters in lower or mixed case is no code -----------------------------------

OLD_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_.\-]{0,39}"


@settings(max_examples=300, deadline=None)
@given(st.from_regex(OLD_PATTERN, fullmatch=True))
@example("ON")  # a yes/no answer in capitals (the CI's run found it)
@example("NA1")  # a code: a digit beside the letters
def test_a_participant_code_is_accepted_exactly_when_it_is_no_word_in_lower_case(code):
    # the rule written independently: the characters as before, and a code without a digit
    # only in capitals (letters joined by separators too: Zhang-Wei, J.Smith are names)
    identifying = identifying_text(code) or date_shaped_id(code)
    try:
        ParticipantRecord.model_validate({"participant": code})
        accepted = True
    except ValidationError:
        accepted = False
    has_digit = any(c.isdigit() for c in code)
    capitals = all(not c.isalpha() or c.isupper() for c in code)
    # a text a spreadsheet writes for no value, or a yes/no answer, in the code's place
    stands_for_none = code.lower() in {
        *("na", "n.a.", "nan", "nat", "none", "null", "nil", "true", "false"),
        *("yes", "no", "on", "off", "undefined", "missing", "unknown", "empty", "blank"),
    }
    assert accepted == ((has_digit or capitals) and not identifying and not stands_for_none)


@pytest.mark.parametrize(
    "code",
    ["Maria", "ZhangWei", "WangFang", "maria", "Li", "Jd", "a", "Zhang-Wei", "wang_fang",
     "J.Smith", "Mary-Jane", "li.na", "a.b_c", "SYN-b"],
)  # fmt: skip
def test_a_code_of_letters_alone_is_refused_in_the_record_and_never_shown(tmp_path, capsys, code):
    data = yaml.safe_load(CASE01.read_text(encoding="utf-8"))
    data["participant"] = code
    path = tmp_path / "r.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert main(["screen", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "participant" in err and "only in capitals" in err
    assert "= (withheld)" in err and f"'{code}'" not in err and f" {code}:" not in err


@pytest.mark.parametrize(
    "code",
    ["SYN-01", "1", "A1", "P00012", "site3.cand-7", "SYN-B", "JD", "A", "TEST", "syn-7", "A.B_C"],
)
def test_a_code_with_a_digit_is_read(tmp_path, code):
    data = yaml.safe_load(CASE01.read_text(encoding="utf-8"))
    data["participant"] = code
    assert ParticipantRecord.model_validate(data).participant == code


@pytest.mark.parametrize("code", ["Maria", "ZhangWei", "li", "Zhang-Wei"])
def test_calendar_refuses_a_code_of_letters_alone_and_never_shows_it(capsys, code):
    args = ["calendar", "--arm", "mmf", "--randomization", "2025-03-17", "--participant", code]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "only in capitals" in err and "= (withheld)" in err and f"'{code}'" not in err


def test_the_schema_carries_the_pattern():
    schema = ParticipantRecord.model_json_schema()["properties"]["participant"]
    assert schema["pattern"] == CODE_PATTERN
    assert re.fullmatch(CODE_PATTERN, "SYN-01") and re.fullmatch(CODE_PATTERN, "SYN-AB")
    assert not re.fullmatch(CODE_PATTERN, "Maria") and re.fullmatch(CODE_PATTERN, "MARIA")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    # words with a lower-case letter, alone or joined by a separator: a name's shape (Maria,
    # Zhang-Wei, J.Smith, wang_fang)
    st.lists(
        st.from_regex(r"([A-Za-z]{1,5}[._-])?[A-Za-z]{0,5}[a-z][A-Za-z]{0,6}", fullmatch=True),
        min_size=1,
        max_size=4,
    ),
    st.lists(st.from_regex(r"[A-Za-z]{0,3}[0-9]{1,5}", fullmatch=True), max_size=4),
)
def test_prescreen_withholds_every_id_that_is_a_word_in_lower_or_mixed_case(names, codes):
    from protocol.identifiers import PLACEHOLDER_CODES

    names = [n for n in names if n.lower() not in PLACEHOLDER_CODES] or ["Maria"]
    codes = list(dict.fromkeys(c.upper() for c in codes))
    frame = pd.DataFrame({"participant": [*names, *codes]}).astype(object)
    frame["sex"] = "female"
    table = read_candidates(frame, Mapping(), "synthetic", AS_OF)
    assert table.refused.tolist()[: len(names)] == [True] * len(names)
    for name in names:
        assert name not in table.ids
    found = {p.found for p in table.problems if p.row - 2 < len(names)}
    assert found <= {WITHHELD_ID} | {repr(c) for c in codes}
    assert not any(table.refused.tolist()[len(names) :])


def test_the_testers_name_column_chosen_as_the_ids_writes_no_name(tmp_path):
    table = tmp_path / "t.csv"
    pd.DataFrame({"Nombre": ["Maria", "C2"], "sex": ["female", "female"]}).to_csv(
        table, index=False
    )
    mapping = tmp_path / "m.yaml"
    mapping.write_text("id_column: Nombre\n", encoding="utf-8")
    out = tmp_path / "out"
    args = ["prescreen", str(table), "--map", str(mapping), "--as-of", "2025-03-03"]
    assert main([*args, "--out", str(out)]) == 0
    for name in os.listdir(out):
        assert b"Maria" not in (out / name).read_bytes()


@pytest.mark.parametrize(
    "header",
    ["pinyin", "Pinyin", "拼音", "姓名拼音", "Patientennummer", "Fallnummer", "HN", "NHC",
     "cedula", "Cédula", "historia clinica", "Historia Clínica", "Nº historia clínica"],
)  # fmt: skip
def test_a_hospitals_numbers_and_a_name_in_pinyin_are_identifying_headers(header):
    assert identifier_column(header)


@pytest.mark.parametrize(
    "header", ["hn_ratio", "labs.hemoglobin.value", "Nombre de plaquettes", "nhc_score"]
)
def test_the_new_words_leave_other_headers_alone(header):
    assert not identifier_column(header)


# -- a withheld value is taken out of the value's place only --------------------------------


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=8))
def test_a_withheld_text_is_taken_out_where_it_is_quoted_and_nowhere_else(value):
    words = (
        " is not a decimal number; expected digits with at most one decimal point, such as 7.5, "
        "in a unit such as g/L or 10^9/L"
    )
    message = f"{value!r}{words}"
    assert withheld_from(message, value) == f"(withheld){words}"


@pytest.mark.parametrize(
    "value, message, expected",
    [
        (13800138000, "the value 13800138000 g/L is implausible", "the value (withheld) g/L"),
        ("138-1234-5678", "'138-1234-5678' is not a number", "(withheld) is not a number"),
        ("A123456789", "the value A123456789 is not a code", "the value (withheld) is not a code"),
        (
            "1980-01-01 00:00:00+00:00",
            "1980-01-01 00:00:00+00:00 has a time zone",
            "(withheld) has a time zone",
        ),
        ("7.5, in", "such as 7.5, in a unit", "such as 7.5, in a unit"),
        # found by the property test above: a unit of the message's own words is no number
        (
            "10^9/L",
            "'10^9/L' is not a number, such as 10^9/L",
            "(withheld) is not a number, such as 10^9/L",
        ),
        ("1978-06-14", "born 1978-06-14.", "born (withheld)."),
    ],
)
def test_a_withheld_number_is_taken_out_where_it_stands_alone(value, message, expected):
    assert withheld_from(message, value).startswith(expected)


def test_a_point_withheld_leaves_the_example_whole(tmp_path):
    # the tester's cell: "." for a haemoglobin value
    table = tmp_path / "t.csv"
    table.write_text(
        "participant,labs.hemoglobin.value,labs.hemoglobin.unit\nC1,.,g/L\n", encoding="utf-8"
    )
    out = tmp_path / "out"
    assert main(["prescreen", str(table), "--as-of", "2025-03-03", "--out", str(out)]) == 0
    problems = (out / "problems.csv").read_text(encoding="utf-8-sig")
    assert "(withheld)5" not in problems and "7(withheld)" not in problems
    assert "7.5" in problems


def test_taken_out_never_touches_a_short_bare_word():
    assert taken_out("'a' is no unit; a unit such as g/L", {"a"}) == (
        "(withheld) is no unit; a unit such as g/L"
    )


# -- --force never replaces a read-only file ------------------------------------------------


def _read_only(path: Path) -> None:
    path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)


def test_calendar_force_leaves_a_read_only_file_as_it_was(tmp_path, capsys):
    kept = tmp_path / "record.txt"
    kept.write_text("a primary source\n", encoding="utf-8")
    _read_only(kept)
    args = ["calendar", "--arm", "mmf", "--randomization", "2025-03-17", "--participant", "S1"]
    assert main([*args, "--ics", str(kept), "--force"]) == 2
    assert kept.read_text(encoding="utf-8") == "a primary source\n"
    assert "read-only" in capsys.readouterr().err
    writable = tmp_path / "old.ics"
    writable.write_text("old\n", encoding="utf-8")
    assert main([*args, "--ics", str(writable), "--force"]) == 0  # a writable one is replaced
    assert writable.read_text(encoding="utf-8").startswith("BEGIN:VCALENDAR")


def test_a_read_only_folder_is_not_written_in(tmp_path, capsys):
    folder = tmp_path / "kept"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP)
    try:
        args = ["calendar", "--arm", "mmf", "--randomization", "2025-03-17"]
        assert main([*args, "--csv", str(folder / "c.csv")]) == 2
        assert os.listdir(folder) == []
        assert "not writable" in capsys.readouterr().err
    finally:
        folder.chmod(stat.S_IRWXU)


def test_prescreen_force_leaves_a_read_only_output_as_it_was(tmp_path):
    table = tmp_path / "t.csv"
    table.write_text("participant,sex\nC1,female\n", encoding="utf-8")
    out = tmp_path / "out"
    run = ["prescreen", str(table), "--as-of", "2025-03-03", "--out", str(out)]
    assert main(run) == 0
    log = out / "screening-log.csv"
    before = log.read_bytes()
    _read_only(log)
    assert main([*run, "--force"]) == 2
    assert log.read_bytes() == before


# -- the rescreening rule at its edges (mutants that survived) -------------------------------


def _screened(path: Path, change) -> object:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    return screen(ParticipantRecord.model_validate(data))


@pytest.mark.parametrize(
    "days_after_screening, verdict", [(27, "not_eligible"), (28, "not_eligible")]
)
def test_a_dose_on_the_last_day_the_schedule_reaches_leaves_no_date(days_after_screening, verdict):
    # screening 2025-03-03, no planned randomization: the schedule randomizes by day 28 after
    # it, and a methotrexate dose on that day (or the day before) leaves no date its window
    # clears within reach. Read as "any later date" (the reach dropped at the last day), EX09
    # was left open
    last_dose = dt.date(2025, 3, 3) + dt.timedelta(days=days_after_screening)

    def change(data):
        del data["dates"]["planned_randomization"]
        data["medications"][0]["last_dose"] = last_dose

    result = _screened(CASE01, change)
    assert result.verdict == verdict
    assert [c.id for c in result.criteria if c.status == "fail"] == ["EX09"]


@pytest.mark.parametrize(
    "planned, verdict",
    [(dt.date(2025, 3, 17), "eligible"), (dt.date(2025, 5, 1), "incomplete")],
)
def test_without_a_screening_date_a_far_randomization_keeps_the_verdict_open(planned, verdict):
    # a man of 55 whose every criterion is decided without the screening date: a planned
    # randomization so far after his last recorded date that the screening could be more than
    # 28 days before it cannot be eligible (it had been, every criterion passing)
    def change(data):
        del data["dates"]["screening"]
        data["dates"]["birth"] = dt.date(1970, 1, 1)
        data["dates"]["planned_randomization"] = planned

    result = _screened(CASE02, change)
    assert all(c.status == "pass" for c in result.criteria)
    assert result.verdict == verdict
    assert any("28 days" in m for m in result.missing) == (verdict == "incomplete")


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.from_regex(
            r"[A-Za-z0-9]{0,5}[./_-][A-Za-z0-9]{0,3}[./_-][A-Za-z0-9]{0,5}", fullmatch=True
        ),
        st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12),
    )
)
def test_reading_a_code_for_a_date_never_raises(code):
    # 'A000..0' had raised inside the record's validator ("invalid literal for int()"), which
    # then stood as the refusal's words
    assert date_shaped_id(code) in (True, False)


# -- a power of ten in E notation is refused, not read as one reading of two -----------------


@pytest.mark.parametrize("unit", ["10e9/L", "10E9/L", "x10E9/L", "×10e3/µL", "10E3/uL", "10e12/L"])
def test_a_power_of_ten_in_e_notation_is_refused(unit):
    # "10E9" is the number 10^10 as E notation reads it; a report may mean 10^9
    with pytest.raises(LabInputError, match="E notation"):
        check_lab("wbc", "3", unit)


@pytest.mark.parametrize("unit", ["10^9/L", "10**9/L", "10*9/L", "×10⁹/L", "x10^3/uL"])
def test_the_power_of_ten_written_as_a_power_is_read(unit):
    # UCUM writes 10*9 for 10^9; each is exactly at WBC's threshold of 3 x10^9/L
    assert check_lab("wbc", "3", unit).status == "pass"
    assert check_lab("wbc", "2.999", unit).status == "fail"


# -- a file of another kind is named in one line ---------------------------------------------

STUDY_FILE = REPO / "protocol/study.yaml"
RECORD_FILE = REPO / "protocol/registry/NCT06375005.json"


@pytest.mark.parametrize(
    "args, found, expected",
    [
        (["washout", str(CASE01)], "a participant record", "a washout list"),
        (["screen", str(STUDY_FILE)], "a study.yaml", "a participant record"),
        (["screen", str(RECORD_FILE)], "a registry record", "a participant record"),
    ],
)
def test_a_file_of_another_kind_is_refused_in_one_line(capsys, args, found, expected):
    # a participant record given to washout had printed 15 lines, one per field it has
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"(the file) = {found}: expected {expected}" in err


def test_a_mapping_that_is_a_participant_record_is_refused_in_one_line(tmp_path, capsys):
    table = tmp_path / "t.csv"
    table.write_text("participant,sex\nC1,female\n", encoding="utf-8")
    args = ["prescreen", str(table), "--map", str(CASE01), "--out", str(tmp_path / "o")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "a participant record: expected a prescreen mapping" in err


def test_a_file_of_the_right_kind_with_a_few_unknown_fields_names_each(tmp_path, capsys):
    path = tmp_path / "w.yaml"
    path.write_text(
        "planned_randomization: 2025-03-17\nmedications: []\nfoo: 1\nbar: 2\n", encoding="utf-8"
    )
    assert main(["washout", str(path)]) == 2
    err = capsys.readouterr().err
    assert "foo" in err and "bar" in err and "(the file)" not in err


@pytest.mark.parametrize("through_a_link", [False, True])
def test_export_makes_no_subfolder_in_a_read_only_folder(tmp_path, capsys, through_a_link):
    # export had made odm/ inside a folder of mode 0555 and written ecrf.xml in it (as root)
    folder = tmp_path / "kept"
    folder.mkdir()
    out = folder
    if through_a_link:
        out = tmp_path / "link"
        out.symlink_to(folder)
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP)
    try:
        for force in ([], ["--force"]):
            assert main(["export", "odm", "--out", str(out), *force]) == 2
            assert os.listdir(folder) == []
        assert "not writable" in capsys.readouterr().err
    finally:
        folder.chmod(stat.S_IRWXU)


def test_prescreen_makes_no_output_folder_in_a_read_only_folder(tmp_path, capsys):
    table = tmp_path / "t.csv"
    table.write_text("participant,sex\nC1,female\n", encoding="utf-8")
    folder = tmp_path / "kept"
    folder.mkdir()
    folder.chmod(stat.S_IRUSR | stat.S_IXUSR)
    try:
        args = ["prescreen", str(table), "--as-of", "2025-03-03", "--out", str(folder / "sub")]
        assert main(args) == 2
        assert os.listdir(folder) == []
        assert "cannot be written" in capsys.readouterr().err
    finally:
        folder.chmod(stat.S_IRWXU)


@pytest.mark.parametrize(
    "command, text, named",
    [
        # a participant record with a washout list's field among misspelt ones: its own kind
        ("screen", "participant: SYN-03\nplanned_randomization: 2025-03-17\nsexx: female\n"
                   "labz: {}\n", ["planned_randomization", "sexx", "labz"]),
        # a washout list with a participant's code beside misspelt fields: its own kind
        ("washout", "participant: SYN-02\nplanned_randomization: 2025-03-17\nscrening: "
                    "2025-03-03\nmedicatons: []\n", ["participant", "screning", "medicatons"]),
    ],
)  # fmt: skip
def test_a_file_of_its_own_kind_names_each_field_it_does_not_know(
    tmp_path, capsys, command, text, named
):
    path = tmp_path / "f.yaml"
    path.write_text(text, encoding="utf-8")
    assert main([command, str(path)]) == 2
    err = capsys.readouterr().err
    assert "(the file)" not in err
    assert all(f"{name} (line" in err for name in named)


def test_the_washout_example_given_to_screen_is_named_in_one_line(capsys):
    assert main(["screen", str(REPO / "examples/washout-synthetic.yaml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "(the file) = a washout list" in err


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.from_regex(r"[A-Z]{1,4}([-_.][A-Z]{1,3})?", fullmatch=True),
    st.data(),
)
def test_a_code_and_its_twin_in_lower_case_are_one_id_on_two_rows(code, data):
    # SYN-B and syn-b: the twin is withheld (letters without a digit in lower case may be a
    # name), but it is the same ID on another row, so neither row is screened (a reviewer
    # found SYN-B screened alone)
    if code.lower() in {
        *("na", "nan", "none", "null", "true", "false", "empty", "blank", "missing"),
        *("yes", "no", "on", "off"),  # a yes/no answer stands for no code too
    }:
        return
    twin = "".join(data.draw(st.sampled_from([c.lower(), c])) for c in code)
    if twin == code:
        twin = code.lower()
    others = ["SYN-1", "SYN-2"]
    order = data.draw(st.permutations([code, twin, *others]))
    frame = pd.DataFrame({"participant": order}).astype(object)
    frame["sex"] = "female"
    table = read_candidates(frame, Mapping(), "synthetic", AS_OF)
    refused = dict(zip(order, table.refused.tolist(), strict=True))
    assert refused[code] and refused[twin], order
    assert not refused["SYN-1"] and not refused["SYN-2"]
    assert twin not in table.ids and all(repr(twin) not in str(p) for p in table.problems)
    rows = f"{order.index(code) + 2}, {order.index(twin) + 2}"
    rows = ", ".join(sorted(rows.split(", "), key=int))
    assert any(f"rows {rows} all have it" in str(p) for p in table.problems), table.problems
