"""Regimens exactly: the counting-rule flag as study.yaml sets it, and durations in weeks."""

from __future__ import annotations

import pytest

from dosing.regimens import regimens_for_arm, weeks
from protocol.study import STUDY_PATH, load_study
from protocol.units import Quantity

pytestmark = pytest.mark.traces("interventions", "dosing_rules")


def test_the_flag_is_false_as_study_yaml_says():
    for regimen in regimens_for_arm("telitacicept_mmf"):
        assert regimen.dose_at_end_of_treatment is False


def test_the_flag_is_read_from_the_study(tmp_path):
    text = STUDY_PATH.read_text(encoding="utf-8")
    old = "dose_at_end_of_treatment:\n    value: false"
    assert text.count(old) == 1
    path = tmp_path / "study-variant.yaml"
    path.write_text(text.replace(old, "dose_at_end_of_treatment:\n    value: true"), "utf-8")
    study = load_study(path, check_registry=False)
    counts = {r.name: r.administration_count for r in regimens_for_arm("telitacicept_mmf", study)}
    # weeks 0 to 48 inclusive: 49 injections; 336 days x 2 + 1 = 673 tablets
    assert counts == {"Telitacicept": 49, "Mycophenolate Mofetil": 673}


@pytest.mark.parametrize(
    ("quantity", "expected"), [(Quantity(336, "day"), 48), (Quantity(48, "week"), 48)]
)
def test_weeks(quantity, expected):
    assert weeks(quantity) == expected
