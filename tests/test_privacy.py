"""No personal data in the sources: no phone numbers, e-mail addresses or Chinese resident
identity numbers, and every example is marked synthetic. (tests/built checks the built HTML.)"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import REPO

PHONE = re.compile(
    r"(?<![\d-])(?:\+?86[- ]?)?1[3-9]\d{9}(?!\d)"  # Chinese mobile, with or without +86
    r"|(?<![\d-])0\d{2,3}-\d{7,8}(?!\d)"  # Chinese landline with area code
    r"|\+\d{1,3}[ -]\d{2,4}[ -]\d{3,4}[ -]?\d{3,4}"  # international format
)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
RESIDENT_ID = re.compile(r"(?<!\d)[1-9]\d{5}(?:19|20)\d{2}(?:0[1-9]|1[0-2])\d{2}\d{3}[\dXx](?!\d)")


def personal_data(text: str) -> list[str]:
    return PHONE.findall(text) + EMAIL.findall(text) + RESIDENT_ID.findall(text)


SOURCES = sorted(
    p
    for pattern in (
        "book/**/*.ipynb",
        "book/**/*.md",
        "book/**/*.yaml",
        "protocol/**/*.yaml",
        "protocol/**/*.json",
        "examples/*.yaml",
        "README.md",
    )
    for p in REPO.glob(pattern)
)


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("call 86-13858121751", True),
        ("+86 138 5812 1751", True),
        ("0571-87783777", True),
        ("someone@example.org", True),
        ("330102199003071234", True),
        ("33010219900307123X", True),
        ("org study id 2024-0381, start 2025-01-06, NCT06375005", False),
        ("16114.5 g/mol, 1000000 values, 75000 /µL", False),
    ],
)
def test_the_detector(text, found):
    assert bool(personal_data(text)) == found


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(REPO)))
def test_no_personal_data_in_the_sources(path: Path):
    assert personal_data(path.read_text(encoding="utf-8")) == []


@pytest.mark.parametrize(
    "path",
    sorted(REPO.glob("book/cases/*.yaml")) + sorted(REPO.glob("examples/*.yaml")),
    ids=lambda p: p.name,
)
def test_every_example_file_says_it_is_synthetic(path: Path):
    assert "SYNTHETIC" in path.read_text(encoding="utf-8").splitlines()[0]


def test_chapters_with_participant_examples_say_they_are_synthetic():
    for path in REPO.glob("book/**/*.ipynb"):
        text = path.read_text(encoding="utf-8")
        if re.search(r"SYN-\d\d|cases/|examples/", text):
            assert "synthetic" in text.lower(), path


# -- a participant code that identifies a person is refused, as prescreen refuses such an ID --


def _screened_code(code: str) -> bool:
    """Whether a record with ``code`` as its participant code is read (else it is refused)."""
    from protocol.errors import ProtocolDataError
    from protocol.participant import parse_record

    try:
        parse_record({"participant": code}, "record")
    except ProtocolDataError as exc:
        assert "a pseudonymous participant code" in str(exc)
        # the code is not written back: a birth date on the screen is what the refusal protects
        assert code not in str(exc) and "(withheld)" in str(exc)
        return False
    return True


def _resident_id(birth: date) -> str:  # built here, so no such number stands in a source
    return f"110101{birth:%Y%m%d}001X"


@settings(max_examples=120, deadline=None)
@given(
    st.dates(date(1900, 1, 1), date(2025, 12, 31)),
    st.sampled_from(
        ["{d:%Y-%m-%d}", "{d:%Y%m%d}", "{d:%d.%m.%Y}", "{d:%d-%b-%Y}", "{d:%d%b%Y}", "resident"]
    ),
)
def test_a_participant_code_written_as_a_birth_date_or_an_id_card_number_is_refused(day, form):
    code = _resident_id(day) if form == "resident" else form.format(d=day)
    assert not _screened_code(code)


@pytest.mark.parametrize(
    ("code", "read"),
    [
        ("SYN-01", True),
        ("2024-0001", True),  # a year and a sequence: a site's code
        ("10-01-05", True),  # site, cohort, subject
        ("14061978", True),  # eight digits ending in a year: as often a code (prescreen too)
        ("P00012", True),
        ("0100000123", True),  # ten digits with a trunk 0 and no separators: a numeric code
        ("13858121751"[:3] + "12345678", False),  # a Chinese mobile number
        ("138-1234-5678", False),
        ("2025-02-30", True),  # not a day: not a date
        # site-cohort-subject codes: no area code begins 00, no local number 0; no year 3
        ("001-002-0003", True),
        ("011-001-0001", True),
        ("010-0100-0100", True),
        ("031-0001-001", True),
        ("01-02-0003", True),
        ("01-02-2003", False),  # a date with a year a person's dates fall in
        # phone numbers written with dots, underscores or dialled abroad with 00
        ("010.6512.3456", False),
        ("138_1234_5678", False),
        ("415_555_0123", False),
        ("0044-20-7946-0958", False),
        ("001-415-555-0123", False),
        ("010-12345678", False),
        # a landline written as one run (Shanghai 021, Hangzhou 0571), a Taiwan mobile after
        # its country code (helper 126: each went into a calendar's event titles)
        ("02112345678", False),
        ("057187654321", False),
        ("886912345678", False),
        # dialled with the country code and no + (helper 128: into calendars and worklists)
        ("86-21-6512-3456", False),
        ("86-571-8765-4321", False),
        ("862165123456", False),
        ("886-912-345-678", False),
        ("8860912345678", False),
        ("886-2-2345-6789", False),  # a Taiwan landline (helper 129)
        ("86-021-6512-3456", False),  # the trunk 0 kept after 86
        ("2024-86-0001", True),
        ("8621000001", True),
        ("86-10-0001-0001", True),  # no local number begins with 0: a site's code
        # ten digits or fewer padded with zeros stay a site's numeric code, even shaped as a
        # Taiwan mobile (the trial's sites are on the mainland)
        ("0912345678", True),
        ("02100100001", True),  # no local number begins with 0
    ],
)
def test_a_participant_code_is_read_unless_it_identifies_a_person(code, read):
    assert _screened_code(code) is read


# an area code after the trunk 0 (010, 020-029, 0310-0999) and a local number of 7 or 8 digits
# not beginning with 0: eleven or twelve digits in all
_AREA_CODES = st.one_of(
    st.sampled_from(["10", *(f"2{d}" for d in range(10))]),
    st.integers(310, 999).map(str),
)


@settings(max_examples=200, deadline=None)
@given(
    area=_AREA_CODES,
    first=st.integers(1, 9),
    rest=st.integers(0, 9_999_999),
    separator=st.sampled_from(["", "-", "."]),
)
def test_a_chinese_landline_dialled_with_86_and_no_plus_is_refused_as_a_code(
    area, first, rest, separator
):
    local = f"{first}{rest:07d}"
    code = separator.join(["86", area, local[:4], local[4:]])
    assert not _screened_code(code)


@settings(max_examples=200, deadline=None)
@given(
    area=_AREA_CODES, first=st.integers(1, 9), rest=st.integers(0, 9_999_999), seven=st.booleans()
)
def test_a_chinese_landline_written_as_one_run_of_digits_is_refused_as_a_code(
    area, first, rest, seven
):
    local = f"{first}{rest:07d}"[: 7 if seven and len(area) == 3 else 8]
    code = f"0{area}{local}"
    assert len(code) in (11, 12)
    assert not _screened_code(code)
