"""Reader pages speak the reader's language (issue 12, section 3): the built HTML of every page
outside the Maintainers part is scanned for what a clinician would not write.

Code (record fields, commands) is set as code on purpose and is not scanned; the data
dictionary's subject is the record's field names, so it may name them in its tables.
"""

from __future__ import annotations

import html
import re

import pytest
import yaml

from tests.conftest import REPO

HTML = REPO / "_build" / "html"
TOC = yaml.safe_load((REPO / "_toc.yml").read_text(encoding="utf-8"))
READER_PAGES = [
    chapter["file"]
    for part in TOC["parts"]
    if part["caption"] != "Maintainers"
    for chapter in part["chapters"]
] + [TOC["root"]]

FORBIDDEN = {
    "a Python value": r"\b(?:NaN|None|True|False|nan)\b",
    "a verdict identifier": r"\b(?:not_eligible|incomplete_verdict)\b",
    "an ISO 8601 duration": r"(?<![A-Za-z0-9])[-+]?P\d+[DWMY]\b",
    "a pint rate": r"\b\d+(?:\.\d+)? 1/(?:week|wk|d|day)\b",
    "a daily dose of a weekly injection": r"\d+\.\d{3,} mg/d\b",
    "a raw registry code": (
        r"\b(?:EXPERIMENTAL|ACTIVE_COMPARATOR|INTERVENTIONAL|RANDOMIZED|PARALLEL|RECRUITING"
        r"|SUBCUTANEOUS|EVERY WEEK|DRUG|OTHER)\b"
    ),
    "an identifier with underscores": r"\b[a-z][a-z0-9]*_[a-z0-9_]+\b",
    "a citation key": r"\[(?:[a-z0-9]+-)+[a-z0-9]+\]",
}

# Identifiers a page must show as they are typed, each for its reason.
ALLOWED = {
    "book/eligibility/data-dictionary": {"an identifier with underscores"},  # its subject
    # the refusal of an unknown analyte lists the names the command accepts
    "book/screening/labs": {"total_bilirubin"},
    # an event entry's match is the kind it was recorded as
    "book/screening/washout": {"live_vaccine"},
    # the glossary explains the CDISC codes by quoting them
    "book/appendix/glossary": {"a raw registry code"},
}


def _prose(entry: str) -> str:
    source = (HTML / f"{entry}.html").read_text(encoding="utf-8")
    article = source.split('<article class="bd-article">', 1)[1].split("</article>", 1)[0]
    article = re.sub(
        r"<(script|style|pre|code)\b.*?</\1>|<div class=\"highlight[^\"]*\">.*?</div>",
        " ",
        article,
        flags=re.S,
    )
    text = html.unescape(re.sub(r"<[^>]+>", " ", article))
    # a web address is spelled as it must be typed, not read as words
    return re.sub(r"\s+", " ", re.sub(r"https?://\S+", " ", text))


@pytest.fixture(autouse=True, scope="module")
def _the_book_is_built() -> None:
    if not (HTML / "index.html").exists():
        pytest.fail("the book is not built: run `make book` first", pytrace=False)


@pytest.mark.parametrize("entry", READER_PAGES)
def test_a_reader_page_shows_no_internal_value_identifier_or_code(entry):
    text = _prose(entry)
    allowed = ALLOWED.get(entry, set())
    found = {
        what: sorted({m.group(0) for m in re.finditer(pattern, text)} - allowed)
        for what, pattern in FORBIDDEN.items()
        if what not in allowed
    }
    assert {what: hits for what, hits in found.items() if hits} == {}, entry


def test_the_scan_finds_what_it_forbids():
    # a negative control: each pattern matches the example the issue gives
    examples = {
        "a Python value": "NaN",
        "a verdict identifier": "not_eligible",
        "an ISO 8601 duration": "-P3D / +P3D",
        "a pint rate": "1 1/week",
        "a daily dose of a weekly injection": "daily dose 22.8571 mg/d",
        "a raw registry code": "EXPERIMENTAL",
        "an identifier with underscores": "pregnancy_test",
        "a citation key": "the equation [inker-2021]",
    }
    for what, example in examples.items():
        assert re.search(FORBIDDEN[what], example), what
    assert not re.search(FORBIDDEN["an ISO 8601 duration"], "EX24 P30")


@pytest.mark.parametrize("entry", READER_PAGES)
def test_a_reader_pages_tables_have_no_header_row_for_an_index_name(entry):
    # pandas puts a named index in a header row of its own, empty but for that name
    source = (HTML / f"{entry}.html").read_text(encoding="utf-8")
    for head in re.findall(
        r"<table[^>]*class=\"dataframe[^>]*>\s*<thead>(.*?)</thead>", source, re.S
    ):
        assert head.count("<tr") == 1, (entry, head[:300])


@pytest.mark.parametrize("entry", READER_PAGES)
def test_every_figure_has_a_caption_and_alt_text_saying_what_it_shows(entry):
    source = (HTML / f"{entry}.html").read_text(encoding="utf-8")
    article = source.split('<article class="bd-article">', 1)[1].split("</article>", 1)[0]
    for image in re.findall(r"<img\b[^>]*>", article):
        alt = html.unescape(re.search(r'alt="([^"]*)"', image).group(1)) if "alt=" in image else ""
        assert len(alt) >= 60 and not re.search(r"\.(svg|png|jpe?g)\b", alt), (entry, image[:120])
    figures = re.findall(r"<figure\b.*?</figure>", article, re.S)
    assert len(figures) == len(re.findall(r"<img\b", article)), entry
    for figure in figures:
        assert re.search(r'<span class="caption-text">[^<]{20,}', figure), (entry, figure[:200])


def test_the_figures_are_checked():
    pages = [e for e in READER_PAGES if "<img" in (HTML / f"{e}.html").read_text("utf-8")]
    assert len(pages) >= 5


@pytest.mark.parametrize("entry", READER_PAGES)
def test_no_table_shows_pandas_row_numbers(entry):
    source = (HTML / f"{entry}.html").read_text(encoding="utf-8")
    for body in re.findall(r"<tbody>(.*?)</tbody>", source, re.S):
        first = re.findall(r"<tr[^>]*>\s*<th>(\d+)</th>", body)
        assert not first or first[0] != "0", entry  # pandas numbers rows from 0
