"""Regimens exactly: the counting-rule flag as study.yaml sets it, and durations in weeks."""

from __future__ import annotations

import pytest

from dosing.regimens import regimens_for_arm, weeks
from protocol.units import Quantity

pytestmark = pytest.mark.traces("interventions", "dosing_rules")


def test_the_flag_is_false_as_study_yaml_says():
    for regimen in regimens_for_arm("telitacicept_mmf"):
        assert regimen.dose_at_end_of_treatment is False


def test_the_flag_is_read_from_the_study(varied_study):
    study = varied_study(
        (
            "dose_at_end_of_treatment:\n    value: false",
            "dose_at_end_of_treatment:\n    value: true",
        )
    )
    counts = {r.name: r.administration_count for r in regimens_for_arm("telitacicept_mmf", study)}
    # weeks 0 to 48 inclusive: 49 injections; 336 days x 2 + 1 = 673 tablets
    assert counts == {"Telitacicept": 49, "Mycophenolate Mofetil": 673}


@pytest.mark.parametrize(
    ("quantity", "expected"), [(Quantity(336, "day"), 48), (Quantity(48, "week"), 48)]
)
def test_weeks(quantity, expected):
    assert weeks(quantity) == expected
