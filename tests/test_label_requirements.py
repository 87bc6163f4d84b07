"""The mycophenolate label's requirements (issue 12 §8): in study.yaml with their source, in the
assumed schedule, and dated for a participant. Expected dates are counted by hand from the
randomization date, not taken from the code."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dosing.calendar import build_calendar, label_requirement_dates
from protocol.errors import ProtocolDataError
from protocol.study import load_study

RANDOMIZATION = date(2025, 3, 17)
# MMF twice daily for 48 weeks = 336 days: days 1..336, so the last dose is day 336,
# 2025-03-17 + 335 days = 2026-02-15.
LAST_MMF_DOSE = date(2026, 2, 15)


def test_the_label_requirements_are_the_labels_and_cite_them():
    study = load_study()
    by_id = {r.id: r for r in study.label_requirements}
    assert set(by_id) == {
        "mmf_pregnancy_testing",
        "mmf_contraception_women",
        "mmf_contraception_men",
        "mmf_blood_donation",
    }
    for requirement in by_id.values():
        assert requirement.intervention == "mycophenolate_mofetil"
        assert requirement.requirement.provenance == "label"
        assert requirement.requirement.source in ("cellcept-us-pi", "cellcept-eu-smpc")
        assert requirement.topic_zh  # a working translation for Chinese sites
    assert str(by_id["mmf_contraception_women"].until_after_last_dose) == "6 week"
    assert str(by_id["mmf_contraception_men"].until_after_last_dose) == "90 day"
    assert str(by_id["mmf_blood_donation"].until_after_last_dose) == "6 week"
    assert by_id["mmf_pregnancy_testing"].until_after_last_dose is None
    assert "25 mIU/mL" in by_id["mmf_pregnancy_testing"].requirement.value
    assert "8 to 10 days" in by_id["mmf_pregnancy_testing"].requirement.value


def test_the_assumed_schedule_tests_for_pregnancy_at_every_visit():
    # the label: a test before the first dose, a second 8 to 10 days after the first, and
    # repeat tests at routine follow-up visits; every visit of the assumed schedule is one
    visits = load_study().visit_schedule.value
    assert [v.id for v in visits if "pregnancy_test" not in v.activities] == []


def test_the_telitacicept_vial_count_is_marked_as_the_assumption_it_is():
    vial = next(p for p in load_study().presentations if p.intervention == "telitacicept")
    assert vial.trial_supply.value == "two 80 mg vials per 160 mg dose"
    assert vial.trial_supply.is_assumption
    assert "PI30" in vial.trial_supply.note


def test_the_requirements_last_through_the_labels_period_after_the_last_dose():
    calendar = build_calendar("telitacicept_mmf", RANDOMIZATION)
    dates = {line.topic: (line.last_dose, line.until) for line in label_requirement_dates(calendar)}
    assert dates == {
        # 6 weeks = 42 days: 2026-02-15 + 42 days = 2026-03-29
        "Contraception (women)": (LAST_MMF_DOSE, date(2026, 3, 29)),
        # 90 days: 2026-02-15 + 13 (to 2026-02-28) + 31 + 30 + 16 = 2026-05-16
        "Contraception (men)": (LAST_MMF_DOSE, date(2026, 5, 16)),
        "Blood donation": (LAST_MMF_DOSE, date(2026, 3, 29)),
    }


def test_both_arms_take_mycophenolate_so_both_carry_its_requirements():
    lines = label_requirement_dates(build_calendar("mmf", RANDOMIZATION))
    assert [line.topic for line in lines] == [
        "Contraception (women)",
        "Contraception (men)",
        "Blood donation",
    ]


@pytest.mark.parametrize(
    ("period", "days_after"), [("1 day", 1), ("2 day", 2), ("1 week", 7), ("13 week", 91)]
)
def test_a_period_of_n_days_ends_n_days_after_the_last_dose(varied_study, period, days_after):
    study = varied_study(("until_after_last_dose: 90 day", f"until_after_last_dose: {period}"))
    lines = label_requirement_dates(build_calendar("mmf", RANDOMIZATION, study), study)
    men = next(line for line in lines if line.topic == "Contraception (men)")
    assert men.until == LAST_MMF_DOSE + timedelta(days=days_after)


@pytest.mark.parametrize("period", ["0 day", "-1 day", "1.5 day", "36 hour", "6 mg"])
def test_a_period_that_is_not_a_positive_whole_number_of_days_is_refused(varied_study, period):
    with pytest.raises(ProtocolDataError, match="until_after_last_dose"):
        varied_study(("until_after_last_dose: 90 day", f"until_after_last_dose: {period}"))


def test_a_requirement_of_an_unknown_medicine_is_refused(varied_study):
    with pytest.raises(ProtocolDataError, match=r"label_requirements.*'aspirin' is not an"):
        varied_study(
            (
                "  - id: mmf_blood_donation\n    intervention: mycophenolate_mofetil",
                "  - id: mmf_blood_donation\n    intervention: aspirin",
            )
        )


def test_a_requirement_of_a_medicine_the_arm_does_not_give_is_left_out(varied_study):
    study = varied_study(
        (
            "  - id: mmf_blood_donation\n    intervention: mycophenolate_mofetil",
            "  - id: mmf_blood_donation\n    intervention: telitacicept",
        )
    )
    control = label_requirement_dates(build_calendar("mmf", RANDOMIZATION, study), study)
    assert "Blood donation" not in [line.topic for line in control]
    # in the experimental arm it counts from the last injection: week 47 = day 330 = 2026-02-09
    experimental = label_requirement_dates(
        build_calendar("telitacicept_mmf", RANDOMIZATION, study), study
    )
    blood = next(line for line in experimental if line.topic == "Blood donation")
    assert (blood.last_dose, blood.until) == (date(2026, 2, 9), date(2026, 3, 23))


@given(st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 12, 31)))
def test_for_any_randomization_date_the_dates_follow_the_calendar(randomization):
    lines = label_requirement_dates(build_calendar("mmf", randomization))
    last = randomization + timedelta(days=335)
    assert {(line.last_dose, (line.until - line.last_dose).days) for line in lines} == {
        (last, 42),
        (last, 90),
    }
