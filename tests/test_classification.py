"""The calculators: ACR/EULAR 2013, LeRoy subset, mRSS, disease duration, age."""

from __future__ import annotations

from datetime import date

import pytest

from protocol.classification import (
    Duration,
    acr_eular_score,
    age_in_completed_years,
    calendar_duration,
    leroy_subset,
    mrss_total,
)
from protocol.participant import AcrEularFindings, Mrss, SkinAreas, SscFindings

pytestmark = pytest.mark.traces(
    "criteria.IN01",
    "criteria.IN02",
    "criteria.IN03",
    "criteria.IN04",
    "criteria.IN05",
    "criteria.EX01",
    "criterion_rules.acr_eular_minimum",
)

ITEMS = [
    "skin_thickening_proximal_to_mcp",
    "puffy_fingers",
    "sclerodactyly",
    "digital_tip_ulcers",
    "fingertip_pitting_scars",
    "telangiectasia",
    "abnormal_nailfold_capillaries",
    "pah",
    "ild",
    "raynaud",
    "anticentromere",
    "anti_topoisomerase_i",
    "anti_rna_polymerase_iii",
]


def findings(*present: str, **flags: bool | None) -> AcrEularFindings:
    values = {item: item in present for item in ITEMS}
    values.update(
        {"skin_thickening_sparing_fingers": False, "better_explained_by_other_disorder": False}
    )
    values.update(flags)
    return AcrEularFindings(**values)


@pytest.mark.parametrize(
    ("present", "total"),
    [
        (("skin_thickening_proximal_to_mcp",), 9),  # sufficient on its own
        (("sclerodactyly", "telangiectasia", "abnormal_nailfold_capillaries"), 8),  # just below
        (("sclerodactyly", "raynaud", "telangiectasia"), 9),  # at
        (("sclerodactyly", "telangiectasia", "abnormal_nailfold_capillaries", "ild"), 10),  # above
        (("puffy_fingers", "sclerodactyly"), 4),  # the higher of the category only
        (("digital_tip_ulcers", "fingertip_pitting_scars"), 3),
        (("pah", "ild"), 2),  # maximum 2
        (("anticentromere", "anti_topoisomerase_i", "anti_rna_polymerase_iii"), 3),  # maximum 3
        ((), 0),
        (tuple(ITEMS), 9 + 4 + 3 + 2 + 2 + 2 + 3 + 3),
    ],
)
def test_acr_eular_total_counts_the_highest_weight_per_category(present, total):
    score = acr_eular_score(findings(*present))
    assert score.total == total and score.applicable is True
    assert score.classified(9) == (total >= 9)


@pytest.mark.parametrize(
    "flag", ["skin_thickening_sparing_fingers", "better_explained_by_other_disorder"]
)
def test_acr_eular_not_applicable(flag):
    score = acr_eular_score(findings("skin_thickening_proximal_to_mcp", **{flag: True}))
    assert score.applicable is False and score.classified(9) is False


def test_acr_eular_with_a_missing_item_has_no_total():
    score = acr_eular_score(findings("skin_thickening_proximal_to_mcp", raynaud=None))
    assert score.total is None and score.missing == ["ssc.acr_eular.raynaud"]
    assert score.classified(9) is None


def _areas(**grades: int | None) -> SkinAreas:
    values = dict.fromkeys(SkinAreas.model_fields, 0)
    values.update(grades)
    return SkinAreas(**values)


def test_mrss_is_the_sum_of_17_areas_or_a_recorded_total():
    assert mrss_total(Mrss(areas=_areas(face=1, right_hand=3, left_thigh=2))).total == 6
    assert mrss_total(Mrss(areas=_areas(**dict.fromkeys(SkinAreas.model_fields, 3)))).total == 51
    assert mrss_total(Mrss(total=18)).source == "recorded total"
    missing = mrss_total(Mrss(areas=_areas(face=None)))
    assert missing.total is None and missing.missing == ["ssc.mrss.areas.face"]
    assert mrss_total(None).total is None


def test_mrss_total_and_areas_must_agree():
    with pytest.raises(ValueError, match="add up to 1"):
        Mrss(areas=_areas(face=1), total=2)


@pytest.mark.parametrize(
    ("grades", "back", "subset"),
    [
        ({"right_hand": 2, "right_upper_arm": 1}, None, "diffuse"),
        ({"left_fingers": 1, "anterior_chest": 1}, None, "diffuse"),
        ({"right_hand": 2, "face": 1}, False, "limited"),
        ({"right_hand": 2}, True, "diffuse"),  # the back is trunk
        ({}, False, "no skin thickening"),
        ({"right_hand": 2}, None, None),  # limited unless the back is involved: unknown
    ],
)
def test_leroy_subset(grades, back, subset):
    ssc = SscFindings(mrss=Mrss(areas=_areas(**grades)), back_skin_thickening=back)
    assert leroy_subset(ssc).subset == subset


def test_leroy_needs_the_graded_areas():
    assert leroy_subset(SscFindings(mrss=Mrss(total=20))).subset is None


@pytest.mark.parametrize(
    ("start", "end", "months", "days"),
    [
        (date(2023, 9, 3), date(2025, 3, 3), 18, 0),
        (date(2023, 9, 2), date(2025, 3, 3), 18, 1),
        (date(2023, 9, 4), date(2025, 3, 3), 17, 27),
        (date(2024, 8, 31), date(2025, 2, 28), 6, 0),  # 31 Aug + 6 months clamps to 28 Feb
    ],
)
def test_disease_duration_in_calendar_months(start, end, months, days):
    duration = calendar_duration(start, end)
    assert (duration.total_months, duration.days) == (months, days)


@pytest.mark.parametrize(
    ("birth", "on", "age"),
    [
        (date(2007, 3, 3), date(2025, 3, 3), 18),  # the birthday itself
        (date(2007, 3, 4), date(2025, 3, 3), 17),  # the day before
        (date(1954, 3, 4), date(2025, 3, 3), 70),
        (date(1954, 3, 3), date(2025, 3, 3), 71),
        (date(2004, 2, 29), date(2022, 2, 28), 18),  # a leap-day birthday in a common year
        (date(2004, 2, 29), date(2022, 2, 27), 17),
    ],
)
def test_age_in_completed_years(birth, on, age):
    assert age_in_completed_years(birth, on) == age


@pytest.mark.parametrize(
    ("duration", "written"),
    [
        (Duration(1, 6, 0), "18 months"),
        (Duration(1, 6, 1), "18 months 1 day"),
        (Duration(0, 1, 0), "1 month"),
        (Duration(0, 1, 2), "1 month 2 days"),
        (Duration(0, 9, 11), "9 months 11 days"),
        (Duration(0, 0, 1), "1 day"),
        (Duration(0, 0, 5), "5 days"),
        (Duration(0, 0, 0), "0 days"),
        (Duration(3, 0, 0), "36 months"),
    ],
)
def test_a_duration_is_written_without_zero_parts_and_in_the_singular_for_one(duration, written):
    assert str(duration) == written
