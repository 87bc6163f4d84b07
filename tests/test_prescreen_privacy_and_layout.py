"""`trialbook prescreen` against what an independent tester found a site's table can hold:
identifiers in number columns and ID cells written as a spreadsheet's doubles, identity card
numbers of Hong Kong and Taiwan, identifying column names in more languages, a header
repeated with a byte-order mark or in capitals, placeholder IDs, an output folder whose name
the system refuses, and a link in the output folder. All data are SYNTHETIC."""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from prescreen.columns import fields, identifier_cells, identifier_column
from protocol.identifiers import date_in_an_id_cell, date_shaped, identifying_text
from tests.test_cli_prescreen import AS_OF
from trialbook.cli import main


def _run(tmp_path: Path, table: Path, *extra: str) -> int:
    return main(["prescreen", str(table), "--as-of", AS_OF, "--out", str(tmp_path / "out"), *extra])


def _csv(tmp_path: Path, text: str, name: str = "t.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def _log(tmp_path: Path) -> list[dict[str, str]]:
    text = (tmp_path / "out" / "screening-log.csv").read_text(encoding="utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


# -- identifiers in columns of numbers ---------------------------------------------------------


@pytest.mark.parametrize(
    ("column", "cell"),
    [
        ("ssc.mrss.total", "110105194912311006"),  # an ID card's 18 digits, a whole number
        ("ssc.mrss.areas.face", "13812345678"),  # a mobile number in a grade's column
        ("labs.hemoglobin.value", "+8613812345678"),  # dialled from abroad
        ("labs.hemoglobin.value", "13812345678"),  # 11 significant digits: no measurement
        ("labs.wbc.value", "13812345678.0"),  # as a spreadsheet's double writes it
    ],
)
def test_a_phone_or_id_card_number_in_a_column_of_numbers_refuses_the_table(
    tmp_path, capsys, column, cell
):
    # these were read as (implausible) values and written, digits and all, to problems.csv
    table = _csv(tmp_path, f"participant,{column}\nSYN-1,{cell}\nSYN-2,1\n")
    assert _run(tmp_path, table) == 2
    err = capsys.readouterr().err
    assert "looks like a phone number" in err and cell not in err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("as_parquet", [False, True])
@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("ssc.mrss.total", 110105194912311006),
        ("ssc.mrss.areas.face", 13812345678),
        ("labs.hemoglobin.value", 13812345678.0),
    ],
)
def test_typed_numbers_that_are_identifiers_are_found_in_parquet_and_workbooks(
    tmp_path, capsys, as_parquet, column, value
):
    frame = pd.DataFrame({"participant": ["SYN-1", "SYN-2"], column: [value, 1]})
    if as_parquet:
        table = tmp_path / "t.parquet"
        frame.to_parquet(table)
    else:
        table = tmp_path / "t.xlsx"
        frame.to_excel(table, index=False)
    assert _run(tmp_path, table) == 2
    assert "looks like a phone number" in capsys.readouterr().err


@pytest.mark.parametrize(
    "value",
    [1490000000.0, 13.5e9, 6400000000, 12.5, 121, 250000, 10_000_000, 13800000000],
)
def test_a_measurement_in_a_number_column_is_a_value_not_an_identifier(value):
    # a count of cells/L written in full has few significant digits: a value, as before
    for column in (np.array([value, 1.0]), np.array([str(value), "1"], dtype=object)):
        assert not identifier_cells(column, numbers_are_values=True)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from("3456789"), st.integers(min_value=0, max_value=10**9 - 1), st.booleans())
def test_any_mobile_number_is_found_in_a_number_column_however_it_is_typed(second, rest, as_float):
    # 1, 3 to 9, nine more digits: a mobile number's shape; in a number field's column it is
    # found whenever it has more significant digits than a measurement is written with (8)
    digits = f"1{second}{rest:09d}"
    number = int(digits)
    column = np.array([float(number) if as_float else number, 5])
    assert identifier_cells(column, numbers_are_values=True) == (len(digits.rstrip("0")) > 8)


# -- ID cells -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "identifying"),
    [
        ("13812345678.0", True),  # a mobile number as a double
        ("A123456(7)", True),  # Hong Kong, its check digit in brackets
        ("AB987654(1)", True),
        # without the brackets, and Taiwan's letter and nine digits, a check digit matches one
        # site code in ten or eleven (P0000004, S100000006): those stay IDs
        ("A1234563", False),
        ("A123456789", False),
        ("P0000004", False),
        ("S100000006", False),
        ("SYN-C000001", False),
        ("1490000000.0", False),
    ],
)
def test_identifying_text_reads_doubles_and_other_identity_cards(text, identifying):
    assert identifying_text(text) is identifying


@pytest.mark.parametrize("text", ["19780614.0", "19780614.00"])
def test_a_date_written_as_a_double_is_a_date(text):
    assert date_in_an_id_cell(text)


@pytest.mark.parametrize("cell", ["13812345678.0", "19780614.0", "A123456(3)"])
def test_an_id_cell_that_identifies_a_person_is_never_written(tmp_path, capsys, cell):
    table = _csv(tmp_path, f"participant,sex\n{cell},female\nOK1,female\n")
    code = _run(tmp_path, table)
    captured = capsys.readouterr()
    assert cell not in captured.err and cell not in captured.out
    if code == 0:  # the row withheld, the rest screened
        for name in os.listdir(tmp_path / "out"):
            data = (tmp_path / "out" / name).read_bytes()
            assert cell.encode() not in data and cell.removesuffix(".0").encode() not in data
    else:
        assert code == 2 and not (tmp_path / "out").exists()


@pytest.mark.parametrize("placeholder", ["NA", "n/a", "NaN", "None", "null", "TRUE", "false", "-"])
def test_a_placeholder_for_no_id_is_not_a_candidate(tmp_path, placeholder):
    # "NaN", "None", "null", "TRUE" had been screened as candidates of those names
    table = _csv(tmp_path, f"participant,sex\n{placeholder},female\nSYN-1,female\n")
    assert _run(tmp_path, table) == 0
    log = {row["Table row"]: row for row in _log(tmp_path)}
    assert log["2"]["Outcome"] == "not screened (bad row)"
    assert log["3"]["Outcome"] != "not screened (bad row)"
    problems = (tmp_path / "out" / "problems.csv").read_text(encoding="utf-8-sig")
    # (n/a and - are not an ID's characters at all: refused as such)
    assert "stands for none" in problems or placeholder in ("n/a", "-")


def test_a_workbooks_na_text_as_an_id_is_not_a_candidate(tmp_path):
    table = tmp_path / "t.xlsx"
    pd.DataFrame({"participant": ["NA", "SYN-1"], "sex": ["female", "female"]}).to_excel(
        table, index=False
    )
    assert _run(tmp_path, table) == 0
    assert next(row["Outcome"] for row in _log(tmp_path)) == "not screened (bad row)"


# -- column names ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "MR No", "Chart#", "MR#", "IP No", "Personnummer", "患者姓", "电邮",
        "Telefonnummer", "Handynummer", "Familienname", "Anschrift", "Straße", "PLZ",
        "Codice fiscale", "Social Sec No", "Ph No", "Account Number", "Driver License",
        # a fifth tester's
        "Naam", "Voornaam", "Fornavn", "Efternamn", "Nazwisko", "Handy", "Celular", "Móvil",
        "Cellulare", "Correo", "Courriel", "E-post", "Sozialversicherungsnummer",
        "Versichertennummer", "Member ID", "IBAN", "Credit card", "Förnamn", "Imię",
    ],
)  # fmt: skip
def test_more_identifying_column_names(name):
    assert identifier_column(name)


@pytest.mark.parametrize(
    "name",
    ["Platelets #", "Screening No", "Subject ID", "Candidate", "MR", "IP", "case", "性别",
     "Case No",  # a trial's case number as often as a hospital's
     "Date of birth", "mrss total", "Hb", "Member of staff", "Cell count", "Post-dose"],
)  # fmt: skip
def test_names_beside_them_that_identify_no_one(name):
    assert not identifier_column(name)


def test_a_second_id_column_beside_the_mappings_is_refused(tmp_path, capsys):
    table = _csv(tmp_path, "code,participant,sex\nA1,B1,female\nA2,B1,female\n")
    mapping = tmp_path / "m.yaml"
    mapping.write_text("id_column: code\n", encoding="utf-8")
    assert _run(tmp_path, table, "--map", str(mapping)) == 2
    assert "a second column of IDs" in capsys.readouterr().err


# -- a header repeated ----------------------------------------------------------------------

_HEADER = "participant,sex,labs.hemoglobin.value,labs.hemoglobin.unit"


@pytest.mark.parametrize(
    "second",
    [
        "\ufeff" + _HEADER,  # two "CSV UTF-8" exports joined: the second begins with a BOM
        _HEADER.upper(),
        " " + _HEADER.replace(",", " , "),
    ],
)
def test_a_header_repeated_with_a_byte_order_mark_or_in_capitals_is_left_out(tmp_path, second):
    text = f"\ufeff{_HEADER}\r\nC1,female,70,g/L\r\n{second}\r\nC2,female,70,g/L\r\n"
    table = _csv(tmp_path, text)
    assert _run(tmp_path, table) == 0
    log = _log(tmp_path)
    assert [row["Candidate"] for row in log] == ["C1", "C2"]  # the header is no candidate
    flow = (tmp_path / "out" / "flow.svg").read_text(encoding="utf-8")
    assert "n = 2" in flow and "n = 3" not in flow


# -- where the files go -------------------------------------------------------------------


def test_an_output_folder_name_the_system_refuses_is_bad_input(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    table = _csv(tmp_path, "participant,sex\nA1,female\n", name="c" * 251 + ".csv")
    # the default folder, <name>-prescreen, is longer than a file name may be
    assert main(["prescreen", str(table), "--as-of", AS_OF]) == 2
    assert "cannot be examined" in capsys.readouterr().err


@pytest.mark.parametrize("force", [False, True])
def test_a_link_in_the_output_folder_is_never_written_through(tmp_path, capsys, force):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    out = tmp_path / "out"
    out.mkdir()
    (out / "problems.csv").symlink_to(victim)
    table = _csv(tmp_path, "participant,sex\nA1,female\n")
    assert _run(tmp_path, table, *(["--force"] if force else [])) == 2
    assert "symbolic link" in capsys.readouterr().err
    assert victim.read_text(encoding="utf-8") == "precious"
    assert sorted(os.listdir(out)) == ["problems.csv"]  # nothing else written either


def test_a_uln_unit_for_a_lab_without_one_is_refused_in_the_mapping(tmp_path, capsys):
    table = _csv(tmp_path, "participant,Hb\nA1,70\n")
    mapping = tmp_path / "m.yaml"
    mapping.write_text(
        "columns:\n  Hb: {field: labs.hemoglobin.value, unit: g/L, uln_unit: g/L}\n",
        encoding="utf-8",
    )
    assert _run(tmp_path, table, "--map", str(mapping)) == 2
    assert "columns.Hb.uln_unit" in capsys.readouterr().err


def test_a_huge_double_is_shown_with_its_exponent(tmp_path):
    table = tmp_path / "t.parquet"
    pd.DataFrame({"participant": ["A1"], "labs.hemoglobin.value": [1e308],
                  "labs.hemoglobin.unit": ["g/L"]}).to_parquet(table)  # fmt: skip
    assert _run(tmp_path, table) in (0, 2)
    problems = tmp_path / "out" / "problems.csv"
    if problems.exists():
        text = problems.read_text(encoding="utf-8-sig")
        assert "0" * 100 not in text


# -- a second tester's spellings --------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "1.3812345678e10", "1.3812345678E+10", "13812345678e0", "138123456780e-1",
        "13812345678.", "A123456（3）", "１３８１２３４５６７８", "＋８６１３８１２３４５６７８",
        "(+86)13812345678", "A 123456(3)", "13812345678;", "Tel 13812345678", "tel:13812345678",
        "手机13812345678", "身份证110101197806140010", "ID A123456(3)",
        "13812345678/13912345678", "110101197806140010e0", "138–1234–5678", "138·1234·5678",
        "jdoe＠example.com",
    ],
)  # fmt: skip
def test_a_phone_or_card_number_however_written_is_found(text):
    assert identifying_text(text)


@pytest.mark.parametrize(
    "text",
    [
        # a fourth tester's: an e-mail inside a text, numbers in their usual groups inside one
        "mail: zhang.san@example.com", "zhang.san@example.com; li@x.cn", "Tel 13812345678 @home",
        "Tel: 138-1234-5678", "手机 138 1234 5678", "+86 138 1234 5678", "call +86-138-1234-5678",
        "0086 138 1234 5678", "身份证 110105 1949 1231 002X", "ID 110105-19491231-002X",
        "ID 110105 19491231 002x", "Tel：１３８－１２３４－５６７８",
        # a code built on a mobile in its groups (helper 118: SYN-138-1234-5678 was written
        # into every output; SITE-138-1234-5678 was kept as a code before)
        "SITE-138-1234-5678", "SYN01_0912-345-678",
    ],
)  # fmt: skip
def test_an_email_or_a_grouped_number_inside_a_text_is_found(text):
    assert identifying_text(text)


@pytest.mark.parametrize(
    "text",
    [
        "a@b", "ratio 2@3", "138-1234-567", "S138 1234 5678", "12 138-1234-5678-9",
        "week 138 1234",
        "110105 1949 1231 002", "SYN-110105-1949-1231-0021",
    ],
)  # fmt: skip
def test_groups_that_are_not_a_mobile_or_card_number_inside_a_text_are_not(text):
    assert not identifying_text(text)


@pytest.mark.parametrize(
    "text",
    [
        "1490000000.0", "13.5e9", "1.49e9", "6400000000", "0900000000", "2025-03-03 12:30:45",
        "Site 01, subject 0003", "Hb 121 g/L", "SYN-C000001-2",
        # a third tester's site codes, refused for a while: separators inside a run of digits
        "09-0001-0001", "09-001-00001", "014-001-000001", "SYN-0150-0001-0001",
        "SITE-13-001-000001", "RAND-13-0001-00001", "852-2000-0001", "SYN-C0000009",
        # letters glued to a run of digits: a site code (S13001000001, an NCT number run on)
        "S13001000001", "TEL13001000001", "NCT063750050010010001",
    ],
)  # fmt: skip
def test_counts_dates_and_codes_beside_them_are_not(text):
    assert not identifying_text(text)


@pytest.mark.parametrize(
    ("column", "cell"),
    [
        ("labs.hemoglobin.value", "1.3812345678E+10"),
        ("sex", "(+86)13812345678"),
        ("infection_screening.hiv", "A123456（3）"),
        ("sex", "Tel 13812345678"),
        ("pulmonary.fvc_percent_predicted", "13812340000"),  # not a lab: no measurement's leeway
        ("ssc.mrss.total", "13800138000"),
        ("labs.hemoglobin.unit", "tel:13812345678"),
    ],
)
def test_a_second_testers_spellings_refuse_the_table_unechoed(tmp_path, capsys, column, cell):
    table = _csv(tmp_path, f"participant,{column}\nSYN-1,{cell}\nSYN-2,1\n")
    assert _run(tmp_path, table) == 2
    err = capsys.readouterr().err
    assert cell not in err and "13812345678" not in err
    assert not (tmp_path / "out").exists()


def test_a_labs_implausible_value_that_reads_as_a_phone_number_is_withheld(tmp_path):
    # 13800138000 has the few significant digits of a count (a lab's leeway): read, refused as
    # implausible, and never repeated in problems.csv
    table = _csv(
        tmp_path,
        "participant,labs.hemoglobin.value,labs.hemoglobin.unit\nSYN-1,13800138000,g/L\n"
        "SYN-2,121,g/L\n",
    )
    assert _run(tmp_path, table) == 0
    for name in os.listdir(tmp_path / "out"):
        assert b"13800138000" not in (tmp_path / "out" / name).read_bytes()


@pytest.mark.parametrize("code", ["13812345678", "110101197806140010", "1.3812345678e10"])
def test_screen_never_repeats_a_participant_code_that_reads_as_a_phone_number(
    tmp_path, capsys, code
):
    record = tmp_path / "r.yaml"
    record.write_text(f"participant: {code}\n", encoding="utf-8")
    assert main(["screen", str(record)]) == 2
    captured = capsys.readouterr()
    assert "(withheld)" in captured.err
    assert code not in captured.err + captured.out and "13812345678" not in captured.err


@pytest.mark.parametrize(
    "placeholder", ["NaT", "undefined", "missing", "unknown", "YES", "No", "ON", "off"]
)
def test_more_placeholders_for_no_id(tmp_path, placeholder):
    table = _csv(tmp_path, f"participant,sex\n{placeholder},female\nSYN-1,female\n")
    assert _run(tmp_path, table) == 0
    assert _log(tmp_path)[0]["Outcome"] == "not screened (bad row)"


@pytest.mark.parametrize(
    "second",
    [_HEADER.replace(",", "\u00a0,"), "\u200b" + _HEADER, "ｐａｒｔｉｃｉｐａｎｔ" + _HEADER[11:]],
)
def test_a_header_repeated_with_odd_spaces_or_full_width_letters_is_left_out(tmp_path, second):
    text = f"{_HEADER}\nC1,female,70,g/L\n{second}\nC2,female,70,g/L\n"
    table = _csv(tmp_path, text)
    assert _run(tmp_path, table) == 0
    assert [row["Candidate"] for row in _log(tmp_path)] == ["C1", "C2"]


def test_a_precise_decimal_of_a_lab_is_a_value_not_a_phone_number(tmp_path):
    # 13.812345678 g/dL has a mobile number's digits around its point: a measurement
    table = _csv(
        tmp_path,
        "participant,labs.hemoglobin.value,labs.hemoglobin.unit\nSYN-1,13.812345678,g/dL\n",
    )
    assert _run(tmp_path, table) == 0


@pytest.mark.parametrize("code", ["P0000004", "09-0001-0001", "SITE-13-001-000001"])
def test_site_codes_are_screened(tmp_path, code):
    table = _csv(tmp_path, f"participant,sex\n{code},female\n")
    assert _run(tmp_path, table) == 0


@pytest.mark.parametrize("value", ['"138-1234-5678"', "13812345678", '"+86 13812345678"'])
def test_screen_never_repeats_a_lab_value_that_reads_as_a_phone_number(tmp_path, capsys, value):
    from tests.conftest import REPO

    text = (REPO / "book/cases/case01-eligible.yaml").read_text(encoding="utf-8")
    record = tmp_path / "r.yaml"
    record.write_text(text.replace("hemoglobin: {value: 121", f"hemoglobin: {{value: {value}"))
    assert main(["screen", str(record)]) == 2
    err = capsys.readouterr().err
    assert "(withheld)" in err and "1234" not in err


@pytest.mark.parametrize(
    "cell", ["14/06/1978", "1978-02-30", '"June 14, 1978"', "1978-06-14T08:00"]
)
def test_an_unreadable_birth_date_is_never_copied_to_a_file_or_a_message(tmp_path, capsys, cell):
    # a tester found '14/06/1978' in problems.csv and the warnings: a birth date identifies a
    # person (as an ID shaped like one is withheld); the row and column say where to look
    table = _csv(tmp_path, f"participant,dates.birth\nSYN-1,{cell}\nSYN-2,1980-01-02\n")
    assert _run(tmp_path, table) == 0
    err = capsys.readouterr().err
    assert "row 2, column 'dates.birth'" in err and "1978" not in err
    for name in os.listdir(tmp_path / "out"):
        assert b"1978" not in (tmp_path / "out" / name).read_bytes()


# -- a refused cell that may name a person is never repeated ----------------------------------
# A tester: an ID cell of 张伟 or Wang Fang, or a date written with other dashes (1978‐06‐14,
# 昭和53年6月14日), came back word for word in problems.csv, the worklist's reason and stderr;
# so did a name in a sex cell. A refused value is now shown only where it reads as the
# column's value mistyped (F, 12,5, femal, #N/A).

_NAMES = ["张伟", "王芳", "李娜", "Wang Fang", "Zhang Wei", "María José", "wechat: zhangwei1978",
          "passport E12345678", "A123456789", "Mary 1978", "李娜0614", "5 Main St", "Mary",
          "Dong", "Anne", "0912-345678", "13,800,138,000",
          # a third tester's: names of value words, initials, formulas, short foreign numbers
          "Donna May", "May Man", "Po Man 12", "高 先生", "J. K. Low 1978",
          "June Low 14-06-1978", "=Wang Fang, 5 Main St", "9123 4567", "E12345678",
          "S1234567D", "AB123456C", "Zhang\u200bWei"]  # fmt: skip
# (886912345678, a Taiwan mobile after its country code, is now read as a phone number: its
# column is refused whole, as any column holding one is; test_personal_data_in_documents holds it)
# (in an ID cell a date too is a birth date; in a sex cell it is a date, which alone names no one)
_BIRTH_DATES = ["昭和53年6月14日", "1978‐06‐14", "1978—06—14", "民國67年6月14日"]


def _every_output(tmp_path: Path) -> str:
    import openpyxl

    out = tmp_path / "out"
    texts = [p.read_text(encoding="utf-8-sig") for p in out.glob("*.csv")]
    texts.append((out / "flow.svg").read_text(encoding="utf-8"))
    book = openpyxl.load_workbook(out / "worklist.xlsx", read_only=True)
    texts += [str(c) for sheet in book for row in sheet.iter_rows(values_only=True) for c in row]
    return "\n".join(texts)


@settings(max_examples=20, deadline=None)
@given(
    cell=st.one_of(
        # (in the ID column, only what is no code: Mary and A123456789 are codes, IDs they stay)
        st.tuples(
            st.sampled_from(
                [n for n in _NAMES if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", n)]
                + _BIRTH_DATES
            ),
            st.just("participant"),
        ),
        st.tuples(st.sampled_from(_NAMES), st.sampled_from(["sex", "breastfeeding"])),
    )
)
def test_a_refused_cell_that_may_name_a_person_is_in_no_output(tmp_path_factory, cell):
    import contextlib

    name, column = cell
    tmp_path = tmp_path_factory.mktemp("names")
    cells = {"participant": "SYN-1", "sex": "female", "breastfeeding": "false"} | {column: name}
    table = _csv(
        tmp_path,
        "participant,sex,breastfeeding\n"
        f'"{cells["participant"]}","{cells["sex"]}","{cells["breastfeeding"]}"\n'
        "SYN-2,male,false\n",
    )
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert _run(tmp_path, table, "--force") == 0
    assert name not in _every_output(tmp_path) and name not in err.getvalue()
    assert "withheld" in (tmp_path / "out" / "problems.csv").read_text(encoding="utf-8-sig")


@settings(max_examples=20, deadline=None)
@given(
    name=st.sampled_from(["Donna", "Maria", "ZhangWei", "Wang Fang", "May", "Lina Wong"]),
    shape=st.sampled_from(["{}/May", "{}/L", "mg/{}", "g/{} L", "{}/dL"]),
    column=st.sampled_from(["labs.hemoglobin.unit", "labs.igg.unit", "labs.alt.uln_unit"]),
)
def test_a_name_around_a_slash_in_a_unit_cell_is_in_no_output(
    tmp_path_factory, name, shape, column
):
    # a tester's round: Donna/May, Maria/L, ZhangWei/L and mg/Maria in a lab's unit column came
    # back in problems.csv and on stderr (a quotient was taken for a unit written otherwise),
    # and the reader's own words quoted each part ("'Donna' is not a unit name")
    import contextlib

    tmp_path = tmp_path_factory.mktemp("unit-names")
    cell = shape.format(name)
    value = column.replace("uln_unit", "value").replace(".unit", ".value")
    table = _csv(tmp_path, f'participant,{value},{column}\nSYN-1,40,"{cell}"\nSYN-2,,\n')
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert _run(tmp_path, table, "--force") == 0
    for word in name.split():
        assert word not in _every_output(tmp_path) and word not in err.getvalue()


@pytest.mark.parametrize(
    ("column", "cell"),
    [("sex", "F"), ("sex", "Weiblich"), ("breastfeeding", "yes"), ("sex", "女"),
     ("pah_risk", "low risk"), ("labs.hemoglobin.value", "n.d."),
     ("labs.hemoglobin.value", "12,5"), ("labs.hemoglobin.value", "12.5 g/dL")],
)  # fmt: skip
def test_a_mistyped_value_is_still_shown_to_the_site(tmp_path, column, cell):
    table = _csv(tmp_path, f'participant,{column}\nSYN-1,"{cell}"\nSYN-2,\n')
    assert _run(tmp_path, table) == 0
    problems = (tmp_path / "out" / "problems.csv").read_text(encoding="utf-8-sig")
    assert repr(cell) in problems


@pytest.mark.parametrize(
    "name",
    ["英文名", "昵称", "Nombre completo", "sobrenome", "nama", "isim", "Ad Soyad", "Név", "nimi",
     "navn", "namn", "ФИО", "όνομα", "שם", "اسم", "नाम", "ชื่อ", "Họ tên", "nickname"],
)  # fmt: skip
def test_a_name_column_in_more_languages_is_refused(name):
    assert identifier_column(name)


@pytest.mark.parametrize(
    "name",
    ["nombre", "Nombre de plaquettes", "time", "ten", "nevus", "FiO2", "fio2_percent",
     "Oxygen (FiO2)", "ime_flag", "Subject alias", "药物别名"],
)  # fmt: skip
def test_words_that_only_resemble_a_name_column_are_not(name):
    assert not identifier_column(name)


def test_a_taiwan_mobile_is_found_in_its_groups_and_in_a_free_text():
    assert identifying_text("0912-345-678") and identifying_text("0912 345 678")
    assert identifying_text("0912345678", free_text=True)
    assert identifying_text("Tel 0912345678", free_text=True)
    # a zero-padded ten-digit code stays an ID, and a site's 09-0001-0001
    assert not identifying_text("0912345678") and not identifying_text("09-0001-0001")


@pytest.mark.parametrize("cell", ["Henry Gray", "Kelvin Maxwell", "Gilbert Newton", "furlong"])
def test_a_unit_column_shows_no_word_that_may_be_a_name(cell):
    from prescreen.columns import WITHHELD_TEXT, shown_value

    # pint knows each word as a unit; a surname may be one too
    assert shown_value(cell, "labs.hemoglobin.unit") == WITHHELD_TEXT
    assert shown_value("g/furlong", "labs.hemoglobin.unit") == "'g/furlong'"


def test_a_withheld_value_is_not_repeated_in_its_message_however_quoted():
    from prescreen.columns import without_identifying

    for raw in ("Zhang\u200bWei", "Wang\tFang"):
        message = f"{raw!r} is not a decimal number; {raw!a}"
        assert "Zhang" not in without_identifying(message, raw)
        assert "Wang" not in without_identifying(message, raw)


@pytest.mark.parametrize("cell", ["98765432", "91234567.0", "9876543.21"])
def test_a_number_of_a_phones_digits_in_a_number_column_is_in_no_output(tmp_path, cell):
    # a reviewer: a CSV's number (read as a double) or a workbook's skipped the text rule, and
    # an 8-digit mobile given as a haemoglobin came back in problems.csv and the reason
    import contextlib

    table = _csv(
        tmp_path,
        "participant,labs.hemoglobin.value,labs.hemoglobin.unit\n"
        f"SYN-1,{cell},g/L\nSYN-2,120,g/L\n",
    )
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert _run(tmp_path, table) == 0
    digits = cell.split(".")[0]
    assert digits not in _every_output(tmp_path) and digits not in err.getvalue()
    problems = (tmp_path / "out" / "problems.csv").read_text(encoding="utf-8-sig")
    assert "row" not in problems.lower() or "withheld" in problems


@settings(max_examples=60, deadline=None)
@given(
    st.integers(1, 300),
    st.data(),
    st.sampled_from(["participant", "sex", "pah_risk", "labs.hemoglobin.value"]),
    st.sampled_from(["13812345678", "138-1234-5678", "a@b.cn", "110105194912310021"]),
)
def test_a_refused_cell_is_named_by_its_row_so_a_site_can_find_it(size, data, column, cell):
    # a tester's table of thousands: the refusal named the column alone ("remove the column",
    # even for the ID column, which would leave nothing to screen)
    from prescreen.table import refuse_identifiers
    from protocol.errors import ProtocolDataError

    frame = pd.DataFrame(
        {
            "participant": [f"SYN-{i}" for i in range(size)],
            "sex": ["female"] * size,
            "pah_risk": ["low"] * size,
            "labs.hemoglobin.value": ["12.1"] * size,
        }
    )
    at = data.draw(st.lists(st.integers(0, size - 1), min_size=1, max_size=3, unique=True))
    for position in at:
        frame.loc[position, column] = cell
    with pytest.raises(ProtocolDataError) as refused:
        refuse_identifiers(frame, "t.csv")
    message = str(refused.value)
    first_row = min(at) + 2  # the header is row 1
    assert f"column {column!r}, row {first_row} (the first such)" in message, message
    assert cell not in message
    if column == "participant":
        assert "pseudonymous code" in message and "remove" not in message


# -- a mobile number in its groups inside a candidate's code -------------------------------------


_PREFIX = st.from_regex(r"[A-Z]{1,4}[0-9]{0,2}[-_.]", fullmatch=True)


@st.composite
def _mobile_in_groups(draw: st.DrawFn) -> tuple[str, str]:
    """A mainland mobile (3-4-4) or a Taiwan one (4-3-3) in its groups, one separator
    throughout, and its digits."""
    separator = draw(st.sampled_from(["-", "."]))
    if draw(st.booleans()):
        digits = f"1{draw(st.integers(3, 9))}{draw(st.integers(0, 999_999_999)):09d}"
        return separator.join((digits[:3], digits[3:7], digits[7:])), digits
    digits = f"09{draw(st.integers(0, 99_999_999)):08d}"
    return separator.join((digits[:4], digits[4:7], digits[7:])), digits


@given(prefix=_PREFIX, mobile=_mobile_in_groups(), suffix=st.sampled_from(["", "A", "-B", " x"]))
def test_a_mobile_in_its_groups_inside_a_code_is_found(prefix, mobile, suffix):
    # SYN-138-1234-5678 was a candidate's code, written in full into every output (helper 118)
    grouped, _ = mobile
    assert identifying_text(f"{prefix}{grouped}{suffix}")


@pytest.mark.parametrize(
    "code", ["SYN-2024-0001", "SITE-13-001-000001", "S13001000001", "SYN-100-0001-0001", "A123"]
)
def test_a_sites_code_with_groups_of_digits_stays_a_code(code):
    assert not identifying_text(code)


@pytest.mark.parametrize("code", ["SYN-138-1234-5678", "A-138.1234.5678", "SYN-0912-345-678"])
def test_a_code_holding_a_mobile_is_refused_and_never_repeated(tmp_path, capsys, code):
    table = _csv(tmp_path, f"participant,sex\n{code},female\nSYN-2,female\n")
    assert _run(tmp_path, table) == 2
    captured = capsys.readouterr()
    digits = re.sub("[^0-9]", "", code)
    assert code not in captured.out + captured.err
    assert digits not in re.sub("[^0-9]", "", captured.out + captured.err)
    assert not (tmp_path / "out").exists()
    record = tmp_path / "r.yaml"
    record.write_text(f"participant: {code}\n", encoding="utf-8")
    assert main(["screen", str(record)]) == 2
    captured = capsys.readouterr()
    assert code not in captured.out + captured.err and "(withheld)" in captured.err


@settings(max_examples=40, deadline=None)
@given(
    day=st.integers(min_value=1, max_value=80_000),
    as_float=st.booleans(),
)
def test_a_birth_date_written_as_a_number_is_never_repeated(day, as_float):
    # 28655 is 1978-06-14 as a workbook counts days (3086 from 1970): the message said
    # "28655 is not a date" beside "(withheld: a birth date identifies a person)" (helper 118)
    import datetime as dt

    from prescreen.columns import Mapping
    from prescreen.table import read_candidates

    value = float(day) if as_float else day
    frame = pd.DataFrame({"participant": ["SYN-1"], "dates.birth": [value]})
    candidates = read_candidates(frame, Mapping(), "synthetic", dt.date(2026, 11, 26))
    (problem,) = [p for p in candidates.problems if p.column == "dates.birth"]
    said = f"{problem.found}: {problem.expected}"  # the row's own number aside
    assert not re.search(rf"(?<![0-9]){day}(?![0-9])", said), said


@settings(max_examples=40, deadline=None)
@given(
    code=st.from_regex(r"SYN-[0-9]{1,4}[A-Z]?", fullmatch=True),
    before=st.sampled_from(["", " ", "\u00a0", "  \t"]),
    after=st.sampled_from(["", " ", "\u00a0", "\u3000"]),
)
def test_spaces_around_a_code_are_no_part_of_it(code, before, after):
    # ' SYN-01' was withheld as "no code" and still counted a duplicate of SYN-01 (helper 118)
    import datetime as dt

    from prescreen.columns import Mapping
    from prescreen.table import read_candidates

    frame = pd.DataFrame({"participant": [f"{before}{code}{after}", "SYN-X1"], "sex": "female"})
    candidates = read_candidates(frame, Mapping(), "synthetic", dt.date(2026, 11, 26))
    assert candidates.ids[0] == code and not candidates.refused[0]
    twice = pd.DataFrame({"participant": [code, f"{before}{code}{after}"], "sex": "female"})
    candidates = read_candidates(twice, Mapping(), "synthetic", dt.date(2026, 11, 26))
    assert candidates.refused.tolist() == [True, True]
    assert all("rows 2, 3 all have it" in p.expected for p in candidates.problems)


@settings(max_examples=30, deadline=None)
@given(
    name=st.sampled_from(["Wang", "Zhang Wei", "Donna", "李娜", "Mary 1978"]),
    column=st.sampled_from([column for column, spec in fields().items() if spec.choices]),
    data=st.data(),
)
def test_a_value_of_the_column_beside_a_name_is_still_listed_among_those_expected(
    tmp_path_factory, name, column, data
):
    # 'serum Wang' withheld 'serum' from "expected 'serum' or 'urine'": the cell's words were
    # all taken out of the message, the column's own values with the name
    choices = fields()[column].choices
    chosen = data.draw(st.sampled_from(choices))
    tmp_path = tmp_path_factory.mktemp("choice")
    table = _csv(tmp_path, f'participant,{column}\nSYN-1,"{chosen} {name}"\nSYN-2,\n')
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert _run(tmp_path, table, "--force") == 0
    problems = (tmp_path / "out" / "problems.csv").read_text(encoding="utf-8-sig")
    for part in name.split():
        assert part not in _every_output(tmp_path) and part not in err.getvalue()
    expected = next(row["Expected"] for row in csv.DictReader(io.StringIO(problems)))
    for choice in choices:
        assert f"'{choice}'" in expected, (choice, expected)


@settings(max_examples=30, deadline=None)
@given(
    cell=st.text(alphabet="%‰/*-+.()^0123456789", min_size=1, max_size=12),
    column=st.sampled_from(["labs.neutrophils.unit", "labs.hemoglobin.unit", "sex"]),
)
def test_a_refused_cell_without_a_letter_is_shown_unless_it_has_a_phones_digits(
    tmp_path_factory, cell, column
):
    # a neutrophil count's unit typed '%' was withheld as a text that "may name a person"
    tmp_path = tmp_path_factory.mktemp("signs")
    value = "" if column == "sex" else ",60"
    header = (
        "participant,sex"
        if column == "sex"
        else f"participant,{column.replace('unit', 'value')},{column}"
    )
    table = _csv(tmp_path, f'{header}\nSYN-1{value},"{cell}"\nSYN-2{value},\n')
    with contextlib.redirect_stderr(io.StringIO()):
        assert _run(tmp_path, table, "--force") == 0
    problems = list(
        csv.DictReader(
            io.StringIO((tmp_path / "out" / "problems.csv").read_text(encoding="utf-8-sig"))
        )
    )
    found = [p["Found"] for p in problems if p["Column"] == column]
    assume(found)  # a cell the column reads (a unit such as '/'... none here) reports nothing
    digits = sum(c.isdigit() for c in cell)
    # a date outside a date column (0000/00/0 drawn in a unit's column was shown back): a
    # birth date in a column shifted by one identifies the person
    if digits > 6 or date_shaped(cell):
        assert "withheld" in found[0]
    else:
        assert "withheld" not in found[0] and cell in found[0]


@pytest.mark.parametrize(
    "column", ["labs.hemoglobin.unit", "labs.hemoglobin.value", "sex", "ssc.mrss.total"]
)
@pytest.mark.parametrize("written", ["1978/06/14", "14-Jun-1978", "14.6.1978"])
def test_a_date_in_a_column_that_holds_none_is_withheld_everywhere(tmp_path, column, written):
    # columns shifted by one put a birth date under a unit, a value or a choice: the refusal
    # named the cell, as a date mistyped is named in a date column
    value = "" if column in ("sex", "ssc.mrss.total") else "g/dL"
    other = "labs.hemoglobin.unit" if column == "labs.hemoglobin.value" else None
    header = f"participant,{column}" + (f",{other}" if other else "")
    extra = f",{value}" if other else ""
    table = _csv(tmp_path, f"{header}\nSYN-1,{written}{extra}\nSYN-2,{extra}\n")
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert _run(tmp_path, table, "--force") == 0
    assert written not in _every_output(tmp_path) and written not in err.getvalue()
    problems = (tmp_path / "out" / "problems.csv").read_text(encoding="utf-8-sig")
    assert "may be a birth date" in problems


@pytest.mark.parametrize("kind", ["xlsx", "parquet"])
def test_a_date_cell_in_a_column_that_holds_none_is_withheld_everywhere(tmp_path, kind):
    # a workbook's or Parquet file's date cell (a birth date, columns shifted by one) was
    # shown back as '1978-06-14 00:00:00': only a date typed as text was withheld
    import datetime

    born = datetime.datetime(1978, 6, 14)
    frame = pd.DataFrame(
        {
            "participant": ["SYN-1", "SYN-2"],
            "labs.hemoglobin.value": [born, None],
            "labs.hemoglobin.unit": ["g/dL", "g/dL"],
            "sex": [born, None],
        }
    )
    table = tmp_path / f"t.{kind}"
    if kind == "xlsx":
        frame.to_excel(table, index=False)
    else:
        frame.to_parquet(table)
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        assert _run(tmp_path, table, "--force") == 0
    for written in ("1978-06-14", "1978", "14/06", "28290"):  # (28290: the date's serial)
        assert written not in _every_output(tmp_path) and written not in err.getvalue()
    problems = (tmp_path / "out" / "problems.csv").read_text(encoding="utf-8-sig")
    assert problems.count("may be a birth date") == 2
