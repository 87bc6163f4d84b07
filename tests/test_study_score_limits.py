"""An amended study's score limits must be scores a patient can have (below, at and above each
bound). The bounds are derived here from the published instruments, not from the code: the
modified Rodnan skin score grades 17 areas 0-3 (0 to 51); the 2013 ACR/EULAR criteria total the
highest weight met in each of 8 categories, 9 + 4 + 3 + 2 + 2 + 2 + 3 + 3 = 28 at most."""

from __future__ import annotations

import pytest

from protocol.errors import ProtocolDataError
from protocol.study import parse_study
from tests.conftest import study_data

MRSS_HIGHEST = 17 * 3
ACR_HIGHEST = 9 + 4 + 3 + 2 + 2 + 2 + 3 + 3


def _study(edit):
    data = study_data()
    edit(data)
    return parse_study(data, "amended.yaml")


def _rule(name, value):
    def edit(data):
        data["criterion_rules"][name]["value"] = value

    return edit


@pytest.mark.parametrize(
    ("value", "accepted"), [(-1, False), (0, True), (MRSS_HIGHEST, True), (MRSS_HIGHEST + 1, False)]
)
def test_the_mrss_minimum_is_within_the_skin_scores_range(value, accepted):
    if accepted:
        assert _study(_rule("mrss_minimum", value)).criterion_rules.mrss_minimum.value == value
    else:
        with pytest.raises(ProtocolDataError, match=r"criterion_rules\.mrss_minimum: -?\d+; "):
            _study(_rule("mrss_minimum", value))


@pytest.mark.parametrize(
    ("value", "accepted"), [(0, False), (1, True), (ACR_HIGHEST, True), (ACR_HIGHEST + 1, False)]
)
def test_the_acr_eular_minimum_is_a_total_someone_can_reach(value, accepted):
    if accepted:
        assert _study(_rule("acr_eular_minimum", value)).criterion_rules.acr_eular_minimum.value
    else:
        with pytest.raises(ProtocolDataError, match=rf"expected 1 to {ACR_HIGHEST}"):
            _study(_rule("acr_eular_minimum", value))


@pytest.mark.parametrize(("weight", "accepted"), [(-3, False), (0, False), (1, True)])
def test_an_acr_eular_weight_is_positive(weight, accepted):
    def edit(data):
        for category in data["acr_eular_2013"]["value"]["categories"]:
            if "raynaud" in category["items"]:
                category["items"]["raynaud"] = weight

    if accepted:
        _study(edit)
    else:
        with pytest.raises(ProtocolDataError, match=r"items\.raynaud: -?\d+; expected a positive"):
            _study(edit)
