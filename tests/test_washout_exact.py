"""Exact washout results: the catalogue index, planned surgery, breakpoints, JSON, input errors.

Written after a mutation run of protocol/washout.py: each test pins a field, date or message
that a surviving mutant changed. The windows are the registry's (NCT06375005): EX08 "major
surgery within 8 weeks prior to randomization or planned major surgery during the trial period",
EX09 "... mycophenolate mofetil within 4 weeks prior to randomization, and cyclophosphamide within
3 months", EX20 "oral antibiotics within 2 weeks prior to screening", EX23 "another
investigational drug within 3 months of entry into this study" (read as the screening visit,
PI07); the trial period is the 48 weeks of treatment (PI24). Weeks are 7 days, months calendar
months, and a date on the window's first day is within it (study.yaml washout_convention), so a
window of N days clears on ``last + N + 1 day``. Every date below is counted by hand.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protocol.documents import parse_yaml_text
from protocol.study import load_study, normalise_name
from protocol.washout import (
    EventEntry,
    MedicationEntry,
    WashoutInputError,
    _build_catalogue_index,
    _planned_event,
    anchor_breakpoints,
    check_medication,
    check_washout,
    load_washout_input,
    parse_washout_input,
)
from tests.conftest import examples

pytestmark = pytest.mark.traces("medication_classes", "exposure_events", "criteria")

STUDY = load_study()
RANDOMIZATION = date(2025, 3, 17)
SCREENING = date(2025, 3, 3)


def _input(medications=(), events=(), screening=SCREENING, planned_randomization=RANDOMIZATION):
    data = {
        "planned_randomization": planned_randomization,
        "screening": screening,
        "medications": list(medications),
        "events": list(events),
    }
    return parse_washout_input(data, "exact input")


def _group(group_id):
    return next(g for g in STUDY.medication_classes if g.id == group_id)


def _variant_study(group_id, **changes):
    """The study with one medication class changed (a protocol amendment, say)."""
    classes = [
        g.model_copy(update=changes) if g.id == group_id else g for g in STUDY.medication_classes
    ]
    return STUDY.model_copy(update={"medication_classes": classes})


# -- the catalogue index: what a typed name matched, and by what ------------------------------


@pytest.mark.parametrize(
    ("typed", "group_id", "drug", "matched_by"),
    [
        ("immunosuppressant", "immunosuppressants", None, "class name"),
        ("TKI", "tyrosine_kinase_inhibitors", None, "class name"),
        ("methotrexate", "immunosuppressants", "methotrexate", "name"),
        ("cyclophosphamide", "cyclophosphamide", "cyclophosphamide", "name"),
        ("MMF", "immunosuppressants", "mycophenolate mofetil", "alias"),
        ("cyclosporine", "immunosuppressants", "ciclosporin", "alias"),
        ("CellCept", "immunosuppressants", "mycophenolate mofetil", "brand name"),
        ("骁悉", "immunosuppressants", "mycophenolate mofetil", "brand name"),
        ("Ofev", "antifibrotics", "nintedanib", "brand name"),
        ("吗替麦考酚酯", "immunosuppressants", "mycophenolate mofetil", "Chinese name"),
        ("环磷酰胺", "cyclophosphamide", "cyclophosphamide", "Chinese name"),
    ],
)
def test_the_catalogue_index_records_the_group_drug_and_kind_of_name(
    typed, group_id, drug, matched_by
):
    # built afresh: match_medicine keeps one index per study, so a rebuild is only seen here
    index = _build_catalogue_index(STUDY)
    found = index[normalise_name(typed)]
    group = _group(group_id)
    assert found.group is group
    if drug is None:
        assert found.drug is None
    else:
        assert found.drug is next(d for d in group.drugs if d.name == drug)
    assert found.matched_by == matched_by


def test_the_catalogue_index_holds_every_name_of_a_drug_and_nothing_of_another():
    index = _build_catalogue_index(STUDY)
    cyclophosphamide = _group("cyclophosphamide")
    # study.yaml's cyclophosphamide class: the drug, its alias CYC, brands Cytoxan and Endoxan,
    # Chinese name 环磷酰胺; no class alias
    names = ("cyclophosphamide", "CYC", "Cytoxan", "Endoxan", "环磷酰胺")
    keys = {k for k, m in index.items() if m.group is cyclophosphamide}
    assert keys == {normalise_name(n) for n in names}
    assert index[normalise_name("CYC")].description == "cyclophosphamide (Cyclophosphamide)"
    assert index[normalise_name("TKI")].description == (
        "class: Tyrosine kinase inhibitors (anti-fibrotic)"
    )


# -- the public wrapper of one medicine's check ---------------------------------------------


def test_check_medication_returns_the_entry_result_of_one_medicine():
    data = _input([{"name": "CellCept", "last_dose": date(2025, 2, 1)}])
    result = check_medication(data.medications[0], 2, data, STUDY)
    # 4 weeks before 2025-03-17 is 2025-02-17 (28 days); 2025-02-01 is before it. It clears on
    # 2025-03-02: 2025-03-02 - 28 days = 2025-02-02 is after 2025-02-01, while 2025-03-01 - 28
    # days = 2025-02-01 is not.
    assert result.to_json() == {
        "entry": "medications[2]",
        "name": "CellCept",
        "status": "pass",
        "reason": "CellCept (last dose 2025-02-01) is before the window of 4 weeks prior to "
        "randomization (from 2025-02-17): passes (EX09); cleared from 2025-03-02",
        "matched": "mycophenolate mofetil (Immunosuppressive therapies)",
        "criterion": "EX09",
        "window": "4 weeks",
        "anchor": "randomization",
        "anchor_date": "2025-03-17",
        "window_start": "2025-02-17",
        "last_date": "2025-02-01",
        "clears_on": "2025-03-02",
        "on_boundary": False,
        "lifetime": False,
        "requires_rescreening": False,
        "criteria": ["EX09"],
        "notes": [
            "Mycophenolate mofetil taken before the study must stop at least 4 weeks before "
            "randomization (EX09); protocol MMF 0.5 g twice daily (BID) then starts at "
            "randomization (PI05)"
        ],
    }


# -- a planned major surgery (EX08, PI24) ------------------------------------------------------

# 48 weeks after 2025-03-17: 289 days to 2025-12-31, 31 more to 2026-01-31, 16 more: 2026-02-16
TRIAL_END = date(2026, 2, 16)
PERIOD = "the trial period (randomization 2025-03-17 to 2026-02-16, 48 weeks; PI24)"


def _planned(when):
    event = {"kind": "planned_major_surgery"} | ({"date": when} if when else {})
    return check_washout(_input(events=[event])).entries[0].to_json()


def _planned_fields(status, reason, when, **more):
    return {
        "entry": "events[0]",
        "name": "Planned major surgery",
        "status": status,
        "reason": reason,
        "matched": "planned_major_surgery",
        "criterion": "EX08",
        "window": "8 weeks",
        "anchor": "randomization",
        "anchor_date": "2025-03-17",
        "window_start": None,
        "last_date": when,
        "clears_on": None,
        "on_boundary": False,
        "lifetime": False,
        "requires_rescreening": False,
        "notes": [],
        "criteria": ["EX08"],
    } | more


@pytest.mark.parametrize("when", [RANDOMIZATION, TRIAL_END], ids=["first day", "last day"])
def test_a_surgery_planned_on_either_end_of_the_trial_period_excludes(when):
    assert _planned(when) == _planned_fields(
        "fail",
        f"Planned major surgery on {when}, within {PERIOD}: excluded (EX08) unless it is "
        "cancelled or moved after 2026-02-16",
        when.isoformat(),
    )


# the book's assumed follow-up visit: study day 365, 364 days after 2025-03-17 (289 days to
# 2025-12-31, 75 more: 2026-03-16), 7 days either side: its window ends on 2026-03-23
FOLLOW_UP_ENDS = date(2026, 3, 23)
CONFIRM = (
    "; it falls by the last visit of the book's assumed schedule (Follow-up (week 52), ± 7 "
    "days, by 2026-03-23): confirm with the sponsor that the trial period ends with the "
    "treatment (PI24)"
)


@pytest.mark.parametrize(
    ("when", "confirm"),
    [
        (date(2026, 2, 17), True),  # the day after the treatment
        (FOLLOW_UP_ENDS, True),  # the follow-up window's last day
        (FOLLOW_UP_ENDS + timedelta(days=1), False),  # after every assumed visit
    ],
)
def test_a_surgery_planned_after_the_trial_period_passes(when, confirm):
    # PI24 reads the trial period as the 48 weeks of treatment; by the assumed follow-up visit
    # the pass asks the sponsor to confirm that reading (helper 133: it said nothing)
    assert _planned(when) == _planned_fields(
        "pass",
        f"Planned major surgery on {when}, after {PERIOD}: passes (EX08)"
        + (CONFIRM if confirm else ""),
        when.isoformat(),
    )


def test_a_planned_surgery_without_a_date_names_the_trial_period():
    assert _planned(None) == _planned_fields(
        "unknown",
        f"Planned major surgery without a date: one planned in {PERIOD} excludes, one after it "
        "does not; record the planned date: unknown (EX08)",
        None,
    )


def test_a_surgery_planned_before_randomization_is_read_against_the_8_week_window():
    # 8 weeks (56 days) before 2025-03-17: 17 days to 2025-02-28, 28 to 2025-01-31, 11 more:
    # 2025-01-20. 2025-03-10 is within; it clears 57 days later: 21 days to 2025-03-31, 30 to
    # 2025-04-30, 6 more: 2025-05-06.
    assert _planned(date(2025, 3, 10)) == _planned_fields(
        "fail",
        "Planned major surgery (planned for 2025-03-10) is within the window of 8 weeks prior "
        "to randomization (2025-01-20 to randomization 2025-03-17): excluded (EX08); a "
        "randomization on or after 2025-05-06 clears it",
        "2025-03-10",
        window_start="2025-01-20",
        clears_on="2025-05-06",
    )
    # the day before the window's first day: 2025-01-19 + 57 days is 2025-03-17 (12 days to
    # 2025-01-31, 28 to 2025-02-28, 17 more)
    assert _planned(date(2025, 1, 19)) == _planned_fields(
        "pass",
        "Planned major surgery (planned for 2025-01-19) is before the window of 8 weeks prior "
        "to randomization (from 2025-01-20): passes (EX08); cleared from 2025-03-17",
        "2025-01-19",
        window_start="2025-01-20",
        clears_on="2025-03-17",
    )


def test_the_planned_rule_refuses_a_catalogue_entry_without_its_window():
    kind = next(e for e in STUDY.exposure_events if e.kind == "planned_major_surgery")
    data = _input(events=[{"kind": "planned_major_surgery", "date": date(2025, 6, 2)}])
    with pytest.raises(AssertionError):
        _planned_event(
            data.events[0],
            "events[0]",
            kind.model_copy(update={"window": None}),
            "EX08",
            data,
            STUDY,
        )


# -- the anchor dates at which a status can change --------------------------------------------


MEDICATIONS = [
    MedicationEntry(name="aspirin", last_dose=date(2025, 3, 1)),  # not catalogued: skipped
    MedicationEntry(name="methotrexate", start=date(2025, 1, 6), last_dose=date(2025, 2, 24)),
    MedicationEntry(name="rituximab", last_dose=date(2010, 1, 1)),  # lifetime: no date matters
    MedicationEntry(name="etanercept", last_dose=date(2025, 1, 1)),  # no window in the record
    MedicationEntry(name="cyclophosphamide", last_dose=date(2024, 11, 30)),
]
EVENTS = [
    EventEntry(kind="major_surgery"),  # no date: skipped
    EventEntry(kind="tattoo", date=date(2025, 1, 1)),  # not an event kind: skipped
    EventEntry(kind="oral_antibiotics", date=date(2025, 2, 24)),
    EventEntry(kind="planned_major_surgery", date=date(2025, 3, 31)),
    EventEntry(kind="investigational_drug", date=date(2024, 12, 3)),
]
# methotrexate, 4 weeks before randomization: each date and the day it clears (+29 days):
# 2025-01-06 -> 2025-02-04 (25 days to 2025-01-31, 4 more); 2025-02-24 -> 2025-03-25
METHOTREXATE = {date(2025, 1, 6), date(2025, 2, 4), date(2025, 2, 24), date(2025, 3, 25)}
# cyclophosphamide, 3 calendar months: 2025-02-28 - 3 months = 2024-11-28 (within), 2025-03-01
# - 3 months = 2024-12-01 (after 2024-11-30): it clears on 2025-03-01
CYCLOPHOSPHAMIDE = {date(2024, 11, 30), date(2025, 3, 1)}
# planned surgery 2025-03-31, 8 weeks before randomization: the date, the day after, the day it
# clears (+57 days: 30 to 2025-04-30, 27 more: 2025-05-27), and the randomization 48 weeks
# before it (336 days back: 90 to 2024-12-31, 246 more: 2024-04-29)
PLANNED = {date(2025, 3, 31), date(2025, 4, 1), date(2025, 5, 27), date(2024, 4, 29)}
# oral antibiotics 2025-02-24, 2 weeks before screening: the day after and 2025-02-24 + 15 days
ANTIBIOTICS = {date(2025, 2, 24), date(2025, 2, 25), date(2025, 3, 11)}
# investigational drug 2024-12-03, 3 months before screening: 2025-03-03 - 3 months is
# 2024-12-03 (within), 2025-03-04 - 3 months is 2024-12-04: it clears on 2025-03-04
INVESTIGATIONAL = {date(2024, 12, 3), date(2024, 12, 4), date(2025, 3, 4)}


def test_anchor_breakpoints_are_each_dated_entrys_dates_and_clearing_days():
    screening, randomization = anchor_breakpoints(MEDICATIONS, EVENTS, STUDY)
    assert randomization == METHOTREXATE | CYCLOPHOSPHAMIDE | PLANNED
    assert screening == ANTIBIOTICS | INVESTIGATIONAL


def test_anchor_breakpoints_follow_the_study_they_are_given():
    # were EX09's 4 weeks counted from screening, methotrexate's dates would move the screening
    study = _variant_study("immunosuppressants", anchor="screening")
    screening, randomization = anchor_breakpoints(MEDICATIONS[1:2], [], study)
    assert (screening, randomization) == (METHOTREXATE, set())


def test_anchor_breakpoints_of_nothing_are_empty():
    assert anchor_breakpoints([], [], STUDY) == (set(), set())


# -- the JSON of a result -----------------------------------------------------------------------


def test_washout_result_json_has_every_key_with_dates_as_text():
    # oral antibiotics 2025-02-24; 2 weeks (14 days) before screening 2025-03-03 is 2025-02-17:
    # within. A screening on 2025-03-11 (window from 2025-02-25) clears it: rescreening.
    result = check_washout(_input(events=[{"kind": "oral_antibiotics", "date": date(2025, 2, 24)}]))
    assert result.to_json() == {
        "planned_randomization": "2025-03-17",
        "screening": "2025-03-03",
        "status": "fail",
        "earliest_randomization": None,
        "earliest_randomization_is_a_bound": False,
        "earliest_randomization_or_before": False,
        "latest_randomization": None,  # no earliest date on this screening
        "requires_rescreening": True,
        "rescreening_from": "2025-03-11",
        "rescreening_for_randomization": "2025-03-17",  # the planned date
        "never": False,
        "summary": "Not on this screening: a window counted from the screening visit is not "
        "clear (Oral antibiotics), so no randomization date follows from this screening; "
        "rescreening is needed, on or after 2025-03-11.",
        "entries": [
            {
                "entry": "events[0]",
                "name": "Oral antibiotics",
                "status": "fail",
                "reason": "Oral antibiotics (dated 2025-02-24) is within the window of 2 weeks "
                "prior to screening (2025-02-17 to screening 2025-03-03): excluded (EX20); a "
                "screening on or after 2025-03-11 clears it (rescreening needed)",
                "matched": "oral_antibiotics",
                "criterion": "EX20",
                "window": "2 weeks",
                "anchor": "screening",
                "anchor_date": "2025-03-03",
                "window_start": "2025-02-17",
                "last_date": "2025-02-24",
                "clears_on": "2025-03-11",
                "on_boundary": False,
                "lifetime": False,
                "requires_rescreening": True,
                "notes": [],
                "criteria": ["EX20"],
            }
        ],
    }


def test_washout_result_json_without_a_screening_date():
    result = check_washout(_input(screening=None))
    assert result.to_json() == {
        "planned_randomization": "2025-03-17",
        "screening": None,
        "status": "pass",
        # nothing recorded sets an earliest date: searched from 28 days before the planned
        # date (the schedule's reach), and any earlier date is allowed too
        "earliest_randomization": "2025-02-17",
        "earliest_randomization_is_a_bound": False,
        "earliest_randomization_or_before": True,
        "latest_randomization": None,  # no window closes again, no screening date to reach
        "requires_rescreening": False,
        "rescreening_from": None,
        "rescreening_for_randomization": None,
        "never": False,
        # without a screening date, the one the schedule needs (at most 28 days before)
        "summary": "Earliest randomization: none set by the record (no date it holds limits "
        "it); the planned 2025-03-17 is allowed if the screening visit is on or after "
        "2025-02-17 (randomization comes at most 28 days after it).",
        "entries": [],
    }


FEBRUARY_19 = date(2026, 2, 19)


@pytest.mark.parametrize(
    ("screening", "latest", "surgery_on"),
    [
        # a surgery planned for 2026-02-19: the trial period (48 weeks, 336 days) of a
        # randomization on 2025-03-19 ends on 2026-02-18, of one on 2025-03-20 on 2026-02-19,
        # which reaches it. The text said "allowed until 2025-03-19"; the JSON had no such date
        # (helper 126), so a program reading it would have taken 2025-03-20
        (date(2025, 3, 17), date(2025, 3, 19), FEBRUARY_19),
        (None, date(2025, 3, 19), FEBRUARY_19),
        # screened on 2025-02-19: randomization by 2025-03-19 (28 days) comes first, the
        # surgery's limit is the same day
        (date(2025, 2, 19), date(2025, 3, 19), FEBRUARY_19),
        # screened on 2025-02-18: by 2025-03-18, a day before the surgery's limit
        (date(2025, 2, 18), date(2025, 3, 18), FEBRUARY_19),
        # a surgery a month later: its limit is 2025-04-18 (2026-03-20 less 48 weeks, the day
        # before), and the screening of 2025-03-03 reaches 2025-03-31 first
        (date(2025, 3, 3), date(2025, 3, 31), date(2026, 3, 20)),
    ],
)
def test_the_json_gives_the_last_allowed_date_as_the_text_does(screening, latest, surgery_on):
    surgery = {"kind": "planned_major_surgery", "date": surgery_on}
    result = check_washout(
        _input(
            screening=screening,
            medications=[],
            events=[surgery],
            planned_randomization=date(2025, 3, 17),
        )
    )
    assert result.to_json()["latest_randomization"] == latest.isoformat()
    assert result.status == "pass"
    # the text gives the same day (it gave the surgery's limit alone, helper 137)
    assert f"allowed until {latest}" in result.summary or (
        f"allowed on any date to {latest}" in result.summary
    )
    # the day after is not allowed: the surgery is in the trial period, or the screening is
    # more than 28 days before
    after = check_washout(
        _input(
            screening=screening,
            medications=[],
            events=[surgery],
            planned_randomization=latest + timedelta(days=1),
        )
    )
    assert after.status == "fail"


@settings(max_examples=examples(60), deadline=None)
@given(
    screening=st.one_of(st.none(), st.integers(-40, 0)),
    surgery=st.integers(300, 420),
    planned=st.integers(0, 40),  # (a screening comes first)
)
def test_the_text_and_the_json_give_one_last_allowed_date(screening, surgery, planned):
    # whatever the screening (or none), the surgery and the planned date: where the text says
    # until when randomization is allowed, it is the JSON's latest_randomization
    start = date(2025, 3, 17)
    result = check_washout(
        _input(
            screening=None if screening is None else start + timedelta(days=screening),
            medications=[],
            events=[{"kind": "planned_major_surgery", "date": start + timedelta(days=surgery)}],
            planned_randomization=start + timedelta(days=planned),
        )
    )
    said = re.search(r"(?:allowed until|allowed on any date to) ([0-9-]{10})", result.summary)
    if said:
        assert said[1] == result.to_json()["latest_randomization"], result.summary


@pytest.mark.parametrize(
    ("planned", "events", "rescreen_from", "rescreen_for"),
    [
        # oral antibiotics on 2025-02-25 need a screening from 2025-03-12 (2 weeks, EX20); a
        # surgery on 2026-02-10 is in the trial period (randomization + 336 days) of any
        # randomization from 2025-03-11 (2026-02-10 less 336 days) to itself, and 8 weeks after
        # it (57 days) a randomization clears it again: 2026-04-08, screened 28 days before at
        # the earliest, 2026-03-11. Rescreening for the planned 2025-03-17 was advised, a date
        # the surgery forbids (helper 137)
        (
            date(2025, 3, 17),
            [
                {"kind": "oral_antibiotics", "date": date(2025, 2, 25)},
                {"kind": "planned_major_surgery", "date": date(2026, 2, 10)},
            ],
            date(2026, 3, 11),
            date(2026, 4, 8),
        ),
        # planned 2025-04-05, past the screening's reach (2025-03-31): a surgery on 2026-03-01
        # is in the trial period of 2025-04-05 (to 2026-03-07), so rescreening for that date
        # cannot help; the first date clear of it is 2026-04-27 (8 weeks after), screened from
        # 2026-03-30
        (
            date(2025, 4, 5),
            [{"kind": "planned_major_surgery", "date": date(2026, 3, 1)}],
            date(2026, 3, 30),
            date(2026, 4, 27),
        ),
    ],
)
def test_a_rescreening_is_for_a_randomization_the_planned_surgery_allows(
    planned, events, rescreen_from, rescreen_for
):
    result = check_washout(_input(medications=[], events=events, planned_randomization=planned))
    found = result.to_json()
    assert (found["rescreening_from"], found["rescreening_for_randomization"]) == (
        rescreen_from.isoformat(),
        rescreen_for.isoformat(),
    )
    # the pair it advises passes every window
    again = check_washout(
        _input(
            medications=[],
            events=events,
            screening=rescreen_from,
            planned_randomization=rescreen_for,
        )
    )
    assert again.status == "pass", again.summary


_DAY0 = date(2025, 3, 3)


@settings(max_examples=examples(60), deadline=None)
@given(
    planned=st.integers(0, 60),
    antibiotics=st.one_of(st.none(), st.integers(-30, 0)),
    vaccine=st.one_of(st.none(), st.integers(-40, 0)),
    methotrexate=st.one_of(st.none(), st.integers(-40, 0)),
    surgery=st.one_of(st.none(), st.integers(-70, 420)),
)
def test_an_advised_rescreening_passes_every_window(
    planned, antibiotics, vaccine, methotrexate, surgery
):
    # whatever the record holds: a new screening and randomization the answer advises are
    # allowed when checked again on those dates, and the randomization comes on or after the
    # screening, within 28 days of it (helper 137 found advice for a date a surgery forbids)
    kinds = (("oral_antibiotics", antibiotics), ("live_vaccine", vaccine))
    events = [{"kind": k, "date": _DAY0 + timedelta(days=d)} for k, d in kinds if d is not None]
    if surgery is not None:
        events.append({"kind": "planned_major_surgery", "date": _DAY0 + timedelta(days=surgery)})
    medications = (
        []
        if methotrexate is None
        else [{"name": "methotrexate", "last_dose": _DAY0 + timedelta(days=methotrexate)}]
    )
    result = check_washout(
        _input(
            screening=_DAY0,
            medications=medications,
            events=events,
            planned_randomization=_DAY0 + timedelta(days=planned),
        )
    )
    found = result.to_json()
    if found["rescreening_from"] is None or found["rescreening_for_randomization"] is None:
        return
    new_screening = date.fromisoformat(found["rescreening_from"])
    randomization = date.fromisoformat(found["rescreening_for_randomization"])
    assert new_screening <= randomization <= new_screening + timedelta(days=28), result.summary
    again = check_washout(
        _input(
            screening=new_screening,
            medications=medications,
            events=events,
            planned_randomization=randomization,
        )
    )
    assert again.status == "pass", (result.summary, again.summary)


def test_the_screening_visits_reach_is_the_last_allowed_date_when_nothing_closes_again():
    # screened on 2025-03-03, nothing recorded: randomization by 2025-03-31 (28 days)
    result = check_washout(_input(medications=[], events=[]))
    assert result.latest_randomization == date(2025, 3, 31)


# -- input errors name the file and the line ---------------------------------------------------


def test_a_misspelt_field_in_a_file_names_the_file_and_its_line(tmp_path):
    path = tmp_path / "washout.yaml"
    path.write_text(
        "planned_randomization: 2025-03-17\n"
        "screening: 2025-03-03\n"
        "medications:\n"
        "  - name: methotrexate\n"
        "    lastdose: 2025-02-10\n"
    )
    with pytest.raises(WashoutInputError) as caught:
        load_washout_input(path)
    assert caught.value.source == str(path)
    assert str(caught.value) == (
        f"{path}: 1 problem:\n"
        "  - medications[0] (methotrexate).lastdose (line 5): unknown field (is it misspelt?); "
        "expected one of: name, start, last_dose, ongoing, dose, frequency, route, "
        "investigator_cleared, clearance_reason"
    )


def test_an_overriding_randomization_date_is_checked_against_the_file(tmp_path):
    path = tmp_path / "washout.json"
    path.write_text(
        '{"planned_randomization": "2025-03-17", '
        '"medications": [{"name": "methotrexate", "last_dose": "2025-02-10"}]}'
    )
    with pytest.raises(WashoutInputError) as caught:
        load_washout_input(path, randomization=date(2025, 2, 1))
    assert str(caught.value) == (
        f"{path}: 1 problem:\n"
        "  - medications[0] (methotrexate).last_dose = 2025-02-10: after the planned "
        "randomization 2025-02-01; a dose before randomization was expected"
    )


def test_parse_names_the_source_and_the_line_of_the_given_node():
    text = "planned_randomization: 2025-03-17\nscreening: 2025-03-03\nmedicines: []\n"
    data, node = parse_yaml_text(text, "input.yaml")
    with pytest.raises(WashoutInputError) as caught:
        parse_washout_input(data, "input.yaml", node)
    assert str(caught.value) == (
        "input.yaml: 1 problem:\n  - medicines (line 3): unknown field (is it misspelt?); "
        "expected one of: planned_randomization, screening, medications, events"
    )
    with pytest.raises(WashoutInputError) as caught:
        parse_washout_input(data, "input.yaml")  # without the node there is no line
    assert (
        str(caught.value)
        == "input.yaml: 1 problem:\n  - medicines: unknown field (is it misspelt?); expected "
        "one of: planned_randomization, screening, medications, events"
    )


def test_an_entry_problem_names_the_source():
    data = {
        "planned_randomization": RANDOMIZATION,
        "medications": [{"name": "methotrexate", "last_dose": date(2025, 4, 1)}],
    }
    with pytest.raises(WashoutInputError) as caught:
        parse_washout_input(data, "input.yaml")
    assert caught.value.source == "input.yaml"
    assert caught.value.problems == [
        "medications[0] (methotrexate).last_dose = 2025-04-01: after the planned randomization "
        "2025-03-17; a dose before randomization was expected"
    ]
    assert str(caught.value).startswith("input.yaml: 1 problem:\n  - medications[0]")


def test_an_event_of_two_criteria_carries_both_as_a_list():
    result = check_washout(_input(events=[{"kind": "live_vaccine", "date": date(2025, 3, 1)}]))
    (entry,) = result.entries
    assert entry.criteria == ("EX26", "EX29") and entry.criterion == "EX26/EX29"
    assert entry.to_json()["criteria"] == ["EX26", "EX29"]


@pytest.mark.parametrize("screening", [None, date(2025, 2, 20)])
def test_a_planned_surgery_is_clear_at_an_earlier_randomization_with_or_without_screening(
    screening,
):
    # a surgery planned for 2026-02-15: the trial period is randomization + 48 weeks (336
    # days), so it falls after the period for a randomization on or before 2025-03-15
    # (2025-03-15 + 336 days = 2026-02-14) and within it from 2025-03-16. Without a screening
    # date the search had begun at the planned 2025-03-17 and named 2026-04-13 (8 weeks after
    # the surgery) as the earliest date: 13 months of waiting for a date already allowed.
    surgery = {"kind": "planned_major_surgery", "date": date(2026, 2, 15)}
    result = check_washout(_input(screening=screening, medications=[], events=[surgery]))
    assert result.status == "fail"
    assert result.earliest_randomization is not None
    assert result.earliest_randomization <= date(2025, 3, 15)
    assert "allowed" in result.summary and "2025-03-15" in result.summary
    assert "2026-04-13" not in result.summary
    assert result.earliest_or_before == (screening is None)


def test_a_window_counted_from_an_unrecorded_screening_binds_an_earlier_randomization_too():
    # no screening date, an investigational drug on 2024-12-01 (EX23: 3 months before the
    # screening visit) and a surgery planned for 2025-12-01. A randomization on or before
    # 2024-12-29 would clear the surgery (2024-12-29 + 336 days = 2025-11-30) but needs a
    # screening within 28 days before it, within the drug's 3 months: never allowed. A reviewer
    # found "allowed on any date to 2024-12-29" with earliest_randomization_or_before true.
    drug = {"kind": "investigational_drug", "date": date(2024, 12, 1)}
    surgery = {"kind": "planned_major_surgery", "date": date(2025, 12, 1)}
    result = check_washout(_input(screening=None, events=[drug, surgery]))
    assert not result.earliest_or_before
    assert "any date" not in result.summary
    assert result.earliest_randomization is not None
    assert result.earliest_randomization > date(2025, 3, 17)


@pytest.mark.parametrize(
    ("kind", "dated", "planned", "rescreen"),
    [
        # the tester's: an investigational drug on 2024-12-17 (3 months: a screening on or
        # after 2025-03-18 clears it), planned on 2025-03-18. Asked before for 2025-03-19,
        # though the same record screened on 2025-03-18 for 2025-03-18 passes
        ("investigational_drug", date(2024, 12, 17), date(2025, 3, 18), date(2025, 3, 18)),
        # oral antibiotics on 2025-03-02 (2 weeks: clear from a screening on 2025-03-17),
        # planned on 2025-03-17
        ("oral_antibiotics", date(2025, 3, 2), date(2025, 3, 17), date(2025, 3, 17)),
    ],
)
def test_a_rescreening_may_be_on_the_randomization_day_as_a_planned_one_may(
    kind, dated, planned, rescreen
):
    result = check_washout(
        _input(events=[{"kind": kind, "date": dated}], planned_randomization=planned)
    )
    assert (result.rescreening_from, result.rescreening_for) == (rescreen, planned)
    # the advice followed: screened on that day, for that randomization, it passes
    followed = check_washout(
        _input(
            events=[{"kind": kind, "date": dated}],
            planned_randomization=planned,
            screening=rescreen,
        )
    )
    assert followed.status == "pass" and not followed.requires_rescreening


# -- a catalogued medicine used locally (helper 126) -------------------------------------------

#: one medicine of each class with a window counted from randomization, and its window in days
#: (4 weeks 28, 3 months from 2025-03-17 back to 2024-12-17, 12 weeks 84, 1 week 7, 2 weeks
#: 14, 8 weeks 56)
_WINDOWED = [
    ("methotrexate", 28),
    ("cyclosporine", 28),
    ("cyclophosphamide", 90),
    ("colchicine", 28),
    ("imatinib", 28),
    ("intravenous immunoglobulin", 84),
    ("anakinra", 7),
    ("ixekizumab", 14),
    ("infliximab", 56),
    ("tofacitinib", 14),
]
_LOCAL_ROUTES = ["topical", "inhaled", "intra_articular", "intralesional", "nasal", "ophthalmic"]


@pytest.mark.parametrize(("name", "days"), _WINDOWED)
@pytest.mark.parametrize("route", _LOCAL_ROUTES)
def test_a_local_use_within_the_window_is_the_investigators_to_decide(name, days, route):
    # the same medicine named by its local form ("cyclosporine eye drops") is unknown until
    # the investigator decides; given by its route field, the protocol's failure had been
    # final and the investigator's clearance refused: one fact, two verdicts
    within = {"name": name, "route": route, "last_dose": RANDOMIZATION - timedelta(days=1)}
    (entry,) = check_washout(_input(medications=[within])).entries
    assert entry.status == "unknown"
    assert "local use" in entry.reason and "investigator decides" in entry.reason
    cleared = {**within, "investigator_cleared": True, "clearance_reason": "dry eye"}
    (entry,) = check_washout(_input(medications=[cleared])).entries
    assert entry.status == "pass" and "dry eye" in entry.reason
    # before its window, the route decides nothing
    before = {**within, "last_dose": RANDOMIZATION - timedelta(days=days + 40)}
    (entry,) = check_washout(_input(medications=[before])).entries
    assert entry.status == "pass"


@pytest.mark.parametrize(("name", "days"), _WINDOWED)
@pytest.mark.parametrize("route", ["oral", "iv", "im", "sc", None])
def test_a_systemic_use_within_the_window_fails_and_no_clearance_is_taken(name, days, route):
    within = {"name": name, "route": route, "last_dose": RANDOMIZATION - timedelta(days=1)}
    (entry,) = check_washout(_input(medications=[within])).entries
    assert entry.status == "fail"
    cleared = {**within, "investigator_cleared": True, "clearance_reason": "asked"}
    with pytest.raises(WashoutInputError, match="decided by the protocol"):
        check_washout(_input(medications=[cleared]))


@pytest.mark.parametrize("route", _LOCAL_ROUTES)
def test_a_lifetime_exclusion_stays_the_protocols_whatever_the_route(route):
    used = {"name": "rituximab", "route": route, "last_dose": date(2020, 1, 1)}
    (entry,) = check_washout(_input(medications=[used])).entries
    assert entry.status == "fail" and entry.lifetime


@pytest.mark.parametrize(
    ("dose", "shown"),
    [
        # helper 126: 15 mcg of prednisone a day was said "= 0.01 mg/day"
        ("15 mcg", "0.015 mg"),
        ("10 mcg", "0.01 mg"),
        ("10.5 mcg", "0.0105 mg"),
        ("500 mcg", "0.5 mg"),
        ("12.5 mg", "12.5 mg"),
        ("7.25 mg", "7.25 mg"),
    ],
)
def test_a_small_corticosteroid_dose_is_said_with_its_significant_digits(dose, shown):
    course = {
        "name": "prednisone",
        "ongoing": True,
        "dose": dose,
        "frequency": "daily",
        "route": "oral",
    }
    (entry,) = check_washout(_input(medications=[course])).entries
    assert f"{shown}/day" in entry.reason.replace(" a day", "/day"), entry.reason


def test_a_cleared_local_use_passes_whatever_its_dates_and_sets_no_floor():
    # helper 128: tacrolimus cream cleared by the investigator, last dose 2025-03-01, no
    # screening date: "passes" and "earliest 2025-03-30, after the planned 2025-03-17" at once
    cream = {
        "name": "tacrolimus",
        "route": "topical",
        "last_dose": date(2025, 3, 1),
        "investigator_cleared": True,
        "clearance_reason": "cream on hands only",
    }
    result = check_washout(_input(screening=None, medications=[cream]))
    assert result.status == "pass"
    assert result.earliest_randomization == date(2025, 3, 1)
    assert not result.earliest_is_a_bound
    # not cleared: a bound from its last dose, as "tacrolimus ointment" gives
    uncleared = {
        k: v for k, v in cream.items() if k not in ("investigator_cleared", "clearance_reason")
    }
    result = check_washout(_input(screening=None, medications=[uncleared]))
    assert result.status == "unknown" and result.earliest_is_a_bound
    assert result.earliest_randomization == date(2025, 3, 1)
    named = check_washout(
        _input(screening=None, medications=[{**uncleared, "name": "tacrolimus ointment"}])
    )
    assert named.earliest_randomization == result.earliest_randomization


def test_a_cleared_local_use_without_its_last_dose_passes():
    # the investigator's clearance decides it on any date: the missing last dose cannot change it
    cream = {
        "name": "tacrolimus",
        "route": "topical",
        "start": date(2025, 1, 1),
        "investigator_cleared": True,
        "clearance_reason": "cream on hands",
    }
    (entry,) = check_washout(_input(medications=[cream])).entries
    assert entry.status == "pass" and "local use" in entry.reason
    uncleared = {
        k: v for k, v in cream.items() if k not in ("investigator_cleared", "clearance_reason")
    }
    (entry,) = check_washout(_input(medications=[uncleared])).entries
    assert entry.status == "unknown"
    assert "the investigator may also decide that EX09 does not concern it" in entry.reason


def test_a_class_named_alone_with_a_local_route_is_not_the_investigators_to_clear():
    # helper 129: "immunosuppressant" may be cyclophosphamide (3 months) or a lifetime
    # exclusion; a local route's clearance passed it. PI32 is for a medicine named
    class_only = {
        "name": "immunosuppressant",
        "route": "topical",
        "last_dose": date(2025, 1, 1),
        "investigator_cleared": True,
        "clearance_reason": "cream only",
    }
    with pytest.raises(WashoutInputError, match="decided by the protocol"):
        check_washout(_input(medications=[class_only]))


def test_a_local_use_open_only_before_the_planned_date_does_not_say_entries_remain():
    # helper 129: tacrolimus cream last used 2025-02-10 passes on 2025-03-17 (clear from
    # 2025-03-11); before that, within its window, it is the investigator's. "Unknown entries
    # remain" denied the planned date's pass
    cream = {"name": "tacrolimus", "route": "topical", "last_dose": date(2025, 2, 10)}
    result = check_washout(_input(medications=[cream]))
    assert result.status == "pass"
    assert "Unknown entries remain" not in result.summary
    assert "the investigator decides tacrolimus first" in result.summary
    assert "the planned 2025-03-17 is clear of it" in result.summary
