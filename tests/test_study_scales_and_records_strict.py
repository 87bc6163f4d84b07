"""What a hostile review of `lab`, `diff`, `registry-diff`, `export` and `--study` found, each as
its class:

- a study quantity in a temperature scale or a logarithmic unit (``70 degC``, ``4 dB``) crashed
  every command (exit 4) where it must be refused (exit 2);
- an implausible study quantity (``70 kiloyear`` for the maximum age) was accepted, and an age
  limit in days or months (``25567.5 day``, ``840 month``) passed `registry-check` and `diff`
  but broke or bent the export;
- a registry record's ``false`` and ``0`` compared equal (Python's ``False == 0``);
- `lab` read the eGFR at the age typed where `screen` reads it at the nearest age IN01 admits:
  the two gave different EX24 answers for the same data;
- ``-0`` was refused as negative; a scale on a mass unit (``10^3 g/L``) was read as arithmetic;
- Python's forms (``['AZA']``, ``False``) in `diff`, float noise in `lab`'s readout, and a
  registry record given as ``--study`` answered with its whole eligibility text on one line.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter

from protocol.amendments import _shown, registry_changes
from protocol.errors import Problem, ProtocolDataError
from protocol.facts import Duration, Frequency, Mass, MolarMass, Volume
from protocol.labs import LabInputError, check_lab, check_lab_where_decided
from protocol.participant import ParticipantRecord
from protocol.registry_check import InvalidRecordError, cross_check, load_record
from protocol.screening import screen
from protocol.study import load_study
from protocol.units import ureg
from protocol.washout import WashoutInput, check_washout

REPO = Path(__file__).resolve().parents[1]
CASE01 = REPO / "book" / "cases" / "case01-eligible.yaml"
SCALES = ["degC", "degF", "dB", "decibel", "neper", "octave", "decade", "celsius", "fahrenheit"]


def _trialbook(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trialbook.cli", *args], capture_output=True, text=True, cwd=REPO
    )


# -- a study's quantities ------------------------------------------------------------------------


@pytest.mark.parametrize("unit", SCALES)
@pytest.mark.parametrize("kind", [Mass, Duration, Frequency, MolarMass, Volume])
def test_a_scale_is_refused_as_no_unit_of_amount(kind, unit):
    text = f"1/{unit}" if kind is Frequency else f"70 {unit}"
    with pytest.raises(ValueError, match=r"a scale, not a unit of amount"):
        TypeAdapter(kind).validate_python(text)


@pytest.mark.parametrize(
    ("old", "new", "path"),
    [
        ("    value: 70 year\n", "    value: 70 degC\n", "population.maximum_age"),
        ("    value: 70 year\n", "    value: 70 dB\n", "population.maximum_age"),
        ("      value: 160 mg\n", "      value: 160 degC\n", "interventions[0].dose"),
        ("      value: 16114.5 g/mol\n", "      value: 16114.5 degF\n", "molar_mass"),
    ],
)
def test_a_study_quantity_in_a_scale_is_bad_input_not_a_crash(study_variant, old, new, path):
    with pytest.raises(ProtocolDataError) as caught:
        load_study(study_variant(old, new))
    assert any(path in str(p) and "scale" in str(p) for p in caught.value.problems)
    done = _trialbook("registry-check", "--study", str(study_variant(old, new)))
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr


# each kind's ceiling, and a value just under, at and just over it (in another unit too)
CEILINGS = [
    (Mass, "999 g", "1 kg", "1001 g"),
    (Mass, "999999 mg", "1000 g", "1.001 kg"),
    (Duration, "119 year", "120 year", "121 year"),
    (Duration, "1439 month", "1440 month", "1441 month"),
    (Frequency, "23/day", "24/day", "25/day"),
    (Volume, "9.99 L", "10 L", "10.01 L"),
    (MolarMass, "9999999 g/mol", "10000000 g/mol", "10000001 g/mol"),
]


@pytest.mark.parametrize(("kind", "below", "at", "above"), CEILINGS)
def test_a_study_quantity_is_held_to_its_plausible_ceiling(kind, below, at, above):
    adapter = TypeAdapter(kind)
    adapter.validate_python(below)
    adapter.validate_python(at)
    with pytest.raises(ValueError, match="implausible"):
        adapter.validate_python(above)


def test_an_age_limit_in_kiloyears_is_refused(study_variant):
    for new in ("70 kiloyear", "70 millennium", "121 year"):
        with pytest.raises(ProtocolDataError, match=r"population\.maximum_age"):
            load_study(study_variant("    value: 70 year\n", f"    value: {new}\n"))


@pytest.mark.parametrize("new", ["25567.5 day", "840 month", "3652 week", "70.0 year"])
def test_an_age_limit_is_whole_years_written_in_years(study_variant, new):
    # 70 years in days or months is the same length to pint (its year is 365.25 days), but the
    # age is counted in completed calendar years and the standards export it as P70Y
    if new == "70.0 year":  # the same number, written with a decimal: still whole years
        load_study(study_variant("    value: 70 year\n", f"    value: {new}\n"))
        return
    with pytest.raises(ProtocolDataError, match=r"population\.maximum_age.*whole years"):
        load_study(study_variant("    value: 70 year\n", f"    value: {new}\n"))


def test_an_epoch_of_part_of_a_day_is_refused_by_its_path(study_variant):
    old = "duration: 28 day, first_visit: screening"
    with pytest.raises(ProtocolDataError, match=r"epochs.*duration.*whole number of days"):
        load_study(study_variant(old, old.replace("28 day", "28.5 day")))
    load_study(study_variant(old, old.replace("28 day", "4 week")))  # the same, in weeks


_UNIT_NAMES = st.sampled_from(
    [
        "mg", "g", "kg", "ug", "lb", "day", "week", "month", "year", "hour", "kiloyear",
        "millennium", "century", "mL", "L", "mol", "g/mol", "kg/mol", "degC", "degF", "dB",
        "neper", "octave", "decade", "kelvin", "percent", "radian", "bit",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(
    number=st.decimals(min_value=0, max_value=10**9, places=3, allow_nan=False),
    unit=_UNIT_NAMES,
    kind=st.sampled_from([Mass, Duration, MolarMass, Volume]),
)
def test_any_study_quantity_is_of_its_kind_and_plausible_or_refused(number, unit, kind):
    ceilings = {Mass: "1 kg", Duration: "120 year", MolarMass: "1e7 g/mol", Volume: "10 L"}
    dimensions = {
        Mass: "[mass]",
        Duration: "[time]",
        MolarMass: "[mass]/[substance]",
        Volume: "[length]**3",
    }
    try:
        found = TypeAdapter(kind).validate_python(f"{number} {unit}")
    except ValueError:
        return
    assert found.dimensionality == ureg.get_dimensionality(dimensions[kind])
    assert found.magnitude >= 0
    assert found.to(ureg.Quantity(ceilings[kind]).units).magnitude <= float(
        ureg.Quantity(ceilings[kind]).magnitude
    )


# -- the registry record: JSON's types, never Python's equalities -------------------------------


@pytest.mark.parametrize("changed", [0, 0.0, 1, "false", None])
def test_a_boolean_field_that_is_not_a_boolean_is_a_damaged_record(changed):
    record = copy.deepcopy(load_record())
    record["protocolSection"]["eligibilityModule"]["healthyVolunteers"] = changed
    with pytest.raises(
        InvalidRecordError, match=r"healthyVolunteers is .*; expected true or false"
    ):
        cross_check(load_study(), record)


_JSON_SCALARS = (
    st.none() | st.booleans() | st.integers(-3, 3) | st.floats(-3, 3) | st.text(max_size=3)
)


@settings(max_examples=300, deadline=None)
@given(old=_JSON_SCALARS, new=_JSON_SCALARS)
def test_a_record_field_changed_exactly_when_its_json_changed(old, new):
    before = {"protocolSection": {"eligibilityModule": {"healthyVolunteers": old}}}
    after = {"protocolSection": {"eligibilityModule": {"healthyVolunteers": new}}}
    changed = bool(registry_changes(before, after))
    assert changed == (json.dumps(old) != json.dumps(new))


def test_registry_diff_refuses_a_boolean_written_as_a_number(tmp_path):
    record = copy.deepcopy(load_record())
    old = tmp_path / "old.json"
    old.write_text(json.dumps(record), encoding="utf-8")
    record["protocolSection"]["eligibilityModule"]["healthyVolunteers"] = 0
    new = tmp_path / "new.json"
    new.write_text(json.dumps(record), encoding="utf-8")
    done = _trialbook("registry-diff", str(old), str(new))
    assert done.returncode == 2
    assert "healthyVolunteers is 0" in done.stderr and len(done.stderr.splitlines()) == 1


# -- lab and screen read creatinine's eGFR at the same age --------------------------------------


def _ckd_epi_2021(scr_mg_dl: float, age: int, female: bool) -> float:
    """CKD-EPI 2021 (Inker et al., NEJM 2021), written out here as the test's own oracle."""
    kappa, alpha = (0.7, -0.241) if female else (0.9, -0.302)
    ratio = scr_mg_dl / kappa
    value = 142 * min(ratio, 1) ** alpha * max(ratio, 1) ** -1.200 * 0.9938**age
    return value * (1.012 if female else 1)


@pytest.mark.parametrize(
    ("age", "read_at"),
    [(0, 18), (17, 18), (18, 18), (19, 19), (69, 69), (70, 70), (71, 70), (120, 70)],
)
def test_lab_reads_the_egfr_at_the_nearest_age_in01_admits(age, read_at):
    result = check_lab(
        "creatinine", "1.3", "mg/dL", age=str(age), sex="female", at_admitted_age=True
    )
    assert result.egfr_age == read_at
    assert result.egfr == pytest.approx(_ckd_epi_2021(1.3, read_at, True), rel=1e-9)
    assert (f"read at {read_at}" in result.reason) == (age != read_at)


@pytest.mark.parametrize("age", ["121", "-1", "17.5", "abc"])
def test_lab_refuses_an_age_that_is_no_age(age):
    with pytest.raises(LabInputError):
        check_lab("creatinine", "1.3", "mg/dL", age=age, sex="male", at_admitted_age=True)


def _record(**dates: dt.date) -> ParticipantRecord:
    data = yaml.safe_load(CASE01.read_text(encoding="utf-8"))
    data["dates"] = {**data["dates"], **dates}
    return ParticipantRecord.model_validate(data)


@settings(max_examples=60, deadline=None)
@given(
    born=st.integers(1905, 2015),
    creatinine=st.decimals(min_value="0.5", max_value="3.0", places=2),
)
def test_lab_and_screen_give_the_same_ex24_for_any_age(born, creatinine):
    data = yaml.safe_load(CASE01.read_text(encoding="utf-8"))
    data["dates"]["birth"] = dt.date(born, 1, 1)  # aged 2025 - born at the 2025 screening
    data["labs"]["creatinine"] = {"value": float(creatinine), "unit": "mg/dL"}
    data["labs"].pop("egfr", None)
    ex24 = next(
        c for c in screen(ParticipantRecord.model_validate(data)).criteria if c.id == "EX24"
    )
    alone = check_lab(
        "creatinine",
        str(creatinine),
        "mg/dL",
        age=str(data["dates"]["screening"].year - born),
        sex=data["sex"],
        at_admitted_age=True,
    )
    # every other lab of the case passes: EX24 is the eGFR's verdict
    assert ex24.status == alone.status


def test_the_command_reads_an_89_year_old_as_screen_does():
    done = _trialbook("lab", "creatinine", "1.3", "mg/dL", "--age", "89", "--sex", "female")
    assert done.returncode == 0, done.stderr  # 44.24 at 70; 39.3 at 89, which IN01 excludes
    assert "aged 89, an age IN01 excludes: read at 70" in done.stdout
    assert "44.24" in done.stdout


# -- numbers and units as typed ------------------------------------------------------------------


@pytest.mark.parametrize("zero", ["-0", "-0.0", "-0e0"])
def test_minus_zero_is_zero(zero):
    done = _trialbook("lab", "iga", zero, "mg/dL")
    assert done.returncode == 1, done.stderr  # 0 mg/dL < 10: excluded
    assert done.stdout.startswith("IgA 0 mg/dL < 10 mg/dL: excluded")


def test_minus_one_is_still_refused_as_negative():
    done = _trialbook("lab", "iga", "-1", "mg/dL")
    assert done.returncode == 2 and "negative" in done.stderr


@pytest.mark.parametrize(
    ("analyte", "unit"),
    [("hemoglobin", "10^3 g/L"), ("hemoglobin", "x10^3 mg/dL"), ("igg", "10^6 mg/L")],
)
def test_a_power_of_ten_on_a_mass_unit_is_refused(analyte, unit):
    with pytest.raises(LabInputError, match=r"not read \(a power of ten scales a cell count"):
        check_lab(analyte, "8", unit)


@pytest.mark.parametrize("unit", ["x10^9 cells/L", "10^9/L", "10^3/µL", "×10⁹/L"])
def test_a_power_of_ten_still_scales_a_count(unit):
    assert check_lab("platelets", "75", unit).status == "pass"  # exactly at the limit


@pytest.mark.parametrize(
    ("args", "shown"),
    [
        (("platelets", "74999.9999999", "/mm³"), "= 74.9999999999 ×10⁹/L"),
        (("fvc", "0.499999999999", "fraction"), "= 49.9999999999 % of predicted"),
        (("alt", "60", "U/L", "--uln", "39.9999999999", "U/L"), "= 1.500000000004 × ULN"),
    ],
)
def test_a_converted_value_shows_no_float_noise(args, shown):
    done = _trialbook("lab", *args)
    assert shown in done.stdout, done.stdout


@settings(max_examples=200, deadline=None)
@given(st.decimals(min_value="74.99", max_value="75.01", places=10))
def test_a_count_near_its_limit_is_shown_on_its_side_in_at_most_15_digits(count):
    result = check_lab("platelets", str(count), "10^9/L")
    shown = re.search(r"(\d[\d.]*) 10\^9/L", result.reason)
    assert shown is not None
    digits = shown.group(1).replace(".", "").lstrip("0")
    assert len(digits) <= 15


# -- what a person reads -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (["AZA", "AZT"], "[AZA, AZT]"),
        (False, "false"),
        (True, "true"),
        (None, "(none)"),
        (dt.date(2025, 1, 6), "2025-01-06"),
        ({"a": [1, 2]}, "{a: [1, 2]}"),
        (3.5, "3.5"),
        ("text", "text"),
    ],
)
def test_diff_shows_a_value_as_study_yaml_writes_it(value, shown):
    assert _shown(value) == shown


def test_a_registry_record_given_as_the_study_is_named_so_in_one_short_line():
    record = REPO / "protocol" / "registry" / "NCT06375005.json"
    done = _trialbook("lab", "hemoglobin", "8.5", "g/dL", "--study", str(record))
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1 and len(done.stderr) < 400
    assert "expected a study.yaml" in done.stderr and "protocolSection" in done.stderr


@settings(max_examples=200, deadline=None)
@given(found=st.text(max_size=3000), path=st.text(max_size=30), expected=st.text(max_size=60))
def test_a_problem_is_one_line_of_bounded_length(found, path, expected):
    line = str(Problem(expected, path=path, found=found))
    assert len(line.splitlines()) <= 1
    # each character at most escaped (\\U0010ffff is 10), the value cut to 200
    assert len(line) <= 10 * (len(path) + len(expected) + 200) + 20


# -- screen holds the visit schedule as washout does ---------------------------------------------


def _washout_of(record: ParticipantRecord) -> WashoutInput:
    return WashoutInput(
        planned_randomization=record.dates.planned_randomization,
        screening=record.dates.screening,
        medications=record.medications or [],
        events=record.events or [],
    )


@settings(max_examples=40, deadline=None)
@given(days=st.integers(0, 400))
def test_screen_and_washout_agree_on_a_randomization_too_far_from_screening(days):
    screening = dt.date(2025, 3, 3)
    record = _record(screening=screening, planned_randomization=screening + dt.timedelta(days))
    result = screen(record)
    washout = check_washout(_washout_of(record))
    # the book's schedule (PI18): randomization at most 28 days after the screening visit
    too_far = days > 28
    assert result.verdict == ("not_eligible" if too_far else "eligible")
    assert (result.rescreening is not None) == too_far == washout.requires_rescreening
    assert result.to_json()["requires_rescreening"] == too_far


def test_without_a_screening_date_a_randomization_that_could_be_too_far_is_open():
    # consent on 3 March, randomization on 15 April: a screening between them could be 43 days
    # before randomization, or 14
    data = yaml.safe_load(CASE01.read_text(encoding="utf-8"))
    data["dates"].pop("screening")
    data["dates"]["planned_randomization"] = dt.date(2025, 4, 15)
    result = screen(ParticipantRecord.model_validate(data))
    assert result.verdict == "incomplete" and result.rescreening is None
    assert any(m.startswith("dates.screening") and "28 days" in m for m in result.missing)
    # within 28 days of the consent, every screening after it is within 28 days too
    data["dates"]["planned_randomization"] = dt.date(2025, 3, 31)
    near = screen(ParticipantRecord.model_validate(data))
    assert not any("28 days" in m for m in near.missing)


# -- a second hostile round on the same classes --------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "text"),
    [(Duration, "18 year/dB"), (Mass, "160 mg/dB"), (Volume, "1 mL/Np"), (Volume, "1 mL/degC")],
)
def test_a_scale_inside_a_quotient_is_refused_too(kind, text):
    with pytest.raises(ValueError, match="a scale, not a unit of amount"):
        TypeAdapter(kind).validate_python(text)


@settings(max_examples=300, deadline=None)
@given(top=_UNIT_NAMES, bottom=_UNIT_NAMES, kind=st.sampled_from([Mass, Duration, Volume]))
def test_any_quotient_of_unit_names_is_read_or_refused_never_a_crash(top, bottom, kind):
    text = f"7 {top.split('/')[0]}/{bottom.split('/')[0]}"
    try:
        found = TypeAdapter(kind).validate_python(text)
    except ValueError:
        return
    assert found.magnitude >= 0 and found._is_multiplicative


@pytest.mark.parametrize(
    ("kind", "too_small", "least"),
    [(Mass, "160 u", "1 ug"), (Mass, "0.999 ug", "1 ug"), (Volume, "0.999 uL", "1 uL")],
)
def test_a_study_quantity_is_held_to_its_plausible_floor(kind, too_small, least):
    adapter = TypeAdapter(kind)
    with pytest.raises(ValueError, match="implausible"):
        adapter.validate_python(too_small)
    adapter.validate_python(least)
    adapter.validate_python(f"0 {least.split()[1]}")  # zero stays zero


@pytest.mark.parametrize(
    ("old", "new", "path"),
    [
        ("      value: 10 hour\n", "      value: 0 hour\n", "half_life"),
        ("value: 80 mg", "value: 0 mg", "strength"),
    ],
)
def test_what_nothing_can_be_of_zero_is_refused(study_variant, old, new, path):
    with pytest.raises(ProtocolDataError, match=rf"{path}.*is zero"):
        load_study(study_variant(old, new))


def _record_with(change) -> dict:
    record = copy.deepcopy(load_record())
    change(record)
    return record


def test_a_record_listing_more_phases_than_the_study_disagrees():
    record = _record_with(
        lambda r: r["protocolSection"]["designModule"].update(phases=["PHASE2", "PHASE3"])
    )
    found = cross_check(load_study(), record)
    assert [m.yaml_path for m in found] == ["design.phase"]
    assert "the record lists 2" in found[0].detail


@pytest.mark.parametrize(
    ("where", "key", "value"),
    [
        (("protocolSection", "designModule"), "phases", "PHASE2"),
        (("protocolSection", "conditionsModule"), "conditions", "Diffuse"),
        (("protocolSection", "statusModule"), "overallStatus", 1),
        ((), "hasResults", 0),
        ((), "hasResults", None),
    ],
)
def test_a_record_field_of_the_wrong_json_type_is_a_damaged_record(where, key, value):
    def change(record):
        node = record
        for part in where:
            node = node[part]
        node[key] = value

    with pytest.raises(InvalidRecordError, match=key):
        cross_check(load_study(), _record_with(change))


def test_lab_refuses_an_egfr_an_amendment_admitting_children_would_read_below_18(study_variant):
    study = load_study(study_variant("    value: 18 year\n", "    value: 16 year\n"))
    with pytest.raises(LabInputError, match=r"CKD-EPI 2021 is for adults \(18\+\)"):
        check_lab("creatinine", "1.5", "mg/dL", age="10", sex="female", study=study,
                  at_admitted_age=True)  # fmt: skip
    assert (
        check_lab(
            "creatinine", "1.5", "mg/dL", age="30", sex="female", study=study, at_admitted_age=True
        ).egfr_age
        == 30
    )


def test_a_randomization_not_yet_planned_is_within_the_schedule_s_reach():
    # a live vaccine on the screening day clears four weeks later, on day 29: beyond the 28 days
    # the schedule allows after screening, so no randomization on this screening is eligible
    data = yaml.safe_load(CASE01.read_text(encoding="utf-8"))
    data["dates"].pop("planned_randomization")
    data["events"] = [{"kind": "live_vaccine", "date": data["dates"]["screening"]}]
    result = screen(ParticipantRecord.model_validate(data))
    assert result.verdict == "not_eligible"
    assert {c.id for c in result.criteria if c.status == "fail"} == {"EX26", "EX29"}


def test_washout_without_a_screening_date_says_which_screening_the_date_needs():
    found = check_washout(
        WashoutInput(planned_randomization=dt.date(2025, 4, 1), medications=[], events=[])
    )
    assert "if the screening visit is on or after 2025-03-04" in found.summary


def test_the_markdown_report_says_rescreening_beside_a_failing_criterion():
    from protocol.reports import format_markdown, format_text

    data = yaml.safe_load(CASE01.read_text(encoding="utf-8"))
    data["dates"]["planned_randomization"] = dt.date(2025, 4, 1)
    data["labs"]["hemoglobin"]["value"] = 70
    data["labs"]["hemoglobin"]["unit"] = "g/L"
    result = screen(ParticipantRecord.model_validate(data))
    assert result.verdict == "not_eligible" and result.rescreening
    assert "rescreening is needed" in format_markdown(result)
    assert "rescreening is needed" in format_text(result)


# -- a third hostile round -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "wanted"),
    [
        ("identificationModule.orgStudyIdInfo", ["2024-0381"], "a JSON object"),
        ("statusModule.startDateStruct", "2025-01-06", "a JSON object"),
        ("designModule.designInfo.maskingInfo", "NONE", "a JSON object"),
        ("armsInterventionsModule.armGroups", {"a": 1}, "a JSON array"),
        ("designModule.phases", "PHASE2", "a JSON array"),
    ],
)
def test_a_value_of_another_type_on_the_way_to_a_field_is_a_damaged_record(
    field, value, wanted, tmp_path
):
    record = copy.deepcopy(load_record())
    *parents, last = field.split(".")
    node = record["protocolSection"]
    for key in parents:
        node = node[key]
    node[last] = value
    with pytest.raises(InvalidRecordError, match=re.escape(f"{last} is")) as caught:
        cross_check(load_study(), record)
    assert caught.value.expected == wanted
    # registry-diff holds the record to the same types (it had called them changes)
    old, new = tmp_path / "old.json", tmp_path / "new.json"
    old.write_text(json.dumps(load_record()), encoding="utf-8")
    new.write_text(json.dumps(record), encoding="utf-8")
    done = _trialbook("registry-diff", str(old), str(new))
    assert done.returncode == 2 and len(done.stderr.splitlines()) == 1, done.stderr


def test_screen_says_rescreening_where_washout_does_for_a_window_beyond_the_reach():
    # methotrexate last taken two days after the screening visit clears 31 days after it:
    # no randomization this screening reaches is clear
    data = yaml.safe_load(CASE01.read_text(encoding="utf-8"))
    data["medications"] = [{"name": "methotrexate", "last_dose": dt.date(2025, 3, 5)}]
    record = ParticipantRecord.model_validate(data)
    result = screen(record)
    washout = check_washout(_washout_of(record))
    assert result.verdict == "not_eligible"
    assert washout.requires_rescreening and result.rescreening == washout.summary


@settings(max_examples=40, deadline=None)
@given(after_screening=st.integers(-40, 14))  # doses on or before randomization (day 14)
def test_screen_and_washout_agree_on_rescreening_for_any_last_dose(after_screening):
    data = yaml.safe_load(CASE01.read_text(encoding="utf-8"))
    last = data["dates"]["screening"] + dt.timedelta(after_screening)
    data["medications"] = [{"name": "methotrexate", "last_dose": last}]
    record = ParticipantRecord.model_validate(data)
    assert (screen(record).rescreening is not None) == check_washout(
        _washout_of(record)
    ).requires_rescreening


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("duration: 28 day, first_visit: screening", "duration: 14 day, first_visit: screening"),
        ("duration: 28 day, first_visit: screening", "duration: 42 day, first_visit: screening"),
    ],
)
def test_the_screening_epoch_is_the_screening_visit_s_reach(study_variant, old, new):
    with pytest.raises(ProtocolDataError, match=r"epochs.*duration.*expected 28 day"):
        load_study(study_variant(old, new))


def test_an_age_limit_not_whole_is_shown_as_written(study_variant):
    with pytest.raises(ProtocolDataError, match=r"70\.0000000001 year; expected whole years"):
        load_study(study_variant("    value: 70 year\n", "    value: 70.0000000001 year\n"))


def test_the_verdict_line_says_rescreening_whether_or_not_a_date_is_planned():
    from protocol.reports import verdict_text

    data = yaml.safe_load(CASE01.read_text(encoding="utf-8"))
    data["dates"]["planned_randomization"] = dt.date(2025, 4, 1)
    planned = screen(ParticipantRecord.model_validate(data))
    assert verdict_text(planned).startswith("NOT ELIGIBLE on this screening: the planned")
    # not planned, but a course recorded on day 40 puts randomization beyond the reach
    data["dates"].pop("planned_randomization")
    data["medications"] = [
        {"name": "folic acid", "last_dose": dt.date(2025, 4, 12), "investigator_cleared": True,
         "clearance_reason": "a vitamin"}
    ]  # fmt: skip
    later = screen(ParticipantRecord.model_validate(data))
    assert later.verdict == "not_eligible"
    assert verdict_text(later).startswith("NOT ELIGIBLE on this screening: randomization, on")


def test_lab_without_an_age_under_an_amendment_admitting_children_asks_for_the_age(study_variant):
    # no age was given, so none is named back as if it had been ("aged 16, read at 16"): the
    # age is asked for, since at 16 and 17 the equation gives nothing to decide with
    study = load_study(study_variant("    value: 18 year\n", "    value: 16 year\n"))
    for sex in (None, "female", "male"):
        with pytest.raises(LabInputError) as refused:
            check_lab_where_decided("creatinine", "1.0", "mg/dL", sex=sex, study=study)
        message = str(refused.value)
        assert "no age was given" in message and "admits ages from 16" in message
        assert "expected the age in completed years" in message and "aged" not in message
    # a value refused for itself is refused for its value first
    with pytest.raises(LabInputError, match="implausible"):
        check_lab_where_decided("creatinine", "99999", "mg/dL", study=study)
    # an age given below the equation's is named once, as given
    with pytest.raises(LabInputError) as refused:
        check_lab_where_decided("creatinine", "1.0", "mg/dL", age="17", sex="male", study=study)
    assert "aged 17;" in str(refused.value) and "read at" not in str(refused.value)
    # the adult study still decides without an age where every admitted age agrees
    decided = check_lab_where_decided("creatinine", "1.5", "mg/dL", sex="male")
    assert decided.status == "pass" and "every age from 18 to 70" in decided.reason
