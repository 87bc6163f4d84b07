"""No personal data in the sources: no phone numbers, e-mail addresses or Chinese resident
identity numbers, and every example is marked synthetic. (tests/built checks the built HTML.)"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

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
