"""Washout input refusals and a class without a window, in exact words (issue 11 survivors)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.screening import describe
from protocol.washout import WashoutInputError, check_washout, parse_washout_input

pytestmark = pytest.mark.traces("medication_classes")

BASE = {"planned_randomization": date(2025, 3, 17), "screening": date(2025, 3, 3), "events": []}


def _refusal(medication: dict) -> str:
    with pytest.raises(WashoutInputError) as raised:
        parse_washout_input({**BASE, "medications": [medication]}, "synthetic")
    return str(raised.value)


def test_a_clearance_needs_both_the_flag_and_the_reason():
    cleared_without_reason = {
        "name": "zzzdrug",
        "last_dose": "2025-02-01",
        "investigator_cleared": True,
    }
    assert _refusal(cleared_without_reason).endswith(
        "investigator_cleared = true needs clearance_reason (why the investigator clears it)"
    )
    reason_without_flag = {"name": "zzzdrug", "last_dose": "2025-02-01", "clearance_reason": "x"}
    assert _refusal(reason_without_flag).endswith(
        "clearance_reason is given without investigator_cleared = true"
    )


def test_an_unknown_frequency_lists_the_known_ones_separated_by_commas():
    message = _refusal(
        {
            "name": "prednisone",
            "last_dose": "2025-02-01",
            "dose": "5 mg",
            "frequency": "fortnightly",
        }
    )
    assert (
        "'fortnightly': not a frequency the book knows; expected one of: once, single dose, "
        "daily, once daily, once a day, qd, od, twice daily" in message
    )


@pytest.mark.traces("criteria.EX14")
def test_a_class_without_a_window_leaves_its_medicine_to_the_investigator():
    result = check_washout(
        parse_washout_input(
            {**BASE, "medications": [{"name": "secukinumab", "last_dose": "2025-02-01"}]},
            "synthetic",
        )
    )
    entry = result.entries[0]
    assert (entry.status, entry.window, entry.criterion) == ("unknown", None, "EX14")
    assert entry.reason == (
        "secukinumab is one of the other biologics or small molecule targeted therapies of EX14, "
        "for which the record gives no window (PI06): unknown, the investigator decides "
        "(investigator_cleared with a reason)"
    )
    assert (
        "other biologics or small molecule targeted therapies: no window given prior to "
        "randomization" in describe("EX14")
    )


#: Each route's words as prescriptions write them, by hand (not the module's table).
_ROUTE_SPELLINGS = {
    "oral": ["PO", "p.o.", "Oral", "ORAL"],
    "iv": ["IV", "i.v.", "Intravenous", "INTRAVENOUS"],
    "im": ["IM", "Intramuscular"],
    "sc": ["SC", "SQ", "s.c.", "Subcutaneous"],
    "inhaled": ["Inhalation", "INHALED"],
    "intra_articular": ["Intra-articular", "intraarticular"],
    "nasal": ["Intranasal", "NASAL"],
    "topical": ["Topical"],
    "ophthalmic": ["Ophthalmic"],
    "intralesional": ["Intralesional"],
}


@settings(max_examples=60, deadline=None)
@given(
    route=st.sampled_from(sorted(_ROUTE_SPELLINGS)),
    data=st.data(),
    last_dose=st.dates(date(2025, 1, 1), date(2025, 3, 17)),
    dose=st.sampled_from(["5 mg", "40 mg", "500 mg"]),
)
def test_a_route_written_as_prescriptions_write_it_is_read_as_its_code(
    route, data, last_dose, dose
):
    # `route: IV` and `route: PO` were refused while `frequency: QD` was read in any case
    spelling = data.draw(st.sampled_from(_ROUTE_SPELLINGS[route]))
    spaces = data.draw(st.sampled_from(["", " ", "  "]))
    entry = {"name": "methylprednisolone", "last_dose": last_dose, "dose": dose}
    entry["frequency"] = "daily"
    written = check_washout(
        parse_washout_input(
            {**BASE, "medications": [{**entry, "route": spaces + spelling + spaces}]}, "t"
        )
    )
    coded = check_washout(
        parse_washout_input({**BASE, "medications": [{**entry, "route": route}]}, "t")
    )
    assert written == coded


@pytest.mark.parametrize(
    "route", ["transdermal", "patch", "IVI", "oral iv", "i v", "by mouth", "5", ""]
)
def test_a_route_that_is_no_route_s_word_is_refused_listing_the_codes(route):
    refusal = _refusal({"name": "prednisone", "last_dose": "2025-03-01", "route": route})
    assert "expected 'oral', 'iv', 'im', 'sc'" in refusal
