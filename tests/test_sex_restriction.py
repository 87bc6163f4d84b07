"""An amendment that enrols one sex (population.sex FEMALE or MALE) is applied by IN01, in
`screen` and `prescreen` alike; this trial enrols both ("Men or women aged 18-70 years old").

Expected statuses come from the registry's meaning of the field (ClinicalTrials.gov
eligibilityModule.sex: ALL, FEMALE or MALE), not from the code: the other sex fails IN01, an
unrecorded sex leaves it open unless the age fails it anyway."""

from __future__ import annotations

import copy
import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
import yaml

from prescreen.run import prescreen
from protocol.participant import ParticipantRecord
from protocol.screening import screen
from protocol.study import parse_study
from tests.conftest import study_data

REPO = Path(__file__).resolve().parents[1]
CASE_1 = yaml.safe_load((REPO / "book/cases/case01-eligible.yaml").read_text(encoding="utf-8"))
SCREENING = CASE_1["dates"]["screening"]
#: Fields only a woman's record holds (IN06 and EX27 read them).
_WOMAN_ONLY = ("childbearing_potential", "pregnancy_test", "breastfeeding", "contraception_agreed")


def _study(sex: str):
    data = study_data()
    data["population"]["sex"]["value"] = sex
    return parse_study(data, "amended study.yaml")


def _record(sex: str | None, birth: dt.date | None = None) -> dict:
    data = copy.deepcopy(CASE_1)
    data.pop("sex", None)
    if sex is not None:
        data["sex"] = sex
    if sex != "female":
        for name in _WOMAN_ONLY:
            data.pop(name, None)
    if birth is not None:
        data["dates"]["birth"] = birth
    return data


def _in01(data: dict, study) -> object:
    report = screen(ParticipantRecord.model_validate(data), study)
    return next(r for r in report.criteria if r.id == "IN01")


#: (population.sex, the record's sex) -> IN01's status for a record of age 18-70.
EXPECTED = {
    ("ALL", "female"): "pass",
    ("ALL", "male"): "pass",
    ("ALL", None): "pass",  # both enrolled: the sex decides nothing
    ("FEMALE", "female"): "pass",
    ("FEMALE", "male"): "fail",
    ("FEMALE", None): "unknown",
    ("MALE", "male"): "pass",
    ("MALE", "female"): "fail",
    ("MALE", None): "unknown",
}


@pytest.mark.parametrize(("population", "sex"), list(EXPECTED))
def test_in01_applies_the_sex_the_study_enrols(population, sex):
    result = _in01(_record(sex), _study(population))
    assert result.status == EXPECTED[(population, sex)], result.reason
    if result.status == "unknown":
        assert "sex" in result.missing
    if result.status == "fail":
        assert "only" in result.reason and sex in result.reason


@pytest.mark.parametrize("population", ["FEMALE", "MALE"])
def test_an_age_outside_the_range_fails_whatever_the_sex(population):
    # born 17 years before the screening visit: too young, whether or not the sex is recorded
    too_young = SCREENING.replace(year=SCREENING.year - 17)
    result = _in01(_record(None, too_young), _study(population))
    assert result.status == "fail" and "sex" not in result.missing


def test_the_trial_itself_enrols_both_sexes():
    for sex in ("female", "male"):
        assert _in01(_record(sex), _study("ALL")).status == "pass"


@pytest.mark.parametrize("value", ["BOTH", "female", "Women", ""])
def test_a_sex_outside_the_registry_terms_is_refused(value):
    with pytest.raises(Exception) as caught:
        _study(value)
    assert "population.sex" in str(caught.value)


@pytest.mark.parametrize("population", ["ALL", "FEMALE", "MALE"])
def test_prescreen_applies_it_as_screen_does(tmp_path, population):
    study = _study(population)
    rows, expected = [], []
    births = [CASE_1["dates"]["birth"], SCREENING.replace(year=SCREENING.year - 17), None]
    for k, (sex, birth) in enumerate((s, b) for s in ("female", "male", None) for b in births):
        data = _record(sex, birth)
        data["dates"].pop("consent", None)  # a table has no consent date (the visit's)
        if birth is None:
            data["dates"].pop("birth")
        result = _in01(data, study)
        expected.append((result.status, result.reason))
        row = {"participant": f"SYN-S{k}", "dates.screening": str(SCREENING)}
        if "birth" in data["dates"]:
            row["dates.birth"] = str(data["dates"]["birth"])
        row["ssc.first_non_raynaud_manifestation"] = str(
            data["ssc"]["first_non_raynaud_manifestation"]
        )
        if sex is not None:
            row["sex"] = sex
        rows.append(row)
    pd.DataFrame(rows).to_csv(tmp_path / "t.csv", index=False)
    run = prescreen(tmp_path / "t.csv", as_of=SCREENING, study=study)
    column = run.evaluation.criteria["IN01"]
    for k, (status, reason) in enumerate(expected):
        assert column.status[k] == status, rows[k]
        assert column.reason[k] == reason


@pytest.mark.parametrize(("population", "words"), [("FEMALE", "women only"), ("MALE", "men only")])
def test_the_checklist_line_names_the_sex(population, words):
    from protocol.quick_reference import quick_reference

    line = next(r for r in quick_reference(_study(population)) if r.id == "IN01")
    assert line.threshold.endswith(words)
    both = next(r for r in quick_reference(_study("ALL")) if r.id == "IN01")
    assert "only" not in both.threshold


def test_the_description_names_the_sex():
    from protocol.screening import describe

    assert describe("IN01", _study("FEMALE")).endswith("; women only")
    assert describe("IN01", _study("MALE")).endswith("; men only")
    assert "only" not in describe("IN01", _study("ALL"))


@pytest.mark.parametrize("population", ["FEMALE", "MALE"])
@pytest.mark.parametrize(
    "implies",
    [
        {"childbearing_potential": True},
        {"breastfeeding": True},
        {"pregnancy_test": {"result": "positive", "sample": "serum", "date": "SCREENING"}},
    ],
)
def test_a_record_without_a_sex_that_implies_a_woman_is_read_as_one(tmp_path, population, implies):
    # the record refuses these beside "sex: male": they are a woman's, so IN01 is decided
    data = _record(None)
    data["dates"].pop("consent", None)
    for key, value in implies.items():
        if isinstance(value, dict):
            value = {**value, "date": SCREENING}
        data[key] = value
    expected = "pass" if population == "FEMALE" else "fail"
    assert _in01(data, _study(population)).status == expected
    row = {
        "participant": "SYN-W1",
        "dates.screening": str(SCREENING),
        "dates.birth": str(data["dates"]["birth"]),
        "ssc.first_non_raynaud_manifestation": str(data["ssc"]["first_non_raynaud_manifestation"]),
    }
    for key, value in implies.items():
        if isinstance(value, dict):
            row |= {f"{key}.{k}": str(SCREENING if k == "date" else v) for k, v in value.items()}
        else:
            row[key] = str(value).lower()
    pd.DataFrame([row]).to_csv(tmp_path / "t.csv", index=False)
    run = prescreen(tmp_path / "t.csv", as_of=SCREENING, study=_study(population))
    assert run.evaluation.criteria["IN01"].status[0] == expected


@pytest.mark.parametrize("population", ["FEMALE", "MALE"])
def test_prescreen_groups_rows_by_what_implies_a_woman(tmp_path, population):
    # rows alike in every key but what implies a woman share no group: one table of every
    # combination, each row's IN01 equal to screen's on the same fields
    import itertools

    study = _study(population)
    rows, expected = [], []
    combos = itertools.product(
        ["female", "male", None], [True, False, None], [True, False, None], ["positive", None]
    )
    for k, (sex, potential, feeding, test) in enumerate(combos):
        if sex == "male" and (potential or feeding or test == "positive"):
            continue  # the record refuses these beside sex: male
        if potential is False and test == "positive":
            continue  # and a positive test beside no childbearing potential
        data = _record(sex)
        data["dates"].pop("consent", None)
        for name in _WOMAN_ONLY:
            data.pop(name, None)
        row = {
            "participant": f"SYN-G{k}",
            "dates.screening": str(SCREENING),
            "dates.birth": str(data["dates"]["birth"]),
            "ssc.first_non_raynaud_manifestation": str(
                data["ssc"]["first_non_raynaud_manifestation"]
            ),
        }
        if sex is not None:
            row["sex"] = sex
        if potential is not None:
            data["childbearing_potential"] = row["childbearing_potential"] = potential
        if feeding is not None:
            data["breastfeeding"] = row["breastfeeding"] = feeding
        if test is not None:
            data["pregnancy_test"] = {"result": test, "sample": "serum", "date": SCREENING}
            row |= {
                "pregnancy_test.result": test,
                "pregnancy_test.sample": "serum",
                "pregnancy_test.date": str(SCREENING),
            }
        result = _in01(data, study)
        expected.append((result.status, result.reason))
        rows.append({k: str(v).lower() if isinstance(v, bool) else v for k, v in row.items()})
    pd.DataFrame(rows).to_csv(tmp_path / "t.csv", index=False)
    run = prescreen(tmp_path / "t.csv", as_of=SCREENING, study=study)
    column = run.evaluation.criteria["IN01"]
    assert not run.evaluation.candidates.refused.any()
    for k, (status, reason) in enumerate(expected):
        assert (column.status[k], column.reason[k]) == (status, reason), rows[k]


def _ckd_epi_2021(creatinine_mg_dl: float, age: int, female: bool) -> float:
    """CKD-EPI 2021 (Inker et al. 2021), written out here: 142 x min(Scr/k, 1)^a x
    max(Scr/k, 1)^-1.200 x 0.9938^age (x 1.012 for a woman); k 0.7 / 0.9, a -0.241 / -0.302."""
    kappa, alpha = (0.7, -0.241) if female else (0.9, -0.302)
    ratio = creatinine_mg_dl / kappa
    value = 142 * min(ratio, 1) ** alpha * max(ratio, 1) ** -1.200 * 0.9938**age
    return value * (1.012 if female else 1)


@pytest.mark.parametrize(
    ("population", "creatinine", "expected"),
    [
        # 1.7 mg/dL at 40: a woman's eGFR 38.6 (< 40, excluded), a man's 50.4 (passes)
        ("FEMALE", 1.7, 1),
        ("MALE", 1.7, 0),
        ("ALL", 1.7, 2),  # either sex: on both sides of 40, the sex is asked for
        # 1.4 mg/dL at 40: a woman's 48.4, a man's 64.3: passes for either
        ("FEMALE", 1.4, 0),
        ("ALL", 1.4, 0),
    ],
)
def test_lab_reads_a_missing_sex_as_the_one_the_study_enrols(
    tmp_path, capsys, population, creatinine, expected
):
    # a women-only amendment: a creatinine without a sex is a woman's (a man is not admitted
    # by IN01), as a missing age is read at the ages IN01 admits
    from trialbook.cli import main

    assert (_ckd_epi_2021(1.7, 40, True) < 40) and (_ckd_epi_2021(1.7, 40, False) >= 40)
    assert min(_ckd_epi_2021(1.4, 40, True), _ckd_epi_2021(1.4, 40, False)) >= 40
    data = study_data()
    data["population"]["sex"]["value"] = population
    amended = tmp_path / "study.yaml"
    amended.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    study = [] if population == "ALL" else ["--study", str(amended)]
    argv = ["lab", "creatinine", str(creatinine), "mg/dL", "--age", "40", *study]
    assert main(argv) == expected, capsys.readouterr()


@pytest.mark.parametrize("population", ["FEMALE", "MALE"])
def test_screen_reads_a_missing_sex_as_the_one_the_study_enrols_for_the_egfr(population):
    # creatinine 1.7 mg/dL at 46 (case01's age): a woman fails EX24, a man passes it
    data = _record(None)
    data["labs"].pop("egfr", None)
    data["labs"]["creatinine"] = {"value": 1.7, "unit": "mg/dL"}
    report = screen(ParticipantRecord.model_validate(data), _study(population))
    ex24 = next(r for r in report.criteria if r.id == "EX24")
    assert ex24.status == ("fail" if population == "FEMALE" else "pass"), ex24.reason
    assert "sex" not in ex24.missing
    assert "the only sex IN01 admits" in ex24.reason


@pytest.mark.parametrize("population", ["FEMALE", "MALE"])
def test_prescreen_reads_a_missing_sex_for_the_egfr_as_screen_does(tmp_path, population):
    # creatinine at values on both sides of a woman's and a man's threshold, with and without
    # a birth date: prescreen's columns had read both sexes where screen reads the one enrolled
    study = _study(population)
    rows, expected = [], []
    values = [0.9, 1.2, 1.4, 1.6, 1.7, 1.9, 2.0, 2.4]
    for k, (creatinine, birth) in enumerate(
        (c, b) for c in values for b in (CASE_1["dates"]["birth"], None)
    ):
        data = _record(None)
        data["dates"].pop("consent", None)  # a table has no consent date (the visit's)
        if birth is None:
            data["dates"].pop("birth")
        data["labs"] = {"creatinine": {"value": creatinine, "unit": "mg/dL"}}
        report = screen(ParticipantRecord.model_validate(data), study)
        ex24 = next(r for r in report.criteria if r.id == "EX24")
        expected.append((ex24.status, tuple(ex24.missing)))
        row = {"participant": f"SYN-E{k}", "dates.screening": str(SCREENING)}
        if birth is not None:
            row["dates.birth"] = str(birth)
        row["labs.creatinine.value"] = creatinine
        row["labs.creatinine.unit"] = "mg/dL"
        rows.append(row)
    # the other labs are not in the table: EX24 fails where the creatinine fails, else it is
    # open; a value failing only a woman (1.7 mg/dL at 46) fails under FEMALE alone
    assert {status for status, _ in expected} == {"fail", "unknown"}
    pd.DataFrame(rows).to_csv(tmp_path / "t.csv", index=False)
    run = prescreen(tmp_path / "t.csv", as_of=SCREENING, study=study)
    column = run.evaluation.criteria["EX24"]
    for k, (status, _) in enumerate(expected):
        assert column.status[k] == status, (rows[k], column.reason[k])
