"""How values are shown to readers (issue 12, section 3): frequencies as a prescription writes
them, registry codes in words, visit windows as site staff write them."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol.display import show_code, show_frequency, show_value
from protocol.study import Visit
from protocol.units import ureg

pytestmark = pytest.mark.traces("criteria")


@pytest.mark.parametrize(
    ("frequency", "words"),
    [
        ("1/week", "once weekly"),
        ("2/week", "twice weekly"),
        ("1/day", "once daily"),
        ("2/day", "twice daily"),
        ("3/day", "three times daily"),
        ("4/day", "four times daily"),
        ("7/week", "once daily"),  # every day is daily, however it was written
        ("14/week", "twice daily"),
        ("5/day", "35 times a week"),  # beyond the words: counted, never guessed
        ("0.5/week", "0.5 times a week"),
    ],
)
def test_a_frequency_reads_as_a_prescription(frequency, words):
    assert show_frequency(ureg(frequency)) == words
    assert show_value(ureg(frequency)) == words


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("EXPERIMENTAL", "Experimental"),
        ("ACTIVE_COMPARATOR", "Active comparator"),
        ("INTERVENTIONAL", "Interventional"),
        ("EVERY WEEK", "Every week"),
        ("SUBCUTANEOUS", "Subcutaneous"),
        ("PHASE2", "Phase 2"),
        ("NONE", "none"),  # the pages add "(open label)" where masking is named
        ("ORAL", "Oral"),
        ("DRUG", "Drug"),  # registry intervention type
        ("OTHER", "Other"),  # registry sponsor class
        # abbreviations and ordinary text stay as written
        ("BID", "BID"),
        ("HIV", "HIV"),
        ("IVIG", "IVIG"),
        ("ACR/EULAR", "ACR/EULAR"),
        ("Systemic Sclerosis", "Systemic Sclerosis"),
        ("dcSSc", "dcSSc"),
    ],
)
def test_a_registry_code_reads_as_words(code, words):
    assert show_code(code) == words
    assert show_value(code) == words


def test_a_cdisc_term_shows_its_words_and_its_code():
    from protocol.study import load_study

    route = load_study().intervention("telitacicept").route_cdisc.value
    assert show_value(route) == "Subcutaneous (C38299)"


def _visit(before, after):
    return Visit(id="v", label="V", day=29, window_before=before, window_after=after, activities=[])


@pytest.mark.parametrize(
    ("before", "after", "text"),
    [
        ("P0D", "P0D", "on the day"),
        ("P1D", "P1D", "± 1 day"),
        ("P3D", "P3D", "± 3 days"),
        ("P0D", "P27D", "day 29 to day 56"),  # from the visit's day 29
        ("P2D", "P1D", "day 27 to day 30"),
        ("P1W", "P1W", "± 7 days"),
    ],
)
def test_a_visit_window_reads_as_site_staff_write_it(before, after, text):
    assert _visit(before, after).window_text == text


@pytest.mark.parametrize(
    ("day", "before", "after", "text"),
    [
        (-28, "P0D", "P27D", "day −28 to day −1"),  # the screening window: 28 days, no day 0
        (-2, "P1D", "P3D", "day −3 to day 2"),  # −3, −2 | −1, 1, 2: three days after skips 0
        (3, "P4D", "P0D", "day −2 to day 3"),  # 3, 2, 1, −1, −2: four days before skips 0
        (1, "P0D", "P1D", "day 1 to day 2"),
    ],
)
def test_an_asymmetric_window_is_given_by_its_study_days_and_there_is_no_day_0(
    day, before, after, text
):
    visit = Visit(
        id="v", label="V", day=day, window_before=before, window_after=after, activities=[]
    )
    assert visit.window_text == text


@pytest.mark.parametrize(
    ("verdict", "words"),
    [("eligible", "eligible"), ("not_eligible", "not eligible"), ("incomplete", "incomplete")],
)
def test_a_verdict_reads_as_the_screening_log_writes_it(verdict, words):
    from protocol.display import show_verdict

    assert show_verdict(verdict) == words


@pytest.mark.parametrize(
    ("item", "words"),
    [
        ("pregnancy_test.sample (IN06)", "pregnancy test › sample (IN06)"),
        (
            "medications[0] (x): investigator to confirm",
            "medications entry 1 (x): investigator to confirm",
        ),
        ("medications[2] (pentoxifylline)", "medications entry 3 (pentoxifylline)"),
        ("labs.alt.uln", "labs › ALT › ULN"),
        ("ssc.mrss.areas (IN03, EX01)", "SSc › mRSS › areas (IN03, EX01)"),
        ("ssc.acr_eular.ild", "SSc › ACR/EULAR › ILD"),
        ("sex", "sex"),
    ],
)
def test_a_missing_field_is_named_in_reader_words(item, words):
    from protocol.display import show_field

    assert show_field(item) == words


def test_a_table_has_no_header_row_of_its_own_for_the_index_name():
    import pandas as pd

    from protocol.display import table_html

    named = pd.DataFrame({"Status": ["pass"]}, index=pd.Index(["IN01"], name="Criterion"))
    head = table_html(named).split("<tbody>")[0]
    assert head.count("<tr") == 1 and "<th>Criterion</th>" in head and "<th>Status</th>" in head
    assert "<th>IN01</th>" in table_html(named)  # the row label stays a row header
    both = pd.DataFrame(
        {"Dose": ["160 mg"]},
        index=pd.MultiIndex.from_tuples([("A", "telitacicept")], names=["Arm", "Intervention"]),
    )
    head = table_html(both).split("<tbody>")[0]
    assert head.count("<tr") == 1
    assert [c in head for c in ("<th>Arm</th>", "<th>Intervention</th>", "<th>Dose</th>")] == [
        True,
        True,
        True,
    ]
    unnamed = pd.DataFrame({"Status": ["pass"]})
    assert table_html(unnamed).split("<tbody>")[0].count("<tr") == 1


def test_table_headers_are_left_aligned_and_chinese_is_marked():
    import pandas as pd

    from protocol.display import mark_chinese, table_html

    html = table_html(pd.DataFrame({"Name": ["Haemoglobin 血红蛋白"]}))
    assert 'style="text-align: left;"' in html and "text-align: right" not in html
    assert '<td>Haemoglobin <span lang="zh-Hans">血红蛋白</span></td>' in html
    both = pd.DataFrame(
        {"x": [1]}, index=pd.MultiIndex.from_tuples([("A", "b")], names=["One", "Two"])
    )
    assert "text-align: right" not in table_html(both)
    # runs of Chinese with their punctuation are one span; other text is untouched
    assert mark_chinese("避孕（女性） and 献血") == (
        '<span lang="zh-Hans">避孕（女性）</span> and <span lang="zh-Hans">献血</span>'
    )
    assert mark_chinese("<td>no Chinese</td>") == "<td>no Chinese</td>"


@given(
    st.integers(min_value=-400, max_value=400).filter(lambda d: d != 0),
    st.integers(min_value=-400, max_value=400),
)
def test_shifting_a_study_day_is_moving_its_date(day, days):
    # independent derivation: the calendar's study day -> date mapping, moved by `days` days
    from datetime import date, timedelta

    from dosing.calendar import study_day_date
    from protocol.study import study_day_shift

    randomization = date(2025, 3, 17)
    shifted = study_day_shift(day, days)
    assert shifted != 0
    assert study_day_date(randomization, shifted) == study_day_date(randomization, day) + timedelta(
        days=days
    )


def test_row_numbers_are_not_shown_and_no_header_is_empty():
    import pandas as pd

    from protocol.display import table_html

    numbered = table_html(pd.DataFrame({"Analyte": ["ALT", "AST"]}))
    assert "<th>0</th>" not in numbered and "<th>1</th>" not in numbered
    assert "<td>ALT</td>" in numbered
    # a deliberate numbering (from 1, named) stays
    counted = pd.DataFrame({"x": ["a"]}, index=pd.RangeIndex(1, 2, name="#"))
    assert "<th>1</th>" in table_html(counted)
    labelled = table_html(pd.DataFrame({"Value": ["160 mg"]}, index=["Dose"]))
    head = labelled.split("</thead>")[0]
    assert "<th></th>" not in head and "<td></td>" in head
    assert "<th>Dose</th>" in labelled
