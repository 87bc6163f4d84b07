"""Every worked case says what it shows in its first line; the engine must agree.

The table below is written by hand from each case's first line and its data (never from the
engine's output): the verdict, the criteria that fail and those that stay unknown. A second test
checks that each first line states the same verdict as the table, so the line, the table and the
engine cannot drift apart.
"""

from __future__ import annotations

import pytest

from protocol.screening import screen_file
from tests.conftest import REPO

pytestmark = pytest.mark.traces("criteria")

CASES = REPO / "book" / "cases"

#: case file stem -> (verdict, failing criteria, unknown criteria)
EXPECTED: dict[str, tuple[str, set[str], set[str]]] = {
    "case01-eligible": ("eligible", set(), set()),
    "case02-eligible-male-aged-70": ("eligible", set(), set()),
    "case03-age-71": ("not_eligible", {"IN01"}, set()),
    # aged 17, so CKD-EPI 2021 (adults only) cannot turn the creatinine into an eGFR: unknown
    # 17: IN01 fails; the eGFR is read at 18, the nearest age IN01 admits (no eGFR asked for)
    "case04-age-17": ("not_eligible", {"IN01"}, set()),
    "case05-age-18-today": ("eligible", set(), set()),
    "case06-duration-exactly-18-months": ("eligible", set(), set()),
    "case07-duration-18-months-and-a-day": ("not_eligible", {"IN04"}, set()),
    "case08-mrss-9": ("not_eligible", {"IN05"}, set()),
    "case09-mrss-10": ("eligible", set(), set()),
    "case10-hemoglobin-79-g-per-l": ("not_eligible", {"EX24"}, set()),
    "case11-labs-exactly-at-thresholds": ("eligible", set(), set()),
    "case12-methotrexate-on-boundary-day": ("not_eligible", {"EX09"}, set()),
    "case13-methotrexate-day-before-boundary": ("eligible", set(), set()),
    "case14-missing-igg-and-attestation": ("incomplete", set(), {"EX16", "EX22"}),
    "case15-rituximab-and-limited": ("not_eligible", {"EX13", "IN03", "EX01"}, set()),
    "case16-unknown-drug-and-urine-test": (
        "incomplete",
        set(),
        {"IN06", "EX09", "EX10", "EX11", "EX13", "EX14", "EX15"},
    ),
    "case17-acr-eular-not-applicable": ("not_eligible", {"IN02"}, set()),
    "case18-egfr-below-40": ("not_eligible", {"EX24"}, set()),
    "case19-mrss-total-only": ("incomplete", set(), {"IN03", "EX01"}),
    "case20-duration-over-3-years": ("not_eligible", {"IN04", "EX02"}, set()),
    "case21-vaccine-and-steroid-iv": ("not_eligible", {"EX26", "EX29", "EX11"}, set()),
    # PAH among the ACR/EULAR items, its risk category intermediate: EX06 excludes
    # intermediate- and high-risk PAH
    "case22-pah-intermediate-risk": ("not_eligible", {"EX06"}, set()),
}

VERDICT_WORDS = {"eligible": "eligible", "not_eligible": "not eligible", "incomplete": "incomplete"}


def test_every_case_file_has_an_expectation():
    assert sorted(EXPECTED) == sorted(path.stem for path in CASES.glob("*.yaml"))


@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_each_case_screens_as_its_first_line_says(stem):
    verdict, failing, unknown = EXPECTED[stem]
    result = screen_file(CASES / f"{stem}.yaml")
    assert result.verdict == verdict
    assert {c.id for c in result.criteria if c.status == "fail"} == failing
    assert {c.id for c in result.criteria if c.status == "unknown"} == unknown


@pytest.mark.parametrize("stem", sorted(EXPECTED))
def test_each_first_line_states_the_verdict_and_the_criteria(stem):
    first = (CASES / f"{stem}.yaml").read_text(encoding="utf-8").splitlines()[0].lower()
    verdict, failing, _ = EXPECTED[stem]
    if verdict == "eligible":
        assert "not eligible" not in first and "incomplete" not in first
    else:
        assert VERDICT_WORDS[verdict] in first
    # every failing criterion the table names is named in the first line (ranges like EX09-EX11
    # and EX26/EX29 spell several)
    for criterion in failing:
        assert criterion.lower() in first.replace("/", " "), criterion
