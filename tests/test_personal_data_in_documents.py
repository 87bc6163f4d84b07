"""A phone number, an ID card number or an e-mail address typed into any text of a site's own
document (a participant record, a washout list) refuses the document, and is never repeated:
a fourth tester found them printed back from medication names, doses, frequencies, clearance
reasons, malignancy types, event kinds and field names, and in the label of an entry."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protocol.documents import PERSONAL_DATA, personal_data_problems
from trialbook.cli import main

CASE = Path(__file__).resolve().parents[1] / "book" / "cases" / "case01-eligible.yaml"
PHONE = "13858121751"
CARD = "330106197806140023"

# where a site types free text, and what it becomes with a number in it
_PLACES = [
    ("medications", [{"name": PHONE, "last_dose": "2025-01-01"}]),
    ("medications", [{"name": f"methotrexate {PHONE}", "last_dose": "2025-01-01"}]),
    ("medications", [{"name": "methotrexate", "last_dose": "2025-01-01", "dose": f"{PHONE} mg"}]),
    ("medications", [{"name": "methotrexate", "last_dose": "2025-01-01", "frequency": PHONE}]),
    (
        "medications",
        [
            {
                "name": "etanercept",
                "last_dose": "2024-01-01",
                "investigator_cleared": True,
                "clearance_reason": f"call {PHONE}",
            }
        ],
    ),
    ("events", [{"kind": CARD, "date": "2024-01-01"}]),
]


def _record(tmp_path: Path, **changes) -> Path:
    data = yaml.safe_load(CASE.read_text(encoding="utf-8"))
    data.update(changes)
    path = tmp_path / "record.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(("field", "value"), _PLACES)
def test_a_number_that_identifies_a_person_refuses_the_record_unrepeated(
    tmp_path, capsys, field, value
):
    assert main(["screen", str(_record(tmp_path, **{field: value}))]) == 2
    captured = capsys.readouterr()
    assert PERSONAL_DATA in captured.err
    assert PHONE not in captured.err + captured.out
    assert CARD not in captured.err + captured.out


def test_a_malignancys_name_with_an_id_card_number_is_refused(tmp_path, capsys):
    data = yaml.safe_load(CASE.read_text(encoding="utf-8"))
    data["history"]["malignancies"] = [
        {"type": f"breast cancer {CARD}", "date": "2024-01-01", "excepted_type": False}
    ]
    path = tmp_path / "record.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    assert main(["screen", str(path)]) == 2
    captured = capsys.readouterr()
    assert "history.malignancies[0].type" in captured.err
    assert CARD not in captured.err + captured.out


def test_a_field_named_with_a_phone_number_is_shown_withheld(tmp_path, capsys):
    path = _record(tmp_path)
    path.write_text(path.read_text(encoding="utf-8") + f"{PHONE}: 1\n", encoding="utf-8")
    assert main(["screen", str(path)]) == 2
    err = capsys.readouterr().err
    assert "(withheld)" in err and PHONE not in err
    assert len(err.strip().splitlines()) == 1  # not refused again as an unknown field


def test_a_washout_list_with_an_e_mail_address_is_refused(tmp_path, capsys):
    path = tmp_path / "w.yaml"
    path.write_text(
        "planned_randomization: 2025-03-03\nmedications:\n"
        "  - {name: methotrexate, last_dose: 2025-01-01, clearance_reason: 'ask a.b@example.cn'}\n",
        encoding="utf-8",
    )
    assert main(["washout", str(path)]) == 2
    err = capsys.readouterr().err
    assert PERSONAL_DATA in err and "example.cn" not in err


def test_the_participant_code_keeps_its_own_words(tmp_path, capsys):
    assert main(["screen", str(_record(tmp_path, participant=PHONE))]) == 2
    err = capsys.readouterr().err
    assert "pseudonymous participant code" in err and PERSONAL_DATA not in err


def test_an_ordinary_record_has_no_personal_data():
    assert personal_data_problems(yaml.safe_load(CASE.read_text(encoding="utf-8"))) == []


_TEXT = st.text(alphabet=st.sampled_from("abcXYZ -,:;()/"), max_size=12)
_NUMBERS = st.sampled_from(
    [PHONE, CARD, "138-1234-5678", "+86 138 1234 5678", "x.y@example.com", "110105 1949 1231 002X"]
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(before=_TEXT, number=_NUMBERS, after=_TEXT, depth=st.integers(0, 3))
def test_a_number_anywhere_in_any_text_of_a_document_is_found(before, number, after, depth):
    # the number inside a text of a mapping, at any depth, in a list or not; its path named
    text = f"{before} {number} {after}"
    data: object = {"leaf": text}
    for level in range(depth):
        data = {f"level{level}": [data]}
    problems = personal_data_problems(data)
    assert len(problems) == 1
    assert problems[0].path.endswith("leaf") and number not in str(problems[0])


# -- the last guard: what a command prints about bad input ------------------------------------


def test_a_table_without_its_header_row_never_names_a_column_after_a_persons_cell(tmp_path, capsys):
    # a tester's export without its header: the first row's phone and e-mail became "columns"
    table = tmp_path / "t.csv"
    table.write_text(
        "SYN-9,Zhang San,13812345678,zhang.san@example.com,1978-06-14,female\n"
        "SYN-8,Li Si,13912345678,li.si@example.com,1980-01-02,male\n",
        encoding="utf-8",
    )
    code = main(["prescreen", str(table), "--as-of", "2025-03-03", "--out", str(tmp_path / "o")])
    assert code == 2
    err = capsys.readouterr().err
    assert "(withheld)" in err
    assert "13812345678" not in err and "zhang.san" not in err


_QUOTES = st.sampled_from(["'{}'", '"{}"', "{}"])
_WORDS = st.text(alphabet=st.sampled_from("abc XYZ=:;,.()-_/"), max_size=20)


@settings(max_examples=200, deadline=None)
@given(before=_WORDS, number=_NUMBERS, quote=_QUOTES, after=_WORDS)
def test_a_message_never_keeps_a_value_that_identifies_a_person(before, number, quote, after):
    from protocol.identifiers import redacted

    message = f"{before} {quote.format(number)} {after}"
    shown = redacted(message)
    assert number not in shown and "(withheld)" in shown


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            ["'labs.igg.value'", "'SYN-C000001'", "'2025-03-03'", "'12.5'", "row 3", "=", ":",
             "'g/L'", "SITE-13-001-000001", "'1490000000'", "line 12", "'A1234563'"]
        ),
        max_size=8,
    )
)  # fmt: skip
def test_a_message_without_personal_data_is_kept_as_it_is(parts):
    from protocol.identifiers import redacted

    message = " ".join(parts)
    assert redacted(message) == message
