"""Weak spots a mutation review found (issue 11): each test fails on a plausible wrong rule.

Expected values are written by hand from the registry text, the documented conventions (PI09,
PI20, PI26) and the published factors; none is copied from the code's output.
"""

from __future__ import annotations

import copy
from datetime import date, timedelta

import pandas as pd
import pytest
import yaml

from protocol.errors import ProtocolDataError
from protocol.labs import LabInputError, analytes, check_lab, check_lab_column
from protocol.participant import parse_record
from protocol.screening import screen
from protocol.washout import check_washout, parse_washout_input
from tests.conftest import REPO

ELIGIBLE = yaml.safe_load((REPO / "book/cases/case01-eligible.yaml").read_text())
SCREENING = date(2025, 3, 3)
RANDOMIZATION = date(2025, 3, 17)
DAY = timedelta(days=1)


def _screen(**changes):
    data = copy.deepcopy(ELIGIBLE)
    for path, value in changes.items():
        node = data
        keys = path.split("__")
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        if value is None:
            node.pop(keys[-1], None)
        else:
            node[keys[-1]] = value
    result = screen(parse_record(data, "weak spot"))
    return result, {c.id: c.status for c in result.criteria}


def _washout(medications=(), events=(), randomization=RANDOMIZATION, screening=SCREENING):
    data = {
        "planned_randomization": randomization,
        "screening": screening,
        "medications": list(medications),
        "events": list(events),
    }
    return check_washout(parse_washout_input(data, "weak spot"))


# -- which status wins ----------------------------------------------------------------------


@pytest.mark.traces("criteria.IN01", "criteria.EX22")
def test_a_failing_criterion_beats_an_unknown_one_in_the_verdict():
    # IN01 fails (born 1950: 74 at screening) and EX22 is unknown (IgG missing)
    result, statuses = _screen(dates__birth=date(1950, 6, 14), labs__igg=None)
    assert statuses["IN01"] == "fail" and statuses["EX22"] == "unknown"
    assert result.verdict == "not_eligible"


@pytest.mark.traces("criteria.EX24")
def test_a_failing_lab_beats_a_missing_lab_within_ex24():
    # haemoglobin 7.9 g/dL < 8.0 fails; platelets not recorded
    _, statuses = _screen(labs__hemoglobin={"value": 7.9, "unit": "g/dL"}, labs__platelets=None)
    assert statuses["EX24"] == "fail"
    _, statuses = _screen(labs__platelets=None)
    assert statuses["EX24"] == "unknown"


@pytest.mark.traces("criteria.EX09", "medication_classes.immunosuppressants")
def test_a_failing_entry_beats_an_unknown_one_in_the_washout():
    result = _washout(
        [
            {"name": "methotrexate", "last_dose": RANDOMIZATION - 7 * DAY},  # within 4 weeks
            {"name": "pentoxifylline", "ongoing": True},  # not in the catalogue: unknown
        ]
    )
    assert [e.status for e in result.entries] == ["fail", "unknown"]
    assert result.status == "fail"


# -- the vectorized lab path at each threshold ------------------------------------------------

#: Each direct threshold in its protocol unit, written from the registry text.
THRESHOLDS = {
    "hemoglobin": (8.0, "g/dL", "<"),
    "wbc": (3, "10^9/L", "<"),
    "neutrophils": (1.5, "10^9/L", "<"),
    "platelets": (75, "10^9/L", "<"),
    "egfr": (40, "mL/min/1.73 m²", "<"),
    "iga": (10, "mg/dL", "<"),
    "igg": (400, "mg/dL", "<"),
    "fvc": (50, "%", "<"),
    "dlco": (40, "%", "<"),
}


@pytest.mark.traces(
    "lab_analytes.hemoglobin",
    "lab_analytes.wbc",
    "lab_analytes.neutrophils",
    "lab_analytes.platelets",
    "lab_analytes.egfr",
    "lab_analytes.iga",
    "lab_analytes.igg",
    "lab_analytes.fvc",
    "lab_analytes.dlco",
)
@pytest.mark.parametrize("name", sorted(THRESHOLDS))
def test_the_vectorized_and_scalar_paths_agree_at_each_threshold(name):
    limit, unit, _ = THRESHOLDS[name]
    # at the threshold, and within a relative 1e-15 of it (conversion noise): passes, on the
    # boundary; a relative 1e-12 below (twelve digits) is a difference a laboratory reported
    values = [
        limit * (1 - 1e-6),
        limit * (1 - 1e-10),
        limit * (1 - 1e-12),
        limit * (1 - 1e-15),
        limit,
        limit * (1 + 1e-15),
        limit * 1.000001,
    ]
    expected = ["fail", "fail", "fail", "pass", "pass", "pass", "pass"]
    table = check_lab_column(name, pd.Series(values), unit)
    assert list(table["status"]) == expected
    assert list(table["on_boundary"]) == [False, False, False, True, True, True, False]
    assert [check_lab(name, v, unit).status for v in values] == expected


@pytest.mark.traces("lab_analytes.alt", "lab_analytes.ast", "lab_analytes.total_bilirubin")
@pytest.mark.parametrize(
    ("name", "uln", "unit"),
    [("alt", 40, "U/L"), ("ast", 40, "U/L"), ("total_bilirubin", 21, "µmol/L")],
)
def test_the_vectorized_uln_path_at_the_threshold_and_refusing_a_zero_uln(name, uln, unit):
    multiple = 1.5 if name != "total_bilirubin" else 1.0  # registry: > 1.5 x ULN; TBil > ULN
    values = [uln * multiple, uln * multiple * 1.000001]
    table = check_lab_column(name, pd.Series(values), unit, uln=pd.Series([uln, uln]))
    assert list(table["status"]) == ["pass", "fail"]
    scalar = [check_lab(name, v, unit, uln=uln, uln_unit=unit).status for v in values]
    assert scalar == ["pass", "fail"]
    with pytest.raises(LabInputError):
        check_lab(name, values[0], unit, uln=0, uln_unit=unit)
    with pytest.raises(LabInputError):
        check_lab_column(name, pd.Series(values[:1]), unit, uln=pd.Series([0]))


# -- eGFR: CKD-EPI 2021 is for ages 18 to 120 --------------------------------------------------


@pytest.mark.traces("lab_analytes.creatinine")
@pytest.mark.parametrize(("age", "accepted"), [(17, False), (18, True), (120, True), (121, False)])
def test_the_egfr_age_bounds(age, accepted):
    if accepted:
        assert check_lab("creatinine", 0.9, "mg/dL", age=age, sex="female").egfr > 0
    else:
        with pytest.raises(LabInputError, match="18-120"):
            check_lab("creatinine", 0.9, "mg/dL", age=age, sex="female")


# -- dates on the anchor day ------------------------------------------------------------------


@pytest.mark.traces("exposure_events.oral_antibiotics", "criteria.EX20")
def test_an_event_on_the_screening_day_is_within_its_window():
    entry = _washout(events=[{"kind": "oral_antibiotics", "date": SCREENING}]).entries[0]
    assert entry.status == "fail" and entry.requires_rescreening


@pytest.mark.traces("medication_classes.immunosuppressants", "criteria.EX09")
def test_a_last_dose_on_the_randomization_day_is_within_its_window():
    entry = _washout([{"name": "azathioprine", "last_dose": RANDOMIZATION}]).entries[0]
    assert entry.status == "fail"
    assert entry.clears_on == RANDOMIZATION + 28 * DAY + DAY  # 4 weeks, the boundary day within


@pytest.mark.traces("medication_classes.corticosteroids", "criteria.EX11")
@pytest.mark.parametrize("route", ["iv", "im"])
def test_the_injection_boundary_day_is_flagged_and_excludes(route):
    first_day = RANDOMIZATION - 28 * DAY  # 2025-02-17, the first day of the 4-week window
    on = _washout([{"name": "methylprednisolone", "last_dose": first_day, "route": route}])
    assert on.entries[0].status == "fail" and on.entries[0].on_boundary
    before = _washout(
        [{"name": "methylprednisolone", "last_dose": first_day - DAY, "route": route}]
    )
    assert before.entries[0].status == "pass" and not before.entries[0].on_boundary


# -- every frequency spelling (prednisone 5 mg: mg of prednisone on each dosing day) ------------

FREQUENCY_AMOUNTS = {
    "once": 5,
    "single dose": 5,
    "daily": 5,
    "once daily": 5,
    "once a day": 5,
    "qd": 5,
    "od": 5,
    "every 24 hours": 5,
    "q24h": 5,
    "twice daily": 10,
    "twice a day": 10,
    "bid": 10,
    "every 12 hours": 10,
    "q12h": 10,
    "three times daily": 15,
    "three times a day": 15,
    "tid": 15,
    "every 8 hours": 15,
    "q8h": 15,
    "four times daily": 20,
    "four times a day": 20,
    "qid": 20,
    "every 6 hours": 20,
    "q6h": 20,
    # PI26: a non-daily dose counts on its dosing day
    "every other day": 5,
    "alternate days": 5,
    "every 48 hours": 5,
    "q48h": 5,
    "weekly": 5,
    "once weekly": 5,
    "once a week": 5,
    "every 2 weeks": 5,
    "monthly": 5,
}


@pytest.mark.traces("corticosteroid_rule.daily_limit", "medication_classes.corticosteroids")
@pytest.mark.parametrize(("frequency", "mg"), sorted(FREQUENCY_AMOUNTS.items()))
def test_every_frequency_spelling(frequency, mg):
    med = {"name": "prednisone", "ongoing": True, "dose": "5 mg", "route": "oral"}
    entry = _washout([med | {"frequency": frequency.upper()}]).entries[0]
    assert f"= {mg} mg" in entry.reason
    assert entry.status == ("fail" if mg > 10 else "pass")


def test_every_frequency_the_book_accepts_is_in_the_table():
    from protocol.washout import FREQUENCIES

    assert set(FREQUENCIES) == set(FREQUENCY_AMOUNTS)


# -- LeRoy with the back only ------------------------------------------------------------------

DISTAL_ONLY = {
    **{area: 0 for area in ELIGIBLE["ssc"]["mrss"]["areas"]},
    "right_hand": 2,
    "left_hand": 2,
    "right_fingers": 2,
    "left_fingers": 2,
    "right_forearm": 1,
    "left_forearm": 1,
}


@pytest.mark.traces("criteria.IN03", "criteria.EX01")
@pytest.mark.parametrize(
    ("back", "in03", "ex01"),
    [(True, "pass", "pass"), (False, "fail", "fail"), (None, "unknown", "unknown")],
)
def test_leroy_with_back_involvement_as_the_only_proximal_area(back, in03, ex01):
    # distal areas thickened, every proximal mRSS area 0: the back decides diffuse or limited
    _, statuses = _screen(ssc__mrss={"areas": DISTAL_ONLY}, ssc__back_skin_thickening=back)
    assert (statuses["IN03"], statuses["EX01"]) == (in03, ex01)


# -- EX01, EX08 and EX23 through the screening engine -----------------------------------------


@pytest.mark.traces("criteria.EX01")
def test_ex01_fails_limited_cutaneous_disease():
    _, statuses = _screen(ssc__mrss={"areas": DISTAL_ONLY}, ssc__back_skin_thickening=False)
    assert statuses["EX01"] == "fail" and statuses["IN03"] == "fail"


@pytest.mark.traces("criteria.EX08", "exposure_events.major_surgery")
@pytest.mark.parametrize(
    ("days_before", "expected"),
    [(56, "fail"), (57, "pass")],  # 8 weeks = 56 days: within
)
def test_ex08_major_surgery_8_weeks_before_randomization(days_before, expected):
    events = [{"kind": "major_surgery", "date": RANDOMIZATION - days_before * DAY}]
    _, statuses = _screen(events=events)
    assert statuses["EX08"] == expected


@pytest.mark.traces("criteria.EX08", "exposure_events.planned_major_surgery")
def test_ex08_a_surgery_planned_in_the_trial_fails_through_the_screening_engine():
    planned = [{"kind": "planned_major_surgery", "date": RANDOMIZATION + 100 * DAY}]
    assert _screen(events=planned)[1]["EX08"] == "fail"
    later = [{"kind": "planned_major_surgery", "date": RANDOMIZATION + 400 * DAY}]
    assert _screen(events=later)[1]["EX08"] == "pass"


@pytest.mark.traces("criteria.EX23", "exposure_events.investigational_drug")
@pytest.mark.parametrize(
    ("last", "expected"), [(date(2024, 12, 3), "fail"), (date(2024, 12, 2), "pass")]
)  # 3 calendar months before screening 2025-03-03 is 2024-12-03, within
def test_ex23_through_the_screening_engine(last, expected):
    events = [{"kind": "investigational_drug", "date": last}]
    assert _screen(events=events)[1]["EX23"] == expected


def test_a_lab_of_the_wrong_kind_in_a_record_is_bad_input_not_unknown():
    with pytest.raises(ProtocolDataError, match=r"labs\.hemoglobin\.unit"):
        _screen(labs__hemoglobin={"value": 12, "unit": "U/L"})
    assert analytes()["hemoglobin"].criterion == "EX24"


@pytest.mark.traces("criteria.EX12", "medication_classes.ivig")
@pytest.mark.parametrize(
    ("days_before", "expected"),
    [(35, "fail"), (84, "fail"), (85, "pass")],  # PI02: the longer window, 12 weeks = 84 days
)
def test_ex12_ivig_through_the_screening_engine(days_before, expected):
    meds = [{"name": "IVIG", "last_dose": RANDOMIZATION - days_before * DAY}]
    assert _screen(medications=meds)[1]["EX12"] == expected


@pytest.mark.traces("criteria.EX26", "criteria.EX29", "exposure_events.live_vaccine")
@pytest.mark.parametrize(("days_before", "expected"), [(28, "fail"), (29, "pass")])
def test_ex26_and_ex29_the_live_vaccine_window_through_the_screening_engine(days_before, expected):
    events = [{"kind": "live_vaccine", "date": RANDOMIZATION - days_before * DAY}]
    statuses = _screen(events=events)[1]
    assert statuses["EX26"] == statuses["EX29"] == expected  # the record repeats it (PI03)


@pytest.mark.traces("lab_analytes.creatinine")
@pytest.mark.parametrize(
    ("typed", "sex"),
    [("female", "female"), ("Female", "female"), (" FEMALE ", "female"), ("male", "male"),
     ("Male", "male")],
)  # fmt: skip
def test_the_sex_spellings_of_the_lab_command(typed, sex):
    # creatinine 0.9 mg/dL at 55: the sentence names the sex the equation used
    result = check_lab("creatinine", 0.9, "mg/dL", age=55, sex=typed)
    assert f"({sex}, 55 years)" in result.reason


@pytest.mark.traces("lab_analytes.creatinine")
@pytest.mark.parametrize("typed", ["f", "F", "woman", "m", "M", "man", "fem", "女", ""])
def test_an_abbreviated_sex_is_refused_by_the_lab_command_as_by_the_record(typed):
    # a tester: `lab --sex F` was read while its own refusal said "one of: female, male", and
    # prescreen and the record refuse F
    with pytest.raises(LabInputError, match="is not one of: female, male"):
        check_lab("creatinine", 0.9, "mg/dL", age=55, sex=typed)


@pytest.mark.traces("lab_analytes.creatinine")
@pytest.mark.parametrize(("age", "sex"), [(None, "female"), (55, None), (None, None)])
def test_egfr_from_creatinine_needs_the_age_and_the_sex(age, sex):
    needed = " and ".join(
        words
        for words, absent in (
            ("the age in completed years", age is None),
            (r"the sex \(female or male\)", sex is None),
        )
        if absent
    )
    with pytest.raises(LabInputError, match=f"needs {needed}$"):
        check_lab("creatinine", 0.9, "mg/dL", age=age, sex=sex)


@pytest.mark.traces("lab_analytes.hemoglobin", "lab_analytes.alt", "lab_analytes.creatinine")
def test_each_analyte_is_built_from_its_study_yaml_entry():
    """Built afresh (not the cached one), so a wrong field of the builder is seen."""
    from protocol.labs import Analyte
    from protocol.study import load_study

    built = {entry.name: Analyte.from_study(entry) for entry in load_study().lab_analytes}
    hb, alt, creatinine, wbc = (built[n] for n in ("hemoglobin", "alt", "creatinine", "wbc"))
    assert (hb.name, hb.label, hb.short_label, hb.criterion) == (
        "hemoglobin",
        "Hemoglobin",
        "Hemoglobin",
        "EX24",
    )
    assert str(hb.threshold) == "< 8.0 g/dL" and hb.computes is None
    assert (str(hb.protocol_unit), str(hb.value_unit), str(hb.si_unit)) == (
        "gram / deciliter",
        "gram / deciliter",
        "gram / liter",
    )
    assert hb.accepted_units == ("g/dL", "g/L", "mmol/L") and hb.molar_mass is not None
    assert str(hb.plausible) == "1 to 25 g/dL" and hb.uln_plausible is None
    assert (alt.short_label, str(alt.protocol_unit), str(alt.value_unit)) == (
        "ALT",
        "times_ULN",
        "enzyme_unit / liter",
    )
    assert alt.molar_mass is None and str(alt.uln_plausible) == "5 to 200 U/L"
    assert creatinine.computes == "egfr" and creatinine.threshold is None
    assert creatinine.molar_mass is not None and creatinine.short_label == "Serum creatinine"
    assert wbc.short_label == "WBC" and str(wbc.protocol_unit) == "e9_per_L"
    assert built["total_bilirubin"].short_label == "TBil"  # an acronym in mixed case


# -- the vectorized lab path gives every column the scalar path gives ------------------------


@pytest.mark.traces(
    "lab_analytes.hemoglobin", "lab_analytes.alt", "lab_analytes.creatinine", "lab_analytes.egfr"
)
def test_every_column_of_the_vectorized_path_equals_the_scalar_result():
    hb = check_lab_column(
        "hemoglobin",
        pd.Series([79.0, 5.0, 12.1, None]),
        pd.Series(["g/L", "mmol/L", "g/dL", "g/L"]),
    )
    for row, (value, unit) in enumerate([(79.0, "g/L"), (5.0, "mmol/L"), (12.1, "g/dL")]):
        scalar = check_lab("hemoglobin", value, unit)
        assert hb["status"].iloc[row] == scalar.status
        assert hb["value_in_protocol_unit"].iloc[row] == pytest.approx(
            scalar.value_in_protocol_unit, rel=1e-12
        )
    assert hb["status"].iloc[3] == "unknown" and not hb["on_boundary"].iloc[3]
    assert list(hb.columns) == ["value_in_protocol_unit", "status", "on_boundary"]

    alt = check_lab_column(
        "alt", [30.0, 1.0, 90.0], ["U/L", "µkat/L", "U/L"], uln=[40.0, 40.0, 60.0], uln_units="U/L"
    )
    # 30/40 = 0.75; 1 µkat/L = 60 U/L, 60/40 = 1.5 (at the threshold: passes); 90/60 = 1.5
    assert list(alt["value_in_protocol_unit"]) == pytest.approx([0.75, 1.5, 1.5])
    assert list(alt["status"]) == ["pass", "pass", "pass"]
    assert list(alt["on_boundary"]) == [False, True, True]

    creatinine = check_lab_column(
        "creatinine",
        [0.9, 79.6, 1.5],
        ["mg/dL", "µmol/L", "mg/dL"],
        age=[55, 55, 70],
        sex=["Female", "female", " male "],
    )
    assert list(creatinine.columns) == ["value_in_protocol_unit", "egfr", "status", "on_boundary"]
    assert list(creatinine["value_in_protocol_unit"]) == pytest.approx([0.9, 79.6 / 88.4, 1.5])
    for row, (value, unit, age, sex) in enumerate(
        [(0.9, "mg/dL", 55, "female"), (79.6, "µmol/L", 55, "female"), (1.5, "mg/dL", 70, "male")]
    ):
        scalar = check_lab("creatinine", value, unit, age=age, sex=sex)
        assert creatinine["egfr"].iloc[row] == pytest.approx(scalar.egfr, rel=1e-12)
        assert creatinine["status"].iloc[row] == scalar.status


@pytest.mark.traces("lab_analytes.creatinine", "lab_analytes.hemoglobin", "lab_analytes.alt")
def test_the_vectorized_path_refuses_bad_rows_and_names_them():
    with pytest.raises(LabInputError, match=r"2 value\(s\) .* \(rows 1, 3\)"):
        check_lab_column("hemoglobin", ["8", "7,5", 9, "x"], "g/dL")
    with pytest.raises(LabInputError, match=r"7 value\(s\) .*rows 0, 1, 2, 3, 4, \.\.\."):
        check_lab_column("hemoglobin", ["x"] * 7, "g/dL")
    with pytest.raises(LabInputError, match=r"1 value\(s\) are implausible \(rows 1\)"):
        check_lab_column("hemoglobin", [8, 80], "g/dL")
    with pytest.raises(LabInputError, match=r"1 ULN\(s\) are implausible \(rows 0\)"):
        check_lab_column("alt", [30], "U/L", uln=[4000])
    with pytest.raises(LabInputError, match="the ULN column is needed"):
        check_lab_column("alt", [30], "U/L")
    with pytest.raises(LabInputError, match="needs an age and a sex column"):
        check_lab_column("creatinine", [0.9], "mg/dL", age=[55])
    with pytest.raises(
        LabInputError, match=r"age\(s\) are not whole years from 18 to 120 \(rows 1\)"
    ):
        check_lab_column("creatinine", [0.9, 0.9], "mg/dL", age=[55, 17], sex=["female", "female"])
    with pytest.raises(LabInputError, match=r"1 sex\(es\) are not female or male \(rows 0\)"):
        check_lab_column("creatinine", [0.9], "mg/dL", age=[55], sex=["x"])
    unknown_sex = check_lab_column("creatinine", [0.9, 0.9], "mg/dL", age=[55, 55], sex=[None, " "])
    assert list(unknown_sex["status"]) == ["unknown", "unknown"]
