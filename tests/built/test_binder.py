"""The printed binder (issue 13), read back from its PDFs: `make binder` has run (make test runs
it before these tests). Text is extracted with pypdf; fonts are checked for their programs."""

from __future__ import annotations

import datetime
import functools
import re
import unicodedata

import pytest

from binder.__main__ import FILES, OUT
from binder.book import toc_entries
from binder.identity import identity_line
from binder.printing import outline_pages, page_texts, summarize
from protocol.study import load_study
from tests.built.test_reader_language import HTML
from tests.conftest import REPO


def _pdf(name: str) -> bytes:
    path = OUT / FILES[name]
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make binder`", pytrace=False)
    return path.read_bytes()


@functools.cache
def _page_texts(name: str) -> tuple[str, ...]:
    """Each sheet's text, extracted once per file (the book's took 35 s a reading)."""
    return tuple(page_texts(_pdf(name)))


def _flat(text: str) -> str:
    """Text as words: ligatures and Kangxi radicals normalised (NFKC), and no line breaks inside
    Chinese, which has no spaces between words."""
    flat = " ".join(unicodedata.normalize("NFKC", text).split())
    return re.sub(r"(?<=[\u3000-\u9fff\uff00-\uffef]) (?=[\u3000-\u9fff\uff00-\uffef])", "", flat)


@pytest.mark.parametrize("name", list(FILES))
def test_every_sheet_carries_the_identity_and_its_page_number(name):
    study = load_study()
    sheets = [_flat(t) for t in _page_texts(name)]
    identity = _flat(identity_line(study, datetime.date.today()))
    for number, text in enumerate(sheets, start=1):
        assert identity in text, (name, number)
        assert f"page {number} of {len(sheets)}" in text, (name, number)


@pytest.mark.parametrize("name", list(FILES))
def test_every_font_is_embedded_and_the_paper_is_a4(name):
    summary = summarize(_pdf(name))
    assert summary.fonts_not_embedded == ()
    assert summary.size_mm == (210, 297)
    # a glyph a font lacks comes back as the replacement character or an empty box
    text = " ".join(_page_texts(name))
    assert "\ufffd" not in text and "\u25a1" not in text


def test_the_checklist_is_two_pages_with_every_criterion_and_both_units():
    sheets = _page_texts("checklist")
    assert len(sheets) <= 2
    text = _flat(" ".join(sheets))
    for n in range(1, 8):
        assert f"IN{n:02}" in text
    for n in range(1, 31):
        assert f"EX{n:02}" in text
    # the registry's thresholds and their SI equivalents, by hand (words may wrap in a cell)
    for threshold in (
        "< 8.0 g/dL",
        "< 80 g/L",
        "< 400 mg/dL",
        "< 4 g/L",
        "< 10 mg/dL",
        "< 0.1 g/L",
        "> 1.5 × ULN",
        "< 40 mL/min/1.73 m²",
    ):
        assert _flat(threshold) in text, threshold
    assert "入选/排除标准核对表" in text  # the Chinese heading is text, not boxes


def test_the_cards_give_the_doses_and_windows():
    text = _flat(" ".join(_page_texts("cards")))
    assert "2 × 80 mg vials" in text
    assert "0.5 g, twice daily (BID), by mouth" in text
    # one glyph of 吗替麦考酚酯 is read back as its radical (U+2EE8), which NFKC leaves alone
    assert "泰它西普" in text and "考酚酯" in text
    assert "Anakinra" in text and "Week 48 (end of treatment)" in text


def test_the_book_pdf_has_a_cover_contents_and_every_chapter_in_order():
    pdf = _pdf("book")
    sheets = [_flat(t) for t in _page_texts("book")]
    assert "This is not the approved protocol" in sheets[0]
    assert "Contents" in sheets[1]
    top = [("".join(t.split()), page) for t, page in outline_pages(pdf, top_level=True)]
    titles = []
    for _, entry in toc_entries(REPO):
        page = (HTML / f"{entry}.html").read_text(encoding="utf-8")
        heading = re.search(r'<article class="bd-article">.*?<h1>(.*?)</h1>', page, re.S)
        titles.append("".join(re.sub(r"<[^>]+>|#", "", heading.group(1)).split()))
    # every chapter's title opens a part of the outline, in the table of contents' order
    starts = []
    position = 0
    for title in titles:
        index = next(i for i in range(position, len(top)) if top[i][0] == title)
        starts.append(top[index][1])
        position = index + 1
    assert starts == sorted(starts) and len(set(starts)) == len(starts)
    # the contents page gives each chapter's first page
    # (the contents may run over several sheets: every sheet before the first chapter's)
    contents = " ".join(sheets[1 : starts[0] - 1]).split("Contents", 1)[1]
    numbers = [int(n) for n in re.findall(r"\b(\d{1,3})\b", contents)]
    remaining = iter(numbers)  # each start page, in order, among the numbers of the contents
    assert all(any(n == start for n in remaining) for start in starts), (starts, numbers)


def test_the_landing_page_links_the_published_pdfs():
    page = (HTML / "book" / "index.html").read_text(encoding="utf-8")
    for name in FILES.values():
        assert f'href="../binder/{name}"' in page
        assert (HTML / "binder" / name).read_bytes() == (OUT / name).read_bytes()
