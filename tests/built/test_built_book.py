"""Checks of the built HTML (run after `make book`): every page, glued values, offline assets."""

from __future__ import annotations

import html
import re
from pathlib import Path

import pytest

from protocol.display import show_value
from protocol.study import load_study
from tests.conftest import REPO
from tests.test_book_sources import TOC_FILES

HTML = REPO / "_build" / "html"


@pytest.fixture(autouse=True, scope="module")
def _the_book_is_built() -> None:
    """An unbuilt tree fails here (it never passes by skipping every check)."""
    if not (HTML / "index.html").exists():
        pytest.fail("the book is not built: run `make book` first", pytrace=False)


def _text(page: Path) -> str:
    source = page.read_text(encoding="utf-8")
    source = re.sub(r"<(script|style)\b.*?</\1>", " ", source, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", source)))


@pytest.mark.parametrize("entry", TOC_FILES)
def test_every_page_is_built_with_no_unresolved_glue_or_error(entry):
    page = HTML / f"{entry}.html"
    assert page.exists(), f"{entry} was not built"
    text = _text(page)
    assert "{glue" not in text and "glue:text" not in text
    assert "Traceback" not in text


def test_the_summary_shows_the_doses_and_enrollment_from_study_yaml():
    study = load_study()
    text = _text(HTML / "book/protocol/summary.html")
    for fact in (
        study.intervention("telitacicept").dose,
        study.intervention("mycophenolate_mofetil").dose,
        study.design.enrollment,
        study.population.minimum_age,
        study.population.maximum_age,
    ):
        assert show_value(fact.value) in text
    figures = re.findall(
        r'<img[^>]*src="([^"]+\.svg)"', (HTML / "book/protocol/summary.html").read_text()
    )
    assert figures, "the trial schema figure is missing"
    assert all((HTML / "book/protocol" / src).resolve().exists() for src in figures)


def test_every_criterion_id_and_text_is_on_the_population_page():
    text = _text(HTML / "book/protocol/population.html")
    for criterion in load_study().criteria:
        assert criterion.id in text
        assert re.sub(r"\s+", " ", criterion.text) in text


def test_every_protocol_issue_is_in_the_log():
    text = _text(HTML / "book/appendix/issues-log.html")
    for issue in load_study().protocol_issues:
        assert f"{issue.id}. {issue.title}" in text


def test_assumptions_are_marked_where_they_are_shown():
    text = _text(HTML / "book/protocol/summary.html")
    assert "⚠ assumption" in text


def test_no_page_loads_anything_from_another_host():
    remote = re.compile(r"""<(?:script|link|img|iframe)\b[^>]*(?:src|href)=["'](?:https?:)?//""")
    for page in HTML.rglob("*.html"):
        assert not remote.search(page.read_text(encoding="utf-8")), page


def test_the_lab_page_shows_every_threshold_and_no_math_from_a_cdn():
    page = HTML / "book/screening/labs.html"
    text = _text(page)
    for analyte in load_study().lab_analytes:
        assert analyte.label in text
        if analyte.threshold:
            assert str(analyte.threshold.value) in text
    assert not re.search(r"<script[^>]*mathjax", page.read_text(), re.I)


def test_every_rule_is_shown_on_its_page():
    from protocol.traceability import rules

    for rule in rules():
        assert rule.shown in _text(HTML / f"{rule.page}.html"), (rule.key, rule.page, rule.shown)


def test_protocol_issue_mentions_link_to_their_entry_in_the_log():
    log = (HTML / "book/appendix/issues-log.html").read_text(encoding="utf-8")
    ids = {issue.id.lower() for issue in load_study().protocol_issues}
    assert all(f'id="{anchor}"' in log for anchor in ids)
    for page in ("book/eligibility/criteria", "book/screening/washout"):
        source = (HTML / f"{page}.html").read_text(encoding="utf-8")
        links = re.findall(r'href="(?:\.\./)?appendix/issues-log\.html#(pi\d\d)">(PI\d\d)<', source)
        assert links, f"{page}: no protocol issue links"
        assert all(anchor in ids and text.lower() == anchor for anchor, text in links)
    assert "criteria: EX12; reading adopted" in _text(HTML / "book/appendix/issues-log.html")


def test_protocol_issue_mentions_in_a_computed_table_link_too():
    # the population page's "Protocol issues" column (pandas' HTML) was plain text, though the
    # log says every mention links to its entry
    from bs4 import BeautifulSoup

    page = BeautifulSoup(
        (HTML / "book/protocol/population.html").read_text(encoding="utf-8"), "html.parser"
    )
    cells = [td for table in page.select("article table") for td in table.select("td")]
    mentioned = [td for td in cells if re.search(r"\bPI\d\d\b", td.get_text())]
    assert mentioned, "no protocol issue in the population page's tables"
    for cell in mentioned:
        named = re.findall(r"\bPI\d\d\b", cell.get_text())
        linked = [a.get_text() for a in cell.select("a.protocol-issue")]
        assert linked == named, (cell.get_text(), linked)
        assert all(
            a["href"].endswith(f"issues-log.html#{a.get_text().lower()}")
            for a in cell.select("a.protocol-issue")
        )


def test_every_worked_case_is_published_as_a_download_identical_to_its_file():
    page = (HTML / "book/eligibility/cases.html").read_text(encoding="utf-8")
    for case in sorted((REPO / "book/cases").glob("*.yaml")):
        match = re.search(rf'href="((?:\.\./)+_downloads/[0-9a-f]+/{re.escape(case.name)})"', page)
        assert match, f"{case.name} is not offered as a download"
        published = (HTML / "book/eligibility" / match.group(1)).resolve()
        assert published.read_bytes() == case.read_bytes()
