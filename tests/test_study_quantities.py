"""study.yaml's quantities are read strictly, as a participant's values are: a plain decimal and
a unit name, never an expression pint would evaluate. A hostile review found `9**9**9 mg` hanging
`registry-check`, `160 mg*2` read as 320 mg, `160,0 mg` as 1600 mg and `nan mg` exported as a
dose; and two limits the rules could not honour (a disease duration of 535 days rounded to 18
months, a frequency giving 47.8 doses) accepted until a command failed or decided wrongly."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from protocol.errors import ProtocolDataError
from protocol.facts import Duration, Frequency, Mass, MolarMass, quantity_text
from protocol.units import ureg

MASS = TypeAdapter(Mass)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("160 mg", ureg.Quantity(160, "mg")),
        ("0.5 g", ureg.Quantity(0.5, "g")),
        ("160mg", ureg.Quantity(160, "mg")),
        ("  160 mg ", ureg.Quantity(160, "mg")),
        ("113.12 g/mol", ureg.Quantity(113.12, "g/mol")),
    ],
)
def test_a_decimal_and_a_unit_name_is_read(text, expected):
    found = quantity_text(text)
    assert found is not None and found.units == expected.units
    assert found.magnitude == expected.magnitude


@pytest.mark.parametrize(
    "text",
    [
        "9**9**9 mg",  # evaluated, it would not finish
        "160 mg*2",  # evaluated, 320 mg
        "2*80 mg",
        "160,0 mg",  # a decimal comma: ten times the dose if read as pint reads it
        "1_60 mg",
        "1.6e2 mg",
        "nan mg",
        "inf mg",
        "1e309 mg",
        "160 mg # a comment",
        "(160) mg",
        "160 mg mg",
        "١٦٠ mg",  # Arabic-Indic digits
        "160 mgg",
        "",
        "mg",
    ],
)
def test_anything_else_is_refused(text):
    assert quantity_text(text) is None
    with pytest.raises(ValueError):
        MASS.validate_python(text)


def test_a_negative_quantity_is_refused_in_words():
    with pytest.raises(ValueError, match="negative"):
        MASS.validate_python("-160 mg")


@pytest.mark.parametrize(
    ("kind", "text", "per_day"),
    [(Frequency, "1/week", 1 / 7), (Frequency, "2/day", 2), (Frequency, "1.0 1/week", 1 / 7)],
)
def test_a_frequency_is_a_count_per_unit_of_time(kind, text, per_day):
    found = TypeAdapter(kind).validate_python(text)
    assert found.to("1/day").magnitude == pytest.approx(per_day, rel=1e-12)


@settings(max_examples=300, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(list("0123456789.,_*/()^eE+- mgLlkdaywhourstnfi#µ")), max_size=14
    )
)
def test_whatever_the_text_it_is_a_decimal_and_a_unit_or_refused(text):
    # never evaluated: a text that is read holds exactly one decimal number, and the quantity's
    # magnitude is that number (or that count per unit of time), whatever else the text says
    for kind in (Mass, Duration, Frequency, MolarMass):
        try:
            found = TypeAdapter(kind).validate_python(text)
        except ValueError:
            continue
        numbers = re.findall(r"[0-9]+(?:\.[0-9]+)?", text)
        assert len(numbers) <= 2  # "1.0 1/week": the count, and the 1 of "1/"
        assert Decimal(str(found.magnitude)) == Decimal(numbers[0])


def _load(study_variant, old, new):
    from protocol.study import load_study

    return load_study(study_variant(old, new))


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # a limit counted in calendar months (PI10) must be a whole number of them
        ("    value: 18 month\n", "    value: 535 day\n", "535 day is in days"),
        ("    value: 18 month\n", "    value: 2 week\n", "whole number of months"),
        ("    value: 18 month\n", "    value: 18.5 month\n", "18.5 months"),
        # days or weeks are no calendar months, even as many as pint's average month holds
        # (18 x 30.436875 days; helper 136: it was read as 18 months), and 78 weeks either
        ("    value: 18 month\n", "    value: 547.875 day\n", "547.875 day is in days"),
        ("    value: 18 month\n", "    value: 78 week\n", "78 week is in weeks"),
        # the calendar counts doses as duration x frequency: 52 a year over 48 weeks is 47.8
        ("      value: 1/week\n", "      value: 52/year\n", "47.8357 doses"),
        ("      value: 160 mg\n", "      value: 9**9**9 mg\n", "not a quantity"),
        # haemoglobin's threshold in an amount per volume: said in the book's words, not pint's
        # ("[substance] / [length] ** 3"; helper 136)
        (
            '      value: "< 8.0 g/dL"\n',
            '      value: "< 4.9648 mmol/L"\n',
            "is not in the units of protocol_unit 'g/dL': expected a unit of the same kind that "
            "converts to it, such as g/dL",
        ),
    ],
)
def test_a_study_with_a_limit_its_rules_cannot_honour_is_refused(study_variant, old, new, expected):
    with pytest.raises(ProtocolDataError, match=re.escape(expected)):
        _load(study_variant, old, new)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("    value: 18 month\n", "    value: 1.5 year\n"),  # 18 months, written in years
        ("      value: 2/day\n", "      value: 14/week\n"),  # twice daily, in weeks
    ],
)
def test_a_study_with_limits_in_other_whole_units_is_read(study_variant, old, new):
    _load(study_variant, old, new)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # a yes/no answer or a number is written as such: YAML 1.1's words and Python's
        # True == 1 are not (mrss_minimum: true once screened an mRSS of 9 as >= 1)
        ("  healthy_volunteers:\n    value: false\n", "  healthy_volunteers:\n    value: no\n",
         "expected true or false"),
        ("  mrss_minimum:\n    value: 10\n", "  mrss_minimum:\n    value: true\n",
         "expected a whole number"),
        ("  mrss_minimum:\n    value: 10\n", "  mrss_minimum:\n    value: 10.5\n",
         "expected a whole number"),
        # values every computation divides by, or that turn the eGFR equation round
        ("      value: 0.6206 mmol/L per g/dL\n", "      value: 0 mmol/L per g/dL\n",
         "a factor of zero"),
        ("    constant: 142\n", "    constant: -142\n", "constant -142.0: expected a number in"),
        ("    exponent_above: -1.200\n", "    exponent_above: 1.2\n", "a number in [-3, 0)"),
        ("    age_base: 0.9938\n", "    age_base: 1.5\n", "a number in [0.9, 1)"),
        ("chinese_name: 泼尼松\n    named_in_record: true\n    prednisone_5mg_equivalent:\n"
         "      value: 5 mg\n", "chinese_name: 泼尼松\n    named_in_record: true\n"
         "    prednisone_5mg_equivalent:\n      value: 0 mg\n", "expected a positive mass"),
        # sizes no trial has, which hung the calendar or overflowed its dates
        ("      value: 1/week\n", "      value: 100000/day\n", "at most 24/day"),
        # the exported CDISC code must say the frequency the calendar counts
        ("      value: 1/week\n", "      value: 2/week\n", "means 1/week; expected the two"),
        ("    value: 3 month\n    provenance: registry\n    registry_field: protocolSection."
         "eligibilityModule.eligibilityCriteria\n    quote: and cyclophosphamide",
         "    value: 1000 year\n    provenance: registry\n    registry_field: protocolSection."
         "eligibilityModule.eligibilityCriteria\n    quote: and cyclophosphamide",
         "at most 120 year"),
        ("    value: 3 month\n    provenance: registry\n    registry_field: protocolSection."
         "eligibilityModule.eligibilityCriteria\n    quote: and cyclophosphamide",
         "    value: 110 year\n    provenance: registry\n    registry_field: protocolSection."
         "eligibilityModule.eligibilityCriteria\n    quote: and cyclophosphamide",
         "longer than 100 years"),
        ("{id: week_4, label: Week 4, day: 29,", "{id: week_4, label: Week 4, day: 99999999,",
         "within 3653 days"),
        ("day: 29, window_before: P3D,", "day: 29, window_before: -P3D,", "0 to 3653 days"),
        # the rules read each analyte by name
        ("  - name: hemoglobin\n", "  - name: haemoglobin_b\n", "hemoglobin missing"),
    ],
)  # fmt: skip
def test_a_study_value_no_rule_can_use_is_refused(study_variant, old, new, expected):
    with pytest.raises(ProtocolDataError, match=re.escape(expected)):
        _load(study_variant, old, new)


def test_the_rule_analytes_cover_every_analyte_a_criterion_reads():
    from protocol.screening import EX24_ANALYTES
    from protocol.study import RULE_ANALYTES

    assert {*EX24_ANALYTES, "egfr", "creatinine", "iga", "igg"} == set(RULE_ANALYTES)


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # an amendment the rules would apply wrongly, or not at all, is refused (exit 2)
        (
            "      value: 0.6206 mmol/L per g/dL\n",
            "      value: 0.6206 kg per g/dL\n",
            "expected an amount of substance per volume for each mass per volume",
        ),
        ("    alpha_female: -0.241\n", "    alpha_female: -500.0\n", "a number in [-3, 0)"),
        ("    computes: egfr\n", "    computes: hemoglobin\n", "expected 'egfr'"),
        (
            "  minimum_age:\n    value: 18 year\n",
            "  minimum_age:\n    value: 80 year\n",
            "no one could be eligible",
        ),
        ("    value: 38\n", "    value: -38\n", "expected a positive count"),
        ("      value: 160 mg\n", "      value: 0 mg\n", "expected a positive dose"),
    ],
)
def test_an_amendment_the_rules_cannot_apply_is_refused(study_variant, old, new, expected):
    with pytest.raises(ProtocolDataError, match=re.escape(expected)):
        _load(study_variant, old, new)


@pytest.mark.parametrize("written", ["< -8.0 g/dL", "< 1e300 g/dL", "<= 8.0 g/dL", "< 7.5e1 g/dL"])
def test_a_threshold_whose_number_is_not_plain_is_refused_for_its_number(written):
    """The message names the number, not the unit ('-8.0 g/dL' read as a unit blamed pint)."""
    from protocol.facts import parse_threshold

    with pytest.raises(ValueError, match="then a plain decimal") as refused:
        parse_threshold(written)
    assert "unit" not in str(refused.value).split("then")[0]


#: Decimal digits of other scripts: full-width, Arabic-Indic, Devanagari, Bengali, Thai.
_OTHER_DIGITS = ["０１２３４５６７８９", "٠١٢٣٤٥٦٧٨٩", "०१२३४५६७८९", "০১২৩৪৫৬৭৮৯", "๐๑๒๓๔๕๖๗๘๙"]


@settings(max_examples=40, deadline=None)
@given(
    threshold=st.sampled_from(["< 8.0 g/dL", "< 3 x 10^9/L", "> 1.5 x ULN", "< 40 mL/min/1.73 m²"]),
    digits=st.sampled_from(_OTHER_DIGITS),
    data=st.data(),
)
def test_a_threshold_written_with_another_scripts_digit_is_refused(threshold, digits, data):
    # '< ８.0 g/dL' validated and agreed with the registry, while lab, ages and days refuse
    # such digits
    from protocol.facts import parse_threshold

    places = [i for i, ch in enumerate(threshold) if "0" <= ch <= "9"]
    at = data.draw(st.sampled_from(places))
    written = threshold[:at] + digits[int(threshold[at])] + threshold[at + 1 :]
    with pytest.raises(ValueError, match="write its number in the digits 0-9"):
        parse_threshold(written)
    assert parse_threshold(threshold).written == threshold  # the digits 0-9 are read


@pytest.mark.parametrize(
    ("multiple", "refused"),
    [
        # ALT's values 1 to 20000 U/L over ULNs of 5 to 200 U/L: multiples from 1/200 = 0.005
        # to 20000/5 = 4000 (helper 135: > 0 × ULN was read, and excluded every result)
        ("0", True),
        ("0.005", True),
        ("0.0051", False),
        ("3999", False),
        ("4000", True),
    ],
)
def test_a_multiple_of_the_uln_no_plausible_result_reaches_is_refused(
    study_variant, multiple, refused
):
    from protocol.study import load_study

    variant = study_variant('value: "> 1.5 × ULN"', f'value: "> {multiple} × ULN"', count=2)
    if refused:
        with pytest.raises(ProtocolDataError, match=re.escape("0.005 to 4000 × ULN")):
            load_study(variant)
    else:
        load_study(variant)
