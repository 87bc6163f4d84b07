"""`trialbook lab`: exit codes 0 / 1 / 2, text and JSON output."""

from __future__ import annotations

import json

import pytest

from trialbook.cli import main

pytestmark = pytest.mark.traces("lab_analytes")


@pytest.mark.parametrize(
    ("argv", "code"),
    [
        (["hemoglobin", "78", "g/L"], 1),
        (["hemoglobin", "80", "g/L"], 0),  # at the threshold: passes
        (["hemoglobin", "81", "g/L"], 0),
        (["alt", "61", "U/L", "--uln", "40", "U/L"], 1),
        (["alt", "60", "IU/L", "--uln", "40", "U/L"], 0),
        (["creatinine", "300", "umol/L", "--age", "60", "--sex", "male"], 1),
        (["creatinine", "80", "µmol/L", "--age", "60", "--sex", "female"], 0),
        (["hemoglobin", "8", "U/L"], 2),
        (["hemoglobin", "eight", "g/dL"], 2),
        (["hemoglobin", "-8", "g/dL"], 2),
        (["alt", "61", "U/L"], 2),  # ULN missing
        (["creatinine", "141", "umol/L"], 2),  # age and sex missing, and they decide it
        (["creatinine", "80", "umol/L"], 0),  # age and sex missing: passes at every one
        (["sodium", "140", "mmol/L"], 2),
        (["hemoglobin", "8"], 2),  # unit missing: usage error
    ],
)
def test_exit_codes(argv, code, capsys):
    assert main(["lab", *argv]) == code
    captured = capsys.readouterr()
    if code == 2:
        assert "error" in captured.err and "Traceback" not in captured.err
    else:
        assert captured.out.strip()


def test_text_output_is_the_sentence_for_the_screening_log(capsys):
    main(["lab", "hemoglobin", "78", "g/L"])
    assert capsys.readouterr().out == "Hemoglobin 78 g/L = 7.8 g/dL < 8.0 g/dL: excluded (EX24)\n"


def test_json_output_has_the_fields(capsys):
    assert main(["lab", "igg", "3.9", "g/L", "--json"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert result["analyte"] == "igg"
    assert result["value"] == 3.9 and result["unit"] == "g/L"
    assert result["value_in_protocol_unit"] == pytest.approx(390)
    assert result["protocol_unit"] == "mg/dL"
    assert result["threshold"] == "< 400 mg/dL"
    assert result["status"] == "fail" and result["criterion"] == "EX22"
    assert result["reason"].endswith("excluded (EX22)")


def test_json_of_creatinine_carries_the_egfr(capsys):
    main(["lab", "creatinine", "0.9", "mg/dL", "--age", "55", "--sex", "female", "--json"])
    result = json.loads(capsys.readouterr().out)
    assert result["egfr"] == pytest.approx(75.5, abs=0.05)
    assert result["threshold"] == "< 40 mL/min/1.73 m²"


@pytest.mark.parametrize(("status", "code"), [("fail", 1), ("pass", 0)])
def test_the_lab_exit_code_rule_is_one_function(status, code):
    from types import SimpleNamespace

    from trialbook.cli import lab_exit_code

    assert lab_exit_code(SimpleNamespace(status=status)) == code


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["hemoglobin", "-8", "g/dL"], "error: Hemoglobin: the value '-8' is negative"),
        (["hemoglobin", "eight", "g/dL"], "error: Hemoglobin: "),
        (
            ["alt", "30", "U/L", "--uln", "-40", "U/L"],
            "error: Alanine aminotransferase (ALT): the ULN value '-40'",
        ),
    ],
)
def test_a_refused_value_is_named_with_its_analyte_like_any_other(argv, named, capsys):
    """A negative value (which argparse would take for an option) is refused in the words of
    any other refused value: the analyte, the value and what is expected, on one line."""
    assert main(["lab", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith(named) and err.count("\n") == 1
    assert "expected" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["hemoglobin", "8", "g" * 5000],
        ["h" * 5000, "8", "g/dL"],
        ["creatinine", "1", "mg/dL", "--age", "40", "--sex", "f" * 5000],
        ["alt", "60", "U/L", "--uln", "40", "U" * 5000],
    ],
)
def test_a_pasted_paragraph_is_not_echoed_whole(argv, capsys):
    # a 10,000-character unit had given a 10,102-character error line: the text is quoted
    # shortened, as a refused value is
    assert main(["lab", *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and len(err) < 400, len(err)


# -- the age beside a creatinine: completed years in digits, nothing else read as one ---------

from hypothesis import example, given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from protocol.labs import LabInputError, parse_age_and_sex  # noqa: E402


@given(years=st.integers(min_value=18, max_value=120), padding=st.sampled_from(["", " "]))
def test_an_age_in_digits_is_read_as_those_years(years, padding):
    assert parse_age_and_sex(f"{padding}{years}{padding}", "female") == (years, "female")


@given(
    years=st.integers(min_value=18, max_value=120),
    written=st.sampled_from(["{:.0e}", "{:.1e}", "+{}", "{}.0", "{}.00", "{}e0", "{}E0"]),
)
@example(years=10, written="1e1")
def test_an_age_not_in_digits_is_refused_whatever_number_it_reads_as(years, written):
    # '1e1' was read as 10 and '+46' as 46: an age is written in digits, never evaluated
    text = written.format(float(years) if written.startswith("{:.") else years)
    with pytest.raises(LabInputError, match=r"age .* whole years"):
        parse_age_and_sex(text, "female")


@pytest.mark.parametrize("age", ["1e1", "4.6e1", "+46", "46.0"])
def test_the_command_refuses_an_age_not_in_digits(age, capsys):
    code = main(["lab", "creatinine", "1.0", "mg/dL", "--age", age, "--sex", "female"])
    assert code == 2
    assert f"the age '{age}' is not written as whole years" in capsys.readouterr().err


def test_a_negative_age_is_asked_for_as_an_age(capsys):
    # '--age -1' was answered "expected a decimal number ..., such as 7.5" (helper 117): an
    # age is asked for in completed years
    assert main(["lab", "creatinine", "1.6", "mg/dL", "--age", "-1", "--sex", "female"]) == 2
    err = capsys.readouterr().err
    assert "expected the age in completed years, such as 46" in err and "7.5" not in err


@pytest.mark.parametrize("uln", ["-40", "-0.5", "-inf"])
def test_a_negative_uln_is_asked_for_as_a_positive_limit(uln, capsys):
    # '--uln -40' asked for "a decimal number of zero or more", and '--uln 0' was then refused
    # as zero (helper 130): a ULN is asked for as the positive limit it must be
    assert main(["lab", "alt", "60", "U/L", "--uln", uln, "U/L"]) == 2
    err = capsys.readouterr().err
    assert "expected a positive upper limit of normal" in err and "zero or more" not in err


def test_a_zero_uln_is_refused_as_the_negative_one_says():
    assert main(["lab", "alt", "60", "U/L", "--uln", "0", "U/L"]) == 2


@pytest.mark.parametrize("space", ["\u00a0", "\u2009", "\u202f", "\u3000"])
def test_a_space_other_than_the_plain_one_inside_a_unit_is_named(space, capsys):
    # 'mL/min/1.73<NBSP>m²', pasted from a report, was refused as holding "a control character,
    # tab or line break" (helper 130): the message names what it holds
    assert main(["lab", "egfr", "40", f"mL/min/1.73{space}m²"]) == 2
    err = capsys.readouterr().err
    assert "a space other than the plain one" in err and err.count("\n") == 1
